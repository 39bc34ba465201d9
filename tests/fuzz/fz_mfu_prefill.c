/* tests/fuzz/fz_mfu_prefill.c - libFuzzer target "mfu_prefill": mfu_load with the input as mha/prefill/4-2-64.csv, then lookups.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("mfu_prefill")
