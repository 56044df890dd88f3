#!/usr/bin/env python3
"""Soak of a running `pcb serve`: two camera clients posting board frames at FPS each (left and
right, with board ids) and a GET flood on the monitoring API, for MINUTES, while the server's
resident memory is sampled every 10 s from /proc/PID/status. Standard library only.

Prints, at the end: requests by endpoint class and status, p50/p99 latency of the posts, RSS
after the warm-up (the first sample past --warmup-s) and at the end with the largest deviation
from the warm-up figure, and whether anything but 200 and 503-with-Retry-After was answered.

Usage: tools/soak.py --url http://127.0.0.1:5000 --pid PID --frame board.jpg [--minutes 10]
       [--fps 10] [--token T] [--get-threads 2]
"""
import argparse, base64, collections, json, threading, time, urllib.error, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--pid", type=int, required=True)
p.add_argument("--frame", required=True, help="a JPEG posted by both cameras")
p.add_argument("--minutes", type=float, default=10)
p.add_argument("--fps", type=float, default=10, help="frames per second per camera; 0: the GET flood alone")
p.add_argument("--token")
p.add_argument("--get-threads", type=int, default=2)
p.add_argument("--warmup-s", type=float, default=60)
args = p.parse_args()

frame = base64.b64encode(open(args.frame, "rb").read()).decode()
headers = {"Content-Type": "application/json"}
if args.token:
    headers["Authorization"] = "Bearer " + args.token
end = time.time() + args.minutes * 60
lock = threading.Lock()
statuses = collections.Counter()
latencies = collections.defaultdict(list)
unexpected = []


def call(kind, method, path, body=None):
    request = urllib.request.Request(args.url + path, body, headers, method=method)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            status, retry = response.status, None
    except urllib.error.HTTPError as error:
        error.read()
        status, retry = error.code, error.headers.get("Retry-After")
    except Exception as error:  # a reset or a timeout is a finding too
        status, retry = type(error).__name__, None
    elapsed = (time.perf_counter() - start) * 1000
    with lock:
        statuses[(kind, status)] += 1
        if status == 200:
            latencies[kind].append(elapsed)
        elif not (status == 503 and retry):
            unexpected.append((kind, path, status))


def camera(name):
    board = 0
    period = 1 / args.fps
    next_at = time.time()
    while time.time() < end:
        board += 1
        body = json.dumps({"camera_id": name, "frame": frame, "board_id": f"soak-{board}",
                           "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode()
        call("predict", "POST", "/predict", body)
        next_at += period
        time.sleep(max(0, next_at - time.time()))


def flood():
    paths = ["/api/inspections?limit=50", "/api/statistics", "/api/system-status", "/live/snapshot", "/health", "/metrics"]
    k = 0
    while time.time() < end:
        call("get", "GET", paths[k % len(paths)])
        k += 1


def rss_mb():
    for line in open(f"/proc/{args.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


threads = [threading.Thread(target=camera, args=(c,)) for c in ("left", "right")] if args.fps > 0 else []
threads += [threading.Thread(target=flood) for _ in range(args.get_threads)]
for thread in threads:
    thread.start()
started = time.time()
samples = []
while time.time() < end:
    time.sleep(10)
    samples.append((time.time() - started, rss_mb()))
    with lock:
        done = sum(statuses.values())
    print(f"{samples[-1][0]:6.0f} s  RSS {samples[-1][1]:7.1f} MB  requests {done}", flush=True)
for thread in threads:
    thread.join()


def percentile(values, q):
    values = sorted(values)
    return values[max(0, int(-(-q * len(values) // 100)) - 1)] if values else float("nan")


after_warmup = [rss for t, rss in samples if t >= args.warmup_s] or [samples[-1][1]]
base = after_warmup[0]
deviation = max(abs(rss - base) / base * 100 for rss in after_warmup)
print("statuses:", dict(sorted(((f"{k}:{s}", n) for (k, s), n in statuses.items()))))
for kind in ("predict", "get"):
    print(f"{kind}: n={len(latencies[kind])} p50={percentile(latencies[kind], 50):.1f} ms p99={percentile(latencies[kind], 99):.1f} ms")
print(f"RSS after warm-up {base:.1f} MB, at the end {after_warmup[-1]:.1f} MB, largest deviation {deviation:.1f} %")
print("unexpected answers:", len(unexpected), unexpected[:5])
print("soak:", "PASS" if not unexpected and deviation <= 10 else "FAIL")
