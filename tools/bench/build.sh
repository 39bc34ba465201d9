#!/bin/sh
# tools/bench/build.sh - build the Tier 2 micro-benchmarks with nvcc (H100: sm_90).
# Usage: sh tools/bench/build.sh [OUTDIR]     (default build-bench; env NVCC, NVCCFLAGS)
# Needs only nvcc and cuBLASLt (part of the CUDA toolkit); no GPU is needed to build.
# The rest of the project never needs this.  OUTDIR gets a .gitignore of its own.
set -eu
cd "$(dirname "$0")/../.."
O=${1:-build-bench}
NVCC=${NVCC:-}
if [ -z "$NVCC" ]; then
    if command -v nvcc >/dev/null 2>&1; then NVCC=nvcc
    elif [ -x /usr/local/cuda/bin/nvcc ]; then NVCC=/usr/local/cuda/bin/nvcc
    else echo "build.sh: nvcc not found (set NVCC); the benchmarks need the CUDA toolkit" >&2; exit 2
    fi
fi
FLAGS=${NVCCFLAGS:-"-O3 -arch=sm_90 -std=c++17 -Xcompiler -Wall,-Wextra"}
mkdir -p "$O"
[ -f "$O/.gitignore" ] || echo '*' > "$O/.gitignore"
echo "build.sh: $($NVCC --version | tail -1)"
# shellcheck disable=SC2086
$NVCC $FLAGS -o "$O/bw" tools/bench/bw.cu
# shellcheck disable=SC2086
$NVCC $FLAGS -o "$O/gemm" tools/bench/gemm.cu -lcublasLt
echo "build.sh: built $O/bw $O/gemm"
