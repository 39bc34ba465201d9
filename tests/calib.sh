#!/bin/sh
# tests/calib.sh - `tam calibrate` (Tier 1) as a user meets it: coefficient
# files from a GuideLLM and an inference-perf trace, their fields, that
# `tam simulate --coeffs` applies them (and reproduces the fit's own MAPE),
# determinism, a tiny cross-validation, and bad input (clear error, non-zero
# exit, nothing written).  Env: TAM (binary), DATA.  Needs the corpus under
# $DATA; without it every check is skipped and the count line still printed.
# Ends with "calib: N passed, N failed".
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
export DATA
. tests/lib.sh


# field FILE KEY: the first top-level-looking "KEY": value of a cJSON file
field() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*//p" "$1" | head -1 | sed 's/,$//; s/^"//; s/"$//'; }
# cfield FILE KEY: KEY inside the "config" object (the keys to apply)
cfield() { sed -n '/^[[:space:]]*"config":/,/}/p' "$1" | sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*//p" | head -1 | sed 's/,$//'; }

G=$DATA/corpus/guidellm/jan20-codellama-prefill-1
IP=$DATA/corpus/inference-perf/20260217-162547-llama-2-7b-tp1-roleplay
V2=$DATA/corpus/tracev2/qwen3-14b-tp1-agg2rps-vanilla

if [ ! -d "$G" ] || [ ! -d "$IP" ] || [ ! -d "$DATA/models" ]; then
    echo "calib: corpus not found under $DATA: skipped"
    report calib
    exit
fi

"$TAM" calibrate --help > "$T/h" 2>&1 && grep -q "usage: tam calibrate" "$T/h" && ok || bad "help"

# ---- GuideLLM, 200 requests, both methods ----------------------------------
"$TAM" calibrate --trace "$G" --method both --date 2000-01-01 -o "$T/g.json" 2>"$T/g.err" || bad "calibrate guidellm: $(cat "$T/g.err")"
[ "$(field "$T/g.json" tam_coefficients)" = 1 ] && ok || bad "tam_coefficients"
[ "$(field "$T/g.json" method)" = both ] && ok || bad "method"
[ "$(field "$T/g.json" vllm_version)" = 0.11.0 ] && ok || bad "vllm_version: $(field "$T/g.json" vllm_version)"
[ "$(field "$T/g.json" model)" = codellama/CodeLlama-34b-Instruct-hf ] && ok || bad "model"
field "$T/g.json" gpu | grep -q "^H100 SXM" && ok || bad "gpu"
[ "$(field "$T/g.json" tp)" = 1 ] && ok || bad "tp"
[ "$(field "$T/g.json" trace)" = "$G" ] && ok || bad "trace path"
field "$T/g.json" trace_hash | grep -qE '^[0-9a-f]{16}$' && ok || bad "trace_hash"
[ "$(field "$T/g.json" n_requests)" = 200 ] && ok || bad "n_requests"
[ "$(field "$T/g.json" date)" = 2000-01-01 ] && ok || bad "date"
bh=$("$TAM" config --preset default | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')
[ "$(field "$T/g.json" base_config_hash)" = "$bh" ] && ok || bad "base_config_hash is not the baseline's ($bh)"
for k in client_ttft_s overhead_decode_s overhead_prefill_s resid_tpot_a_ms resid_tpot_b_ms \
         resid_tpot_d_ms resid_ttft_a_ms resid_ttft_b_ms resid_ttft_d_ms; do
    [ -n "$(cfield "$T/g.json" $k)" ] && ok || bad "config lacks $k"
done
grep -q '"network":.*no network RTT' "$T/g.json" && ok || bad "network-adjustment statement missing"
grep -q '"objective":' "$T/g.json" && ok || bad "objective missing"

# determinism: same inputs -> same bytes; another date changes only the date
"$TAM" calibrate --trace "$G" --method both --date 2000-01-01 -o "$T/g2.json" 2>/dev/null
cmp -s "$T/g.json" "$T/g2.json" && ok || bad "calibrate is not deterministic"
"$TAM" calibrate --trace "$G" --method both --date 2001-02-03 -o "$T/g3.json" 2>/dev/null
nd=$(diff "$T/g.json" "$T/g3.json" | grep -c '^[<>]')
[ "$nd" -eq 2 ] && diff "$T/g.json" "$T/g3.json" | grep -q '"date"' && ok || bad "dates aside, files differ ($nd lines)"
"$TAM" calibrate --trace "$G" -o "$T/gd.json" 2>/dev/null
field "$T/gd.json" date | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' && ok || bad "default date"
[ "$(field "$T/gd.json" method)" = residual ] && ok || bad "default method is not residual"

# mean of column $2 over ok rows (col 15) where defined; CSV of tam simulate --trace
colmean() { awk -F, -v c="$2" 'NR > 1 && $15 == 1 && $c != "nan" && $c != "" {s += $c; n++} END {printf "%.9g\n", n ? s / n : 0}' "$1"; }
# MAPE of predicted column $2 against measured column $3
colmape() { awk -F, -v p="$2" -v m="$3" 'NR > 1 && $15 == 1 && $p != "nan" && $m != "nan" && $m > 0 {d = $p - $m; if (d < 0) d = -d; s += d / $m; n++} END {printf "%.12g\n", n ? s / n : 0}' "$1"; }
# the fit's training MAPE of a metric (last "train" block of the file)
trainmape() { sed -n '/"train":/,/}/p' "$1" | sed -n "s/.*\"mape_$2\":[[:space:]]*\([-0-9.e+]*\).*/\1/p"; }
near() { awk -v a="$1" -v b="$2" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= 1e-7 * (b < 0 ? -b : b) + 1e-12)}'; }

# ---- inference-perf (7200 requests), the proposal's residual ----------------
"$TAM" calibrate --trace "$IP" --date 2000-01-01 -o "$T/ip.json" 2>"$T/ip.err" || bad "calibrate inference-perf: $(cat "$T/ip.err")"
[ "$(field "$T/ip.json" vllm_version)" = unknown ] && ok || bad "inference-perf vllm_version"
[ "$(field "$T/ip.json" trace_format)" = inference-perf ] && ok || bad "trace_format"
grep -q '"note":.*a = 0: output_tokens constant (251)' "$T/ip.json" && ok || bad "constant output length not reported"
grep -q 'a = 0: output_tokens constant (251)' "$T/ip.err" && ok || bad "summary does not name the dropped term"
[ "$(cfield "$T/ip.json" resid_tpot_a_ms)" = 0 ] && ok || bad "a not 0 for a constant output length"
# tam simulate --coeffs applies it: TPOT moves in the fitted direction (the
# sign of d) and closer to the measurement; the fit's own MAPE is reproduced.
"$TAM" simulate --trace "$IP" -o "$T/s0.csv" 2>/dev/null || bad "simulate base"
"$TAM" simulate --trace "$IP" --coeffs "$T/ip.json" -o "$T/s1.csv" 2>"$T/s1.err" || bad "simulate --coeffs: $(cat "$T/s1.err")"
d=$(cfield "$T/ip.json" resid_tpot_d_ms)
p0=$(colmean "$T/s0.csv" 8); p1=$(colmean "$T/s1.csv" 8); mm=$(colmean "$T/s0.csv" 17)
awk -v d="$d" -v a="$p0" -v b="$p1" -v m="$mm" 'BEGIN {exit !(((d < 0 && b < a) || (d > 0 && b > a)) && (b - m) ^ 2 < (a - m) ^ 2)}' \
    && ok || bad "TPOT did not move in the fitted direction (d $d: $p0 -> $p1, measured $mm)"
for mt in "ttft 7 16" "tpot 8 17" "e2e 9 18"; do
    set -- $mt
    got=$(colmape "$T/s1.csv" "$2" "$3"); want=$(trainmape "$T/ip.json" "$1")
    near "$got" "$want" && ok || bad "simulate --coeffs $1 MAPE $got != the fit's $want"
done
! grep -q "fitted over base" "$T/s1.err" && ok || bad "spurious base-mismatch note"
printf '{"mfu_interp": true}' > "$T/other.json"
"$TAM" simulate --trace "$G" --config "$T/other.json" --coeffs "$T/g.json" -o /dev/null 2>"$T/n.err"
grep -q "was fitted over base configuration $bh" "$T/n.err" && ok || bad "no note on a different base"
# applied over the same base, the in-simulator keys change the simulation too
"$TAM" simulate --trace "$G" --coeffs "$T/g.json" -o "$T/g1.csv" 2>/dev/null || bad "simulate guidellm --coeffs"
got=$(colmape "$T/g1.csv" 9 18); want=$(trainmape "$T/g.json" e2e)
near "$got" "$want" && ok || bad "guidellm --coeffs E2E MAPE $got != the fit's $want"

# --workload runs get the residual too (+5 ms on every TTFT)
printf 't_send_s,prompt_tokens,output_tokens\n0,100,10\n0.01,200,5\n' > "$T/wl.csv"
printf '{"tam_coefficients": 1, "config": {"resid_ttft_d_ms": 5}}' > "$T/c5.json"
"$TAM" simulate --workload "$T/wl.csv" --model llama-2-7b-hf --kv-blocks 2000 -o "$T/w0.csv" 2>/dev/null
"$TAM" simulate --workload "$T/wl.csv" --model llama-2-7b-hf --kv-blocks 2000 --coeffs "$T/c5.json" -o "$T/w1.csv" 2>/dev/null
paste -d, "$T/w0.csv" "$T/w1.csv" | awk -F, 'NR > 1 {d = $21 - $7 - 0.005; if (d < 0) d = -d; if (d > 1e-9) bad = 1; n++} END {exit bad || n != 2}' \
    && ok || bad "--workload --coeffs does not add the TTFT residual"

# ---- a tiny cross-validation (the two GuideLLM experiments) ----------------
cat > "$T/m.json" <<EOF
{"experiments": [
 {"number": 13, "id": "jan20-codellama-prefill-1", "path": "corpus/guidellm/jan20-codellama-prefill-1", "model": "codellama-34b-instruct-hf", "tp": 1, "family": "codellama-34b", "attention": "GQA", "heavy": "prefill", "workload": "prefill"},
 {"number": 14, "id": "jan20-codellama-prefillheavy-1", "path": "corpus/guidellm/jan20-codellama-prefillheavy-1", "model": "codellama-34b-instruct-hf", "tp": 1, "family": "codellama-34b", "attention": "GQA", "heavy": "prefill", "workload": "prefill"}
]}
EOF
"$TAM" calibrate --cross-validate --manifest "$T/m.json" --splits 2 --quiet -o "$T/cv.csv" > "$T/cv.txt" 2>"$T/cv.err" || bad "cross-validate: $(cat "$T/cv.err")"
# 2 single-trace choices x 4 methods x 1 held out + 3 split seeds x 4 x 1, plus the header
[ "$(wc -l < "$T/cv.csv")" -eq 21 ] && ok || bad "cross-validation CSV has $(wc -l < "$T/cv.csv") lines"
head -1 "$T/cv.csv" | grep -q '^protocol,choice,method,train,held_exp,.*guard_reject,.*stale$' && ok || bad "CSV header"
grep -q -- '-- single-trace: held-out corpus MAPE' "$T/cv.txt" && grep -q -- '-- 10/4 splits: held-out corpus MAPE' "$T/cv.txt" && ok || bad "summary tables missing"
grep -q '^residual  E2E ' "$T/cv.txt" && grep -q '^insim     E2E ' "$T/cv.txt" && ok || bad "method rows missing"
"$TAM" calibrate --cross-validate --manifest "$T/m.json" --splits 2 --quiet -o "$T/cv2.csv" > "$T/cv2.txt" 2>/dev/null
cmp -s "$T/cv.csv" "$T/cv2.csv" && cmp -s "$T/cv.txt" "$T/cv2.txt" && ok || bad "cross-validation is not deterministic"

# ---- bad input -------------------------------------------------------------
expect_fail missing-trace "nope" "$TAM" calibrate --trace "$T/nope" -o "$T/x.json"
[ ! -e "$T/x.json" ] && ok || bad "output left behind after a missing trace"
mkdir -p "$T/small"
if [ -d "$V2" ]; then
    cp "$V2/trace.yaml" "$V2/server_config.json" "$T/small/"
    head -51 "$V2/trace.csv" > "$T/small/trace.csv"
    head -51 "$V2/requests.csv" > "$T/small/requests.csv"
    expect_fail too-few "50 successful requests \(of 50\); one-trace calibration needs at least 100" \
        "$TAM" calibrate --trace "$T/small" -o "$T/x.json"
    [ ! -e "$T/x.json" ] && ok || bad "output left behind after a refused trace"
fi
sed 's/"tam_coefficients":/"colour": 1, "tam_coefficients":/' "$T/g.json" > "$T/bad1.json"
expect_fail coeffs-unknown-field "bad1.json: unknown field 'colour'" "$TAM" simulate --trace "$G" --coeffs "$T/bad1.json" -o "$T/x.csv"
sed 's/"resid_tpot_d_ms":/"resid_tpot_x_ms":/' "$T/g.json" > "$T/bad2.json"
expect_fail coeffs-unknown-key "bad2.json: config: unknown field 'resid_tpot_x_ms'" "$TAM" simulate --trace "$G" --coeffs "$T/bad2.json" -o "$T/x.csv"
sed 's/"tam_coefficients":[[:space:]]*1/"tam_coefficients": 7/' "$T/g.json" > "$T/bad3.json"
expect_fail coeffs-version "tam_coefficients' must be 1" "$TAM" simulate --trace "$G" --coeffs "$T/bad3.json" -o "$T/x.csv"
expect_fail coeffs-missing "nope.json" "$TAM" simulate --trace "$G" --coeffs "$T/nope.json" -o "$T/x.csv"
[ ! -e "$T/x.csv" ] && ok || bad "simulate left output behind after a bad coefficient file"
printf '{"resid_ttft_d_ms": 5}' > "$T/rbase.json"
expect_fail residual-base "already carries a residual" "$TAM" calibrate --trace "$G" --config "$T/rbase.json" -o "$T/x.json"
expect_fail bad-method "--method 'robust'" "$TAM" calibrate --trace "$G" --method robust -o "$T/x.json"
expect_fail bad-date "--date '2000-13-01'" "$TAM" calibrate --trace "$G" --date 2000-13-01 -o "$T/x.json"
"$TAM" calibrate --trace "$G" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "missing -o is not a usage error"
"$TAM" calibrate --cross-validate --trace "$G" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "--cross-validate with --trace is not a usage error"

report calib
