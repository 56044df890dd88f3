#!/usr/bin/env python3
"""Choose the golden board's changed-pixel threshold on a one-product selection set.

Input: the JSON lines of `pcb detect --reference GOLDEN --conf 0.05 DIR` (every box carries
`changed_pixels`) and the YOLO dataset DIR came from. For each threshold N, a box counts when
its confidence reaches the policy's (0.25) and at least N of its pixels differ from the golden
board; the frame's verdict is the highest-priority category among counted boxes. Prints false
calls (normal frames rejected) and escapes (defective frames passed) per N, and the same
without the golden board. Categories follow data/pcb_defects.yaml.
"""
import json, os, sys

CATEGORY = {"missing_component": "component_defect", "open_circuit": "solder_defect", "short": "solder_defect",
            "cold_joint": "solder_defect", "solder_bridge": "solder_defect", "insufficient_solder": "solder_defect",
            "damaged_pad": "discard", "spurious_copper": "discard", "mouse_bite": "normal", "spur": "normal", "pin_hole": "normal"}
NAMES = ["missing_component", "open_circuit", "short", "cold_joint", "solder_bridge", "insufficient_solder", "damaged_pad",
         "spurious_copper", "mouse_bite", "spur", "pin_hole"]
PRIORITY = ["discard", "solder_defect", "component_defect", "normal"]


def verdict(categories):
    for code in PRIORITY:
        if code in categories:
            return code
    return "normal"


def main(lines_path, dataset, conf=0.25):
    rows = []
    for line in open(lines_path):
        item = json.loads(line)
        label_path = item["image"].replace("/images/", "/labels/").rsplit(".", 1)[0] + ".txt"
        truth = set()
        if os.path.exists(label_path):
            for row in open(label_path):
                if row.strip():
                    truth.add(CATEGORY[NAMES[int(row.split()[0])]])
        rows.append((verdict(truth), [(b["class"], b["confidence"], b.get("changed_pixels")) for b in item["boxes"]]))
    def score(keep):
        fc = es = wrong = normal = defective = 0
        for truth, boxes in rows:
            got = verdict({CATEGORY[c] for c, p, n in boxes if p >= conf and keep(n)})
            if truth == "normal":
                normal += 1; fc += got != "normal"
            else:
                defective += 1; es += got == "normal"; wrong += got not in ("normal", truth)
        return fc, normal, es, defective, wrong
    fc, n, es, d, w = score(lambda changed: True)
    print(f"no golden board      false calls {fc}/{n}  escapes {es}/{d}  wrong category {w}")
    for threshold in [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20]:
        fc, n, es, d, w = score(lambda changed: changed is None or changed >= threshold)
        print(f"changed >= {threshold:<3}        false calls {fc}/{n}  escapes {es}/{d}  wrong category {w}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
