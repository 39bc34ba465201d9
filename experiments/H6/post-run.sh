#!/bin/sh
# experiments/H6/post-run.sh - Part A: the simulator-internal sweep, into the store.
# Usage: post-run.sh DB DATA [KERNELS]
set -eu
bin/tam sweep --study H6A --db "$1" --data "$2" --kernels "${3:-proposal-h100}"
