#!/usr/bin/env python3
"""Export full-size random-weight YOLO models for benchmarking NeuralEngine against ONNX Runtime.

Usage (from the repository root):

    /work/venv/bin/python tools/engine-fixtures/export_full_models.py --out .cache/models

Writes (not committed; .cache/ is git-ignored):

    yolov8n.onnx          YOLOv8n, 640x640 fixed, opset 17, simplified (onnxslim)
    yolo11n.onnx          YOLO11n, 640x640 fixed, opset 17, simplified
    yolov8n_dynamic.onnx  YOLOv8n, dynamic batch/height/width, opset 17, simplified
    yolov8s.onnx          YOLOv8s, 640x640 fixed, opset 17, simplified
    b1_640x640.input.npy, <model>.b1_640x640.output0.npy   ORT golden (1 thread, no graph optimisation)
    models.json           what was exported, with versions and sha256

The models are the stock "n" (and one "s") scale architectures from the installed ultralytics package (reg_max
16, real channel widths) with the 11 PCB defect classes, so their cost matches a deployed PCB
detector. Weights are random (no download): same treatment as the fixture models (BatchNorm
statistics re-estimated on synthetic images, class biases shifted) so the goldens are not flat.
Use ``--no-goldens`` to skip the golden files (about 5 MB per model).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (configures ultralytics env vars; must precede ultralytics imports)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

import make_fixtures  # noqa: E402  (randomize_weights, ort_session)

SEED = 640
EXPORTS = [
    # (file name, arch, opset, simplify, dynamic)
    ("yolov8n.onnx", "v8", 17, True, False),
    ("yolo11n.onnx", "v11", 17, True, False),
    ("yolov8n_dynamic.onnx", "v8", 17, True, True),
    ("yolov8s.onnx", "v8s", 17, True, False),
]


def build(arch: str, workdir: Path):
    from ultralytics import YOLO

    d = common.package_yaml({"v8s": "v8"}.get(arch, arch))
    d["nc"] = len(common.CLASS_NAMES)
    stem = {"v8": "yolov8n", "v11": "yolo11n", "v8s": "yolov8s"}[arch]  # the file name selects the scale
    cfg = workdir / f"{stem}.yaml"
    cfg.write_text(yaml.safe_dump(d, sort_keys=False))
    torch.manual_seed(SEED)
    yolo = YOLO(str(cfg), task="detect", verbose=False)
    yolo.model.names = {i: n for i, n in enumerate(common.CLASS_NAMES)}
    make_fixtures.randomize_weights(yolo.model, SEED, calib_shapes=((640, 640),), calib_batch=6)
    for p in yolo.model.parameters():
        p.requires_grad_(False)
    return yolo


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":  # reproducible onnxslim output (see make_fixtures)
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(".cache/models"))
    ap.add_argument("--no-goldens", action="store_true", help="skip the 640x640 ORT golden files")
    args = ap.parse_args()
    common.ultralytics_settings_off()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    x = common.synthetic_batch(1, 640, 640, seed=640)
    index = {"versions": common.versions(), "models": []}
    built = {}
    with tempfile.TemporaryDirectory(prefix="engine-full-") as tmp:
        workdir = Path(tmp)
        for name, arch, opset, simplify, dynamic in EXPORTS:
            if arch not in built:
                built[arch] = build(arch, workdir)
            yolo = built[arch]
            cwd = os.getcwd()
            os.chdir(workdir)
            try:
                f = yolo.export(format="onnx", imgsz=640, opset=opset, simplify=simplify, dynamic=dynamic, batch=1,
                                device="cpu", half=False, nms=False, verbose=False)
            finally:
                os.chdir(cwd)
            dst = out / name
            shutil.move(str(Path(workdir, f)), dst)
            meta = common.normalize_onnx_metadata(dst)
            entry = {"file": name, "arch": arch, "opset": opset, "simplify": simplify, "dynamic": dynamic,
                     "imgsz": 640, "size": dst.stat().st_size, "sha256": common.sha256(dst),
                     "metadata_props": meta,
                     "op_types": sorted({n.op_type for n in onnx.load(str(dst)).graph.node})}
            if not args.no_goldens:
                stem = dst.stem
                inp = "b1_640x640.input.npy"  # shared by all models
                if not (out / inp).exists() or not np.array_equal(np.load(out / inp), x):
                    common.save_npy(out / inp, x)
                sess = make_fixtures.ort_session(str(dst))
                outs = sess.run(None, {"images": x})
                entry["goldens"] = {"input": inp, "outputs": {}}
                for o, arr in zip(sess.get_outputs(), outs):
                    rel = f"{stem}.b1_640x640.{o.name}.npy"
                    common.save_npy(out / rel, arr)
                    entry["goldens"]["outputs"][o.name] = {"file": rel, "shape": list(arr.shape)}
            index["models"].append(entry)
            print(f"{dst}  {dst.stat().st_size / 1e6:.1f} MB  opset {opset}  dynamic={dynamic}")
    common.write_json(out / "models.json", index)


if __name__ == "__main__":
    main()
