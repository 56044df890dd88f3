#!/usr/bin/env python3
"""Make a golden-board verdict set from DeepPCB pairs: tested boards, repaired boards, and each
one's golden board (its pair's template).

A line with a golden board compares every board of a product with one known-good picture of it.
DeepPCB gives each tested image its defect-free template, but the templates themselves cannot
stand for the good boards of such a line: checked against itself, a template matches pixel for
pixel and no false call could ever survive. A good board of a real line is another capture of the
design, with its own noise. So the normal boards here are *repaired* tested images: the tested
capture with each labelled defect's box (plus a margin) replaced by the template's pixels. Outside
the defects they keep the tested image's own capture noise and binarisation; the golden board of
both the tested and the repaired image is the template.

Writes OUT/images/val (the tested images, linked, and the repaired ones), OUT/labels/val (the
tested images' labels, linked, and empty ones for the repaired), OUT/golden (for every image of
images/val a file of the same name: its golden board, linked) and OUT/data.yaml. Evaluate with

    pcb eval --model M --data OUT/data.yaml --letterbox serve --references OUT/golden

    python training/repaired_boards.py .cache/datasets/deeppcb-holdout/test.yaml .cache/datasets/deeppcb-golden-test
"""
import argparse
import os
import sys

import numpy as np
import yaml
from PIL import Image


def link(source, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target):
        os.remove(target)
    os.symlink(os.path.abspath(source), target)


def boxes(label_path, width, height, margin):
    """The label file's boxes in pixels, each grown by `margin` and clipped to the image."""
    result = []
    with open(label_path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 5:
                continue
            cx, cy, w, h = (float(v) for v in fields[1:5])
            x1 = max(0, int(np.floor((cx - w / 2) * width)) - margin)
            y1 = max(0, int(np.floor((cy - h / 2) * height)) - margin)
            x2 = min(width, int(np.ceil((cx + w / 2) * width)) + margin)
            y2 = min(height, int(np.ceil((cy + h / 2) * height)) + margin)
            result.append((x1, y1, x2, y2))
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", help="data.yaml of DeepPCB pairs (tested image S.jpg and template S_temp.jpg in its val folder)")
    p.add_argument("out", help="folder to write")
    p.add_argument("--margin", type=int, default=4, help="pixels around each defect's box replaced too")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality of the repaired images")
    args = p.parse_args()

    with open(args.data) as f:
        data = yaml.safe_load(f)
    root = data.get("path") or os.path.dirname(os.path.abspath(args.data))
    images = os.path.join(root, data["val"])
    labels = images.replace(os.sep + "images" + os.sep, os.sep + "labels" + os.sep, 1)
    stems = sorted(os.path.splitext(n)[0] for n in os.listdir(images)
                   if n.lower().endswith(".jpg") and not os.path.splitext(n)[0].endswith("_temp"))
    if not stems:
        sys.exit(f"no tested images in {images}")

    written = 0
    for index, stem in enumerate(stems):
        tested_path = os.path.join(images, stem + ".jpg")
        template_path = os.path.join(images, stem + "_temp.jpg")
        label_path = os.path.join(labels, stem + ".txt")
        if not os.path.exists(template_path) or not os.path.exists(label_path):
            sys.exit(f"{stem}: no template {template_path} or no labels {label_path}")
        tested = Image.open(tested_path)
        # A few DeepPCB files are stored as RGB, their pair's other image as greyscale.
        template = Image.open(template_path).convert(tested.mode)
        if tested.size != template.size:
            sys.exit(f"{stem}: the tested image and its template differ in size")
        repaired = np.array(tested)
        original = np.array(template)
        for x1, y1, x2, y2 in boxes(label_path, tested.width, tested.height, args.margin):
            repaired[y1:y2, x1:x2] = original[y1:y2, x1:x2]

        out_images = os.path.join(args.out, "images", "val")
        out_labels = os.path.join(args.out, "labels", "val")
        os.makedirs(out_images, exist_ok=True)
        os.makedirs(out_labels, exist_ok=True)
        link(tested_path, os.path.join(out_images, stem + ".jpg"))
        link(label_path, os.path.join(out_labels, stem + ".txt"))
        Image.fromarray(repaired, mode=tested.mode).save(os.path.join(out_images, stem + "_repaired.jpg"), quality=args.quality)
        open(os.path.join(out_labels, stem + "_repaired.txt"), "w").close()
        for name in (stem + ".jpg", stem + "_repaired.jpg"):
            link(template_path, os.path.join(args.out, "golden", name))
        written += 1
        if (index + 1) % 10 == 0 or index + 1 == len(stems):
            print(f"repaired {index + 1}/{len(stems)} pairs", file=sys.stderr)

    content = {"path": os.path.abspath(args.out), "train": "images/val", "val": "images/val",
               "nc": data["nc"], "names": data["names"]}
    with open(os.path.join(args.out, "data.yaml"), "w") as f:
        f.write(f"# {args.data}'s pairs as tested and repaired boards (training/repaired_boards.py, margin {args.margin}); "
                "golden boards in golden/ by image name\n")
        yaml.safe_dump(content, f, sort_keys=False, allow_unicode=True)
    print(f"{written} tested and {written} repaired boards in {args.out}")


if __name__ == "__main__":
    main()
