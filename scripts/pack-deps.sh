#!/usr/bin/env bash
# Packs the header-only dependencies and googletest's source into deps/ (git-ignored), so the
# tree builds with `cmake -DTABULA_DEPS_DIR=deps` on a machine that has only a C++ compiler,
# CMake, nvcc and Python (scripts/gpu-check.sh). Run it on a Debian 12 machine where
# scripts/setup.sh installed the packages.
#
# Usage: scripts/pack-deps.sh [output folder]
#        scripts/pack-deps.sh --check BUILD_DIR
# --check stands in for a machine without the packages: after a Ninja build configured with
# -DTABULA_DEPS_DIR, it fails when any compiled file read a header of the Debian packages
# (ninja's dependency log) or any program links one of their libraries (ldd).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ ${1:-} == --check ]]; then
  build="${2:?usage: scripts/pack-deps.sh --check BUILD_DIR}"
  grep -q '^TABULA_DEPS_DIR:PATH=.\+' "$build/CMakeCache.txt" ||
    { echo "pack-deps --check: $build was not configured with -DTABULA_DEPS_DIR" >&2; exit 1; }
  packaged='/usr/(include|src)/(eigen3|CLI|nlohmann|fast_float|spdlog|fmt|toml\+\+|gtest|gmock|googletest|benchmark|httplib|.*openblas|cblas)'
  headers=$(ninja -C "$build" -t deps | grep -E "^[[:space:]]+$packaged" | sort -u || true)
  libraries=""
  while IFS= read -r program; do
    found=$(ldd "$program" 2>/dev/null |
      grep -E 'lib(spdlog|fmt|gtest|gmock|openblas|blas|lapack|tomlplusplus|cpp-httplib|benchmark)\.' || true)
    [[ -n $found ]] && libraries+="$program:"$'\n'"$found"$'\n'
  done < <(find "$build" -type f -perm -u+x \( -name tabula -o -name 'tabula_*' -o -name 'bench_*' \))
  checked=$(ninja -C "$build" -t deps | grep -c -E '^[[:space:]]+/' || true)
  if [[ -n $headers || -n $libraries ]]; then
    echo "pack-deps --check: $build uses the Debian packages, not deps/ only:"
    [[ -n $headers ]] && echo "$headers"
    [[ -n $libraries ]] && echo "$libraries"
    exit 1
  fi
  echo "pack-deps --check: $build read no packaged header ($checked header reads checked) and" \
    "links no packaged library"
  exit 0
fi

out="${1:-$root/deps}"

need() {
  if [[ ! -e "$1" ]]; then
    echo "pack-deps: $1 is missing; install $2 (scripts/setup.sh)" >&2
    exit 1
  fi
}
need /usr/include/eigen3/Eigen/Core libeigen3-dev
need /usr/include/CLI/CLI.hpp libcli11-dev
need /usr/include/nlohmann/json.hpp nlohmann-json3-dev
need /usr/include/fast_float/fast_float.h libfast-float-dev
need /usr/include/spdlog/spdlog.h libspdlog-dev
need /usr/include/fmt/format-inl.h libfmt-dev
need /usr/src/googletest/CMakeLists.txt libgtest-dev
need /usr/include/toml++/toml.h libtomlplusplus-dev

rm -rf "$out"
mkdir -p "$out/include/eigen3"
# Eigen: the library itself, without the unsupported modules and docs.
cp -r /usr/include/eigen3/Eigen "$out/include/eigen3/"
cp /usr/include/eigen3/signature_of_eigen3_matrix_library "$out/include/eigen3/" 2>/dev/null || true
cp -r /usr/include/CLI /usr/include/nlohmann /usr/include/fast_float "$out/include/"
# spdlog and fmt headers work header-only (SPDLOG_HEADER_ONLY, FMT_HEADER_ONLY, set by
# cmake/Dependencies.cmake): Debian ships the -inl.h implementation files with the headers.
cp -r /usr/include/spdlog /usr/include/fmt "$out/include/"
# toml++ works header-only too (TOML_HEADER_ONLY=1).
cp -r /usr/include/toml++ "$out/include/"
# googletest (with googlemock, which its CMakeLists expects): built from source by tests/.
cp -r /usr/src/googletest "$out/googletest"

cat > "$out/README.md" <<README
Packed by scripts/pack-deps.sh on $(date -u +%Y-%m-%d) from Debian packages:
$(dpkg-query -W -f='  ${Package} ${Version}\n' libeigen3-dev libcli11-dev nlohmann-json3-dev \
    libfast-float-dev libspdlog-dev libfmt-dev libgtest-dev libtomlplusplus-dev 2>/dev/null)
Use: cmake -S . -B build -DTABULA_DEPS_DIR=\$PWD/deps
README
du -sh "$out" | awk '{print "pack-deps: wrote " $2 " (" $1 ")"}'
