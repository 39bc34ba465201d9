#!/bin/sh
# tools/beyond.sh - the runs beyond the 14 (experiments/beyond.json) under the
# shipped presets, per load point, into table beyond_points of DB and over
# the run's time into beyond_drift, the overloaded run's dependence on the
# step time into beyond_sensitivity; and the
# step-level check (tam stepcheck) of the runs that allow one into table
# stepcheck.  Neither is part of any corpus MAPE.
# Usage: beyond.sh DB DATA
set -eu
DB=$1 DATA=$2
export DATA
TAM=${TAM:-bin/tam}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
runs=$(sqlite3 -batch :memory: "SELECT json_extract(value, '\$.id') || '|' || json_extract(value, '\$.path')
                                FROM json_each(json_extract(readfile('experiments/beyond.json'), '\$.runs'));")
# sim_rows CSV COLUMN ID VALUE PATH ARGS...: tam simulate --trace PATH ARGS,
# its rows appended to CSV under the leading columns run = ID, COLUMN = VALUE
# (the header, tam simulate's own behind those two, written with the first rows)
sim_rows() {
    csv=$1 col=$2 id=$3 val=$4 path=$5
    shift 5
    "$TAM" simulate --trace "$DATA/$path" "$@" -o "$TMP/one.csv" 2> "$TMP/err" ||
        { echo "beyond: $id ($col $val): $(cat "$TMP/err")" >&2; exit 1; }
    [ -f "$csv" ] || sed -n "1s/^/run,$col,/p" "$TMP/one.csv" > "$csv"
    tail -n +2 "$TMP/one.csv" | sed "s/^/$id,$val,/" >> "$csv"
}
OV=overload-codellama-34b-tp2-reasoning ovpath=
for r in $runs; do
    id=${r%%|*} path=${r#*|}
    for preset in baseline default; do
        sim_rows "$TMP/all.csv" preset "$id" "$preset" "$path" --preset "$preset"
    done
    echo "beyond: $id simulated" >&2
    [ "$id" != "$OV" ] || ovpath=$path
done
# what-if for the overloaded run: every GPU kernel time of the default preset
# scaled by s (the four Tier 3 scales at once), to show how its E2E depends
# on the step time; a diagnostic, never a fit
[ -n "$ovpath" ] || { echo "beyond: experiments/beyond.json has no run '$OV' for the what-if" >&2; exit 1; }
for sc in 1.05 1.10 1.15 1.20 1.25; do
    sqlite3 -batch :memory: "SELECT json_set(json_extract(readfile('experiments/presets/default.json'), '\$.config'),
                                    '\$.scale_weight_read', $sc, '\$.scale_compute', $sc, '\$.scale_kv_read', $sc, '\$.scale_allreduce', $sc);" > "$TMP/sc.json"
    sim_rows "$TMP/sens.csv" step_scale "$OV" "$sc" "$ovpath" --config "$TMP/sc.json"
done
echo "beyond: $OV what-if simulated" >&2
# one stepcheck over every run that allows a step-level check: the runs
# beyond the 14 that record per-token times, and the GuideLLM experiments
set --
for r in $runs; do
    path=${r#*|}
    [ ! -f "$DATA/$path/trace.itl.csv" ] || set -- "$@" --trace "$DATA/$path"
done
for e in $(sqlite3 -batch :memory: "SELECT json_extract(value, '\$.path') FROM json_each(json_extract(readfile('experiments/corpus.json'), '\$.experiments')) WHERE json_extract(value, '\$.path') LIKE 'corpus/guidellm/%';"); do
    set -- "$@" --trace "$DATA/$e"
done
"$TAM" stepcheck "$@" --preset default --format csv -o "$TMP/sc.csv"
sqlite3 -batch "$DB" <<SQL
.bail on
.timeout 600000
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS beyond_requests;
DROP TABLE IF EXISTS stepcheck;
.import --csv $TMP/all.csv beyond_requests
.import --csv $TMP/sc.csv stepcheck
DROP TABLE IF EXISTS beyond_points;
CREATE TABLE beyond_points AS
SELECT run, preset, point, count(*) AS n_ok,
       1000.0 * avg(CAST(measured_ttft_s AS REAL)) AS meas_ttft_ms, 1000.0 * avg(CAST(ttft_s AS REAL)) AS pred_ttft_ms,
       1000.0 * avg(CASE WHEN measured_tpot_s <> '' THEN CAST(measured_tpot_s AS REAL) END) AS meas_tpot_ms,
       1000.0 * avg(CASE WHEN tpot_s <> '' THEN CAST(tpot_s AS REAL) END) AS pred_tpot_ms,
       avg(CAST(measured_e2e_s AS REAL)) AS meas_e2e_s, avg(CAST(e2e_s AS REAL)) AS pred_e2e_s
FROM beyond_requests WHERE ok = '1' AND rejected = '0' GROUP BY run, preset, point;
-- The what-if: per step factor, the overloaded run's means.
DROP TABLE IF EXISTS beyond_sens_requests;
DROP TABLE IF EXISTS beyond_sensitivity;
.import --csv $TMP/sens.csv beyond_sens_requests
CREATE TABLE beyond_sensitivity AS
SELECT run, CAST(step_scale AS REAL) AS step_scale, count(*) AS n_ok,
       avg(CAST(measured_ttft_s AS REAL)) AS meas_ttft_s, avg(CAST(ttft_s AS REAL)) AS pred_ttft_s,
       1000.0 * avg(CASE WHEN measured_tpot_s <> '' THEN CAST(measured_tpot_s AS REAL) END) AS meas_tpot_ms,
       1000.0 * avg(CASE WHEN tpot_s <> '' THEN CAST(tpot_s AS REAL) END) AS pred_tpot_ms,
       avg(CAST(measured_e2e_s AS REAL)) AS meas_e2e_s, avg(CAST(e2e_s AS REAL)) AS pred_e2e_s
FROM beyond_sens_requests WHERE ok = '1' AND rejected = '0' GROUP BY run, step_scale;
DROP TABLE beyond_sens_requests;
-- Latency over the run: requests grouped by the 30-s window that holds the
-- middle of their measured decode (arrival + (TTFT + E2E) / 2), so a server
-- that slows down, or a prediction that drifts, shows where it happens.
DROP TABLE IF EXISTS beyond_drift;
CREATE TABLE beyond_drift AS
SELECT run, preset, 30 * CAST((CAST(arrival_s AS REAL) + (CAST(measured_ttft_s AS REAL) + CAST(measured_e2e_s AS REAL)) / 2) / 30 AS INTEGER) AS t_s,
       count(*) AS n_ok,
       1000.0 * avg(CAST(measured_tpot_s AS REAL)) AS meas_tpot_ms, 1000.0 * avg(CAST(tpot_s AS REAL)) AS pred_tpot_ms,
       avg(CAST(measured_ttft_s AS REAL)) AS meas_ttft_s, avg(CAST(ttft_s AS REAL)) AS pred_ttft_s
FROM beyond_requests WHERE ok = '1' AND rejected = '0' AND measured_tpot_s <> '' AND tpot_s <> ''
GROUP BY run, preset, t_s;
DROP TABLE beyond_requests;
COMMIT;
SQL
echo "beyond: tables beyond_points, beyond_drift, beyond_sensitivity and stepcheck written to $DB" >&2
