"""Hostile and careless clients against a real `pcb serve` started with
--api-token secret --set request_timeout_s=3 --set idle_timeout_s=2 --set max_connections=40
--set max_bodies_in_flight=4. Prints one line per check and exits non-zero on the first failure."""

import argparse, base64, json, socket, sys, time, urllib.error, urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--token", required=True)
args = parser.parse_args()
base = "http://127.0.0.1:%d" % args.port


def check(condition, message):
    if not condition:
        print("FAILED:", message)
        sys.exit(1)
    print("ok:", message)


def request(method, path, body=None, headers=None, timeout=10):
    request = urllib.request.Request(base + path, body, headers or {}, method=method)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
        return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def closed(sock, within):
    """Whether the server closes `sock` within `within` seconds."""
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


auth = {"Authorization": "Bearer " + args.token}

# Liveness stays open; every other endpoint needs the token.
check(request("GET", "/health")[0] == 200, "/health is open")
check(request("GET", "/")[0] in (200, 404), "the dashboard's page is open")
for path in ["/api/inspections", "/api/statistics", "/api/system-status", "/api/defect-images/1", "/api/anomaly-maps/1",
             "/live/snapshot", "/live/frames/1", "/metrics", "/openapi.yaml", "/api/reference/left"]:
    status, headers, _ = request("GET", path)
    check(status == 401 and "Bearer" in headers.get("WWW-Authenticate", ""), "GET %s without a token: %d" % (path, status))
    check(request("GET", path, headers={"Authorization": "Bearer wrong"})[0] == 401, "GET %s with a wrong token is 401" % path)
check(request("GET", "/api/inspections", headers=auth)[0] == 200, "GET /api/inspections with the token")
check(request("GET", "/api/inspections?access_token=" + args.token)[0] == 200, "a read token as access_token parameter")
check(request("POST", "/predict?access_token=" + args.token, b"{}", {"Content-Type": "application/json"})[0] == 401,
      "a write token is never taken from the query string")
for method, path in [("POST", "/predict"), ("POST", "/predict_dual"), ("PUT", "/api/reference"), ("DELETE", "/api/reference")]:
    check(request(method, path, b"{}", {"Content-Type": "application/json"})[0] == 401, "%s %s without a token is 401" % (method, path))

# The WebSocket upgrade needs the token too (header or access_token).
def upgrade(path, headers=""):
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=5)
    sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (path, headers)).encode())
    line = sock.recv(4096).split(b"\r\n")[0]
    sock.close()
    return line
check(b" 401" in upgrade("/ws/live"), "/ws/live upgrade without a token is 401")
check(b" 401" in upgrade("/ws/live?access_token=wrong"), "/ws/live upgrade with a wrong token is 401")
check(b" 401" in upgrade("/ws/live", "Authorization: Bearer wrong\r\n"), "/ws/live upgrade with a wrong bearer header is 401")
check(b" 101" in upgrade("/ws/live?access_token=" + args.token), "/ws/live upgrade with access_token switches protocols")
check(b" 101" in upgrade("/ws/live", "Authorization: Bearer %s\r\n" % args.token), "/ws/live upgrade with the bearer header")

# CORS: a preflight from an unlisted origin is refused; no Allow-Origin on answers to it.
status, headers, _ = request("OPTIONS", "/predict", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
check(status == 403 and "Access-Control-Allow-Origin" not in headers, "preflight from an unlisted origin: %d" % status)
status, headers, _ = request("GET", "/api/inspections", headers=dict(auth, Origin="http://evil.example"))
check("Access-Control-Allow-Origin" not in headers, "no Allow-Origin for an unlisted origin")
# A cross-site text/plain POST (sent by browsers without a preflight) is not inspected.
status, _, body = request("POST", "/predict", b'{"camera_id":"left","frame":"AAAA"}', dict(auth, **{"Content-Type": "text/plain"}))
check(status == 415, "text/plain POST is 415: %s" % body[:100])

# A 64 MB POST from urllib gets its 413 at once, the connection closed after it.
big = b'{"camera_id":"left","frame":"' + b"A" * (64 << 20) + b'"}'
start = time.time()
status, headers, _ = request("POST", "/predict", big, dict(auth, **{"Content-Type": "application/json"}), timeout=30)
elapsed = time.time() - start
check(status == 413 and elapsed < 2 and headers.get("Connection", "").lower() == "close",
      "64 MB POST: %d in %.2f s, Connection: %s" % (status, elapsed, headers.get("Connection")))

# A slow client (headers and part of a body, then nothing) is disconnected after the timeout.
slow = []
for _ in range(20):
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.sendall(("POST /predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                  "Content-Length: 100000\r\n\r\n{\"camera_id\": \"le" % args.token).encode())
    slow.append(sock)
start = time.time()
check(all(closed(sock, 8 - (time.time() - start)) for sock in slow), "20 stalled bodies closed within 8 s")
# A client that connects and never sends a byte is closed after the idle timeout (2 s).
silent = socket.create_connection(("127.0.0.1", args.port))
check(closed(silent, 6), "a silent connection closed after the idle timeout")
# A client trickling its body one byte a second is cut off at the request timeout (3 s).
sock = socket.create_connection(("127.0.0.1", args.port))
sock.sendall(("POST /predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
              "Content-Length: 100000\r\n\r\n" % args.token).encode())
start = time.time()
cut = False
try:
    for _ in range(15):
        sock.sendall(b" ")
        time.sleep(1)
        sock.settimeout(0.01)
        try:
            if sock.recv(1) == b"":
                cut = True
                break
        except socket.timeout:
            pass
except (BrokenPipeError, ConnectionResetError):
    cut = True
check(cut and time.time() - start < 8, "a trickling body cut off after %.1f s" % (time.time() - start))

# More request bodies in flight than the cap: the next gets 503 at once, before its body.
held = []
for _ in range(4):
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.sendall(("POST /predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                  "Content-Length: 1000\r\n\r\n{" % args.token).encode())
    held.append(sock)
time.sleep(0.3)
status, headers, _ = request("POST", "/predict", b'{"camera_id":"left","frame":"AAAA"}', dict(auth, **{"Content-Type": "application/json"}))
check(status == 503 and headers.get("Retry-After") is not None, "a fifth body in flight: %d" % status)
for sock in held:
    sock.close()
time.sleep(0.3)
status, _, _ = request("POST", "/predict", b'{"camera_id":"left","frame":"AAAA"}', dict(auth, **{"Content-Type": "application/json"}))
check(status == 400, "bodies admitted again once the others are gone: %d" % status)

# More connections than the cap: a request on one more gets 503; the server still answers after.
idle = [socket.create_connection(("127.0.0.1", args.port)) for _ in range(45)]
time.sleep(0.3)
status, _, _ = request("GET", "/health")
check(status == 503, "a request beyond 40 connections: %d" % status)
for sock in idle:
    sock.close()
time.sleep(0.5)
check(request("GET", "/health")[0] == 200, "answers again once the connections are gone")
print("hostile clients: all checks passed")
