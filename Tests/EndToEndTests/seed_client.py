#!/usr/bin/env python3
"""The seed's camera-client request, from a plain HTTP client, against a running `pcb serve`.

Sends exactly the body of the seed's `CameraClient.send_frame` (camera_id, base64 JPEG frame,
`datetime.now().isoformat()` timestamp) with a 5 s timeout, then the dual and monitoring
requests the Windows app makes, and checks that every field of the seed's responses is there.
Standard library only. Exit status 0 and a last line "seed client: all checks passed" on success.

    python3 seed_client.py --url http://127.0.0.1:5000 --frame frame.jpg
"""
import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime


def call(url, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def require(condition, message):
    if not condition:
        print("FAILED: " + message)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--frame", required=True)
    args = parser.parse_args()
    frame = base64.b64encode(open(args.frame, "rb").read()).decode("utf-8")

    for _ in range(300):  # the model warms up before /health says ok
        status, _, body = call(args.url + "/health")
        if status == 200:
            break
        time.sleep(0.1)
    require(status == 200 and json.loads(body)["status"] == "ok", "health never became ok: %s %s" % (status, body[:200]))

    # The seed's send_frame body, field for field.
    data = {"camera_id": "left", "frame": frame, "timestamp": datetime.now().isoformat()}
    status, headers, body = call(args.url + "/predict", data)
    require(status == 200, "/predict answered %s: %s" % (status, body[:300]))
    result = json.loads(body)
    for key in ["status", "camera_id", "timestamp", "defect_type", "confidence", "boxes", "inference_time_ms",
                "gpio_signal", "inspection_id"]:
        require(key in result, "/predict response lacks '%s': %s" % (key, result))
    require(result["timestamp"] == data["timestamp"], "timestamp not echoed")
    require(result["defect_type"] in ["정상", "부품불량", "납땜불량", "폐기"], "unknown defect_type %r" % result["defect_type"])
    require(set(result["gpio_signal"]) >= {"pin", "action", "duration_ms"}, "gpio_signal fields: %s" % result["gpio_signal"])
    for box in result["boxes"]:
        require(set(box) >= {"x1", "y1", "x2", "y2", "confidence", "class"}, "box fields: %s" % box)
    # The seed client's own log line must format.
    print("[left] Result: %s (confidence: %.2f, inference: %.1fms)" % (
        result["defect_type"], result["confidence"], result["inference_time_ms"]))

    status, _, body = call(args.url + "/predict_dual", {"frame_left": frame, "frame_right": frame})
    require(status == 200, "/predict_dual answered %s: %s" % (status, body[:300]))
    dual = json.loads(body)
    for key in ["status", "final_defect_type", "gpio_signal", "left", "right"]:
        require(key in dual, "/predict_dual response lacks '%s'" % key)
    require(set(dual["gpio_signal"]) >= {"pin", "duration_ms"}, "dual gpio_signal fields")

    status, _, body = call(args.url + "/predict", raw=b"{not json")
    require(status == 400 and "error" in json.loads(body), "malformed JSON must be a 400 with an error body")
    status, _, body = call(args.url + "/predict", {"camera_id": "left", "timestamp": data["timestamp"]})
    require(status == 400 and json.loads(body)["error"] == "No frame data", "missing frame must say 'No frame data'")

    status, _, body = call(args.url + "/api/inspections?page=1&limit=50")
    listing = json.loads(body)
    require(status == 200 and listing["pagination"]["total"] == 3, "three inspections expected: %s" % listing.get("pagination"))
    for key in ["id", "camera_id", "defect_type", "confidence", "inspection_time", "image_path"]:
        require(key in listing["data"][0], "inspection row lacks '%s'" % key)
    today = datetime.now().strftime("%Y-%m-%d")
    status, _, body = call(args.url + "/api/statistics?start_date=%s&end_date=%s" % (today, today))
    stats = json.loads(body)["data"]
    for key in ["total_inspections", "normal_count", "component_defect_count", "solder_defect_count", "discard_count",
                "defect_rate"]:
        require(key in stats, "statistics lack '%s'" % key)
    require(stats["total_inspections"] == 3, "statistics count %s" % stats["total_inspections"])
    status, _, body = call(args.url + "/api/system-status")
    system = json.loads(body)
    require(system["raspberry_pi_1_online"] is True and system["database_online"] is True, "system status: %s" % system)
    print("seed client: all checks passed")


if __name__ == "__main__":
    main()
