#!/usr/bin/env bash
# tools/bench/run.sh - the ONE script a session runs on the GPU machine (an
# H100 SXM) to measure Tier 2's inputs.  Expected: about 2 minutes on an H100
# (build ~15 s, bw ~10 s, gemm ~70-90 s: estimates, not yet observed); the
# steps' own timeouts (build 60 s, bw 60 s, gemm 180 s) end it within 5
# minutes whatever happens.
#
#   bash tools/bench/run.sh
#
# 1. records the card's identity (nvidia-smi: card, driver, CUDA; the source
#    files' hashes) in RAW/identity.txt, RAW = tools/bench/measured/raw/<UTC
#    date-time>-<card>;
# 2. builds build-bench/{bw,gemm} with the machine's nvcc (tools/bench/build.sh),
#    or uses binaries already there when it has no nvcc;
# 3. runs bw (RAW/bw.txt, bw.log) and gemm (RAW/gemm.csv, gemm.log);
# 4. runs the harness: tools/bench/measured/{profile.json, mfu/gemm/data.csv,
#    bw-summary.csv};
# 5. when $OUT is set (the device tool's result folder), packs
#    tools/bench/measured/ (this run's raw folder and the derived files) into
#    $OUT/tam-bench.tar and copies the log to $OUT/run.log.
# Exit status: 0 when everything ran and the harness accepted the output.
# It never changes the card's settings (clocks, power, modes): it measures the
# card as it finds it and records its state before and after.
# Env (for tests/bench.sh's dry run; a real run sets none): BENCH_MEASURED
# (default tools/bench/measured), BENCH_BIN (a folder with ready bw and gemm:
# no build), BENCH_SYNTHETIC=1 (identity says synthetic), BENCH_ANY_CARD=1
# (harness --any-card; see README).
set -u
cd "$(dirname "$0")/../.." || exit 2

die() { echo "run.sh: $*" >&2; exit 2; }
command -v nvidia-smi >/dev/null 2>&1 || die "nvidia-smi not found: run this on the GPU machine"

# one field of GPU 0 (the device the benchmarks use), 'unknown' when not supported
q() {
    local v
    v=$(nvidia-smi -i 0 --query-gpu="$1" --format=csv,noheader 2>/dev/null | head -1)
    case "$v" in "" | *"Field"*) echo unknown ;; *) echo "$v" ;; esac
}
card=$(q name)
driver=$(q driver_version)
cuda=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)
[ "$card" != unknown ] || die "nvidia-smi shows no GPU 0"
stamp=$(date -u +%Y%m%d-%H%M%S)
slug=$(printf '%s' "$card" | tr -c 'A-Za-z0-9' '-' | tr -s '-' | sed 's/^-//; s/-$//')
MEAS=${BENCH_MEASURED:-tools/bench/measured}
BIN=${BENCH_BIN:-build-bench}
RAW=$MEAS/raw/$stamp-$slug
mkdir -p "$RAW" || die "cannot create $RAW"
exec > >(tee -a "$RAW/run.log") 2>&1

sha() { sha256sum "$1" 2>/dev/null | cut -c1-64; }
NVCC=$(command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; } || true)
{
    echo "# written by tools/bench/run.sh on the GPU machine (nvidia-smi, GPU 0)"
    echo "synthetic=${BENCH_SYNTHETIC:-0}"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "card=$card"
    echo "driver=$driver"
    echo "cuda_driver=${cuda:-unknown}"
    echo "nvcc=$([ -n "$NVCC" ] && "$NVCC" --version | tail -1 || echo none)"
    echo "memory_total=$(q memory.total)"
    echo "clocks_max_sm=$(q clocks.max.sm)"
    echo "clocks_max_memory=$(q clocks.max.memory)"
    echo "power_limit=$(q power.limit)"
    echo "persistence_mode=$(q persistence_mode)"
    echo "compute_mode=$(q compute_mode)"
    echo "mig_mode=$(q mig.mode.current)"
    echo "vbios=$(q vbios_version)"
    echo "pci_bus_id=$(q pci.bus_id)"
    echo "source_commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "bw_cu_sha256=$(sha tools/bench/bw.cu)"
    echo "gemm_cu_sha256=$(sha tools/bench/gemm.cu)"
    echo "shapes_sha256=$(sha tools/bench/shapes.txt)"
} > "$RAW/identity.txt"
nvidia-smi -q -i 0 > "$RAW/nvidia-smi-before.txt" 2>&1
echo "run.sh: $card, driver $driver, CUDA $cuda -> $RAW"
cat "$RAW/identity.txt"

rc=0
if [ -n "${BENCH_BIN:-}" ]; then
    echo "run.sh: using $BIN/bw and $BIN/gemm as they are (BENCH_BIN)" | tee "$RAW/build.log"
elif [ -n "$NVCC" ]; then
    NVCC=$NVCC timeout 60 sh tools/bench/build.sh build-bench > "$RAW/build.log" 2>&1 ||
        { cat "$RAW/build.log"; die "build failed (log: $RAW/build.log)"; }
    cat "$RAW/build.log"
elif [ -x "$BIN/bw" ] && [ -x "$BIN/gemm" ]; then
    echo "run.sh: no nvcc here; using the carried build-bench/ binaries" | tee "$RAW/build.log"
else
    die "no nvcc and no build-bench/ binaries"
fi

t0=$(date +%s)
echo "run.sh: bw (bandwidth: sequential, paged-KV per corpus model, mix) ..."
timeout 60 "$BIN/bw" --shapes tools/bench/shapes.txt > "$RAW/bw.txt" 2> "$RAW/bw.log"
r=$?; [ $r -eq 0 ] || { echo "run.sh: bw exited $r"; tail -5 "$RAW/bw.log"; rc=1; }
t1=$(date +%s)
echo "run.sh: bw took $((t1 - t0)) s; gemm (cuBLASLt bf16 MFU sweep) ..."
timeout 180 "$BIN/gemm" --shapes tools/bench/shapes.txt > "$RAW/gemm.csv" 2> "$RAW/gemm.log"
r=$?; [ $r -eq 0 ] || { echo "run.sh: gemm exited $r"; tail -5 "$RAW/gemm.log"; rc=1; }
t2=$(date +%s)
echo "run.sh: gemm took $((t2 - t1)) s"
{
    for f in clocks.sm clocks.mem temperature.gpu power.draw clocks_event_reasons.active \
             clocks_throttle_reasons.active; do
        echo "$f=$(q $f)"
    done
} > "$RAW/after.txt"
nvidia-smi -q -i 0 > "$RAW/nvidia-smi-after.txt" 2>&1

derived=0
if [ $rc -eq 0 ]; then
    if python3 tools/bench/harness.py derive "$RAW" --out "$MEAS" ${BENCH_ANY_CARD:+--any-card}; then
        derived=1
    else
        rc=1
    fi
fi
grep '^RESULT' "$RAW/bw.txt" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(pattern|model|tp|batch|context|bw_Bps|check)=/) printf "%s ", $i; print ""}'
echo "run.sh: gemm rows: $(grep -c '^[0-9]' "$RAW/gemm.csv" 2>/dev/null || echo 0)"

if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then
    set -- "$RAW"
    [ $derived -eq 1 ] && set -- "$@" "$MEAS/profile.json" "$MEAS/mfu" "$MEAS/bw-summary.csv"
    tar -cf "$OUT/tam-bench.tar" "$@" && echo "run.sh: packed $* into \$OUT/tam-bench.tar"
    cp "$RAW/run.log" "$OUT/run.log" 2>/dev/null
fi
echo "run.sh: exit $rc (raw output in $RAW)"
exit $rc
