#!/bin/sh
# experiments/H14/plots.sh - H14 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H14 ttft plots/H14-ttft-mape-per-experiment.png baseline elementwise
sh tools/plot-arms.sh "$DB" H14 tpot plots/H14-tpot-mape-per-experiment.png baseline elementwise
