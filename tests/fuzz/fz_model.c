/* tests/fuzz/fz_model.c - libFuzzer target "model": model_parse on the input as a HuggingFace config.json text.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("model")
