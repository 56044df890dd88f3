#!/usr/bin/env python3
"""Which labelled defects a detector misses, against how visible they are.

Reads a synthetic set written with `pcb dataset synth ... --contrast` (every label's contrast, the
largest 3x3-mean luminance step between the board with and without its defects, in contrast/),
runs the ONNX detector on each image (ONNX Runtime; frames resized so the long side is the
export's `imgsz`, or --imgsz, as `pcb serve` and `yolo val` do, then padded at the right and bottom
to a multiple of 32; `yolo val` pads around the frame by another half stride) and prints, per
class, how many labels there are, their median contrast and the share
found (a box of the label's class with IoU >= 0.5 and score >= --conf), overall and per contrast band.
A miss on a high-contrast label is the model's fault, not the data's.

    .build/release/pcb dataset synth --out .cache/datasets/synth-eval-999 --count 300 --seed 999 --val-fraction 1 --contrast
    python training/recall_by_contrast.py models/pcb_synthetic_yolov8n.onnx .cache/datasets/synth-eval-999
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import yaml
from PIL import Image

BANDS = [0, 10, 20, 30, 40, float("inf")]


def iou(box, boxes):
    """IoU of one xyxy box with an (N, 4) array of xyxy boxes."""
    x1 = np.maximum(box[0], boxes[:, 0]); y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2]); y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="ONNX detector (Ultralytics export, output 1 x (4 + classes) x N)")
    p.add_argument("dataset", help="folder written by pcb dataset synth --contrast")
    p.add_argument("--split", default="val")
    p.add_argument("--conf", type=float, default=0.25)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--imgsz", type=int, help="long side the frames are resized to (default: the export's imgsz)")
    args = p.parse_args()

    root = Path(args.dataset)
    names = yaml.safe_load((root / "data.yaml").read_text())["names"]
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    metadata = session.get_modelmeta().custom_metadata_map
    imgsz = args.imgsz or max(yaml.safe_load(metadata.get("imgsz", "[640, 640]")))

    rows = []  # (class, contrast, found)
    images = sorted((root / "images" / args.split).glob("*.jpg"))
    for n, path in enumerate(images, 1):
        contrast_file = root / "contrast" / (path.stem + ".txt")
        label_file = root / "labels" / args.split / (path.stem + ".txt")
        labels = np.loadtxt(label_file, ndmin=2) if label_file.stat().st_size else np.zeros((0, 5))
        if not len(labels):
            continue
        if not contrast_file.exists():
            sys.exit(f"{contrast_file} is missing: write the set with pcb dataset synth --contrast")
        contrasts = np.loadtxt(contrast_file, ndmin=2)[:, 1]  # columns: class, contrast, noise alone
        picture = Image.open(path).convert("RGB")
        w, h = picture.size
        r = imgsz / max(w, h)
        if r != 1:
            picture = picture.resize((int(np.ceil(w * r)), int(np.ceil(h * r))), Image.BILINEAR)
        image = np.asarray(picture)
        ih, iw = image.shape[:2]
        padded = np.full((-(-ih // 32) * 32, -(-iw // 32) * 32, 3), 114, np.uint8)
        padded[:ih, :iw] = image
        out = session.run(None, {input_name: padded.transpose(2, 0, 1)[None].astype(np.float32) / 255})[0][0]
        xywh, scores = out[:4].T / r, out[4:].T  # back to frame pixels
        boxes = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
        for (c, x, y, bw, bh), contrast in zip(labels, contrasts):
            truth = np.array([(x - bw / 2) * w, (y - bh / 2) * h, (x + bw / 2) * w, (y + bh / 2) * h])
            best = (scores[:, int(c)] * (iou(truth, boxes) >= 0.5)).max()
            rows.append((int(c), contrast, best >= args.conf))
        if n % 50 == 0 or n == len(images):
            print(f"{n}/{len(images)} images", file=sys.stderr, flush=True)

    rows = np.array(rows, dtype=float)
    header = "  ".join(f"{lo:g}-{hi:g}" if hi != float("inf") else f">={lo:g}" for lo, hi in zip(BANDS, BANDS[1:]))
    print(f"found = a box of the class with IoU >= 0.5 and score >= {args.conf}; bands are contrast in 8-bit levels")
    print(f"{'class':20s} {'labels':>6s} {'median':>6s} {'found':>5s} | found per band (labels): {header}")
    for c in range(len(names)):
        r = rows[rows[:, 0] == c]
        if not len(r):
            continue
        bands = []
        for lo, hi in zip(BANDS, BANDS[1:]):
            m = (r[:, 1] >= lo) & (r[:, 1] < hi)
            bands.append(f"{r[m, 2].mean():.2f} ({m.sum()})" if m.any() else "- (0)")
        print(f"{names[c]:20s} {len(r):6d} {np.median(r[:, 1]):6.1f} {r[:, 2].mean():5.2f} | " + "  ".join(bands))
    print(f"{'all':20s} {len(rows):6d} {np.median(rows[:, 1]):6.1f} {rows[:, 2].mean():5.2f}")


if __name__ == "__main__":
    main()
