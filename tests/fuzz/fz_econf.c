/* tests/fuzz/fz_econf.c - libFuzzer target "econf": econf_parse on the input as an engine configuration (--config) text.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("econf")
