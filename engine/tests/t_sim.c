/* engine/tests/t_sim.c - scheduler invariants, prefix caching, preemption,
** rejection, closed-loop clients and determinism. */
#include "check.h"
#include "models.h"
#include "sim.h"
#include "workload.h"

#include <stdlib.h>
#include <string.h>

static kset_t *ks;

/* The fixture set is not the baseline's: point the configuration at it. */
static int kset_bind_any(const kset_t *k, econf_t *c)
{
    snprintf(c->kernels, sizeof c->kernels, "%s", k->name);
    return 0;
}
static step_model_t *sm;

static const char *l7 = TEST_MODEL_L7;

typedef struct {
    int mnbt, maxseqs, steps, bad_budget, bad_seqs, max_running;
} watch_t;

static void on_step(void *ctx, const sim_step_info_t *s)
{
    watch_t *w = ctx;
    w->steps++;
    if (s->tokens > w->mnbt)
        w->bad_budget++;
    if (s->running > w->maxseqs)
        w->bad_seqs++;
    if (s->running > w->max_running)
        w->max_running = s->running;
}

static sim_cfg_t cfg_base(watch_t *w)
{
    sim_cfg_t c = {.max_num_batched_tokens = 256, .max_num_seqs = 8, .max_model_len = 4096,
                   .kv_blocks = 400, .block_size = 16, .prefix_caching = 1};
    w->mnbt = c.max_num_batched_tokens;
    w->maxseqs = c.max_num_seqs;
    c.on_step = on_step;
    c.on_step_ctx = w;
    return c;
}

/* One request alone: TTFT is the prefill step(s), then one decode step per
** further token, each priced by step_time with the context it had. */
static void t_single_request_timeline(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    sim_req_t r = {0.5, 100, 3, -1, 0};
    sim_out_t o;
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(sim_run(sm, &c, &r, 1, &o, &st, err) == 0, "%s", err);
    int pn[1] = {100}, pc[1] = {0}, d1[1] = {100}, d2[1] = {101};
    unsigned char pe[1] = {1};
    batch_t bp = {1, pn, pc, pe, 0, NULL}, b1 = {0, NULL, NULL, NULL, 1, d1},
            b2 = {0, NULL, NULL, NULL, 1, d2};
    double tp = step_time(sm, &bp, NULL), t1 = step_time(sm, &b1, NULL),
           t2 = step_time(sm, &b2, NULL);
    CHECK_NEAR(o.arrival, 0.5, 1e-15);
    CHECK_NEAR(o.scheduled, 0.5, 1e-15);
    CHECK_NEAR(o.first_token - o.arrival, tp, 1e-12);
    CHECK_NEAR(o.last_token - o.arrival, tp + t1 + t2, 1e-12);
    CHECK(st.steps == 3 && w.steps == 3, "steps %lld", st.steps);
}

/* A 600-token prompt under a 256-token budget takes ceil(600/256) = 3 chunks. */
static void t_chunked_prefill(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    sim_req_t r = {0, 600, 1, -1, 0};
    sim_out_t o;
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(sim_run(sm, &c, &r, 1, &o, &st, err) == 0, "%s", err);
    CHECK(st.steps == 3, "steps %lld, want 3 chunks", st.steps);
    CHECK(o.first_token == o.last_token, "one output token");
}

static sim_req_t *mkload(int n, int prompt, int out, double gap, int groups, int prefix)
{
    sim_req_t *r = calloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++) {
        r[i].t_send = i * gap;
        r[i].prompt = prompt + (i * 37) % 50;
        r[i].output = out + (i * 13) % 20;
        r[i].prefix_group = groups ? i % groups : -1;
        r[i].prefix_tokens = prefix;
    }
    return r;
}

static void t_invariants_under_load(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    int n = 200;
    sim_req_t *r = mkload(n, 300, 40, 0.002, 3, 64);
    sim_out_t *o = calloc((size_t)n, sizeof *o);
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(sim_run(sm, &c, r, n, o, &st, err) == 0, "%s", err);
    CHECK(w.bad_budget == 0, "%d steps over the token budget", w.bad_budget);
    CHECK(w.bad_seqs == 0, "%d steps over max_num_seqs", w.bad_seqs);
    CHECK(w.max_running == 8, "max running %d (load should saturate 8)", w.max_running);
    int order_ok = 1, times_ok = 1, hits = 0;
    for (int i = 0; i < n; i++) {
        times_ok &= o[i].arrival <= o[i].scheduled && o[i].scheduled < o[i].first_token &&
                    o[i].first_token <= o[i].last_token && !o[i].rejected;
        if (i && o[i].preemptions == 0 && o[i - 1].preemptions == 0)
            order_ok &= o[i].scheduled >= o[i - 1].scheduled; /* FCFS admission */
        hits += o[i].prefix_hit_tokens > 0;
    }
    CHECK(times_ok, "arrival <= scheduled < first <= last for every request");
    CHECK(order_ok, "admission order is FCFS");
    /* 3 groups, 64-token prefixes = 4 full blocks: after the first request of
    ** each group computes them, later ones hit (only 3 can miss). */
    CHECK(hits >= n - 3 - 8, "prefix hits on %d of %d requests", hits, n);
    CHECK(st.prefix_hit_tokens % 16 == 0, "hits come in whole blocks");
    free(r);
    free(o);
}

/* A pool of 60 blocks with 8 sequences that each grow to ~22 blocks forces
** recompute preemption; everything must still finish with its exact length
** (sim_run asserts exact lengths and block conservation internally). */
static void t_preemption(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    c.kv_blocks = 60;
    int n = 24;
    sim_req_t *r = mkload(n, 200, 150, 0.0, 0, 0);
    sim_out_t *o = calloc((size_t)n, sizeof *o);
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(sim_run(sm, &c, r, n, o, &st, err) == 0, "%s", err);
    CHECK(st.preemptions > 0, "expected preemptions, got %lld", st.preemptions);
    int total = 0;
    for (int i = 0; i < n; i++)
        total += o[i].preemptions;
    CHECK(total == st.preemptions, "per-request preemptions add up (%d vs %lld)", total,
          st.preemptions);
    CHECK(st.rejected == 0, "rejected %d", st.rejected);
    free(r);
    free(o);
}

typedef struct {
    long long tokens;
} tally_t;

static void count_tokens(void *ctx, const sim_step_info_t *s)
{
    ((tally_t *)ctx)->tokens += s->tokens;
}

/* A request readmitted after a preemption finds those of its own full blocks
** that were not evicted meanwhile, and recomputes only the rest.  Traced by
** hand (block size 16, 10 blocks, A and B sent together, 64-token prompts,
** 40 output tokens each):
**   step 1 prefills both (4 blocks each, 2 free); step 2 gives each a 5th
**   block (0 free).  When both have computed 80 tokens, A needs a 6th block:
**   B, the last admitted, is preempted with 80 computed tokens, 5 full
**   blocks, 17 tokens generated.  Its blocks return to the free queue tail
**   first (B4 first), so A takes B4, and at 97 tokens B3.  B cannot come back
**   before A ends (6 blocks needed, at most 4 free), and A needs no 8th block
**   (64 + 39 = 103 tokens fit in 7).  B returns with B0..B2 cached: it
**   recomputes tokens 48..79, 32 tokens; without caching all 80.
** Total tokens scheduled: each request computes its prompt and feeds back
** 39 of its 40 tokens, 2 x 103 = 206, plus B's recompute: 238 with prefix
** caching, 286 without. */
static void t_preempted_request_hits_own_blocks(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    c.kv_blocks = 10;
    sim_req_t r[2] = {{0, 64, 40, -1, 0}, {0, 64, 40, -1, 0}};
    sim_out_t o[2];
    sim_stats_t st;
    tally_t on = {0}, off = {0};
    char err[TAM_ERRLEN];
    c.on_step = count_tokens;
    c.on_step_ctx = &on;
    CHECK(sim_run(sm, &c, r, 2, o, &st, err) == 0, "%s", err);
    CHECK(o[0].preemptions == 0 && o[1].preemptions == 1, "B preempted once (%d, %d)",
          o[0].preemptions, o[1].preemptions);
    CHECK(on.tokens == 238, "with caching: 206 + 32 recomputed = 238, got %lld", on.tokens);
    c.prefix_caching = 0;
    c.on_step_ctx = &off;
    CHECK(sim_run(sm, &c, r, 2, o, &st, err) == 0, "%s", err);
    CHECK(o[1].preemptions == 1, "B preempted once without caching too");
    CHECK(off.tokens == 286, "without caching: 206 + 80 recomputed = 286, got %lld", off.tokens);
}

static void t_rejection(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    c.kv_blocks = 10; /* 160 tokens */
    sim_req_t r[2] = {{0, 100, 10, -1, 0}, {0.1, 200, 10, -1, 0}};
    sim_out_t o[2];
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(sim_run(sm, &c, r, 2, o, &st, err) == 0, "%s", err);
    CHECK(!o[0].rejected && o[1].rejected && st.rejected == 1, "second must be rejected");
    CHECK(o[1].reason && strstr(o[1].reason, "KV"), "reason names KV: %s",
          o[1].reason ? o[1].reason : "(null)");
    c.kv_blocks = 400;
    c.max_model_len = 150;
    CHECK(sim_run(sm, &c, r, 2, o, &st, err) == 0, "%s", err);
    CHECK(o[1].rejected && strstr(o[1].reason, "max_model_len"), "max_model_len rejection");
}

/* Synchronous client: each request is sent when the previous one ends. */
static void t_closed_loop(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    c.max_inflight = 1;
    sim_req_t *r = mkload(5, 100, 5, 0.0, 0, 0);
    sim_out_t o[5];
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(sim_run(sm, &c, r, 5, o, &st, err) == 0, "%s", err);
    for (int i = 1; i < 5; i++)
        CHECK(o[i].arrival == o[i - 1].last_token, "request %d sent at %.9g, previous ended %.9g",
              i, o[i].arrival, o[i - 1].last_token);
    free(r);
}

/* A client limit of 2, everything scheduled at 0 except the last: r0 and r1
** go at 0; r2 waits for the first end (r0, 2 tokens: prefill + 1 decode,
** while r1 needs 8), r3 for the next (r2, also 2 tokens, ends before r1);
** r4, scheduled at 1000 s when a slot has long been free, goes on time.
** Sends are FIFO and predicted latency counts from the simulated send. */
static void t_client_limit(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    c.max_inflight = 2;
    sim_req_t r[5] = {{0, 100, 2, -1, 0}, {0, 100, 8, -1, 0}, {0, 100, 2, -1, 0}, {0, 100, 2, -1, 0},
                      {1000, 100, 2, -1, 0}};
    sim_out_t o[5];
    sim_stats_t st;
    char err[TAM_ERRLEN];
    CHECK(sim_run(sm, &c, r, 5, o, &st, err) == 0, "%s", err);
    CHECK(o[0].arrival == 0 && o[1].arrival == 0, "first two at 0: %g %g", o[0].arrival, o[1].arrival);
    CHECK(o[2].arrival == o[0].last_token, "r2 sent at %.9g, r0 ended %.9g", o[2].arrival, o[0].last_token);
    CHECK(o[2].last_token < o[1].last_token, "r2 ends (%.9g) before r1 (%.9g)", o[2].last_token, o[1].last_token);
    CHECK(o[3].arrival == o[2].last_token, "r3 sent at %.9g, r2 ended %.9g", o[3].arrival, o[2].last_token);
    CHECK(o[4].arrival == 1000.0, "r4 on schedule: %.9g", o[4].arrival);
    /* r2 is admitted in the step that starts when r0's last step ends: no
    ** server queue, its TTFT from the simulated send is one mixed step */
    CHECK(o[2].scheduled == o[2].arrival, "r2 scheduled %.9g arrival %.9g", o[2].scheduled, o[2].arrival);
    /* open loop: all four at 0 */
    c.max_inflight = 0;
    CHECK(sim_run(sm, &c, r, 5, o, &st, err) == 0, "%s", err);
    CHECK(o[2].arrival == 0 && o[3].arrival == 0, "open loop: %g %g", o[2].arrival, o[3].arrival);
}

/* The TraceV2 reader's inferred limit reaches the simulated client. */
static void t_trace_client_limit(void)
{
    trace_t *t = NULL;
    char err[TAM_ERRLEN];
    CHECK(trace_load("engine/tests/fixtures/trace/v2capped", &t, err) == 0, "%s", err);
    if (!t)
        return;
    workload_t w;
    CHECK(wl_from_trace(t, 0, 42, &w, err) == 0, "%s", err);
    /* the capped fixture's client held at most 2; sends follow the schedule
    ** (arrival_time_us), the simulator adds the wait for a slot */
    CHECK(w.max_inflight == 2, "max_inflight %d", w.max_inflight);
    CHECK(w.n == 9 && w.req[2].t_send == 0.5, "n %d t_send[2] %g", w.n, w.n > 2 ? w.req[2].t_send : -1);
    wl_free(&w);
    trace_free(t);
}

static void t_determinism(void)
{
    watch_t w = {0};
    sim_cfg_t c = cfg_base(&w);
    c.kv_blocks = 80;
    int n = 150;
    sim_req_t *r = mkload(n, 250, 60, 0.001, 4, 48);
    sim_out_t *a = calloc((size_t)n, sizeof *a), *b = calloc((size_t)n, sizeof *b);
    sim_stats_t sa, sb;
    char err[TAM_ERRLEN];
    CHECK(sim_run(sm, &c, r, n, a, &sa, err) == 0, "%s", err);
    CHECK(sim_run(sm, &c, r, n, b, &sb, err) == 0, "%s", err);
    CHECK(memcmp(a, b, (size_t)n * sizeof *a) == 0, "two runs differ");
    CHECK(sa.steps == sb.steps && sa.t_end == sb.t_end, "stats differ");
    free(r);
    free(a);
    free(b);
}

static void t_synthetic_workloads(void)
{
    wl_guidellm_t g = {.n = 40, .prefix_tokens = 1024, .prompt_mean = 2048, .prompt_sd = 500,
                       .prompt_min = 100, .prompt_max = 4096, .output_mean = 32,
                       .output_sd = 16, .output_min = 1, .output_max = 64,
                       .kind = ARR_POISSON, .rate = 2.0};
    workload_t w1, w2;
    char err[TAM_ERRLEN];
    CHECK(wl_synth_guidellm(&g, 42, &w1, err) == 0, "%s", err);
    CHECK(wl_synth_guidellm(&g, 42, &w2, err) == 0, "%s", err);
    int same = 1, inrange = 1;
    for (int i = 0; i < 40; i++) {
        same &= w1.req[i].prompt == w2.req[i].prompt && w1.req[i].t_send == w2.req[i].t_send;
        inrange &= w1.req[i].prompt >= 1124 && w1.req[i].prompt <= 5120 &&
                   w1.req[i].output >= 1 && w1.req[i].output <= 64;
        if (i)
            inrange &= w1.req[i].t_send > w1.req[i - 1].t_send;
    }
    CHECK(same, "same seed, same workload");
    CHECK(inrange, "token counts within the profile's clamps; arrivals increase");
    wl_free(&w1);
    wl_free(&w2);
    wl_shared_prefix_t p = {.groups = 9, .users_per_group = 5, .system_len = 100,
                            .question_len = 447, .output_len = 248, .n_stages = 2,
                            .rate = {8, 20}, .duration = {10, 10}};
    CHECK(wl_synth_shared_prefix(&p, 42, &w1, err) == 0, "%s", err);
    CHECK(w1.n == 280, "8 x 10 + 20 x 10 = 280 requests, got %d", w1.n);
    CHECK_NEAR(w1.req[80].t_send, 10.0, 1e-12);
    wl_free(&w1);
}

int main(void)
{
    char err[TAM_ERRLEN];
    model_t m;
    hw_t hw;
    econf_t c;
    hw_h100_sxm(&hw);
    econf_baseline(&c);
    int rc = kset_load("", "engine/tests/fixtures/step-mfu/kset.json", NULL, NULL, &hw, &ks, err) ||
             kset_bind_any(ks, &c) || model_parse(l7, "llama-2-7b", &m, err) ||
             step_model_new(&m, &hw, ks, 1, &c, &sm, err);
    CHECK(rc == 0, "setup: %s", err);
    if (rc)
        TEST_REPORT("t_sim");
    RUN(t_single_request_timeline);
    RUN(t_chunked_prefill);
    RUN(t_invariants_under_load);
    RUN(t_preemption);
    RUN(t_preempted_request_hits_own_blocks);
    RUN(t_rejection);
    RUN(t_closed_loop);
    RUN(t_client_limit);
    RUN(t_trace_client_limit);
    RUN(t_determinism);
    RUN(t_synthetic_workloads);
    step_model_free(sm);
    kset_free(ks);
    TEST_REPORT("t_sim");
}
