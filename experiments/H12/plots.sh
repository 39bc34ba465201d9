#!/bin/sh
# experiments/H12/plots.sh - H12 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H12 ttft plots/H12-ttft-mape-per-experiment.png baseline cpu
sh tools/plot-arms.sh "$DB" H12 tpot plots/H12-tpot-mape-per-experiment.png baseline cpu
