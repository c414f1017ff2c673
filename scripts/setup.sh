#!/usr/bin/env bash
# Installs everything tabula needs on Debian 12: compilers and libraries from Debian's packages,
# and the Python packages for the conformance tests in a virtual environment (.venv).
# The CUDA toolkit is not installed here: where nvcc is present, the CUDA backend is built too.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build ccache git pkg-config
  clang clang-format libclang-rt-14-dev
  libeigen3-dev libopenblas-dev libcli11-dev nlohmann-json3-dev libfast-float-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libtomlplusplus-dev
  libboost-dev zlib1g-dev liblzma-dev libbz2-dev libzstd-dev libdeflate-dev libsqlite3-dev sqlite3
  libpq-dev postgresql libonnx-dev libprotobuf-dev
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler
  libopenmpi-dev openmpi-bin
  nginx-light faketime time
  chromium
  gzip xz-utils bzip2 zstd
  python3 python3-venv python3-dev
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages already installed"
fi

# Debian's own Python refuses global pip installs, so Python-side tests run in .venv.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
echo "setup: done (python: $(.venv/bin/python --version))"
