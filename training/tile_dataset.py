#!/usr/bin/env python3
"""Cut a YOLO-format dataset into square tiles at full resolution, for cheap CPU training.

PCB defects are small (about 20 px in a 640x480 frame). Training at imgsz 320 on whole frames
halves them; training at 640 costs four times as much per image, and most of each frame is
defect-free board. This script keeps the pixel scale the server sees and spends the compute where
the labels are: one tile (default 320x320) around each group of defects, at a random offset, plus
one random tile of each defect-free frame as a negative. A model trained on these tiles at
`--imgsz 320` runs on whole 640x480 frames (the network is fully convolutional); export it with
`train.py --export-imgsz 640`.

    python training/tile_dataset.py .cache/datasets/synth-train .cache/datasets/synth-train-tiles

Boxes cut by a tile's edge are kept (clipped) when at least half of their area is inside; a tile
never holds a defect that is mostly cut off without also holding its label. Deterministic per --seed.
"""
import argparse
import random
import sys
from pathlib import Path

from PIL import Image


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", help="YOLO dataset folder (images/<split>, labels/<split>, data.yaml)")
    p.add_argument("out", help="output folder (created)")
    p.add_argument("--tile", type=int, default=320, help="tile side in pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", type=float, default=0.5, help="keep a cut box when this share of its area is inside")
    return p.parse_args()


def read_labels(path, width, height):
    """YOLO label lines -> [(cls, x0, y0, x1, y1)] in pixels."""
    boxes = []
    if path.exists():
        for line in path.read_text().split("\n"):
            parts = line.split()
            if len(parts) != 5:
                continue
            c, x, y, w, h = int(parts[0]), *map(float, parts[1:])
            boxes.append((c, (x - w / 2) * width, (y - h / 2) * height, (x + w / 2) * width, (y + h / 2) * height))
    return boxes


def boxes_in(tile, boxes, keep):
    """The boxes a tile (x0, y0, side) holds, clipped and in tile pixels, and whether any is cut badly."""
    tx, ty, side = tile
    kept, bad = [], False
    for c, x0, y0, x1, y1 in boxes:
        cx0, cy0, cx1, cy1 = max(x0, tx), max(y0, ty), min(x1, tx + side), min(y1, ty + side)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        share = (cx1 - cx0) * (cy1 - cy0) / max((x1 - x0) * (y1 - y0), 1e-9)
        if share >= keep:
            kept.append((c, cx0 - tx, cy0 - ty, cx1 - tx, cy1 - ty))
        elif share > 0.05:
            bad = True
    return kept, bad


def place(rng, box, width, height, side):
    """A random tile origin that holds the whole box (or as much as the frame allows)."""
    _, x0, y0, x1, y1 = box
    lo_x, hi_x = max(0, int(x1) - side + 1), min(int(x0), width - side)
    lo_y, hi_y = max(0, int(y1) - side + 1), min(int(y0), height - side)
    x = rng.randint(min(lo_x, hi_x), max(lo_x, hi_x)) if width > side else 0
    y = rng.randint(min(lo_y, hi_y), max(lo_y, hi_y)) if height > side else 0
    return x, y


def tile_image(image_path, label_path, out_images, out_labels, side, rng, keep):
    image = Image.open(image_path)
    width, height = image.size
    boxes = read_labels(label_path, width, height)
    tiles = []
    if not boxes:
        tiles.append((rng.randint(0, max(0, width - side)), rng.randint(0, max(0, height - side))))
    covered = set()
    for index in rng.sample(range(len(boxes)), len(boxes)):
        if index in covered:
            continue
        for _ in range(8):  # try a few offsets for one that cuts no other defect badly
            origin = place(rng, boxes[index], width, height, side)
            _, bad = boxes_in((*origin, side), boxes, keep)
            if not bad:
                break
        tiles.append(origin)
        for other, box in enumerate(boxes):
            if boxes_in((*origin, side), [box], keep)[0]:
                covered.add(other)
    written = 0
    for k, (x, y) in enumerate(tiles):
        kept, _ = boxes_in((x, y, side), boxes, keep)
        stem = f"{image_path.stem}_t{k}"
        image.crop((x, y, x + side, y + side)).save(out_images / f"{stem}.jpg", quality=95)
        lines = [f"{c} {(a + b) / 2 / side:.6f} {(d + e) / 2 / side:.6f} {(b - a) / side:.6f} {(e - d) / side:.6f}"
                 for c, a, d, b, e in kept]
        (out_labels / f"{stem}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
        written += 1
    return written, len(boxes)


def write_data_yaml(source, out):
    """Copy source's data.yaml into out with its `path:` line pointing at out."""
    lines = (source / "data.yaml").read_text().split("\n")
    lines = [f"path: {out.resolve()}" if line.startswith("path:") else line for line in lines]
    (out / "data.yaml").write_text("\n".join(lines))


def main():
    args = parse()
    source, out = Path(args.source), Path(args.out)
    rng = random.Random(args.seed)
    splits = [p.name for p in sorted((source / "images").iterdir()) if p.is_dir()]
    for split in splits:
        images = sorted((source / "images" / split).glob("*.jpg"))
        out_images, out_labels = out / "images" / split, out / "labels" / split
        out_images.mkdir(parents=True, exist_ok=True)
        out_labels.mkdir(parents=True, exist_ok=True)
        tiles = boxes = 0
        for n, image_path in enumerate(images, 1):
            t, b = tile_image(image_path, source / "labels" / split / f"{image_path.stem}.txt",
                              out_images, out_labels, args.tile, rng, args.keep)
            tiles, boxes = tiles + t, boxes + b
            if n % 200 == 0 or n == len(images):
                print(f"{split}: {n}/{len(images)} images -> {tiles} tiles ({boxes} boxes)", flush=True)
    write_data_yaml(source, out)
    print(f"data.yaml: {out / 'data.yaml'}")


if __name__ == "__main__":
    sys.exit(main())
