"""Shared helpers for the NeuralEngine fixture / benchmark scripts.

Importing this module configures Ultralytics for fully offline, side-effect-free use
(settings go to a temporary directory, no telemetry, no downloads). It must therefore be
imported *before* anything from ``ultralytics``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

# --- Ultralytics environment: offline, quiet, settings outside $HOME ---------------------------
_CFG_DIR = Path(tempfile.gettempdir()) / "pcb-engine-fixtures-ultralytics"
_CFG_DIR.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("YOLO_CONFIG_DIR", str(_CFG_DIR))
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # everything runs on the CPU

import numpy as np  # noqa: E402

# Class names of the PCB defect detector, in class-index order.
CLASS_NAMES = [
    "missing_component",
    "open_circuit",
    "short",
    "cold_joint",
    "solder_bridge",
    "insufficient_solder",
    "damaged_pad",
    "spurious_copper",
    "mouse_bite",
    "spur",
    "pin_hole",
]

# Fixed value written into the `date` metadata entry so re-running the scripts produces
# byte-identical .onnx files (Ultralytics would otherwise stamp the current time).
FIXED_DATE = "2000-01-01T00:00:00+00:00"


def ultralytics_settings_off() -> None:
    """Disable Ultralytics telemetry / integrations for this process."""
    from ultralytics.utils import SETTINGS

    SETTINGS.update({"sync": False, "clearml": False, "comet": False, "dvc": False, "mlflow": False,
                     "raytune": False, "tensorboard": False, "wandb": False, "vscode_msg": False})


def package_yaml(arch: str) -> dict:
    """Load the stock model description shipped inside the installed ultralytics package.

    arch: "v8" -> cfg/models/v8/yolov8.yaml, "v11" -> cfg/models/11/yolo11.yaml.
    """
    import ultralytics
    import yaml

    rel = {"v8": "v8/yolov8.yaml", "v11": "11/yolo11.yaml"}[arch]
    path = Path(ultralytics.__file__).parent / "cfg" / "models" / rel
    return yaml.safe_load(path.read_text())


def synthetic_image(height: int, width: int, seed: int) -> np.ndarray:
    """Deterministic 3xHxW float32 image in [0, 1] that loosely resembles a PCB crop.

    A smooth colour gradient / low-frequency wave (board background), a few axis-aligned
    rectangles (pads / components), thin lines (traces) and a little Gaussian noise. Purely
    numpy-based so it is identical on every machine.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(0.0, 1.0, height, dtype=np.float64),
                         np.linspace(0.0, 1.0, width, dtype=np.float64), indexing="ij")
    img = np.empty((3, height, width), dtype=np.float64)
    base = rng.uniform(0.25, 0.55, size=3)
    fx, fy = rng.uniform(0.5, 2.5, size=2)
    for c in range(3):
        phase = rng.uniform(0, 2 * np.pi)
        img[c] = base[c] + 0.15 * np.sin(2 * np.pi * (fx * xx + fy * yy) + phase) + 0.1 * (xx - yy)
    for _ in range(int(rng.integers(4, 9))):  # components / pads
        h = int(rng.integers(max(2, height // 16), max(3, height // 3)))
        w = int(rng.integers(max(2, width // 16), max(3, width // 3)))
        y0 = int(rng.integers(0, height - h))
        x0 = int(rng.integers(0, width - w))
        img[:, y0:y0 + h, x0:x0 + w] = rng.uniform(0.0, 1.0, size=(3, 1, 1))
    for _ in range(int(rng.integers(2, 5))):  # traces
        if rng.random() < 0.5:
            y = int(rng.integers(0, height))
            img[:, y:y + 1, :] = rng.uniform(0.6, 1.0, size=(3, 1, 1))
        else:
            x = int(rng.integers(0, width))
            img[:, :, x:x + 1] = rng.uniform(0.6, 1.0, size=(3, 1, 1))
    img += rng.normal(0.0, 0.03, size=img.shape)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def synthetic_batch(batch: int, height: int, width: int, seed: int) -> np.ndarray:
    """(batch, 3, H, W) float32 batch; item i uses seed ``seed * 100 + i``."""
    return np.stack([synthetic_image(height, width, seed * 100 + i) for i in range(batch)])


def save_npy(path: Path, array: np.ndarray) -> None:
    """Save as standard .npy (format v1.0, C order, little endian; float32 unless integral)."""
    arr = np.asarray(array)
    if arr.dtype.kind == "f":
        arr = arr.astype("<f4")
    elif arr.dtype.kind in "iu":
        arr = arr.astype("<i8")
    elif arr.dtype.kind == "b":
        arr = arr.astype("|b1")
    arr = np.ascontiguousarray(arr)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, arr, version=(1, 0), allow_pickle=False)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict:
    import platform

    import onnx
    import onnxruntime
    import torch
    import ultralytics

    out = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "ultralytics": ultralytics.__version__,
        "torch_onnx_exporter": "torchscript (dynamo=False, as used by ultralytics)",
    }
    try:
        import onnxslim

        out["onnxslim"] = onnxslim.__version__
    except ImportError:  # pragma: no cover
        pass
    return out


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, sort_keys=False, allow_nan=False) + "\n")


def normalize_onnx_metadata(path: Path) -> dict:
    """Replace the non-deterministic `date` metadata entry; return metadata_props as a dict."""
    import onnx

    model = onnx.load(str(path))
    for prop in model.metadata_props:
        if prop.key == "date":
            prop.value = FIXED_DATE
    onnx.save(model, str(path))
    return {p.key: p.value for p in model.metadata_props}
