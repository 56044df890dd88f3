"""Two cameras post frames to a real `pcb serve` for about 20 s while its model is switched:
reload to v11, a truncated file tried (refused), rollback, SIGHUP (the configured v8 again),
reload to v11. Checks: every frame answered 200, the bad file refused with the old model
serving, each stored inspection names a model, and more than one model judged. Prints one line
per step and exits non-zero on the first failed check."""

import argparse, base64, json, os, signal, sys, threading, time, urllib.error, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--pid", type=int, required=True)
p.add_argument("--folder", required=True)
p.add_argument("--frame", required=True)
args = p.parse_args()
frame = base64.b64encode(open(args.frame, "rb").read()).decode()
stop = time.time() + 22
answers = []
lock = threading.Lock()


def check(condition, message):
    if not condition:
        print("FAILED:", message, flush=True)
        os._exit(1)
    print("ok:", message, flush=True)


def post(path, body):
    request = urllib.request.Request(args.url + path, json.dumps(body).encode() if body is not None else b"",
                                     {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def camera(name):
    while time.time() < stop:
        status, _ = post("/predict", {"camera_id": name, "frame": frame})
        with lock:
            answers.append(status)


def model_now():
    with urllib.request.urlopen(args.url + "/api/system-status", timeout=10) as response:
        return json.loads(response.read())["model_id"]


threads = [threading.Thread(target=camera, args=(c,)) for c in ("left", "right")]
for thread in threads:
    thread.start()
time.sleep(3)
status, body = post("/api/admin/reload", {"model": os.path.join(args.folder, "v11.onnx")})
check(status == 200 and body["model"].startswith("v11.onnx@"), "reload to v11 under load: %s %s" % (status, body))
time.sleep(3)
status, body = post("/api/admin/reload", {"model": os.path.join(args.folder, "truncated.onnx")})
check(status == 422 and model_now().startswith("v11.onnx@"), "truncated model refused, v11 still serving: %s" % status)
time.sleep(3)
status, body = post("/api/admin/rollback", None)
check(status == 200 and body["model"].startswith("v8.onnx@"), "rollback to v8: %s %s" % (status, body))
time.sleep(3)
os.kill(args.pid, signal.SIGHUP)
time.sleep(3)
check(model_now().startswith("v8.onnx@"), "SIGHUP reloaded the configured v8")
status, body = post("/api/admin/reload", {"model": os.path.join(args.folder, "v11.onnx")})
check(status == 200, "reload to v11 again: %s" % status)
for thread in threads:
    thread.join()
bad = [s for s in answers if s != 200]
check(not bad and len(answers) > 20, "%d frames during the switches, all 200 (others: %s)" % (len(answers), bad[:5]))
rows, page = [], 1
while True:  # every page: the line may have judged more frames than one page holds
    with urllib.request.urlopen(args.url + "/api/inspections?limit=1000&page=%d" % page, timeout=30) as response:
        data = json.loads(response.read())["data"]
    rows += data
    if len(data) < 1000:
        break
    page += 1
models = {row.get("model") for row in rows}
check(None not in models and len(rows) == len(answers), "every stored inspection names its model (%d rows)" % len(rows))
check(any(m.startswith("v8.onnx@") for m in models) and any(m.startswith("v11.onnx@") for m in models),
      "both models judged frames: %s" % sorted(models))
print("reload under load: all checks passed", flush=True)
