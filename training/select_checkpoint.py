#!/usr/bin/env python3
"""Choose a run's checkpoint on a selection set, through our engine, so the test set stays unseen.

Ultralytics' `best.pt` is picked on the training data's own val split (tiles, for the tiled
recipe); the line runs whole frames through `pcb eval`'s engine. This script exports each
checkpoint a run kept (`train.py --save-period 1` keeps `weights/epochN.pt`, N counted from 0, so
`epoch0.pt` is the state after the first epoch; plus `last.pt` and `best.pt`), scores every
export with `pcb eval --json --letterbox serve` on a selection set (never the test set), as the
server judges, prints one row per checkpoint with its false calls and escapes at the policy's
threshold, and names the one with the highest mAP@0.5 (`--rule map50`) or the fewest false calls
plus escapes, then the highest mAP@0.5 (`--rule verdicts`; the set needs normal boards):

    .build/release/pcb dataset synth --out .cache/datasets/synth-select-998 --count 300 --seed 998 --val-fraction 1
    python training/select_checkpoint.py --name synthetic-v8n-tiles-s125-s2 \
        --data .cache/datasets/synth-select-998/data.yaml --export-imgsz 832
    python training/train.py --export-only --name synthetic-v8n-tiles-s125-s2 --checkpoint epoch5.pt \
        --export-imgsz 832 --out models/pcb_synthetic_yolov8n.onnx

Exports are written next to their checkpoints (`weights/epochN.onnx`) and reused when newer than
the checkpoint; the table also goes to `selection.json` in the run folder.
"""
import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from train import export_onnx  # training/ is on the path when this script runs

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / ".cache" / "runs"


def weights_of(path):
    """The network's tensors in a checkpoint: the EMA model during a run, `model` once Ultralytics
    has stripped the optimizer at the end (which rewrites last.pt and best.pt, so no bytes match)."""
    import torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    return (checkpoint.get("ema") or checkpoint["model"]).state_dict()


def checkpoints(weights):
    """(path, the epochN.pt with the same weights or None): epochN.pt in epoch order, then last.pt and best.pt."""
    epochs = sorted(weights.glob("epoch*.pt"), key=lambda p: int(re.sub(r"\D", "", p.stem)))
    found = [(p, None) for p in epochs]
    kept = {p.name: weights_of(p) for p in epochs}
    for name in ("last.pt", "best.pt"):
        path = weights / name
        if path.exists():
            tensors = weights_of(path)
            same = next((epoch for epoch, other in kept.items() if other.keys() == tensors.keys()
                         and all(other[k].equal(tensors[k]) for k in tensors)), None)
            found.append((path, same))
    return found


def export(checkpoint, imgsz):
    onnx = checkpoint.with_suffix(".onnx")
    if onnx.exists() and onnx.stat().st_mtime >= checkpoint.stat().st_mtime:
        return onnx
    return export_onnx(checkpoint, imgsz)


def evaluate(pcb, onnx, data):
    done = subprocess.run([pcb, "eval", "--model", str(onnx), "--data", data, "--letterbox", "serve", "--calibration", "none",
                           "--report", str(onnx.with_suffix(".eval")), "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pcb eval failed on {onnx} ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="run name (folder under .cache/runs)")
    p.add_argument("--data", required=True, help="data.yaml of the selection set (not the test set)")
    p.add_argument("--export-imgsz", type=int, required=True, help="input size of the exports (as train.py's)")
    p.add_argument("--pcb", default=str(ROOT / ".build" / "release" / "pcb"))
    p.add_argument("--classes", default="spur,mouse_bite,short,spurious_copper",
                   help="classes whose AP@0.5 gets a column")
    p.add_argument("--rule", choices=["map50", "verdicts"], default="map50",
                   help="map50: highest mAP@0.5; verdicts: fewest false calls + escapes, then highest mAP@0.5")
    args = p.parse_args()
    os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / ".cache" / "ultralytics"))
    os.environ.setdefault("YOLO_VERBOSE", "False")  # the table is the output, not each export's log

    run = RUNS / args.name
    found = checkpoints(run / "weights")
    if not found:
        sys.exit(f"no checkpoints in {run / 'weights'}")
    classes = [c for c in args.classes.split(",") if c]
    print(f"{'checkpoint':<22} {'mAP@0.5':>8} {'mAP@.5:.95':>10} {'verdict':>8} {'false calls':>12} {'escapes':>9} "
          + " ".join(f"{c[:10]:>10}" for c in classes), flush=True)
    rows = {}
    for checkpoint, copy_of in found:
        if copy_of:  # last.pt and best.pt hold an epoch file's weights: same scores
            row = dict(rows[copy_of], checkpoint=checkpoint.name, copy_of=copy_of)
        else:
            result = evaluate(args.pcb, export(checkpoint, args.export_imgsz), args.data)
            row = {"checkpoint": checkpoint.name, "map50": result["map50"], "map50_95": result["map50_95"],
                   "verdict_accuracy": result["verdict_accuracy"],
                   "false_calls": result["board_outcomes"]["false_calls"], "normal": result["board_outcomes"]["normal"],
                   "escapes": result["board_outcomes"]["escapes"], "defective": result["board_outcomes"]["defective"],
                   "per_class_ap50": {c: result["per_class"].get(c, {}).get("ap50", float("nan")) for c in classes}}
        rows[checkpoint.name] = row
        label = f"{checkpoint.stem} (= {copy_of})" if copy_of else checkpoint.stem
        print(f"{label:<22} {row['map50']:>8.4f} {row['map50_95']:>10.4f} {row['verdict_accuracy']:>8.3f} "
              f"{row['false_calls']:>6}/{row['normal']:<5} {row['escapes']:>4}/{row['defective']:<4} "
              + " ".join(f"{row['per_class_ap50'][c]:>10.3f}" for c in classes), flush=True)
    def score(r):
        return (-(r["false_calls"] + r["escapes"]), r["map50"]) if args.rule == "verdicts" else (r["map50"],)
    chosen = max((r for r in rows.values() if "copy_of" not in r), key=score)
    print(f"chosen ({args.rule}): {chosen['checkpoint']} (mAP@0.5 {chosen['map50']:.4f}, false calls {chosen['false_calls']}, "
          f"escapes {chosen['escapes']} on {args.data})")
    (run / "selection.json").write_text(json.dumps({"data": args.data, "export_imgsz": args.export_imgsz, "rule": args.rule,
                                                     "rows": list(rows.values()), "chosen": chosen["checkpoint"]}, indent=2))


if __name__ == "__main__":
    main()
