#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of the request path: builds
# fuzz/RequestFuzzer.swift with the server's own parsing files and ImageKit, then runs it for
# SECONDS (default 120) on a copy of fuzz/corpus. Exit 0: nothing found (executions printed).
# A crash leaves crash-* in fuzz/findings/ and exits non-zero: add the input to fuzz/corpus
# (the tests replay every corpus file through the server) and fix the bug.
# Usage: fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
build=.build/fuzz
mkdir -p "$build" fuzz/findings
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -I Sources/CTurboJPEG)
echo "building the fuzzer (swiftc, libFuzzer + AddressSanitizer; log: $build/build.log)"
{
swiftc "${flags[@]}" -emit-module -emit-library -static -module-name ImageKit -emit-module-path "$build/ImageKit.swiftmodule" \
    -o "$build/libImageKit.a" Sources/ImageKit/*.swift
swiftc "${flags[@]}" -I "$build" -L "$build" -lImageKit -lturbojpeg -o "$build/request-fuzzer" \
    fuzz/RequestFuzzer.swift Sources/InspectionServer/Routes/JSONFields.swift \
    Sources/InspectionServer/Support/CaptureTimestamp.swift Sources/InspectionServer/Line/FrameDecoder.swift \
    Sources/InspectionServer/Line/InspectionLineError.swift
} > "$build/build.log" 2>&1 || { tail -40 "$build/build.log"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp fuzz/corpus/* "$work/"
echo "fuzzing the request path for ${seconds} s (corpus: $(ls fuzz/corpus | wc -l) seeds)"
"$build/request-fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144 -timeout=10 \
    -artifact_prefix=fuzz/findings/ -print_final_stats=1 "$work" 2>&1 | tail -20
