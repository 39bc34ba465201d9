/* tests/store_fix.h - what the two store test programs share (t_store.c:
** schema, ingest, configurations, metric views; t_store_runs.c: runs, failed
** commits, stale runs, concurrent processes): the scratch folder, query
** helpers and two small experiments with hand-computed errors.  Included by
** exactly one .c per test program, so its definitions are static.
*/
#ifndef TAM_STORE_FIX_H
#define TAM_STORE_FIX_H

#include "check.h"
#include "store.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>


static char tmpdir[64];
static int db_counter;

/* A fresh database path in the test folder. */
static void new_db(char *path, size_t n)
{
    snprintf(path, n, "%s/t%d.db", tmpdir, ++db_counter);
}

static double q1(store_t *s, const char *sql)
{
    char err[TAM_ERRLEN];
    double v;
    if (store_scalar(s, sql, &v, err) != TAM_OK) {
        printf("# query failed: %s: %s\n", sql, err);
        return -12345.0;
    }
    return v;
}

/* q1 with printf-style SQL. */
static double qf(store_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static double qf(store_t *s, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return q1(s, sql);
}

/* ---- Fixtures ------------------------------------------------------- */

/* Experiment A: two load points, five requests, one errored.
**   idx point out ok  ttft  e2e   -> measured tpot = (e2e-ttft)/(out-1)
**   0   0     11  1   0.10  1.10     0.1
**   1   0     1   1   0.20  0.20     NULL (one token)
**   2   1     5   1   0.40  2.40     0.5
**   3   1     5   0   -     -        NULL (errored)
**   4   1     3   1   1.00  3.00     1.0                                  */
static trace_point_t a_points[2];
static trace_req_t a_req[5];
static trace_t a_trace;
static const exp_meta_t a_meta = {"expA", 1, "llama-2-7b", "MHA", "decode", "llama-2-7b-hf", 1};

/* Experiment B: one GuideLLM-like point (lowest and highest), three ok
** requests of two output tokens:  idx 0: ttft 1, e2e 2 (tpot 1);
** idx 1: ttft 2, e2e 4 (tpot 2); idx 2: ttft 1, e2e 2.                    */
static trace_point_t b_points[1];
static trace_req_t b_req[3];
static trace_t b_trace;
static const exp_meta_t b_meta = {"expB", 13, "codellama-34b", "GQA", "prefill",
                                  "codellama-34b-instruct-hf", 1};

static void set_req(trace_req_t *r, int index, int point, int out, int ok, double ttft,
                    double e2e)
{
    memset(r, 0, sizeof *r);
    r->index = index;
    r->point = point;
    r->t_send = index * 1.0;
    r->in_tokens = 700;
    r->out_tokens = out;
    r->out_client = -1;
    r->prefix_group = -1;
    r->ok = ok;
    r->ttft = ok ? ttft : NAN;
    r->e2e = ok ? e2e : NAN;
}

static void fixtures(void)
{
    memset(a_points, 0, sizeof a_points);
    snprintf(a_points[0].name, sizeof a_points[0].name, "stage0@5rps");
    a_points[0].kind = ARR_REPLAY;
    a_points[0].rate = 5;
    a_points[0].is_lowest = 1;
    a_points[0].t_end = 600;
    snprintf(a_points[1].name, sizeof a_points[1].name, "stage1@10rps");
    a_points[1].kind = ARR_REPLAY;
    a_points[1].rate = 10;
    a_points[1].is_highest = 1;
    a_points[1].t_start = 600;
    a_points[1].t_end = 1200;
    set_req(&a_req[0], 0, 0, 11, 1, 0.10, 1.10);
    set_req(&a_req[1], 1, 0, 1, 1, 0.20, 0.20);
    set_req(&a_req[2], 2, 1, 5, 1, 0.40, 2.40);
    set_req(&a_req[3], 3, 1, 5, 0, 0, 0);
    set_req(&a_req[4], 4, 1, 3, 1, 1.00, 3.00);
    a_req[1].out_client = 0; /* the client miscounted: kept for audit */
    memset(&a_trace, 0, sizeof a_trace);
    snprintf(a_trace.path, sizeof a_trace.path, "corpus/expA");
    snprintf(a_trace.id, sizeof a_trace.id, "expA");
    snprintf(a_trace.format, sizeof a_trace.format, "inference-perf");
    snprintf(a_trace.model_id, sizeof a_trace.model_id, "meta-llama/Llama-2-7b-hf");
    a_trace.tp = 1;
    a_trace.max_num_batched_tokens = 2048;
    a_trace.max_num_seqs = 128;
    a_trace.max_model_len = 4096;
    a_trace.kv_blocks = 7462;
    a_trace.block_size = 16;
    a_trace.n_prefix_groups = 11;
    a_trace.prefix_len = 100;
    a_trace.users_per_group = 4;
    a_trace.n_units = 1;
    a_trace.n_points = 2;
    a_trace.points = a_points;
    a_trace.n_req = 5;
    a_trace.req = a_req;

    memset(b_points, 0, sizeof b_points);
    snprintf(b_points[0].name, sizeof b_points[0].name, "synchronous");
    b_points[0].kind = ARR_SYNCHRONOUS;
    b_points[0].max_concurrency = 1;
    b_points[0].is_lowest = 1;
    b_points[0].is_highest = 1;
    set_req(&b_req[0], 0, 0, 2, 1, 1.0, 2.0);
    set_req(&b_req[1], 1, 0, 2, 1, 2.0, 4.0);
    set_req(&b_req[2], 2, 0, 2, 1, 1.0, 2.0);
    memset(&b_trace, 0, sizeof b_trace);
    snprintf(b_trace.path, sizeof b_trace.path, "corpus/expB");
    snprintf(b_trace.id, sizeof b_trace.id, "expB");
    snprintf(b_trace.format, sizeof b_trace.format, "guidellm");
    b_trace.tp = 1;
    b_trace.max_num_batched_tokens = 64;
    b_trace.max_num_seqs = 32;
    b_trace.max_model_len = 8192;
    b_trace.kv_blocks = 2790;
    b_trace.block_size = 16;
    b_trace.n_units = 1;
    b_trace.n_points = 1;
    b_trace.points = b_points;
    b_trace.n_req = 3;
    b_trace.req = b_req;
}

static pred_t mkpred(int idx, int point, double arrival, double ttft, double tpot, double e2e)
{
    pred_t p;
    memset(&p, 0, sizeof p);
    p.req_index = idx;
    p.point = point;
    p.arrival = arrival;
    p.scheduled = isnan(ttft) ? NAN : arrival + 0.001;
    p.first_token = arrival + ttft;
    p.last_token = arrival + e2e;
    p.ttft = ttft;
    p.tpot = tpot;
    p.e2e = e2e;
    p.prefix_hit_tokens = 96;
    p.rejected = isnan(ttft);
    return p;
}

/* Predictions for A (given in reverse order; the store sorts them):
**   idx ttft  tpot   e2e    APE ttft      APE tpot      APE e2e
**   0   0.11  0.088  0.99   0.1  (+)      0.12 (-)      0.1   (-)
**   1   0.15  NaN    0.15   0.25 (-)      -             0.25  (-)
**   2   0.60  0.60   3.00   0.5  (+)      0.2  (+)      0.25  (+)
**   3   0.50  0.375  2.00   (measured errored: not scored)
**   4   0.50  10.0   20.50  0.5  (-)      9.0  (+)      17.5/3 = 5.8333 (+) */
static void preds_a(pred_t p[5])
{
    p[4] = mkpred(0, 0, 0.0, 0.11, 0.088, 0.99);
    p[3] = mkpred(1, 0, 1.0, 0.15, NAN, 0.15);
    p[2] = mkpred(2, 1, 2.0, 0.60, 0.60, 3.00);
    p[1] = mkpred(3, 1, 3.0, 0.50, 0.375, 2.00);
    p[0] = mkpred(4, 1, 4.0, 0.50, 10.0, 20.50);
}

/* Predictions for B: idx 0, 1 all 10% high; idx 2 rejected (times NaN). */
static void preds_b(pred_t p[3])
{
    p[0] = mkpred(0, 0, 0.0, 1.1, 1.1, 2.2);
    p[1] = mkpred(1, 0, 2.2, 2.2, 2.2, 4.4);
    p[2] = mkpred(2, 0, 6.6, NAN, NAN, NAN);
}

static const run_stats_t stats __attribute__((unused)) = {1234, 20.5, 0.01, 2, 1, 1.5, 0.9};

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
}

/* The database of test_metrics: A and B ingested, config "base" (seed 42)
** committed for both. */
static store_t *metrics_db(long long *cfg, long long *ra, long long *rb)
{
    char err[TAM_ERRLEN], path[128];
    store_t *s;
    pred_t pa[5], pb[3];
    new_db(path, sizeof path);
    if (store_open(path, &s, err) != TAM_OK) {
        CHECK(0, "%s", err);
        return NULL;
    }
    CHECK(store_ingest(s, &a_meta, &a_trace, err) == TAM_OK, "%s", err);
    CHECK(store_ingest(s, &b_meta, &b_trace, err) == TAM_OK, "%s", err);
    CHECK(store_config(s, "base", "{\"eta\":1}", "hb", "abc123", cfg, err) == TAM_OK, "%s", err);
    CHECK(store_run_begin(s, *cfg, "expA", 42, "H1", "baseline", ra, err) == TAM_OK, "%s", err);
    CHECK(store_run_begin(s, *cfg, "expB", 42, "H1", "baseline", rb, err) == TAM_OK, "%s", err);
    preds_a(pa);
    preds_b(pb);
    CHECK(store_run_commit(s, *ra, pa, 5, &stats, NULL, err) == TAM_OK, "%s", err);
    CHECK(store_run_commit(s, *rb, pb, 3, NULL, NULL, err) == TAM_OK, "%s", err);
    return s;
}

/* The scratch folder, then the fixtures. */
static void store_fix_setup(const char *name)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/%s.XXXXXX", name);
    if (!mkdtemp(tmpdir)) {
        printf("not ok - mkdtemp: %s\n", strerror(errno));
        exit(1);
    }
    fixtures();
}

#endif
