/* engine/hw.h - a GPU's hardware profile.
**
** Units are SI throughout: FLOP/s, bytes/s, bytes.  The shipped profile
** (engine/profiles/h100-sxm.json) holds the dense bf16 peak (the datasheet's
** 1979 TFLOP/s is with 2:4 sparsity; dense is half).  Tier 2 adds measured
** per-access-pattern bandwidths; zero means "not measured".
*/
#ifndef TAM_HW_H
#define TAM_HW_H

#include "common.h"

typedef struct {
    char name[64];
    double peak_flops;   /* FLOP/s, dense bf16 tensor core */
    double hbm_bw;       /* bytes/s, datasheet HBM peak */
    double mem_bytes;    /* bytes of HBM */
    double nvlink_bw;    /* bytes/s, bidirectional aggregate per GPU */
    double bw_seq;       /* bytes/s, measured sequential (weights); 0 = none */
    double bw_kv;        /* bytes/s, measured paged-KV gather; 0 = none */
    char measured[128];  /* provenance of bw_seq/bw_kv, empty if none */
} hw_t;

int hw_load(const char *path, hw_t *hw, char *err);
int hw_parse(const char *json, const char *what, hw_t *hw, char *err);
/* The built-in H100 SXM profile (same numbers as engine/profiles/h100-sxm.json). */
void hw_h100_sxm(hw_t *hw);

#endif
