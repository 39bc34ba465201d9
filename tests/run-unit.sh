#!/bin/sh
# tests/run-unit.sh - run each test program, add up their "N passed, N failed"
# lines, and print the total in the same form (the line CI reads).
# Usage: run-unit.sh TEST...   (env: TAM = the tam binary to test, DATA)
set -u
TAM=${TAM:-bin/tam}
export TAM DATA
pass=0 fail=0 broken=0
for t in "$@"; do
    out=$("$t" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[A-Za-z0-9_./-]+: [0-9]+ passed, [0-9]+ failed$' | tail -1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out"
        echo "not ok - $t exited $rc without a result line"
        broken=$((broken + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed$/\1/')
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
        printf '%s\n' "$out" | grep -v '^ok' 
        [ "$f" -eq 0 ] && { echo "not ok - $t exited $rc"; broken=$((broken + 1)); }
    else
        echo "ok - $line"
    fi
done
fail=$((fail + broken))
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
