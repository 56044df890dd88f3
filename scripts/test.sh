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
echo "MariaDB for the store tests: ${PCB_TEST_MYSQL_URL%%:pcb-test@*}:***@${PCB_TEST_MYSQL_URL#*@}"
swift test "$@"
