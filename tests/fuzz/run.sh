#!/bin/sh
# tests/fuzz/run.sh - build and run every libFuzzer target, one after another.
#
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 60; TARGETs default to every tests/fuzz/fz_*.c
# For each target: first the stored regression inputs
# (tests/fuzz/regressions/<t>/) are replayed (they must all pass), then the
# fuzzer runs for the given time on a working corpus build-fuzz/corpus/<t>
# seeded from tests/fuzz/{corpus,bad-inputs,regressions}/<t> (the files in
# the repo are never modified) and from the data directory's own files that
# the target parses (DATA, default ../shared/data: model configs, TraceV2
# YAML, the hardware datasheet), copied into the scratch corpus only, with tests/fuzz/dict/<t>.dict and a -max_len suited to the file.
# A crash, leak, UB report, timeout (> 10 s per input) or out-of-memory
# (> 2 GB) stops that target and leaves the input in build-fuzz/artifacts/<t>/.
# One summary line per target; exit status 1 if anything failed.
# Env: FZ_FORK=1 keeps fuzzing after a crash (libFuzzer -fork=1 -ignore_*),
set -u
cd "$(dirname "$0")/../.."
SECS=${1:-60}
[ $# -gt 0 ] && shift
case $SECS in ''|*[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;; esac
OUT=${OUT:-build-fuzz}
export OUT
# Scratch folders (fz_harness.h) go under $OUT/tmp: a crashing input aborts
# before the harness can remove its folder, so they are swept here.
TMPDIR=$(pwd)/$OUT/tmp
export TMPDIR
mkdir -p "$TMPDIR"
trap 'rm -rf "$TMPDIR"' EXIT

if [ $# -eq 0 ]; then
    set -- $(ls tests/fuzz/fz_*.c | sed 's|.*/fz_||; s|\.c$||')
fi
sh tests/fuzz/build.sh "$@" || exit 1

# The largest input worth trying: a few times the seed files.
max_len() {
    case $1 in
        guidellm) echo 16384 ;;
        ip_profile|v2_yaml|v2_json) echo 2048 ;;
        *) echo 4096 ;;
    esac
}

DATA=${DATA:-../shared/data}
# data_seeds TARGET DIR: copy the data directory's files that TARGET parses
# into DIR (build-fuzz scratch; never into the repository).
data_seeds() {
    case $1 in
        model)   for f in "$DATA"/models/*/config.json; do
                     [ -f "$f" ] && cp "$f" "$2/data-$(basename "$(dirname "$f")").json"; done ;;
        v2_yaml) for f in "$DATA"/corpus/tracev2/*/trace.yaml; do
                     [ -f "$f" ] && cp "$f" "$2/data-$(basename "$(dirname "$f")").yaml"; done ;;
        hw)      for f in "$DATA"/hardware/*.json; do
                     [ -f "$f" ] && cp "$f" "$2/data-$(basename "$f")"; done ;;
    esac
    return 0
}

status=0
summary=""
for t in "$@"; do
    bin="$OUT/fz_$t"
    work="$OUT/corpus/$t"
    art="$OUT/artifacts/$t"
    log="$OUT/logs/$t.log"
    mkdir -p "$work" "$art" "$OUT/logs"
    data_seeds "$t" "$work"

    # 1. stored regression inputs
    reg="ok"
    if ls tests/fuzz/regressions/"$t"/* >/dev/null 2>&1; then
        if "$bin" tests/fuzz/regressions/"$t"/* >"$OUT/logs/$t.regress.log" 2>&1; then
            reg="ok ($(ls tests/fuzz/regressions/"$t" | wc -l) inputs)"
        else
            reg="FAILED (see $OUT/logs/$t.regress.log)"
            status=1
        fi
    fi

    # 2. fuzzing
    dict=""
    [ -f tests/fuzz/dict/"$t".dict ] && dict="-dict=tests/fuzz/dict/$t.dict"
    fork=""
    [ "${FZ_FORK:-0}" = 1 ] && fork="-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1"
    stamp="$OUT/logs/$t.stamp"
    : > "$stamp"
    sleep 1 # artifacts newer than the stamp are this run's
    start=$(date +%s)
    seeds="tests/fuzz/corpus/$t"
    for d in tests/fuzz/bad-inputs/"$t" tests/fuzz/regressions/"$t"; do
        [ -d "$d" ] && seeds="$seeds $d"
    done
    "$bin" "$work" $seeds -max_total_time="$SECS" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
        $dict $fork >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    runs=$(grep -E '^stat::number_of_executed_units:' "$log" | tail -1 | awk '{print $2}')
    [ -n "$runs" ] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    [ -n "$runs" ] || runs="?"
    new=$(find "$art" -type f -newer "$stamp" | sort)
    ncrash=$(printf '%s' "$new" | grep -c . || true)
    # no artifact but a failure: the fuzzer could not run (bad flag, harness)
    [ "$ncrash" -gt 0 ] || [ "$rc" -eq 0 ] || ncrash="? (exit $rc without an artifact, see $log)"
    [ "$ncrash" = 0 ] || status=1
    ncorp=$(ls "$work" | wc -l)
    line=$(printf 'fz_%-13s runs %9s in %4ss  corpus %5s  crashes %s  regressions %s' \
        "$t" "$runs" "$secs" "$ncorp" "$ncrash" "$reg")
    echo "$line"
    for f in $new; do echo "    $f"; done
    summary="$summary$line
"
    rm -f "$stamp"
done
echo "---- fuzz summary (${SECS}s per target; logs in $OUT/logs) ----"
printf '%s' "$summary"
exit $status
