/* engine/econf.h - the engine configuration: which corrections are on, with
** their parameters, and which extra physics terms are charged.
**
** Defaults are the baseline ("roofline v2", docs/MODEL.md).  A configuration
** file is a JSON object holding any subset of the keys below; unknown keys are
** an error (a typo must not silently run the baseline).  The canonical form
** lists every key (but the Tier 3 scales at 1), sorted, numbers as %.17g, so
** two configurations that mean the same thing serialise to the same bytes; its
** hash names the configuration in the database (engine/hash.h: the FNV-1a
** 64-bit iteration from a basis one digit short of the standard one, kept for
** its values).
*/
#ifndef TAM_ECONF_H
#define TAM_ECONF_H

#include "common.h"

/* The kernel data set of the proposal's baseline (engine/kset.h). */
#define ECONF_DEFAULT_KERNELS "proposal-h100"

typedef struct {
    char name[64];             /* label only; not part of the hash */
    /* H1 */
    double bw_eta;             /* effective HBM bandwidth = bw_eta * peak; baseline 1 */
    /* H2 (the baseline charges 50 us to every step) */
    double overhead_decode_s;  /* per decode-only step, seconds */
    double overhead_prefill_s; /* per step containing any prefill, seconds */
    double overhead_layer_s;   /* per layer per step, divided by tp (BLIS's
                               ** "100 us x layers / tp" variant); baseline 0 */
    /* H3 */
    int fused_qkv;             /* 1: one QKV lookup (n = (H+2K)hd/tp) + O */
    /* H4 */
    int per_component;         /* 1: sum of per-component rooflines per layer */
    /* H5 */
    int additive_mixed;        /* 1: one GEMM pass over all tokens + both attentions */
    /* H6 */
    int mfu_interp;            /* 1: interpolated MFU lookups */
    /* Terms the proposal omits (docs/MODEL.md) */
    int lm_head;               /* LM head GEMM + weights; on in every tier */
    int allreduce;             /* TP all-reduce, two per layer (tp > 1) */
    double allreduce_bw;       /* bytes/s per direction of one GPU's NVLink;
                               ** 0 = half the profile's bidirectional figure */
    double allreduce_lat_s;    /* fixed cost per all-reduce, seconds */
    int moe_fused;             /* 1: a MoE layer's experts as one fused grouped
                               ** GEMM (one lookup at m = tokens*topk) */
    /* Tier 2 */
    int measured_bw;           /* 1: weights at hw.bw_seq, KV at hw.bw_kv */
    /* Kernel data (engine/kset.h): which set of kernel measurements prices
    ** the step, and the digest of its files.  kernels_sha256 is filled when a
    ** set is bound (kset_bind); given in a file, it must match the files. */
    char kernels[256];         /* a built-in set's name or a manifest path;
                               ** baseline "proposal-h100" */
    char kernels_sha256[65];   /* "" until bound */
    int mfu_exact;             /* 1: the proposal tables' MFU recomputed from
                               ** their latency_us, not the 3-decimal column */
    double fp8_gemm_ratio;     /* a bf16 model's GEMM time over an FP8 table's
                               ** kernel time; roofline v2 implies 2 (MFU
                               ** relative to the FP8 peak, priced at the bf16
                               ** peak); baseline 2 */
    /* The anatomy of TTFT and of a step outside the GPU kernels (beyond the
    ** proposal; all off in the baseline).  Sizes come from the physics of
    ** the front end and vLLM's own measurements, never fitted here. */
    double frontend_s;         /* per request before the engine sees it: HTTP,
                               ** OpenAI parsing, chat template, IPC hop */
    double frontend_tok_s;     /* per prompt token before the engine sees it:
                               ** tokenisation */
    double cpu_step_s;         /* engine-core CPU per step: schedule, prepare
                               ** inputs, sample, process outputs */
    double cpu_req_s;          /* the same per request in the step */
    char scheduling[16];       /* the engine core's loop: "sync" (baseline): CPU
                               ** work and GPU step one after the other, a new
                               ** request joins the next step; "async" (vLLM's
                               ** async scheduling): the CPU plans step N+1
                               ** while the GPU runs N (a step lasts the longer
                               ** of the two) and a request that arrives during
                               ** a step joins one step later; "version": as
                               ** the run's vLLM version did by default (async
                               ** from v0.12, vLLM PR #27614; a run that does
                               ** not record its version: async) */
    int elementwise;           /* 1: per-layer elementwise kernels (fused add +
                               ** RMSNorm x2, rotary, SiLU-and-mul), memory-bound
                               ** on activations, each at least kernel_floor_s */
    /* Tier 3's physical coefficients (tools/harness/tier3.c fits them through the
    ** simulator): multipliers on the priced kernel times, one per limit a
    ** kernel meets; 1 = the kernels as measured in isolation, 2 = twice as
    ** slow in the serving step.  A GEMM shape is memory- or compute-bound by
    ** its roofline at the hardware's peaks.  At 1 they are left out of the
    ** canonical form (econf.c), so configurations from before them keep
    ** their hashes. */
    double scale_weight_read;  /* memory-bound GEMMs, elementwise kernels and
                               ** the roofline's weight bytes / bandwidth:
                               ** 1 / the effective weight-read bandwidth */
    double scale_compute;      /* compute-bound GEMMs and prefill attention:
                               ** 1 / the tensor-core efficiency */
    double scale_kv_read;      /* decode attention and the roofline's KV bytes /
                               ** bandwidth: 1 / the effective KV bandwidth */
    double scale_allreduce;    /* TP all-reduce */
    double kernel_floor_s;     /* the shortest a GPU kernel takes, s */
    /* Client-side time outside the GPU (Tier 1, in-simulator calibration) */
    double client_ttft_s;      /* added to every request's first token */
    double client_token_s;     /* added per streamed output token after the first */
    /* Tier 1 residual post-correction (tools/harness/calib.h), milliseconds:
    **   ttft += (resid_ttft_a_ms * out + resid_ttft_b_ms * prompt + resid_ttft_d_ms) / 1000
    **   tpot += (resid_tpot_a_ms * out + resid_tpot_b_ms * prompt + resid_tpot_d_ms) / 1000
    ** applied per request after the simulation (tools/harness/runner.c), so it does
    ** not feed back into queueing; all 0 = off (the simulator's own numbers).
    ** No engine code reads these: only the harness applies them.  They stay in
    ** the configuration because they are part of what a stored configuration
    ** is (a calibrated model is another configuration, with another hash), and
    ** the canonical form lists every key, so moving them elsewhere would change
    ** the hash of every stored configuration. */
    double resid_tpot_a_ms, resid_tpot_b_ms, resid_tpot_d_ms;
    double resid_ttft_a_ms, resid_ttft_b_ms, resid_ttft_d_ms;
} econf_t;

void econf_baseline(econf_t *c);
/* Parse a JSON object over the baseline defaults. */
int econf_parse(const char *json, const char *what, econf_t *c, char *err);
int econf_load(const char *path, econf_t *c, char *err);
/* Apply a JSON object's keys over *c as it is (not over the baseline): the
** same strict rules as econf_parse (unknown keys and out-of-range values are
** errors, naming `what`); on error *c is unchanged. */
int econf_merge_json(const char *json, const char *what, econf_t *c, char *err);
/* What a coefficient file says it was fitted over, so a caller can say when
** it is applied over something else; "" for a field the file lacks. */
typedef struct {
    char base_hash[17];          /* "base_config_hash" */
    char hardware_measured[128]; /* "hardware_measured": the profile's provenance */
    char gemm_table[512];        /* "gemm_table": the --gemm-mfu CSV */
} econf_coeffs_meta_t;

/* Apply a Tier 1 coefficient file (written by `tam calibrate`) over *c: the
** file must be an object with "tam_coefficients": 1 and a "config" object of
** engine configuration keys, which are merged with econf_merge_json; its
** other fields are metadata (any field not in the format is an error, so a
** typo is never silently ignored).  meta (may be NULL) receives what the
** file says it was fitted over.  On error *c is unchanged. */
int econf_load_coeffs(const char *path, econf_t *c, econf_coeffs_meta_t *meta, char *err);
/* Canonical serialisation into buf (returns length, or -1 if it does not fit). */
int econf_canonical(const econf_t *c, char *buf, size_t cap);
/* 16 lowercase hex digits of the FNV-1a 64-bit iteration from
** HASH_SHORT_BASIS (engine/hash.h) over the canonical form. */
void econf_hash(const econf_t *c, char out[17]);

#endif
