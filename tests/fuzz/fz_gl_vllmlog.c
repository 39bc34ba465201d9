/* tests/fuzz/fz_gl_vllmlog.c - libFuzzer target "gl_vllmlog": trace_load on a copy of glmini whose vllm.log is the input.
** The harness, the fixture and the invariants checked live in fz_harness.h. */
#include "fz_harness.h"

FZ_MAIN("gl_vllmlog")
