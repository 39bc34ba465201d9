/* tests/fuzz/fz_v2_yaml.c - libFuzzer target "v2_yaml": trace_load on a copy of v2mini whose trace.yaml is the input.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("v2_yaml")
