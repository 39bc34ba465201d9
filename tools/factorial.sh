#!/bin/sh
# tools/factorial.sh - issue 12: the factorial ablation over the corrections
# H1-H14 (experiments/FACTORIAL/factors.json), one kernel data set per store.
#
#   factorial.sh design DB [FACTORS]    the design tables alone (tests use this)
#   factorial.sh run DB DATA KERNELS    run every cell over KERNELS into DB, then
#                                       the effect tables (resumes; stored cells
#                                       are skipped)
#   factorial.sh line DB DB2 Hn         the generated line under Hn's verdict
#
# Cells are arms of the grid 'FACTORIAL' (labels cell:NNN = design cell NNN,
# corner:off / corner:on, ofat:Hn = Hn alone, best, toggle:Hn = the best cell
# with Hn switched), run by `tam run` like any grid: a cell whose
# configuration is already stored (e.g. ofat:H3 = H3's 'fused' arm) costs
# nothing.  Two `tam run` processes share the cells of each chunk (JOBS, 2).
#
# Storage (issue 12's budget: a corpus run stores ~132 k predictions, ~9 MB):
# after each chunk every run's per-experiment metrics (config_exp_metrics_sel,
# all selections) are copied into factorial_exp_metrics, and the runs of
# design and toggle cells whose configuration no other arm uses are deleted
# whole (predictions, cache rows; listed in factorial_pruned).  Configurations
# and arms stay, so every cell joins configs/arms like any other; the corners,
# Hn alone and the best cell keep every prediction.  Nothing is half-stored:
# a run is either whole in runs/predictions or gone with its metrics kept.
set -eu
F=experiments/FACTORIAL
TAM=${TAM:-bin/tam}
JOBS=${JOBS:-2}
CHUNK=${CHUNK:-24}     # cells per chunk, shared by the JOBS processes
cmd=${1:?usage: factorial.sh design|run|line ...}
shift
DB=${1:?factorial: no database}
q() { sqlite3 -batch -cmd '.timeout 600000' "$DB" "$@"; }

design() { # FACTORS -> factorial_factor, factorial_design
    sed "s|@FACTORS@|$1|g" $F/design.sql | q
}

# The engine configuration of every cell from its levels (factorial_level):
# the deltas of the factors that are on, patched in factor order.
configs() {
    q "DROP TABLE IF EXISTS factorial_cell;
       CREATE TABLE factorial_cell AS
       WITH RECURSIVE fold(label, k, cfg) AS (
           SELECT DISTINCT label, 0, '{}' FROM factorial_level
           UNION ALL
           SELECT fo.label, fo.k + 1, CASE WHEN l.\"on\" = 1 THEN json_patch(fo.cfg, f.delta) ELSE fo.cfg END
           FROM fold fo JOIN factorial_factor f ON f.k = fo.k + 1
           JOIN factorial_level l ON l.label = fo.label AND l.factor = f.factor)
       SELECT label, (SELECT kind FROM factorial_level l WHERE l.label = fold.label LIMIT 1) AS kind,
              (SELECT cell FROM factorial_level l WHERE l.label = fold.label LIMIT 1) AS cell, cfg AS config
       FROM fold WHERE k = (SELECT max(k) FROM factorial_factor);"
}

# Cells of kind $1 whose 14 experiments at seed 42 are not in factorial_exp_metrics.
pending() {
    q "SELECT c.label FROM factorial_cell c WHERE c.kind IN ($1) AND (SELECT count(*) FROM factorial_exp_metrics m
         JOIN arms a ON a.config_id = m.config_id AND a.hypothesis = 'FACTORIAL' AND a.label = c.label
         JOIN configs g ON g.id = a.config_id AND json_extract(g.canonical_json, '\$.kernels') = '$KERNELS'
         WHERE m.selection = 'all' AND m.seed = 42) < (SELECT count(*) FROM experiments WHERE number > 0)
       ORDER BY c.kind, c.label;"
}

# Runs the cells named in file $1 (one label a line): JOBS grids side by side.
run_cells() {
    i=0
    while [ $i -lt "$JOBS" ]; do
        awk -v j="$JOBS" -v i="$i" 'NR % j == i' "$1" > "$TMPD/part$i"
        if [ -s "$TMPD/part$i" ]; then
            q "SELECT json_object('hypothesis', 'FACTORIAL', 'seeds', json('[42]'), 'arms', json_group_array(json(a)))
               FROM (SELECT json_object('label', c.label, 'config', json(c.config),
                                        'seeds', json(CASE WHEN c.label = 'corner:on' THEN '[42, 123, 456]' ELSE '[42]' END)) AS a
                     FROM factorial_cell c WHERE c.label IN (SELECT value FROM json_each('[$(sed 's/.*/"&"/' "$TMPD/part$i" | paste -sd, -)]'))
                     ORDER BY c.label);" > "$TMPD/grid$i.json"
            "$TAM" run --grid "$TMPD/grid$i.json" --db "$DB" --data "$DATA" --kernels "$KERNELS" --quiet &
            echo $! > "$TMPD/pid$i"
        fi
        i=$((i + 1))
    done
    rc=0 i=0
    while [ $i -lt "$JOBS" ]; do
        if [ -s "$TMPD/part$i" ]; then wait "$(cat "$TMPD/pid$i")" || rc=1; fi
        i=$((i + 1))
    done
    [ $rc = 0 ] || { echo "factorial: a tam run failed" >&2; exit 1; }
    keep_metrics
}

# Copy the FACTORIAL runs' metrics, then delete the runs nobody else needs.
keep_metrics() {
    q "PRAGMA foreign_keys = ON;
       BEGIN IMMEDIATE;
       INSERT OR IGNORE INTO factorial_exp_metrics
       SELECT * FROM config_exp_metrics_sel WHERE config_id IN (SELECT config_id FROM arms WHERE hypothesis = 'FACTORIAL'
           AND config_id NOT IN (SELECT config_id FROM factorial_exp_metrics));
       CREATE TEMP TABLE gone AS SELECT r.id FROM runs r WHERE r.status = 'ok'
         AND EXISTS (SELECT 1 FROM arms a WHERE a.config_id = r.config_id AND a.hypothesis = 'FACTORIAL'
                     AND (a.label GLOB 'cell:*' OR a.label GLOB 'toggle:*'))
         AND NOT EXISTS (SELECT 1 FROM arms a WHERE a.config_id = r.config_id
                         AND NOT (a.hypothesis = 'FACTORIAL' AND (a.label GLOB 'cell:*' OR a.label GLOB 'toggle:*')));
       INSERT OR IGNORE INTO factorial_pruned
       SELECT r.id, r.config_id, r.experiment_id, r.seed, r.n_predictions, r.wall_seconds, r.git_rev
       FROM runs r WHERE r.id IN (SELECT id FROM gone);
       DELETE FROM runs WHERE id IN (SELECT id FROM gone);
       DELETE FROM predictions WHERE run_id IN (SELECT id FROM gone);
       DELETE FROM cache_point_sums WHERE run_id IN (SELECT id FROM gone);
       DELETE FROM cache_point_pctl WHERE run_id IN (SELECT id FROM gone);
       DELETE FROM cache_sel_pctl WHERE run_id IN (SELECT id FROM gone);
       COMMIT;"
}

# Every cell's corpus MAPE (%, workload seed 42) from factorial_exp_metrics.
cell_metrics() {
    q "DROP TABLE IF EXISTS factorial_cell_metrics;
       CREATE TABLE factorial_cell_metrics AS
       SELECT c.label, c.kind, c.cell, a.config_id, count(*) AS n_experiments,
              100 * avg(m.mape_ttft) AS ttft, 100 * avg(m.mape_tpot) AS tpot, 100 * avg(m.mape_e2e) AS e2e
       FROM factorial_cell c JOIN arms a ON a.hypothesis = 'FACTORIAL' AND a.label = c.label
       JOIN configs g ON g.id = a.config_id AND json_extract(g.canonical_json, '\$.kernels') = '$KERNELS'
       JOIN factorial_exp_metrics m ON m.config_id = a.config_id AND m.selection = 'all' AND m.seed = 42
       GROUP BY c.label;"
}

case $cmd in
design)
    design "${2:-$F/factors.json}"
    ;;
run)
    DATA=${2:?factorial run DB DATA KERNELS} KERNELS=${3:?factorial run DB DATA KERNELS}
    TMPD=$(mktemp -d)
    trap 'rm -rf "$TMPD"' EXIT
    "$TAM" ingest --db "$DB" --data "$DATA" --quiet
    design $F/factors.json
    # H2's level is its pre-registered selection on the canonical split: its
    # sweep (seed 42) must be stored first (reused when `make H2` ran).
    "$TAM" run --grid experiments/H2/grid.json --db "$DB" --data "$DATA" --kernels "$KERNELS" --seed 42 --quiet
    o=$(q "SELECT json_extract(c.canonical_json, '\$.overhead_decode_s') FROM split_metrics_sel m
           JOIN arms a ON a.config_id = m.config_id AND a.hypothesis = 'H2' JOIN configs c ON c.id = m.config_id
           WHERE m.selection = 'lowest' AND m.role = 'train' AND m.seed = 42 AND m.split_seed = 42
             AND a.label LIKE 'flat=%' AND json_extract(c.canonical_json, '\$.kernels') = '$KERNELS'
           ORDER BY m.mape_tpot, a.label LIMIT 1")
    [ -n "$o" ] || { echo "factorial: H2's selection found no flat arm over $KERNELS" >&2; exit 1; }
    q "UPDATE factorial_factor SET delta = json_object('overhead_decode_s', $o, 'overhead_prefill_s', $o) WHERE delta = 'H2-selected';"
    # Two factors may set one key only to one value (H8 and H10: allreduce = true).
    clash=$(q "SELECT group_concat(key) FROM (SELECT j.key FROM factorial_factor f JOIN json_each(f.delta) j
               GROUP BY j.key HAVING count(DISTINCT j.atom) > 1)")
    [ -z "$clash" ] || { echo "factorial: factors set $clash to different values" >&2; exit 1; }
    q "CREATE TABLE IF NOT EXISTS factorial_exp_metrics AS SELECT * FROM config_exp_metrics_sel WHERE 0;
       CREATE UNIQUE INDEX IF NOT EXISTS factorial_exp_metrics_key ON factorial_exp_metrics(selection, config_id, seed, experiment_id);
       CREATE TABLE IF NOT EXISTS factorial_pruned(run_id INTEGER PRIMARY KEY, config_id INTEGER, experiment_id TEXT,
           seed INTEGER, n_predictions INTEGER, wall_seconds REAL, git_rev TEXT);
       DROP TABLE IF EXISTS factorial_level;
       CREATE TABLE factorial_level AS
       SELECT printf('cell:%03d', cell) AS label, 'design' AS kind, cell, factor, \"on\" FROM factorial_design
       UNION ALL SELECT 'corner:off', 'corner', NULL, factor, 0 FROM factorial_factor
       UNION ALL SELECT 'corner:on', 'corner', NULL, factor, 1 FROM factorial_factor
       UNION ALL SELECT 'ofat:' || a.factor, 'ofat', NULL, b.factor, a.factor = b.factor
                 FROM factorial_factor a JOIN factorial_factor b;"
    configs
    pending "'corner', 'ofat', 'design'" > "$TMPD/todo"
    n=$(wc -l < "$TMPD/todo")
    echo "factorial: $KERNELS: $n cells to run (of $(q "SELECT count(*) FROM factorial_cell")), $JOBS at a time" >&2
    start=1
    while [ "$start" -le "$n" ]; do
        sed -n "${start},$((start + CHUNK - 1))p" "$TMPD/todo" > "$TMPD/chunk"
        run_cells "$TMPD/chunk"
        start=$((start + CHUNK))
        echo "factorial: $KERNELS: $((start - 1 < n ? start - 1 : n)) of $n" >&2
    done
    # The best cell (lowest mean of the three corpus MAPEs, seed 42; ties ->
    # label), again with every prediction, and it with each factor switched.
    cell_metrics
    q "DELETE FROM factorial_level WHERE kind IN ('best', 'toggle');
       INSERT INTO factorial_level
       SELECT 'best', 'best', NULL, l.factor, l.\"on\" FROM factorial_level l
       WHERE l.label = (SELECT label FROM factorial_cell_metrics ORDER BY (ttft + tpot + e2e) / 3, label LIMIT 1);
       INSERT INTO factorial_level
       SELECT 'toggle:' || t.factor, 'toggle', NULL, l.factor, CASE WHEN l.factor = t.factor THEN 1 - l.\"on\" ELSE l.\"on\" END
       FROM factorial_factor t JOIN factorial_level l ON l.label = 'best';"
    configs
    # When the best cell is another one than last time, the arms 'best' and
    # 'toggle:*' are re-made by the runs below.
    q "DELETE FROM arms WHERE hypothesis = 'FACTORIAL' AND (label = 'best' OR label GLOB 'toggle:*')
       AND NOT EXISTS (SELECT 1 FROM arms b JOIN arms c ON c.config_id = b.config_id AND c.hypothesis = 'FACTORIAL'
                       AND c.label = (SELECT label FROM factorial_cell_metrics ORDER BY (ttft + tpot + e2e) / 3, label LIMIT 1)
                       WHERE b.hypothesis = 'FACTORIAL' AND b.label = 'best');"
    { echo best; pending "'toggle'"; } > "$TMPD/todo"
    run_cells "$TMPD/todo"
    cell_metrics
    sh tools/factorial-tables.sh "$DB" "$KERNELS"
    ;;
line)
    DB2=${2:?factorial line DB DB2 Hn} h=${3:?factorial line DB DB2 Hn}
    sh tools/factorial-tables.sh line "$DB" "$DB2" "$h"
    ;;
*)
    echo "factorial: unknown command $cmd (design, run, line)" >&2; exit 2 ;;
esac
