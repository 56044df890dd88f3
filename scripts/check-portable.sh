#!/usr/bin/env bash
# The release binary runs on the baseline CPU it is built for and never reaches an instruction
# beyond it on the baseline path. Builds `pcb` as `make release` does, then under qemu-x86_64
# (user-mode emulation; its TCG has no AVX-512 at all, so one such instruction kills the run):
#   -cpu Haswell (x86-64-v3, no AVX-512): `engine info` chooses the AVX2 kernels, a model runs with
#     them and with the portable ones, forcing the AVX-512 ones is refused, a model runs
#     (packed, depthwise and GEMM convolutions, pooling, resize), `pcb serve` answers /health and
#     judges a frame;
#     and refuses `--precision bf16` (no AVX512_BF16) and `--precision int8` (no AVX512_VNNI) at start;
#   -cpu Nehalem (no AVX2): `pcb` refuses in words (exit 3) instead of dying of an illegal instruction.
# Called by scripts/test.sh (`make test`); x86-64 hosts only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -m)" != x86_64 ]; then echo "portability check: x86-64 only, skipped on $(uname -m)"; exit 0; fi
command -v qemu-x86_64 >/dev/null || { echo "portability check: qemu-x86_64 is missing (apt: qemu-user)"; exit 1; }
echo "portability check: building the release binary"
swift build -c release --product pcb >.build/check-portable-build.log 2>&1 || { tail -30 .build/check-portable-build.log; exit 1; }
pcb=.build/release/pcb
model=Tests/NeuralEngineTests/Fixtures/models/v8_op20_dyn.onnx
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
haswell() { qemu-x86_64 -cpu Haswell "$@" 2> >(grep -v "TCG doesn't support requested feature" >&2); }
# Runs a command that must be refused: its output must contain PATTERN, and its exit status must
# be WANT (a number), anything but 0 (`nonzero`) or anything (`any`). Keeps the output in
# $refusal; else prints its tail and "FAIL: WHAT" and stops.
#   expect_refusal WANT PATTERN WHAT COMMAND...
expect_refusal() {
    local want=$1 pattern=$2 what=$3 status
    shift 3
    set +e
    refusal=$("$@" 2>&1)
    status=$?
    set -e
    local ok=1
    echo "$refusal" | grep -q "$pattern" || ok=0
    case "$want" in
        any) ;;
        nonzero) [ "$status" -ne 0 ] || ok=0 ;;
        *) [ "$status" -eq "$want" ] || ok=0 ;;
    esac
    if [ "$ok" -eq 0 ]; then
        echo "$refusal" | tail -5
        echo "FAIL: $what (exit $status)"
        exit 1
    fi
}

info=$(haswell "$pcb" engine info)
echo "$info" | sed 's/^/  haswell: /'
echo "$info" | grep -q "^kernels chosen: avx2" || { echo "FAIL: a Haswell CPU did not get the AVX2 kernels"; exit 1; }
echo "$info" | grep -q "avx512" && { echo "FAIL: AVX-512 reported on a Haswell CPU"; exit 1; }
for kernels in avx2 portable; do
    haswell "$pcb" engine bench --model "$model" --runs 2 --warmup 1 --height 96 --width 128 --kernels "$kernels" \
        | sed "s/^/  haswell engine bench, $kernels kernels: /"
done
expect_refusal any "needs" "AVX-512 kernels forced on a Haswell CPU were not refused" \
    haswell "$pcb" engine bench --model "$model" --runs 1 --warmup 0 --height 96 --width 128 --kernels avx512

# The server on the emulated CPU: /health, then one frame judged.
# qemu itself in the background (not through the function's subshell), so `kill` reaches it.
qemu-x86_64 -cpu Haswell "$pcb" serve --host 127.0.0.1 --port 0 --model "$model" --data-dir "$work/var" --threads 1 \
    --log-level info >"$work/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 600); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; echo "FAIL: pcb serve exited under -cpu Haswell"; exit 1; }
    sleep 0.2
done
[ -n "$port" ] || { cat "$work/serve.log"; echo "FAIL: pcb serve did not listen"; exit 1; }
python3 - "$port" <<'PY'
import sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(600):
    try:
        if urllib.request.urlopen(base + "/health", timeout=5).status == 200:
            break
    except Exception:
        time.sleep(0.2)
else:
    sys.exit("FAIL: /health never answered 200 under -cpu Haswell")
PY
"$pcb" dataset synth --out "$work/set" --count 1 --seed 3 --size 128x96 --val-fraction 0 >/dev/null 2>&1
frame=$(ls "$work"/set/images/train/*.jpg | head -1)
python3 - "$port" "$frame" <<'PY'
import base64, json, sys, urllib.request
base, frame = f"http://127.0.0.1:{sys.argv[1]}", sys.argv[2]
body = json.dumps({"camera_id": "left", "frame": base64.b64encode(open(frame, "rb").read()).decode()}).encode()
answer = json.loads(urllib.request.urlopen(urllib.request.Request(base + "/predict", body, {"Content-Type": "application/json"}), timeout=120).read())
assert answer.get("status") == "ok" and "category" in answer, answer
print(f"  haswell serve: /health 200, /predict judged a frame: {answer['category']}")
PY
kill "$server"; wait "$server" 2>/dev/null || true; server=""

# bf16 and int8 asked of a CPU without AVX-512: refused at start, naming what is missing.
for precision in bf16 int8; do
    expect_refusal nonzero "precision '$precision' needs" "pcb serve --precision $precision should be refused on a CPU without AVX-512" \
        haswell "$pcb" serve --port 0 --model "$model" --data-dir "$work/var2" --precision "$precision"
    echo "  haswell serve --precision $precision: $(echo "$refusal" | grep -o "precision '$precision' needs[^;]*" | head -1)"
done

# Below the baseline: refused in words.
expect_refusal 3 "lacks AVX2 or FMA" "on a CPU without AVX2, pcb should refuse with exit 3" qemu-x86_64 -cpu Nehalem "$pcb" engine info
echo "  nehalem: $(echo "$refusal" | grep 'lacks AVX2')"
echo "portability check: passed"
