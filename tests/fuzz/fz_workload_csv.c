/* tests/fuzz/fz_workload_csv.c - libFuzzer target "workload_csv": wl_load_csv on the input as a workload CSV (tam simulate --workload).
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("workload_csv")
