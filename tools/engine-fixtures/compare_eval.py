#!/usr/bin/env python3
"""Compares `pcb eval` (NeuralEngine, our letterbox, NMS and metrics) with Ultralytics'
`yolo val` (ONNX Runtime, its own pipeline) on the same ONNX file and dataset split.
Prints both mAP@0.5 / mAP@0.5:0.95 / P / R, their differences and per-class AP@0.5;
exit status 1 when a mAP differs by more than --tolerance (default 0.01).

    /work/venv/bin/python tools/engine-fixtures/compare_eval.py --pcb .build/release/pcb \
        --model /tmp/model.onnx --data .cache/datasets/synth-holdout/data.yaml [--split val] [--json]

Both sides use the same imgsz (default: the export's `imgsz`, where `pcb serve` runs the model; 640
when it has none), batch 1, conf 0.001, NMS IoU 0.7 (yolo's `iou=`, our `--nms-iou`).
`yolo val` writes a `<split>.cache` label cache next to the dataset's label folder, as usual.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (offline, quiet Ultralytics; must precede the ultralytics import)


def run_pcb(args, workdir):
    command = [args.pcb, "eval", "--model", args.model, "--data", args.data, "--split", args.split,
               "--imgsz", str(args.imgsz), "--conf", str(args.conf), "--nms-iou", str(args.iou),
               "--policy", args.policy, "--report", str(Path(workdir) / "pcb-report"), "--json"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    start = time.time()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pcb eval failed ({done.returncode}):\n{done.stderr}\n{done.stdout}")
    return json.loads(done.stdout.strip().splitlines()[-1]), time.time() - start


def run_yolo(args, workdir):
    from ultralytics import YOLO

    common.ultralytics_settings_off()
    model = YOLO(args.model, task="detect")
    start = time.time()
    metrics = model.val(data=args.data, split=args.split, imgsz=args.imgsz, batch=1, conf=args.conf, iou=args.iou,
                        device="cpu", plots=False, verbose=False, project=str(workdir), name="yolo-val")
    box = metrics.box
    per_class = {metrics.names[int(c)]: {"ap50": float(box.ap50[i]), "ap50_95": float(box.ap[i])}
                 for i, c in enumerate(box.ap_class_index)}
    return {"map50": float(box.map50), "map50_95": float(box.map), "precision": float(box.mp), "recall": float(box.mr),
            "per_class": per_class}, time.time() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pcb", default=".build/release/pcb")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--imgsz", type=int, help="input size (default: the export's imgsz, else 640)")
    p.add_argument("--conf", type=float, default=0.001)
    p.add_argument("--iou", type=float, default=0.7, help="NMS IoU (yolo's iou=, pcb's --nms-iou)")
    p.add_argument("--threads", type=int, default=0, help="pcb engine threads (default: pcb's own)")
    p.add_argument("--policy", default="none", help="pcb --policy (board verdicts are not compared)")
    p.add_argument("--tolerance", type=float, default=0.01)
    p.add_argument("--json", action="store_true", help="also print one JSON line with both results")
    args = p.parse_args()
    args.model = os.path.abspath(args.model)
    args.data = os.path.abspath(args.data)
    if args.imgsz is None:
        import onnxruntime
        metadata = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
        args.imgsz = max(json.loads(metadata.get("imgsz", "[640, 640]")))

    with tempfile.TemporaryDirectory() as workdir:
        ours, our_seconds = run_pcb(args, workdir)
        theirs, their_seconds = run_yolo(args, workdir)

    print(f"model {args.model}\ndata  {args.data} (split {args.split}, {ours['images']} images, input {ours['input']})")
    print(f"{'':12}{'pcb eval':>12}{'yolo val':>12}{'diff':>12}")
    worst = 0.0
    for key, label in [("map50", "mAP50"), ("map50_95", "mAP50-95"), ("precision", "P"), ("recall", "R")]:
        diff = ours[key] - theirs[key]
        if key.startswith("map"):
            worst = max(worst, abs(diff))
        print(f"{label:12}{ours[key]:12.5f}{theirs[key]:12.5f}{diff:+12.5f}")
    print(f"{'time (s)':12}{our_seconds:12.1f}{their_seconds:12.1f}")
    print("per-class AP50 (pcb / yolo):")
    for name in sorted(set(ours["per_class"]) | set(theirs["per_class"])):
        a = ours["per_class"].get(name, {}).get("ap50", float("nan"))
        b = theirs["per_class"].get(name, {}).get("ap50", float("nan"))
        print(f"  {name:22}{a:9.4f}{b:9.4f}{a - b:+10.4f}")
    ok = worst <= args.tolerance
    print(f"{'AGREE' if ok else 'DISAGREE'}: largest mAP difference {worst:.5f} (tolerance {args.tolerance})")
    if args.json:
        print(json.dumps({"model": args.model, "data": args.data, "split": args.split, "pcb": {k: ours[k] for k in
              ("map50", "map50_95", "precision", "recall")}, "yolo": {k: theirs[k] for k in ("map50", "map50_95", "precision", "recall")},
              "max_map_diff": worst, "agree": ok, "pcb_seconds": our_seconds, "yolo_seconds": their_seconds}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
