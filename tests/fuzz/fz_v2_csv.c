/* tests/fuzz/fz_v2_csv.c - libFuzzer target "v2_csv": trace_load on a copy of v2mini; first byte: 0 trace.csv, 1 requests.csv.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("v2_csv")
