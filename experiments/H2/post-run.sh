#!/bin/sh
# experiments/H2/post-run.sh - the finer 0.1 ms sweep, a separate and clearly
# labelled result (hypothesis id "H2fine").  Its window is fixed by procedure,
# not by eye: the 1 ms arm that the canonical split (seed 42) selects, +-1 ms
# in 0.1 ms steps (clamped at 0).  Usage: post-run.sh DB DATA [KERNELS]
set -eu
DB=$1 DATA=$2 KERNELS=${3:-proposal-h100}
best=$(sqlite3 -batch "$DB" "
SELECT json_extract(c.canonical_json, '\$.overhead_decode_s') FROM split_metrics_sel m
JOIN arms a ON a.config_id = m.config_id AND a.hypothesis = 'H2' JOIN configs c ON c.id = m.config_id
WHERE m.selection = 'lowest' AND m.role = 'train' AND m.seed = 42 AND m.split_seed = 42
  AND a.label LIKE 'flat=%' ORDER BY m.mape_tpot, a.label LIMIT 1;")
[ -n "$best" ] || { echo "H2 post-run: no coarse sweep results in $DB" >&2; exit 1; }
mkdir -p build
out=build/H2-grid-fine-$KERNELS.json
awk -v b="$best" 'BEGIN {
    printf "{\"hypothesis\": \"H2fine\", \"seeds\": [42], \"arms\": [";
    lo = b * 1000 - 1; if (lo < 0) lo = 0; n = 0;
    for (i = 0; i <= 20; i++) { o = lo + i / 10; if (o > b * 1000 + 1 + 1e-9) break;
        printf "%s{\"label\": \"fine=%.1fms\", \"config\": {\"overhead_decode_s\": %.4f, \"overhead_prefill_s\": %.4f}}", (n++ ? ", " : ""), o, o / 1000, o / 1000 }
    printf "]}\n" }' > "$out"
echo "H2 post-run: canonical split selects o = $best s; fine sweep $out" >&2
bin/tam run --grid "$out" --db "$DB" --data "$DATA" --kernels "$KERNELS" --quiet
