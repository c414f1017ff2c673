#!/usr/bin/env bash
# The CUDA backend is a plugin loaded only when needed: a run on the CPU never loads it (nor
# cuBLAS/cuSOLVER), probing loads it only where an NVIDIA driver reports a device, and asking for
# a CUDA device that cannot be used is one clear error, never a crash. The dynamic loader's own
# trace (LD_DEBUG=files) says which libraries a run opened.
# Usage: cuda_plugin_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
REG=$SRC/tests/data/regression_small.csv
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# traced NAME CMD...: runs CMD with the loader's trace in $WORK/NAME.trace.*; sets rc.
traced() {
  local name=$1; shift
  LD_DEBUG=files LD_DEBUG_OUTPUT="$WORK/$name.trace" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
  rc=$?
}
opened() { cat "$WORK/$1".trace.* 2>/dev/null | grep -E "file=[^ ]*$2" | head -1; }

"$TABULA" --device cpu train --data "$REG" --target y --model ridge --out "$WORK/m.tbl" \
  >/dev/null 2>&1 || fail "train on the CPU failed"

# 1. The CPU never loads the plugin or CUDA's libraries.
traced cpu "$TABULA" --device cpu predict --model "$WORK/m.tbl" --data "$REG" --out "$WORK/p.csv"
[ "$rc" -eq 0 ] || fail "predict --device cpu exited $rc: $(cat "$WORK/err.txt")"
for lib in libtabula_cuda libcublas libcusolver; do
  [ -z "$(opened cpu "$lib")" ] || fail "predict --device cpu loaded $lib: $(opened cpu "$lib")"
done

# 2. Probing: the plugin is loaded only where the driver reports a device.
traced probe "$TABULA" devices
[ "$rc" -eq 0 ] || fail "devices exited $rc: $(cat "$WORK/err.txt")"
cp "$WORK/out.txt" "$WORK/devices.txt"
if grep -q '^cuda:0' "$WORK/devices.txt"; then
  [ -n "$(opened probe libtabula_cuda)" ] || fail "devices lists cuda:0 without the plugin?"
else
  reason=$(grep '^CUDA: ' "$WORK/devices.txt")
  [ -n "$reason" ] || fail "devices shows no CUDA device and no reason: $(cat "$WORK/devices.txt")"
  if grep -qE 'no NVIDIA driver|no CUDA device was found|without CUDA' <<<"$reason"; then
    [ -z "$(opened probe libcublas)" ] || fail "devices loaded cuBLAS: $reason"
  fi

  # 3. Asking for cuda:0 there is one error line naming the reason, exit 1, no output file.
  "$TABULA" --device cuda:0 predict --model "$WORK/m.tbl" --data "$REG" --out "$WORK/g.csv" \
    >"$WORK/out.txt" 2>"$WORK/err.txt"
  rc=$?
  [ "$rc" -eq 1 ] || fail "predict --device cuda:0 without a device exited $rc"
  grep -qF "cuda:0 requested, but ${reason#CUDA: }" "$WORK/err.txt" ||
    fail "predict --device cuda:0: message lacks the reason: $(cat "$WORK/err.txt")"
  [ ! -e "$WORK/g.csv" ] || fail "predict --device cuda:0 wrote an output file"
fi

# 4. device=auto without a usable device falls back to the CPU, with the same predictions.
if ! grep -q '^cuda:0' "$WORK/devices.txt"; then
  "$TABULA" predict --model "$WORK/m.tbl" --data "$REG" --out "$WORK/a.csv" >/dev/null \
    2>"$WORK/err.txt" || fail "predict with device auto failed: $(cat "$WORK/err.txt")"
  cmp -s "$WORK/a.csv" "$WORK/p.csv" || fail "device auto and cpu give different predictions"
fi

[ "$failures" -eq 0 ] && echo "cuda_plugin_test: ok"
exit "$failures"
