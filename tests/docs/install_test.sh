#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: the installed program runs (--version, a small
# train and predict), every public header is installed with the generated version.hpp (which
# compiles on its own), the CUDA plugin is installed where the build made one, and README.md and
# docs/ are there.
# Usage: install_test.sh CMAKE_COMMAND BUILD_DIR SOURCE_DIR
set -uo pipefail
cmake_command=$1
build="$(realpath "$2")"
source="$(realpath "$3")"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if ! "$cmake_command" --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1; then
  cat "$prefix.log"
  rm -f "$prefix.log"
  echo "FAIL: cmake --install $build --prefix $prefix"
  exit 1
fi
rm -f "$prefix.log"

tabula="$prefix/bin/tabula"
expected="$("$build/tabula" --version)"
[[ $("$tabula" --version) == "$expected" && $expected == "tabula "* ]] ||
  fail "installed tabula --version says '$("$tabula" --version)', the build says '$expected'"

# A model trained by the installed program scores a file with it: one line per row.
cd "$prefix" || exit 1
if "$tabula" train --data "$source/data/wine.csv" --target target --model forest \
  --param n_estimators=10 --out "$prefix/wine.tbl" >/dev/null 2>&1 &&
  "$tabula" predict --model "$prefix/wine.tbl" --data "$source/data/wine.csv" \
    --out "$prefix/p.csv" >/dev/null 2>&1; then
  rows=$(($(wc -l <"$source/data/wine.csv") - 1))
  lines=$(wc -l <"$prefix/p.csv")
  [[ $((lines - 1)) -eq $rows ]] || fail "predict wrote $lines lines (header included) for $rows rows"
else
  fail "the installed tabula could not train and predict"
fi

# Every public header, and the generated version.hpp beside them.
while IFS= read -r header; do
  [[ -f $prefix/include/$header ]] || fail "header $header is not installed"
done < <(cd "$source/include" && find tabula -name '*.hpp')
[[ -f $prefix/include/tabula/version.hpp ]] || fail "the generated version.hpp is not installed"
if [[ -f $prefix/include/tabula/version.hpp ]] && command -v c++ >/dev/null; then
  printf '#include <tabula/version.hpp>\nstatic_assert(tabula::kVersionMajor >= 0);\n' |
    c++ -std=c++20 -fsyntax-only -I"$prefix/include" -x c++ - ||
    fail "the installed version.hpp does not compile"
fi

# The CUDA plugin, where this build has one, goes where the program looks: ../lib.
if [[ -f $build/libtabula_cuda.so && ! -f $prefix/lib/libtabula_cuda.so ]]; then
  fail "the CUDA plugin is not installed"
fi

for doc in README.md docs/cli.md docs/serving.md; do
  [[ -f $prefix/share/doc/tabula/$doc ]] || fail "$doc is not installed"
done

[[ $failures -eq 0 ]] && echo "install test: passed ($prefix)"
exit $((failures > 0))
