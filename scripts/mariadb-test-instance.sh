#!/usr/bin/env bash
# A private, throwaway MariaDB server for the MySQL store tests: its own data directory under
# /tmp, a free TCP port on 127.0.0.1, nothing shared with a system MariaDB.
#
#   scripts/mariadb-test-instance.sh start   # prints PCB_TEST_MYSQL_URL=mysql://... on its last line
#   scripts/mariadb-test-instance.sh stop DIR
#   scripts/mariadb-test-instance.sh kill DIR      # SIGKILL the server (fault tests)
#   scripts/mariadb-test-instance.sh restart DIR   # start it again on the same data and port
#
# `make test` starts one, runs the suites with PCB_TEST_MYSQL_URL set, and stops it.
set -euo pipefail

# Starts mariadbd on DIR's data and port, and waits until it answers.
run_server() {
    local dir=$1 port mariadbd
    port=$(cat "$dir/port")
    mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    local user_flag=()
    if [ "$(id -u)" -eq 0 ]; then user_flag=(--user=root); fi
    "$mariadbd" --no-defaults --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 \
        --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
        --skip-name-resolve --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=1 \
        "${user_flag[@]}" >/dev/null 2>&1 &
    for _ in $(seq 1 150); do
        if mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e "SELECT 1" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    echo "mariadbd did not start:" >&2
    tail -20 "$dir/error.log" >&2
    return 1
}

start() {
    local mariadbd
    mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    [ -x "$mariadbd" ] || { echo "mariadbd not found (apt-get install mariadb-server)" >&2; exit 1; }
    local dir port
    dir=$(mktemp -d /tmp/pcb-mariadb.XXXXXX)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    local user_flag=()
    if [ "$(id -u)" -eq 0 ]; then user_flag=(--user=root); fi
    mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal \
        "${user_flag[@]}" --skip-test-db >"$dir/install.log" 2>&1 \
        || { cat "$dir/install.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    run_server "$dir"
    mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e "
        CREATE DATABASE pcb_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
        CREATE USER 'pcb'@'127.0.0.1' IDENTIFIED BY 'pcb-test';
        GRANT ALL ON *.* TO 'pcb'@'127.0.0.1';" \
        || { cat "$dir/error.log" >&2; exit 1; }
    echo "MARIADB_DIR=$dir"
    echo "PCB_TEST_MYSQL_URL=mysql://pcb:pcb-test@127.0.0.1:$port/pcb_test"
}

stop() {
    local dir=$1
    [ -f "$dir/mysqld.pid" ] && kill "$(cat "$dir/mysqld.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -f "$dir/mysqld.pid" ] || break; sleep 0.2; done
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:?data directory}" ;;
    kill)
        kill -9 "$(cat "${2:?data directory}/mysqld.pid")"
        for _ in $(seq 1 50); do kill -0 "$(cat "$2/mysqld.pid")" 2>/dev/null || break; sleep 0.1; done
        ;;
    restart) run_server "${2:?data directory}" ;;
    *) echo "usage: $0 start | stop DIR | kill DIR | restart DIR" >&2; exit 2 ;;
esac
