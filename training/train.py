#!/usr/bin/env python3
"""Train an Ultralytics YOLO detector on a YOLO-format dataset and export it to ONNX for `pcb serve`.

The line's models are trained from scratch (no pretrained weights are downloaded: the build
machines have no internet). Training can be interrupted and resumed (`--resume`), so a long run
can span several sessions on a CPU machine, or run in minutes on a GPU.

    python training/train.py --data .cache/datasets/synth-train/data.yaml --name synthetic-v8n \
        --model yolov8n.yaml --imgsz 640 --epochs 60 --batch 16 --device cpu
    python training/train.py --resume --name synthetic-v8n          # continue after an interruption
    python training/train.py --export-only --name synthetic-v8n --out models/pcb_synthetic_yolov8n.onnx

The export is an ONNX file with dynamic batch and input size (so 640x480 camera frames run
without padding and both sides of a board run as one batch), opset 17, simplified, with the
class names in its metadata where `pcb serve` reads them.
"""
import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / ".cache" / "runs"


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="data.yaml of a YOLO-format dataset")
    p.add_argument("--name", required=True, help="run name (folder under .cache/runs)")
    p.add_argument("--model", default="yolov8n.yaml",
                   help="architecture YAML (from scratch), e.g. yolov8n.yaml, yolo11n.yaml; or a .pt checkpoint to continue from")
    p.add_argument("--weights",
                   help="a .pt checkpoint whose matching layers start a --model YAML (e.g. yolov8n-p2.yaml from a yolov8n run)")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--device", default="cpu", help="cpu, or a CUDA device index such as 0")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="torch threads on CPU (Ultralytics would use one core fewer than the machine has)")
    p.add_argument("--patience", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--optimizer", default="auto", help="auto (Ultralytics picks), SGD, AdamW, ...")
    p.add_argument("--lr0", type=float, default=0.01, help="initial learning rate (ignored by --optimizer auto)")
    p.add_argument("--scale", type=float, default=0.5,
                   help="random zoom of the augmentation, +/- this fraction (Ultralytics' default 0.5 shrinks "
                        "small defects to half size; the line's camera has a fixed scale)")
    p.add_argument("--close-mosaic", type=int, default=10, help="last epochs trained without mosaic")
    p.add_argument("--warmup-epochs", type=float, default=3.0,
                   help="learning-rate warm-up (Ultralytics' default 3); 0 turns it off, for continuing a trained "
                        "model, whose bias learning rate would otherwise start at 0.1")
    p.add_argument("--save-period", type=int, default=-1,
                   help="also keep weights/epochN.pt every N epochs, to choose a checkpoint on a selection set")
    p.add_argument("--resume", action="store_true", help="continue the run's last checkpoint")
    p.add_argument("--export-only", action="store_true", help="only export the run's checkpoint (--checkpoint)")
    p.add_argument("--checkpoint", default="best.pt",
                   help="which file of the run's weights/ to export: best.pt (Ultralytics' fitness on the training "
                        "data's val split), last.pt, or an epochN.pt kept by --save-period")
    p.add_argument("--out", help="where to copy the exported ONNX file (e.g. models/pcb_synthetic_yolov8n.onnx)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--export-imgsz", type=int, default=640,
                   help="input size written into the export (the size `pcb serve` letterboxes frames to); "
                        "640 also for models trained on 320 tiles (training/tile_dataset.py)")
    return p.parse_args()


def export_onnx(checkpoint, imgsz, opset=17):
    """Export a checkpoint as the server runs it (next to it, same name, .onnx); returns the file's path.

    Dynamic batch and size, simplified, class names and `imgsz` in the metadata. YOLO_CONFIG_DIR
    must be set before the first call (ultralytics is imported here, late)."""
    from ultralytics import YOLO

    return Path(YOLO(str(checkpoint)).export(format="onnx", opset=opset, simplify=True, dynamic=True, imgsz=imgsz))


def main():
    args = parse()
    # Keep Ultralytics' settings and downloads inside the project's cache, never in $HOME.
    os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / ".cache" / "ultralytics"))
    import torch
    from ultralytics import YOLO  # imported late so the environment above applies

    def use_all_threads(_):
        # Ultralytics sets torch to cpu_count - 1 threads when it picks the device: 1 of 2 cores here.
        if args.device == "cpu":
            torch.set_num_threads(args.threads)

    run_dir = RUNS / args.name
    weights = run_dir / "weights"
    if not args.export_only:
        started = time.time()
        if args.resume:
            last = weights / "last.pt"
            if not last.exists():
                sys.exit(f"nothing to resume: {last} does not exist")
            model = YOLO(str(last))
            model.add_callback("on_train_start", use_all_threads)
            model.train(resume=True)
        else:
            if not args.data:
                sys.exit("--data is required to start a run")
            model = YOLO(args.model)
            model.add_callback("on_train_start", use_all_threads)
            model.train(data=args.data, epochs=args.epochs, imgsz=args.imgsz, batch=args.batch, device=args.device,
                        optimizer=args.optimizer, lr0=args.lr0, close_mosaic=args.close_mosaic, scale=args.scale,
                        workers=args.workers, project=str(RUNS), name=args.name, exist_ok=True, seed=args.seed,
                        deterministic=True, patience=args.patience, warmup_epochs=args.warmup_epochs,
                        save_period=args.save_period, pretrained=args.weights or args.model.endswith(".pt"), amp=args.device != "cpu",
                        plots=True, verbose=True)
        print(f"training took {(time.time() - started) / 60:.1f} min", flush=True)

    checkpoint = weights / args.checkpoint
    if not checkpoint.exists():
        sys.exit(f"no checkpoint to export: {checkpoint} does not exist")
    exported = export_onnx(checkpoint, args.export_imgsz, args.opset)
    print(f"exported {exported}", flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(exported, args.out)
        print(f"copied to {args.out}", flush=True)


if __name__ == "__main__":
    main()
