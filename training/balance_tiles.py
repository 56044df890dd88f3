#!/usr/bin/env python3
"""Rebalance a tiled YOLO dataset towards the classes a detector finds hardest, for cheap CPU training.

On the synthetic boards the thin copper defects (short, mouse_bite, spur) are the classes the
detector misses most. This script writes a new dataset folder of hard links (no image is copied)
where every training tile holding one of the `--oversample` classes appears twice (the second as
`<name>_dup1`) and a `--drop-empty` share of the defect-free training tiles is left out, so an epoch
spends more of its compute where the misses are at about the same length. The validation split is
linked unchanged. Deterministic per --seed.

    python training/balance_tiles.py .cache/datasets/synth-train-tiles .cache/datasets/synth-train-tiles-bal

Default classes 2, 8, 9 are short, mouse_bite and spur in data/pcb_defects.yaml's order.
"""
import argparse
import os
import random
import sys
from pathlib import Path

from tile_dataset import write_data_yaml


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", help="tiled YOLO dataset (images/<split>, labels/<split>, data.yaml)")
    p.add_argument("out", help="output folder (created; must be on the same file system for hard links)")
    p.add_argument("--oversample", default="2,8,9", help="class ids whose tiles are used twice")
    p.add_argument("--drop-empty", type=float, default=0.5, help="share of defect-free training tiles left out")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main():
    args = parse()
    src, dst = Path(args.source), Path(args.out)
    hard = {int(c) for c in args.oversample.split(",") if c.strip()}
    rng = random.Random(args.seed)
    for split in ("train", "val"):
        label_dir = src / "labels" / split
        if not label_dir.is_dir():
            continue
        for kind in ("images", "labels"):
            (dst / kind / split).mkdir(parents=True, exist_ok=True)
        written = 0
        for label in sorted(label_dir.glob("*.txt")):
            classes = {int(line.split()[0]) for line in label.read_text().splitlines() if line.strip()}
            copies = 1
            if split == "train":
                if not classes and rng.random() < args.drop_empty:
                    copies = 0
                if classes & hard:
                    copies = 2
            for i in range(copies):
                name = label.stem if i == 0 else f"{label.stem}_dup{i}"
                os.link(label, dst / "labels" / split / f"{name}.txt")
                os.link(src / "images" / split / f"{label.stem}.jpg", dst / "images" / split / f"{name}.jpg")
                written += 1
        print(f"{split}: {written} tiles", file=sys.stderr)
    write_data_yaml(src, dst)


if __name__ == "__main__":
    main()
