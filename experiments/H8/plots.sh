#!/bin/sh
# experiments/H8/plots.sh - H8 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H8 e2e plots/H8-e2e-mape-per-experiment.png baseline allreduce
