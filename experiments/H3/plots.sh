#!/bin/sh
# experiments/H3/plots.sh - H3 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H3 e2e plots/H3-e2e-mape-per-experiment.png baseline fused
