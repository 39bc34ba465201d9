#!/bin/sh
# experiments/H6/post-run.sh - Part A: the simulator-internal sweep, into the store.
set -eu
bin/tam sweep --study H6A --db "$1" --data "$2"
