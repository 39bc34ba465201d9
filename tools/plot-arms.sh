#!/bin/sh
# tools/plot-arms.sh - per-experiment MAPE of a hypothesis's arms as clustered bars.
# Usage: plot-arms.sh DB HYP METRIC OUT.png ARM [ARM...]
#   METRIC: ttft | tpot | e2e;  mean over the arm's workload seeds, all load points.
set -eu
DB=$1 HYP=$2 METRIC=$3 OUTPNG=$4
shift 4
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cols="" plot="" i=2
for arm in "$@"; do
    cols="$cols, 100 * avg(CASE WHEN a.label = '$arm' THEN x.mape_$METRIC END)"
    if [ $i = 2 ]; then plot="\"$TMP/d.csv\" using $i:xtic(1) title \"$arm\""
    else plot="$plot, \"\" using $i title \"$arm\""; fi
    i=$((i + 1))
done
sqlite3 -csv "$DB" "
SELECT e.number $cols
FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = '$HYP'
JOIN experiments e ON e.id = x.experiment_id
WHERE x.selection = 'all' GROUP BY e.id ORDER BY e.number" > "$TMP/d.csv"
mkdir -p "$(dirname "$OUTPNG")"
gnuplot <<GP
set terminal pngcairo size 1000,500 font ",10"
set output "$OUTPNG"
set datafile separator ","
set title "$HYP: $(echo "$METRIC" | tr a-z A-Z) MAPE per experiment (all load points, mean of workload seeds)"
set xlabel "experiment # (docs/CORPUS.md)"; set ylabel "MAPE (%)"
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8 border -1
set key top left; set grid ytics; set yrange [0:*]
plot $plot
GP
