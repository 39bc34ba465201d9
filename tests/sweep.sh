#!/bin/sh
# tests/sweep.sh - `tam sweep`, the simulator-internal studies (Part A of H4,
# H5, H6), end to end into a temporary store:
#   - row counts of every study and its summary rows, checked by SQL;
#   - re-running a study replaces its rows (no duplicates, other studies kept);
#   - a write that fails half-way leaves the previous rows (one transaction);
#   - the physics invariants below, on every point;
#   - the stored summary numbers equal what plain SQL derives from the rows;
#   - same inputs, byte-identical CSV;
#   - bad input: clear message on stderr, non-zero exit.
# Env: TAM (binary), DATA.  Ends with "sweep: N passed, N failed".
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
export DATA
. tests/lib.sh
q() { sqlite3 -batch "$DB" "$1"; }
# eq NAME GOT WANT
eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }


"$TAM" sweep --help >"$T/h" 2>&1 && head -1 "$T/h" | grep -q "^usage: tam sweep" && ok || bad "help"
expect_fail bogus "unknown study 'bogus'" "$TAM" sweep --study bogus --db "$T/never.db"
[ ! -e "$T/never.db" ] && ok || bad "a rejected study must not create the store"
expect_fail no-study "study is required" "$TAM" sweep --db "$T/never.db"
expect_fail stray-arg "unexpected argument" "$TAM" sweep --study H4A extra --db "$T/never.db"

if [ ! -d "$DATA/models" ] || [ ! -d "$DATA/mfu/h100" ] || ! command -v sqlite3 >/dev/null; then
    echo "# skip: no $DATA/models, no $DATA/mfu/h100 or no sqlite3"
    report sweep
    exit
fi

DB="$T/s.db"
expect_fail bad-data "nowhere/mfu/h100" "$TAM" sweep --study H4A --db "$DB" --data "$T/nowhere"

# ---- everything, twice: byte-identical CSV, one row per stored row
"$TAM" sweep --study all --db "$DB" -o "$T/a.csv" >"$T/sum1" 2>/dev/null && ok || bad "sweep all"
"$TAM" sweep --study all --db "$DB" -o "$T/b.csv" >"$T/sum2" 2>/dev/null && ok || bad "sweep all again"
cmp -s "$T/a.csv" "$T/b.csv" && cmp -s "$T/sum1" "$T/sum2" && ok || bad "not deterministic"
eq "csv rows = store rows" "$(($(wc -l < "$T/a.csv") - 1))" "$(q "SELECT count(*) FROM sweeps")"
eq "total rows" "$(q "SELECT count(*) FROM sweeps")" 69081

# ---- row counts per study and series (after two runs: replaced, not duplicated)
eq "H4A rows (127 x 4 series)" "$(q "SELECT count(*) FROM sweeps WHERE study = 'H4A'")" 508
eq "H4A series" "$(q "SELECT group_concat(series || ':' || n, ' ') FROM (SELECT series, count(*) n FROM sweeps WHERE study = 'H4A' GROUP BY series ORDER BY series)")" \
    "agg_compute:127 agg_memory:127 aggregate:127 per_component:127"
eq "H4A x range, y" "$(q "SELECT min(x), max(x), count(DISTINCT x), min(y), max(y) FROM sweeps WHERE study = 'H4A'")" "128.0|8192.0|127|32.0|32.0"
eq "H4A_summary" "$(q "SELECT group_concat(series, ' ') FROM (SELECT series FROM sweeps WHERE study = 'H4A_summary' ORDER BY series)")" \
    "crossover_x max_rel_diff max_rel_diff_x rel_diff_at_crossover"
eq "H5A rows (101 x 2)" "$(q "SELECT count(*) || ' ' || count(DISTINCT x) || ' ' || min(x) || ' ' || max(x) || ' ' || min(y) || ' ' || max(y) FROM sweeps WHERE study = 'H5A' AND series IN ('blend', 'additive')")" "202 101 0.0 100.0 256.0 256.0"
eq "H5A_summary" "$(q "SELECT group_concat(series, ' ') FROM (SELECT series FROM sweeps WHERE study = 'H5A_summary' ORDER BY series)")" \
    "additive_direction_changes blend_direction_changes max_rel_diff max_rel_diff_x rel_diff_at_50"
eq "H6A_gemm rows (256 m x 6 shapes x 2)" "$(q "SELECT count(*) || ' ' || count(DISTINCT y) FROM sweeps WHERE study = 'H6A_gemm'")" "3072 6"
eq "H6A_decode rows (256 x 127 x 2)" "$(q "SELECT count(*) FROM sweeps WHERE study = 'H6A_decode'")" 65024
eq "H6A_prefill rows (127 x 2)" "$(q "SELECT count(*) FROM sweeps WHERE study = 'H6A_prefill'")" 254
eq "H6A_summary rows (3 x 2 x 2)" "$(q "SELECT count(*) FROM sweeps WHERE study = 'H6A_summary' AND series GLOB '*:*:*' AND x = 0 AND y = 0")" 12
eq "no NULL except an absent crossover" "$(q "SELECT count(*) FROM sweeps WHERE value IS NULL AND series NOT IN ('crossover_x', 'rel_diff_at_crossover')")" 0
eq "MFU in (0, 1]" "$(q "SELECT count(*) FROM sweeps WHERE study LIKE 'H6A\_%' ESCAPE '\\' AND study <> 'H6A_summary' AND NOT (value > 0 AND value <= 1)")" 0
eq "step configs linked" "$(q "SELECT count(*) FROM sweeps s JOIN configs c ON c.id = s.config_id WHERE s.study IN ('H4A', 'H5A')")" 710

# ---- one study re-run alone: its rows replaced, everybody else's kept
"$TAM" sweep --study H6A_prefill --db "$DB" >/dev/null 2>&1 && ok || bad "H6A_prefill alone"
eq "rows after a single re-run" "$(q "SELECT count(*) FROM sweeps")" 69081
eq "H6A_summary keeps the other kinds" "$(q "SELECT count(*) FROM sweeps WHERE study = 'H6A_summary'")" 12

# ---- one transaction: an insert that fails half-way leaves the old rows
before=$(q "SELECT count(*), sum(value) FROM sweeps WHERE study IN ('H4A', 'H4A_summary')")
q "CREATE TRIGGER boom BEFORE INSERT ON sweeps WHEN NEW.study = 'H4A' AND NEW.series = 'agg_memory' AND NEW.x = 4096 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
expect_fail injected "injected failure" "$TAM" sweep --study H4A --db "$DB"
eq "rollback keeps H4A" "$(q "SELECT count(*), sum(value) FROM sweeps WHERE study IN ('H4A', 'H4A_summary')")" "$before"
q "DROP TRIGGER boom"
"$TAM" sweep --study H4A --db "$DB" -o "$T/h4.csv" >/dev/null 2>&1 && ok || bad "H4A after the trigger is gone"

# ---- H4A invariants
# Per layer (and so for all L identical layers), each component c -- every
# GEMM against its weights, attention against its KV -- has compute C_c and
# memory time M_c.  per_component = sum_c max(C_c, M_c) + overhead and
# aggregate = max(sum_c C_c, sum_c M_c) + overhead.  max(C_c, M_c) >= C_c and
# >= M_c term by term, so sum_c max >= sum_c C_c and >= sum_c M_c, hence
# >= their max: per_component >= aggregate for any single-phase step (a
# decode-only step is one phase; the 50 us overhead is the same in both and
# all-reduce is off in the baseline).  Equality holds iff every component is
# bound by the same resource.
eq "per_component >= aggregate at every x" "$(q "SELECT count(*) FROM sweeps a JOIN sweeps p ON p.study = 'H4A' AND p.series = 'per_component' AND p.x = a.x WHERE a.study = 'H4A' AND a.series = 'aggregate' AND p.value < a.value")" 0
# aggregate = max(compute, memory) + 50 us (decode-only step, all-reduce off)
eq "aggregate = max(compute, memory) + 50 us" "$(q "SELECT count(*) FROM sweeps a JOIN sweeps c ON c.study = 'H4A' AND c.series = 'agg_compute' AND c.x = a.x JOIN sweeps m ON m.study = 'H4A' AND m.series = 'agg_memory' AND m.x = a.x WHERE a.study = 'H4A' AND a.series = 'aggregate' AND abs(a.value - max(c.value, m.value) - 50e-6) > 1e-12")" 0
# the stored crossover is the first x where the dominant side differs from x = 128's
eq "crossover_x derivable by SQL" "$(q "WITH s AS (SELECT c.x, c.value >= m.value AS cb FROM sweeps c JOIN sweeps m ON m.study = 'H4A' AND m.series = 'agg_memory' AND m.x = c.x WHERE c.study = 'H4A' AND c.series = 'agg_compute') SELECT (SELECT value FROM sweeps WHERE study = 'H4A_summary' AND series = 'crossover_x') IS (SELECT min(x) FROM s WHERE cb <> (SELECT cb FROM s WHERE x = 128))")" 1
eq "max_rel_diff derivable by SQL" "$(q "SELECT abs((SELECT value FROM sweeps WHERE study = 'H4A_summary' AND series = 'max_rel_diff') - (SELECT max(abs(p.value - a.value) / a.value) FROM sweeps a JOIN sweeps p ON p.study = 'H4A' AND p.series = 'per_component' AND p.x = a.x WHERE a.study = 'H4A' AND a.series = 'aggregate')) < 1e-15")" 1

# ---- H5A invariants
# At s = 0 the step is 256 decodes and no prefill; at s = 100 it is one
# 256-token prefill chunk and no decode.  The baseline then takes t = t_d
# ("decode-only") or t = t_p ("prefill-only"): the blend weights never apply.
# The additive model prices "one GEMM pass over all T_p + D tokens + prefill
# attention + decode attention"; with T_p = 0 (or D = 0) that is the GEMM
# pass over D (T_p) tokens plus one attention: exactly the same single-phase
# roofline, the same components, the same MFU lookups.  So both series must
# agree bit for bit at both ends (the engine takes its additive branch only
# when T_p > 0 and D > 0).
eq "H5A ends priced alike" "$(q "SELECT count(*) FROM sweeps b JOIN sweeps a ON a.study = 'H5A' AND a.series = 'additive' AND a.x = b.x WHERE b.study = 'H5A' AND b.series = 'blend' AND b.x IN (0, 100) AND a.value = b.value")" 2
eq "rel_diff_at_50 derivable by SQL" "$(q "SELECT abs((SELECT value FROM sweeps WHERE study = 'H5A_summary' AND series = 'rel_diff_at_50') - (SELECT abs(a.value - b.value) / b.value FROM sweeps b JOIN sweeps a ON a.study = 'H5A' AND a.series = 'additive' AND a.x = b.x WHERE b.study = 'H5A' AND b.series = 'blend' AND b.x = 50)) < 1e-15")" 1
for ser in blend additive; do
    eq "$ser direction changes derivable by SQL" "$(q "WITH d AS (SELECT x, sign(value - lag(value) OVER (ORDER BY x)) AS sg FROM sweeps WHERE study = 'H5A' AND series = '$ser'), n AS (SELECT x, sg, lag(sg) OVER (ORDER BY x) AS psg FROM d WHERE sg <> 0) SELECT count(*) = (SELECT value FROM sweeps WHERE study = 'H5A_summary' AND series = '${ser}_direction_changes') FROM n WHERE psg IS NOT NULL AND sg <> psg")" 1
done

# ---- H6A invariants
# Interpolation returns a grid point's own value: at every seq of the
# prefill table inside the sweep, interp = nearest.
P="$DATA/mfu/h100/mha/prefill/64-8-128.csv"
seqs=$(awk -F, 'NR > 1 && $2 >= 128 && $2 <= 8192 && $2 % 64 == 0 && $4 >= 1e-4 {printf "%s%s", s, $2; s = ","}' "$P")
[ -n "$seqs" ] && ok || bad "no prefill grid point inside the sweep"
eq "prefill grid points: interp = nearest" "$(q "SELECT count(*) || ' ' || sum(n.value = i.value) FROM sweeps n JOIN sweeps i ON i.study = n.study AND i.series = 'interp' AND i.x = n.x WHERE n.study = 'H6A_prefill' AND n.series = 'nearest' AND n.x IN ($seqs)")" \
    "$(echo "$seqs" | tr ',' '\n' | wc -l | tr -d ' ') $(echo "$seqs" | tr ',' '\n' | wc -l | tr -d ' ')"
# the same for the usable decode grid points (batch, kv) inside the sweep
D="$DATA/mfu/h100/mha/decode/64-8-128-tp4.csv"
pts=$(awk -F, 'NR > 1 && $3 <= 256 && $4 >= 128 && $4 <= 8192 && $4 % 64 == 0 && $6 >= 1e-4 {printf "%s(n.x = %s AND n.y = %s)", s, $3, $4; s = " OR "}' "$D")
npts=$(awk -F, 'NR > 1 && $3 <= 256 && $4 >= 128 && $4 <= 8192 && $4 % 64 == 0 && $6 >= 1e-4' "$D" | wc -l | tr -d ' ')
eq "decode grid points: interp = nearest" "$(q "SELECT count(*) || ' ' || sum(n.value = i.value) FROM sweeps n JOIN sweeps i ON i.study = n.study AND i.series = 'interp' AND i.x = n.x AND i.y = n.y WHERE n.study = 'H6A_decode' AND n.series = 'nearest' AND ($pts)")" "$npts $npts"
# the stored counts are what SQL derives from the rows: d = b/a - 1 along x
# for each y (and, for decode, along y for each x); a jump is |d| >= 5%, a
# step a jump whose d also differs by >= 5 points from its neighbours' mean
# (1e-9 allows for binary rounding of ratios that are 5% in decimal)
for kind in gemm decode prefill; do
    study=H6A_$kind
    along="SELECT series, value / lag(value) OVER w - 1 AS d, lag(value) OVER w AS a FROM sweeps WHERE study = '$study' WINDOW w AS (PARTITION BY series, y ORDER BY x)"
    [ $kind = decode ] && along="$along UNION ALL SELECT series, value / lag(value) OVER w - 1, lag(value) OVER w FROM sweeps WHERE study = '$study' WINDOW w AS (PARTITION BY series, x ORDER BY y)"
    for mode in nearest interp; do
        jumps=$(q "SELECT count(*) FROM ($along) WHERE a IS NOT NULL AND series = '$mode' AND abs(d) >= 0.05 - 1e-9")
        eq "$kind:$mode:jumps derivable by SQL" "$jumps" "$(q "SELECT CAST(value AS INTEGER) FROM sweeps WHERE study = 'H6A_summary' AND series = '$kind:$mode:jumps'")"
    done
done
# the steps count for the prefill line, recomputed with neighbours in SQL
eq "prefill:nearest:steps derivable by SQL" "$(q "WITH d AS (SELECT series, x, value / lag(value) OVER (PARTITION BY series ORDER BY x) - 1 AS d FROM sweeps WHERE study = 'H6A_prefill'), n AS (SELECT series, d, lag(d) OVER (PARTITION BY series ORDER BY x) AS pd, lead(d) OVER (PARTITION BY series ORDER BY x) AS nd FROM d WHERE d IS NOT NULL) SELECT count(*) FROM n WHERE series = 'nearest' AND abs(d) >= 0.05 - 1e-9 AND abs(d - (coalesce(pd, nd) + coalesce(nd, pd)) / 2) >= 0.05 - 1e-9")" \
    "$(q "SELECT CAST(value AS INTEGER) FROM sweeps WHERE study = 'H6A_summary' AND series = 'prefill:nearest:steps'")"
# the printed summary carries the headline numbers
grep -q "crossover_x" "$T/sum1" && grep -q "rel_diff_at_50" "$T/sum1" && grep -q "steps (discontinuities)" "$T/sum1" && ok || bad "summary lacks its numbers"

report sweep
