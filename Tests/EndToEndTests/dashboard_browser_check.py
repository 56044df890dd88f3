#!/usr/bin/env python3
"""The live dashboard in a real browser: headless Chromium opens `/` of a running `pcb serve`
while board frames are posted, and the page must show it as an operator would.

1. Starts `pcb serve` (given binary, model, data directory) on a free loopback port.
2. Starts headless Chromium at 1366x768 and drives it over the DevTools protocol through
   `--remote-debugging-pipe` (standard library only: no driver, no websocket package).
3. Checks: the page connects to /ws/live; while left and right frames of N boards are posted,
   the frame counter rises to 2N, the board counter to N, the latest boards show both sides'
   pictures (loaded), and both cameras are online; no script error.
4. Teaches a golden board and reviews a frame's verdict from the page, as an operator would.
   Writes a screenshot (PNG) to --screenshot.
5. Restarts the server on the same port: the page says it lost the connection, reconnects by
   itself, and shows today's count from the database plus the new board's frames.
Prints "dashboard: all checks passed" last on success.
"""
import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


class DevTools:
    """Chromium's DevTools protocol over the pipe pair fd 3 (commands) / fd 4 (replies)."""

    def __init__(self, chromium, width, height, log):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire_pipes():
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.profile = tempfile.mkdtemp(prefix="pcb-chromium-")
        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "--hide-scrollbars", "--no-first-run", "--no-default-browser-check", "--lang=ko-KR", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=False, preexec_fn=wire_pipes)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self.from_browser, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self.lock:
                    if "id" in message:
                        self.replies[message["id"]] = message
                    else:
                        self.events.append(message)
                    self.lock.notify_all()

    def call(self, method, params=None, session=None, timeout=30):
        with self.lock:
            self.next_id += 1
            ident = self.next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        with self.lock:
            while ident not in self.replies:
                if not self.lock.wait(timeout=max(0.0, deadline - time.time())):
                    raise TimeoutError(f"DevTools {method}: no reply in {timeout} s")
            reply = self.replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"DevTools {method}: {reply['error']}")
        return reply.get("result", {})

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Page:
    def __init__(self, tools, width, height):
        self.tools = tools
        target = next(t for t in tools.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = tools.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def call(self, method, params=None, timeout=30):
        return self.tools.call(method, params, session=self.session, timeout=timeout)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, what, expression, timeout=60):
        """Polls `expression` until it is truthy; returns its value."""
        deadline = time.time() + timeout
        value = None
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                print(f"ok   {what}", flush=True)
                return value
            time.sleep(0.2)
        raise AssertionError(f"{what}: not seen within {timeout} s (last value {value!r})")

    def errors(self):
        """Uncaught exceptions and console.error calls so far."""
        with self.tools.lock:
            events = list(self.tools.events)
        found = []
        for event in events:
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(event["params"]["exceptionDetails"].get("text", "exception"))
            elif event.get("method") == "Runtime.consoleAPICalled" and event["params"]["type"] == "error":
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in event["params"]["args"]))
        return found


# The server's API token (--token): the page gets it from its address (`/?token=`), as an
# operator's bookmark would, and must send it on the WebSocket and the frame images.
TOKEN = None


class Server:
    def __init__(self, pcb, model, data_dir, log, port=0, anomaly=None):
        self.process = subprocess.Popen(
            [pcb, "serve", "--host", "127.0.0.1", "--port", str(port), "--model", model, "--data-dir", data_dir, "--threads", "1"]
            + (["--anomaly", anomaly] if anomaly else []) + (["--api-token", TOKEN] if TOKEN else []),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log = log
        self.port = None
        for line in self.process.stdout:
            log.write(line)
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                break
        if self.port is None:
            raise AssertionError("pcb serve exited before listening")
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        raise AssertionError("pcb serve never became healthy")

    def _drain(self):
        for line in self.process.stdout:
            self.log.write(line)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def post_board(url, key, left, right):
    for camera, frame in (("left", left), ("right", right)):
        body = json.dumps({"camera_id": camera, "frame": frame, "board_id": key,
                           "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode()
        headers = {"Content-Type": "application/json"}
        if TOKEN:
            headers["Authorization"] = "Bearer " + TOKEN
        request = urllib.request.Request(url + "/predict", body, headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200, f"/predict {camera} {key}: {response.status}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pcb", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--frames", required=True, help="folder of JPEG frames (posted in pairs)")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--boards", type=int, default=4)
    p.add_argument("--screenshot", required=True)
    p.add_argument("--anomaly", help="a .padim file for pcb serve --anomaly (the pictures then carry heat maps)")
    p.add_argument("--token", help="start pcb serve with this API token; the page opens /?token=...")
    args = p.parse_args()
    global TOKEN
    TOKEN = args.token

    frames = sorted(os.path.join(args.frames, name) for name in os.listdir(args.frames) if name.endswith(".jpg"))
    assert len(frames) >= 2, "need at least two frames"
    encoded = [base64.b64encode(open(path, "rb").read()).decode() for path in frames]
    log = open(os.path.join(args.data_dir, "dashboard-check.log"), "w", buffering=1)

    server = Server(args.pcb, args.model, args.data_dir, log, anomaly=args.anomaly)
    tools = DevTools(args.chromium, 1366, 768, log)
    failures = []
    try:
        page = Page(tools, 1366, 768)
        page.call("Page.navigate", {"url": server.url + "/" + (f"?token={TOKEN}" if TOKEN else "")})
        page.wait_for("page connected to /ws/live", "document.getElementById('connection')?.dataset.state === 'live'")
        page.wait_for("first snapshot rendered", "Number(document.body.dataset.snapshots || 0) >= 1")
        before = page.evaluate("document.getElementById('today-total').textContent")
        assert before == "0", f"a fresh server should show 0 frames, shows {before!r}"
        print("ok   counters start at 0", flush=True)

        # Frames are posted while the page is watching.
        def post_all(count, prefix):
            for i in range(count):
                post_board(server.url, f"{prefix}-{i}", encoded[(2 * i) % len(encoded)], encoded[(2 * i + 1) % len(encoded)])
                time.sleep(0.25)
        poster = threading.Thread(target=post_all, args=(args.boards, "B"))
        poster.start()
        page.wait_for("frame counter changes while frames are posted", "document.getElementById('today-total').textContent !== '0'")
        poster.join()
        total = 2 * args.boards
        page.wait_for(f"frame counter reaches {total}", f"document.getElementById('today-total').textContent === '{total}'")
        page.wait_for(f"board counter reaches {args.boards}", f"document.getElementById('boards-total').textContent === '{args.boards}'")
        page.wait_for("category tiles add up to the total", f"""
            [...document.querySelectorAll('.counter.category .value')].reduce((s, n) => s + Number(n.textContent), 0) === {total}""")
        page.wait_for("latest boards show both sides' pictures, loaded", """
            (() => { const boards = document.querySelectorAll('#boards .board');
                     if (boards.length === 0) return false;
                     const images = boards[0].querySelectorAll('.side img');
                     return images.length === 2 && [...images].every(i => i.complete && i.naturalWidth > 0) ? boards.length : false; })()""")
        page.wait_for("newest board is the last one posted",
                      f"document.querySelector('#boards .board')?.dataset.board === 'B-{args.boards - 1}'")
        page.wait_for("both cameras online with frame rates", """
            [...document.querySelectorAll('#cameras tbody tr')].filter(r => r.querySelector('.dot.on')).length === 2""")
        page.wait_for("latency table filled", "document.querySelector('#latency tr[data-stage=model] td:nth-child(4)')?.textContent !== '—'")
        page.wait_for("defect-rate chart drawn", "document.querySelectorAll('#rate-chart polyline').length === 1")
        # "Teach" from the page: a recent left frame becomes the left camera's golden board
        # (the fixture model calls every frame defective, so the call is made as its button would).
        page.evaluate("""(() => { window.confirm = () => true;
            const row = [...document.querySelectorAll('#frames tbody tr')].find(r => r.children[1].textContent === 'left');
            teach({ camera_id: 'left', inspection_id: Number(row.dataset.inspection) }); return true; })()""")
        page.wait_for("teaching a golden board from the page succeeds", """
            document.getElementById('teach-result')?.dataset.state === 'ok'""")
        check = urllib.request.Request(server.url + "/api/reference/left", headers={"Authorization": "Bearer " + TOKEN} if TOKEN else {})
        with urllib.request.urlopen(check, timeout=10) as response:
            assert response.status == 200 and response.read()[:2] == b"\xff\xd8", "the taught golden board is not served"
        print("ok   golden board taught from the page", flush=True)
        # "Review" from the page: the operator opens a recent frame's review, names themself and
        # says the machine's verdict is wrong; the review is stored beside the verdict.
        inspection = page.evaluate("""(() => { const button = document.querySelector('#frames tbody tr button.review');
            button.click(); return Number(button.dataset.subject.split(':')[1]); })()""")
        page.wait_for("review dialog opens", "document.getElementById('review-dialog').open === true")
        verdict = page.evaluate("""(() => { document.getElementById('review-operator').value = 'browser-check';
            const wrong = document.querySelector('#review-verdicts button.wrong'); wrong.click(); return wrong.dataset.verdict; })()""")
        page.wait_for("the review is saved from the page", "document.getElementById('review-result')?.dataset.state === 'ok'")
        page.wait_for("the dialog closes", "document.getElementById('review-dialog').open === false")
        detail = urllib.request.Request(f"{server.url}/api/inspections/{inspection}",
                                        headers={"Authorization": "Bearer " + TOKEN} if TOKEN else {})
        with urllib.request.urlopen(detail, timeout=10) as response:
            reviews = json.loads(response.read())["data"]["reviews"]
        assert len(reviews) == 1 and reviews[0]["operator"] == "browser-check" and reviews[0]["verdict"] == verdict \
            and reviews[0]["agrees"] is False, f"the review is not stored as sent: {reviews}"
        print(f"ok   frame #{inspection} reviewed from the page as {verdict}", flush=True)
        layout = page.evaluate("JSON.stringify([document.documentElement.scrollWidth, document.documentElement.scrollHeight])")
        width, height = json.loads(layout)
        if width > 1366:
            failures.append(f"page is wider than a 1366x768 screen: {width} px")
        shot = page.call("Page.captureScreenshot", {"format": "png"})["data"]
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        with open(args.screenshot, "wb") as out:
            out.write(base64.b64decode(shot))
        print(f"ok   screenshot written to {args.screenshot} (page {width}x{height})", flush=True)
        errors = page.errors()
        if errors:
            failures.append(f"script errors on the page: {errors}")

        # The server restarts: the page notices, reconnects by itself and carries on.
        port = server.port
        server.stop()
        page.wait_for("page shows the lost connection", "document.getElementById('connection').dataset.state === 'offline'", timeout=15)
        server = Server(args.pcb, args.model, args.data_dir, log, port=port, anomaly=args.anomaly)
        page.wait_for("page reconnects by itself", "document.getElementById('connection').dataset.state === 'live'", timeout=30)
        post_board(server.url, "C-0", encoded[0], encoded[1])
        page.wait_for("counts continue from the database after the restart",
                      f"document.getElementById('today-total').textContent === '{total + 2}'")
        page.wait_for("the new board appears", "document.querySelector('#boards .board')?.dataset.board === 'C-0'")
    except (AssertionError, RuntimeError, TimeoutError) as error:
        failures.append(str(error))
    finally:
        tools.close()
        server.stop()
    for failure in failures:
        print(f"FAIL {failure}", flush=True)
    if failures:
        print(f"see {log.name}", flush=True)
        return 1
    print("dashboard: all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
