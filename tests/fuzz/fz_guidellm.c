/* tests/fuzz/fz_guidellm.c - libFuzzer target "guidellm": trace_load on a copy of glmini whose guidellm-results.json is the input.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("guidellm")
