/* tests/fuzz/fz_ip_replay.c - libFuzzer target "ip_replay": trace_load on a copy of ipmini; first byte: 0 replay JSON, 1 ground truth, 2 lifecycle summary.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("ip_replay")
