/* tests/fuzz/fz_mfu_decode.c - libFuzzer target "mfu_decode": mfu_load with the input as mha/decode/4-2-64-tp1.csv, then lookups.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("mfu_decode")
