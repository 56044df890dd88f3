#!/usr/bin/env python3
"""Compares `pcb detect` (NeuralEngine, our letterbox and NMS) with Ultralytics' own
`YOLO(model).predict` (ONNX Runtime, its letterbox and NMS) on the same JPEGs, box for box,
in frame pixels. Prints one line per image and a summary; exit status 1 on any mismatch.

    /work/venv/bin/python tools/engine-fixtures/compare_detect.py --pcb .build/release/pcb \
        --model .cache/models/yolov8n_dynamic.onnx --conf 0.25 IMAGE_OR_DIR...
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pcb", default=".build/release/pcb")
    p.add_argument("--model", required=True)
    p.add_argument("--conf", type=float, default=0.25)
    p.add_argument("--iou", type=float, default=0.7)
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--box-tolerance", type=float, default=0.5, help="pixels")
    p.add_argument("paths", nargs="+")
    args = p.parse_args()
    os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp())
    from ultralytics import YOLO

    ours = {}
    out = subprocess.run([args.pcb, "detect", "--model", args.model, "--conf", str(args.conf), "--iou", str(args.iou)] + args.paths,
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        record = json.loads(line)
        ours[os.path.abspath(record["image"])] = record["boxes"]

    model = YOLO(args.model, task="detect")
    mismatches = 0
    total_boxes = 0
    worst = 0.0
    for path in sorted(ours):
        result = model.predict(path, conf=args.conf, iou=args.iou, imgsz=args.imgsz, verbose=False)[0]
        theirs = [(result.names[int(c)], float(s), *map(float, xyxy))
                  for xyxy, s, c in zip(result.boxes.xyxy.tolist(), result.boxes.conf.tolist(), result.boxes.cls.tolist())]
        mine = [(b["class"], b["confidence"], b["x1"], b["y1"], b["x2"], b["y2"]) for b in ours[path]]
        # Pair each Ultralytics box with the closest unused box of ours of the same class
        # (score order alone is ambiguous when random-weight models give near-equal scores).
        ok = len(mine) == len(theirs)
        unused = list(mine)
        for b in theirs:
            candidates = [a for a in unused if a[0] == b[0] and abs(a[1] - b[1]) <= 1e-3]
            if not candidates:
                ok = False
                continue
            a = min(candidates, key=lambda a: max(abs(a[k] - b[k]) for k in range(2, 6)))
            diff = max(abs(a[k] - b[k]) for k in range(2, 6))
            worst = max(worst, diff)
            if diff > args.box_tolerance:
                ok = False
            unused.remove(a)
        total_boxes += len(theirs)
        mismatches += 0 if ok else 1
        print(f"{'ok  ' if ok else 'DIFF'} {Path(path).name}: ours {len(mine)} boxes, ultralytics {len(theirs)}")
    print(f"{len(ours) - mismatches}/{len(ours)} images identical ({total_boxes} boxes, worst corner difference {worst:.3f} px)")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
