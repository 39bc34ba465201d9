#!/bin/sh
# experiments/H5/plots.sh - H5 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H5 e2e plots/H5-e2e-mape-per-experiment.png baseline additive
