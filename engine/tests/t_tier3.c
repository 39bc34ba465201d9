/* engine/tests/t_tier3.c - the Tier 3 scales and the simulator's derivatives.
**
** Expected values come from invariants, not from stored numbers:
**   - a step's time is linear in each scale while the roofline keeps its
**     winning limit, so t(s + d) = t(s) + d * g (g from step_time_grad);
**   - step_time_grad returns the very double step_time does;
**   - the scales at 1 leave the canonical form (and so every stored hash)
**     as it was, and a configuration that sets one names it;
**   - where every request finds the engine idle, the simulator's derivatives
**     equal central finite differences of whole re-simulations, request by
**     request, for every parameter, sync and async, open and closed loop;
**   - on a busy server they predict the direction and at least half of what
**     a 3% larger parameter does to a re-simulation's mean E2E (t_sim_busy
**     says why not all of it).
*/
#include "check.h"
#include "models.h"
#include "sim.h"

#include <stdlib.h>
#include <string.h>

static kset_t *ks;
static hw_t hw;
static model_t m7;

static step_model_t *model_at(const econf_t *c, int tp)
{
    step_model_t *s = NULL;
    char err[TAM_ERRLEN];
    int rc = step_model_new(&m7, &hw, ks, tp, c, &s, err);
    CHECK(rc == 0, "step_model_new: %s", err);
    return s;
}

static void base_conf(econf_t *c)
{
    econf_baseline(c);
    snprintf(c->kernels, sizeof c->kernels, "%s", ks->name);
    c->allreduce = 1;
    c->elementwise = 1;
    c->additive_mixed = 1;
}

static double *scale_of(econf_t *c, int j)
{
    return j == STEP_G_WEIGHT ? &c->scale_weight_read
           : j == STEP_G_COMPUTE ? &c->scale_compute
           : j == STEP_G_KV ? &c->scale_kv_read
                            : &c->scale_allreduce;
}

/* One batch: t(s_j + d) - t(s_j) = d g_j for every scale, and the same
** double from both entry points. */
static void check_linear(const batch_t *b, const char *what, int want_compute, int want_kv)
{
    econf_t c;
    base_conf(&c);
    step_model_t *s0 = model_at(&c, 2);
    if (!s0)
        return;
    double g[STEP_NG];
    double t0 = step_time_grad(s0, b, g);
    CHECK(t0 == step_time(s0, b, NULL), "%s: step_time_grad and step_time differ", what);
    CHECK(g[STEP_G_WEIGHT] > 0, "%s: memory-bound kernels (elementwise at least) priced", what);
    CHECK(g[STEP_G_ALLREDUCE] > 0, "%s: tp 2 all-reduce priced", what);
    CHECK((g[STEP_G_COMPUTE] > 0) == want_compute, "%s: compute group %g", what,
          g[STEP_G_COMPUTE]);
    CHECK((g[STEP_G_KV] > 0) == want_kv, "%s: kv group %g", what, g[STEP_G_KV]);
    for (int j = 0; j < STEP_NG; j++) {
        econf_t cj = c;
        *scale_of(&cj, j) = 1.05;
        step_model_t *sj = model_at(&cj, 2);
        if (!sj)
            continue;
        double tj = step_time(sj, b, NULL);
        CHECK_NEAR(tj - t0, 0.05 * g[j], 1e-9);
        step_model_free(sj);
    }
    /* the sum of the groups is the whole kernel time: what is left is the
    ** per-step overhead (50 us in the baseline) */
    double sum = 0;
    for (int j = 0; j < STEP_NG; j++)
        sum += g[j];
    CHECK_NEAR(t0 - sum, c.overhead_decode_s, 1e-9);
    step_model_free(s0);
}

static void t_step_linear(void)
{
    int dctx[6] = {100, 900, 2000, 37, 512, 4000};
    batch_t dec = {0, NULL, NULL, NULL, 6, dctx};
    check_linear(&dec, "decode-only", 0, 1);
    /* a long prefill chunk: its GEMMs are compute-bound at the H100's
    ** ridge point (m = 2048 tokens > ~300), and prefill attention too */
    int pnew[1] = {2048}, pctx[1] = {0};
    unsigned char emit[1] = {1};
    batch_t pre = {1, pnew, pctx, emit, 0, NULL};
    check_linear(&pre, "prefill-only", 1, 0);
    batch_t mix = {1, pnew, pctx, emit, 6, dctx};
    check_linear(&mix, "mixed", 1, 1);
}

static void t_canonical(void)
{
    econf_t a, b;
    econf_baseline(&a);
    b = a;
    char ca[4096], cb[4096], ha[17], hb[17];
    CHECK(econf_canonical(&a, ca, sizeof ca) > 0, "canonical");
    CHECK(strstr(ca, "scale_") == NULL, "scales at 1 stay out of the canonical form: %s", ca);
    CHECK(ca[1] == '"', "the first key follows '{' with no comma: %.20s", ca);
    char err[TAM_ERRLEN];
    CHECK(econf_merge_json("{\"scale_compute\": 1}", "t", &b, err) == 0, "%s", err);
    econf_hash(&a, ha);
    econf_hash(&b, hb);
    CHECK(strcmp(ha, hb) == 0, "an explicit 1 names the same configuration (%s vs %s)", ha, hb);
    CHECK(econf_merge_json("{\"scale_compute\": 1.25}", "t", &b, err) == 0, "%s", err);
    econf_canonical(&b, cb, sizeof cb);
    CHECK(strstr(cb, "\"scale_compute\":1.25") != NULL, "a set scale is listed: %s", cb);
    econf_hash(&b, hb);
    CHECK(strcmp(ha, hb) != 0, "a set scale changes the hash");
    CHECK(econf_merge_json("{\"scale_kv_read\": 5}", "t", &b, err) != 0 &&
              strstr(err, "scale_kv_read") != NULL,
          "out of [0.25, 4] is refused, naming the key: %s", err);
}

/* Workloads for the simulator's derivatives (times in the derivative's units). */
#define NREQ 40
#define NBUSY 300
typedef enum { W_SPACED, W_SEQUENTIAL, W_BUSY } wl_kind_t;

static int wl_size(wl_kind_t k)
{
    return k == W_BUSY ? NBUSY : NREQ;
}

/* W_SPACED: one request every 2 s, each done long before the next comes;
** W_SEQUENTIAL: all sent at once through a client limit of 1, so each is
** sent when the one before finishes; W_BUSY: 300 requests at 40/s, open
** loop, a server that never goes idle. */
static void workload(wl_kind_t k, sim_req_t *r)
{
    for (int i = 0; i < wl_size(k); i++) {
        r[i].t_send = k == W_SPACED ? 2.0 * i : k == W_BUSY ? 0.025 * i : 0;
        r[i].prompt = 200 + (i * 137) % 900;
        r[i].output = 5 + (i * 53) % 40;
        r[i].prefix_group = -1;
        r[i].prefix_tokens = 0;
    }
}

static int run(const econf_t *c, int async, wl_kind_t k, double *grad, sim_out_t *o)
{
    step_model_t *s = model_at(c, 2);
    if (!s)
        return -1;
    sim_req_t r[NBUSY];
    workload(k, r);
    sim_cfg_t cfg = {.max_num_batched_tokens = 512, .max_num_seqs = 8, .max_model_len = 4096,
                     .kv_blocks = 2000, .block_size = 16, .prefix_caching = 1,
                     .max_inflight = k == W_SEQUENTIAL};
    cfg.frontend_s = c->frontend_s;
    cfg.frontend_tok_s = c->frontend_tok_s;
    cfg.cpu_step_s = c->cpu_step_s;
    cfg.cpu_req_s = c->cpu_req_s;
    cfg.async_sched = async;
    cfg.grad = grad;
    sim_stats_t st;
    char err[TAM_ERRLEN];
    int rc = sim_run(s, &cfg, r, wl_size(k), o, &st, err);
    CHECK(rc == 0, "sim_run: %s", err);
    step_model_free(s);
    return rc;
}

static double *param_of(econf_t *c, int j)
{
    switch (j) {
    case SIM_G_CPU_STEP: return &c->cpu_step_s;
    case SIM_G_CPU_REQ: return &c->cpu_req_s;
    case SIM_G_FRONTEND: return &c->frontend_s;
    case SIM_G_FRONTEND_TOK: return &c->frontend_tok_s;
    default: return scale_of(c, j);
    }
}

static void conf_with_costs(econf_t *c, double cpu_step)
{
    base_conf(c);
    c->frontend_s = 2e-3;
    c->frontend_tok_s = 2e-6;
    c->cpu_step_s = cpu_step;
    c->cpu_req_s = 8e-6;
}

/* Where every request finds the engine idle, a request's times move with
** exactly the steps it was in (and, sequentially, with the requests before
** it): the derivatives equal central finite differences of whole
** re-simulations, request by request. */
static void check_exact(wl_kind_t k, int async, double cpu_step)
{
    econf_t c;
    conf_with_costs(&c, cpu_step);
    double *g = calloc((size_t)NREQ * 3 * SIM_NG, sizeof *g);
    sim_out_t o[NREQ], op[NREQ], om[NREQ], o2[NREQ];
    if (!g || run(&c, async, k, g, o)) {
        free(g);
        return;
    }
    run(&c, async, k, NULL, o2);
    int same = 1;
    for (int i = 0; i < NREQ; i++)
        same &= o[i].first_token == o2[i].first_token && o[i].last_token == o2[i].last_token;
    CHECK(same, "kind %d async %d: times with and without derivatives differ", k, async);
    int moved = 0;
    for (int j = 0; j < SIM_NG; j++) {
        econf_t cp = c, cm = c;
        double *vp = param_of(&cp, j), *vm = param_of(&cm, j);
        double h = (*vp > 1e-3 ? *vp : 1e-3) * 1e-6; /* not below 1e-9: times are ~100 s */
        *vp += h;
        *vm -= h;
        if (run(&cp, async, k, NULL, op) || run(&cm, async, k, NULL, om))
            break;
        for (int i = 0; i < NREQ; i++) {
            const double *gi = g + (size_t)3 * i * SIM_NG;
            double fd[3] = {(op[i].arrival - om[i].arrival) / (2 * h),
                            (op[i].first_token - om[i].first_token) / (2 * h),
                            (op[i].last_token - om[i].last_token) / (2 * h)};
            for (int w = 0; w < 3; w++) {
                double an = gi[w * SIM_NG + j];
                moved += an != 0;
                CHECK(fabs(fd[w] - an) <= 1e-4 * fabs(an) + 1e-6,
                      "kind %d async %d param %d request %d time %d: finite difference %.9g, "
                      "derivative %.9g", k, async, j, i, w, fd[w], an);
            }
        }
    }
    CHECK(moved > 0, "some derivative is non-zero");
    free(g);
}

static void t_sim_exact(void)
{
    check_exact(W_SPACED, 0, 4e-4);
    check_exact(W_SPACED, 1, 4e-4);
    check_exact(W_SPACED, 1, 0.02); /* async, the CPU winning every step */
    check_exact(W_SEQUENTIAL, 0, 4e-4);
    check_exact(W_SEQUENTIAL, 1, 4e-4);
}

/* A busy server: a request arriving mid-busy-period does not wait for the
** steps before it to stretch (it would have joined an earlier step), so the
** clock's derivative since the period began would overstate its move by the
** length of the period (about 100 times here).  What the smoothing leaves
** out is queueing's feedback on the batch (a slower step lets more requests
** join each step, which slows it again), so on a busy server the
** derivatives predict part of a re-simulation's move, not all of it: for
** every parameter with a material effect (3% larger moves the mean E2E by
** more than 0.1%) the predicted move of the mean E2E is between half and
** the whole of the re-simulated one, and no predicted move of the mean
** TTFT is more than twice the re-simulated one plus 0.2% of the mean.  The
** fit uses them only for a direction; every step it takes is re-simulated. */
static void t_sim_busy(void)
{
    econf_t c;
    conf_with_costs(&c, 4e-4);
    double *g = calloc((size_t)NBUSY * 3 * SIM_NG, sizeof *g);
    sim_out_t *o = calloc(NBUSY, sizeof *o), *op = calloc(NBUSY, sizeof *op);
    int material = 0;
    if (!g || !o || !op || run(&c, 0, W_BUSY, g, o))
        goto out;
    for (int j = 0; j < SIM_NG; j++) {
        econf_t cp = c;
        double *vp = param_of(&cp, j), d = 0.03 * *vp;
        *vp += d;
        if (run(&cp, 0, W_BUSY, NULL, op))
            break;
        double dt[2] = {0, 0}, pr[2] = {0, 0}, base[2] = {0, 0};
        for (int i = 0; i < NBUSY; i++) {
            const double *gi = g + (size_t)3 * i * SIM_NG;
            dt[0] += (op[i].first_token - op[i].arrival) - (o[i].first_token - o[i].arrival);
            dt[1] += (op[i].last_token - op[i].arrival) - (o[i].last_token - o[i].arrival);
            pr[0] += d * (gi[SIM_NG + j] - gi[j]);
            pr[1] += d * (gi[2 * SIM_NG + j] - gi[j]);
            base[0] += o[i].first_token - o[i].arrival;
            base[1] += o[i].last_token - o[i].arrival;
        }
        if (fabs(dt[1]) > 1e-3 * base[1]) {
            material++;
            CHECK(pr[1] >= 0.5 * dt[1] && pr[1] <= dt[1],
                  "param %d: re-simulation moves the mean E2E by %.6g s, the derivatives "
                  "predict %.6g s", j, dt[1] / NBUSY, pr[1] / NBUSY);
        }
        CHECK(fabs(pr[0]) <= 2 * fabs(dt[0]) + 2e-3 * base[0],
              "param %d: re-simulation moves the mean TTFT by %.6g s, the derivatives "
              "predict %.6g s", j, dt[0] / NBUSY, pr[0] / NBUSY);
    }
    CHECK(material >= 3, "%d parameters with a material effect (the kernel scales, the step's "
          "CPU)", material);
out:
    free(g);
    free(o);
    free(op);
}

int main(void)
{
    char err[TAM_ERRLEN];
    hw_h100_sxm(&hw);
    int rc = kset_load("", "engine/tests/fixtures/step-mfu/kset.json", NULL, NULL, &hw, &ks, err);
    if (rc == 0)
        rc = model_parse(TEST_MODEL_L7, "llama-2-7b", &m7, err);
    CHECK(rc == 0, "setup: %s", err);
    if (rc)
        TEST_REPORT("t_tier3");
    RUN(t_step_linear);
    RUN(t_canonical);
    RUN(t_sim_exact);
    RUN(t_sim_busy);
    kset_free(ks);
    TEST_REPORT("t_tier3");
}
