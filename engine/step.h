/* engine/step.h - the step-time model: how long one vLLM engine step takes.
**
** A step serves a batch of prefill chunks (n_r new tokens on top of c_r cached
** ones) and decodes (one token at context c_r).  The baseline is "roofline v2"
** exactly as docs/MODEL.md specifies; each correction H1-H6 and each extra term
** is a switch in econf_t.  All times in seconds, bytes in bytes, per GPU.
**
** Units and formulas (per layer, per GPU; tp = tensor-parallel degree):
**   GEMM compute   2 m k n / (P * mfu_gemm(m,k,n))
**   decode attn    4 (H/tp) hd c_r FLOPs, mfu at (decode count, c_r)
**   prefill attn   4 (H/tp) hd n_r (c_r + (n_r+1)/2) FLOPs, mfu at c_r + n_r
**   bytes          GEMM weights k n b; KV read 2 (K/tp) hd b c_r; KV write
**                  2 (K/tp) hd b per new token
** then x L layers, + LM head (d -> V/tp) for each token emitted this step.
*/
#ifndef TAM_STEP_H
#define TAM_STEP_H

#include "common.h"
#include "econf.h"
#include "hw.h"
#include "kset.h"
#include "mfu.h"
#include "model.h"

typedef struct {
    int n_pf;                      /* prefill chunks in the step */
    const int *pf_new;             /* tokens computed for each chunk */
    const int *pf_ctx;             /* tokens already in KV before the chunk */
    const unsigned char *pf_emits; /* 1 when the chunk finishes its prompt (LM head row) */
    int n_dec;                     /* decoding requests */
    const int *dec_ctx;            /* tokens in KV before this step's token */
} batch_t;

/* One priced component, for `tam step` explanations. */
typedef struct {
    char name[24];      /* "q", "qkv", "gate", "expert.down", "attn.decode", "lm_head", ... */
    char phase;         /* 'p' prefill phase, 'd' decode phase, 'm' one mixed pass */
    double m, k, n;     /* GEMM shape (0 for attention) */
    double mfu;         /* GEMM MFU, or the FLOP-weighted mean for attention */
    double flops;       /* FLOP, all layers */
    double compute;     /* s, all layers */
    double bytes;       /* bytes, all layers */
    double mem;         /* s: those bytes at the bandwidth the model gives them
                        ** (weights at bw_w, KV at bw_kv: measured_bw, bw_eta) */
    mfu_src_t src;      /* rows that served the lookup (GEMMs; last request for attention) */
    int measured;       /* 1: priced from a measured latency table: ksrc, not src */
    klat_src_t ksrc;    /* rows of the measured table (likewise) */
    int extrapolated;   /* some lookup of this component lay outside its grid */
} step_comp_t;

#define STEP_MAX_COMPS 48

typedef struct {
    double total;          /* s: the step's duration */
    double overhead;       /* s: per-step scheduling overhead charged */
    double elementwise;    /* s: norms, rotary, activation (econf elementwise) */
    double t_prefill;      /* s: prefill-phase roofline time (0 if none) */
    double t_decode;       /* s: decode-phase roofline time (0 if none) */
    double compute;        /* s: sum of compute times (all components) */
    double mem_time;       /* s: bytes / bandwidth (all components) */
    double weight_bytes;   /* bytes read for weights */
    double kv_bytes;       /* bytes of KV read + written */
    double allreduce;      /* s: TP all-reduce time charged */
    double mem_bound;      /* s: roofline time of components (or phases) bound by memory */
    const char *blend;     /* "prefill-only", "decode-only", "0.75/0.25", "0.35/0.65",
                           ** "token-weighted", "additive" */
    int want_comps;        /* in: fill comps[] */
    int n_comps;
    step_comp_t comps[STEP_MAX_COMPS];
} step_bd_t;

typedef struct step_model step_model_t;

/* The kernel set is borrowed (must outlive the step model); model, hw and
** configuration are copied.  c->kernels must name the set (kset_bind). */
int step_model_new(const model_t *m, const hw_t *hw, const kset_t *ks, int tp,
                   const econf_t *c, step_model_t **out, char *err);
void step_model_free(step_model_t *sm);
const mfu_attn_t *step_model_attn(const step_model_t *sm);
/* Which table prices each kind of kernel for this model: "measured" (the
** set's latency tables), "mfu" (the proposal-layout tables), "mfu-exact"
** (their latency_us), or for MoE "fused-measured" / "per-expert". */
typedef struct {
    const char *gemm, *decode, *prefill, *moe;
    int gemm_fp8_for_bf16;  /* GEMMs of a bf16 model priced through an FP8 table */
} step_pricing_t;
void step_model_pricing(const step_model_t *sm, step_pricing_t *p);
const econf_t *step_model_conf(const step_model_t *sm);

/* Duration of one step in seconds; bd may be NULL (the fast path).
** Not thread-safe on a shared sm: sm is const to its callers, but the model
** owns exact memos of its table lookups (keyed by shape / batch and context)
** that this call writes.  A memo only ever returns what the lookup it
** replaces would, so results do not depend on call order. */
double step_time(const step_model_t *sm, const batch_t *b, step_bd_t *bd);

/* The kernel-time groups the Tier 3 scales multiply (econf scale_*). */
enum { STEP_G_WEIGHT, STEP_G_COMPUTE, STEP_G_KV, STEP_G_ALLREDUCE, STEP_NG };

/* step_time, and its partial derivatives by the four scales at their
** configured values: g[j] = the seconds of group j the step's duration
** charges, before scaling (0 for a group hidden under the roofline's other
** limit).  The duration is the same double step_time returns. */
double step_time_grad(const step_model_t *sm, const batch_t *b, double g[STEP_NG]);

#endif
