#!/bin/sh
# tests/tier2.sh - the Tier 2 comparison (tools/tier2.sh, experiments/T2)
# without a GPU, by an invariant: a "null" measurement - a profile whose
# bw_sequential and bw_paged_kv both equal the base configuration's bw_eta x
# the datasheet HBM bandwidth, and a GEMM table that is a copy of the shared
# one - must change nothing, so every Tier 2 arm reproduces Tier 1's
# cross-validation byte for byte, and T2.gain_single (Tier 1's median minus
# Tier 2's) is exactly 0.  A profile with a different bw_paged_kv must change
# the result.  Four small experiments (two families, one MoE) and one split
# seed keep it short; every file lives in a scratch folder.
# Env: TAM (binary, default bin/tam), DATA.  Ends "tier2: N passed, N failed".
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
export DATA TAM
. tests/lib.sh

if [ ! -d "$DATA/corpus" ] || [ ! -x "$TAM" ]; then
    bad "needs $TAM and the corpus under $DATA"
    report tier2
    exit 1
fi

# experiments 7, 9 (Mixtral, MoE) and 13, 14 (CodeLlama-34B) of the corpus manifest:
# two families, so the 10/4-style split has something to train on
sqlite3 -batch :memory: "SELECT json_set(m, '\$.experiments', (SELECT json_group_array(json(value))
    FROM json_each(m, '\$.experiments') WHERE json_extract(value, '\$.number') IN (7, 9, 13, 14)))
    FROM (SELECT readfile('experiments/corpus.json') AS m);" > "$T/manifest.json"
[ "$(sqlite3 -batch :memory: "SELECT json_array_length(readfile('$T/manifest.json'), '\$.experiments')")" = 4 ] &&
    ok || bad "mini manifest: $(head -c 300 "$T/manifest.json")"

ETA=0.8
printf '{"name": "t2-test", "bw_eta": %s, "moe_fused": true}\n' "$ETA" > "$T/base.json"
# bw_eta x 3.35e12 as the engine computes it: one double multiplication,
# printed with 17 significant digits so that it reads back as the same double
BW=$(awk -v e="$ETA" 'BEGIN { printf "%.17g", e * 3.35e12 }')
mkprofile() { # DIR BW_SEQ BW_KV GEMM_SCALE (the shared GEMM table, every MFU x GEMM_SCALE)
    mkdir -p "$1/mfu/gemm"
    if [ "$4" = 1 ]; then
        cp "$DATA/mfu/h100/gemm/data.csv" "$1/mfu/gemm/data.csv"
    else
        awk -F, -v OFS=, -v s="$4" 'NR == 1 { print; next } { $4 = $4 / s; $5 = $5 * s; print }' \
            "$DATA/mfu/h100/gemm/data.csv" > "$1/mfu/gemm/data.csv"
    fi
    printf '{"name": "H100 SXM 80GB", "peak_flops_dense_bf16": 989.5e12, "hbm_bandwidth": 3.35e12,
 "memory_bytes": 85899345920, "nvlink_bandwidth": 900e9, "bw_sequential": %s, "bw_paged_kv": %s,
 "measured": "TEST: not a measurement (tests/tier2.sh)"}\n' "$2" "$3" > "$1/profile.json"
}
mkprofile "$T/null" "$BW" "$BW" 1
cmp -s "$DATA/mfu/h100/gemm/data.csv" "$T/null/mfu/gemm/data.csv" && ok ||
    bad "the null GEMM table is not a copy of the shared one"

# Tier 1 on the same experiments, the reference
"$TAM" calibrate --cross-validate --manifest "$T/manifest.json" --splits 1 --config "$T/base.json" \
    --quiet -o "$T/t1.csv" > /dev/null 2> "$T/t1.err" && ok || bad "tier 1 cv: $(cat "$T/t1.err")"
sh tools/import-csv.sh "$T/db" tier1_cv "$T/t1.csv" 2> /dev/null && ok || bad "import tier1_cv"

# Tier 2 over the null measurement
if sh tools/tier2.sh "$T/db" "$DATA" "$T/base.json" "$T/null" "$T/manifest.json" 1 "$T/out" \
    > "$T/t2.out" 2>&1; then ok; else bad "tier2.sh: $(tail -5 "$T/t2.out")"; fi
for arm in bw gemm both; do
    cmp -s "$T/t1.csv" "$T/out/tier2-$arm-cv.csv" && ok ||
        bad "arm $arm over the null measurement differs from Tier 1"
done
n1=$(($(wc -l < "$T/t1.csv") - 1))
[ "$n1" -gt 0 ] && [ "$(sqlite3 -batch "$T/db" "SELECT count(*) FROM tier2_cv")" = $((3 * n1)) ] && ok ||
    bad "tier2_cv should hold 3 x $n1 rows"
[ "$(sqlite3 -batch "$T/db" "SELECT count(DISTINCT arm) FROM tier2_cv")" = 3 ] && ok || bad "three arms"
[ "$(sqlite3 -batch "$T/db" "SELECT gemm_sha256 FROM tier2_inputs")" = \
  "$(sha256sum "$T/null/mfu/gemm/data.csv" | cut -d' ' -f1)" ] && ok || bad "tier2_inputs checksum"
grep -q '"measured_bw":true' "$T/out/tier2-bw-config.json" && ok ||
    bad "the bw arms' configuration lacks measured_bw: $(cat "$T/out/tier2-bw-config.json")"

# The pre-registered criteria evaluate on these tables: the gain is exactly 0.
"$TAM" report --criteria experiments/T2/criteria.json --db "$T/db" > "$T/rep.out" 2>&1 && ok ||
    bad "tam report T2: $(cat "$T/rep.out")"
[ "$(sqlite3 -batch "$T/db" "SELECT value FROM criteria WHERE hypothesis = 'T2' AND criterion = 'T2.gain_single'")" = 0.0 ] &&
    ok || bad "T2.gain_single over the null measurement: $(grep gain "$T/rep.out")"
[ "$(sqlite3 -batch "$T/db" "SELECT count(*) FROM criteria WHERE hypothesis = 'T2' AND criterion <> 'verdict' AND value IS NULL")" = 0 ] &&
    ok || bad "a T2 criterion evaluated to NULL: $(cat "$T/rep.out")"

# Real differences: half the KV bandwidth changes the bw arm; half the GEMM
# efficiency changes the gemm arm.
mkprofile "$T/half" "$BW" "$(awk -v b="$BW" 'BEGIN { printf "%.17g", b / 2 }')" 0.5
TIER2_ARMS="bw gemm" sh tools/tier2.sh "$T/db2" "$DATA" "$T/base.json" "$T/half" "$T/manifest.json" 1 "$T/out2" \
    > "$T/t2b.out" 2>&1 || bad "tier2.sh (half KV bandwidth): $(tail -5 "$T/t2b.out")"
cmp -s "$T/t1.csv" "$T/out2/tier2-bw-cv.csv" && bad "halving bw_paged_kv changed nothing" || ok
cmp -s "$T/t1.csv" "$T/out2/tier2-gemm-cv.csv" && bad "halving the GEMM MFUs changed nothing" || ok

# Refusals: a measured folder without its GEMM table, a missing profile.
mkdir -p "$T/nogemm"
cp "$T/null/profile.json" "$T/nogemm/"
expect_fail "no GEMM table" "mfu/gemm/data.csv: no such file" \
    sh tools/tier2.sh "$T/db3" "$DATA" "$T/base.json" "$T/nogemm" "$T/manifest.json" 1 "$T/out3"
expect_fail "no profile" "profile.json: no such file" \
    sh tools/tier2.sh "$T/db3" "$DATA" "$T/base.json" "$T/none" "$T/manifest.json" 1 "$T/out3"
[ -f "$T/db3" ] && bad "a refused run wrote $T/db3" || ok

report tier2
