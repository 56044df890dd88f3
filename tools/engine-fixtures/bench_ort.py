#!/usr/bin/env python3
"""Time ONNX Runtime on a model; prints one JSON line like ``pcb engine bench``.

Usage:

    /work/venv/bin/python tools/engine-fixtures/bench_ort.py --model .cache/models/yolov8n.onnx \\
        --threads 1 --runs 10 --warmup 3

Output: {"median_ms": .., "p90_ms": .., "min_ms": .., "max_ms": .., "peak_rss_mb": ..}

Kept comparable with the Swift ``pcb engine bench`` command:
  * same input: NCHW float32 from a SplitMix64 generator seeded with 7, value = (next % 1000) / 1000;
    fixed model dimensions win, dynamic ones take --batch / --height / --width (default 1 / 640 / 640);
  * same statistics: times sorted, percentile p picks element ceil(p * n) - 1 (clamped), so
    min = p0, max = p100; milliseconds rounded to 3 decimals;
  * peak_rss_mb = getrusage(RUSAGE_SELF).ru_maxrss of this process (includes the Python
    interpreter and numpy, ~50-70 MB), rounded to 0.1 MB.
ONNX Runtime settings: CPUExecutionProvider, intra_op_num_threads=N, inter_op_num_threads=1,
sequential execution, graph optimisation level ORT_ENABLE_ALL.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time

import numpy as np

try:
    import onnxruntime as ort
except ImportError:  # bench_openvino.py imports the shared helpers without it
    ort = None

_MASK = (1 << 64) - 1


def splitmix_inputs(count: int, seed: int = 7) -> np.ndarray:
    """The first `count` values of SplitMix64(seed) mapped to (x % 1000) / 1000, as float32."""
    with np.errstate(over="ignore"):
        idx = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + idx * np.uint64(0x9E3779B97F4A7C15)  # state after i increments (wrapping)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z % np.uint64(1000)).astype(np.float32) / np.float32(1000)).astype(np.float32)


def _splitmix_reference(count: int, seed: int = 7) -> list[float]:
    """Plain-integer version used to self-check the vectorised one."""
    state, out = seed, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & _MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        z ^= z >> 31
        out.append(float(np.float32(z % 1000) / np.float32(1000)))
    return out


def bench_arguments(doc: str) -> argparse.ArgumentParser:
    """The options every bench script shares with `pcb engine bench`."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument("--width", type=int, default=None)
    return ap


def time_runs(run, runs: int, warmup: int) -> dict:
    """Runs `run` warmup + runs times; the timed runs' nearest-rank percentiles and peak RSS."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()

    def pick(p: float) -> float:
        i = min(len(times) - 1, max(0, math.ceil(p * len(times)) - 1))
        return round(times[i], 3)

    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
    return {"median_ms": pick(0.5), "p90_ms": pick(0.9), "min_ms": pick(0.0), "max_ms": pick(1.0), "peak_rss_mb": peak}


def main() -> None:
    args = bench_arguments(__doc__).parse_args()

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])

    inp = sess.get_inputs()[0]
    if len(inp.shape) != 4:
        sys.exit("expected one NCHW input")
    requested = [args.batch, None, args.height, args.width]
    fallback = [1, 3, 640, 640]
    shape = [d if isinstance(d, int) and d > 0 else (r if r is not None else f)
             for d, r, f in zip(inp.shape, requested, fallback)]
    n = int(np.prod(shape))
    values = splitmix_inputs(n)
    assert values[:16].tolist() == _splitmix_reference(16), "SplitMix vectorisation mismatch"
    feeds = {inp.name: values.reshape(shape)}

    print(json.dumps(time_runs(lambda: sess.run(None, feeds), args.runs, args.warmup)))


if __name__ == "__main__":
    main()
