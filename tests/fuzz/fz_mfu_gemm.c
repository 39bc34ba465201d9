/* tests/fuzz/fz_mfu_gemm.c - libFuzzer target "mfu_gemm": mfu_load with the input as gemm/data.csv beside fixed decode/prefill tables, then lookups.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("mfu_gemm")
