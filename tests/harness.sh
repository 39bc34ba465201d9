#!/bin/sh
# tests/harness.sh - ingest, run, report and the durability contract of the
# store, end to end on real corpus data (skipped without DATA):
#   - one prediction per simulated request per ok run, joinable to its twin;
#   - re-ingest and re-run change nothing (idempotent, resumable);
#   - SIGKILL at a random moment leaves no partial run: every run is either
#     'ok' with all its rows, or has no rows and is marked 'failed' on reopen;
#   - two writers at once both land all their rows.
# Ends with "harness: N passed, N failed".
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
. tests/lib.sh
skip_without_corpus harness
SMALL=jan20-codellama-prefill-1
BIG=20260217-202857-llama-2-70b-tp4-general
DB="$T/t.db"
G=tests/fixtures/harness/grid.json

"$TAM" ingest --db "$DB" --data "$DATA" --only $SMALL --quiet && ok || bad "ingest"
n1=$(q "$DB" "SELECT count(*) FROM measured")
"$TAM" ingest --db "$DB" --data "$DATA" --only $SMALL --quiet
[ "$n1" = 200 ] && [ "$(q "$DB" "SELECT count(*) FROM measured")" = 200 ] && ok || bad "ingest not idempotent ($n1)"
[ "$(q "$DB" "SELECT count(DISTINCT split_seed) FROM splits")" = 21 ] && ok || bad "21 split seeds expected"
[ "$(q "$DB" "SELECT count(*) FROM splits WHERE split_seed = 42 AND role = 'held'")" = 4 ] && ok || bad "one held-out experiment per family (4 of 14)"

"$TAM" run --grid $G --db "$DB" --data "$DATA" --only $SMALL --quiet && ok || bad "run"
[ "$(q "$DB" "SELECT count(*) FROM runs WHERE status = 'ok'")" = 4 ] && ok || bad "2 arms x 2 seeds = 4 runs"
[ "$(q "$DB" "SELECT count(*) FROM predictions")" = 800 ] && ok || bad "one prediction per request per run"
[ "$(q "$DB" "SELECT count(*) FROM predictions p JOIN runs r ON r.id = p.run_id LEFT JOIN measured m ON m.experiment_id = r.experiment_id AND m.req_index = p.req_index WHERE m.req_index IS NULL")" = 0 ] && ok || bad "every prediction joins its measured twin"
"$TAM" run --grid $G --db "$DB" --data "$DATA" --only $SMALL --quiet
[ "$(q "$DB" "SELECT count(*) FROM runs")" = 4 ] && ok || bad "a second run must skip stored runs"
"$TAM" report --criteria tests/fixtures/harness/criteria.json --db "$DB" > "$T/rep" && ok || bad "report"
grep -q "^HT.slower .* PASS" "$T/rep" && grep -q "^HT.impossible .* FAIL" "$T/rep" && grep -q "HT verdict: Confirmed" "$T/rep" && ok || bad "report lines: $(cat "$T/rep")"
[ "$(q "$DB" "SELECT count(*) FROM criteria WHERE hypothesis = 'HT'")" = 3 ] && ok || bad "criteria rows stored"

# SIGKILL at several moments of a big run; check the contract after each
"$TAM" ingest --db "$DB" --data "$DATA" --only $BIG --quiet
for delay in 0.05 0.3 0.6 0.9 1.2; do
    "$TAM" run --grid $G --db "$DB" --data "$DATA" --only $BIG --quiet 2>/dev/null &
    pid=$!
    sleep $delay
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    "$TAM" ingest --db "$DB" --data "$DATA" --only $BIG --quiet   # reopen: stale runs -> failed
    partial=$(q "$DB" "SELECT count(*) FROM runs r WHERE r.status <> 'ok' AND EXISTS (SELECT 1 FROM predictions p WHERE p.run_id = r.id)")
    short=$(q "$DB" "SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.status = 'ok' AND (SELECT count(*) FROM predictions p WHERE p.run_id = r.id) <> e.n_requests")
    running=$(q "$DB" "SELECT count(*) FROM runs WHERE status = 'running'")
    [ "$partial" = 0 ] && [ "$short" = 0 ] && [ "$running" = 0 ] && ok || bad "after kill at ${delay}s: $partial partial, $short short, $running still running"
    [ "$(q "$DB" "PRAGMA integrity_check")" = ok ] && ok || bad "integrity after kill"
done
[ "$(q "$DB" "SELECT count(*) FROM predictions WHERE run_id IN (SELECT id FROM runs WHERE experiment_id = '$SMALL')")" = 800 ] && ok || bad "kills lost earlier rows"
# finish the grid, then two concurrent writers on another database
"$TAM" run --grid $G --db "$DB" --data "$DATA" --only $BIG --quiet && ok || bad "resume after kills"
[ "$(q "$DB" "SELECT count(*) FROM runs WHERE status = 'ok' AND experiment_id = '$BIG'")" = 4 ] && ok || bad "resumed grid complete"
D2="$T/c.db"
"$TAM" ingest --db "$D2" --data "$DATA" --only $SMALL --quiet
"$TAM" ingest --db "$D2" --data "$DATA" --only $BIG --quiet
"$TAM" run --grid $G --db "$D2" --data "$DATA" --only $BIG --quiet & p1=$!
sed 's/"HT"/"HU"/; s/eta=0.5/eta=0.6/; s/0.5}/0.6}/' $G > "$T/g2.json"
"$TAM" run --grid "$T/g2.json" --db "$D2" --data "$DATA" --only $BIG --quiet & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && ok || bad "concurrent writers failed ($r1, $r2)"
# baseline is shared by both grids (same hash): 1 + 1 + 1 configurations x 2 seeds
[ "$(q "$D2" "SELECT count(*) FROM runs WHERE status = 'ok'")" -ge 6 ] && ok || bad "concurrent runs missing"
[ "$(q "$D2" "SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM predictions p WHERE p.run_id = r.id) <> 16800")" = 0 ] && ok || bad "concurrent runs incomplete"
report harness
