#!/usr/bin/env python3
"""`pcb serve` against the seed's own Flask server, on the same weights, frame and load.

The seed (../shared/seed/Flask_Server_Setup.md) is a Flask app (`server/app.py`) around
Ultralytics and PyTorch (`server/inference.py`). This script takes both files from the seed's
text as they are, changes only the model path, the device (`cuda` -> `cpu`: these machines have
no GPU) and the port, and starts it beside `pcb serve` on the ONNX export of the same weights.
Each load level (N clients, each posting the same 640x480 JPEG to /predict back to back, on
kept-alive connections) runs on one server and then the other, so machine noise hits both.
Prints a Markdown table: requests per second, p50 and p99 latency, and pcb's ratios.

    python3 -m venv /tmp/flaskvenv
    /tmp/flaskvenv/bin/pip install /path/to/torch-cpu.whl "torchvision==0.28.*" ultralytics==8.4.190 \\
        flask flask-cors opencv-python-headless onnx onnxslim onnxruntime
    /tmp/flaskvenv/bin/python tools/bench_server_vs_flask.py --pt yolov8n.pt --onnx yolov8n.onnx \\
        --frame board.jpg --clients 1,4 --seconds 20

`--pt` is what the seed loads, `--onnx` its export (e.g. `yolo export model=yolov8n.pt
format=onnx dynamic=True`); `pcb serve` runs it with `--precision` (default auto: bf16 only
with a passed accuracy record beside the ONNX file, `pcb engine check-precision`). Run it with
a Python that has the seed's packages; the load generator needs only the standard library.
"""
import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seed_sources(doc):
    """The seed's server/app.py and server/inference.py: the first python block after each title."""
    text = Path(doc).read_text(encoding="utf-8")
    files = {}
    for name in ("server/app.py", "server/inference.py"):
        at = text.index(f"({name})")
        block = re.search(r"```python\n(.*?)```", text[at:], re.S)
        files[Path(name).name] = block.group(1)
    return files


def patched_app(source, pt, port):
    """The seed's app with our model file, the CPU and our port; refuses a seed it does not recognise."""
    replacements = [
        ("yolo_model_path='models/yolo_best.pt'", f"yolo_model_path={str(pt)!r}"),
        ("device='cuda'", "device='cpu'"),
        ("port=5000", f"port={port}"),
    ]
    for old, new in replacements:
        if old not in source:
            sys.exit(f"the seed's app.py no longer contains {old!r}: update this script")
        source = source.replace(old, new)
    return source


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, process, seconds=300):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"server on port {port} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            response = connection.getresponse()
            body = json.loads(response.read() or b"{}")
            if response.status == 200 and body.get("status") == "ok":
                return body
        except (OSError, ValueError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    sys.exit(f"server on port {port} not healthy after {seconds} s")


def load(port, body, clients, seconds, warmup):
    """`clients` threads posting `body` back to back for `seconds`; latencies in ms and the rate."""
    latencies, failures = [], []
    lock = threading.Lock()
    start_line = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Content-Type": "application/json"}

        def post():
            connection.request("POST", "/predict", body, headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                raise RuntimeError(f"{response.status}: {answer[:200]!r}")

        try:
            for _ in range(warmup):
                post()
        except Exception as error:  # noqa: BLE001 - reported, and the others released
            with lock:
                failures.append(f"warm-up: {error}")
            start_line.abort()
            return
        try:
            start_line.wait()
        except threading.BrokenBarrierError:
            return
        mine = []
        while time.perf_counter() < stop_at[0]:
            began = time.perf_counter()
            try:
                post()
                mine.append((time.perf_counter() - began) * 1000)
            except Exception as error:  # noqa: BLE001 - counted and reported
                with lock:
                    failures.append(str(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + 3600  # set properly once every client has warmed up
    try:
        start_line.wait()
    except threading.BrokenBarrierError:
        for t in threads:
            t.join()
        return [], 0.0, failures
    began = time.perf_counter()
    stop_at[0] = began + seconds
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return latencies, len(latencies) / elapsed, failures


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pt", required=True, help="the YOLOv8 .pt the seed loads")
    p.add_argument("--onnx", required=True, help="its ONNX export, for pcb serve")
    p.add_argument("--frame", required=True, help="a 640x480 JPEG")
    p.add_argument("--pcb", default=str(ROOT / ".build/release/pcb"))
    p.add_argument("--precision", default="auto", help="pcb serve --precision")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="pcb serve --threads")
    p.add_argument("--clients", default="1,4")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--warmup", type=int, default=3, help="requests per client before timing")
    p.add_argument("--seed-doc", default=str(ROOT.parent / "shared/seed/Flask_Server_Setup.md"))
    args = p.parse_args()

    frame = Path(args.frame).read_bytes()
    body = json.dumps({"camera_id": "left", "frame": base64.b64encode(frame).decode(), "timestamp": "2026-01-01T00:00:00"}).encode()
    work = Path(tempfile.mkdtemp(prefix="pcb-vs-flask-"))
    processes = []
    try:
        sources = seed_sources(args.seed_doc)
        seed_port, pcb_port = free_port(), free_port()
        (work / "seed").mkdir()
        (work / "seed/app.py").write_text(patched_app(sources["app.py"], Path(args.pt).resolve(), seed_port))
        (work / "seed/inference.py").write_text(sources["inference.py"])
        seed_log = open(work / "seed.log", "w")
        processes.append(subprocess.Popen([sys.executable, "app.py"], cwd=work / "seed", stdout=seed_log, stderr=subprocess.STDOUT))
        pcb_log = open(work / "pcb.log", "w")
        processes.append(subprocess.Popen(
            [args.pcb, "serve", "--model", str(Path(args.onnx).resolve()), "--port", str(pcb_port), "--data-dir", str(work / "var"),
             "--precision", args.precision, "--threads", str(args.threads), "--log-level", "warning"],
            cwd=ROOT, stdout=pcb_log, stderr=subprocess.STDOUT))
        wait_healthy(seed_port, processes[0])
        health = wait_healthy(pcb_port, processes[1])
        print(f"pcb serve: {health.get('model')}, precision {health.get('precision')}", file=sys.stderr)

        rows = []
        for clients in [int(c) for c in args.clients.split(",")]:
            figures = {}
            for name, port in (("seed", seed_port), ("pcb", pcb_port)):
                latencies, rate, failures = load(port, body, clients, args.seconds, args.warmup)
                if failures:
                    sys.exit(f"{name}: {len(failures)} failed requests, e.g. {failures[0]}")
                figures[name] = (rate, percentile(latencies, 50), percentile(latencies, 99), len(latencies))
                print(f"{clients} clients, {name}: {rate:.2f} req/s, p50 {figures[name][1]:.1f} ms, "
                      f"p99 {figures[name][2]:.1f} ms ({len(latencies)} requests)", file=sys.stderr)
            rows.append((clients, figures))

        # On stdout with the table: a record `pcb serve` cannot use makes `auto` fall back to fp32.
        print(f"pcb serve --precision {args.precision}: ran {health.get('precision')}")
        print(f"| clients | seed req/s | pcb req/s | pcb / seed throughput | seed p50 ms | pcb p50 ms | pcb / seed p50 | seed p99 ms | pcb p99 ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        for clients, f in rows:
            (sr, s50, s99, _), (pr, p50, p99, _) = f["seed"], f["pcb"]
            print(f"| {clients} | {sr:.2f} | {pr:.2f} | {pr / sr:.2f} | {s50:.1f} | {p50:.1f} | {p50 / s50:.2f} | {s99:.1f} | {p99:.1f} |")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
