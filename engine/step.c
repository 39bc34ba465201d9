/* engine/step.c - step-time model: the roofline-v2 baseline and its switches.
**
** Invariant: step_time is a pure function of (model, hw, MFU tables, config,
** batch); it allocates nothing and keeps no state between calls, so the
** scheduler may call it millions of times and two simulations can share one
** step model.  The per-component accounting below feeds both rooflines: the
** aggregate one (max of total compute and total bytes / bandwidth, per phase)
** and H4's per-component one (sum of max(compute_c, bytes_c / bw_c)).
*/
#include "step.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct step_model {
    model_t m;
    hw_t hw;
    econf_t c;
    const kset_t *ks;
    const mfu_db_t *db;   /* proposal-layout tables: published or exact mfu */
    mfu_attn_t attn;
    mfu_mode_t mode;
    /* Measured latency tables (NULL / 0: priced from db). */
    const klat_gemm_t *kgemm;
    const klat_attn_t *kdec, *kpre;
    const klat_moe_t *kmoe;   /* the fused-MoE table, when moe_fused and one matches */
    double gemm_scale;        /* fp8_gemm_ratio / 2 for a bf16 model over an FP8 table, else 1 */
    int tp;
    double P;       /* FLOP/s */
    double bw_w;    /* bytes/s for weights */
    double bw_kv;   /* bytes/s for KV cache */
    double b;       /* bytes per weight / KV element */
    double d;       /* hidden size */
    double L;       /* layers */
    double Ht, Kt;  /* query and KV heads per GPU (Kt >= 1) */
    double hd;
    double q_n, kv_n, qkv_n, o_k; /* per-GPU projection widths */
    double f_n;     /* per-GPU intermediate width (per expert for MoE) */
    double v_n;     /* per-GPU vocabulary slice */
    double kv_tok;  /* bytes of K and V for one token in one layer, this GPU */
    double ar_bw;   /* all-reduce bandwidth, bytes/s per direction */
    double scale[STEP_NG]; /* Tier 3's multipliers on each group's kernel time */
    struct memo *memo; /* exact caches of lookups (see memo_decode_time) */
};

/* Tier 3 (step_time_grad): the unscaled seconds of each scale's group, the
** sum being the compute time (g), the memory time (gm) or the per-component
** roofline (gpc).  Kept apart from acc_t so that the fast path, which needs
** none of it, neither fills nor copies it. */
typedef struct {
    double g[STEP_NG], gm[STEP_NG], gpc[STEP_NG];
} grp_t;

typedef struct {
    double compute;   /* s */
    double mem;       /* s: bytes / their bandwidth */
    double wbytes;    /* bytes */
    double kvbytes;   /* bytes */
    double percomp;   /* s: sum of max(compute_c, mem_c) */
    double mem_bound; /* s: per-component time of memory-bound components */
    double allreduce; /* s */
    grp_t *gr;        /* NULL but in step_time_grad */
} acc_t;

/* Direct-mapped caches: a decode request's attention time by integer (batch,
** context), GEMM MFU by shape, a layer's GEMM sum by token count.  The
** simulator asks for the same keys over and over (a batch of ~100 requests
** whose contexts grow by one per step), and the decode lookup was the hottest
** function of a run.  Each cache returns exactly the double the uncached
** computation gives, so results do not depend on it; they are the only
** mutable state behind a const step model, so one step model must not be
** used by two threads at once. */
#define MEMO_BITS 16
#define GMEMO_BITS 14
#define LMEMO_BITS 12
struct memo {
    /* key (bs << 32 | kv) + 1, 0 = empty; key and value share a cache line */
    struct { uint64_t key; double val; } dec[1u << MEMO_BITS];
    uint64_t gkey[1u << GMEMO_BITS]; /* GEMM: (k << 42 | n << 21 | m) + 1 */
    double gval[1u << GMEMO_BITS];
    uint64_t lkey[1u << LMEMO_BITS]; /* a layer's GEMMs from a zero sum: m + 1 */
    acc_t lval[1u << LMEMO_BITS];
};

int step_model_new(const model_t *m, const hw_t *hw, const kset_t *ks, int tp,
                   const econf_t *c, step_model_t **out, char *err)
{
    *out = NULL;
    if (tp < 1 || tp > 64)
        return tam_fail(err, TAM_EFIELD, "tensor-parallel degree %d out of range [1,64]", tp);
    if (m->H % tp != 0)
        return tam_fail(err, TAM_EFIELD, "%s: %d attention heads do not split over tp=%d",
                        m->name, m->H, tp);
    if (m->F % tp != 0)
        return tam_fail(err, TAM_EFIELD, "%s: intermediate_size %d does not split over tp=%d",
                        m->name, m->F, tp);
    if (c->measured_bw && (hw->bw_seq <= 0 || hw->bw_kv <= 0))
        return tam_fail(err, TAM_EFIELD, "configuration asks for measured_bw but hardware "
                        "profile '%s' has no bw_sequential/bw_paged_kv", hw->name);
    if (strcmp(c->kernels, ks->name) != 0 && strcmp(c->kernels, ks->spec) != 0)
        return tam_fail(err, TAM_EFIELD, "configuration '%s' asks for kernels '%s' but the set "
                        "given is '%s'", c->name, c->kernels, ks->name);
    step_model_t *sm = calloc(1, sizeof *sm);
    if (!sm)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    sm->m = *m;
    sm->hw = *hw;
    sm->c = *c;
    sm->ks = ks;
    sm->tp = tp;
    /* A set with measured tables prices whatever they lack from its
    ** proposal-layout tables in latency space too: exact MFU, interpolated. */
    int measured = ks->gemm != NULL;
    sm->db = measured || c->mfu_exact ? ks->mfu_exact : ks->mfu;
    sm->mode = measured || c->mfu_interp ? MFU_INTERP : MFU_NEAREST;
    int Htp = m->H / tp, Ktp = m->K / tp >= 1 ? m->K / tp : 1;
    sm->kgemm = ks->gemm;
    sm->kdec = ks->decode && m->hd == 128 && klat_attn_has(ks->decode, Htp, Ktp) ? ks->decode : NULL;
    sm->kpre = ks->prefill && m->hd == 128 && klat_attn_has(ks->prefill, Htp, Ktp) ? ks->prefill
                                                                                  : NULL;
    if (m->E > 0 && c->moe_fused) {
        const kset_moe_t *km = kset_moe_for(ks, m->d, m->F, m->E, m->topk);
        if (km && klat_moe_has(km->t, tp, 1, "balanced"))
            sm->kmoe = km->t;
    }
    sm->gemm_scale = !sm->kgemm && ks->gemm_fp8 && m->wbytes == 2 && c->fp8_gemm_ratio != 2.0
                         ? c->fp8_gemm_ratio / 2.0
                         : 1.0;
    int rc = mfu_select_attn(sm->db, m->H, m->K, m->hd, tp, &sm->attn, err);
    if (rc) {
        free(sm);
        return rc;
    }
    sm->P = hw->peak_flops;
    if (c->measured_bw) {
        sm->bw_w = hw->bw_seq;
        sm->bw_kv = hw->bw_kv;
    } else {
        sm->bw_w = sm->bw_kv = c->bw_eta * hw->hbm_bw;
    }
    sm->b = m->wbytes;
    sm->d = m->d;
    sm->L = m->L;
    sm->Ht = (double)m->H / tp;
    sm->Kt = m->K / tp >= 1 ? (double)(m->K / tp) : 1.0; /* KV heads replicate below 1/GPU */
    sm->hd = m->hd;
    sm->q_n = sm->Ht * m->hd;
    sm->kv_n = sm->Kt * m->hd;
    sm->qkv_n = ((double)m->H + 2.0 * m->K) * m->hd / tp;
    sm->o_k = sm->q_n;
    sm->f_n = (double)m->F / tp;
    sm->v_n = ceil((double)m->V / tp);
    sm->kv_tok = 2.0 * sm->Kt * m->hd * sm->b;
    sm->ar_bw = c->allreduce_bw > 0 ? c->allreduce_bw : hw->nvlink_bw / 2.0;
    sm->scale[STEP_G_WEIGHT] = c->scale_weight_read;
    sm->scale[STEP_G_COMPUTE] = c->scale_compute;
    sm->scale[STEP_G_KV] = c->scale_kv_read;
    sm->scale[STEP_G_ALLREDUCE] = c->scale_allreduce;
    sm->memo = calloc(1, sizeof *sm->memo);
    if (!sm->memo) {
        free(sm);
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    }
    *out = sm;
    return TAM_OK;
}

void step_model_free(step_model_t *sm)
{
    if (sm)
        free(sm->memo);
    free(sm);
}

/* One GEMM lookup: the latency (s) of a measured table, else the MFU of the
** proposal-layout table.  A step model prices its GEMMs one way only, so
** the cache below holds either latencies or MFUs. */
static double gemm_lookup(const step_model_t *sm, double m, double k, double n)
{
    return sm->kgemm ? klat_gemm(sm->kgemm, m, k, n, NULL) : mfu_gemm(sm->db, sm->mode, m, k, n, NULL);
}

/* The same exact cache for GEMM lookups, keyed by integer (k, n, m); shapes
** that are not small integers go to the table directly. */
static double memo_gemm(const step_model_t *sm, double m, double k, double n)
{
    if (m >= 2097152.0 || k >= 2097152.0 || n >= 2097152.0 || m != floor(m) || k != floor(k) ||
        n != floor(n))
        return gemm_lookup(sm, m, k, n);
    uint64_t key = ((uint64_t)k << 42 | (uint64_t)n << 21 | (uint64_t)m) + 1;
    uint64_t h = (key * 0x9e3779b97f4a7c15ULL) >> (64 - GMEMO_BITS);
    struct memo *mm = sm->memo;
    if (mm->gkey[h] != key) {
        mm->gkey[h] = key;
        mm->gval[h] = gemm_lookup(sm, m, k, n);
    }
    return mm->gval[h];
}

/* One decode request's share of a measured decode-attention call per layer:
** the latency of a batch of bs requests all at context c, over bs.  Summed
** over a batch's requests it gives the call's latency when contexts are
** equal, and weighs each request by its own context when they are not (the
** kernel reads each request's KV), instead of pricing every request at the
** batch's longest context. */
static double decode_share(const step_model_t *sm, double bs, double c, klat_src_t *src)
{
    return klat_attn(sm->kdec, (int)sm->Ht, (int)sm->Kt, bs, c > 1 ? c : 1, src) / bs;
}

/* One decode request's attention time per layer at batch bs and context c:
** its share of a measured call, or f / (P mfu) with f its FLOPs (4 Ht hd c,
** computed by the caller) from the MFU tables. */
static double decode_time(const step_model_t *sm, double bs, double c, double f)
{
    if (sm->kdec)
        return decode_share(sm, bs, c, NULL);
    double mfu = mfu_decode(&sm->attn, sm->mode, bs, c > 1 ? c : 1, NULL);
    TAM_ASSERT(mfu > 0 && mfu <= 1.0);
    return f / (sm->P * mfu);
}

/* decode_time cached whole, keyed by integer (bs, c), so a hit costs one
** cache line and no division; the value is the same double. */
static double memo_decode_time(const step_model_t *sm, double bs, double c, double f)
{
    if (bs >= 4294967295.0 || c >= 4294967295.0)
        return decode_time(sm, bs, c, f);
    uint64_t k = ((uint64_t)bs << 32 | (uint64_t)c) + 1;
    uint64_t h = (k * 0x9e3779b97f4a7c15ULL) >> (64 - MEMO_BITS);
    struct memo *m = sm->memo;
    if (m->dec[h].key != k) {
        m->dec[h].key = k;
        m->dec[h].val = decode_time(sm, bs, c, f);
    }
    return m->dec[h].val;
}

const mfu_attn_t *step_model_attn(const step_model_t *sm)
{
    return &sm->attn;
}

void step_model_pricing(const step_model_t *sm, step_pricing_t *p)
{
    const char *tab = sm->db == sm->ks->mfu_exact ? "mfu-exact" : "mfu";
    p->gemm = sm->kgemm ? "measured" : tab;
    p->decode = sm->kdec ? "measured" : tab;
    p->prefill = sm->kpre ? "measured" : tab;
    p->moe = sm->m.E == 0 ? "none" : sm->kmoe ? "fused-measured" : sm->c.moe_fused ? "fused-gemm"
                                                                                    : "per-expert";
    p->gemm_fp8_for_bf16 = !sm->kgemm && sm->ks->gemm_fp8 && sm->m.wbytes == 2;
}

const econf_t *step_model_conf(const step_model_t *sm)
{
    return &sm->c;
}

/* {====== accumulation of priced components ====== */


static void add(acc_t *a, step_bd_t *bd, const char *name, char phase, double m, double k,
                double n, double mfu, double flops, double compute, double wbytes,
                double kvbytes, double mem, const mfu_src_t *src, const klat_src_t *ksrc,
                int extrapolated, int grp, double unscaled, int mgrp, double munscaled)
{
    if (a->gr && grp >= 0) {
        a->gr->g[grp] += unscaled;
        a->gr->gm[mgrp] += munscaled;
        if (compute > mem)
            a->gr->gpc[grp] += unscaled;
        else
            a->gr->gpc[mgrp] += munscaled;
    }
    a->compute += compute;
    a->mem += mem;
    a->wbytes += wbytes;
    a->kvbytes += kvbytes;
    a->percomp += compute > mem ? compute : mem;
    if (mem > compute)
        a->mem_bound += mem;
    if (bd && bd->want_comps && bd->n_comps < STEP_MAX_COMPS) {
        step_comp_t *c = &bd->comps[bd->n_comps++];
        snprintf(c->name, sizeof c->name, "%s", name);
        c->phase = phase;
        c->m = m;
        c->k = k;
        c->n = n;
        c->mfu = mfu;
        c->flops = flops;
        c->compute = compute;
        c->bytes = wbytes + kvbytes;
        c->mem = mem;
        if (src)
            c->src = *src;
        else
            memset(&c->src, 0, sizeof c->src);
        c->measured = ksrc != NULL;
        if (ksrc)
            c->ksrc = *ksrc;
        else
            memset(&c->ksrc, 0, sizeof c->ksrc);
        c->extrapolated = extrapolated;
    }
}

/* The limit a kernel meets at the hardware's peaks, for Tier 3's scales: it
** moves `bytes` (weights and activations) and computes `flops`. */
static int bound_group(const step_model_t *sm, double flops, double bytes)
{
    return flops / sm->P > bytes / sm->hw.hbm_bw ? STEP_G_COMPUTE : STEP_G_WEIGHT;
}

/* `count` GEMMs of shape (m,k,n) per layer over `layers` layers, reading
** `copies` distinct weight matrices per layer. */
static void gemm(const step_model_t *sm, acc_t *a, step_bd_t *bd, const char *name, char phase,
                 double m, double k, double n, double count, double copies, double layers)
{
    int want = bd && bd->want_comps;
    double flops = 2.0 * m * k * n * count * layers;
    double wbytes = k * n * sm->b * copies * layers;
    int grp = bound_group(sm, flops, wbytes + (m * k + m * n) * sm->b * count * layers);
    if (sm->kgemm) {
        klat_src_t ks, *kp = want ? &ks : NULL;
        double lat = kp ? klat_gemm(sm->kgemm, m, k, n, kp) : memo_gemm(sm, m, k, n);
        TAM_ASSERT(lat > 0);
        double base = lat * count * layers, compute = base * sm->scale[grp];
        add(a, bd, name, phase, m, k, n, flops / (sm->P * compute), flops, compute, wbytes, 0,
            wbytes / sm->bw_w * sm->scale[STEP_G_WEIGHT], NULL, kp, kp ? kp->extrapolated : 0,
            grp, base, STEP_G_WEIGHT, wbytes / sm->bw_w);
        return;
    }
    mfu_src_t src, *sp = want ? &src : NULL;
    double mfu = sp ? mfu_gemm(sm->db, sm->mode, m, k, n, sp) : memo_gemm(sm, m, k, n);
    TAM_ASSERT(mfu > 0 && mfu <= 1.0);
    double base = flops / (sm->P * mfu);
    if (sm->gemm_scale != 1.0)
        base *= sm->gemm_scale;
    add(a, bd, name, phase, m, k, n, mfu, flops, base * sm->scale[grp], wbytes, 0,
        wbytes / sm->bw_w * sm->scale[STEP_G_WEIGHT], sp, NULL, 0, grp, base, STEP_G_WEIGHT,
        wbytes / sm->bw_w);
}

/* A MoE layer's experts as vLLM's fused kernel, from the measured fused-MoE
** table: one call over the step's m tokens per layer (balanced routing, the
** run's TP, no expert parallelism); weights of the experts touched. */
static void moe_measured(const step_model_t *sm, acc_t *a, step_bd_t *bd, char phase, double m,
                         double unique, double layers)
{
    klat_src_t ks, *kp = (bd && bd->want_comps) ? &ks : NULL;
    double lat = klat_moe(sm->kmoe, sm->tp, 1, "balanced", m, kp);
    TAM_ASSERT(lat > 0);
    double flops = 3.0 * 2.0 * m * sm->m.topk * sm->d * sm->f_n * layers;
    double wbytes = 3.0 * sm->d * sm->f_n * sm->b * unique * layers;
    double act = (2.0 * sm->d + 3.0 * sm->f_n) * m * sm->m.topk * sm->b * layers;
    int grp = bound_group(sm, flops, wbytes + act);
    double base = lat * layers, compute = base * sm->scale[grp];
    add(a, bd, "moe.fused", phase, m * sm->m.topk, sm->d, sm->f_n, flops / (sm->P * compute),
        flops, compute, wbytes, 0, wbytes / sm->bw_w * sm->scale[STEP_G_WEIGHT], NULL, kp,
        kp ? kp->extrapolated : 0, grp, base, STEP_G_WEIGHT, wbytes / sm->bw_w);
}

static void layer_gemms(const step_model_t *sm, acc_t *a, step_bd_t *bd, char ph, double m)
{
    const model_t *md = &sm->m;
    double d = sm->d, L = sm->L;
    if (sm->c.fused_qkv) {
        gemm(sm, a, bd, "qkv", ph, m, d, sm->qkv_n, 1, 1, L);
    } else {
        gemm(sm, a, bd, "q", ph, m, d, sm->q_n, 1, 1, L);
        gemm(sm, a, bd, "k", ph, m, d, sm->kv_n, 1, 1, L);
        gemm(sm, a, bd, "v", ph, m, d, sm->kv_n, 1, 1, L);
    }
    gemm(sm, a, bd, "o", ph, m, sm->o_k, d, 1, 1, L);
    if (md->E == 0) {
        gemm(sm, a, bd, "gate", ph, m, d, sm->f_n, 1, 1, L);
        gemm(sm, a, bd, "up", ph, m, d, sm->f_n, 1, 1, L);
        gemm(sm, a, bd, "down", ph, m, sm->f_n, d, 1, 1, L);
        return;
    }
    /* MoE: balanced routing of m*topk assignments over E experts. */
    double E = md->E, topk = md->topk;
    double assign = m * topk;
    double active = assign < E ? assign : E;
    double unique = E * (1.0 - pow(1.0 - topk / E, m)); /* expected experts touched */
    gemm(sm, a, bd, "router", ph, m, d, E, 1, 1, L);
    if (sm->kmoe) {
        moe_measured(sm, a, bd, ph, m, unique, L);
    } else if (sm->c.moe_fused) {
        /* One grouped kernel: the FLOPs of all assignments at the efficiency of
        ** one GEMM over every routed token; weights of touched experts. */
        gemm(sm, a, bd, "moe.gate", ph, assign, d, sm->f_n, 1, unique, L);
        gemm(sm, a, bd, "moe.up", ph, assign, d, sm->f_n, 1, unique, L);
        gemm(sm, a, bd, "moe.down", ph, assign, sm->f_n, d, 1, unique, L);
    } else {
        double me = ceil(assign / E);
        gemm(sm, a, bd, "expert.gate", ph, me, d, sm->f_n, active, unique, L);
        gemm(sm, a, bd, "expert.up", ph, me, d, sm->f_n, active, unique, L);
        gemm(sm, a, bd, "expert.down", ph, me, sm->f_n, d, active, unique, L);
    }
}

static void attn_decode(const step_model_t *sm, acc_t *a, step_bd_t *bd, char ph, int n,
                        const int *ctx)
{
    double P = sm->P, flops = 0, time = 0, kv = 0, D = n;
    int want = bd && bd->want_comps, extrap = 0;
    mfu_src_t src, *sp = want && !sm->kdec ? &src : NULL;
    klat_src_t ks, *kp = want && sm->kdec ? &ks : NULL;
    for (int i = 0; i < n; i++) {
        double c = ctx[i];
        double f = 4.0 * sm->Ht * sm->hd * c;
        if (kp) {
            time += decode_share(sm, D, c, kp);
            extrap |= kp->extrapolated;
        } else if (sp) {
            double mfu = mfu_decode(&sm->attn, sm->mode, D, c > 1 ? c : 1, sp);
            TAM_ASSERT(mfu > 0 && mfu <= 1.0);
            time += f / (P * mfu);
        } else {
            time += memo_decode_time(sm, D, c, f);
        }
        flops += f;
        kv += sm->kv_tok * (c + 1.0); /* read the context, write one token */
    }
    flops *= sm->L;
    time *= sm->L;
    kv *= sm->L;
    double scaled = time * sm->scale[STEP_G_KV];
    add(a, bd, "attn.decode", ph, 0, 0, 0, scaled > 0 ? flops / (P * scaled) : 0, flops, scaled,
        0, kv, kv / sm->bw_kv * sm->scale[STEP_G_KV], sp, kp, extrap, STEP_G_KV, time, STEP_G_KV,
        kv / sm->bw_kv);
}

/* One prefill chunk's share of a measured prefill-attention call (all of a
** step's chunks run as one varlen call of batch npf): the table measured a
** causal prefill of S = c + r tokens with no prior context, so a chunk of r
** new tokens over c cached ones costs that call's latency times the chunk's
** share of its causal FLOPs, r (c + (r + 1) / 2) / (S (S + 1) / 2), but never
** less than a fresh prefill of its own r tokens (a chunk attends at least to
** itself: the kernel's floor). */
static double prefill_share(const step_model_t *sm, double npf, double r, double c,
                            klat_src_t *src)
{
    double S = c + r;
    double full = klat_attn(sm->kpre, (int)sm->Ht, (int)sm->Kt, npf, S, src) / npf;
    if (c <= 0)
        return full;
    double share = full * (r * (c + (r + 1.0) / 2.0)) / (S * (S + 1.0) / 2.0);
    klat_src_t own;
    double floor_ = klat_attn(sm->kpre, (int)sm->Ht, (int)sm->Kt, npf, r, src ? &own : NULL) / npf;
    if (src)
        src->extrapolated |= own.extrapolated;
    return share > floor_ ? share : floor_;
}

static void attn_prefill(const step_model_t *sm, acc_t *a, step_bd_t *bd, char ph, int n,
                         const int *nw, const int *ctx)
{
    double P = sm->P, flops = 0, time = 0, kv = 0;
    int want = bd && bd->want_comps, extrap = 0;
    mfu_src_t src, *sp = want && !sm->kpre ? &src : NULL;
    klat_src_t ks, *kp = want && sm->kpre ? &ks : NULL;
    for (int i = 0; i < n; i++) {
        double r = nw[i], c = ctx[i];
        double f = 4.0 * sm->Ht * sm->hd * r * (c + (r + 1.0) / 2.0); /* exact causal count */
        if (sm->kpre) {
            time += prefill_share(sm, n, r, c, kp);
            extrap |= kp ? kp->extrapolated : 0;
        } else {
            double mfu = mfu_prefill(&sm->attn, sm->mode, c + r, sp);
            TAM_ASSERT(mfu > 0 && mfu <= 1.0);
            time += f / (P * mfu);
        }
        flops += f;
        kv += sm->kv_tok * (c + r); /* read cached context, write the chunk */
    }
    flops *= sm->L;
    time *= sm->L;
    kv *= sm->L;
    double scaled = time * sm->scale[STEP_G_COMPUTE];
    add(a, bd, "attn.prefill", ph, 0, 0, 0, scaled > 0 ? flops / (P * scaled) : 0, flops,
        scaled, 0, kv, kv / sm->bw_kv * sm->scale[STEP_G_KV], sp, kp, extrap, STEP_G_COMPUTE,
        time, STEP_G_KV, kv / sm->bw_kv);
}

/* layer_gemms added to a zero sum, cached by integer m: a step's token count
** repeats from step to step, and the sum is the same sequence of additions
** whether it comes from here or from layer_gemms, so results are identical.
** The cache holds no Tier 3 groups: step_time_grad goes around it. */
static void layer_gemms_from_zero(const step_model_t *sm, acc_t *a, step_bd_t *bd, char ph,
                                  double m)
{
    if (bd || a->gr || m >= 4294967295.0 || m != floor(m)) {
        layer_gemms(sm, a, bd, ph, m);
        return;
    }
    uint64_t key = (uint64_t)m + 1, h = key & ((1u << LMEMO_BITS) - 1);
    struct memo *mm = sm->memo;
    if (mm->lkey[h] != key) {
        memset(&mm->lval[h], 0, sizeof mm->lval[h]);
        layer_gemms(sm, &mm->lval[h], NULL, ph, m);
        mm->lkey[h] = key;
    }
    *a = mm->lval[h];
}

/* One phase (or H5's single mixed pass) priced with the configured roofline;
** gr (may be NULL) receives its Tier 3 groups. */
static double phase_time(const step_model_t *sm, acc_t *a, grp_t *gr, step_bd_t *bd, char ph,
                         double m, double lm_rows, int npf, const int *pnew, const int *pctx,
                         int ndec, const int *dctx)
{
    memset(a, 0, sizeof *a);
    if (gr)
        memset(gr, 0, sizeof *gr);
    a->gr = gr;
    if (m <= 0)
        return 0;
    layer_gemms_from_zero(sm, a, bd, ph, m);
    if (npf)
        attn_prefill(sm, a, bd, ph, npf, pnew, pctx);
    if (ndec)
        attn_decode(sm, a, bd, ph, ndec, dctx);
    if (sm->c.lm_head && lm_rows > 0)
        gemm(sm, a, bd, "lm_head", ph, lm_rows, sm->d, sm->v_n, 1, 1, 1);
    if (sm->c.allreduce && sm->tp > 1) {
        /* Ring all-reduce of the m x d activations after attention and after
        ** the MLP: each GPU sends and receives 2 (tp-1)/tp of the buffer. */
        double bytes = m * sm->d * sm->b;
        double one = 2.0 * (sm->tp - 1) / sm->tp * bytes / sm->ar_bw + sm->c.allreduce_lat_s;
        if (gr)
            gr->g[STEP_G_ALLREDUCE] = gr->gpc[STEP_G_ALLREDUCE] = 2.0 * sm->L * one;
        a->allreduce = 2.0 * sm->L * one * sm->scale[STEP_G_ALLREDUCE];
    }
    double rl = sm->c.per_component ? a->percomp : (a->compute > a->mem ? a->compute : a->mem);
    return rl + a->allreduce;
}

/* The elementwise kernels of one forward pass over m tokens, every layer:
** vLLM's fused residual-add + RMSNorm before attention and before the MLP
** (each reads x and the residual and writes both: 4 d values a token),
** rotary embedding of q and k in place ((H + K) hd / tp values read and
** written), and SiLU-and-mul (reads gate and up, writes one: 3 F / tp).
** Each is memory-bound on activations at the weights' bandwidth, and no
** shorter than one kernel's floor.  The kernel tables time GEMMs and
** attention alone, so these are priced nowhere else. */
static double elementwise_time(const step_model_t *sm, step_bd_t *bd, double m)
{
    double b = sm->b, fl = sm->c.kernel_floor_s, bw = sm->bw_w;
    double bytes[4] = {4.0 * sm->d * b * m, 2.0 * (sm->Ht + sm->Kt) * sm->hd * b * m,
                       3.0 * sm->f_n * b * m * (sm->m.E ? sm->m.topk : 1), 4.0 * sm->d * b * m};
    double per_layer = 0, tb = 0;
    for (int k = 0; k < 4; k++) {
        double t = bytes[k] / bw;
        per_layer += t > fl ? t : fl;
        tb += bytes[k];
    }
    double time = per_layer * sm->L;
    if (bd) {
        /* memory-bound, no FLOPs priced: the component reports the bytes it
        ** moves (add lists it when components are wanted; the sums go to a
        ** scratch accumulator: this time is added outside the rooflines, as
        ** bd->elementwise) */
        acc_t scratch = {0};
        add(&scratch, bd, "elementwise", 'm', m, 0, 0, 0, 0, 0, tb * sm->L, 0, tb * sm->L / bw,
            NULL, NULL, 0, -1, 0, -1, 0);
    }
    return time * sm->scale[STEP_G_WEIGHT];
}

/* The derivative of phase_time by the scales: the groups of the roofline's
** winning limit, and the all-reduce, charged outside it. */
static void phase_grad(const step_model_t *sm, const acc_t *a, double g[STEP_NG])
{
    const grp_t *r = a->gr;
    const double *src = sm->c.per_component ? r->gpc : a->compute > a->mem ? r->g : r->gm;
    for (int j = 0; j < STEP_NG; j++)
        g[j] = j == STEP_G_ALLREDUCE ? r->g[j] : src[j];
}

/* }====== */

static void fold(step_bd_t *bd, const acc_t *a)
{
    bd->compute += a->compute;
    bd->mem_time += a->mem;
    bd->weight_bytes += a->wbytes;
    bd->kv_bytes += a->kvbytes;
    bd->allreduce += a->allreduce;
}

/* step_time, and with g its derivative by the scales (step_time_grad). */
static double step_eval(const step_model_t *sm, const batch_t *b, step_bd_t *bd,
                        double g[STEP_NG])
{
    double Tp = 0, emits = 0, D = b->n_dec;
    for (int i = 0; i < b->n_pf; i++) {
        Tp += b->pf_new[i];
        emits += b->pf_emits ? b->pf_emits[i] : 0;
    }
    if (bd) {
        int want = bd->want_comps;
        memset(bd, 0, sizeof *bd);
        bd->want_comps = want;
    }
    acc_t ap, ad;
    grp_t gp_, gd_;
    double t, tp = 0, td = 0;
    const char *blend;
    if (Tp > 0 && D > 0 && sm->c.additive_mixed) {
        /* H5: one GEMM pass over all tokens (weights read once) plus both attentions. */
        t = phase_time(sm, &ap, g ? &gp_ : NULL, bd, 'm', Tp + D, emits + D, b->n_pf, b->pf_new,
                       b->pf_ctx, b->n_dec, b->dec_ctx);
        memset(&ad, 0, sizeof ad);
        blend = "additive";
        if (g)
            phase_grad(sm, &ap, g);
        if (bd)
            bd->mem_bound = sm->c.per_component ? ap.mem_bound : (ap.mem > ap.compute ? t : 0);
    } else {
        tp = phase_time(sm, &ap, g ? &gp_ : NULL, bd, 'p', Tp, emits, b->n_pf, b->pf_new,
                        b->pf_ctx, 0, NULL);
        td = phase_time(sm, &ad, g ? &gd_ : NULL, bd, 'd', D, D, 0, NULL, NULL, b->n_dec,
                        b->dec_ctx);
        double wp, wd; /* t = wp tp + wd td */
        if (Tp > 0 && D == 0) {
            t = tp;
            wp = 1, wd = 0;
            blend = "prefill-only";
        } else if (D > 0 && Tp == 0) {
            t = td;
            wp = 0, wd = 1;
            blend = "decode-only";
        } else if (Tp > 4 * D && Tp > 100) {
            t = 0.75 * tp + 0.25 * td;
            wp = 0.75, wd = 0.25;
            blend = "0.75/0.25";
        } else if (D > 2 * Tp && D > 50) {
            t = 0.35 * tp + 0.65 * td;
            wp = 0.35, wd = 0.65;
            blend = "0.35/0.65";
        } else if (Tp + D > 0) {
            t = (Tp * tp + D * td) / (Tp + D);
            wp = Tp / (Tp + D), wd = D / (Tp + D);
            blend = "token-weighted";
        } else {
            t = 0;
            wp = wd = 0;
            blend = "empty";
        }
        if (g) {
            double gp[STEP_NG], gd[STEP_NG];
            phase_grad(sm, &ap, gp);
            phase_grad(sm, &ad, gd);
            for (int j = 0; j < STEP_NG; j++)
                g[j] = wp * gp[j] + wd * gd[j];
        }
        if (bd) {
            double mp = sm->c.per_component ? ap.mem_bound : (ap.mem > ap.compute ? tp : 0);
            double mdd = sm->c.per_component ? ad.mem_bound : (ad.mem > ad.compute ? td : 0);
            bd->mem_bound = (tp + td) > 0 ? t * (mp + mdd) / (tp + td) : 0;
        }
    }
    double oh = 0, ew = 0;
    if (Tp > 0 || D > 0) {
        oh = Tp > 0 ? sm->c.overhead_prefill_s : sm->c.overhead_decode_s;
        oh += sm->c.overhead_layer_s * sm->L / sm->tp;
        if (sm->c.elementwise) {
            ew = elementwise_time(sm, bd, Tp + D);
            if (g)
                g[STEP_G_WEIGHT] += ew / sm->scale[STEP_G_WEIGHT];
        }
    }
    double total = t + oh + ew;
    if (bd) {
        fold(bd, &ap);
        fold(bd, &ad);
        bd->t_prefill = tp;
        bd->t_decode = td;
        bd->overhead = oh;
        bd->elementwise = ew;
        bd->blend = blend;
        bd->total = total;
    }
    return total;
}

double step_time(const step_model_t *sm, const batch_t *b, step_bd_t *bd)
{
    return step_eval(sm, b, bd, NULL);
}

double step_time_grad(const step_model_t *sm, const batch_t *b, double g[STEP_NG])
{
    return step_eval(sm, b, NULL, g);
}
