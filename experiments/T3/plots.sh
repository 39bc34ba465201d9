#!/bin/sh
# experiments/T3/plots.sh - Tier 3's figure into plots/: predicted vs measured
# mean E2E and TTFT of every held-out load point of the 10/4 splits (log-log;
# the diagonal is exact, the dashed lines +-15%), the default preset beside it.
set -eu
DB=${1:-db/tam.db}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p plots
for proto in split base; do
    sqlite3 -csv "$DB" "SELECT meas_e2e_s, pred_e2e_s, 1000 * meas_ttft_s, 1000 * pred_ttft_s
                        FROM tier3_points WHERE protocol = '$proto' AND meas_e2e_s <> '' AND pred_e2e_s <> ''" > "$TMP/$proto.csv"
done
[ -s "$TMP/split.csv" ] || { echo "T3/plots.sh: no tier3_points rows (run make tier3)" >&2; exit 1; }
gnuplot <<GP
set terminal pngcairo size 1300,620 font ",10"
set output "plots/T3-pred-vs-meas.png"
set datafile separator ","
set multiplot layout 1,2 title "Tier 3, 10/4 splits: every held-out load point (21 split seeds), predicted vs measured mean; grey: the default preset on all 14"
set logscale xy; set grid; set key top left
set xlabel "measured mean E2E (s)"; set ylabel "predicted mean E2E (s)"
plot "$TMP/base.csv" using 1:2 with points pt 6 ps 0.8 lc "gray60" title "default preset", \
     "$TMP/split.csv" using 1:2 with points pt 7 ps 0.6 lc "red" title "Tier 3, held out", \
     x with lines lc "black" notitle, 1.15*x with lines dt 2 lc "black" title "+-15%", 0.85*x with lines dt 2 lc "black" notitle
set xlabel "measured mean TTFT (ms)"; set ylabel "predicted mean TTFT (ms)"
plot "$TMP/base.csv" using 3:4 with points pt 6 ps 0.8 lc "gray60" title "default preset", \
     "$TMP/split.csv" using 3:4 with points pt 7 ps 0.6 lc "red" title "Tier 3, held out", \
     x with lines lc "black" notitle, 1.15*x with lines dt 2 lc "black" title "+-15%", 0.85*x with lines dt 2 lc "black" notitle
unset multiplot
GP
