"""Posts frames to a `pcb serve` whose data directory is a small tmpfs, through a low disk, a
full disk and back, and checks what a line needs: the server never exits, every acknowledged
inspection is in the store, refusals are 503 with Retry-After, images are saved again once there
is room. Prints one line per phase and exits non-zero on the first failed check."""

import argparse, base64, json, os, sqlite3, sys, time, urllib.error, urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--frame", required=True)
parser.add_argument("--data-dir", required=True)
args = parser.parse_args()
frame = base64.b64encode(open(args.frame, "rb").read()).decode()
acknowledged = []
counter = 0


def check(condition, message):
    if not condition:
        print("FAILED:", message)
        sys.exit(1)


def post():
    global counter
    counter += 1
    request_id = "disk-%05d" % counter
    body = json.dumps({"camera_id": "left", "frame": frame, "request_id": request_id}).encode()
    request = urllib.request.Request(args.url + "/predict", body, {"Content-Type": "application/json"})
    try:
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
        acknowledged.append(request_id)
        return 200, answer
    except urllib.error.HTTPError as error:
        check(error.code == 503, "refusal %d for %s: %s" % (error.code, request_id, error.read()[:300]))
        check(error.headers.get("Retry-After") is not None, "503 without Retry-After")
        return 503, error.read()[:300]


def health():
    return json.loads(urllib.request.urlopen(args.url + "/health", timeout=10).read())


def sizes():
    return [(name, os.path.getsize(os.path.join(args.data_dir, name))) for name in os.listdir(args.data_dir)]


def images():
    folder = os.path.join(args.data_dir, "images")
    return len([name for name in os.listdir(folder) if name.endswith(".jpg")])


# Phase 1: post until the guard stops saving images (the disk is low).
for _ in range(400):
    post()
    if health()["disk"]["low"]:
        break
check(health()["disk"]["low"], "the disk never went low after %d frames" % counter)
print("low disk after %d frames, %d images" % (counter, images()))

# Phase 2: below the minimum, frames are still judged and stored, without images.
before = images()
answers = [post() for _ in range(10)]
statuses = [status for status, _ in answers]
check(statuses.count(200) == 10, "frames refused while only low: %s %s %s %s" % (statuses, [a for s, a in answers if s == 503][:1], health()["disk"], sizes()))
check(images() == before, "images saved below the minimum")
print("low disk: 10 frames judged and stored, no image saved")

# Phase 3: the disk completely full (a filler file takes every byte left).
filler = os.path.join(args.data_dir, "filler")
descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
for size in (65536, 512, 1):
    try:
        while True:
            os.write(descriptor, b"\0" * size)
    except OSError:
        pass
os.close(descriptor)
statuses = [post()[0] for _ in range(30)]
check(health()["status"] == "ok", "server not healthy with a full disk")
print("full disk: %d answered, %d refused with 503, server alive" % (statuses.count(200), statuses.count(503)))

# Phase 4: space comes back (the filler and the older half of the images go, as the image
# retention would do); images are saved again without a restart.
os.remove(filler)
folder = os.path.join(args.data_dir, "images")
names = sorted(os.listdir(folder))
for name in names[: len(names) // 2 + 1]:
    os.remove(os.path.join(folder, name))
time.sleep(1.5)
before = images()
statuses = [post()[0] for _ in range(5)]
check(statuses.count(200) == 5, "frames refused after space came back: %s" % statuses)
check(images() > before, "no image saved after space came back: %s %s" % (health()["disk"], [(n, os.path.getsize(os.path.join(args.data_dir, n))) for n in os.listdir(args.data_dir)]))
check(not health()["disk"]["low"], "disk still reported low")
print("space back: 5 frames stored, %d new images" % (images() - before))

# Every acknowledged inspection is in the store.
database = sqlite3.connect(os.path.join(args.data_dir, "pcb.sqlite"))
stored = {row[0] for row in database.execute("SELECT request_id FROM inspections")}
missing = [rid for rid in acknowledged if rid + "/left" not in stored]
check(not missing, "acknowledged but not stored: %s" % missing[:5])
print("full disk: all checks passed (%d acknowledged, all stored)" % len(acknowledged))
