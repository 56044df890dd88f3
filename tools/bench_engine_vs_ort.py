#!/usr/bin/env python3
"""Side-by-side latency of NeuralEngine (`pcb engine bench`) and ONNX Runtime on the same model
files, inputs and thread counts, on the same machine, interleaved so machine noise hits both.
Prints a Markdown table (medians of the per-round medians, and the ratio NeuralEngine / ORT).
NeuralEngine runs twice per round: with its memory plan (the default) and with
`--no-memory-plan` (every activation allocated afresh), to show what the plan does.

    /work/venv/bin/python tools/bench_engine_vs_ort.py --pcb .build/release/pcb --models .cache/models
Models: .cache/models/{yolov8n,yolo11n,yolov8n_dynamic}.onnx from tools/engine-fixtures/export_full_models.py.
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CASES = [  # (label, file, height, width)
    ("yolov8n 640x640", "yolov8n.onnx", 640, 640),
    ("yolo11n 640x640", "yolo11n.onnx", 640, 640),
    ("yolov8n dynamic 480x640", "yolov8n_dynamic.onnx", 480, 640),
]


def run(command):
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    return json.loads(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pcb", default=".build/release/pcb")
    p.add_argument("--models", default=".cache/models")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    args = p.parse_args()
    rows = []
    for label, file, height, width in CASES:
        model = str(Path(args.models) / file)
        for threads in [int(t) for t in args.threads.split(",")]:
            ours, theirs, rss_ours, rss_theirs, unplanned, rss_unplanned, arena = [], [], [], [], [], [], []
            common = ["--model", model, "--threads", str(threads), "--runs", str(args.runs), "--warmup", str(args.warmup),
                      "--height", str(height), "--width", str(width)]
            for _ in range(args.rounds):
                a = run([args.pcb, "engine", "bench"] + common)
                c = run([args.pcb, "engine", "bench", "--no-memory-plan"] + common)
                b = run([sys.executable, str(HERE / "engine-fixtures" / "bench_ort.py")] + common)
                ours.append(a["median_ms"]); theirs.append(b["median_ms"]); unplanned.append(c["median_ms"])
                rss_ours.append(a["peak_rss_mb"]); rss_theirs.append(b["peak_rss_mb"]); rss_unplanned.append(c["peak_rss_mb"])
                arena.append(a.get("arena_mb", 0))
                print(f"  {label} t={threads}: ours {a['median_ms']:.1f} ms (no plan {c['median_ms']:.1f}), ORT {b['median_ms']:.1f} ms",
                      file=sys.stderr, flush=True)
            o, t, u = statistics.median(ours), statistics.median(theirs), statistics.median(unplanned)
            rows.append((label, threads, o, t, o / t, u, max(rss_ours), max(rss_unplanned), max(rss_theirs), max(arena)))
    print("| model | threads | NeuralEngine ms | ONNX Runtime ms | ratio | NE without plan ms | peak RSS NE / NE without plan / ORT MB | plan arena MB |")
    print("|---|---|---|---|---|---|---|---|")
    for label, threads, o, t, r, u, ro, ru, rt, am in rows:
        print(f"| {label} | {threads} | {o:.1f} | {t:.1f} | {r:.2f} | {u:.1f} | {ro:.0f} / {ru:.0f} / {rt:.0f} | {am:.1f} |")


if __name__ == "__main__":
    main()
