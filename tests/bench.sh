#!/bin/sh
# tests/bench.sh - the Tier 2 micro-benchmark tooling (tools/bench/) without a
# GPU: the harness on SYNTHETIC fixture output (tools/bench/fixtures/), read
# back through the engine's own loaders (tam step --hardware, tam mfu --mfu);
# the harness's refusals; shapes.txt in sync with the model configs; a dry run
# of run.sh with a stand-in nvidia-smi and stand-in benchmark binaries; and,
# where nvcc exists, that the CUDA sources build and list what they would run.
# Everything is written under a temporary folder, never tools/bench/measured.
# Env: TAM (binary, default bin/tam), DATA, PYTHON.  Ends "bench: N passed, N failed".
set -u
TAM=${TAM:-bin/tam}
DATA=${DATA:-../shared/data}
PY=${PYTHON:-python3}
export DATA
. tests/lib.sh
H=tools/bench/harness.py
FIX=tools/bench/fixtures/raw-synthetic
M=$T/m

# every fixture file says it is synthetic
for f in "$FIX"/*; do
    grep -q SYNTHETIC "$f" && ok || bad "fixture $f is not labelled SYNTHETIC"
done

# ---- the harness on the fixture output
if "$PY" "$H" derive "$FIX" --out "$M" > "$T/h.out" 2>&1; then ok; else bad "harness derive: $(cat "$T/h.out")"; fi
for f in profile.json mfu/gemm/data.csv bw-summary.csv; do
    [ -s "$M/$f" ] && ok || bad "harness did not write $f"
done
grep -q '"measured": "SYNTHETIC fixture, not a measurement' "$M/profile.json" && ok ||
    bad "profile's provenance does not say synthetic"
[ "$(head -1 "$M/mfu/gemm/data.csv")" = "m,k,n,latency_us,mfu" ] && ok || bad "CSV header"
[ "$(wc -l < "$M/mfu/gemm/data.csv")" -eq 13 ] && ok || bad "CSV rows: want 12 + header"
# sorted by (k, n, m), no comment lines
tail -n +2 "$M/mfu/gemm/data.csv" | sort -t, -k2,2n -k3,3n -k1,1n -c 2>/dev/null && ok || bad "CSV not sorted by k, n, m"
grep -q '^#' "$M/mfu/gemm/data.csv" && bad "comment lines in the MFU table" || ok
# medians: fixture seq 1e12; paged 4e11, 5e11, 6e11 -> 5e11; mix 7.5e11
"$PY" - "$M/profile.json" <<'EOF' && ok || bad "profile values are not the fixture's medians"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["bw_sequential"] == 1e12 and p["bw_paged_kv"] == 5e11 and p["bw_mixed"] == 7.5e11, p
assert p["peak_flops_dense_bf16"] == 989.5e12 and p["hbm_bandwidth"] == 3.35e12
assert len(p["measured"]) <= 127
EOF

# ---- the engine reads the profile (its own loader) and uses it with measured_bw
if [ -x "$TAM" ] && [ -d "$DATA/models" ]; then
    printf '{"measured_bw": true}\n' > "$T/mb.json"
    printf '{"measured_bw": false}\n' > "$T/nomb.json"
    if "$TAM" step --hardware "$M/profile.json" --config "$T/mb.json" --model llama-2-7b-hf \
        --decode 1000x8 > "$T/s1.json" 2> "$T/s1.err"; then ok; else bad "tam step measured_bw: $(cat "$T/s1.err")"; fi
    "$TAM" step --hardware "$M/profile.json" --config "$T/nomb.json" --model llama-2-7b-hf \
        --decode 1000x8 > "$T/s0.json" 2>&1 && ok || bad "tam step without measured_bw"
    cmp -s "$T/s0.json" "$T/s1.json" && bad "measured_bw did not change the step" || ok
    # weights at bw_sequential (1e12), KV at bw_paged_kv (5e11)
    "$PY" - "$T/s0.json" "$T/s1.json" <<'EOF' && ok || bad "memory time is not weights/bw_sequential + KV/bw_paged_kv"
import json, sys
s0, s1 = (json.load(open(f)) for f in sys.argv[1:3])
w, kv = s1["weight_bytes"], s1["kv_bytes"]
want = w / 1e12 + kv / 5e11
assert abs(s1["memory_s"] - want) <= 1e-9 * want, (s1["memory_s"], want)
assert abs(s0["memory_s"] - (w + kv) / 3.35e12) <= 1e-9 * s0["memory_s"]
EOF
    # a profile without the measured fields is refused under measured_bw
    "$TAM" step --config "$T/mb.json" --model llama-2-7b-hf --decode 1000x8 > /dev/null 2>&1 &&
        bad "measured_bw accepted a profile with no measurement" || ok

    # ---- the GEMM table loads with the engine's MFU loader (mha/ copied into the temp dir only)
    if [ -d "$DATA/mfu/h100/mha" ]; then
        mkdir -p "$T/mfu"
        cp -r "$DATA/mfu/h100/mha" "$T/mfu/mha" && cp -r "$M/mfu/gemm" "$T/mfu/gemm"
        if "$TAM" mfu gemm --mfu "$T/mfu" --m 64 --k 4096 --n 12288 > "$T/g.out" 2>&1; then ok; else bad "tam mfu gemm: $(cat "$T/g.out")"; fi
        # the fixture row 64,4096,12288 (mfu 0.2) serves the exact lookup, in both modes
        [ "$(grep -c "^\(nearest\|interp\) *0.2 .*$T/mfu/gemm/data.csv:" "$T/g.out")" -eq 2 ] && ok ||
            bad "lookup not served by the derived table: $(cat "$T/g.out")"
        "$TAM" mfu gemm --mfu "$T/mfu" --mode interp --sweep m:8:131072:4096 --k 11008 --n 4096 > "$T/sw.out" 2>&1 &&
            ok || bad "tam mfu sweep over the derived table: $(head -3 "$T/sw.out")"
        # --gemm-mfu pairs the derived GEMM table with the shared attention tables in place
        G="$M/mfu/gemm/data.csv"
        "$TAM" mfu gemm --gemm-mfu "$G" --m 64 --k 4096 --n 12288 > "$T/g2.out" 2>&1 || bad "tam mfu --gemm-mfu"
        [ "$(grep -c "^\(nearest\|interp\) *0.2 .*$G:" "$T/g2.out")" -eq 2 ] && ok ||
            bad "--gemm-mfu lookup not served by $G: $(cat "$T/g2.out")"
        "$TAM" step --preset baseline --gemm-mfu "$G" --model llama-2-7b-hf --prefill 512:0 > "$T/sg.json" 2> "$T/sg.err" &&
            ok || bad "tam step --gemm-mfu: $(cat "$T/sg.err")"
        "$TAM" step --preset baseline --model llama-2-7b-hf --prefill 512:0 > "$T/ss.json" 2>&1 || bad "tam step (shared table)"
        # a set whose GEMMs come from measured latencies has no GEMM table to replace
        expect_fail "--gemm-mfu over measured GEMMs" "prices GEMMs from measured latencies" \
            "$TAM" step --kernels h100-sxm-bf16 --gemm-mfu "$G" --model llama-2-7b-hf --decode 100
        # the step's GEMM components name the derived table as their source
        grep -q "$G" "$T/sg.json" && ok || bad "tam step --gemm-mfu did not use $G"
        grep -q "$G" "$T/ss.json" && bad "the shared-table step names $G" || ok
        expect_fail "--gemm-mfu missing file" "nosuch.csv" "$TAM" step --preset baseline --gemm-mfu "$T/nosuch.csv" \
            --model llama-2-7b-hf --decode 100
        # Tier 1 over the measured inputs: the coefficient file says what it was
        # fitted over, and applying it over the datasheet says so
        TR="$DATA/corpus/guidellm/jan20-codellama-prefill-1"
        if "$TAM" calibrate --trace "$TR" --config "$T/mb.json" --hardware "$M/profile.json" \
            --gemm-mfu "$G" -o "$T/co.json" > /dev/null 2> "$T/co.err"; then ok; else bad "calibrate over the profile: $(cat "$T/co.err")"; fi
        grep -q '"hardware_measured":.*SYNTHETIC fixture' "$T/co.json" && grep -q "\"gemm_table\":.*$G" "$T/co.json" &&
            ok || bad "coefficient file lacks the profile and table: $(head -12 "$T/co.json")"
        "$TAM" simulate --trace "$TR" --config "$T/mb.json" --hardware "$M/profile.json" --gemm-mfu "$G" \
            --coeffs "$T/co.json" -o /dev/null 2> "$T/ap1.err" || bad "simulate --coeffs (same inputs)"
        grep -q "note: .*fitted over hardware\|note: .*GEMM table" "$T/ap1.err" &&
            bad "a note although the inputs match: $(grep note "$T/ap1.err")" || ok
        "$TAM" simulate --trace "$TR" --coeffs "$T/co.json" -o /dev/null 2> "$T/ap2.err" ||
            bad "simulate --coeffs over the datasheet"
        grep -q "note: .*fitted over hardware profile 'SYNTHETIC fixture.*this run uses 'datasheet (not measured)'" "$T/ap2.err" &&
            grep -q "note: .*fitted with GEMM table $G; this run uses the --mfu folder's" "$T/ap2.err" &&
            ok || bad "no note for other inputs: $(grep note "$T/ap2.err")"
    else
        bad "no $DATA/mfu/h100/mha to pair with the derived GEMM table"
    fi
else
    bad "engine checks need $TAM and $DATA/models"
fi

# ---- the harness refuses bad input and writes nothing
refuse() { # NAME PATTERN RAWDIR [ARGS...]
    name=$1 pat=$2 raw=$3; shift 3
    rm -rf "$T/r"
    if "$PY" "$H" derive "$raw" --out "$T/r" "$@" > "$T/r.out" 2>&1; then bad "$name: accepted"; return; fi
    grep -qE "$pat" "$T/r.out" && ok || bad "$name: message lacks /$pat/: $(cat "$T/r.out")"
    [ -e "$T/r/profile.json" ] && bad "$name: wrote profile.json" || ok
}
mk() { rm -rf "$T/x"; cp -r "$FIX" "$T/x"; }
# synthetic output is never written under tools/bench/measured (the default --out)
before=$(ls -la tools/bench/measured 2>/dev/null | md5sum)
"$PY" "$H" derive "$FIX" > "$T/d.out" 2>&1 && bad "synthetic accepted into tools/bench/measured" ||
    { grep -q "never written under" "$T/d.out" && ok || bad "synthetic refusal message: $(cat "$T/d.out")"; }
[ "$(ls -la tools/bench/measured 2>/dev/null | md5sum)" = "$before" ] && ok || bad "tools/bench/measured changed"
mk; sed -i 's/^131072,4096,4096,[0-9.]*,0.4$/131072,4096,4096,4000.000,0.9/' "$T/x/gemm.csv"
refuse mfu-mismatch "is not 2mkn" "$T/x"
mk; sed -i 's/^8,4096,4096,2.713,0.1$/8,4096,4096,0.100,2.713/' "$T/x/gemm.csv"
refuse mfu-above-1 "outside \(0, 1\]" "$T/x"
mk; sed -n '4p' "$FIX/gemm.csv" >> "$T/x/gemm.csv"
refuse duplicate "repeats line" "$T/x"
mk; sed -i 's/^m,k,n,latency_us,mfu$/m,n,k,latency_us,mfu/' "$T/x/gemm.csv"
refuse header "is not m,k,n,latency_us,mfu" "$T/x"
mk; sed -i '0,/check=ok/s//check=FAIL/' "$T/x/bw.txt"
refuse checksum "checksum 'FAIL'" "$T/x"
mk; sed -i '/pattern=paged_kv /d' "$T/x/bw.txt"
refuse no-paged "no 'paged_kv' RESULT" "$T/x"
mk; sed -i 's/bw_Bps=1e+12/bw_Bps=2e+12/' "$T/x/bw.txt"
refuse bw-inconsistent "is not bytes/median_s" "$T/x"
mk; sed -i 's/^card=.*/card=SYNTHETIC H200/' "$T/x/identity.txt"; sed -i 's/SYNTHETIC H100/SYNTHETIC H200/' "$T/x/bw.txt"
refuse other-card "not an H100 SXM" "$T/x"
"$PY" "$H" derive "$T/x" --out "$T/r" --any-card > /dev/null 2>&1 && ok || bad "--any-card refused"
mk; sed -i 's/device="SYNTHETIC H100"/device="SYNTHETIC A100"/' "$T/x/bw.txt"
refuse device-mismatch "is not the card" "$T/x"
mk; sed -i '/^driver=/d' "$T/x/identity.txt"
refuse no-driver "missing 'driver='" "$T/x"
mk; sed -i 's/median_s=0.0042949673 /median_s=0.0012 /; s/bw_Bps=1e+12/bw_Bps=3.57914e+12/' "$T/x/bw.txt"
refuse above-peak "exceeds the HBM peak" "$T/x"

# ---- tools/bench/shapes.txt is what the configs say
if [ -d "$DATA/models" ]; then
    "$PY" "$H" shapes --check tools/bench/shapes.txt > "$T/sh.out" 2>&1 && ok || bad "shapes.txt: $(cat "$T/sh.out")"
    # spot checks against docs/MODEL.md's rules
    for want in "gemm llama-2-7b-hf 1 qkv 4096 12288" "gemm llama-2-70b-hf 4 qkv 8192 2560" \
        "gemm llama-2-70b-hf 4 o 2048 8192" "gemm llama-2-70b-hf 4 down 7168 8192" \
        "gemm mixtral-8x7b-v0.1 2 expert_gate_up 4096 14336" "gemm mixtral-8x7b-v0.1 2 router 4096 8" \
        "gemm codellama-34b-instruct-hf 2 lm_head 8192 16000" "kv llama-2-70b-hf 4 80 2 128 2 4096 "; do
        grep -q "^$want" tools/bench/shapes.txt && ok || bad "shapes.txt lacks '$want'"
    done
else
    bad "no $DATA/models for the shapes check"
fi

# ---- run.sh dry run: stand-in nvidia-smi and binaries, everything under $T
mkdir -p "$T/fake" "$T/out"
cat > "$T/fake/nvidia-smi" <<'EOF'
#!/bin/sh
# SYNTHETIC stand-in for nvidia-smi (tests/bench.sh dry run)
case "$*" in
*--query-gpu=name*) echo "SYNTHETIC H100" ;;
*--query-gpu=driver_version*) echo "0.0.0-synthetic" ;;
*--query-gpu=*) echo "[N/A]" ;;
*-q*) echo "SYNTHETIC nvidia-smi -q" ;;
*) echo "| SYNTHETIC NVIDIA-SMI 0.0   Driver Version: 0.0.0   CUDA Version: 0.0 |" ;;
esac
EOF
printf '#!/bin/sh\ncat %s/bw.txt\n' "$PWD/$FIX" > "$T/fake/bw"
printf '#!/bin/sh\ncat %s/gemm.csv\n' "$PWD/$FIX" > "$T/fake/gemm"
chmod +x "$T/fake/nvidia-smi" "$T/fake/bw" "$T/fake/gemm"
if PATH="$T/fake:$PATH" BENCH_BIN="$T/fake" BENCH_MEASURED="$T/meas" BENCH_SYNTHETIC=1 OUT="$T/out" \
    bash tools/bench/run.sh > "$T/run.out" 2>&1; then ok; else bad "run.sh dry run: $(tail -5 "$T/run.out")"; fi
raw=$(ls -d "$T"/meas/raw/*-SYNTHETIC-H100 2>/dev/null | head -1)
[ -n "$raw" ] && [ -s "$raw/identity.txt" ] && [ -s "$raw/bw.txt" ] && [ -s "$raw/gemm.csv" ] && ok ||
    bad "run.sh raw folder incomplete: $(ls -R "$T/meas" 2>&1 | head)"
grep -q '^driver=0.0.0-synthetic$' "$raw/identity.txt" 2>/dev/null && grep -q '^cuda_driver=0.0$' "$raw/identity.txt" &&
    grep -q '^gemm_cu_sha256=[0-9a-f]\{64\}$' "$raw/identity.txt" && ok || bad "identity.txt fields"
grep -q '"measured": "SYNTHETIC' "$T/meas/profile.json" 2>/dev/null && ok || bad "run.sh did not derive the profile"
tar -tf "$T/out/tam-bench.tar" 2>/dev/null | grep -q 'profile.json$' && [ -s "$T/out/run.log" ] && ok ||
    bad "run.sh did not pack \$OUT/tam-bench.tar and run.log"

# ---- the CUDA sources build (no GPU needed) and list what they would run
NVCC=$(command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; } || true)
if [ -n "$NVCC" ]; then
    for f in bw gemm; do
        "$NVCC" -O3 -arch=sm_90 -std=c++17 -c -o "$T/$f.o" "tools/bench/$f.cu" > "$T/$f.cc" 2>&1 && ok ||
            bad "nvcc -c $f.cu: $(head -5 "$T/$f.cc")"
    done
    if NVCC=$NVCC sh tools/bench/build.sh "$T/bb" > "$T/bb.log" 2>&1; then
        ok
        grep -qi warning "$T/bb.log" && bad "build warnings: $(grep -i warning "$T/bb.log" | head -3)" || ok
        LD_LIBRARY_PATH="$(dirname "$NVCC")/../lib64:${LD_LIBRARY_PATH:-}"
        export LD_LIBRARY_PATH
        if "$T/bb/gemm" --list > "$T/gl.out" 2>&1; then
            ok
            awk '/^gemm /{print $5, $6}' tools/bench/shapes.txt | sort -u > "$T/want.kn"
            awk '{print $1, $2}' "$T/gl.out" | sort > "$T/got.kn"
            cmp -s "$T/want.kn" "$T/got.kn" && ok || bad "gemm --list shapes differ from shapes.txt"
            [ "$(awk '{n += NF - 2} END {print n}' "$T/gl.out")" -eq "$(grep -c '^gemm ' tools/bench/shapes.txt)" ] &&
                ok || bad "gemm --list lost labels"
        else
            bad "gemm --list: $(head -3 "$T/gl.out")"
        fi
        if "$T/bb/bw" --list > "$T/bl.out" 2>&1; then
            ok
            grep -q '^sequential bytes=4294967296$' "$T/bl.out" && ok || bad "bw --list: no 4 GiB sequential run"
            nkv=$(grep -c '^kv ' tools/bench/shapes.txt)
            [ "$(grep -c '^mix ' "$T/bl.out")" -eq "$nkv" ] && [ "$(grep -c '^paged_kv_identity ' "$T/bl.out")" -eq "$nkv" ] &&
                [ "$(grep -c '^paged_kv ' "$T/bl.out")" -eq $((nkv * 9)) ] && ok || bad "bw --list run counts: $(wc -l < "$T/bl.out")"
        else
            bad "bw --list: $(head -3 "$T/bl.out")"
        fi
        "$T/bb/bw" --contexts 100 --list > /dev/null 2>&1 && bad "bw accepted a context not a multiple of 16" || ok
    else
        bad "build.sh: $(tail -5 "$T/bb.log")"
    fi
else
    echo "# bench: no nvcc here: the CUDA compile checks are skipped"
fi

report bench
