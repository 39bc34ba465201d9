#!/bin/sh
# tools/import-csv.sh - replace a table of the store with a CSV's rows, in one
# transaction (the header names the columns).  Usage: import-csv.sh DB TABLE CSV
set -eu
DB=$1 TABLE=$2 CSV=$3
[ -s "$CSV" ] || { echo "import-csv: $CSV is missing or empty" >&2; exit 1; }
# .timeout: under make -j2 a grid may hold the store's write lock for a moment.
sqlite3 -batch "$DB" <<SQL
.bail on
.timeout 600000
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS $TABLE;
.import --csv $CSV $TABLE
COMMIT;
SQL
echo "import-csv: $(sqlite3 -batch "$DB" "SELECT count(*) FROM $TABLE") rows into $TABLE" >&2
