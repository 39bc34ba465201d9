#!/bin/sh
# tests/beyond.sh - tools/beyond.sh on the real runs beyond the 14 (skipped
# without DATA): its tables exist, and beyond_drift (latency over the run's
# time) conserves what beyond_points holds:
#   - per run and preset, the windows' request counts add up to the point's;
#   - their count-weighted mean TPOT, measured and predicted, is the point's;
#   - one window recomputed independently (awk over tam simulate's own CSV)
#     matches its row: count and mean measured TPOT;
# and the overloaded run's what-if (beyond_sensitivity) is monotone: a slower
# step never gives a shorter predicted TPOT or E2E.
# Ends with "beyond: N passed, N failed".
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
. tests/lib.sh
skip_without_corpus beyond
DB="$T/b.db"
OV=overload-codellama-34b-tp2-reasoning

TAM="$TAM" sh tools/beyond.sh "$DB" "$DATA" 2>"$T/err" && ok || bad "beyond.sh: $(cat "$T/err")"
[ "$(q "$DB" "SELECT count(DISTINCT run || preset) FROM beyond_points")" = 6 ] && ok || bad "3 runs x 2 presets in beyond_points"
[ "$(q "$DB" "SELECT count(DISTINCT run || preset) FROM beyond_drift")" = 6 ] && ok || bad "3 runs x 2 presets in beyond_drift"
[ "$(q "$DB" "SELECT count(*) FROM beyond_drift WHERE t_s < 0 OR t_s % 30 <> 0 OR n_ok < 1")" = 0 ] && ok || bad "windows start at multiples of 30 s and hold requests"
# each run has one load point, so its windows must add up to that point
bad_n=$(q "$DB" "SELECT count(*) FROM beyond_points p JOIN (SELECT run, preset, sum(n_ok) AS n,
                    sum(n_ok * meas_tpot_ms) / sum(n_ok) AS m, sum(n_ok * pred_tpot_ms) / sum(n_ok) AS pr
                    FROM beyond_drift GROUP BY run, preset) d ON d.run = p.run AND d.preset = p.preset
                 WHERE d.n <> p.n_ok OR abs(d.m / p.meas_tpot_ms - 1) > 1e-9 OR abs(d.pr / p.pred_tpot_ms - 1) > 1e-9")
[ "$bad_n" = 0 ] && ok || bad "$bad_n run/preset pairs whose windows do not add up to the point"
# the overloaded run's window [60, 90) s, recomputed from tam simulate's CSV:
# ok requests whose measured decode is centred in it (arrival + (TTFT + E2E) / 2)
"$TAM" simulate --trace "$DATA/corpus/inference-perf-overload/20260218-160939-codellama-34b-tp2-reasoning" -o "$T/ov.csv" 2>/dev/null
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
         $c["ok"] == 1 && $c["rejected"] == 0 {
             mid = $c["arrival_s"] + ($c["measured_ttft_s"] + $c["measured_e2e_s"]) / 2
             if (mid >= 60 && mid < 90) { n++; s += $c["measured_tpot_s"] } }
         END { printf "%d %.6f\n", n, 1000 * s / n }' "$T/ov.csv" > "$T/hand"
q "$DB" "SELECT n_ok || ' ' || printf('%.6f', meas_tpot_ms) FROM beyond_drift WHERE run = '$OV' AND preset = 'default' AND t_s = 60" > "$T/sql"
cmp -s "$T/hand" "$T/sql" && ok || bad "window 60 s: awk '$(cat "$T/hand")' vs table '$(cat "$T/sql")'"
[ "$(cut -d' ' -f1 "$T/hand")" -gt 10 ] && ok || bad "window 60 s should hold a full batch's worth of requests: $(cat "$T/hand")"
# the what-if: a slower step never shortens the predicted TPOT or E2E
# (monotonicity), and the preset itself (factor 1) is below the first factor
[ "$(q "$DB" "SELECT count(*) FROM beyond_sensitivity")" = 5 ] && ok || bad "five what-if factors"
nonmono=$(q "$DB" "WITH s AS (SELECT 1.0 AS f, pred_tpot_ms AS t, pred_e2e_s AS e FROM beyond_points WHERE run = '$OV' AND preset = 'default'
                               UNION ALL SELECT step_scale, pred_tpot_ms, pred_e2e_s FROM beyond_sensitivity)
                   SELECT count(*) FROM s a JOIN s b ON b.f > a.f WHERE b.t <= a.t OR b.e <= a.e")
[ "$nonmono" = 0 ] && ok || bad "$nonmono what-if pairs where a slower step gave a shorter TPOT or E2E"
report beyond
