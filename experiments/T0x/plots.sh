#!/bin/sh
# experiments/T0x/plots.sh - Tier 0 figures into plots/.
set -eu
DB=${1:-db/tam.db}
sh tools/plot-arms.sh "$DB" T0x e2e plots/T0x-e2e-mape-per-experiment.png baseline tier0
