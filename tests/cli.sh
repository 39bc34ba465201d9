#!/bin/sh
# tests/cli.sh - the tam command as a user meets it: help, real runs,
# determinism of whole outputs, and bad input (clear error, non-zero exit,
# nothing written).  Env: TAM (binary), DATA.  Ends with "cli: N passed, N failed".
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
export DATA
. tests/lib.sh


# --help tells the truth and exits 0 for every command
for c in step simulate mfu config ingest run report bench sweep calibrate jobs merge stepcheck kernels; do
    if "$TAM" $c --help >"$T/h" 2>&1 && grep -q "usage: tam $c" "$T/h"; then ok; else bad "help $c"; fi
done
"$TAM" >/dev/null 2>&1 && bad "no command exits 0" || ok
expect_fail unknown-command "unknown command" "$TAM" frobnicate

# config: canonical form and stable hash; key order does not matter
h1=$("$TAM" config --unbound --config tests/fixtures/config-ok.json)
printf '{"name":"other","fused_qkv":true,"bw_eta":0.8}' > "$T/c2.json"
h2=$("$TAM" config --unbound --config "$T/c2.json")
[ "$(echo "$h1" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')" = "$(echo "$h2" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')" ] && ok || bad "hash depends on key order or name"
expect_fail config-typo "unknown field 'fused_qvk'" "$TAM" config --config tests/fixtures/config-typo.json
expect_fail preset-unknown "--preset 'nosuch': no such preset \(shipped: baseline, default\)" "$TAM" config --preset nosuch --unbound
expect_fail preset-and-config "--config and --preset both given" "$TAM" config --preset default --config tests/fixtures/config-ok.json --unbound
expect_fail config-negative "bw_eta.*-1" "$TAM" config --config tests/fixtures/config-negative.json

# --client-limit: a clear error for a bad value, before anything is read
V2=engine/tests/fixtures/trace/v2capped
for v in -1 abc 2.5 ""; do
    expect_fail "client-limit '$v'" "--client-limit: '$v' is not a whole number" "$TAM" simulate --trace $V2 --client-limit "$v"
done
expect_fail client-limit-workload "--client-limit applies to --trace" "$TAM" simulate --workload tests/fixtures/workload.csv --client-limit 4
expect_fail client-limit-guidellm "no replayed load point" "$TAM" simulate --trace engine/tests/fixtures/trace/glmini --client-limit 4

# server limits with --trace: a what-if on the same load, said on stderr.
# ipmini's prompts are ~82 tokens: a 16-token budget splits each prefill
# over several steps (later first tokens), and a one-block KV cache can hold
# none of them (every request rejected): the limits reach the simulator,
# not only the note
if [ -d "$DATA/models/llama-2-7b-hf" ]; then
    IPM=engine/tests/fixtures/trace/ipmini
    "$TAM" simulate --trace $IPM --model llama-2-7b-hf -o "$T/lim0.csv" 2>/dev/null && ok || bad "ipmini simulate"
    "$TAM" simulate --trace $IPM --model llama-2-7b-hf --max-num-batched-tokens 16 -o "$T/lim1.csv" 2>"$T/lim1.err" && ok || bad "ipmini --max-num-batched-tokens 16"
    grep -q "note: --max-num-batched-tokens 16 replaces the run's" "$T/lim1.err" && ok || bad "limit note: $(cat "$T/lim1.err")"
    cmp -s "$T/lim0.csv" "$T/lim1.csv" && bad "--max-num-batched-tokens 16 changed nothing with --trace" || ok
    "$TAM" simulate --trace $IPM --model llama-2-7b-hf --kv-blocks 1 -o /dev/null 2>"$T/lim2.err"
    grep -q "rejected 6" "$T/lim2.err" && ok || bad "--kv-blocks 1 with --trace: $(cat "$T/lim2.err")"
    expect_fail kv-blocks-zero "--kv-blocks: 0 is not a positive number" "$TAM" simulate --trace $IPM --model llama-2-7b-hf --kv-blocks 0
fi

# kernel data sets: a manifest of hand-made tables (engine/tests/fixtures/kset)
# needs no shared data; its digest is the one t_kset derives with sha256sum
KS=engine/tests/fixtures/kset
"$TAM" config --unbound > "$T/cu.json" && grep -q '"kernels":"proposal-h100","kernels_sha256":""' "$T/cu.json" && ok || bad "config --unbound: $(cat "$T/cu.json")"
"$TAM" config --kernels $KS/set.json > "$T/ck.json" && grep -q '"kernels_sha256":"0e59355c23dd27702d39b83232480946bd4f7563ad827b63a42767e268131ecc"' "$T/ck.json" && ok || bad "config --kernels manifest: $(cat "$T/ck.json")"
expect_fail kernels-unknown "kernels 'nosuchset': not a built-in set" "$TAM" config --kernels nosuchset
expect_fail kernels-unknown-step "kernels 'nosuchset': not a built-in set" "$TAM" step --model $KS/model.json --kernels nosuchset --decode 64
expect_fail kernels-bad-manifest "bad_unknown.json: unknown field 'gemms'" "$TAM" step --model $KS/model.json --kernels $KS/bad_unknown.json --decode 64
printf '{"kernels":"a\\b"}' > "$T/kq.json"
expect_fail kernels-backslash "field 'kernels'" "$TAM" config --config "$T/kq.json" --unbound
printf '{"kernels_sha256":"abc"}' > "$T/ks.json"
expect_fail kernels-sha-short "field 'kernels_sha256'" "$TAM" config --config "$T/ks.json" --unbound
printf '{"fp8_gemm_ratio":4.5}' > "$T/kr.json"
expect_fail fp8-ratio-range "fp8_gemm_ratio" "$TAM" config --config "$T/kr.json" --unbound
# a decode step on the tiny set: (67 us GEMMs + 19 us attention + 50 us), t_kset's derivation
"$TAM" step --preset baseline --model $KS/model.json --kernels $KS/set.json --decode 64,128,128,256 > "$T/ks-step.json" || bad "step on a manifest"
grep -q '"total_s":[[:space:]]*0.000136,' "$T/ks-step.json" && ok || bad "tiny-set decode step: $(grep total_s "$T/ks-step.json")"
grep -q '"kernels":[[:space:]]*"tiny-set"' "$T/ks-step.json" && grep -q '"kernels_sha256":[[:space:]]*"0e59355c23dd27702d39b83232480946bd4f7563ad827b63a42767e268131ecc"' "$T/ks-step.json" && ok || bad "tiny-set name or digest"
grep -q '"decode_attention":[[:space:]]*"measured"' "$T/ks-step.json" && ! grep -q '"extrapolated":[[:space:]]*true' "$T/ks-step.json" && ok || bad "tiny-set on-grid step flagged or not measured"
"$TAM" step --model $KS/model.json --kernels $KS/set.json --decode 512 | grep -q '"extrapolated":[[:space:]]*true' && ok || bad "off-grid context not flagged"
# a stored digest the files no longer give
printf '{"name":"stale","kernels":"%s","kernels_sha256":"%064d"}' $KS/set.json 0 > "$T/stale-k.json"
expect_fail kernels-stale-step "the measurements changed" "$TAM" step --model $KS/model.json --config "$T/stale-k.json" --decode 64
# stepcheck: usage, a trace with nothing to check, a bad trace.itl.csv (read
# before any model is needed; the error names file:line)
expect_fail stepcheck-usage "usage: tam stepcheck" "$TAM" stepcheck
expect_fail stepcheck-format "usage: tam stepcheck" "$TAM" stepcheck --trace $V2 --format json
expect_fail stepcheck-nothing "v2capped: nothing to check: no trace.itl.csv and no synchronous load point" "$TAM" stepcheck --trace $V2
cp -r $V2 "$T/v2itl"
printf 'request_id,chunk_index,timestamp_us\n0,0,100\n0,1,200,9\n' > "$T/v2itl/trace.itl.csv"
expect_fail stepcheck-ragged "v2itl/trace.itl.csv:3: 4 fields, the header has 3" "$TAM" stepcheck --trace "$T/v2itl"
printf 'request_id,chunk_index,timestamp_us\n0,0,300\n0,1,200\n' > "$T/v2itl/trace.itl.csv"
expect_fail stepcheck-nonmonotone "trace.itl.csv:3: column timestamp_us: request_id 0 chunk 1 at 200 us is earlier than chunk 0 at 300 us" "$TAM" stepcheck --trace "$T/v2itl"
printf 'request_id,timestamp_us\n0,300\n' > "$T/v2itl/trace.itl.csv"
expect_fail stepcheck-missing-column "trace.itl.csv:1: missing column chunk_index" "$TAM" stepcheck --trace "$T/v2itl" -o "$T/sc.csv"
[ ! -e "$T/sc.csv" ] && ok || bad "stepcheck left a partial output"

# tam --version: "tam REVISION", one line, exit 0
"$TAM" --version > "$T/ver" 2>&1 && [ "$(wc -l < "$T/ver")" -eq 1 ] && grep -qE '^tam [^ ]+$' "$T/ver" && ok || bad "--version: $(cat "$T/ver")"
# the terms outside the GPU kernels: bad values refused naming the field and the value
for bad_conf in '{"scheduling":"fast"}|c-sched.json: field .scheduling.: "fast" is not sync, async or version' \
                '{"scheduling":2}|field .scheduling. must be a string' \
                '{"cpu_req_s":-1e-6}|field .cpu_req_s.: -1e-06 is not a number in \[0, 0.001\]' \
                '{"cpu_step_s":0.2}|field .cpu_step_s.: 0.2 is not a number in \[0, 0.1\]' \
                '{"frontend_tok_s":0.01}|field .frontend_tok_s.: 0.01 is not a number in \[0, 0.001\]' \
                '{"frontend_s":2}|field .frontend_s.: 2 is not a number in \[0, 1\]' \
                '{"kernel_floor_s":0.01}|field .kernel_floor_s.: 0.01 is not a number in \[0, 0.001\]' \
                '{"kernel_floor_s":-1e-6}|field .kernel_floor_s.: -1e-06 is not a number' \
                '{"elementwise":"yes"}|field .elementwise. must be true or false'; do
    printf '%s' "${bad_conf%%|*}" > "$T/c-sched.json"
    expect_fail "config ${bad_conf%%|*}" "${bad_conf#*|}" "$TAM" config --config "$T/c-sched.json" --unbound
done
printf '{"scheduling":"version","frontend_s":0.0025,"cpu_req_s":8e-6,"elementwise":true,"kernel_floor_s":0}' > "$T/c-ok.json"
"$TAM" config --config "$T/c-ok.json" --unbound > "$T/c-ok.out" && grep -q '"scheduling":"version"' "$T/c-ok.out" && grep -q '"kernel_floor_s":0,' "$T/c-ok.out" && ok || bad "good values of the new keys: $(cat "$T/c-ok.out")"

if [ -d "$DATA/models" ]; then
    # the capped TraceV2 fixture: the inferred limit (2) is used unless overridden
    "$TAM" simulate --trace $V2 --model llama-2-7b-hf -o "$T/v2.csv" 2>"$T/v2.err" && grep -q "max in flight 2, median send lag 1.000 s; inferred limit 2 (used)" "$T/v2.err" && ok || bad "v2capped: $(cat "$T/v2.err")"
    grep -q "failed requests: 1 of 9, kept in the load.*1 not recorded, the run's typical request (mean 93 in / 4 out)" "$T/v2.err" && ok || bad "v2capped failed-request line: $(cat "$T/v2.err")"
    "$TAM" simulate --trace $V2 --model llama-2-7b-hf --client-limit 0 -o "$T/v2.csv" 2>"$T/v2.err" && grep -q "inferred limit 2 (not used: --client-limit 0)" "$T/v2.err" && ok || bad "v2capped --client-limit 0: $(cat "$T/v2.err")"
    "$TAM" simulate --trace $V2 --model llama-2-7b-hf --client-limit 5 -o "$T/v2.csv" 2>"$T/v2.err" && grep -q "inferred limit 2; --client-limit 5 used" "$T/v2.err" && ok || bad "v2capped --client-limit 5: $(cat "$T/v2.err")"
    # the overloaded run loads and says what it kept
    ov="$DATA/corpus/inference-perf-overload/20260218-160939-codellama-34b-tp2-reasoning"
    if [ -d "$ov" ]; then
        "$TAM" simulate --trace "$ov" -o "$T/ov.csv" 2>"$T/ov.err" && grep -q "failed requests: 4 of 4800, kept in the load" "$T/ov.err" && ok || bad "overload run: $(cat "$T/ov.err")"
        [ "$(wc -l < "$T/ov.csv")" -eq 4801 ] && ok || bad "overload run: 4800 rows expected"
    fi
    # step: a decode batch prints JSON with a positive total
    "$TAM" step --model llama-2-7b-hf --decode 1000x8 > "$T/step.json" && grep -q '"total_s"' "$T/step.json" && ok || bad "step json"
    expect_fail step-bad-dtype "torch_dtype.*bfloat17" "$TAM" step --model tests/fixtures/model-bad-dtype.json --decode 10
    expect_fail step-truncated "malformed JSON" "$TAM" step --model tests/fixtures/model-truncated.json --decode 10
    expect_fail step-missing "intermediate_size" "$TAM" step --model tests/fixtures/model-missing.json --decode 10
    expect_fail step-no-batch "describe a batch" "$TAM" step --model llama-2-7b-hf

    # simulate a CSV workload twice: byte-identical output
    "$TAM" simulate --workload tests/fixtures/workload.csv --model llama-2-7b-hf --kv-blocks 2000 -o "$T/a.csv" 2>/dev/null || bad "simulate csv"
    "$TAM" simulate --workload tests/fixtures/workload.csv --model llama-2-7b-hf --kv-blocks 2000 -o "$T/b.csv" 2>/dev/null
    cmp -s "$T/a.csv" "$T/b.csv" && ok || bad "simulate is not deterministic"
    [ "$(wc -l < "$T/a.csv")" -eq 6 ] && ok || bad "one row per request plus header"
    expect_fail ragged "ragged.csv:3: ragged row" "$TAM" simulate --workload tests/fixtures/ragged.csv --model llama-2-7b-hf --kv-blocks 100 -o "$T/r.csv"
    [ ! -e "$T/r.csv" ] && ok || bad "partial output left behind"
    expect_fail badnum "badnum.csv:2: column 'prompt_tokens': 'abc'" "$TAM" simulate --workload tests/fixtures/badnum.csv --model llama-2-7b-hf --kv-blocks 100
    # a KV cache too small for a request: the request is rejected with a reason
    expect_fail kv-too-small "row 2 .*needs more KV blocks than the whole cache holds" "$TAM" simulate --workload tests/fixtures/workload.csv --model llama-2-7b-hf --kv-blocks 40 -o "$T/k.csv"
    [ ! -e "$T/k.csv" ] && ok || bad "partial output left behind after rejection"
    "$TAM" simulate --workload tests/fixtures/workload.csv --model llama-2-7b-hf --kv-blocks 10 --allow-rejected --format json 2>/dev/null > "$T/rej.json"
    grep -q '"reason":"needs more KV blocks' "$T/rej.json" && ok || bad "--allow-rejected does not report the reason"
    # the step time series: one row per step, tokens within the budget
    "$TAM" simulate --workload tests/fixtures/workload.csv --model llama-2-7b-hf --kv-blocks 2000 --max-num-batched-tokens 256 --steps "$T/steps.csv" -o /dev/null 2>/dev/null
    awk -F, 'NR > 1 && $5 > 256 {bad = 1} END {exit bad || NR < 10}' "$T/steps.csv" && ok || bad "step series missing or over budget"
    # --steps with --trace: one row per engine step, each tagged with its unit
    "$TAM" simulate --trace "$DATA/corpus/guidellm/jan20-codellama-prefill-1" -o /dev/null --steps "$T/tst.csv" 2>/dev/null
    head -1 "$T/tst.csv" | grep -q '^unit,t_s,dt_s,prefill_chunks,decodes,tokens,running,waiting,free_blocks$' &&
        [ "$(tail -n +2 "$T/tst.csv" | cut -d, -f1 | sort -u | tr '\n' ' ')" = "0 1 2 3 4 " ] && ok ||
        bad "--steps with --trace: $(head -2 "$T/tst.csv")"
    # a whole corpus experiment, twice, identical
    exp="$DATA/corpus/guidellm/jan20-codellama-prefill-1"
    "$TAM" simulate --trace "$exp" -o "$T/g1.csv" 2>/dev/null && "$TAM" simulate --trace "$exp" -o "$T/g2.csv" 2>/dev/null
    cmp -s "$T/g1.csv" "$T/g2.csv" && ok || bad "trace simulation not deterministic"
    [ "$(wc -l < "$T/g1.csv")" -eq 201 ] && ok || bad "GuideLLM experiment: 200 requests expected"
    expect_fail no-trace "cannot open|no such|not a" "$TAM" simulate --trace "$T/nowhere"
    # stepcheck on the real TraceV2 run: every gap of 1212 requests x 127 read,
    # the decode-only row printed (measured median 11.538 ms); CSV one row per
    # (trace, point, kind, bucket); synchronous rows of a GuideLLM run
    v2r="$DATA/corpus/tracev2/qwen3-14b-tp1-agg2rps-vanilla"
    if [ -d "$v2r" ]; then
        "$TAM" stepcheck --trace "$v2r" > "$T/sc.txt" 2>"$T/sc.err" && grep -qE '^  replay +decode_gap +all +149960 ' "$T/sc.txt" && ok || bad "stepcheck text: $(cat "$T/sc.err")"
        grep -q "1212 with chunks = output + 2" "$T/sc.txt" && ok || bad "stepcheck chunk finding"
        "$TAM" stepcheck --trace "$v2r" --trace "$exp" --format csv -o "$T/sc.csv" 2>"$T/sc.err" || bad "stepcheck csv: $(cat "$T/sc.err")"
        grep -q '^qwen3-14b-tp1-agg2rps-vanilla,replay,decode_gap,all,149960,[0-9]*,[0-9.]*,[0-9.]*,11.538,' "$T/sc.csv" && ok || bad "stepcheck csv decode row: $(head -3 "$T/sc.csv")"
        grep -q '^qwen3-14b-tp1-agg2rps-vanilla,replay,mixed_gap,all,3964,' "$T/sc.csv" && ok || bad "stepcheck csv mixed row"
        grep -q '^qwen3-14b-tp1-agg2rps-vanilla,replay,ttft,all,1212,1212,[0-9.]*,[0-9.]*,[0-9.]*,[0-9.]*,[0-9.]*,[0-9.]*,48.236,' "$T/sc.csv" && ok || bad "stepcheck csv ttft row (min 48.236 ms)"
        for k in ttft tpot ttft_per_1k; do
            grep -q "^jan20-codellama-prefill-1,synchronous,$k,all,[34][0-9],[34][0-9]," "$T/sc.csv" && ok || bad "stepcheck synchronous $k"
        done
        awk -F, 'NR == 1 {n = NF} NF != n {bad = 1} END {exit bad || n != 14}' "$T/sc.csv" && ok || bad "stepcheck csv ragged"
    fi
    # mfu: a grid point comes back exactly
    "$TAM" mfu gemm --m 8 --k 2048 --n 6144 --mode nearest | grep -q "nearest 0.011 " && ok || bad "mfu grid point"
    # kernel data sets over the shared tables
    "$TAM" step --kernels h100-sxm-bf16 --model llama-2-7b-hf --decode 1000x8 > "$T/kb.json" || bad "step --kernels h100-sxm-bf16"
    grep -q '"kernels":[[:space:]]*"h100-sxm-bf16"' "$T/kb.json" && ok || bad "h100-sxm-bf16 not named"
    grep -q '"priced_by":' "$T/kb.json" && grep -q '"gemm":[[:space:]]*"measured"' "$T/kb.json" && ok || bad "h100-sxm-bf16 GEMMs not measured"
    grep -qE '"kernels_sha256":[[:space:]]*"[0-9a-f]{64}"' "$T/kb.json" && ok || bad "h100-sxm-bf16 digest"
    ! grep -q '"note"' "$T/kb.json" && ok || bad "FP8 note on a measured bf16 set"
    "$TAM" step --preset baseline --model llama-2-7b-hf --decode 1000x8 > "$T/kp.json"
    grep -q '"kernels":[[:space:]]*"proposal-h100"' "$T/kp.json" && grep -q '"note":[[:space:]]*"this bf16 model.s GEMMs are priced through an FP8 GEMM table' "$T/kp.json" && ok || bad "proposal-h100 FP8 note"
    "$TAM" config > "$T/cb.json" && grep -qE '"kernels_sha256":"[0-9a-f]{64}"' "$T/cb.json" && ok || bad "config not bound: $(cat "$T/cb.json")"
    printf '{"name":"stale","kernels_sha256":"%064d"}' 0 > "$T/stale.json"
    expect_fail kernels-stale "configuration 'stale' was stored over kernel set 'proposal-h100'.*the measurements changed" "$TAM" simulate --workload tests/fixtures/workload.csv --model llama-2-7b-hf --kv-blocks 2000 --config "$T/stale.json" -o "$T/stale.csv"
    [ ! -e "$T/stale.csv" ] && ok || bad "output written over changed measurements"
    # the digest tam config binds is accepted back
    sed 's/.*"config":\(.*\)}$/\1/' "$T/cb.json" > "$T/bound.json"
    "$TAM" simulate --workload tests/fixtures/workload.csv --model llama-2-7b-hf --kv-blocks 2000 --preset baseline -o "$T/base.csv" 2>/dev/null
    "$TAM" simulate --workload tests/fixtures/workload.csv --model llama-2-7b-hf --kv-blocks 2000 --config "$T/bound.json" -o "$T/bound.csv" 2>/dev/null && cmp -s "$T/bound.csv" "$T/base.csv" && ok || bad "a bound configuration does not replay the baseline"

    # tam runs from any directory with no DATA: the data directory recorded
    # at build time (tam --help names it) is the default
    bdata=$("$TAM" --help | sed -n 's/.*found at build time, \(.*\))\.$/\1/p')
    case "$TAM" in /*) tam_abs=$TAM ;; *) tam_abs=$(pwd)/$TAM ;; esac
    if [ -d "$bdata/models" ]; then
        (cd /tmp && env -u DATA "$tam_abs" step --model llama-2-7b-hf --decode 100) > "$T/anydir.json" 2>"$T/anydir.err" && grep -q '"total_s"' "$T/anydir.json" && ok || bad "step from /tmp without DATA: $(cat "$T/anydir.err")"
        # that step is the default preset's, elementwise kernels on: Llama-2-7B,
        # one token, every kernel at the 2.5 us floor: 4 x 2.5e-6 x 32 layers
        # = 0.32 ms; they move (3 x 4 x 4096 + 3 x 11008) x 2 B x 32 layers =
        # 5,259,264 B; the total is its parts
        grep -qE '"elementwise_s":[[:space:]]*0.00032,' "$T/anydir.json" && grep -qE '"bytes":[[:space:]]*5259264[[:space:]]*$' "$T/anydir.json" && ok || bad "elementwise in tam step: $(grep -E 'elementwise|bytes' "$T/anydir.json" | tail -3)"
        awk -F: '/"(overhead_s|elementwise_s|t_prefill_s|t_decode_s)"/ {sum += $2} /"total_s"/ {tot = $2 + 0} END {d = tot - sum; exit !(tot > 0 && d < 1e-12 && d > -1e-12)}' "$T/anydir.json" && ok || bad "tam step total_s is not overhead + elementwise + prefill + decode"
        # and says which directory it looked in when the model is not there
        (cd /tmp && env -u DATA "$tam_abs" step --model no-such-model --decode 100) > /dev/null 2>"$T/anydir.err" && bad "unknown model from /tmp exited 0" || { grep -qF "$bdata" "$T/anydir.err" && ok || bad "unknown model from /tmp: $(cat "$T/anydir.err")"; }
    else
        echo "# skip: the build's data directory '$bdata' has no models"
    fi

    # grid arms naming a shipped preset: refused when unknown (the message
    # names the grid file and the arm) or given with "config" too, before
    # anything runs or is stored
    printf '{"hypothesis": "X", "seeds": [42], "arms": [{"label": "d", "preset": "nosuch"}]}' > "$T/g-unknown.json"
    printf '{"hypothesis": "X", "seeds": [42], "arms": [{"label": "d"}]}' > "$T/g-both.json"
    expect_fail "grid: unknown preset" "g-unknown.json: arms\[0\]\.preset 'nosuch': no such preset \(shipped: baseline, default\)" "$TAM" run --grid "$T/g-unknown.json" --db "$T/refused.db" --data "$DATA"
    expect_fail "grid: neither config nor preset" "g-both.json: arms\[0\] needs \"label\" and \"config\" \{\}, \"preset\"" "$TAM" run --grid "$T/g-both.json" --db "$T/refused.db" --data "$DATA"
    # the harness's own JSON is read as strictly as the engine's
    printf '{"hypothesis": "X", "hypothesis": "Y", "seeds": [42], "arms": [{"label": "d", "preset": "default"}]}' > "$T/g-dup.json"
    expect_fail "grid: key given twice" "g-dup.json: field 'hypothesis' given twice" "$TAM" run --grid "$T/g-dup.json" --db "$T/refused.db" --data "$DATA"
    printf '{"experiments": [{"number": 1, "number": 2}]}' > "$T/m-dup.json"
    expect_fail "manifest: key given twice" "m-dup.json: field 'number' given twice" "$TAM" ingest --manifest "$T/m-dup.json" --db "$T/refused.db" --data "$DATA"
    printf '{"hypothesis": "X", "criteria": []} trailing' > "$T/c-trail.json"
    expect_fail "criteria: trailing text" "c-trail.json:1:37: JSON syntax error near 'trailing'" "$TAM" report --criteria "$T/c-trail.json" --db "$T/refused.db"
    # a key given twice at any depth, and the typed getters' path-named messages
    printf '{"hypothesis": "X", "criteria": [{"id": "a", "id": "b"}]}' > "$T/c-dup.json"
    expect_fail "criteria: key given twice in a criterion" "c-dup.json: field 'id' given twice" "$TAM" report --criteria "$T/c-dup.json" --db "$T/refused.db"
    printf '{"hypothesis": "X", "criteria": [{"id": "a", "text": "t", "sql": "SELECT 1", "op": "=", "threshold": 1}]}' > "$T/c-op.json"
    expect_fail "criteria: unknown operator" "c-op.json: criteria\[0\] needs id, text, sql, op" "$TAM" report --criteria "$T/c-op.json" --db "$T/refused.db"
    printf '{"experiments": [{"number": "one"}]}' > "$T/m-num.json"
    expect_fail "manifest: a string for a number" "m-num.json: experiments\[0\].number: expected an integer, got \"one\"" "$TAM" ingest --manifest "$T/m-num.json" --db "$T/refused.db" --data "$DATA"
    printf '{"experiments": [{"number": 1, "id": "x"}]}' > "$T/m-miss.json"
    expect_fail "manifest: a missing field" "m-miss.json: experiments\[0\].path: missing" "$TAM" ingest --manifest "$T/m-miss.json" --db "$T/refused.db" --data "$DATA"
    [ -e "$T/refused.db" ] && bad "a refused grid created a store" || ok
    exp="$DATA/corpus/guidellm/jan20-codellama-prefill-1"
    if [ -d "$exp" ] && command -v sqlite3 >/dev/null; then
        # one arm {"preset": "default"} runs in a scratch store and is stored
        # under the preset's configuration (the hash tam config gives it)
        printf '{"hypothesis": "X", "seeds": [42, 7], "arms": [{"label": "d", "preset": "default"}]}' > "$T/g-preset.json"
        "$TAM" ingest --db "$T/p.db" --data "$DATA" --only jan20-codellama-prefill-1 --quiet &&
            "$TAM" run --grid "$T/g-preset.json" --db "$T/p.db" --data "$DATA" --only jan20-codellama-prefill-1 --seed 42 --quiet && ok || bad "run a preset arm"
        [ "$(q "$T/p.db" "SELECT count(*) FROM runs WHERE status = 'ok' AND label = 'd' AND seed = 42")" = 1 ] && [ "$(q "$T/p.db" "SELECT count(*) FROM runs")" = 1 ] && ok || bad "preset arm: one run (seed 42) expected: $(q "$T/p.db" "SELECT * FROM runs")"
        [ "$(q "$T/p.db" "SELECT count(*) FROM predictions")" = 200 ] && ok || bad "preset arm: 200 predictions expected"
        hd=$("$TAM" config --preset default --data "$DATA" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')
        [ -n "$hd" ] && [ "$(q "$T/p.db" "SELECT c.hash FROM runs r JOIN configs c ON c.id = r.config_id")" = "$hd" ] && ok || bad "preset arm stored under another configuration than the preset's ($hd)"
        # preset and config together: the config's keys over the preset
        printf '{"hypothesis": "Y", "seeds": [42], "arms": [{"label": "o", "preset": "default", "config": {"elementwise": false}}]}' > "$T/g-over.json"
        "$TAM" run --grid "$T/g-over.json" --db "$T/p.db" --data "$DATA" --only jan20-codellama-prefill-1 --quiet && ok || bad "run a preset arm with a config over it"
        [ "$(q "$T/p.db" "SELECT json_extract(c.canonical_json, '\$.elementwise') || ' ' || json_extract(c.canonical_json, '\$.kernels') || ' ' || json_extract(c.canonical_json, '\$.additive_mixed') FROM arms a JOIN configs c ON c.id = a.config_id WHERE a.hypothesis = 'Y'")" = "0 h100-sxm-bf16 1" ] && ok || bad "preset + config: not the preset with elementwise off"

        # the default preset on a run that records vLLM 0.11.0: "scheduling":
        # "version" is sync there, byte for byte; async differs
        "$TAM" config --preset default --unbound | sed 's/.*"config":\(.*\)}$/\1/' > "$T/def.json"
        for s in version sync async; do
            sed "s/\"scheduling\":\"version\"/\"scheduling\":\"$s\"/" "$T/def.json" > "$T/def-$s.json"
            "$TAM" simulate --trace "$exp" --config "$T/def-$s.json" -o "$T/def-$s.csv" 2>/dev/null || bad "simulate scheduling $s"
        done
        grep -q 'API server version 0.11.0' "$exp/vllm.log" && cmp -s "$T/def-version.csv" "$T/def-sync.csv" && ok || bad "scheduling version on a vLLM 0.11.0 run is not sync"
        cmp -s "$T/def-version.csv" "$T/def-async.csv" && bad "async scheduling changed nothing" || ok
        # the front end: this synchronous run sends each request to an idle
        # server, so scheduled - arrival = 2.5 ms + 2 us x prompt tokens
        # (row 1: 2998 tokens, 8.496 ms; row 2: 2984, 8.468 ms)
        awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i}
                 NR > 1 && NR <= 3 {d = $c["scheduled_s"] - $c["arrival_s"] - (0.0025 + 2e-6 * $c["prompt"]); if (d > 1e-8 || d < -1e-8) bad = 1}
                 END {exit bad || NR < 3}' "$T/def-sync.csv" && ok || bad "front end: scheduled - arrival != 2.5 ms + 2 us x prompt: $(head -3 "$T/def-sync.csv")"
    fi
else
    echo "# skip: $DATA/models not found"
fi
report cli
