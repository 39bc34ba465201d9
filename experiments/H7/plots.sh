#!/bin/sh
# experiments/H7/plots.sh - H7 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H7 e2e plots/H7-e2e-mape-per-experiment.png baseline moe_fused
