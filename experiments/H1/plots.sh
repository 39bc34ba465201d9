#!/bin/sh
# experiments/H1/plots.sh - render the H1 figures into plots/ from the store.
# Usage: plots.sh DB   (data via sqlite3 -csv into a scratch dir, then gnuplot)
set -eu
DB=${1:-db/tam.db}
OUT=plots
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

# 1. per-experiment TPOT MAPE, baseline vs eta=0.80 vs eta=0.82
sqlite3 -csv "$DB" "
SELECT e.number,
       100 * avg(CASE WHEN a.label = 'baseline' THEN x.mape_tpot END),
       100 * avg(CASE WHEN a.label = 'eta=0.80' THEN x.mape_tpot END),
       100 * avg(CASE WHEN a.label = 'eta=0.82' THEN x.mape_tpot END)
FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = 'H1'
JOIN experiments e ON e.id = x.experiment_id
WHERE x.selection = 'all' GROUP BY e.id ORDER BY e.number" > "$TMP/mape.csv"
gnuplot <<GP
set terminal pngcairo size 1000,500 font ",10"
set output "$OUT/H1-tpot-mape-per-experiment.png"
set datafile separator ","
set title "H1: TPOT MAPE per experiment (all load points, mean of seeds)"
set xlabel "experiment # (docs/CORPUS.md)"; set ylabel "TPOT MAPE (%)"
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8 border -1
set key top left; set grid ytics; set yrange [0:*]
plot "$TMP/mape.csv" using 2:xtic(1) title "baseline (eta 1.0)", "" using 3 title "eta 0.80", "" using 4 title "eta 0.82"
GP

# 2. predicted vs measured per request (seed 42), TPOT and E2E
for arm in baseline eta=0.80; do
  f=$(echo "$arm" | tr '=' '-')
  sqlite3 -csv "$DB" "
  SELECT 1000 * meas_tpot, 1000 * pred_tpot, 1000 * meas_e2e, 1000 * pred_e2e
  FROM pred_ape WHERE hypothesis = 'H1' AND label = '$arm' AND seed = 42" > "$TMP/pv-$f.csv"
done
gnuplot <<GP
set terminal pngcairo size 1200,550 font ",10"
set output "$OUT/H1-predicted-vs-measured.png"
set datafile separator ","
set multiplot layout 1,2 title "H1: predicted vs measured per request (seed 42)"
set logscale xy; set grid; set key top left
set xlabel "measured TPOT (ms)"; set ylabel "predicted TPOT (ms)"
plot "$TMP/pv-baseline.csv" using 1:2 with points pt 7 ps 0.25 lc rgb "#A01f77b4" title "baseline", \
     "$TMP/pv-eta-0.80.csv" using 1:2 with points pt 7 ps 0.25 lc rgb "#A0d62728" title "eta 0.80", x with lines lc "black" title "y = x"
set xlabel "measured E2E (ms)"; set ylabel "predicted E2E (ms)"
plot "$TMP/pv-baseline.csv" using 3:4 with points pt 7 ps 0.25 lc rgb "#A01f77b4" title "baseline", \
     "$TMP/pv-eta-0.80.csv" using 3:4 with points pt 7 ps 0.25 lc rgb "#A0d62728" title "eta 0.80", x with lines lc "black" title "y = x"
unset multiplot
GP

# 3. runaway load points of the baseline: E2E over arrival time
sqlite3 -csv "$DB" "
SELECT p.run_id, p.experiment_id, p.point, e.number FROM exp_point_metrics p
JOIN experiments e ON e.id = p.experiment_id
WHERE p.hypothesis = 'H1' AND p.label = 'baseline' AND p.seed = 42 AND p.runaway = 1
ORDER BY e.number, p.point" > "$TMP/runaway.csv"
rm -f "$OUT"/H1-runaway-*.png
while IFS=, read -r run exp point num; do
  sqlite3 -csv "$DB" "
  SELECT pr.arrival, m.e2e, pr.e2e FROM predictions pr
  JOIN runs r ON r.id = pr.run_id
  JOIN measured m ON m.experiment_id = r.experiment_id AND m.req_index = pr.req_index
  WHERE pr.run_id = $run AND pr.point = $point AND m.ok = 1 ORDER BY pr.arrival" > "$TMP/r.csv"
  gnuplot <<GP
set terminal pngcairo size 900,450 font ",10"
set output "$OUT/H1-runaway-exp$num-point$point.png"
set datafile separator ","
set title "Runaway load point: experiment #$num point $point (baseline, seed 42)"
set xlabel "arrival (s, simulated)"; set ylabel "E2E (s)"; set grid; set key top left
plot "$TMP/r.csv" using 1:2 with points pt 7 ps 0.3 lc rgb "black" title "measured", "" using 1:3 with points pt 7 ps 0.3 lc rgb "#d62728" title "predicted"
GP
done < "$TMP/runaway.csv"
echo "plots: H1 figures in $OUT/" >&2
