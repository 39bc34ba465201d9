#!/bin/sh
# experiments/H10/plots.sh - H10 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" H10 e2e plots/H10-e2e-mape-per-experiment.png baseline allreduce_vllm
