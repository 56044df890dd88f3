#!/usr/bin/env python3
"""Fault test: 500 /predict requests while MariaDB is killed and restarted.

Starts a private MariaDB (scripts/mariadb-test-instance.sh) and `pcb serve` on it, posts
frames one after another with a unique request_id each, kills the database (SIGKILL) after
--kill-at requests and restarts it after --restart-at, then waits for the server's journal to
drain and checks, in MariaDB itself, that every acknowledged request is stored exactly once.
Standard library only. Exit status 0 and a last line "db outage: all checks passed" on success.
"""
import argparse
import base64
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def post(url, body):
    request = urllib.request.Request(url + "/predict", json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def health(url):
    try:
        with urllib.request.urlopen(url + "/health", timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read() or b"{}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pcb", required=True, help="the pcb executable")
    p.add_argument("--model", required=True)
    p.add_argument("--frame", required=True)
    p.add_argument("--instance-script", required=True)
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--kill-at", type=int, default=150)
    p.add_argument("--restart-at", type=int, default=300)
    args = p.parse_args()

    started = subprocess.run([args.instance_script, "start"], check=True, capture_output=True, text=True).stdout
    values = dict(line.split("=", 1) for line in started.splitlines() if "=" in line)
    args.mariadb_dir, args.database = values["MARIADB_DIR"], "pcb_test"
    data_dir = tempfile.mkdtemp(prefix="pcb-outage-")
    server = subprocess.Popen([args.pcb, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir,
                               "--model", args.model, "--threads", "1", "--database", values["PCB_TEST_MYSQL_URL"]],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port, log = [], []

    def drain():  # read the server's output all along, so its pipe never fills
        for line in server.stdout:
            log.append(line)
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if found and not port:
                port.append(int(found.group(1)))

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline = time.time() + 120
        while not port and time.time() < deadline and server.poll() is None:
            time.sleep(0.1)
        if not port:
            print("FAIL: pcb serve did not start:\n" + "".join(log[-30:]), flush=True)
            return 1
        args.url = f"http://127.0.0.1:{port[0]}"
        status = run_requests(args)
        if status != 0:
            print("server log (tail):\n" + "".join(log[-40:]), flush=True)
        return status
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run([args.instance_script, "stop", args.mariadb_dir])
        shutil.rmtree(data_dir, ignore_errors=True)


def run_requests(args):

    frame = base64.b64encode(open(args.frame, "rb").read()).decode()
    run = str(int(time.time() * 1000))
    acknowledged, failures, journaled_seen = [], [], 0
    for k in range(args.requests):
        if k == args.kill_at:
            subprocess.run([args.instance_script, "kill", args.mariadb_dir], check=True)
            print(f"request {k}: MariaDB killed", flush=True)
        if k == args.restart_at:
            subprocess.run([args.instance_script, "restart", args.mariadb_dir], check=True)
            print(f"request {k}: MariaDB restarted", flush=True)
        request_id = f"outage-{run}-{k}"
        camera = "left" if k % 2 == 0 else "right"
        status, body = post(args.url, {"camera_id": camera, "frame": frame, "request_id": request_id,
                                       "timestamp": datetime.datetime.now().isoformat()})
        if status == 200:
            # The server scopes request ids by camera: stored as `id/camera`.
            acknowledged.append(f"{request_id}/{camera}")
            if body.get("inspection_id", 0) < 0:
                journaled_seen += 1
        else:
            failures.append((k, status, body))
        if k == args.restart_at - 1:
            h = health(args.url)
            print(f"during the outage: database_online={h.get('database_online')} journal_pending={h.get('journal_pending')}", flush=True)
            if h.get("database_online") is not False or not h.get("journal_pending"):
                print("FAIL: health does not report the outage", flush=True)
                return 1

    deadline = time.time() + 60
    while time.time() < deadline:
        h = health(args.url)
        if h.get("journal_pending") == 0 and h.get("database_online"):
            break
        time.sleep(0.5)
    else:
        print(f"FAIL: journal not drained within 60 s: {h}", flush=True)
        return 1

    query = (f"SELECT COUNT(*), COUNT(DISTINCT request_id) FROM inspections WHERE request_id LIKE 'outage-{run}-%'")
    out = subprocess.run(["mariadb", "--no-defaults", f"--socket={args.mariadb_dir}/mysqld.sock", "-uroot", "-N", "-B",
                          args.database, "-e", query], check=True, capture_output=True, text=True).stdout.split()
    rows, distinct = int(out[0]), int(out[1])
    ids = subprocess.run(["mariadb", "--no-defaults", f"--socket={args.mariadb_dir}/mysqld.sock", "-uroot", "-N", "-B",
                          args.database, "-e", f"SELECT request_id FROM inspections WHERE request_id LIKE 'outage-{run}-%'"],
                         check=True, capture_output=True, text=True).stdout.split()
    missing = sorted(set(acknowledged) - set(ids))
    print(f"acknowledged {len(acknowledged)}/{args.requests}, refused {len(failures)}, journaled during the outage "
          f"{journaled_seen}; in MariaDB: {rows} rows, {distinct} distinct request ids, {len(missing)} acknowledged missing",
          flush=True)
    ok = rows == distinct == len(acknowledged) == args.requests and not missing and journaled_seen > 0
    if failures:
        print(f"first refusals: {failures[:3]}", flush=True)
    if not ok:
        print("FAIL", flush=True)
        return 1
    print("db outage: all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
