#!/usr/bin/env bash
# SQL sources: a table read from SQLite gives the same model and the same predictions as its CSV
# export, text survives exactly (delimiters, quotes, newlines, spaces, leading zeros), predict
# streams from a query, and every bad URL, query or value is refused with the URL named.
# Usage: sql_source_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
source "$(dirname "$0")/lib.sh"

if "$TABULA" describe --data "sqlite:///$WORK/none.db?table=t" 2>&1 | grep -q "built without SQLite"; then
  echo "sql_source_test: SKIPPED: this tabula was built without SQLite (libsqlite3-dev)"
  exit 0
fi

# The titanic table in SQLite (types as SQLite stores them: INTEGER, REAL, TEXT, NULL), and
# the same rows exported back to CSV by Python's csv module.
python3 - "$SRC/data/titanic.csv" "$WORK" <<'PY'
import csv, sqlite3, sys
source, work = sys.argv[1], sys.argv[2]
with open(source, newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
def value(cell):
    if cell == "":
        return None
    try:
        return int(cell)
    except ValueError:
        try:
            return float(cell)
        except ValueError:
            return cell
db = sqlite3.connect(f"{work}/titanic.db")
db.execute("CREATE TABLE passengers (" + ", ".join(f'"{h}"' for h in header) + ")")
db.executemany("INSERT INTO passengers VALUES (" + ",".join("?" * len(header)) + ")",
               [[value(c) for c in r] for r in body])
db.execute("CREATE TABLE odd (a, b TEXT, c BLOB)")
db.executemany("INSERT INTO odd VALUES (?, ?, ?)",
               [(1, 'x,"y"\nz', None), (0.1 + 0.2, "  padded ", None), (None, "01234", None)])
db.execute("CREATE TABLE blobs (a, c BLOB)")
db.execute("INSERT INTO blobs VALUES (1, x'00ff')")
db.commit()
with open(f"{work}/export.csv", "w", newline="") as f:
    w = csv.writer(f)
    cursor = db.execute("SELECT * FROM passengers")
    w.writerow([d[0] for d in cursor.description])
    for r in cursor:
        w.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in r])
PY
DB="sqlite:///$WORK/titanic.db"

expect_ok train_sql "$TABULA" train --data "$DB?table=passengers" --target survived \
  --model forest --drop-columns name --seed 3 --out "$WORK/sql.tbl"
expect_ok train_csv "$TABULA" train --data "$WORK/export.csv" --target survived \
  --model forest --drop-columns name --seed 3 --out "$WORK/csv.tbl"
expect_ok predict_sql "$TABULA" predict --model "$WORK/sql.tbl" --proba \
  --data "$DB?query=SELECT * FROM passengers ORDER BY rowid" --out "$WORK/sql.csv"
expect_ok predict_csv "$TABULA" predict --model "$WORK/csv.tbl" --proba --data "$WORK/export.csv" \
  --out "$WORK/csv.csv"
cmp -s "$WORK/sql.csv" "$WORK/csv.csv" || fail "SQLite and CSV predictions differ"
[ "$(wc -l <"$WORK/sql.csv")" -gt 100 ] || fail "predict from SQLite wrote $(wc -l <"$WORK/sql.csv") lines"
expect_ok inspect_sql "$TABULA" inspect "$WORK/sql.tbl" --json
expect_contains "$WORK/out.txt" "\"data_file\": \"$DB?table=passengers\""
expect_ok tune_sql "$TABULA" tune --data "$DB?query=SELECT age, sex, passengerClass, survived FROM passengers" \
  --target survived --model logistic --param 'C=[0.1,1]' --folds 2 --no-progress --out "$WORK/tune"
expect_contains "$WORK/out.txt" "of the refitted best"

# Text exactly as stored; a number stored as text with a leading zero stays a code.
expect_ok describe_odd "$TABULA" describe --data "$DB?table=odd" --json
expect_contains "$WORK/out.txt" '"value": "x,\"y\"\nz"'
expect_contains "$WORK/out.txt" '"value": "  padded "'
expect_contains "$WORK/out.txt" '"value": "01234"'
expect_contains "$WORK/out.txt" '"min": 0.30000000000000004'

# Refusals name the URL (or the file) and say what is wrong.
expect_error no_file "no database file" "$TABULA" describe --data "sqlite:///$WORK/nope.db?table=t"
expect_error syntax 'near "SELEC": syntax error' "$TABULA" describe --data "$DB?query=SELEC 1"
expect_error writes "the query must only read" "$TABULA" describe --data "$DB?query=DELETE FROM odd"
expect_error two "exactly one SQL statement" "$TABULA" describe --data "$DB?query=SELECT 1; SELECT 2"
expect_error blob "column 'c': a BLOB" "$TABULA" describe --data "$DB?table=blobs"
expect_error no_table "no such table: nope" "$TABULA" describe --data "$DB?table=nope"
expect_error form "expected sqlite:///FILE?query=" "$TABULA" describe --data "sqlite://$WORK/titanic.db"
expect_error no_query "expected sqlite:///FILE?query=" "$TABULA" describe --data "$DB"
expect_error predict_bad "syntax error" "$TABULA" predict --model "$WORK/sql.tbl" \
  --data "$DB?query=SELECT * FORM passengers" --out "$WORK/never.csv"
expect_absent "$WORK/never.csv"
expect_ok still_there "$TABULA" describe --data "$DB?query=SELECT COUNT(*) AS n FROM odd"
expect_contains "$WORK/out.txt" "n "

finish sql_source_test
