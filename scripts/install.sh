#!/usr/bin/env bash
# `make install [PREFIX=/opt/pcb]`: puts the `pcb` binary and the files it reads where
# `pcb serve` and `pcb camera` find them from any working directory (Configuration/InstalledFiles.swift):
#   PREFIX/bin/pcb
#   PREFIX/{configs,data,dashboard,docs/openapi.yaml,models,deploy}
# Existing configs are kept (an upgrade must not overwrite a site's settings); PREFIX/var is
# made for the data directory of deploy/pcb-serve.service.
# Usage: scripts/install.sh PREFIX [BINARY]   (BINARY defaults to .build/release/pcb)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: scripts/install.sh PREFIX [BINARY]}
binary=${2:-.build/release/pcb}
[ -x "$binary" ] || { echo "no $binary: build it first (make release)" >&2; exit 1; }
install -d "$prefix/bin" "$prefix/docs" "$prefix/var" "$prefix/configs"
install -m 755 "$binary" "$prefix/bin/pcb"
for folder in data dashboard models deploy; do
    rm -rf "${prefix:?}/$folder"
    cp -r "$folder" "$prefix/$folder"
done
install -m 644 docs/openapi.yaml "$prefix/docs/openapi.yaml"
for config in configs/*.yaml; do
    target="$prefix/configs/$(basename "$config")"
    if [ -e "$target" ]; then echo "kept $target (the new default is $config)"; else install -m 644 "$config" "$target"; fi
done
echo "installed pcb in $prefix: $prefix/bin/pcb serve (see deploy/README.md for the systemd units)"
