/* tests/fuzz/fz_v2_json.c - libFuzzer target "v2_json": trace_load on a copy of v2mini; first byte: 0 server_config.json, 1 summary.json.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("v2_json")
