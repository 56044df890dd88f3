#!/usr/bin/env python3
"""Split a YOLO dataset's validation images into a selection set and a test set, by pair.

A model that was trained on a dataset's training split and whose epoch was chosen on its
validation split has no data left that decided nothing. Fine-tuning it on the same training
split (plus new images such as DeepPCB's defect-free templates) keeps the training split as it
was; this script divides the validation split in two so that one half chooses the checkpoint
and the operating point (`select.yaml`) and the other half only reports (`test.yaml`).

Images of one pair stay together: `00041000.jpg` and its template `00041000_temp.jpg` share
the pair key `00041000`, so a board's tested image never lands in the other half from its
template. The split is by a seeded shuffle of the pair keys, and writes symbolic links only.

    python training/split_holdout.py .cache/datasets/deeppcb-templates .cache/datasets/deeppcb-holdout \
        --test-fraction 0.5 --seed 7
"""
import argparse
import os
import random
import sys

import yaml

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def pair_key(stem):
    return stem[: -len("_temp")] if stem.endswith("_temp") else stem


def link(source, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target):
        os.remove(target)
    os.symlink(os.path.abspath(source), target)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", help="folder with data.yaml, images/{train,val}, labels/{train,val}")
    p.add_argument("out", help="folder to write (symbolic links and two data files)")
    p.add_argument("--test-fraction", type=float, default=0.5, help="share of validation pairs that only report")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()

    with open(os.path.join(args.dataset, "data.yaml")) as f:
        data = yaml.safe_load(f)
    val_images = os.path.join(args.dataset, "images", "val")
    stems = sorted(os.path.splitext(n)[0] for n in os.listdir(val_images) if n.lower().endswith(IMAGE_SUFFIXES))
    if not stems:
        sys.exit(f"no images in {val_images}")
    keys = sorted({pair_key(s) for s in stems})
    random.Random(args.seed).shuffle(keys)
    test_keys = set(keys[: round(len(keys) * args.test_fraction)])

    counts = {"select": 0, "test": 0}
    for name in sorted(os.listdir(val_images)):
        stem, suffix = os.path.splitext(name)
        if suffix.lower() not in IMAGE_SUFFIXES:
            continue
        part = "test" if pair_key(stem) in test_keys else "select"
        counts[part] += 1
        link(os.path.join(val_images, name), os.path.join(args.out, "images", part, name))
        label = os.path.join(args.dataset, "labels", "val", stem + ".txt")
        if os.path.exists(label):
            link(label, os.path.join(args.out, "labels", part, stem + ".txt"))
    train_images = os.path.join(args.dataset, "images", "train")
    train_labels = os.path.join(args.dataset, "labels", "train")
    for folder, part in ((train_images, "images"), (train_labels, "labels")):
        target = os.path.join(args.out, part, "train")
        if os.path.lexists(target):
            os.remove(target)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.path.abspath(folder), target)

    out = os.path.abspath(args.out)
    header = (f"# {args.dataset} with its validation pairs split by training/split_holdout.py "
              f"(test fraction {args.test_fraction}, seed {args.seed}).\n")
    for part, evaluated in (("select", "select"), ("test", "test")):
        content = {"path": out, "train": "images/train", "val": f"images/{evaluated}",
                   "nc": data["nc"], "names": data["names"]}
        with open(os.path.join(args.out, f"{part}.yaml"), "w") as f:
            f.write(header + f"# val: the {part} half" +
                    (" (chooses checkpoints and thresholds)\n" if part == "select" else " (decides nothing; reports)\n"))
            yaml.safe_dump(content, f, sort_keys=False, allow_unicode=True)
    print(f"{len(keys)} validation pairs: {len(keys) - len(test_keys)} select ({counts['select']} images), "
          f"{len(test_keys)} test ({counts['test']} images)")


if __name__ == "__main__":
    main()
