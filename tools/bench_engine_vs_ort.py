#!/usr/bin/env python3
"""Side-by-side latency of NeuralEngine (`pcb engine bench`), ONNX Runtime and OpenVINO (the
fastest CPU engine a user could pick instead) on the same model files, inputs and thread
counts, on the same machine, interleaved so machine noise hits all of them. Prints a Markdown
table: medians of the per-round medians, and NeuralEngine's ratio to ONNX Runtime fp32 and to
OpenVINO's best precision (f32, bf16 or its NNCF int8, whichever is faster here).

    python tools/bench_engine_vs_ort.py --pcb .build/release/pcb --models .cache/models
    python tools/bench_engine_vs_ort.py --pcb .build/release/pcb --bundled --precisions bf16,fp32 --kernels auto
    python tools/bench_engine_vs_ort.py --pcb .build/release/pcb --bundled --kernels auto,portable --baseline OLD/pcb

int8 runs with the calibration beside each model (`<model>.int8.json`, `pcb engine calibrate`).
Models: .cache/models/{yolov8n,yolo11n,yolov8n_dynamic,yolov8s}.onnx from tools/engine-fixtures/export_full_models.py,
or with --bundled the models in models/ (real weights). `--kernels` and `--precisions` run
NeuralEngine once per kernel set (KernelDispatch) and precision; `--baseline` adds another pcb
binary (e.g. an earlier build) to each round.
Needs onnxruntime, openvino and nncf in the running Python (pip install onnxruntime openvino nncf numpy);
`--no-openvino-int8` leaves NNCF out.
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CASES = [  # (label, file, height, width)
    ("yolov8n 640x640", ".cache/models/yolov8n.onnx", 640, 640),
    ("yolo11n 640x640", ".cache/models/yolo11n.onnx", 640, 640),
    ("yolov8n dynamic 480x640", ".cache/models/yolov8n_dynamic.onnx", 480, 640),
    ("yolov8s 640x640", ".cache/models/yolov8s.onnx", 640, 640),
]
BUNDLED = [
    ("bundled synthetic yolov8n 480x640", "models/pcb_synthetic_yolov8n.onnx", 480, 640),
    ("bundled synthetic yolov8n 640x832 (as served)", "models/pcb_synthetic_yolov8n.onnx", 640, 832),
    ("bundled DeepPCB yolov8n 640x640", "models/pcb_deeppcb_yolov8n.onnx", 640, 640),
]


def run(command):
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    return json.loads(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pcb", default=".build/release/pcb")
    p.add_argument("--models", default=".cache/models", help="folder of the random-weight exports")
    p.add_argument("--bundled", action="store_true", help="the bundled models instead")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--kernels", default="auto", help="NeuralEngine kernel sets, comma-separated")
    p.add_argument("--precisions", default="fp32", help="NeuralEngine precisions, comma-separated (the first one is in the ratios)")
    p.add_argument("--baseline", help="another pcb binary to time beside it")
    p.add_argument("--no-openvino-int8", action="store_true", help="leave OpenVINO's NNCF int8 out")
    args = p.parse_args()
    cases = BUNDLED if args.bundled else [(l, str(Path(args.models) / Path(f).name), h, w) for l, f, h, w in CASES]
    kernel_sets = args.kernels.split(",")
    def calibration(common):
        """`--calibration` with the model's int8 calibration (`pcb engine calibrate`) when it has one."""
        model = Path(common[common.index("--model") + 1])
        path = model.with_suffix(".int8.json")
        return ["--calibration", str(path)] if path.exists() else []

    engines = [(f"NE {p} {k}", lambda c, k=k, p=p: [args.pcb, "engine", "bench", "--kernels", k, "--precision", p] + calibration(c) + c)
               for p in args.precisions.split(",") for k in kernel_sets]
    if args.baseline:
        engines.append(("NE baseline", lambda c: [args.baseline, "engine", "bench"] + c))
    engines += [
        ("ORT fp32", lambda c: [sys.executable, str(HERE / "engine-fixtures" / "bench_ort.py")] + c),
        ("OpenVINO f32", lambda c: [sys.executable, str(HERE / "engine-fixtures" / "bench_openvino.py"), "--precision", "f32"] + c),
        ("OpenVINO bf16", lambda c: [sys.executable, str(HERE / "engine-fixtures" / "bench_openvino.py"), "--precision", "bf16"] + c),
    ]
    if not args.no_openvino_int8:
        engines.append(("OpenVINO int8", lambda c: [sys.executable, str(HERE / "engine-fixtures" / "bench_openvino.py"),
                                                    "--precision", "int8"] + c))
    rows = []
    for label, model, height, width in cases:
        for threads in [int(t) for t in args.threads.split(",")]:
            times = {name: [] for name, _ in engines}
            rss = {name: [] for name, _ in engines}
            common = ["--model", str(ROOT / model) if not Path(model).is_absolute() else model, "--threads", str(threads),
                      "--runs", str(args.runs), "--warmup", str(args.warmup), "--height", str(height), "--width", str(width)]
            for round_index in range(args.rounds):
                line = []
                for name, command in engines:
                    result = run(command(common))
                    times[name].append(result["median_ms"])
                    rss[name].append(result["peak_rss_mb"])
                    line.append(f"{name} {result['median_ms']:.1f}")
                print(f"  {label} t={threads} round {round_index + 1}: " + ", ".join(line), file=sys.stderr, flush=True)
            medians = {name: statistics.median(values) for name, values in times.items()}
            rows.append((label, threads, medians, {name: max(values) for name, values in rss.items()}))
    names = [name for name, _ in engines]
    first = names[0]
    print("| model | threads | " + " | ".join(f"{n} ms" for n in names) + f" | {first} / ORT | {first} / OpenVINO best | peak RSS {first} / ORT MB |")
    print("|---|---|" + "---|" * (len(names) + 3))
    for label, threads, medians, peaks in rows:
        best_ov = min(value for name, value in medians.items() if name.startswith("OpenVINO"))
        cells = " | ".join(f"{medians[n]:.1f}" for n in names)
        print(f"| {label} | {threads} | {cells} | {medians[first] / medians['ORT fp32']:.2f} | {medians[first] / best_ov:.2f} | "
              f"{peaks[first]:.0f} / {peaks['ORT fp32']:.0f} |")


if __name__ == "__main__":
    main()
