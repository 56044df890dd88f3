#!/usr/bin/env bash
# `make test`: every test suite, the MySQL/MariaDB store included. Starts a private MariaDB
# (scripts/mariadb-test-instance.sh: its own data directory and port), points the store tests
# at it through PCB_TEST_MYSQL_URL, and stops it afterwards, whatever the outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
instance=$(./scripts/mariadb-test-instance.sh start)
MARIADB_DIR=$(echo "$instance" | sed -n 's/^MARIADB_DIR=//p')
PCB_TEST_MYSQL_URL=$(echo "$instance" | sed -n 's/^PCB_TEST_MYSQL_URL=//p')
export PCB_TEST_MYSQL_URL
trap './scripts/mariadb-test-instance.sh stop "$MARIADB_DIR"' EXIT
# The seed's own camera client needs OpenCV and requests, the OpenAPI check PyYAML,
# openapi-spec-validator and jsonschema: a throwaway venv from PyPI. Without network the
# tests that use it are skipped and say why.
seed_venv=.build/test-venv
if [ ! -x "$seed_venv/bin/python" ] || ! "$seed_venv/bin/python" -c "import cv2, requests, yaml, openapi_spec_validator" 2>/dev/null; then
    rm -rf "$seed_venv"
    if python3 -m venv "$seed_venv" >/dev/null 2>&1 \
        && "$seed_venv/bin/pip" install -q --disable-pip-version-check requests==2.32.3 opencv-python-headless==4.10.0.84 numpy==2.1.3 \
            pyyaml==6.0.2 openapi-spec-validator==0.7.1 >/dev/null 2>&1; then
        echo "test venv ready: $seed_venv"
    else
        echo "test venv could not be made (no PyPI?): the seed-client and OpenAPI tests are skipped"
        rm -rf "$seed_venv"
    fi
fi
if [ -x "$seed_venv/bin/python" ]; then export PCB_TEST_PYTHON="$PWD/$seed_venv/bin/python"; fi
echo "MariaDB for the store tests: ${PCB_TEST_MYSQL_URL%%:pcb-test@*}:***@${PCB_TEST_MYSQL_URL#*@}"
swift test "$@"
# Coverage-guided fuzzing of the request path, bounded (fuzz/run.sh): a crash fails the run.
if [ $# -eq 0 ]; then ./fuzz/run.sh 90; fi
# The release binary on an emulated baseline CPU (no AVX-512) and below it (scripts/check-portable.sh).
if [ $# -eq 0 ]; then ./scripts/check-portable.sh; fi
