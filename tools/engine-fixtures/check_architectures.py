#!/usr/bin/env python3
"""Exports every Ultralytics detection architecture the engine must run (random weights,
11 classes), runs each through ONNX Runtime and `pcb engine run` on the same input, and
prints the largest differences on box rows and score rows. Not committed models: they go to
.cache/arch-check.

    /work/venv/bin/python tools/engine-fixtures/check_architectures.py --pcb .build/release/pcb --imgsz 160
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pcb", default=".build/release/pcb")
    p.add_argument("--imgsz", type=int, default=160)
    p.add_argument("--archs", default="yolov8n,yolov8s,yolov8m,yolov8l,yolov8x,yolo11n,yolo11s,yolo11m")
    p.add_argument("--out", default=".cache/arch-check")
    args = p.parse_args()
    os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp())
    import onnxruntime as ort
    from ultralytics import YOLO

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    x = rng.random((1, 3, args.imgsz, args.imgsz), dtype=np.float32)
    np.save(out / "input.npy", x)
    failures = 0
    for arch in args.archs.split(","):
        model = YOLO(f"{arch}.yaml")  # 80 COCO classes: the class count does not change the ops
        path = Path(model.export(format="onnx", imgsz=args.imgsz, opset=17, simplify=True, verbose=False))
        target = out / f"{arch}.onnx"
        path.replace(target)
        session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
        golden = session.run(None, {session.get_inputs()[0].name: x})[0]
        result_dir = out / arch
        subprocess.run([args.pcb, "engine", "run", "--model", str(target), "--input", str(out / "input.npy"),
                        "--output-dir", str(result_dir)], check=True, capture_output=True)
        ours = np.load(result_dir / "output0.npy")
        box = np.abs(ours[:, :4] - golden[:, :4]).max() / max(1e-6, golden[:, :4].max() - golden[:, :4].min())
        score = np.abs(ours[:, 4:] - golden[:, 4:]).max()
        ok = box <= 1e-4 and score <= 1e-4
        failures += 0 if ok else 1
        print(f"{'ok  ' if ok else 'DIFF'} {arch}: {target.stat().st_size / 1e6:.1f} MB, output {list(golden.shape)}, "
              f"box diff {box:.2e} of range, score diff {score:.2e}", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
