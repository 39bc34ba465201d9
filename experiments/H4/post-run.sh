#!/bin/sh
# experiments/H4/post-run.sh - Part A: the simulator-internal sweep, into the store.
# Usage: post-run.sh DB DATA [KERNELS]
set -eu
bin/tam sweep --study H4A --db "$1" --data "$2" --kernels "${3:-proposal-h100}"
