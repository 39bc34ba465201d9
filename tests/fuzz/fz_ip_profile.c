/* tests/fuzz/fz_ip_profile.c - libFuzzer target "ip_profile": trace_load on a copy of ipmini; first byte: 0 profile.yaml, 1 exp-config.yaml.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("ip_profile")
