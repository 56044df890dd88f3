#!/usr/bin/env python3
"""Turn an exported YOLO ONNX file back into a trainable Ultralytics checkpoint.

The bundled models ship as ONNX only. To fine-tune one (on your own boards, or for more epochs
after its run folder is gone), this rebuilds the PyTorch model from the ONNX weights:

    python training/onnx_to_checkpoint.py --onnx models/pcb_synthetic_yolov8n.onnx --arch yolov8n.yaml \
        --images .cache/datasets/synth-train-tiles/images/train --out .cache/checkpoints/synthetic.pt
    python training/train.py --data ... --name ... --model .cache/checkpoints/synthetic.pt

The export folded every BatchNorm into its convolution (weight and bias). Unfolding needs the
statistics the BatchNorm will see in training, so they are measured on `--images`: each
BatchNorm gets running mean/variance = the conv output's mean/variance over those images,
gamma = sqrt(variance + eps) and beta = mean + folded bias. In eval mode that is exactly the
exported function; in training mode, where BatchNorm uses the batch's own statistics, it is
close to it. The script checks the rebuilt model against ONNX Runtime on a few images and stops
if they disagree.
"""
import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnx", required=True, help="ONNX file exported by Ultralytics (training/train.py)")
    p.add_argument("--arch", default="yolov8n.yaml", help="the architecture it was trained as")
    p.add_argument("--images", required=True, help="folder of training images to measure BatchNorm statistics on")
    p.add_argument("--count", type=int, default=256, help="how many images to measure on")
    p.add_argument("--imgsz", type=int, default=320, help="size the images are letterboxed to (the training size)")
    p.add_argument("--out", required=True, help="checkpoint to write (.pt)")
    return p.parse_args()


def load_images(folder, count, size):
    """Letterboxed RGB float tensors in [0, 1], as Ultralytics feeds them (gray 114 padding)."""
    import numpy as np
    import torch
    from PIL import Image
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:count]
    if not files:
        sys.exit(f"no images in {folder}")
    batch = []
    for f in files:
        im = Image.open(f).convert("RGB")
        scale = min(size / im.width, size / im.height)
        w, h = round(im.width * scale), round(im.height * scale)
        canvas = Image.new("RGB", (size, size), (114, 114, 114))
        canvas.paste(im.resize((w, h), Image.BILINEAR), ((size - w) // 2, (size - h) // 2))
        batch.append(torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255.0).permute(2, 0, 1))
    return torch.stack(batch)


def main():
    args = parse()
    os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / ".cache" / "ultralytics"))
    import ast
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from onnx import numpy_helper
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    graph = onnx.load(args.onnx)
    meta = {p.key: p.value for p in graph.metadata_props}
    names = ast.literal_eval(meta["names"])
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.graph.initializer}

    model = DetectionModel(args.arch, nc=len(names), verbose=False)
    model.names = names
    model.eval()

    # Every ONNX "<module>.weight"/".bias" is a plain Conv2d of the model: the inner conv of a
    # Conv block (its BatchNorm folded in) or one of the head's final convs (no BatchNorm).
    modules = dict(model.named_modules())
    missing = [n for n in weights if n.startswith("model.") and n.endswith((".weight", ".bias"))
               and not isinstance(modules.get(n.rsplit(".", 1)[0]), torch.nn.Conv2d)]
    if missing:
        sys.exit(f"ONNX weights with no place in {args.arch}: {missing[:5]}")
    for name, module in modules.items():
        if isinstance(module, torch.nn.Conv2d) and f"{name}.weight" in weights:
            module.weight.data.copy_(weights[f"{name}.weight"])
            if module.bias is not None:
                module.bias.data.copy_(weights[f"{name}.bias"])

    # The folded bias of a Conv block goes to its BatchNorm, which first becomes the identity plus
    # that bias, so the model computes the export exactly; then each conv's output statistics are
    # measured layer by layer on real images.
    convs = {n: m for n, m in modules.items() if isinstance(m, Conv)}
    folded_bias = {name: weights[f"{name}.conv.bias"] for name in convs}
    for name, m in convs.items():
        bn = m.bn
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
        bn.weight.data.fill_(1.0)
        bn.bias.data.copy_(folded_bias[name])

    images = load_images(args.images, args.count, args.imgsz)
    print(f"measuring BatchNorm statistics on {len(images)} images of {args.imgsz}", flush=True)
    sums, squares, counts = {}, {}, {}

    def hook(name):
        def record(module, inputs, output):
            y = output.double()
            sums[name] = sums.get(name, 0) + y.sum(dim=(0, 2, 3))
            squares[name] = squares.get(name, 0) + (y * y).sum(dim=(0, 2, 3))
            counts[name] = counts.get(name, 0) + y.shape[0] * y.shape[2] * y.shape[3]
        return record

    handles = [m.conv.register_forward_hook(hook(n)) for n, m in convs.items()]
    with torch.no_grad():
        for start in range(0, len(images), 32):
            model(images[start:start + 32])
    for h in handles:
        h.remove()
    for name, m in convs.items():
        mean = sums[name] / counts[name]
        var = (squares[name] / counts[name] - mean * mean).clamp_min(1e-6)
        bn = m.bn
        bn.running_mean.copy_(mean.float())
        bn.running_var.copy_(var.float())
        bn.weight.data.copy_(torch.sqrt(var + bn.eps).float())
        bn.bias.data.copy_((mean + folded_bias[name].double()).float())

    # Check: the rebuilt model (eval mode) against ONNX Runtime on the same inputs.
    probe = images[:4]
    with torch.no_grad():
        ours = model(probe)[0].numpy()
    session = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    theirs = session.run(None, {session.get_inputs()[0].name: probe.numpy()})[0]
    diff = float(np.abs(ours - theirs).max())
    scale = float(np.abs(theirs).max())
    print(f"rebuilt model vs ONNX Runtime: max |difference| {diff:.2e} (outputs up to {scale:.1f})", flush=True)
    if diff > 1e-3 * max(scale, 1.0):
        sys.exit("the rebuilt model does not compute what the ONNX file does; not writing a checkpoint")

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    model.args = {"imgsz": args.imgsz}
    torch.save({"model": model.half(), "train_args": {}, "date": None, "version": meta.get("version"),
                "source_onnx": str(args.onnx)}, args.out)
    print(f"wrote {args.out} ({len(names)} classes)", flush=True)


if __name__ == "__main__":
    main()
