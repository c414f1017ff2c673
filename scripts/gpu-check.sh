#!/usr/bin/env bash
# The first run on a GPU machine, as one bounded script: build the CUDA configuration from this
# tree plus deps/ (scripts/pack-deps.sh; no package manager needed), then the GPU tests, then
# short benchmarks, in that order. Every step is timed, limited and logged to
# gpu-check-out/<step>.log; after EACH step the logs and the summary table so far
# (gpu-check-out/summary.md) are copied to $OUT when it is set, so a run cut short still returns
# them. A failed step is recorded and the script goes on; once the device step fails, the steps
# that need a device are skipped with that reason. Exit status: non-zero when any step failed.
#
# Usage (from anywhere): scripts/gpu-check.sh
# Environment:
#   BUDGET_S      the whole run, seconds (default 300); a step never runs past it
#   BUILD_LIMIT_S the build step's own limit (default 240)
#   JOBS          build jobs (default: nproc)
#   BUILD_DIR     build folder (default build-gpu; reused, so a second run is incremental)
#   CUDA_ARCHS    CMAKE_CUDA_ARCHITECTURES (default 90: H100/H200)
#   CHECK_DEVICE  the device under test (default cuda:0); `cpu` runs every step on the CPU, a
#                 dry run of the commands on a machine without a GPU
#   ROWS          rows of the forest and batch-scoring data (default 1000000)
#   PYTHON        Python with numpy (and scikit-learn for bench_linear.py; default python3)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2
out="$root/gpu-check-out"
work="$out/work"  # generated data and models: not copied to $OUT
dest="${OUT:-}"
build="$root/${BUILD_DIR:-build-gpu}"
jobs="${JOBS:-$(nproc)}"
archs="${CUDA_ARCHS:-90}"
budget="${BUDGET_S:-300}"
device="${CHECK_DEVICE:-cuda:0}"
rows="${ROWS:-1000000}"
python="${PYTHON:-python3}"
started=$(date +%s)

self="$root/scripts/gpu-check.sh"

# ---- Steps with more than one command, run as `gpu-check.sh --step NAME` under run_step's limit
step_forest_data() {  # one synthetic 28-feature binary task, as benchmarks/forest/bench_forest.py
  "$python" - "$work" "$rows" <<'PY'
import sys, numpy as np
work, rows = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
for name, n in (("train", rows), ("test", max(rows // 5, 1000))):
    x = rng.standard_normal((n, 28), dtype=np.float32)
    score = x[:, 0] + 0.5 * x[:, 1] * x[:, 2] - np.abs(x[:, 3]) + 0.3 * rng.standard_normal(n)
    np.save(f"{work}/{name}_x.npy", x)
    np.save(f"{work}/{name}_y.npy", (score > 0).astype(np.float64))
    print(f"{name}: {n} x 28")
PY
}

step_forest_same() {  # the CPU walk, the device walk and the device fit give the same bits
  "$python" - "$out" "$work" <<'PY'
import json, sys, numpy as np
out, work = sys.argv[1], sys.argv[2]
def last_json(path):
    return json.loads([l for l in open(path) if l.startswith("{")][-1])
cpu, dev = last_json(f"{out}/forest_cpu.log"), last_json(f"{out}/forest_walk.log")
h = 1469598103934665603  # FNV-1a over the probabilities' bytes, as bench_forest_predict
for b in np.load(f"{work}/proba_device.npy").astype("<f8").tobytes():
    h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
fit = format(h, "016x")
print(f"walk cpu {cpu['hash']}, walk device {dev['hash']}, device fit {fit}:",
      "identical" if cpu["hash"] == dev["hash"] == fit else "DIFFERENT")
sys.exit(0 if cpu["hash"] == dev["hash"] == fit else 1)
PY
}

step_batch_same() {
  set -e
  "$python" - "$work" <<'PY'
import sys, numpy as np
work = sys.argv[1]
x, y = np.load(f"{work}/test_x.npy"), np.load(f"{work}/test_y.npy")
np.savetxt(f"{work}/batch.csv", np.column_stack([x, y]), fmt="%.7g", delimiter=",",
           header=",".join([f"f{j}" for j in range(28)] + ["y"]), comments="")
PY
  "$build/tabula" --device cpu --threads "$jobs" train --data "$work/batch.csv" --target y \
    --model forest --param n_estimators=100 --param max_depth=12 --test-size 0 \
    --out "$work/batch.tabula"
  local d start
  for d in cpu "$device"; do
    start=$(date +%s.%N)
    "$build/tabula" --device "$d" --threads "$jobs" predict --model "$work/batch.tabula" \
      --data "$work/batch.csv" --out "$work/batch_$d.csv" --proba
    echo "predict on $d: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }') s"
  done
  cmp "$work/batch_cpu.csv" "$work/batch_$device.csv"
  echo "batch output identical on cpu and $device ($(wc -l <"$work/batch_cpu.csv") lines)"
}

if [[ ${1:-} == --step ]]; then
  "step_$2"
  exit
fi

rm -rf "$out"
mkdir -p "$out" "$work"
[[ -n $dest ]] && mkdir -p "$dest"

table=()  # one markdown row per step
failed=0
device_ok=1  # cleared when the device step fails

seconds_left() { echo $((budget - ($(date +%s) - started))); }
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
json_field() { grep -o "\"$2\":[^,}]*" "$1" | tail -1 | cut -d: -f2- | tr -d '"'; }

write_summary() {
  echo "## gpu-check summary ($(head -1 "$out/machine.txt" | sed 's/^# tabula gpu-check, //'))"
  grep -m1 '^driver:' "$out/machine.txt"
  grep -m1 '^nvcc:' "$out/machine.txt"
  echo
  echo "| step | status | seconds | key figure |"
  echo "| --- | --- | --- | --- |"
  printf '%s\n' "${table[@]}"
  echo
  echo "elapsed: $(($(date +%s) - started)) s of a $budget s budget; device under test: $device;" \
    "result so far: $( ((failed)) && echo FAILED || echo ok)"
}

# Copies what we have to $OUT: called after every step, so a timeout loses nothing.
publish() {
  write_summary >"$out/summary.md"
  if [[ -n $dest ]]; then
    find "$out" -maxdepth 1 -type f \( -name '*.log' -o -name '*.md' -o -name '*.txt' \) \
      -exec cp -f {} "$dest/" \;
  fi
}

skip_step() {
  table+=("| $1 | skipped | 0 | $2 |")
  failed=1
  echo "==> $1: skipped ($2)"
  publish
}

# run_step NAME LIMIT_S FIGURE_FN COMMAND...: runs COMMAND within min(LIMIT_S, budget left),
# logs it, records a row and publishes.
run_step() {
  local name="$1" limit="$2" figure_fn="$3"
  shift 3
  local left log="$out/$name.log" start rc status seconds figure
  left=$(($(seconds_left) - 3))
  if ((left < 5)); then
    skip_step "$name" "time budget of $budget s spent"
    return 1
  fi
  ((limit > left)) && limit=$left
  start=$(date +%s.%N)
  echo "==> $name (limit ${limit} s): $*"
  { echo "\$ $*"; echo; } >"$log"
  timeout --kill-after=5 "$limit" "$@" >>"$log" 2>&1
  rc=$?
  seconds=$(seconds_since "$start")
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    status="TIMEOUT (${limit} s)"
  elif [[ $rc -ne 0 ]]; then
    status="FAILED (exit $rc)"
  else
    status="ok"
  fi
  [[ $status == ok ]] || failed=1
  figure=$("$figure_fn" "$log" 2>/dev/null | head -1)
  tail -n 3 "$log" | cut -c1-200 | sed 's/^/    /'
  echo "    -> $status in ${seconds} s ${figure:+($figure)}"
  table+=("| $name | $status | $seconds | ${figure//|//} |")
  publish
  return $rc
}

# A step that needs the device under test: skipped once the device step has failed.
device_step() {
  if ((!device_ok)); then
    skip_step "$1" "no usable device $device (see devices.log)"
    return 1
  fi
  run_step "$@"
}

# ---- Key figures: each reads a step's log and prints one short line ---------------------------
figure_none() { :; }
figure_gpu() { grep -m1 '^GPU 0' "$1" | sed 's/ (UUID.*//'; }
figure_configure() { grep -m1 -o 'CUDA=[A-Z]* BLAS=[A-Za-z]*' "$1"; }
figure_build() { grep -c -E '(Building|Linking)' "$1" | sed 's/$/ build steps/'; }
figure_devices() { grep -m1 -E "^${device%%:*}(:0)? " "$1" | tr -s ' ' | cut -c1-100 || grep -m1 '^CUDA:' "$1"; }
figure_gtest() {
  local passed failed_count skipped
  passed=$(grep -o '\[  PASSED  \] [0-9]*' "$1" | grep -o '[0-9]*$' | tail -1)
  failed_count=$(grep -o '\[  FAILED  \] [0-9]* test' "$1" | grep -o '[0-9]* ' | tail -1)
  skipped=$(grep -o '\[  SKIPPED \] [0-9]* test' "$1" | grep -o '[0-9]* ' | tail -1)
  echo "${passed:-0} passed, ${failed_count:-0} failed, ${skipped:-0} skipped" | tr -s ' '
}
figure_pool() { echo "$(figure_gtest "$1"); $(grep -c 'no stream-ordered memory pool' "$1") fallback line(s)"; }
figure_ctest() { grep -m1 -E 'tests passed|tests failed' "$1"; }
figure_fit() {
  printf 'fit %.2f s, predict %.3f s on %s\n' "$(json_field "$1" fit_s)" \
    "$(json_field "$1" predict_s)" "$(json_field "$1" device)"
}
figure_walk() {
  echo "$(json_field "$1" rows_per_s | awk '{printf "%.3g", $1}') rows/s on $(json_field "$1" device), hash $(json_field "$1" hash)"
}
figure_gram() { grep -E '^(dgemm peak|float|double)' "$1" | tr -s ' ' | paste -sd ';' | cut -c1-160; }
# bench_linear.py prints one Python tuple per workload: (name, seconds, peer, ...).
figure_linear() { grep "^('" "$1" | awk -F"', '" '{ sub(/^\(\x27/, "", $1); printf "%s %s s; ", $1, $2 }' | cut -c1-220; }
figure_last() { grep -v -E '^[[:space:]]*[{[]' "$1" | tail -1 | tr -s ' ' | cut -c1-160; }

# ---- The machine -------------------------------------------------------------------------------
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
{
  echo "# tabula gpu-check, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(hostname)"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi -L 2>&1
    echo "driver: $(nvidia-smi --query-gpu=driver_version,name,memory.total --format=csv,noheader 2>&1 | head -1)"
  else
    echo "driver: unknown (no nvidia-smi on PATH)"
  fi
  echo "nvcc: $(nvcc --version 2>&1 | grep -m1 release || echo missing)"
  echo "cmake: $(cmake --version 2>&1 | head -1)"
  echo "cpu: $(lscpu 2>/dev/null | grep -m1 'Model name' | sed 's/.*: *//'), $(nproc) cores"
  echo "python: $("$python" -c 'import sys, numpy; print(sys.version.split()[0], "numpy", numpy.__version__)' 2>&1 | tail -1)"
} >"$out/machine.txt"
cat "$out/machine.txt"
publish

# ---- Build: first, so nothing later can starve it ----------------------------------------------
run_step gpu 15 figure_gpu nvidia-smi -L

generator="Unix Makefiles"
command -v ninja >/dev/null && generator="Ninja"
[[ -f $build/CMakeCache.txt ]] && generator="$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build/CMakeCache.txt")"
if [[ ! -f "$root/deps/include/eigen3/Eigen/Core" || ! -f "$root/deps/googletest/CMakeLists.txt" ]]; then
  echo "deps/ is missing or incomplete: run scripts/pack-deps.sh where the Debian packages are," \
    "then bring deps/ along (device tool: carry=[\"deps\"])" >"$out/configure.log"
  skip_step configure "deps/ missing (scripts/pack-deps.sh)"
else
  run_step configure 90 figure_configure \
    cmake -S "$root" -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DTABULA_CUDA=ON \
    -DTABULA_DEPS_DIR="$root/deps" -DCMAKE_CUDA_ARCHITECTURES="$archs" \
    -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" -DTABULA_BUILD_TESTS=ON \
    -DTABULA_BUILD_BENCHMARKS=ON
fi
# Always run, also when configure failed over a reused cache: the build says what is wrong.
# Keep going past a failing target, so one broken benchmark cannot hide the tests.
keep_going=(-k 0)
[[ $generator == "Unix Makefiles" ]] && keep_going=(-k)
run_step build "${BUILD_LIMIT_S:-240}" figure_build \
  cmake --build "$build" -j "$jobs" --target tabula tabula_parity_tests tabula_unit_tests \
  bench_gram bench_linear bench_forest_driver bench_forest_predict -- "${keep_going[@]}"

# ---- Tests -------------------------------------------------------------------------------------
require_gpu=()
[[ $device == cuda* ]] && require_gpu=(TABULA_REQUIRE_GPU=1)
run_step devices 20 figure_devices \
  bash -c "'$build/tabula' devices && '$build/tabula' devices | grep -q '^${device%%:*}'" ||
  device_ok=0
# GPU cases must run: TABULA_REQUIRE_GPU=1 turns a skip into a failure.
device_step parity 90 figure_gtest \
  env "${require_gpu[@]}" "$build/tests/tabula_parity_tests" --gtest_color=no
# The cudaMalloc fallback of the memory pool (virtualised GPUs), forced on this card.
device_step pool_fallback 45 figure_pool \
  env "${require_gpu[@]}" TABULA_CUDA_NO_POOL=1 "$build/tests/tabula_parity_tests" \
  --gtest_color=no --gtest_filter='*Gram*:*Cholesky*:ForestParity.CudaGrowsTheCpuTreesBitForBit'
device_step unit 90 figure_ctest \
  env "${require_gpu[@]}" ctest --test-dir "$build" -LE parity -j "$jobs" --timeout 60 \
  --output-on-failure

# ---- Short benchmarks, last ------------------------------------------------------------------
# Forest: one synthetic 28-feature binary task (as benchmarks/forest/bench_forest.py).
device_step forest_data 30 figure_last "$self" --step forest_data
forest_params=(--param n_estimators=100 --param max_depth=12)
device_step forest_fit 60 figure_fit \
  "$build/benchmarks/forest/bench_forest_driver" --device "$device" --threads "$jobs" --seed 7 \
  --train-x "$work/train_x.npy" --train-y "$work/train_y.npy" --test-x "$work/test_x.npy" \
  --out "$work/proba_device.npy" "${forest_params[@]}"
# The same forest fitted on the CPU (all cores) and walked there, then walked on the device: the
# two walks, and the device fit above, must give the same probability bits.
device_step forest_cpu 90 figure_walk \
  "$build/benchmarks/forest/bench_forest_predict" --device cpu --threads "$jobs" \
  --model "$work/forest.tabula" --train-x "$work/train_x.npy" --train-y "$work/train_y.npy" \
  --x "$work/test_x.npy" --repeat 3 "${forest_params[@]}"
device_step forest_walk 30 figure_walk \
  "$build/benchmarks/forest/bench_forest_predict" --device "$device" --threads "$jobs" \
  --model "$work/forest.tabula" --x "$work/test_x.npy" --repeat 3
device_step forest_same 15 figure_last "$self" --step forest_same
# Batch scoring of a whole pipeline from a CSV file: the device's output file must be the CPU's,
# byte for byte (a forest: bit-identical probabilities). The seconds of each side are in the log.
device_step batch_same 60 figure_last "$self" --step batch_same
device_step gram 40 figure_gram \
  "$build/benchmarks/bench_gram" --device "$device" --rows 2000000 --cols 100 --runs 3
device_step linear 60 figure_linear env PYTHONUNBUFFERED=1 "$python" \
  "$root/benchmarks/linear/bench_linear.py" --device "$device" --rows "$rows" --repeat 2 \
  --threads "$jobs" --skip-sklearn --bench "$build/benchmarks/bench_linear" \
  --out "$out/linear.md"

publish
cat "$out/summary.md"
exit "$failed"
