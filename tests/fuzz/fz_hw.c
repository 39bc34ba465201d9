/* tests/fuzz/fz_hw.c - libFuzzer target "hw": hw_parse on the input as a hardware profile (--hardware) text.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("hw")
