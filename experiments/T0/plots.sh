#!/bin/sh
# experiments/T0/plots.sh - Tier 0 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" T0 e2e plots/T0-e2e-mape-per-experiment.png baseline tier0
