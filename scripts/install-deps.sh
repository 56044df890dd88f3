#!/usr/bin/env bash
# Installs the system packages the project builds and tests with (Debian/Ubuntu, apt).
# Called by `make run` and (with --test) `make test`; does nothing when everything is there.
#   --test   also what the tests need: the MariaDB server the MySQL store tests run against,
#            headless Chromium with a CJK font for the dashboard's browser test (scripts/test.sh),
#            and qemu-user for the release binary's portability check (x86-64)
set -euo pipefail

packages=(pkg-config libturbojpeg0-dev libopenblas0 libsqlite3-dev libmariadb-dev)
if [ "${1:-}" = "--test" ]; then packages+=(mariadb-server mariadb-client python3-venv); fi
# The portability check runs the release binary on an emulated baseline CPU (scripts/check-portable.sh).
if [ "${1:-}" = "--test" ] && [ "$(uname -m)" = x86_64 ]; then packages+=(qemu-user); fi
# The dashboard's browser test: Debian's chromium package (Ubuntu ships it only as a snap; there
# the test is skipped, and fails only under CI=true) and a CJK font for the Korean labels.
browser=()
if [ "${1:-}" = "--test" ]; then browser=(chromium fonts-noto-cjk); fi

# The end-to-end tests speak to the server from a plain Python client (standard library only).
command -v python3 >/dev/null 2>&1 || packages+=(python3)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for package in "${packages[@]}"; do installed "$package" || missing+=("$package"); done
missing_browser=()
for package in "${browser[@]}"; do installed "$package" || missing_browser+=("$package"); done
if [ ${#missing[@]} -eq 0 ] && [ ${#missing_browser[@]} -eq 0 ]; then
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing system packages: ${missing[*]}"
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ${#missing_browser[@]} -gt 0 ]; then
    echo "installing the browser test's packages: ${missing_browser[*]}"
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing_browser[@]}" \
        || echo "warning: could not install ${missing_browser[*]}: the dashboard's browser test will be skipped (fails under CI=true)"
fi
