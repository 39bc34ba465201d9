#!/bin/sh
# tools/tier0.sh - build the Tier 0 configuration step by step and record the path.
# Usage: tier0.sh DB DATA [T0|T0x [KERNELS [OUT]]]
# KERNELS: the kernel data set every arm runs over (default proposal-h100);
# OUT: where the final configuration goes (default build/tier0.json or
# build/tier0x.json).
# T0 (pre-registered): for each correction in the proposal's order, skip it
# unless its hypothesis verdict (criteria table) is Confirmed; otherwise run
# current+correction over the corpus (seeds 42 123 456) and keep it only if no
# corpus metric worsens by more than 1pp.  Every step is a row of tier0_path;
# the result is the arm 'tier0' of hypothesis T0 (and 'baseline').
# T0x (exploratory, chosen after seeing the verdicts, labelled as such): the
# same walk with the regression gate alone deciding, whatever the verdict;
# rows in tier0x_path, result arm 'tier0' of hypothesis T0x.
set -eu
DB=$1 DATA=$2 HYP=${3:-T0} KERNELS=${4:-proposal-h100} OUT=${5:-}
case $HYP in T0) PATH_TABLE=tier0_path ;; T0x) PATH_TABLE=tier0x_path ;;
    *) echo "tier0: unknown mode $HYP (T0 or T0x)" >&2; exit 2 ;; esac
SEEDS="[42, 123, 456]"
mkdir -p build
# .timeout: under make -j2 other grids write to the same store.
q() { sqlite3 -batch -cmd '.timeout 600000' "$DB" "$@"; }
q "CREATE TABLE IF NOT EXISTS $PATH_TABLE(
     step INTEGER PRIMARY KEY, hypothesis TEXT NOT NULL, kept INTEGER NOT NULL,
     reason TEXT NOT NULL, config_json TEXT NOT NULL, config_hash TEXT,
     mape_ttft REAL, mape_tpot REAL, mape_e2e REAL);
   DELETE FROM $PATH_TABLE;"

run_arm() { # label config-json -> runs it as an arm of T0
    printf '{"hypothesis": "%s", "seeds": %s, "arms": [{"label": "%s", "config": %s}]}\n' \
        "$HYP" "$SEEDS" "$1" "$2" > "build/$HYP-$KERNELS-grid.json"
    bin/tam run --grid "build/$HYP-$KERNELS-grid.json" --db "$DB" --data "$DATA" --kernels "$KERNELS" --quiet
}
metrics() { # label -> "ttft|tpot|e2e" corpus MAPE (fractions), mean over seeds
    q "SELECT avg(mape_ttft) || '|' || avg(mape_tpot) || '|' || avg(mape_e2e) FROM corpus_metrics
       WHERE hypothesis = '$HYP' AND label = '$1'"
}
hash_of() { q "SELECT c.hash FROM arms a JOIN configs c ON c.id = a.config_id WHERE a.hypothesis = '$HYP' AND a.label = '$1'"; }

current='{}'
run_arm baseline "$current"
cur=$(metrics baseline)
step=0
q "INSERT INTO $PATH_TABLE VALUES (0, 'baseline', 1, 'start', '{}', '$(hash_of baseline)',
   $(echo "$cur" | tr '|' ','))"
for h in H1 H2 H3 H5 H4 H6 H8 H10 H7 H14 H11 H12 H13; do
    step=$((step + 1))
    verdict=$(q "SELECT detail FROM criteria WHERE hypothesis = '$h' AND criterion = 'verdict'")
    case $h in
      H1) delta='{"bw_eta": 0.8}' ;;
      H2) o=$(q "SELECT json_extract(c.canonical_json, '\$.overhead_decode_s') FROM split_metrics_sel m
                 JOIN arms a ON a.config_id = m.config_id AND a.hypothesis = 'H2' JOIN configs c ON c.id = m.config_id
                 WHERE m.selection = 'lowest' AND m.role = 'train' AND m.seed = 42 AND m.split_seed = 42
                   AND a.label LIKE 'flat=%' ORDER BY m.mape_tpot, a.label LIMIT 1")
          delta="{\"overhead_decode_s\": ${o:-0}, \"overhead_prefill_s\": ${o:-0}}" ;;
      *)  delta=$(q "SELECT json_extract(readfile('experiments/$h/grid.json'), '\$.arms[1].config')") ;;
    esac
    cand=$(q "SELECT json_patch('$current', '$delta')")
    if [ "$HYP" = T0 ] && [ "$verdict" != Confirmed ]; then
        q "INSERT INTO $PATH_TABLE VALUES ($step, '$h', 0, 'not applied: $h verdict is ${verdict:-not evaluated}',
           '$cand', NULL, NULL, NULL, NULL)"
        echo "tier0: step $step $h: skipped (verdict ${verdict:-none})" >&2
        continue
    fi
    run_arm "step$step:$h" "$cand"
    new=$(metrics "step$step:$h")
    worst=$(q "SELECT max(100 * (n - c)) FROM (
        SELECT $(echo "$new" | cut -d'|' -f1) AS n, $(echo "$cur" | cut -d'|' -f1) AS c UNION ALL
        SELECT $(echo "$new" | cut -d'|' -f2), $(echo "$cur" | cut -d'|' -f2) UNION ALL
        SELECT $(echo "$new" | cut -d'|' -f3), $(echo "$cur" | cut -d'|' -f3))")
    if [ "$(q "SELECT $worst > 1.0")" = 1 ]; then
        kept=0 reason="verdict ${verdict:-none}; regression gate: a metric worsens by $(printf '%.2f' "$worst") pp"
    else
        kept=1 reason="verdict ${verdict:-none}; kept (largest worsening $(printf '%.2f' "$worst") pp)"
        current=$cand cur=$new
    fi
    q "INSERT INTO $PATH_TABLE VALUES ($step, '$h', $kept, '$reason', '$cand', '$(hash_of "step$step:$h")',
       $(echo "$new" | tr '|' ','))"
    echo "tier0: step $step $h: $reason" >&2
done
run_arm tier0 "$current"
out=${OUT:-build/tier0.json}
[ -n "$OUT" ] || [ "$HYP" = T0 ] || out=build/tier0x.json
q "SELECT json_set('$current', '\$.name', '$HYP')" > $out
echo "tier0 ($HYP): final configuration $current ($out)" >&2
