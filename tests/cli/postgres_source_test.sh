#!/usr/bin/env bash
# PostgreSQL sources against a real throwaway server (Debian's postgresql package: a cluster in a
# temporary folder, listening on a Unix socket only, stopped on exit): the titanic table read from
# PostgreSQL gives the same model and predictions as the CSV, typed columns (booleans, dates,
# zoned timestamps, numeric) read as their CSV export, a result larger than one fetch streams,
# and bad URLs, queries, passwords, writes and bytea values are refused with the URL named.
# Skips, saying why, where the server binaries or libpq are missing.
# Usage: postgres_source_test.sh TABULA_BINARY SOURCE_DIR
set -u
TABULA=$1
SRC=$2
source "$(dirname "$0")/lib.sh"

if "$TABULA" describe --data "postgresql:///x?query=SELECT 1" 2>&1 | grep -q "built without PostgreSQL"; then
  echo "postgres_source_test: SKIPPED: this tabula was built without PostgreSQL (libpq-dev)"
  exit 0
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "postgres_source_test: SKIPPED: no PostgreSQL server binaries (apt-get install postgresql)"
  exit 0
fi

# The server refuses to run as root: there it runs as the package's postgres user.
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || {
    echo "postgres_source_test: SKIPPED: running as root and there is no postgres user"
    exit 0
  }
  AS=(runuser -u postgres --)
  chmod 755 "$WORK"
fi
CLUSTER="$WORK/cluster"
mkdir -p "$CLUSTER" && [ "${#AS[@]}" = 0 ] || chown postgres "$CLUSTER"
"${AS[@]}" "$BIN/initdb" -D "$CLUSTER/data" -U tabula --auth=trust -E UTF8 --locale=C \
  >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; fail "initdb"; finish postgres_source_test; }
"${AS[@]}" "$BIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/server.log" -w -t 30 \
  -o "-c listen_addresses='' -k $CLUSTER -c fsync=off" start >/dev/null ||
  { cat "$CLUSTER/server.log"; fail "pg_ctl start"; finish postgres_source_test; }
trap '"${AS[@]}" "$BIN/pg_ctl" -D "$CLUSTER/data" -m immediate stop >/dev/null 2>&1; rm -rf "$WORK"' EXIT
DB="postgresql:///postgres?host=$CLUSTER&user=tabula"
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$CLUSTER" -U tabula -d postgres "$@"; }

# A table's rows come back in no promised order: the file's order is kept in row_id, and a view
# reads them in it.
psql -c "CREATE TABLE rows (row_id serial, name text, survived text, sex text, age float8,
           \"passengerClass\" text)" \
  -c "\\copy rows (name, survived, sex, age, \"passengerClass\") FROM '$SRC/data/titanic.csv'
        WITH (FORMAT csv, HEADER true)" \
  -c "CREATE VIEW passengers AS SELECT name, survived, sex, age, \"passengerClass\" FROM rows
        ORDER BY row_id" \
  -c "CREATE TABLE typed AS SELECT g AS id, g % 3 = 0 AS flag, g::numeric / 8 AS amount,
        DATE '2024-01-01' + g AS day, TIMESTAMPTZ '2024-01-01 06:00:00+02' + g * INTERVAL '1 hour'
        AS seen, (g * 0.1)::float4 AS small, (g % 7)::text AS code FROM generate_series(1, 40) g" \
  -c "CREATE SEQUENCE counter" \
  -c "CREATE TABLE blobs (a int, b bytea); INSERT INTO blobs VALUES (1, '\\x00ff')" ||
  fail "loading the tables"
psql -A -F, -P footer=off -c "SELECT id, flag::int AS flag, amount, day,
   to_char(seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z' AS seen, small, code
   FROM typed ORDER BY id" >"$WORK/typed.csv" || fail "exporting typed"

# The same model and predictions as the CSV, for a linear model and a forest; predict streams.
for model in logistic forest; do
  expect_ok "train_csv_$model" "$TABULA" train --data "$SRC/data/titanic.csv" --target survived \
    --model "$model" --drop-columns name --seed 3 --out "$WORK/$model-csv.tbl"
  expect_ok "train_pg_$model" "$TABULA" train --data "$DB&table=passengers" --target survived \
    --model "$model" --drop-columns name --seed 3 --out "$WORK/$model-pg.tbl"
  for source in csv pg; do
    data="$SRC/data/titanic.csv"
    [ "$source" = pg ] && data="$DB&query=SELECT * FROM passengers"
    expect_ok "predict_${source}_$model" "$TABULA" predict --model "$WORK/$model-$source.tbl" \
      --data "$data" --proba --id-column name --out "$WORK/$model-$source.csv"
  done
  cmp -s "$WORK/$model-csv.csv" "$WORK/$model-pg.csv" ||
    fail "$model: predictions from PostgreSQL differ from the CSV's"
done
expect_ok inspect "$TABULA" inspect "$WORK/forest-pg.tbl" --json
expect_contains "$WORK/out.txt" "table=passengers"

# tune reads it too, from --data and from a spec (a URL is not a path relative to the spec).
expect_ok tune_pg "$TABULA" tune --data "$DB&table=passengers" --target survived \
  --model logistic --param 'C=[0.1,1]' --folds 2 --no-progress --out "$WORK/tune"
expect_contains "$WORK/out.txt" "of the refitted best"
mkdir -p "$WORK/specs"
cat >"$WORK/specs/spec.toml" <<TOML
data = "$DB&query=SELECT age, sex, survived FROM passengers"
target = "survived"
model = "forest"
[space]
n_estimators = [5]
TOML
expect_ok tune_spec "$TABULA" tune --spec "$WORK/specs/spec.toml" --folds 2 --no-progress \
  --out "$WORK/tune_spec"
expect_contains "$WORK/out.txt" "of the refitted best"

# Types: what describe sees of the table equals what it sees of the same rows as CSV.
expect_ok describe_typed "$TABULA" describe --data "$DB&table=typed" --json
mv "$WORK/out.txt" "$WORK/typed_pg.json"
expect_ok describe_typed_csv "$TABULA" describe --data "$WORK/typed.csv" --json
python3 - "$WORK/typed_pg.json" "$WORK/out.txt" <<'PY' || fail "typed columns differ from CSV"
import json, sys
pg, csv = (json.load(open(p)) for p in sys.argv[1:])
strip = lambda d: {k: v for k, v in d.items() if k not in ("file", "source", "data")}
assert strip(pg) == strip(csv), (pg, csv)
PY
# Three fetches of 10,000 rows and a last short one, counted.
expect_ok stream "$TABULA" describe --data "$DB&query=SELECT g AS x, g % 5 AS y FROM generate_series(1, 31234) g" --json
expect_contains "$WORK/out.txt" '"rows": 31234'

# Bad URLs, queries and values, each naming the URL; the database is unchanged.
expect_error no_query "expected postgresql://" "$TABULA" describe --data "postgresql:///postgres"
expect_error password "must not hold a password" "$TABULA" describe \
  --data "postgresql://tabula:secret@localhost/postgres?query=SELECT 1"
expect_error no_server "cannot connect" "$TABULA" describe \
  --data "postgresql:///postgres?host=$WORK/nowhere&query=SELECT 1"
expect_error syntax 'syntax error at or near "SELEC" (at character 1 of the query)' "$TABULA" describe --data "$DB&query=SELEC 1"
expect_error no_table 'relation "nope" does not exist' "$TABULA" describe --data "$DB&table=nope"
expect_error two_statements "$DB&query=SELECT 1; DROP TABLE rows': expected exactly one SQL statement" "$TABULA" describe \
  --data "$DB&query=SELECT 1; DROP TABLE rows"
expect_error write "must not contain data-modifying statements" "$TABULA" describe \
  --data "$DB&query=WITH d AS (DELETE FROM rows RETURNING *) SELECT * FROM d"
expect_error read_only "cannot execute nextval() in a read-only transaction" "$TABULA" describe \
  --data "$DB&query=SELECT nextval('counter') AS n"
expect_error bytea "column 'b': bytea" "$TABULA" describe --data "$DB&table=blobs"
expect_error bad_train "$DB" "$TABULA" train --data "$DB&table=nope" --target survived \
  --model forest --out "$WORK/never.tbl"
expect_absent "$WORK/never.tbl"
[ "$(psql -t -A -c 'SELECT count(*) FROM rows')" = 1309 ] || fail "the table changed"

finish postgres_source_test
