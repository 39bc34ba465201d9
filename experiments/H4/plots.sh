#!/bin/sh
# experiments/H4/plots.sh - H4 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H4 e2e plots/H4-e2e-mape-per-experiment.png baseline per_component
