/* engine/kset.h - a kernel data set: which measurements price a step.
**
** Two sets are built in (names resolved against the data directory):
**   proposal-h100   the TAM proposal's tables, mfu/h100/ (InferSim/BLIS
**                   layout).  Their GEMM table is an FP8 DeepGEMM measurement
**                   and is declared as such; the attention tables are bf16.
**                   This set defines the baseline.
**   h100-sxm-bf16   measured bf16 kernels of vLLM 0.24 (aiconfigurator):
**                   kernels/h100-sxm/aiconfigurator/vllm-0.24.0/{gemm,
**                   decode_attention,prefill_attention,moe_mixtral-8x7b}.csv,
**                   looked up in latency space (engine/klat.h); attention head
**                   pairs the set lacks (MHA decode) fall back to mfu/h100's
**                   latency_us (exact MFU, interpolated).
** A user's own set is a JSON manifest (kset_load with a path; format in
** kset.c) naming the same kinds of file, relative to the manifest's folder.
**
** Identity: the SHA-256 of every file read (as sha256sum prints it), and a
** set digest over the lines "role<TAB>name<TAB>sha256" in load order.  A
** configuration bound to a set (kset_bind) carries the set's name and digest,
** so a stored run names exactly the measurements it stands on.
*/
#ifndef TAM_KSET_H
#define TAM_KSET_H

#include "common.h"
#include "econf.h"
#include "hw.h"
#include "klat.h"
#include "mfu.h"

#define KSET_MAX_FILES 64
#define KSET_MAX_MOE 4

typedef struct {
    char role[16];      /* "mfu.gemm", "mfu.decode", "mfu.prefill", "gemm", "decode",
                        ** "prefill", "moe" */
    char name[256];     /* path relative to the data directory or the manifest */
    char sha256[65];
} kset_file_t;

/* One fused-MoE table and the expert shape it measured (model level). */
typedef struct {
    klat_moe_t *t;
    int hidden, intermediate, experts, topk;
} kset_moe_t;

typedef struct {
    char name[64];
    char spec[256];        /* what kset_load was given: a built-in name or a path */
    char description[256];
    int gemm_fp8;          /* the mfu-layout GEMM table is an FP8 measurement */
    mfu_db_t *mfu;         /* proposal-layout tables, mfu column as published */
    mfu_db_t *mfu_exact;   /* the same tables, mfu recomputed from latency_us */
    klat_gemm_t *gemm;     /* measured tables; NULL in a set without them */
    klat_attn_t *decode;
    klat_attn_t *prefill;
    int n_moe;
    kset_moe_t moe[KSET_MAX_MOE];
    int n_files;
    kset_file_t files[KSET_MAX_FILES];
    char sha256[65];       /* the set's digest */
} kset_t;

/* Load a set: spec is a built-in name or a manifest path; data is the data
** directory; mfu_dir (NULL: the set's own) and gemm_mfu (NULL: none) replace
** the proposal-layout tables or their GEMM file (Tier 2, --mfu/--gemm-mfu);
** hw gives the physics the measured tables are checked against. */
int kset_load(const char *data, const char *spec, const char *mfu_dir, const char *gemm_mfu,
              const hw_t *hw, kset_t **out, char *err);
void kset_free(kset_t *ks);

/* Bind a configuration to a loaded set: c->kernels must name it and
** c->kernels_sha256, when given, must equal its digest; then it is set. */
int kset_bind(const kset_t *ks, econf_t *c, char *err);

/* The fused-MoE table for a model's expert shape (model level), or NULL. */
const kset_moe_t *kset_moe_for(const kset_t *ks, int hidden, int intermediate, int experts,
                               int topk);

/* The built-in sets' names, NULL-terminated (for --help). */
extern const char *const kset_builtin_names[];

#endif
