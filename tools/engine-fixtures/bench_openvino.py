#!/usr/bin/env python3
"""Time OpenVINO (PyPI `openvino`) on a model; prints one JSON line like ``pcb engine bench``.

    /tmp/benchvenv/bin/python tools/engine-fixtures/bench_openvino.py --model models/pcb_synthetic_yolov8n.onnx \\
        --threads 2 --precision bf16 --height 480 --width 640

Same input and statistics as bench_ort.py (SplitMix64 seed 7, nearest-rank percentiles). OpenVINO
settings: CPU plugin, INFERENCE_NUM_THREADS=N, one stream, latency hint, INFERENCE_PRECISION_HINT
f32 or bf16 (bf16 runs only where the CPU has AVX512_BF16 or AMX; elsewhere OpenVINO keeps f32,
and `precision` in the output says which ran). The model is reshaped to the input shape first.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import openvino as ov

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ort import bench_arguments, splitmix_inputs, time_runs  # noqa: E402  (the same inputs and statistics)


def main() -> None:
    ap = bench_arguments(__doc__)
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    args = ap.parse_args()

    core = ov.Core()
    model = core.read_model(args.model)
    inp = model.inputs[0]
    partial = inp.get_partial_shape()
    requested = [args.batch, None, args.height, args.width]
    fallback = [1, 3, 640, 640]
    shape = [partial[i].get_length() if partial[i].is_static else (requested[i] if requested[i] is not None else fallback[i])
             for i in range(4)]
    model.reshape({inp.get_any_name(): shape})
    compiled = core.compile_model(model, "CPU", {
        "INFERENCE_NUM_THREADS": args.threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": args.precision,
    })
    request = compiled.create_infer_request()
    values = splitmix_inputs(int(np.prod(shape))).reshape(shape)
    result = time_runs(lambda: request.infer({0: values}), args.runs, args.warmup)
    result["precision"] = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
