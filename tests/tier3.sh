#!/bin/sh
# tests/tier3.sh - `tam calibrate --method tier3` as a user meets it: a
# one-trace fit and its coefficient file (fields, the fit never worse than the
# prior it starts from, every value beside its bounds, `tam simulate --coeffs`
# applies it), a small cross-validation (tables' shape, only held-out
# experiments in a split's rows, results that do not depend on --jobs), and
# bad input (usage errors, nothing written).  Env: TAM, DATA.  Needs the corpus.
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
export DATA
. tests/lib.sh
skip_without_corpus tier3

field() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*//p" "$1" | head -1 | sed 's/,$//; s/^"//; s/"$//'; }
IP=$DATA/corpus/inference-perf/20260217-155451-llama-2-7b-tp1-codegen

# ---- one trace ---------------------------------------------------------------
"$TAM" calibrate --method tier3 --trace "$IP" --date 2000-01-01 --jobs 1 -o "$T/a.json" 2>"$T/a.err" \
    || bad "tier3 one-trace fit: $(cat "$T/a.err")"
[ "$(field "$T/a.json" method)" = tier3 ] && ok || bad "method"
[ "$(field "$T/a.json" tam_coefficients)" = 1 ] && ok || bad "tam_coefficients"
for k in scale_weight_read scale_compute scale_kv_read scale_allreduce cpu_step_s cpu_req_s frontend_s frontend_tok_s; do
    grep -q "\"$k\"" "$T/a.json" && ok || bad "coefficient $k missing"
done
# Levenberg-Marquardt accepts only steps that lower the objective
o0=$(field "$T/a.json" objective_prior) o1=$(field "$T/a.json" objective_fit)
awk -v a="$o0" -v b="$o1" 'BEGIN { exit !(b <= a && b > 0) }' && ok || bad "objective rose: $o0 -> $o1"
# the fit reports each coefficient inside its bounds (a file is written only then)
python3 - "$T/a.json" <<'PY' && ok || bad "a coefficient outside its bounds in a written file"
import json, sys
f = json.load(open(sys.argv[1]))["fit"]
sys.exit(0 if all(f[k]["lo"] <= f[k]["value"] <= f[k]["hi"] for k in f if isinstance(f[k], dict)) else 1)
PY
# the same fit with two threads: the same bytes
"$TAM" calibrate --method tier3 --trace "$IP" --date 2000-01-01 --jobs 2 -o "$T/b.json" 2>/dev/null
cmp -s "$T/a.json" "$T/b.json" && ok || bad "--jobs changed the fit"
# the file applies: a simulation with it differs from the default preset's
"$TAM" simulate --trace "$IP" --coeffs "$T/a.json" -o "$T/s1.csv" 2>/dev/null && ok || bad "simulate --coeffs"
"$TAM" simulate --trace "$IP" -o "$T/s0.csv" 2>/dev/null
cmp -s "$T/s0.csv" "$T/s1.csv" && bad "coefficients changed nothing" || ok

# ---- a small cross-validation ------------------------------------------------
cat > "$T/m.json" <<J
{"experiments": [
 {"number": 1, "id": "e1", "path": "corpus/inference-perf/20260217-155451-llama-2-7b-tp1-codegen", "model": "llama-2-7b-hf", "tp": 1, "family": "llama-2-7b", "attention": "MHA", "heavy": "decode", "workload": "codegen"},
 {"number": 2, "id": "e2", "path": "corpus/inference-perf/20260217-162547-llama-2-7b-tp1-roleplay", "model": "llama-2-7b-hf", "tp": 1, "family": "llama-2-7b", "attention": "MHA", "heavy": "decode", "workload": "roleplay"},
 {"number": 13, "id": "e13", "path": "corpus/guidellm/jan20-codellama-prefill-1", "model": "codellama-34b-instruct-hf", "tp": 1, "family": "codellama-34b", "attention": "GQA", "heavy": "prefill", "workload": "prefill"}
]}
J
if [ -d "$DATA/models/codellama-34b-instruct-hf" ]; then
    "$TAM" calibrate --method tier3 --cross-validate --manifest "$T/m.json" --splits 1 --jobs 2 \
        -o "$T/p.csv" --fits "$T/f.csv" 2>"$T/cv.err" || bad "cross-validate: $(cat "$T/cv.err")"
    head -1 "$T/p.csv" | grep -q "^protocol,choice,fit_used,experiment," && ok || bad "points header"
    # fits: 2 splits (42, 1) + 2 families + 3 single + 1 all = 8 rows
    [ "$(tail -n +2 "$T/f.csv" | wc -l)" -eq 8 ] && ok || bad "fits rows: $(tail -n +2 "$T/f.csv" | wc -l)"
    # a split holds out one experiment of each family: never one it trained on
    python3 - "$T/p.csv" "$T/f.csv" <<'PY' && ok || bad "a held-out row of an experiment the fit trained on"
import csv, sys
fits = {(r["protocol"], r["choice"]): set(r["train"].split(";")) for r in csv.DictReader(open(sys.argv[2]))}
bad = [r for r in csv.DictReader(open(sys.argv[1]))
       if r["protocol"] in ("split", "lofo", "single") and r["number"] in fits[(r["protocol"], r["choice"])]]
sys.exit(1 if bad else 0)
PY
    "$TAM" calibrate --method tier3 --cross-validate --manifest "$T/m.json" --splits 1 --jobs 1 \
        -o "$T/p1.csv" --fits "$T/f1.csv" 2>/dev/null
    cmp -s "$T/p.csv" "$T/p1.csv" && cmp -s "$T/f.csv" "$T/f1.csv" && ok || bad "--jobs changed the cross-validation"
fi

# ---- bad input ---------------------------------------------------------------
expect_fail "cv without --fits" "usage" "$TAM" calibrate --method tier3 --cross-validate -o "$T/x.csv"
expect_fail "--fits without tier3" "usage" "$TAM" calibrate --cross-validate --fits "$T/x.csv" -o "$T/y.csv"
expect_fail "--jobs 0" "--jobs '0'" "$TAM" calibrate --method tier3 --trace "$IP" --jobs 0 -o "$T/x.json"
expect_fail "unknown method" "tier3" "$TAM" calibrate --method tier4 --trace "$IP" -o "$T/x.json"
expect_fail "missing trace" "no-such" "$TAM" calibrate --method tier3 --trace "$T/no-such" -o "$T/x.json"
[ ! -e "$T/x.json" ] && [ ! -e "$T/x.csv" ] && [ ! -e "$T/y.csv" ] && ok || bad "a failed run wrote a file"
report tier3
