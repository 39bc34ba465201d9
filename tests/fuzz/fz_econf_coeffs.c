/* tests/fuzz/fz_econf_coeffs.c - libFuzzer target "econf_coeffs": econf_load_coeffs on the input as a Tier 1 coefficient file (--coeffs).
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("econf_coeffs")
