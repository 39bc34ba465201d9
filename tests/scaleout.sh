#!/bin/sh
# tests/scaleout.sh - a grid split into independent jobs (tam jobs) that write
# shard databases, run in parallel (xargs -P2 and make -j2), merged back (tam
# merge): the merged store holds exactly the predictions of running the grid
# in one store, and merging again changes nothing.  Ends with
# "scaleout: N passed, N failed".
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
. tests/lib.sh
skip_without_corpus scaleout
# two small experiments (GuideLLM, 200 requests each), 2 arms x 2 seeds = 8 jobs
M="$T/manifest.json"
python3 - "$M" <<'PY' 2>/dev/null || sed -n '1,200p' experiments/corpus.json > "$M"
import json, sys
d = json.load(open('experiments/corpus.json'))
d['experiments'] = [e for e in d['experiments'] if e['number'] in (13, 14)]
json.dump(d, open(sys.argv[1], 'w'))
PY
G=tests/fixtures/harness/grid.json
"$TAM" jobs --grid $G --shards "$T/shards" --manifest "$M" --data "$DATA" --quiet | sed "s|bin/tam|$TAM|g" > "$T/jobs.sh"
[ "$(wc -l < "$T/jobs.sh")" = 8 ] && ok || bad "8 jobs expected, got $(wc -l < "$T/jobs.sh")"
xargs -P 2 -I CMD sh -c CMD < "$T/jobs.sh" && ok || bad "jobs failed"
[ "$(ls "$T/shards"/*.db | wc -l)" = 8 ] && ok || bad "8 shards expected"
"$TAM" merge --db "$T/merged.db" --quiet "$T/shards"/*.db > "$T/m1" && ok || bad "merge"
grep -q "8 runs, 1600 predictions copied; 0 runs already present" "$T/m1" && ok || bad "merge counts: $(cat "$T/m1")"
# the same grid in one store
"$TAM" ingest --db "$T/one.db" --data "$DATA" --manifest "$M" --quiet
"$TAM" run --grid $G --db "$T/one.db" --data "$DATA" --manifest "$M" --quiet
dump() { q "$1" "SELECT c.hash, r.experiment_id, r.seed, p.req_index, p.point, p.arrival, p.scheduled,
                 p.ttft, p.tpot, p.e2e, p.preemptions, p.prefix_hit_tokens, p.rejected
          FROM predictions p JOIN runs r ON r.id = p.run_id JOIN configs c ON c.id = r.config_id
          WHERE r.status = 'ok' ORDER BY 1, 2, 3, 4"; }
dump "$T/one.db" > "$T/one.txt"; dump "$T/merged.db" > "$T/merged.txt"
[ -s "$T/one.txt" ] && cmp -s "$T/one.txt" "$T/merged.txt" && ok || bad "merged predictions differ from one-store run"
m1=$(q "$T/merged.db" "SELECT label, round(avg(mape_e2e), 12) FROM corpus_metrics WHERE hypothesis = 'HT' GROUP BY label")
o1=$(q "$T/one.db" "SELECT label, round(avg(mape_e2e), 12) FROM corpus_metrics WHERE hypothesis = 'HT' GROUP BY label")
[ -n "$m1" ] && [ "$m1" = "$o1" ] && ok || bad "metrics differ: $m1 vs $o1"
# idempotent: merge again, nothing changes
before=$(q "$T/merged.db" "SELECT count(*), sum(ttft) FROM predictions")
"$TAM" merge --db "$T/merged.db" --quiet "$T/shards"/*.db > "$T/m2" && ok || bad "second merge"
grep -q "0 runs, 0 predictions copied; 8 runs already present" "$T/m2" && ok || bad "second merge copied: $(cat "$T/m2")"
[ "$(q "$T/merged.db" "SELECT count(*), sum(ttft) FROM predictions")" = "$before" ] && ok || bad "second merge changed rows"
# make -j2 with the generated makefile gives the same shards
"$TAM" jobs --grid $G --shards "$T/mk" --manifest "$M" --data "$DATA" --format make --quiet > "$T/jobs.mk"
make -s -j2 -f "$T/jobs.mk" TAM="$TAM" >/dev/null 2>&1 && ok || bad "make -j2 jobs"
"$TAM" merge --db "$T/mk.db" --quiet "$T/mk"/*.db > /dev/null
dump "$T/mk.db" > "$T/mk.txt"
cmp -s "$T/one.txt" "$T/mk.txt" && ok || bad "make-run shards differ"
# a foreign file is refused with a clear message
echo "not a database" > "$T/bogus.db"
"$TAM" merge --db "$T/merged.db" "$T/bogus.db" 2> "$T/err" && bad "bogus shard accepted" || { grep -q "bogus.db" "$T/err" && ok || bad "unclear error: $(cat "$T/err")"; }
# tam run and tam jobs read a grid the same way and refuse the same bad ones
# before anything runs or is printed
printf '{"hypothesis": "X", "seeds": [42], "arms": []}' > "$T/g-empty.json"
printf '{"hypothesis": "X", "seeds": [42], "arms": [{"label": "a", "config": {"bw_eta": 7}}]}' > "$T/g-badconf.json"
printf '{"hypothesis": "X", "seeds": [42], "arms": [{"label": "a", "config": {}}, {"label": "a", "config": {}}]}' > "$T/g-twice.json"
printf '{"hypothesis": "X", "seeds": [-1], "arms": [{"label": "a", "config": {}}]}' > "$T/g-seed.json"
for cmd in jobs run; do
    set -- --manifest "$M" --data "$DATA" --db "$T/refused.db"
    [ $cmd = jobs ] && set -- --manifest "$M" --data "$DATA" --shards "$T/refused"
    expect_fail "$cmd: empty grid" 'non-empty arrays' "$TAM" $cmd --grid "$T/g-empty.json" "$@"
    expect_fail "$cmd: bad arm config" "arms\[0\].config: field 'bw_eta': 7" "$TAM" $cmd --grid "$T/g-badconf.json" "$@"
    expect_fail "$cmd: label twice" "label 'a' used twice" "$TAM" $cmd --grid "$T/g-twice.json" "$@"
    expect_fail "$cmd: negative seed" 'seeds must be non-negative' "$TAM" $cmd --grid "$T/g-seed.json" "$@"
    [ -s "$T/xf.out" ] && bad "$cmd printed output for a refused grid" || ok
done
expect_fail "run: unknown --arm" "--arm 'nosuch'" "$TAM" run --grid $G --arm nosuch --manifest "$M" --db "$T/refused.db"
[ -e "$T/refused.db" ] && bad "a refused grid created $T/refused.db" || ok
report scaleout
