/* engine/tests/t_step.c - hand-derived step times, baseline and each switch.
**
** Fixture MFU tables: engine/tests/fixtures/step-mfu/ (values picked so every
** lookup can be read off by hand; kset.json makes them a kernel set).  The
** baseline prices from the mfu column alone; the latency_us column holds
** physically possible latencies (the loader checks it: an FP8 GEMM row can
** not stream its weights faster than HBM); where a hand-picked mfu implies an
** impossible speed, latency_us holds the physical bound (HBM or dense peak).  Expected numbers come from
** engine/tests/handcalc_step.py, an independent plain re-derivation of
** docs/MODEL.md that shares no code with the engine; its docstring lists
** which table row serves each GEMM.  One case worked fully by hand:
**
** Llama-2-7B tp1, decode-only, 16 requests at context 2560, baseline:
**   weights per layer: q,k,v,o 4 x 4096x4096 + gate,up,down 3 x 4096x11008
**     = 67,108,864 + 135,266,304 = 202,375,168 x 2 B = 404,750,336 B;
**     x 32 layers = 12,952,010,752 B; LM head 4096 x 32000 x 2 = 262,144,000 B
**   KV per token per layer: 2 (K and V) x 32 heads x 128 x 2 B = 16,384 B;
**     16 requests x (2560 read + 1 written) x 16,384 x 32 layers = 21,483,225,088 B
**   bytes 34,697,379,840 / 3.35e12 B/s = 1.035743e-2 s
**   compute (well below): GEMMs at m=16 (pairs A .2, B .3, D .4) 7.750e-4 s,
**     attention 16 x 4x32x128x2560 FLOP x 32 / (P x .3) = 7.235e-5 s,
**     LM head 2x16x4096x32000 / (P x .4) = 1.060e-5 s
**   step = max(8.58e-4, 1.035743e-2) + 50e-6 = 1.040743e-2 s  (table row 1)
** H1 (eta .8): 1.035743e-2 / .8 + 50e-6 = 1.299678e-2 s; H2: + 5 ms instead
** of 50 us = 1.535743e-2 s.  The other switches change compute only, which
** this memory-bound step does not show; the prefill and mixed rows do.
*/
#include "check.h"
#include "models.h"
#include "econf.h"
#include "mfu.h"
#include "model.h"
#include "step.h"

#include <string.h>

static kset_t *ks;

typedef struct {
    const char *model, *batch;
    double want[7]; /* baseline, H1, H2, H3, H4, H5, H6 */
} case_t;

/* Pasted from `python3 engine/tests/handcalc_step.py`. */
static const case_t cases[] = {
    {"7b", "decode", {1.0407426818e-02, 1.2996783522e-02, 1.5357426818e-02, 1.0407426818e-02, 1.0407426818e-02, 1.0407426818e-02, 1.0407426818e-02}},
    {"7b", "prefill", {1.1843509754e-02, 1.1843509754e-02, 4.1793509754e-02, 1.0891070605e-02, 1.1915138551e-02, 1.1843509754e-02, 1.0738701577e-02}},
    {"7b", "mixed", {1.1484489020e-02, 1.2131828196e-02, 4.1434489020e-02, 1.0770159658e-02, 1.1538210618e-02, 1.2281580176e-02, 1.0655882887e-02}},
    {"34b", "decode", {1.1246757130e-02, 1.4045946412e-02, 1.6196757130e-02, 1.1246757130e-02, 1.1246757130e-02, 1.1246757130e-02, 1.1246757130e-02}},
    {"34b", "prefill", {2.6547015189e-02, 2.6547015189e-02, 5.6497015189e-02, 2.6547015189e-02, 2.6618643986e-02, 2.6547015189e-02, 2.4509975341e-02}},
    {"34b", "mixed", {2.2721950674e-02, 2.3421747995e-02, 5.2671950674e-02, 2.2721950674e-02, 2.2775672272e-02, 2.7477117164e-02, 2.1194170788e-02}},
};

/* The baseline configuration over the fixture kernel set. */
static void baseline_here(econf_t *c)
{
    econf_baseline(c);
    snprintf(c->kernels, sizeof c->kernels, "%s", ks->name);
}

static void config_for(int k, econf_t *c)
{
    baseline_here(c);
    switch (k) {
    case 1: c->bw_eta = 0.8; break;
    case 2: c->overhead_decode_s = 5e-3; c->overhead_prefill_s = 30e-3; break;
    case 3: c->fused_qkv = 1; break;
    case 4: c->per_component = 1; break;
    case 5: c->additive_mixed = 1; break;
    case 6: c->mfu_interp = 1; break;
    }
}

static void load_model(const char *which, model_t *m, int *tp)
{
    char err[TAM_ERRLEN];
    /* The two configs, written inline so the test does not need DATA. */
    static const char *l7 = TEST_MODEL_L7;
    static const char *c34 = TEST_MODEL_C34;
    int is7 = strcmp(which, "7b") == 0;
    int rc = model_parse(is7 ? l7 : c34, which, m, err);
    CHECK(rc == 0, "model: %s", err);
    *tp = is7 ? 1 : 2;
}

static int dec_ctx[16];
static int pf_new[1] = {512}, pf_ctx[1] = {0};
static unsigned char pf_emit[1] = {1};

static batch_t batch_for(const char *b)
{
    for (int i = 0; i < 16; i++)
        dec_ctx[i] = 2560;
    batch_t x = {0, pf_new, pf_ctx, pf_emit, 0, dec_ctx};
    if (strcmp(b, "decode") != 0)
        x.n_pf = 1;
    if (strcmp(b, "prefill") != 0)
        x.n_dec = 16;
    return x;
}

static void t_hand_cases(void)
{
    hw_t hw;
    hw_h100_sxm(&hw);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        model_t m;
        int tp;
        load_model(cases[i].model, &m, &tp);
        for (int k = 0; k < 7; k++) {
            econf_t c;
            config_for(k, &c);
            step_model_t *sm;
            char err[TAM_ERRLEN];
            int rc = step_model_new(&m, &hw, ks, tp, &c, &sm, err);
            CHECK(rc == 0, "%s", err);
            if (rc)
                continue;
            batch_t b = batch_for(cases[i].batch);
            double got = step_time(sm, &b, NULL);
            CHECK(fabs(got - cases[i].want[k]) <= 1e-9 * cases[i].want[k],
                  "%s %s config %d: got %.10e want %.10e", cases[i].model, cases[i].batch, k, got,
                  cases[i].want[k]);
            step_bd_t bd;
            memset(&bd, 0, sizeof bd);
            bd.want_comps = 1;
            double again = step_time(sm, &b, &bd);
            CHECK(again == got && bd.total == got, "breakdown path differs: %.17g vs %.17g", again,
                  got);
            step_model_free(sm);
        }
    }
}

/* Invariants that need no table values: more context never makes a decode
** step cheaper; a lower eta never makes a step faster; overhead is additive. */
static void t_invariants(void)
{
    hw_t hw;
    hw_h100_sxm(&hw);
    model_t m;
    int tp;
    load_model("34b", &m, &tp);
    econf_t c, c2;
    baseline_here(&c);
    step_model_t *sm, *sm2;
    char err[TAM_ERRLEN];
    CHECK(step_model_new(&m, &hw, ks, tp, &c, &sm, err) == 0, "%s", err);
    c2 = c;
    c2.bw_eta = 0.5;
    CHECK(step_model_new(&m, &hw, ks, tp, &c2, &sm2, err) == 0, "%s", err);
    double prev = 0;
    for (int ctx = 100; ctx <= 8000; ctx += 100) {
        int dc[8];
        for (int i = 0; i < 8; i++)
            dc[i] = ctx;
        batch_t b = {0, NULL, NULL, NULL, 8, dc};
        double t = step_time(sm, &b, NULL), t2 = step_time(sm2, &b, NULL);
        CHECK(t >= prev, "decode time fell from %g to %g at ctx %d", prev, t, ctx);
        CHECK(t2 >= t, "eta 0.5 faster than eta 1 at ctx %d", ctx);
        prev = t;
    }
    step_model_free(sm);
    step_model_free(sm2);
}

/* Each component's memory time follows the engine's bandwidth rule: with
** measured_bw, weights at bw_seq and KV at bw_kv (here 2 and 1 TB/s), so a
** caller that prices a component's bytes itself cannot drift from it. */
static void t_component_mem(void)
{
    hw_t hw;
    hw_h100_sxm(&hw);
    hw.bw_seq = 2e12;
    hw.bw_kv = 1e12;
    model_t m;
    int tp;
    load_model("34b", &m, &tp);
    econf_t c;
    baseline_here(&c);
    c.measured_bw = 1;
    step_model_t *sm;
    char err[TAM_ERRLEN];
    CHECK(step_model_new(&m, &hw, ks, tp, &c, &sm, err) == 0, "%s", err);
    int dc[4] = {1000, 2000, 3000, 4000};
    batch_t b = {0, NULL, NULL, NULL, 4, dc};
    step_bd_t bd;
    memset(&bd, 0, sizeof bd);
    bd.want_comps = 1;
    step_time(sm, &b, &bd);
    double sum = 0, wmem = 0, wbytes = 0;
    for (int k = 0; k < bd.n_comps; k++) {
        sum += bd.comps[k].mem;
        if (bd.comps[k].m > 0) { /* a GEMM: weight bytes only */
            wmem += bd.comps[k].mem;
            wbytes += bd.comps[k].bytes;
        }
    }
    CHECK(bd.n_comps > 0 && wbytes > 0, "%d components", bd.n_comps);
    CHECK_NEAR(sum, bd.mem_time, 1e-12);
    CHECK_NEAR(wmem, wbytes / hw.bw_seq, 1e-12);
    step_model_free(sm);
}

int main(void)
{
    char err[TAM_ERRLEN];
    hw_t hw0;
    hw_h100_sxm(&hw0);
    int rc = kset_load("", "engine/tests/fixtures/step-mfu/kset.json", NULL, NULL, &hw0, &ks, err);
    CHECK(rc == 0, "fixture tables: %s", err);
    if (rc)
        TEST_REPORT("t_step");
    RUN(t_hand_cases);
    RUN(t_invariants);
    RUN(t_component_mem);
    kset_free(ks);
    TEST_REPORT("t_step");
}
