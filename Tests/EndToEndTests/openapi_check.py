#!/usr/bin/env python3
"""docs/openapi.yaml against itself and against a running `pcb serve`.

1. Validates the description with openapi-spec-validator (OpenAPI 3.1).
2. Sends real requests (good and bad) to the server and checks each response's status is one
   the description lists for that operation, and its JSON body against the listed schema
   (JSON Schema 2020-12, as OpenAPI 3.1 uses it).
Needs PyYAML, openapi-spec-validator and jsonschema (scripts/test.sh makes a venv). Prints
"openapi: all checks passed" last on success.
"""
import argparse
import base64
import datetime
import json
import sys
import urllib.error
import urllib.request

import jsonschema
import yaml
from openapi_spec_validator import validate


def call(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--spec", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--frame", required=True, help="a JPEG")
    args = p.parse_args()

    spec = yaml.safe_load(open(args.spec, encoding="utf-8"))
    validate(spec)
    print("spec is valid OpenAPI 3.1", flush=True)

    def response_schema(path, method, status, content_type):
        responses = spec["paths"][path][method]["responses"]
        assert str(status) in responses, f"{method.upper()} {path}: status {status} is not in the description"
        response = responses[str(status)]
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
        media = response.get("content", {})
        kind = content_type.split(";")[0].strip()
        assert kind in media, f"{method.upper()} {path} {status}: content type {kind} not described ({list(media)})"
        return media[kind].get("schema")

    frame = base64.b64encode(open(args.frame, "rb").read()).decode()
    now = datetime.datetime.now().isoformat()
    cases = [
        ("get", "/health", "/health", None),
        ("post", "/predict", "/predict", {"camera_id": "left", "frame": frame, "timestamp": now, "request_id": "oa-1"}),
        ("post", "/predict", "/predict", {"camera_id": "right", "frame": frame, "timestamp": now}),
        ("post", "/predict", "/predict", {"camera_id": "left", "frame": frame, "request_id": "oa-1"}),
        ("post", "/predict", "/predict", {"camera_id": "left"}),
        ("post", "/predict", "/predict", {"camera_id": "left", "frame": "not base64!"}),
        ("post", "/predict", "/predict", {"camera_id": "front", "frame": frame}),
        ("post", "/predict_dual", "/predict_dual", {"frame_left": frame, "frame_right": frame}),
        ("post", "/predict_dual", "/predict_dual", {"frame_left": frame}),
        ("get", "/api/inspections", "/api/inspections?page=1&limit=5", None),
        ("get", "/api/inspections", "/api/inspections?page=0", None),
        ("post", "/api/inspections/{id}/review", "/api/inspections/1/review", {"verdict": "normal", "operator": "openapi", "note": "check"}),
        ("post", "/api/inspections/{id}/review", "/api/inspections/1/review", {"verdict": "fine", "operator": "openapi"}),
        ("post", "/api/inspections/{id}/review", "/api/inspections/999999/review", {"verdict": "normal", "operator": "openapi"}),
        ("get", "/api/inspections/{id}", "/api/inspections/1", None),
        ("get", "/api/inspections/{id}", "/api/inspections/999999", None),
        ("post", "/api/boards/{id}/review", "/api/boards/999999/review", {"verdict": "normal", "operator": "openapi"}),
        ("get", "/api/boards/{id}", "/api/boards/999999", None),
        ("get", "/api/labelling", "/api/labelling", None),
        ("get", "/api/labelling", "/api/labelling?since=2026-13-01", None),
        ("get", "/api/statistics", "/api/statistics", None),
        ("get", "/api/statistics", "/api/statistics?start_date=2026-11-01&end_date=2026-11-30", None),
        ("get", "/api/statistics", "/api/statistics?start_date=2026-13-01", None),
        ("get", "/api/defect-images/{id}", "/api/defect-images/999999", None),
        ("get", "/api/defect-images/{id}", "/api/defect-images/abc", None),
        ("get", "/api/system-status", "/api/system-status", None),
        ("get", "/openapi.yaml", "/openapi.yaml", None),
        ("get", "/metrics", "/metrics", None),
        ("get", "/api/anomaly-maps/{id}", "/api/anomaly-maps/1", None),
        ("get", "/live/snapshot", "/live/snapshot", None),
        ("get", "/live/frames/{id}", "/live/frames/1", None),
        ("get", "/live/frames/{id}", "/live/frames/999999", None),
        ("get", "/live/frames/{id}", "/live/frames/abc", None),
        ("get", "/", "/", None),
        ("get", "/dashboard/{file}", "/dashboard/dashboard.js", None),
        ("get", "/dashboard/{file}", "/dashboard/nope.js", None),
    ]
    failures = 0
    for method, template, path, body in cases:
        status, content_type, raw = call(args.url, method.upper(), path, body)
        try:
            schema = response_schema(template, method, status, content_type)
            if content_type.startswith("application/json"):
                document = json.loads(raw)
                # Resolve the schema's $refs against the whole description.
                jsonschema.Draft202012Validator({**spec, **schema}).validate(document)
            elif content_type.startswith("application/yaml"):
                assert yaml.safe_load(raw)["openapi"].startswith("3.1")
            elif content_type.startswith("text/plain"):
                assert b"pcb_http_requests_total" in raw, "no request counter in /metrics"
            elif content_type.startswith("image/jpeg"):
                assert raw[:2] == b"\xff\xd8", "not a JPEG"
            elif content_type.startswith("text/html"):
                assert b'<meta charset="utf-8">' in raw, "dashboard page without a charset"
            print(f"ok   {method.upper()} {path} -> {status}", flush=True)
        except (AssertionError, jsonschema.ValidationError) as error:
            failures += 1
            message = error.message if isinstance(error, jsonschema.ValidationError) else str(error)
            print(f"FAIL {method.upper()} {path} -> {status}: {message}\n     body: {raw[:300]!r}", flush=True)
    if failures:
        print(f"{failures} responses do not match docs/openapi.yaml", flush=True)
        return 1
    print("openapi: all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
