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
sh tools/plot-arms.sh "$DB" H1 tpot "$OUT/H1-tpot-mape-per-experiment.png" baseline eta=0.80 eta=0.82

# 2. predicted vs measured per request (seed 42), TPOT and E2E
for arm in baseline eta=0.80; do
  f=$(echo "$arm" | tr '=' '-')
  sqlite3 -csv "$DB" "
  SELECT 1000 * meas_tpot, 1000 * pred_tpot, 1000 * meas_e2e, 1000 * pred_e2e
  FROM pred_ape p JOIN arms a ON a.config_id = p.config_id AND a.hypothesis = 'H1' AND a.label = '$arm'
  WHERE p.seed = 42" > "$TMP/pv-$f.csv"
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

# 3. runaway load points of the baseline: E2E over arrival time.  Arms are
# joined by configuration: a run stored by another grid (runs.hypothesis)
# serves every grid whose arm has its configuration.
sqlite3 -csv "$DB" "
SELECT p.run_id, p.experiment_id, p.point, e.number FROM exp_point_metrics p
JOIN experiments e ON e.id = p.experiment_id
JOIN arms a ON a.config_id = p.config_id AND a.hypothesis = 'H1' AND a.label = 'baseline'
WHERE p.seed = 42 AND p.runaway = 1
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
