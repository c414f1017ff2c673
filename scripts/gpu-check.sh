#!/usr/bin/env bash
# Builds the CUDA configuration from this tree plus deps/ (scripts/pack-deps.sh), then runs the
# GPU parity tests, the unit tests and the GPU benchmarks, on a machine with an NVIDIA GPU, the
# CUDA toolkit, CMake and Python but no package manager. Every step is timed and logged to
# gpu-check-out/<step>.log; a failed step is recorded and the script goes on. The summary table
# is printed last; the exit status is non-zero when any step failed.
#
# Usage (from anywhere): scripts/gpu-check.sh
# Environment: JOBS (default 16), BUILD_DIR (default build-gpu), CUDA_ARCHS (default 90),
#              BENCH_LIMIT_S (per benchmark, default 90), BUDGET_S (whole run, default 480).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2
out="$root/gpu-check-out"
build="$root/${BUILD_DIR:-build-gpu}"
jobs="${JOBS:-16}"
archs="${CUDA_ARCHS:-90}"
bench_limit="${BENCH_LIMIT_S:-90}"
budget="${BUDGET_S:-480}"
started=$(date +%s)

rm -rf "$out"
mkdir -p "$out"

rows=()     # one markdown row per step
failed=0

seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Key figures: each reads a step's log and prints one short line.
figure_none() { :; }
figure_gpu() { grep -m1 '^GPU 0' "$1" | sed 's/ (UUID.*//'; }
figure_configure() { grep -m1 -o 'CUDA [0-9.]*, architectures [^ ]*' "$1"; }
figure_build() { grep -c -E '(Building|Linking)' "$1" | sed 's/$/ build steps/'; }
figure_devices() { grep -m1 '^cuda:0' "$1" | tr -s ' ' || grep -m1 '^CUDA:' "$1"; }
figure_gtest() {
  local passed failed_count skipped
  passed=$(grep -o '\[  PASSED  \] [0-9]*' "$1" | grep -o '[0-9]*$' | tail -1)
  failed_count=$(grep -o '\[  FAILED  \] [0-9]* test' "$1" | grep -o '[0-9]* ' | tail -1)
  skipped=$(grep -o '\[  SKIPPED \] [0-9]* test' "$1" | grep -o '[0-9]* ' | tail -1)
  echo "${passed:-0} passed, ${failed_count:-0} failed, ${skipped:-0} skipped" | tr -s ' '
}
figure_ctest() { grep -m1 -E 'tests passed|tests failed' "$1"; }
# The last two lines that are not JSON (benchmarks end with their result table, then JSON).
figure_bench() { grep -v -E '^[[:space:]]*[{[]' "$1" | tail -2 | tr -s ' ' | paste -sd '/' | cut -c1-120; }

# run_step NAME LIMIT_S FIGURE_FN COMMAND...: runs COMMAND with a time limit, logs, records.
run_step() {
  local name="$1" limit="$2" figure_fn="$3"
  shift 3
  local log="$out/$name.log" start rc status seconds figure
  start=$(date +%s.%N)
  echo "==> $name: $*"
  { echo "\$ $*"; echo; } >"$log"
  timeout --kill-after=10 "$limit" "$@" >>"$log" 2>&1
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
  tail -n 4 "$log" | sed 's/^/    /'
  echo "    -> $status in ${seconds} s ${figure:+($figure)}"
  rows+=("| $name | $status | $seconds | ${figure//|//} |")
  return $rc
}

skip_step() {
  rows+=("| $1 | skipped | 0 | $2 |")
  failed=1
}

# A step deliberately not run; not a failure.
note_step() { rows+=("| $1 | not run | 0 | $2 |"); }

# ---- The machine -------------------------------------------------------------------------------
{
  echo "# tabula gpu-check, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(hostname)"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi -L 2>&1 || echo "nvidia-smi -L failed"
  echo "driver: $(nvidia-smi --query-gpu=driver_version,name,memory.total --format=csv,noheader 2>&1 | head -1)"
  if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
    export PATH="/usr/local/cuda/bin:$PATH"
  fi
  echo "nvcc: $(nvcc --version 2>&1 | grep -m1 release || echo missing)"
  echo "cmake: $(cmake --version 2>&1 | head -1)"
  echo "cores: $(nproc)"
} | tee "$out/machine.txt"
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi

run_step gpu 30 figure_gpu nvidia-smi -L

# ---- Configure and build -----------------------------------------------------------------------
generator="Unix Makefiles"
command -v ninja >/dev/null && generator="Ninja"
if [[ ! -d "$root/deps/include" ]]; then
  echo "deps/ is missing: run scripts/pack-deps.sh on the development machine and copy deps/ here" \
    >"$out/configure.log"
  skip_step configure "deps/ missing (scripts/pack-deps.sh)"
else
  run_step configure 120 figure_configure \
    cmake -S "$root" -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DTABULA_CUDA=ON \
    -DTABULA_DEPS_DIR="$root/deps" -DCMAKE_CUDA_ARCHITECTURES="$archs" \
    -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" -DTABULA_BUILD_TESTS=ON \
    -DTABULA_BUILD_BENCHMARKS=ON
fi

# The program and the tests first, so a benchmark that does not build cannot hide them.
run_step build 420 figure_build \
  cmake --build "$build" -j "$jobs" --target tabula tabula_parity_tests tabula_unit_tests

# ---- Tests -------------------------------------------------------------------------------------
run_step devices 60 figure_devices \
  bash -c "'$build/tabula' devices && '$build/tabula' devices | grep -q '^cuda:0'"
# GPU cases must run: TABULA_REQUIRE_GPU=1 turns a skip into a failure.
run_step parity 300 figure_gtest \
  env TABULA_REQUIRE_GPU=1 "$build/tests/tabula_parity_tests" --gtest_color=no
run_step unit 300 figure_ctest \
  env TABULA_REQUIRE_GPU=1 ctest --test-dir "$build" -L unit -j "$jobs" --timeout 120 \
  --output-on-failure

# ---- GPU benchmarks ----------------------------------------------------------------------------
run_step build_benchmarks 300 figure_build cmake --build "$build" -j "$jobs"
mapfile -t benches < <(find "$build" -maxdepth 3 -type f -name 'bench_*' -perm -u+x | sort)
ran_gram=0
for bench in "${benches[@]}"; do
  name="$(basename "$bench")"
  help="$(timeout 20 "$bench" --help 2>&1)"
  if ! grep -q -- '--device' <<<"$help"; then
    echo "==> $name: no --device option, not a GPU benchmark" >>"$out/benchmarks-skipped.txt"
    continue
  fi
  if grep -q 'REQUIRED' <<<"$help"; then
    note_step "$name" "needs input files (REQUIRED options); its Python driver runs it"
    continue
  fi
  if (($(date +%s) - started > budget)); then
    skip_step "$name" "time budget of $budget s spent"
    continue
  fi
  [[ $name == bench_gram ]] && ran_gram=1
  run_step "$name" "$bench_limit" figure_bench "$bench" --device cuda:0
done
((ran_gram)) || skip_step bench_gram "bench_gram with --device was not built"

# Python drivers (peer comparisons) that take --device: GPU side only, no peers.
python="${PYTHON:-python3}"
[[ -x "$root/.venv/bin/python" && -z "${PYTHON:-}" ]] && python="$root/.venv/bin/python"
for script in "$root"/benchmarks/*/bench_*.py; do
  [[ -f $script ]] || continue
  name="$(basename "$script" .py).py"
  help="$(timeout 60 "$python" "$script" --help 2>&1)"
  grep -q -- '--device' <<<"$help" || continue
  if (($(date +%s) - started > budget)); then
    skip_step "$name" "time budget of $budget s spent"
    continue
  fi
  args=(--device cuda:0)
  grep -q -- '--skip-sklearn' <<<"$help" && args+=(--skip-sklearn)
  # Its native program, when it takes one: bench_linear.py drives build-gpu's bench_linear.
  native="$build/benchmarks/${name%.py}"
  grep -q -- '--bench' <<<"$help" && [[ -x $native ]] && args+=(--bench "$native")
  grep -q -- '--out' <<<"$help" && args+=(--out "$out/${name%.py}.md")
  run_step "$name" $((2 * bench_limit)) figure_bench env PYTHONUNBUFFERED=1 "$python" "$script" \
    "${args[@]}"
done

# ---- Summary, printed last ---------------------------------------------------------------------
{
  echo
  echo "## gpu-check summary ($(head -1 "$out/machine.txt" | sed 's/^# tabula gpu-check, //'))"
  echo "$(grep -m1 '^driver:' "$out/machine.txt")"
  echo
  echo "| step | status | seconds | key figure |"
  echo "| --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "total: $(($(date +%s) - started)) s; logs in gpu-check-out/; result: $( ((failed)) && echo FAILED || echo ok)"
} | tee "$out/summary.md"
exit "$failed"
