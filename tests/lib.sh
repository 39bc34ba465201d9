# tests/lib.sh - what every shell test shares; sourced from the repository
# root (`. tests/lib.sh`).  Gives: a scratch directory $T (removed on exit),
# the counters and ok / bad, expect_fail, q DB SQL (sqlite3), skip_without_corpus
# NAME, and report NAME, which prints the closing "NAME: N passed, N failed"
# line that tests/run-unit.sh adds up.
pass=0 fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

# expect_fail NAME PATTERN CMD...: non-zero exit and stderr matching PATTERN
expect_fail() {
    name=$1 pat=$2; shift 2
    if "$@" >"$T/xf.out" 2>"$T/xf.err"; then bad "$name: exited 0"; return; fi
    if grep -qE -- "$pat" "$T/xf.err"; then ok; else bad "$name: stderr lacks /$pat/: $(cat "$T/xf.err")"; fi
}

report() { echo "$1: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; }

q() { sqlite3 -batch "$1" "$2"; }

# skip_without_corpus NAME: with no $DATA/corpus or no sqlite3, say so, print
# NAME's (empty) count line and end the test.
skip_without_corpus() {
    if [ ! -d "$DATA/corpus" ] || ! command -v sqlite3 >/dev/null; then
        echo "# skip: no $DATA/corpus or no sqlite3"
        echo "$1: 0 passed, 0 failed"
        exit 0
    fi
}
