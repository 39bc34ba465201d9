#!/bin/sh
# experiments/H2/plots.sh - corpus MAPE along the constant-overhead sweep.
set -eu
DB=${1:-db/tam.db}
OUT=plots
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
sqlite3 -csv "$DB" "
SELECT 1000 * json_extract(c.canonical_json, '\$.overhead_decode_s'), 100 * lo.mape_tpot, 100 * lo.mape_ttft,
       100 * al.mape_tpot, 100 * al.mape_ttft
FROM arms a JOIN configs c ON c.id = a.config_id
JOIN corpus_metrics_lowest lo ON lo.config_id = a.config_id AND lo.hypothesis = a.hypothesis AND lo.label = a.label AND lo.seed = 42
JOIN corpus_metrics al ON al.config_id = a.config_id AND al.hypothesis = a.hypothesis AND al.label = a.label AND al.seed = 42
WHERE a.hypothesis IN ('H2', 'H2fine') AND a.label <> 'infersim'
ORDER BY 1" > "$TMP/sweep.csv"
gnuplot <<GP
set terminal pngcairo size 1000,500 font ",10"
set output "$OUT/H2-overhead-sweep.png"
set datafile separator ","
set title "H2: corpus MAPE vs constant per-step overhead (decode = prefill overhead; seed 42; 1 ms and 0.1 ms arms)"
set xlabel "per-step overhead (ms)"; set ylabel "corpus MAPE (%)"; set grid; set key top left
set logscale y
plot "$TMP/sweep.csv" using 1:2 with linespoints title "TPOT, lowest load point", \
     "" using 1:3 with linespoints title "TTFT, lowest load point", \
     "" using 1:4 with linespoints title "TPOT, all load points", \
     "" using 1:5 with linespoints title "TTFT, all load points"
GP
echo "plots: H2 figures in $OUT/" >&2
