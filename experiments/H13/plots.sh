#!/bin/sh
# experiments/H13/plots.sh - H13 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H13 ttft plots/H13-ttft-mape-per-experiment.png baseline version async
sh tools/plot-arms.sh "$DB" H13 tpot plots/H13-tpot-mape-per-experiment.png baseline version async
