/* tests/t_ttft.c - the terms outside the GPU kernels (commit 0d06094):
** the API server's front end (frontend_s, frontend_tok_s), the engine core's
** CPU work per step (cpu_step_s, cpu_req_s), the scheduling loop (sync,
** async, version: trace_async_default, runner_sim_conf) and the elementwise
** kernels (elementwise, kernel_floor_s), with their configuration checks.
**
** Every expected time is either derived by hand in the comment beside the
** check or built from step_time of the same batch (the simulator must add
** exactly the stated terms to it); no expected number comes from running the
** simulator itself.  Step model: Llama-2-7B (fp16, tp 1) over the hand-made
** fixture set engine/tests/fixtures/step-mfu (as t_sim.c and t_step.c), the
** baseline configuration: bw_eta 1, so weights stream at 3.35e12 B/s.
*/
#include "check.h"
#include "models.h"
#include "econf.h"
#include "runner.h"
#include "sim.h"
#include "trace.h"

#include <stdlib.h>
#include <string.h>

static kset_t *ks;
static step_model_t *sm; /* baseline, elementwise off */
static hw_t hw;

static const char *l7 = TEST_MODEL_L7;
static const char *c34 = TEST_MODEL_C34;
/* Llama-2-7B's shapes with 8 experts of intermediate_size 11008, 2 per token. */
static const char *moe7 = "{\"num_hidden_layers\":32,\"hidden_size\":4096,"
    "\"num_attention_heads\":32,\"num_key_value_heads\":32,\"intermediate_size\":11008,"
    "\"vocab_size\":32000,\"torch_dtype\":\"float16\",\"num_local_experts\":8,"
    "\"num_experts_per_tok\":2}";

/* Every step the simulator runs, in order. */
#define MAXSTEPS 64
typedef struct {
    int n;
    sim_step_info_t s[MAXSTEPS];
} steps_t;

static void record(void *ctx, const sim_step_info_t *s)
{
    steps_t *r = ctx;
    if (r->n < MAXSTEPS)
        r->s[r->n] = *s;
    r->n++;
}

/* sim_run with the step record emptied first. */
static int run(const sim_cfg_t *c, const sim_req_t *r, int n, sim_out_t *o, sim_stats_t *st,
               char *err)
{
    if (c->on_step == record)
        ((steps_t *)c->on_step_ctx)->n = 0;
    return sim_run(sm, c, r, n, o, st, err);
}

static sim_cfg_t cfg_base(steps_t *rec)
{
    sim_cfg_t c = {.max_num_batched_tokens = 2048, .max_num_seqs = 8, .max_model_len = 4096,
                   .kv_blocks = 400, .block_size = 16, .prefix_caching = 1};
    memset(rec, 0, sizeof *rec);
    c.on_step = record;
    c.on_step_ctx = rec;
    return c;
}

/* step_time of one prefill chunk of n tokens from an empty cache, emitting. */
static double t_prefill(int n)
{
    int pn[1] = {n}, pc[1] = {0};
    unsigned char pe[1] = {1};
    batch_t b = {1, pn, pc, pe, 0, NULL};
    return step_time(sm, &b, NULL);
}

/* step_time of one decode at context ctx. */
static double t_decode(int ctx)
{
    int dc[1] = {ctx};
    batch_t b = {0, NULL, NULL, NULL, 1, dc};
    return step_time(sm, &b, NULL);
}

/* {====== the front end ====== */

/* One request alone on an idle server, sent at 0.5 s, 100 prompt tokens, 3
** output tokens.  Without a front end: scheduled at 0.5, first token at
** 0.5 + tp (tp = the 100-token prefill step), last at 0.5 + tp + t(100) +
** t(101).  With frontend_s = 2 ms and frontend_tok_s = 10 us/token the
** engine sees it 2e-3 + 1e-5 x 100 = 3e-3 s later and every step is the same
** batch, so everything moves by exactly 3 ms, while arrival (the client's
** send, from which TTFT and E2E count) stays 0.5. */
static void t_frontend_single(void)
{
    steps_t rec;
    sim_cfg_t c = cfg_base(&rec);
    sim_req_t r = {0.5, 100, 3, -1, 0};
    sim_out_t o0, o1;
    sim_stats_t st;
    char err[TAM_ERRLEN];
    double tp = t_prefill(100), d1 = t_decode(100), d2 = t_decode(101);
    CHECK(run(&c, &r, 1, &o0, &st, err) == 0, "%s", err);
    CHECK_NEAR(o0.first_token, 0.5 + tp, 1e-12);
    c.frontend_s = 2e-3;
    c.frontend_tok_s = 1e-5;
    CHECK(run(&c, &r, 1, &o1, &st, err) == 0, "%s", err);
    const double fe = 2e-3 + 1e-5 * 100; /* = 3e-3 s */
    CHECK(o1.arrival == 0.5, "arrival is the client's send: %.17g", o1.arrival);
    CHECK_NEAR(o1.scheduled, 0.5 + fe, 1e-12);
    CHECK_NEAR(o1.first_token - o0.first_token, fe, 1e-9);
    CHECK_NEAR(o1.last_token - o0.last_token, fe, 1e-9);
    /* TTFT from the send: front end + the prefill step; E2E: + 2 decodes */
    CHECK_NEAR(o1.first_token - o1.arrival, fe + tp, 1e-12);
    CHECK_NEAR(o1.last_token - o1.arrival, fe + tp + d1 + d2, 1e-12);
    CHECK(rec.n == 3 && rec.s[0].t == o1.scheduled, "3 steps, the first at the engine's sight "
          "(%d steps, first at %.17g)", rec.n, rec.s[0].t);
    /* The per-token term alone: 1e-5 x 100 = 1 ms. */
    c.frontend_s = 0;
    CHECK(run(&c, &r, 1, &o1, &st, err) == 0, "%s", err);
    CHECK_NEAR(o1.first_token - o0.first_token, 1e-3, 1e-9);
    CHECK(o1.arrival == 0.5, "arrival %.17g", o1.arrival);
    /* The per-request term alone: 2 ms whatever the prompt. */
    c.frontend_s = 2e-3;
    c.frontend_tok_s = 0;
    CHECK(run(&c, &r, 1, &o1, &st, err) == 0, "%s", err);
    CHECK_NEAR(o1.first_token - o0.first_token, 2e-3, 1e-9);
}

/* Two requests sent together at 0: r0 with 1000 prompt tokens, r1 with 10.
** Tokenisation alone would let the engine see r1 first (2e-3 + 1e-5 x 10 =
** 2.1 ms against 2e-3 + 1e-5 x 1000 = 12 ms), but the API server hands them
** on in send order: r1 waits for r0, and both join the step that starts at
** 12 ms (1010 tokens fit the 2048-token budget), r0 first.  Both count from
** their send at 0. */
static void t_frontend_send_order(void)
{
    steps_t rec;
    sim_cfg_t c = cfg_base(&rec);
    c.frontend_s = 2e-3;
    c.frontend_tok_s = 1e-5;
    sim_req_t r[2] = {{0, 1000, 2, -1, 0}, {0, 10, 2, -1, 0}};
    sim_out_t o[2];
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(run(&c, r, 2, o, &st, err) == 0, "%s", err);
    CHECK(o[0].arrival == 0 && o[1].arrival == 0, "arrivals are the sends: %g %g", o[0].arrival,
          o[1].arrival);
    CHECK_NEAR(o[0].scheduled, 0.012, 1e-12);
    CHECK(o[1].scheduled == o[0].scheduled, "r1 (short) overtook r0: scheduled %.17g vs %.17g",
          o[1].scheduled, o[0].scheduled);
    CHECK(rec.n >= 1 && rec.s[0].n_prefill == 2 && rec.s[0].tokens == 1010,
          "first step: both prompts (%d prefills, %d tokens)", rec.s[0].n_prefill,
          rec.s[0].tokens);
    int pn[2] = {1000, 10}, pc[2] = {0, 0};
    unsigned char pe[2] = {1, 1};
    batch_t b = {2, pn, pc, pe, 0, NULL};
    double t1 = step_time(sm, &b, NULL);
    CHECK_NEAR(o[0].first_token, 0.012 + t1, 1e-12);
    CHECK_NEAR(o[1].first_token - o[1].arrival, 0.012 + t1, 1e-12);

    /* Under load: 60 requests 1 ms apart with prompts 100..1000 in a
    ** scrambled order.  Invariants: the engine sees none before its send +
    ** front end, none is scheduled before an earlier-sent one, and arrival
    ** is the send. */
    enum { N = 60 };
    sim_req_t q[N];
    sim_out_t oq[N];
    for (int i = 0; i < N; i++)
        q[i] = (sim_req_t){i * 1e-3, 100 + (i * 347) % 901, 4, -1, 0};
    c.on_step = NULL;
    CHECK(run(&c, q, N, oq, &st, err) == 0, "%s", err);
    int seen_ok = 1, order_ok = 1, arr_ok = 1;
    for (int i = 0; i < N; i++) {
        seen_ok &= oq[i].scheduled >= q[i].t_send + 2e-3 + 1e-5 * q[i].prompt;
        arr_ok &= oq[i].arrival == q[i].t_send;
        if (i && oq[i].preemptions == 0 && oq[i - 1].preemptions == 0)
            order_ok &= oq[i].scheduled >= oq[i - 1].scheduled;
    }
    CHECK(seen_ok, "a request scheduled before its send + front end");
    CHECK(order_ok, "a request scheduled before an earlier-sent one");
    CHECK(arr_ok, "arrival is not the send time");
}

/* }====== */

/* {====== the engine core's CPU work ====== */

/* Sync: the CPU work and the GPU step one after the other.  One request, 100
** prompt tokens, 4 output tokens: a prefill step and three decodes at
** contexts 100, 101, 102, each lasting its step_time + cpu_step_s +
** cpu_req_s x 1 = step_time + 1e-3 + 5e-5 = step_time + 1.05e-3 s. */
static void t_cpu_sync(void)
{
    steps_t rec;
    sim_cfg_t c = cfg_base(&rec);
    c.cpu_step_s = 1e-3;
    c.cpu_req_s = 5e-5;
    const double cpu = 1.05e-3;
    sim_req_t r = {0, 100, 4, -1, 0};
    sim_out_t o;
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(run(&c, &r, 1, &o, &st, err) == 0, "%s", err);
    double want[4] = {t_prefill(100) + cpu, t_decode(100) + cpu, t_decode(101) + cpu,
                      t_decode(102) + cpu};
    CHECK(rec.n == 4, "4 steps, got %d", rec.n);
    for (int k = 0; k < 4 && k < rec.n; k++)
        CHECK_NEAR(rec.s[k].dt, want[k], 1e-12);
    CHECK_NEAR(o.first_token - o.arrival, want[0], 1e-12);
    /* each decode token: GPU step + cpu_step_s + cpu_req_s x 1 */
    CHECK_NEAR(o.last_token - o.first_token, want[1] + want[2] + want[3], 1e-12);
    CHECK_NEAR(st.busy, want[0] + want[1] + want[2] + want[3], 1e-12);

    /* cpu_req_s counts the requests in the step: two prompts sent together
    ** share the first step, 1e-3 + 2 x 5e-5 = 1.1e-3 s of CPU. */
    sim_req_t r2[2] = {{0, 100, 1, -1, 0}, {0, 50, 1, -1, 0}};
    sim_out_t o2[2];
    CHECK(run(&c, r2, 2, o2, &st, err) == 0, "%s", err);
    int pn[2] = {100, 50}, pc[2] = {0, 0};
    unsigned char pe[2] = {1, 1};
    batch_t b = {2, pn, pc, pe, 0, NULL};
    CHECK(rec.n == 1, "one step for two one-token requests, got %d", rec.n);
    CHECK_NEAR(rec.s[0].dt, step_time(sm, &b, NULL) + 1.1e-3, 1e-12);
    /* only cpu_req_s: 5e-5 x 2 = 1e-4 */
    c.cpu_step_s = 0;
    CHECK(run(&c, r2, 2, o2, &st, err) == 0, "%s", err);
    CHECK_NEAR(rec.s[0].dt, step_time(sm, &b, NULL) + 1e-4, 1e-12);
}

/* Async: the CPU plans step N+1 while the GPU runs N, so a step lasts
** max(GPU, CPU).  The GPU steps of this request are ~4 ms (13.2 GB of fp16
** weights at 3.35e12 B/s, checked below): CPU 1e-4 + 5e-5 hides entirely;
** CPU 0.05 + 1e-4 = 0.0501 s is the whole step. */
static void t_cpu_async(void)
{
    steps_t rec;
    sim_cfg_t c = cfg_base(&rec);
    c.async_sched = 1;
    c.cpu_step_s = 1e-4;
    c.cpu_req_s = 5e-5;
    sim_req_t r = {0, 100, 4, -1, 0};
    sim_out_t o;
    sim_stats_t st;
    char err[TAM_ERRLEN];
    double gpu[4] = {t_prefill(100), t_decode(100), t_decode(101), t_decode(102)};
    for (int k = 0; k < 4; k++)
        CHECK(gpu[k] > 1.5e-4 && gpu[k] < 0.0501, "GPU step %d = %g s: the cases below need "
              "1.5e-4 < GPU < 0.0501", k, gpu[k]);
    CHECK(run(&c, &r, 1, &o, &st, err) == 0, "%s", err);
    CHECK(rec.n == 4, "4 steps, got %d", rec.n);
    for (int k = 0; k < 4 && k < rec.n; k++)
        CHECK(rec.s[k].dt == gpu[k], "cpu < GPU: step %d lasts %.17g, GPU %.17g", k,
              rec.s[k].dt, gpu[k]);
    CHECK_NEAR(o.first_token - o.arrival, gpu[0], 1e-12);
    c.cpu_step_s = 0.05;
    c.cpu_req_s = 1e-4;
    CHECK(run(&c, &r, 1, &o, &st, err) == 0, "%s", err);
    for (int k = 0; k < 4 && k < rec.n; k++)
        CHECK_NEAR(rec.s[k].dt, 0.0501, 1e-12);
    CHECK_NEAR(o.first_token - o.arrival, 0.0501, 1e-12);
    CHECK_NEAR(o.last_token - o.arrival, 4 * 0.0501, 1e-12);
    /* the same configuration synchronous: GPU + 0.0501 per step */
    c.async_sched = 0;
    CHECK(run(&c, &r, 1, &o, &st, err) == 0, "%s", err);
    CHECK_NEAR(o.last_token - o.arrival, gpu[0] + gpu[1] + gpu[2] + gpu[3] + 4 * 0.0501, 1e-12);
}

/* }====== */

/* {====== async admission ====== */

/* Request A (sent at 0, 100 prompt tokens, 20 output tokens) runs alone:
** step 1 is its prefill, step j >= 2 a decode at context 100 + j - 2, so
** step starts are S1 = 0, S2 = tp(100), S(j+1) = Sj + t_decode(100 + j - 2).
** (The simulator computes t_end = t + dt in the same order, so these are the
** same doubles.)  B (50 tokens, 2 out) is sent halfway through step k = 5.
** Sync: the scheduler of step 6 sees B: B.scheduled = S6.  Async: step 6 was
** planned during step 5 from the requests seen by S5, which B is not among;
** B joins step 7: B.scheduled = S7.  Steps before B joins are A's alone. */
#define K 5
static void a_starts(double *S, int upto)
{
    S[1] = 0;
    S[2] = t_prefill(100);
    for (int j = 2; j < upto; j++)
        S[j + 1] = S[j] + t_decode(100 + j - 2);
}

static void t_async_admission(void)
{
    double S[12];
    a_starts(S, 11);
    steps_t rec;
    sim_cfg_t c = cfg_base(&rec);
    sim_req_t r[2] = {{0, 100, 20, -1, 0}, {(S[K] + S[K + 1]) / 2, 50, 2, -1, 0}};
    sim_out_t o[2];
    sim_stats_t st;
    char err[TAM_ERRLEN];
    for (int as = 0; as <= 1; as++) {
        c.async_sched = as;
        CHECK(run(&c, r, 2, o, &st, err) == 0, "%s", err);
        int join = as ? K + 2 : K + 1; /* the 1-based step B first runs in */
        for (int j = 1; j <= join && j <= rec.n; j++)
            CHECK(rec.s[j - 1].t == S[j], "%s: step %d starts at %.17g, derived %.17g",
                  as ? "async" : "sync", j, rec.s[j - 1].t, S[j]);
        CHECK(o[1].scheduled == S[join], "%s: B scheduled at %.17g, want step %d's start %.17g",
              as ? "async" : "sync", o[1].scheduled, join, S[join]);
        CHECK(rec.n >= join && rec.s[join - 1].n_prefill == 1 && rec.s[join - 2].n_prefill == 0,
              "%s: B's prefill is in step %d alone", as ? "async" : "sync", join);
        CHECK(o[1].arrival == r[1].t_send, "arrival %.17g", o[1].arrival);
        CHECK(o[0].scheduled == 0, "idle engine: A scheduled at once (%.17g)", o[0].scheduled);
    }
    /* Seen exactly at a step's start (B sent at S5): sync admits it in that
    ** step (seen by t); async in the next, planned from what was seen by S5. */
    r[1].t_send = S[K];
    for (int as = 0; as <= 1; as++) {
        c.async_sched = as;
        CHECK(run(&c, r, 2, o, &st, err) == 0, "%s", err);
        CHECK(o[1].scheduled == S[K + as], "%s, B at S%d: scheduled %.17g want %.17g",
              as ? "async" : "sync", K, o[1].scheduled, S[K + as]);
    }
    /* The front end counts: with frontend_s = 3 ms A is seen at 3 ms and
    ** every step start moves to S'j = Sj + 3e-3 (same batches).  B sent at
    ** (S5 + S6) / 2 is sent during step 4 (S'4, S'5) but seen 3 ms later,
    ** halfway through step 5 (S'5, S'6): async joins step 7, at S7 + 3e-3. */
    c.frontend_s = 3e-3;
    c.async_sched = 1;
    r[1].t_send = (S[K] + S[K + 1]) / 2;
    CHECK(r[1].t_send > S[K - 1] + 3e-3 && r[1].t_send < S[K] + 3e-3,
          "the fixture needs B sent during step 4 (%g not in [%g, %g])", r[1].t_send,
          S[K - 1] + 3e-3, S[K] + 3e-3);
    CHECK(run(&c, r, 2, o, &st, err) == 0, "%s", err);
    CHECK_NEAR(o[1].scheduled, S[K + 2] + 3e-3, 1e-12);
    CHECK(rec.n > K + 2 && rec.s[K + 1].n_prefill == 1 && rec.s[K].n_prefill == 0,
          "front end + async: B's prefill is in step 7 alone");
    CHECK(o[1].arrival == r[1].t_send, "arrival is the send: %.17g", o[1].arrival);
}

/* An idle engine admits at once under async too: B sent long after A ended
** is scheduled at its send; B sent during A's last step (A: 100 tokens, 3
** out: steps S1, S2, S3, ending at S4 = A's last token) finds the engine
** idle when that step ends and is scheduled at S4, not a step later. */
static void t_async_idle(void)
{
    double S[6];
    a_starts(S, 4);
    steps_t rec;
    sim_cfg_t c = cfg_base(&rec);
    c.async_sched = 1;
    sim_req_t r[2] = {{0, 100, 3, -1, 0}, {5.0, 50, 2, -1, 0}};
    sim_out_t o[2];
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(run(&c, r, 2, o, &st, err) == 0, "%s", err);
    CHECK(o[0].scheduled == 0 && o[1].scheduled == 5.0, "idle: scheduled at %.17g and %.17g",
          o[0].scheduled, o[1].scheduled);
    CHECK_NEAR(o[1].first_token - o[1].arrival, t_prefill(50), 1e-12);
    CHECK(o[0].last_token == S[4], "A ends at %.17g, derived %.17g", o[0].last_token, S[4]);
    r[1].t_send = (S[3] + S[4]) / 2;
    for (int as = 0; as <= 1; as++) {
        c.async_sched = as;
        CHECK(run(&c, r, 2, o, &st, err) == 0, "%s", err);
        CHECK(o[1].scheduled == S[4], "%s: B (sent during A's last step) scheduled at %.17g, "
              "want %.17g", as ? "async" : "sync", o[1].scheduled, S[4]);
        CHECK(rec.n == 5, "%s: A's 3 steps + B's 2, got %d", as ? "async" : "sync", rec.n);
    }
}

/* }====== */

/* {====== the scheduling loop a run had ====== */

/* vLLM made async scheduling the default in v0.12 (PR #27614).  A version
** that does not parse as MAJOR.MINOR says nothing about which vLLM ran: it is
** treated like one not recorded, and the runs that record none (the
** corpus's inference-perf runs, February 2026) postdate v0.12. */
static void t_async_default(void)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        {"0.11.0", 0}, {"0.11.2", 0}, {"0.9.2", 0},  {"0.12.0", 1},  {"0.23.0", 1},
        {"1.0.0", 1},  {"", 1},       {"garbage", 1}, {"0.11", 0},   {"0.12.0rc1", 1},
    };
    trace_t *t = calloc(1, sizeof *t);
    CHECK(t != NULL, "calloc");
    if (!t)
        return;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(t->vllm_version, sizeof t->vllm_version, "%s", cases[i].v);
        CHECK(trace_async_default(t) == cases[i].want, "version \"%s\": %d, want %d", cases[i].v,
              trace_async_default(t), cases[i].want);
    }
    /* runner_sim_conf: "sync" and "async" whatever the run; "version" as
    ** the run's vLLM (no run: async); the other terms copied. */
    econf_t e;
    econf_baseline(&e);
    e.frontend_s = 1e-3;
    e.frontend_tok_s = 2e-6;
    e.cpu_step_s = 4e-4;
    e.cpu_req_s = 8e-6;
    static const struct {
        const char *sched, *ver;
        int null_trace, want;
    } rs[] = {
        {"sync", "0.23.0", 0, 0},   {"async", "0.11.0", 0, 1},  {"version", "0.11.0", 0, 0},
        {"version", "0.23.0", 0, 1}, {"version", "", 0, 1},     {"version", "", 1, 1},
        {"sync", "", 1, 0},
    };
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        snprintf(e.scheduling, sizeof e.scheduling, "%s", rs[i].sched);
        snprintf(t->vllm_version, sizeof t->vllm_version, "%s", rs[i].ver);
        sim_cfg_t c;
        memset(&c, 0, sizeof c);
        c.async_sched = 7;
        runner_sim_conf(&e, rs[i].null_trace ? NULL : t, &c);
        CHECK(c.async_sched == rs[i].want, "scheduling %s, version \"%s\"%s: async %d", rs[i].sched,
              rs[i].ver, rs[i].null_trace ? " (no trace)" : "", c.async_sched);
        CHECK(c.frontend_s == 1e-3 && c.frontend_tok_s == 2e-6 && c.cpu_step_s == 4e-4 &&
                  c.cpu_req_s == 8e-6,
              "runner_sim_conf did not copy the front end and CPU terms");
    }
    free(t);
}

/* }====== */

/* {====== elementwise kernels ====== */

static step_model_t *model_with(const char *json, int tp, int elementwise, double floor_s)
{
    model_t m;
    econf_t c;
    char err[TAM_ERRLEN];
    econf_baseline(&c);
    snprintf(c.kernels, sizeof c.kernels, "%s", ks->name);
    c.elementwise = elementwise;
    c.kernel_floor_s = floor_s;
    step_model_t *s = NULL;
    int rc = model_parse(json, "fixture", &m, err);
    if (rc == 0)
        rc = step_model_new(&m, &hw, ks, tp, &c, &s, err);
    CHECK(rc == 0, "step model: %s", err);
    return s;
}

/* step_time with elementwise on and off, same batch; checks the difference,
** the breakdown's field and its component (the bytes it moves, all layers;
** no FLOPs priced). */
static void check_ew(step_model_t *on, step_model_t *off, const batch_t *b, double want,
                     double want_bytes, const char *what)
{
    step_bd_t *bd = calloc(1, sizeof *bd);
    if (!on || !off || !bd) {
        free(bd);
        CHECK(0, "%s: no step model", what);
        return;
    }
    bd->want_comps = 1;
    double t_on = step_time(on, b, bd), t_off = step_time(off, b, NULL);
    CHECK(fabs(bd->elementwise - want) <= 1e-9 * want, "%s: elementwise %.12g want %.12g", what,
          bd->elementwise, want);
    CHECK(fabs((t_on - t_off) - want) <= 1e-9 * want, "%s: step grew by %.12g want %.12g", what,
          t_on - t_off, want);
    CHECK(bd->total == t_on, "%s: breakdown total %.17g vs %.17g", what, bd->total, t_on);
    int found = 0;
    for (int i = 0; i < bd->n_comps; i++)
        if (strcmp(bd->comps[i].name, "elementwise") == 0) {
            found++;
            CHECK(bd->comps[i].bytes == want_bytes && bd->comps[i].compute == 0,
                  "%s: component bytes %.17g want %.17g, compute %g", what, bd->comps[i].bytes,
                  want_bytes, bd->comps[i].compute);
        }
    CHECK(found == 1, "%s: %d 'elementwise' components", what, found);
    free(bd);
}

/* Llama-2-7B, fp16 (b = 2), tp 1: d 4096, H = K = 32, hd 128, F 11008, L 32;
** weights at 3.35e12 B/s; floor 2.5e-6 s.  Bytes per layer at m tokens:
**   add+RMSNorm  4 d b m            = 32768 m
**   rotary       2 (H + K) hd b m   = 2 x 64 x 128 x 2 m = 32768 m
**   SiLU-and-mul 3 F b m            = 66048 m
**   add+RMSNorm  4 d b m            = 32768 m
** m = 1: the largest, 66048 B, takes 1.97e-8 s << 2.5e-6: all four at the
**   floor: 4 x 2.5e-6 x 32 = 3.2e-4 s.
** m = 128: 32768 x 128 = 4,194,304 B -> 1.252e-6 s (floor); 66048 x 128 =
**   8,454,144 B -> 2.523625075e-6 s (above): per layer 3 x 2.5e-6 +
**   8,454,144 / 3.35e12; x 32 = 3.207560024e-4 s.
** m = 4096: every kernel above the floor: per layer (3 x 32768 + 66048) x
**   4096 = 673,185,792 B; x 32 = 21,541,945,344 B / 3.35e12 = 6.430431446e-3 s.
** All layers move (3 x 32768 + 66048) x 32 = 5,259,264 B per token.
** Floor 0 at m = 1: 5,259,264 B / 3.35e12 =
**   1.569929552e-6 s.  Floor 1e-5 at m = 1: 4 x 1e-5 x 32 = 1.28e-3 s. */
static void t_elementwise_7b(void)
{
    step_model_t *on = model_with(l7, 1, 1, 2.5e-6), *off = model_with(l7, 1, 0, 2.5e-6);
    int dc[16];
    for (int i = 0; i < 16; i++)
        dc[i] = 512;
    batch_t dec1 = {0, NULL, NULL, NULL, 1, dc}, dec16 = {0, NULL, NULL, NULL, 16, dc};
    check_ew(on, off, &dec1, 3.2e-4, 5259264, "7b decode m=1");
    check_ew(on, off, &dec16, 3.2e-4, 5259264.0 * 16, "7b decode m=16 (still floor)");
    int pn[1] = {128}, pc[1] = {0};
    unsigned char pe[1] = {1};
    batch_t pf = {1, pn, pc, pe, 0, NULL};
    check_ew(on, off, &pf, 32 * (3 * 2.5e-6 + 8454144 / 3.35e12), 5259264.0 * 128,
             "7b prefill m=128");
    CHECK_NEAR(32 * (3 * 2.5e-6 + 8454144 / 3.35e12), 3.207560024e-4, 1e-9);
    pn[0] = 4096;
    check_ew(on, off, &pf, 21541945344.0 / 3.35e12, 21541945344.0, "7b prefill m=4096");
    CHECK_NEAR(21541945344.0 / 3.35e12, 6.430431446e-3, 1e-9);
    /* a mixed step's one pass covers prefill and decode tokens: 4080 + 16 */
    pn[0] = 4080;
    batch_t mix = {1, pn, pc, pe, 16, dc};
    check_ew(on, off, &mix, 21541945344.0 / 3.35e12, 21541945344.0, "7b mixed 4080+16");
    /* an empty batch has no elementwise work */
    batch_t none = {0, NULL, NULL, NULL, 0, NULL};
    step_bd_t bd;
    memset(&bd, 0, sizeof bd);
    if (on)
        CHECK(step_time(on, &none, &bd) == 0 && bd.elementwise == 0, "empty step %g",
              bd.elementwise);
    step_model_free(on);
    /* kernel_floor_s is the floor */
    on = model_with(l7, 1, 1, 0);
    check_ew(on, off, &dec1, 5259264.0 / 3.35e12, 5259264, "7b m=1 floor 0");
    step_model_free(on);
    on = model_with(l7, 1, 1, 1e-5);
    check_ew(on, off, &dec1, 1.28e-3, 5259264, "7b m=1 floor 1e-5");
    step_model_free(on);
    step_model_free(off);
}

/* CodeLlama-34B, bf16, tp 2: d 8192 (norms are not split), H/tp = 32, K/tp =
** 4, hd 128, F/tp = 11008, L 48.  At m = 4096 per layer:
**   4 d b m = 268,435,456; 2 (32 + 4) 128 x 2 m = 75,497,472;
**   3 x 11008 x 2 m = 270,532,608; 268,435,456: all above the floor
**   (75,497,472 / 3.35e12 = 2.25e-5 s); sum 882,900,992 B x 48 layers =
**   42,379,247,616 B / 3.35e12 = 1.265052168e-2 s.
** A MoE of Llama-2-7B's shapes (8 experts, 2 per token): SiLU-and-mul runs
** on every routed copy: 3 F b m x topk = 541,065,216 B at m = 4096; per
** layer 3 x 134,217,728 + 541,065,216 = 943,718,400 B x 32 =
** 30,198,988,800 B / 3.35e12 = 9.014623522e-3 s. */
static void t_elementwise_tp_moe(void)
{
    int pn[1] = {4096}, pc[1] = {0};
    unsigned char pe[1] = {1};
    batch_t pf = {1, pn, pc, pe, 0, NULL};
    step_model_t *on = model_with(c34, 2, 1, 2.5e-6), *off = model_with(c34, 2, 0, 2.5e-6);
    check_ew(on, off, &pf, 42379247616.0 / 3.35e12, 42379247616.0, "34b tp2 m=4096");
    CHECK_NEAR(42379247616.0 / 3.35e12, 1.265052168e-2, 1e-9);
    step_model_free(on);
    step_model_free(off);
    on = model_with(moe7, 1, 1, 2.5e-6);
    off = model_with(moe7, 1, 0, 2.5e-6);
    check_ew(on, off, &pf, 30198988800.0 / 3.35e12, 30198988800.0, "MoE m=4096");
    CHECK_NEAR(30198988800.0 / 3.35e12, 9.014623522e-3, 1e-9);
    step_model_free(on);
    step_model_free(off);
}

/* }====== */

/* {====== configuration ====== */

static void expect_refused(const char *json, const char *a, const char *b)
{
    econf_t c;
    char err[TAM_ERRLEN] = "";
    int rc = econf_parse(json, "f.json", &c, err);
    CHECK(rc == TAM_EFIELD, "%s: rc %d (%s)", json, rc, err);
    CHECK(strstr(err, "f.json") && strstr(err, a) && (!b || strstr(err, b)),
          "%s: message lacks '%s'/'%s': %s", json, a, b ? b : "", err);
}

static void t_econf(void)
{
    econf_t c, d;
    char err[TAM_ERRLEN];
    /* the baseline: every new term off */
    econf_baseline(&c);
    CHECK(c.frontend_s == 0 && c.frontend_tok_s == 0 && c.cpu_step_s == 0 && c.cpu_req_s == 0 &&
              c.elementwise == 0 && strcmp(c.scheduling, "sync") == 0 &&
              c.kernel_floor_s == 2.5e-6,
          "baseline defaults changed");
    /* good values round-trip */
    CHECK(econf_parse("{\"frontend_s\":0.0025,\"frontend_tok_s\":2e-6,\"cpu_step_s\":4e-4,"
                      "\"cpu_req_s\":8e-6,\"scheduling\":\"async\",\"elementwise\":true,"
                      "\"kernel_floor_s\":3e-6}", "ok.json", &c, err) == 0, "%s", err);
    CHECK(c.frontend_s == 0.0025 && c.frontend_tok_s == 2e-6 && c.cpu_step_s == 4e-4 &&
              c.cpu_req_s == 8e-6 && strcmp(c.scheduling, "async") == 0 && c.elementwise == 1 &&
              c.kernel_floor_s == 3e-6,
          "values not applied");
    CHECK(econf_parse("{\"scheduling\":\"version\"}", "ok.json", &c, err) == 0, "%s", err);
    /* the scheduling mode is part of what identifies a configuration */
    char h1[17], h2[17];
    CHECK(econf_parse("{\"scheduling\":\"sync\"}", "a", &c, err) == 0, "%s", err);
    CHECK(econf_parse("{\"scheduling\":\"async\"}", "b", &d, err) == 0, "%s", err);
    econf_hash(&c, h1);
    econf_hash(&d, h2);
    CHECK(strcmp(h1, h2) != 0, "sync and async hash alike (%s)", h1);
    econf_baseline(&d);
    econf_hash(&d, h2);
    CHECK(strcmp(h1, h2) == 0, "explicit sync differs from the baseline");
    /* bad values: refused, naming the file, the field and the value or range */
    expect_refused("{\"scheduling\":\"fast\"}", "'scheduling'", "\"fast\"");
    expect_refused("{\"scheduling\":\"\"}", "'scheduling'", NULL);
    expect_refused("{\"scheduling\":1}", "'scheduling'", "string");
    expect_refused("{\"cpu_req_s\":-1e-6}", "'cpu_req_s'", "[0, 0.001]");
    expect_refused("{\"cpu_step_s\":0.5}", "'cpu_step_s'", "[0, 0.1]");
    expect_refused("{\"frontend_tok_s\":0.01}", "'frontend_tok_s'", "[0, 0.001]");
    expect_refused("{\"frontend_s\":-0.001}", "'frontend_s'", "[0, 1]");
    expect_refused("{\"kernel_floor_s\":0.002}", "'kernel_floor_s'", "[0, 0.001]");
    expect_refused("{\"kernel_floor_s\":-1}", "'kernel_floor_s'", "-1");
    expect_refused("{\"elementwise\":1}", "'elementwise'", "true or false");
}

/* }====== */

int main(void)
{
    char err[TAM_ERRLEN];
    model_t m;
    econf_t c;
    hw_h100_sxm(&hw);
    econf_baseline(&c);
    int rc = kset_load("", "engine/tests/fixtures/step-mfu/kset.json", NULL, NULL, &hw, &ks, err);
    if (rc == 0) {
        snprintf(c.kernels, sizeof c.kernels, "%s", ks->name);
        rc = model_parse(l7, "llama-2-7b", &m, err) || step_model_new(&m, &hw, ks, 1, &c, &sm, err);
    }
    CHECK(rc == 0, "setup: %s", err);
    if (rc)
        TEST_REPORT("t_ttft");
    RUN(t_frontend_single);
    RUN(t_frontend_send_order);
    RUN(t_cpu_sync);
    RUN(t_cpu_async);
    RUN(t_async_admission);
    RUN(t_async_idle);
    RUN(t_async_default);
    RUN(t_elementwise_7b);
    RUN(t_elementwise_tp_moe);
    RUN(t_econf);
    step_model_free(sm);
    kset_free(ks);
    TEST_REPORT("t_ttft");
}
