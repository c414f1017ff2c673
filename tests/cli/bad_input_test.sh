#!/usr/bin/env bash
# Every kind of bad input: tabula exits non-zero, names file:line (and column) in one error
# message on stderr, and prints nothing on stdout.
# Usage: bad_input_test.sh TABULA_BINARY SOURCE_DIR
set -uo pipefail
tabula=$1
bad=$2/tests/data/bad
data=$2/tests/data
failures=0

check() {  # check EXPECTED_STDERR_REGEX ARGS...
  local pattern=$1
  shift
  local stdout stderr code
  stderr=$("$tabula" "$@" 2>&1 >/tmp/tabula_bad_input_stdout.$$)
  code=$?
  stdout=$(cat /tmp/tabula_bad_input_stdout.$$)
  rm -f /tmp/tabula_bad_input_stdout.$$
  if [[ $code -eq 0 ]]; then
    echo "FAIL: tabula $* exited 0"; failures=$((failures + 1)); return
  fi
  if [[ -n $stdout ]]; then
    echo "FAIL: tabula $* printed on stdout: $stdout"; failures=$((failures + 1)); return
  fi
  if ! grep -Eq -- "$pattern" <<<"$stderr"; then
    echo "FAIL: tabula $*: stderr does not match /$pattern/: $stderr"; failures=$((failures + 1))
    return
  fi
  if [[ $(grep -c . <<<"$stderr") -ne 1 ]]; then
    echo "FAIL: tabula $*: expected one error line, got: $stderr"; failures=$((failures + 1))
  fi
}

check 'no_such\.csv: cannot open: No such file' describe --data "$bad/no_such.csv"
check 'empty\.csv:1: the file is empty' describe --data "$bad/empty.csv"
check 'header_only\.csv:1: the file has a header but no data rows' describe --data "$bad/header_only.csv"
check "empty_name\.csv:1: column 2: empty column name" describe --data "$bad/empty_name.csv"
check "duplicate_names\.csv:1: column 3 \('a'\): duplicate column name \(also column 1\)" \
  describe --data "$bad/duplicate_names.csv"
check 'ragged\.csv:3: wrong number of fields: expected 3 \(as in the header\), found 2' \
  describe --data "$bad/ragged.csv"
check "unterminated_quote\.csv:3: column 2 \('b'\): unterminated quoted field" \
  describe --data "$bad/unterminated_quote.csv"
check "invalid_utf8\.csv:3: column 2 \('b'\): invalid UTF-8" describe --data "$bad/invalid_utf8.csv"
check "mixed\.csv:1: column 'label': target column not found in the header; columns: 'id', 'city'" \
  describe --data "$data/mixed.csv" --target label
check "not_numeric\.csv:4: column 1 \('a'\): value 'five' is not a number" \
  describe --data "$bad/not_numeric.csv" --numeric a
check "mixed\.csv:1: column 'nope': forced categorical, but not found" \
  describe --data "$data/mixed.csv" --categorical nope
check "truncated\.npy: not a readable \.npy file: truncated data" describe --data "$data/npy/truncated.npy"
check "i8\.npy: .*dtype '<i8' is not supported" describe --data "$data/npy/i8.npy"

# Formats are recognised by content, not by name: a zip archive named .csv is refused by name of
# its format, not as "invalid UTF-8"; a truncated gzip file says so (compressed files that are
# whole are read: tests/cli/csv_dialect_test.sh).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$tabula" train --device cpu --model linear --data "$data/regression_small.csv" --target y \
  --out "$work/plain.tabula" >/dev/null 2>&1 || { echo "FAIL: training on the plain CSV"; failures=$((failures + 1)); }
python3 - "$data/regression_small.csv" "$work" <<'PY'
import gzip, sys, zipfile
with zipfile.ZipFile(f"{sys.argv[2]}/zip.csv", "w") as z:
    z.write(sys.argv[1], "data.csv")
packed = gzip.compress(open(sys.argv[1], "rb").read())
open(f"{sys.argv[2]}/cut.csv", "wb").write(packed[: len(packed) // 2])
PY
check "zip\.csv' is a zip archive, not a CSV file" describe --data "$work/zip.csv"
check "zip\.csv' is a zip archive, not a CSV file" \
  train --device cpu --model linear --data "$work/zip.csv" --target y --out "$work/model.tabula"
check "zip\.csv' is a zip archive, not a CSV file" \
  predict --device cpu --model "$work/plain.tabula" --data "$work/zip.csv" --out "$work/p.csv"
check "cut\.csv': the gzip data ends early" describe --data "$work/cut.csv"
check "cut\.csv': the gzip data ends early" \
  predict --device cpu --model "$work/plain.tabula" --data "$work/cut.csv" --out "$work/p.csv"

if [[ $failures -ne 0 ]]; then
  echo "bad_input_test: $failures failure(s)"
  exit 1
fi
echo "bad_input_test: ok"
