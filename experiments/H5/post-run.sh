#!/bin/sh
# experiments/H5/post-run.sh - Part A: the simulator-internal sweep, into the store.
set -eu
bin/tam sweep --study H5A --db "$1" --data "$2"
