#!/bin/sh
# experiments/H6/plots.sh - H6 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H6 e2e plots/H6-e2e-mape-per-experiment.png baseline interp
