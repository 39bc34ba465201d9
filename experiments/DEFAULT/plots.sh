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
