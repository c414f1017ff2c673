#!/usr/bin/env bash
# tabula describe on the fixtures in tests/data: real numbers (checked against pandas by hand,
# see docs/data-input.md), both output formats, type overrides and .npy input.
# Usage: describe_test.sh TABULA_BINARY SOURCE_DIR
set -euo pipefail
tabula=$1
data=$2/tests/data
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect NAME OUTPUT REGEX
  grep -Eq -- "$3" <<<"$2" || fail "$1: output does not match /$3/:"$'\n'"$2"
}

out=$("$tabula" describe --data "$data/mixed.csv" --target flag)
expect header "$out" '^.*mixed\.csv: 5 rows, 5 columns \(target .flag.\)$'
# pandas: id mean 3 std 1.581139; temp count 4, mean -0.625, std 19.728892, 25% -2.25, 75% 9.125
expect id "$out" '^id +5 +0 +3 +1\.58114 +1 +2 +3 +4 +5$'
expect temp "$out" '^temp +4 +1 +-0\.625 +19\.7289 +-30 +-2\.25 +7\.5 +9\.125 +12\.5$'
expect city "$out" "^city +4 +1 +3  'Paris' \(2\), 'Berlin' \(1\), 'New York, NY' \(1\)$"
expect target "$out" "^flag \(target\) +4 +1 +2  'no' \(2\), 'yes' \(2\)$"

json=$("$tabula" describe --data "$data/mixed.csv" --categorical id --json)
python3 - "$json" <<'PY' || fail "json output"
import json, sys
d = json.loads(sys.argv[1])
cols = {c["name"]: c for c in d["columns"]}
assert d["rows"] == 5, d
assert cols["id"]["type"] == "categorical" and cols["id"]["distinct"] == 5, cols["id"]
assert cols["temp"]["type"] == "numeric" and cols["temp"]["missing"] == 1
assert abs(cols["temp"]["mean"] + 0.625) < 1e-12 and cols["temp"]["max"] == 12.5
assert cols["note"]["top"][0] == {"value": "plain", "count": 1}, cols["note"]
assert all(c["role"] == "feature" for c in d["columns"])
PY

out=$("$tabula" describe --data "$data/npy/f8_2d.npy")
expect npy "$out" '^x3 +3 +0 +2\.5 +2 +0\.5 +1\.5 +2\.5 +3\.5 +4\.5$'

out=$("$tabula" describe --data "$data/crlf_bom.csv" --numeric a --json)
expect crlf "$out" '"name": "a"'

# A column of ISO dates is shown as dates, with its range; a near miss is not.
dates=$(mktemp)
printf 'when,near\n2024-03-01,2024-03-01\n2023-12-31T23:59,2024-13-01\n,2024-01-02\n' >"$dates"
out=$("$tabula" describe --data "$dates")
expect dates_text "$out" "^when .*dates 2023-12-31T23:59 \.\. 2024-03-01; "
out=$("$tabula" describe --data "$dates" --json)
expect dates_json "$out" '"first": "2023-12-31T23:59"'
[ "$(grep -c '"dates"' <<<"$out")" = 1 ] || { echo "FAIL dates: 'near' shown as dates"; exit 1; }
# --date names date columns in --date-format: shown as dates, earliest to latest by time (not
# by text); a value that is not a date in that format is an error naming it.
printf 'day,x\n05/01/2021,1\n17/02/2020,2\n01/12/2020,3\n' >"$dates"
out=$("$tabula" describe --data "$dates" --date day --date-format '%d/%m/%Y' --json)
expect date_format "$out" '"first": "17/02/2020"'
expect date_format_last "$out" '"last": "05/01/2021"'
if out=$("$tabula" describe --data "$dates" --date day 2>&1); then
  echo "FAIL date_refused: accepted"
  exit 1
fi
expect date_refused "$out" "column 'day': value '.*' is not a date in the format ISO 8601"
rm -f "$dates"
echo "describe_test: ok"
