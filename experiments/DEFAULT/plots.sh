#!/bin/sh
# experiments/DEFAULT/plots.sh - the default preset's figures into plots/:
# predicted vs measured mean TTFT against load, one panel per experiment.
set -eu
DB=${1:-db/tam.db}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p plots
# load = the point's request rate; GuideLLM's synchronous and throughput
# benchmarks have none: their measured completion rate stands in (requests
# over the sum of E2E with one in flight; over the longest E2E when all were
# sent at once)
sqlite3 -csv "$DB" "
SELECT e.number, x.point,
       CASE lp.kind WHEN 'synchronous' THEN (SELECT count(*) / sum(m.e2e) FROM measured m
                                              WHERE m.experiment_id = x.experiment_id AND m.point = x.point AND m.ok)
                    WHEN 'throughput' THEN (SELECT count(*) / max(m.e2e) FROM measured m
                                            WHERE m.experiment_id = x.experiment_id AND m.point = x.point AND m.ok)
                    ELSE lp.rate END,
       1000 * x.mean_meas_ttft, 1000 * x.mean_pred_ttft
FROM exp_point_metrics x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = 'DEFAULT' AND a.label = 'default'
JOIN experiments e ON e.id = x.experiment_id JOIN load_points lp ON lp.experiment_id = x.experiment_id AND lp.point = x.point
WHERE x.seed = 42 ORDER BY e.number, 3" > "$TMP/d.csv"
plot=""
for n in $(seq 1 14); do
    awk -F, -v n=$n '$1 == n' "$TMP/d.csv" > "$TMP/e$n.csv"
done
gnuplot <<GP
set terminal pngcairo size 1400,900 font ",9"
set output "plots/DEFAULT-ttft-vs-load.png"
set datafile separator ","
set multiplot layout 3,5 title "Default preset: mean TTFT per load point, measured (black) vs predicted (red), ms against requests/s"
set grid; unset key; set yrange [0:*]; set offsets graph 0.08, graph 0.08, 0, 0
set xlabel "requests/s"; set ylabel "TTFT (ms)"
do for [n=1:14] {
  set title sprintf("experiment %d", n)
  f = sprintf("$TMP/e%d.csv", n)
  stats f using 3 nooutput
  if (STATS_min == STATS_max) { set xrange [0.8 * STATS_min : 1.2 * STATS_max] } else { set autoscale x }
  plot f using 3:4 with linespoints pt 7 ps 0.8 lc "black", f using 3:5 with linespoints pt 5 ps 0.8 lc "red"
}
unset multiplot
GP
sh tools/plot-arms.sh "$DB" DEFAULT ttft plots/DEFAULT-ttft-mape-per-experiment.png baseline default
# the overloaded run's decode step over time: mean TPOT of the requests whose
# measured decode is centred in each 30-s window (table beyond_drift)
for p in default baseline; do
    sqlite3 -csv "$DB" "SELECT t_s + 15, meas_tpot_ms, pred_tpot_ms FROM beyond_drift
                        WHERE run = 'overload-codellama-34b-tp2-reasoning' AND preset = '$p' AND n_ok >= 5
                        ORDER BY t_s" > "$TMP/drift-$p.csv"
done
gnuplot <<GP
set terminal pngcairo size 900,500 font ",10"
set output "plots/DEFAULT-overload-tpot-over-time.png"
set datafile separator ","
set title "Overloaded CodeLlama-34B TP2 run: mean TPOT of the requests decoding in each 30-s window"
set grid; set key bottom right; set yrange [0:*]
set xlabel "middle of the measured decode (s from the first request)"; set ylabel "TPOT (ms)"
plot "$TMP/drift-default.csv" using 1:2 with linespoints pt 7 ps 0.6 lc "black" title "measured", \
     "$TMP/drift-default.csv" using 1:3 with linespoints pt 5 ps 0.6 lc "red" title "default preset", \
     "$TMP/drift-baseline.csv" using 1:3 with lines dt 2 lc "blue" title "baseline (proposal tables)"
GP
