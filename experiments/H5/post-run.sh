#!/bin/sh
# experiments/H5/post-run.sh - Part A: the simulator-internal sweep, into the store.
# Usage: post-run.sh DB DATA [KERNELS]
set -eu
bin/tam sweep --study H5A --db "$1" --data "$2" --kernels "${3:-proposal-h100}"
