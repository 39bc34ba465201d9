#!/bin/sh
# tools/tier2.sh - Tier 2: Tier 1's cross-validation (tam calibrate
# --cross-validate, the same protocol, seeds and guard) over what the GPU
# micro-benchmarks measured (tools/bench/), in three arms so that each part's
# worth shows on its own:
#   bw    measured bandwidths: weights at bw_sequential, KV at bw_paged_kv
#         ("measured_bw": true over the base configuration), shared GEMM table
#   gemm  the project's own GEMM table (--gemm-mfu), the base's bandwidth
#   both  both: Tier 2 proper
# Tier 1 (table tier1_cv) is the same protocol with neither, so "Tier 1 with
# and without them" is tier1_cv against tier2_cv (experiments/T2/).
#
# Usage: tier2.sh DB DATA BASE_CONFIG MEASURED_DIR [MANIFEST [SPLITS [OUTDIR]]]
#   MEASURED_DIR holds profile.json and mfu/gemm/data.csv as
#   tools/bench/harness.py derive writes them.
# Writes OUTDIR/tier2-{bw,gemm,both}-cv.csv and OUTDIR/tier2-cv.csv (default
# OUTDIR build), and replaces table tier2_cv in DB (tier1_cv's columns after
# a first column `arm`) in one transaction.  TIER2_ARMS="bw gemm" (say) runs
# only some arms; the criteria need all three.
set -eu
[ $# -ge 4 ] || { echo "usage: tier2.sh DB DATA BASE_CONFIG MEASURED_DIR [MANIFEST [SPLITS [OUTDIR]]]" >&2; exit 2; }
DB=$1 DATA=$2 BASE=$3 MEAS=$4
MANIFEST=${5:-experiments/corpus.json} SPLITS=${6:-20} OUTDIR=${7:-build}
ARMS=${TIER2_ARMS:-bw gemm both}
TAM=${TAM:-bin/tam}
PROFILE=$MEAS/profile.json GEMM=$MEAS/mfu/gemm/data.csv
sqlq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; } # a path as an SQL literal
for f in "$BASE" "$PROFILE" "$GEMM" "$MANIFEST"; do
    [ -f "$f" ] || { echo "tier2: $f: no such file" >&2; exit 1; }
done
mkdir -p "$OUTDIR"
# The base configuration with measured_bw on; sqlite3's JSON functions keep
# every other key as it is (tam re-validates the result strictly).
BWCONF=$OUTDIR/tier2-bw-config.json
sqlite3 -batch :memory: "SELECT json_set(readfile($(sqlq "$BASE")), '\$.measured_bw', json('true'));" > "$BWCONF"
for arm in $ARMS; do
    case $arm in
        bw)   set -- --config "$BWCONF" --hardware "$PROFILE" ;;
        gemm) set -- --config "$BASE" --gemm-mfu "$GEMM" ;;
        both) set -- --config "$BWCONF" --hardware "$PROFILE" --gemm-mfu "$GEMM" ;;
        *)    echo "tier2: TIER2_ARMS: unknown arm '$arm' (bw, gemm, both)" >&2; exit 2 ;;
    esac
    echo "tier2: arm $arm: $TAM calibrate --cross-validate $*" >&2
    "$TAM" calibrate --cross-validate --manifest "$MANIFEST" --splits "$SPLITS" --data "$DATA" \
        --quiet "$@" -o "$OUTDIR/tier2-$arm-cv.csv" > "$OUTDIR/tier2-$arm-cv.txt"
done
# One table: the arm first, then tier1_cv's columns.
TMPCSV=$OUTDIR/tier2-cv.csv.tmp$$
{
    printf 'arm,'
    set -- $ARMS
    head -n 1 "$OUTDIR/tier2-$1-cv.csv"
    for arm in $ARMS; do
        tail -n +2 "$OUTDIR/tier2-$arm-cv.csv" | sed "s/^/$arm,/"
    done
} > "$TMPCSV"
mv "$TMPCSV" "$OUTDIR/tier2-cv.csv"
sh tools/import-csv.sh "$DB" tier2_cv "$OUTDIR/tier2-cv.csv"
# What the numbers were computed from: the profile as it was, and the GEMM
# table's checksum (a later re-measurement must not relabel these results).
GSUM=$(sha256sum "$GEMM" | cut -d' ' -f1)
sqlite3 -batch -cmd '.timeout 600000' "$DB" <<SQL
.bail on
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS tier2_inputs;
CREATE TABLE tier2_inputs AS SELECT $(sqlq "$PROFILE") AS profile_path,
    readfile($(sqlq "$PROFILE")) AS profile_json, $(sqlq "$GEMM") AS gemm_path, '$GSUM' AS gemm_sha256;
COMMIT;
SQL
