#!/bin/sh
# experiments/H11/plots.sh - H11 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H11 ttft plots/H11-ttft-mape-per-experiment.png baseline frontend
sh tools/plot-arms.sh "$DB" H11 tpot plots/H11-tpot-mape-per-experiment.png baseline frontend
