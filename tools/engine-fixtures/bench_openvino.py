#!/usr/bin/env python3
"""Time OpenVINO (PyPI `openvino`) on a model; prints one JSON line like ``pcb engine bench``.

    /tmp/benchvenv/bin/python tools/engine-fixtures/bench_openvino.py --model models/pcb_synthetic_yolov8n.onnx \\
        --threads 2 --precision bf16 --height 480 --width 640

Same input and statistics as bench_ort.py (SplitMix64 seed 7, nearest-rank percentiles). OpenVINO
settings: CPU plugin, INFERENCE_NUM_THREADS=N, one stream, latency hint, INFERENCE_PRECISION_HINT
f32 or bf16 (bf16 runs only where the CPU has AVX512_BF16 or AMX; elsewhere OpenVINO keeps f32,
and `precision` in the output says which ran). The model is reshaped to the input shape first.

`--precision int8` is OpenVINO's own int8: the model quantised by NNCF (PyPI `nncf`; default
preset, per-channel weights, calibrated on `--calibration-count` SplitMix64 frames of seeds 8,
9, ...: the timing does not depend on the frames), with the bf16 hint for what stays in floating
point. The quantised model is kept under `.cache/openvino-int8/`, keyed by the model
file's hash and the input shape, so repeated rounds time the same file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import openvino as ov

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ort import bench_arguments, splitmix_inputs, time_runs  # noqa: E402  (the same inputs and statistics)


def calibration_inputs(shape: list[int], count: int) -> list[np.ndarray]:
    """Inputs for NNCF's statistics: SplitMix64 frames of seeds 8, 9, ..."""
    return [splitmix_inputs(int(np.prod(shape)), seed=8 + i).reshape(shape) for i in range(count)]


def quantised(core, model, shape: list[int], args):
    """The NNCF int8 model of this file and shape, quantised once and then read from the cache."""
    digest = hashlib.sha256(Path(args.model).read_bytes()).hexdigest()[:16]
    cached = Path(__file__).resolve().parents[2] / ".cache" / "openvino-int8" / \
        f"{Path(args.model).stem}-{digest}-{'x'.join(map(str, shape))}-splitmix{args.calibration_count}.xml"
    if not cached.exists():
        import nncf
        dataset = nncf.Dataset(calibration_inputs(shape, args.calibration_count))
        quantized = nncf.quantize(model, dataset, subset_size=args.calibration_count)
        cached.parent.mkdir(parents=True, exist_ok=True)
        ov.save_model(quantized, str(cached))
    return core.read_model(str(cached))


def main() -> None:
    ap = bench_arguments(__doc__)
    ap.add_argument("--precision", choices=["f32", "bf16", "int8"], default="f32")
    ap.add_argument("--calibration-count", type=int, default=8, help="int8: calibration inputs")
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
    if args.precision == "int8":
        model = quantised(core, model, shape, args)
    compiled = core.compile_model(model, "CPU", {
        "INFERENCE_NUM_THREADS": args.threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": "bf16" if args.precision == "int8" else args.precision,
    })
    request = compiled.create_infer_request()
    values = splitmix_inputs(int(np.prod(shape))).reshape(shape)
    result = time_runs(lambda: request.infer({0: values}), args.runs, args.warmup)
    result["precision"] = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
