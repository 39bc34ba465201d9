#!/bin/sh
# experiments/H9/plots.sh - H9 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H9 e2e plots/H9-e2e-mape-per-experiment.png baseline no_lm_head
