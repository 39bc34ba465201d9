/* tests/t_store.c - the SQLite results store (db/store.c) and its views.
**
** Every test works in its own database under a mkdtemp folder in /tmp.
** Two small experiments with hand-computed errors (comments give the
** arithmetic) check the metric views of db/views.sql: per request
** (pred_ape), per load point, per experiment, corpus (unweighted mean over
** experiments), splits, percentiles and criteria.  Durability: idempotent
** ingest, a run that is never committed becomes 'failed' once its process
** is gone, a failed commit leaves no rows, processes open and write at
** once.
** Also: db/schema_sql.h is in sync with db/schema.sql and db/views.sql.
** Run from the repository root.
*/
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

static const run_stats_t stats = {1234, 20.5, 0.01, 2, 1, 1.5, 0.9};

/* ---- Tests ---------------------------------------------------------- */

static void test_schema_in_sync(void)
{
    char err[TAM_ERRLEN], *text = NULL;
    if (tam_read_file("db/schema.sql", &text, NULL, err) == TAM_OK) {
        CHECK(strcmp(text, store_schema_sql()) == 0,
              "db/schema_sql.h is stale: run sh db/gen-schema-h.sh");
        free(text);
    } else {
        CHECK(0, "%s", err);
    }
    if (tam_read_file("db/views.sql", &text, NULL, err) == TAM_OK) {
        CHECK(strcmp(text, store_views_sql()) == 0,
              "db/schema_sql.h is stale: run sh db/gen-schema-h.sh");
        free(text);
    } else {
        CHECK(0, "%s", err);
    }
}

static void test_bad_path(void)
{
    char err[TAM_ERRLEN] = "", path[128];
    store_t *s = (store_t *)&s;
    int rc = store_open("/nonexistent-tam-dir/sub/x.db", &s, err);
    CHECK(rc == TAM_EDB, "rc %d", rc);
    CHECK(s == NULL, "no store on failure");
    CHECK(strstr(err, "/nonexistent-tam-dir/sub/x.db") && strstr(err, "cannot open"),
          "err: %s", err);
    CHECK(store_open("", &s, err) == TAM_EDB, "empty path");

    /* A file that is not a database. */
    snprintf(path, sizeof path, "%s/garbage.db", tmpdir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "create %s", path);
    if (f) {
        for (int i = 0; i < 200; i++)
            fputs("this is not an SQLite database\n", f);
        fclose(f);
    }
    rc = store_open(path, &s, err);
    CHECK(rc == TAM_EDB, "rc %d", rc);
    CHECK(strstr(err, path) && strstr(err, "not a database"), "err: %s", err);
}

static void test_open_twice(void)
{
    char err[TAM_ERRLEN], path[128];
    store_t *s;
    new_db(path, sizeof path);
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    double objects = q1(s, "SELECT count(*) FROM sqlite_schema");
    CHECK(q1(s, "PRAGMA user_version") == 1, "schema version");
    CHECK(q1(s, "SELECT count(*) FROM meta WHERE key = 'sql_hash'") == 1, "sql_hash recorded");
    CHECK(q1(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name IN "
                "('pred_ape', 'exp_point_metrics', 'exp_metrics', 'exp_metrics_lowest', "
                "'exp_metrics_highest', 'corpus_metrics', 'corpus_metrics_lowest', "
                "'pctl_metrics', 'split_metrics', 'criteria_summary', 'run_info')") == 11,
          "public views exist");
    CHECK(strcmp(store_path(s), path) == 0, "store_path");
    CHECK(store_handle(s) != NULL, "handle");
    store_close(s);
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    CHECK(q1(s, "SELECT count(*) FROM sqlite_schema") == objects, "reopen changes nothing");
    double mode = 0;
    CHECK(store_scalar(s, "PRAGMA journal_mode", &mode, err) == TAM_OK, "%s", err);
    CHECK(q1(s, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") == 1,
          "WAL mode");
    CHECK(q1(s, "PRAGMA foreign_keys") == 1, "foreign keys on");
    /* store_scalar: NULL and no row give NaN; bad SQL an error. */
    CHECK(isnan(q1(s, "SELECT NULL")), "NULL -> NaN");
    CHECK(isnan(q1(s, "SELECT 1 WHERE 0")), "no row -> NaN");
    double v;
    CHECK(store_scalar(s, "SELECT nonsense FROM nowhere", &v, err) == TAM_EDB, "bad SQL");
    CHECK(strstr(err, "nowhere") != NULL, "err: %s", err);
    CHECK(store_exec(s, "CREATE TABLE x(", err) == TAM_EDB, "exec error");
    store_close(s);
    store_close(NULL);
}

static void test_ingest(void)
{
    char err[TAM_ERRLEN], path[128];
    store_t *s;
    int has = -1;
    new_db(path, sizeof path);
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    CHECK(store_has_experiment(s, "expA", &has, err) == TAM_OK && has == 0, "not yet");
    CHECK(store_ingest(s, &a_meta, &a_trace, err) == TAM_OK, "%s", err);
    CHECK(store_ingest(s, &b_meta, &b_trace, err) == TAM_OK, "%s", err);
    CHECK(store_has_experiment(s, "expA", &has, err) == TAM_OK && has == 1, "ingested");
    const char *count_sql = "SELECT (SELECT count(*) FROM experiments) * 10000 + "
                            "(SELECT count(*) FROM load_points) * 100 + "
                            "(SELECT count(*) FROM measured)";
    double before = q1(s, count_sql);
    CHECK(before == 2 * 10000 + 3 * 100 + 8, "rows %g", before);
    /* Idempotent. */
    CHECK(store_ingest(s, &a_meta, &a_trace, err) == TAM_OK, "%s", err);
    CHECK(store_ingest(s, &b_meta, &b_trace, err) == TAM_OK, "%s", err);
    CHECK(q1(s, count_sql) == before, "re-ingest changes nothing");

    /* Stored values: tpot is derived by SQL; errored requests carry no latency. */
    CHECK_NEAR(q1(s, "SELECT tpot FROM measured WHERE experiment_id='expA' AND req_index=0"), 0.1,
               1e-12);
    CHECK(isnan(q1(s, "SELECT tpot FROM measured WHERE experiment_id='expA' AND req_index=1")),
          "one-token output has no tpot");
    CHECK(isnan(q1(s, "SELECT ttft FROM measured WHERE experiment_id='expA' AND req_index=3")),
          "errored request has no ttft");
    CHECK(isnan(q1(s, "SELECT tpot FROM measured WHERE experiment_id='expA' AND req_index=3")),
          "errored request has no tpot");
    CHECK_NEAR(q1(s, "SELECT tpot FROM measured WHERE experiment_id='expA' AND req_index=4"), 1.0,
               1e-12);
    CHECK(q1(s, "SELECT out_client FROM measured WHERE experiment_id='expA' AND req_index=1") == 0,
          "client count kept");
    CHECK(isnan(q1(s, "SELECT out_client FROM measured WHERE experiment_id='expA' AND "
                      "req_index=0")),
          "-1 -> NULL");
    CHECK(q1(s, "SELECT n_ok FROM experiments WHERE id='expA'") == 4, "n_ok");
    CHECK(q1(s, "SELECT count(*) FROM load_points WHERE experiment_id='expB' AND "
                "kind='synchronous' AND max_concurrency=1 AND rate IS NULL AND is_lowest AND "
                "is_highest") == 1,
          "load point B");
    CHECK(q1(s, "SELECT count(*) FROM experiments WHERE id='expA' AND number=1 AND "
                "family='llama-2-7b' AND attention='MHA' AND heavy='decode' AND kv_blocks=7462 "
                "AND model_id='meta-llama/Llama-2-7b-hf' AND format='inference-perf'") == 1,
          "experiment A row");

    /* Other content under the same id is refused and changes nothing. */
    trace_t other = a_trace;
    trace_req_t req2[5];
    memcpy(req2, a_req, sizeof req2);
    req2[4].ttft = 1.01;
    other.req = req2;
    CHECK(store_ingest(s, &a_meta, &other, err) == TAM_ECHECK, "changed content");
    CHECK(strstr(err, "expA") && strstr(err, "other content"), "err: %s", err);
    other.n_req = 4;
    CHECK(store_ingest(s, &a_meta, &other, err) == TAM_ECHECK, "changed count");
    CHECK(strstr(err, "4"), "err: %s", err);
    exp_meta_t meta2 = a_meta;
    meta2.family = "llama-2-70b";
    CHECK(store_ingest(s, &meta2, &a_trace, err) == TAM_ECHECK, "changed manifest");
    CHECK(strstr(err, "family"), "err: %s", err);
    CHECK(q1(s, count_sql) == before, "refusals change nothing");

    /* Bad input. */
    trace_t bad = b_trace;
    trace_req_t breq[3];
    memcpy(breq, b_req, sizeof breq);
    breq[1].point = 5;
    bad.req = breq;
    exp_meta_t meta3 = b_meta;
    meta3.id = "expBad";
    CHECK(store_ingest(s, &meta3, &bad, err) == TAM_EFIELD, "point out of range");
    breq[1].point = 0;
    breq[2].index = breq[1].index; /* duplicate request index */
    CHECK(store_ingest(s, &meta3, &bad, err) == TAM_EDB, "duplicate index");
    CHECK(store_has_experiment(s, "expBad", &has, err) == TAM_OK && has == 0,
          "failed ingest leaves nothing");
    CHECK(q1(s, count_sql) == before, "failed ingest rolled back");
    store_close(s);
}

static void test_config(void)
{
    char err[TAM_ERRLEN], path[128];
    store_t *s;
    long long id1 = 0, id2 = 0, id3 = 0;
    new_db(path, sizeof path);
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    CHECK(store_config(s, "baseline", "{\"a\":1}", "h1", "rev1", &id1, err) == TAM_OK, "%s", err);
    CHECK(store_config(s, "baseline again", "{\"a\":1}", "h1", "rev2", &id2, err) == TAM_OK, "%s",
          err);
    CHECK(id1 > 0 && id1 == id2, "same hash -> same id (%lld %lld)", id1, id2);
    CHECK(store_config(s, "other", "{\"a\":2}", "h2", NULL, &id3, err) == TAM_OK, "%s", err);
    CHECK(id3 > 0 && id3 != id1, "new config");
    CHECK(store_config(s, "clash", "{\"a\":3}", "h1", "rev1", &id2, err) == TAM_ECHECK,
          "hash with other JSON");
    CHECK(id2 == 0 && strstr(err, "h1"), "err: %s", err);
    CHECK(q1(s, "SELECT count(*) FROM configs") == 2, "two configs");
    CHECK(q1(s, "SELECT count(*) FROM configs WHERE hash='h1' AND git_rev='rev1' AND "
                "canonical_json='{\"a\":1}'") == 1,
          "first revision kept");
    store_close(s);
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

static void test_metrics(void)
{
    long long cfg = 0, ra = 0, rb = 0, found = -1;
    char err[TAM_ERRLEN];
    store_t *s = metrics_db(&cfg, &ra, &rb);
    if (!s)
        return;

    /* Runs and provenance. */
    CHECK(qf(s, "SELECT count(*) FROM runs WHERE status='ok'") == 2, "two ok runs");
    CHECK(qf(s, "SELECT n_predictions FROM runs WHERE id=%lld", ra) == 5, "n_predictions");
    CHECK(qf(s, "SELECT steps FROM runs WHERE id=%lld", ra) == 1234, "stats stored");
    CHECK(isnan(qf(s, "SELECT steps FROM runs WHERE id=%lld", rb)), "no stats -> NULL");
    CHECK(qf(s, "SELECT count(*) FROM run_info WHERE run_id=%lld AND config_hash='hb' AND "
                "run_git_rev='abc123' AND config_git_rev='abc123' AND experiment_number=1 AND "
                "seed=42 AND finished IS NOT NULL",
             ra) == 1,
          "run_info provenance");
    CHECK(store_run_find_ok(s, cfg, "expA", 42, &found, err) == TAM_OK && found == ra,
          "find_ok %lld", found);
    CHECK(store_run_find_ok(s, cfg, "expA", 43, &found, err) == TAM_OK && found == 0,
          "find_ok other seed");

    /* Stored predictions: NaN -> NULL; first/last token derived. */
    CHECK(qf(s, "SELECT count(*) FROM predictions WHERE run_id=%lld", ra) == 5, "5 rows");
    CHECK(isnan(qf(s, "SELECT tpot FROM predictions WHERE run_id=%lld AND req_index=1", ra)),
          "NaN tpot stored as NULL");
    CHECK(isnan(qf(s, "SELECT first_token FROM predictions WHERE run_id=%lld AND req_index=2",
                   rb)),
          "rejected: no first token");
    CHECK(qf(s, "SELECT rejected FROM predictions WHERE run_id=%lld AND req_index=2", rb) == 1,
          "rejected flag");
    CHECK_NEAR(qf(s, "SELECT last_token FROM predictions WHERE run_id=%lld AND req_index=4", ra),
               24.5, 1e-12);

    /* pred_ape: the errored request (A idx 3) is not scored. */
    CHECK(qf(s, "SELECT count(*) FROM pred_ape WHERE run_id=%lld", ra) == 4, "4 scored");
    CHECK_NEAR(qf(s, "SELECT ape_ttft FROM pred_ape WHERE run_id=%lld AND req_index=0", ra), 0.1,
               1e-9);
    CHECK_NEAR(qf(s, "SELECT signed_e2e FROM pred_ape WHERE run_id=%lld AND req_index=0", ra),
               -0.1, 1e-9);
    CHECK_NEAR(qf(s, "SELECT ape_tpot FROM pred_ape WHERE run_id=%lld AND req_index=0", ra), 0.12,
               1e-9);
    CHECK(isnan(qf(s, "SELECT ape_tpot FROM pred_ape WHERE run_id=%lld AND req_index=1", ra)),
          "one-token: no tpot APE");
    CHECK(isnan(qf(s, "SELECT meas_tpot FROM pred_ape WHERE run_id=%lld AND req_index=1", ra)),
          "one-token: no tpot pair");
    CHECK_NEAR(qf(s, "SELECT ape_e2e FROM pred_ape WHERE run_id=%lld AND req_index=4", ra),
               17.5 / 3, 1e-9);
    CHECK_NEAR(qf(s, "SELECT signed_ttft FROM pred_ape WHERE run_id=%lld AND req_index=4", ra),
               -0.5, 1e-9);
    CHECK(qf(s, "SELECT count(*) FROM pred_ape WHERE run_id=%lld AND config_id=%lld AND "
                "hypothesis='H1' AND label='baseline' AND seed=42 AND experiment_id='expA'",
             ra, cfg) == 4,
          "pred_ape identity columns");

    /* exp_point_metrics, A point 0 (idx 0, 1): MAPE ttft (0.1+0.25)/2 = 0.175;
    ** tpot only idx 0: 0.12; means ttft 0.15 measured, 0.13 predicted ->
    ** APE of means 0.02/0.15; bias (0.1-0.25)/2 = -0.075; MAE (10+50)/2 ms. */
    const char *pt = "SELECT %s FROM exp_point_metrics WHERE run_id=%lld AND point=%d";
    CHECK(qf(s, pt, "n", ra, 0) == 2, "n");
    CHECK_NEAR(qf(s, pt, "mape_ttft", ra, 0), 0.175, 1e-9);
    CHECK_NEAR(qf(s, pt, "mape_tpot", ra, 0), 0.12, 1e-9);
    CHECK(qf(s, pt, "n_tpot", ra, 0) == 1, "n_tpot");
    CHECK_NEAR(qf(s, pt, "mape_e2e", ra, 0), 0.175, 1e-9);
    CHECK_NEAR(qf(s, pt, "mean_meas_ttft", ra, 0), 0.15, 1e-9);
    CHECK_NEAR(qf(s, pt, "mean_pred_ttft", ra, 0), 0.13, 1e-9);
    CHECK_NEAR(qf(s, pt, "ape_of_mean_ttft", ra, 0), 0.02 / 0.15, 1e-9);
    CHECK_NEAR(qf(s, pt, "bias_ttft", ra, 0), -0.075, 1e-9);
    CHECK_NEAR(qf(s, pt, "mae_ttft_ms", ra, 0), 30.0, 1e-9);
    CHECK(qf(s, pt, "runaway", ra, 0) == 0, "point 0 not runaway");
    CHECK(qf(s, pt, "is_lowest", ra, 0) == 1, "point 0 lowest");
    /* Point 1 (idx 2, 4): MAPE e2e (0.25 + 5.8333)/2; tpot (0.2 + 9)/2 = 4.6;
    ** mean predicted E2E (3 + 20.5)/2 = 11.75 > 3 x (2.4 + 3)/2 = 8.1: runaway. */
    CHECK_NEAR(qf(s, pt, "mape_ttft", ra, 1), 0.5, 1e-9);
    CHECK_NEAR(qf(s, pt, "mape_e2e", ra, 1), (0.25 + 17.5 / 3) / 2, 1e-9);
    CHECK_NEAR(qf(s, pt, "mape_tpot", ra, 1), 4.6, 1e-9);
    CHECK(qf(s, pt, "runaway", ra, 1) == 1, "point 1 runaway");
    CHECK(qf(s, "SELECT count(*) FROM exp_point_metrics WHERE run_id=%lld", ra) == 2, "2 points");

    /* exp_metrics, A over both points, requests pooled:
    ** MAPE ttft (0.1+0.25+0.5+0.5)/4 = 0.3375 (not the mean of point MAPEs,
    ** which is the same here by chance: use e2e) e2e (0.1+0.25+0.25+5.8333)/4,
    ** tpot (0.12+0.2+9)/3; means ttft 0.425 measured, 0.34 predicted -> 0.2. */
    const char *ex = "SELECT %s FROM %s WHERE run_id=%lld";
    CHECK_NEAR(qf(s, ex, "mape_ttft", "exp_metrics", ra), 0.3375, 1e-9);
    CHECK_NEAR(qf(s, ex, "mape_e2e", "exp_metrics", ra), (0.6 + 17.5 / 3) / 4, 1e-9);
    CHECK_NEAR(qf(s, ex, "mape_tpot", "exp_metrics", ra), 9.32 / 3, 1e-9);
    CHECK_NEAR(qf(s, ex, "ape_of_mean_ttft", "exp_metrics", ra), 0.2, 1e-9);
    CHECK_NEAR(qf(s, ex, "bias_ttft", "exp_metrics", ra), (0.1 - 0.25 + 0.5 - 0.5) / 4, 1e-9);
    CHECK(qf(s, ex, "n_points", "exp_metrics", ra) == 2, "n_points");
    CHECK(qf(s, ex, "n_runaway", "exp_metrics", ra) == 1, "n_runaway");
    CHECK(qf(s, ex, "n", "exp_metrics", ra) == 4, "n");
    CHECK_NEAR(qf(s, ex, "mape_ttft", "exp_metrics_lowest", ra), 0.175, 1e-9);
    CHECK_NEAR(qf(s, ex, "mape_ttft", "exp_metrics_highest", ra), 0.5, 1e-9);
    CHECK(qf(s, ex, "n_runaway", "exp_metrics_lowest", ra) == 0, "lowest not runaway");
    /* B: idx 2 was rejected: counted in n and n_rejected, not scored. */
    CHECK_NEAR(qf(s, ex, "mape_ttft", "exp_metrics", rb), 0.1, 1e-9);
    CHECK_NEAR(qf(s, ex, "mape_tpot", "exp_metrics", rb), 0.1, 1e-9);
    CHECK(qf(s, ex, "n", "exp_metrics", rb) == 3, "B n");
    CHECK(qf(s, ex, "n_rejected", "exp_metrics", rb) == 1, "B rejected");
    CHECK(qf(s, ex, "n_ttft", "exp_metrics", rb) == 2, "B pairs");

    /* Corpus: unweighted mean over experiments, (0.3375 + 0.1)/2 = 0.21875
    ** (request-weighted would be (1.35 + 0.2)/6 = 0.2583). */
    const char *co = "SELECT %s FROM %s WHERE config_id=%lld AND hypothesis='H1' AND "
                     "label='baseline' AND seed=42";
    CHECK_NEAR(qf(s, co, "mape_ttft", "corpus_metrics", cfg), 0.21875, 1e-9);
    CHECK(qf(s, co, "n_experiments", "corpus_metrics", cfg) == 2, "2 experiments");
    CHECK(qf(s, co, "n_runaway", "corpus_metrics", cfg) == 1, "1 runaway point");
    CHECK_NEAR(qf(s, co, "mape_e2e", "corpus_metrics", cfg), ((0.6 + 17.5 / 3) / 4 + 0.1) / 2,
               1e-9);
    /* Lowest points: A 0.175, B 0.1. */
    CHECK_NEAR(qf(s, co, "mape_ttft", "corpus_metrics_lowest", cfg), (0.175 + 0.1) / 2, 1e-9);
    CHECK_NEAR(qf(s, co, "mape_ttft", "corpus_metrics_highest", cfg), (0.5 + 0.1) / 2, 1e-9);
    CHECK(qf(s, "SELECT count(*) FROM corpus_metrics") == 1, "one arm");
    /* An arm whose runs are all reused lists the same numbers. */
    CHECK(store_arm(s, "H2", "baseline", cfg, err) == TAM_OK, "%s", err);
    CHECK(store_arm(s, "H2", "baseline", cfg, err) == TAM_OK, "idempotent: %s", err);
    CHECK_NEAR(qf(s, "SELECT mape_ttft FROM corpus_metrics WHERE hypothesis='H2'"), 0.21875, 1e-9);

    /* Splits: A train, B held. */
    const char *ids[] = {"expA", "expB"};
    int held[] = {0, 1};
    CHECK(store_split(s, 7, 2, ids, held, err) == TAM_OK, "%s", err);
    CHECK(store_split(s, 7, 2, ids, held, err) == TAM_OK, "replace: %s", err);
    CHECK(q1(s, "SELECT count(*) FROM splits") == 2, "split rows");
    CHECK_NEAR(qf(s, "SELECT mape_ttft FROM split_metrics WHERE config_id=%lld AND seed=42 AND "
                     "split_seed=7 AND role='held'",
                  cfg),
               0.1, 1e-9);
    CHECK_NEAR(qf(s, "SELECT mape_ttft FROM split_metrics WHERE config_id=%lld AND seed=42 AND "
                     "split_seed=7 AND role='train'",
                  cfg),
               0.3375, 1e-9);

    /* Percentiles (numpy linear).  A, all points, TTFT:
    ** APE sorted {0.1, 0.25, 0.5, 0.5}: P50 h=1.5 -> 0.375; P90 h=2.7 -> 0.5.
    ** measured {0.1, 0.2, 0.4, 1.0}: P90 0.4 + 0.7*0.6 = 0.82, P99 0.4 + 0.97*0.6;
    ** predicted {0.11, 0.15, 0.5, 0.6}: P90 0.57 -> APE of P90 0.25/0.82. */
    const char *pc = "SELECT %s FROM pctl_metrics WHERE run_id=%lld AND metric='%s'";
    CHECK(qf(s, pc, "n", ra, "ttft") == 4, "n");
    CHECK_NEAR(qf(s, pc, "ape_p50", ra, "ttft"), 0.375, 1e-9);
    CHECK_NEAR(qf(s, pc, "ape_p90", ra, "ttft"), 0.5, 1e-9);
    CHECK_NEAR(qf(s, pc, "meas_p90", ra, "ttft"), 0.82, 1e-9);
    CHECK_NEAR(qf(s, pc, "meas_p99", ra, "ttft"), 0.982, 1e-9);
    CHECK_NEAR(qf(s, pc, "pred_p90", ra, "ttft"), 0.57, 1e-9);
    CHECK_NEAR(qf(s, pc, "ape_of_p90", ra, "ttft"), 0.25 / 0.82, 1e-9);
    /* A, point 1, E2E: APE {0.25, 5.8333}: median 3.0417. */
    CHECK_NEAR(qf(s, "SELECT ape_p50 FROM pctl_point_metrics WHERE run_id=%lld AND point=1 AND "
                     "metric='e2e'",
                  ra),
               (0.25 + 17.5 / 3) / 2, 1e-9);
    /* A, lowest, TPOT: one pair (APE 0.12). */
    CHECK_NEAR(qf(s, "SELECT ape_p90 FROM pctl_metrics_lowest WHERE run_id=%lld AND "
                     "metric='tpot'",
                  ra),
               0.12, 1e-9);
    CHECK(qf(s, "SELECT count(*) FROM pctl_metrics_highest WHERE run_id=%lld", rb) == 3,
          "B highest: 3 metrics");

    /* The caches equal the *_live views computed from the raw rows. */
    static const char *const pairs[][3] = {
        {"point_sums_live", "cache_point_sums", "run_id, point"},
        {"point_pctl_live", "cache_point_pctl", "run_id, point, metric"},
        {"sel_pctl_live", "cache_sel_pctl", "run_id, selection, metric"},
    };
    for (int i = 0; i < 3; i++) {
        /* Same keys ... */
        double only = qf(s,
                         "SELECT (SELECT count(*) FROM (SELECT %s FROM %s EXCEPT SELECT %s "
                         "FROM %s)) + (SELECT count(*) FROM (SELECT %s FROM %s EXCEPT "
                         "SELECT %s FROM %s))",
                         pairs[i][2], pairs[i][0], pairs[i][2], pairs[i][1], pairs[i][2],
                         pairs[i][1], pairs[i][2], pairs[i][0]);
        CHECK(only == 0, "%s vs %s: %g keys differ", pairs[i][0], pairs[i][1], only);
        CHECK(qf(s, "SELECT count(*) FROM %s", pairs[i][1]) > 0, "%s filled", pairs[i][1]);
    }
    /* ... and the same values (to rounding). */
    CHECK(q1(s, "SELECT count(*) FROM point_sums_live l JOIN cache_point_sums c USING (run_id, "
                "point) WHERE l.n != c.n OR l.n_rejected != c.n_rejected OR l.n_ttft != c.n_ttft "
                "OR l.n_tpot != c.n_tpot OR l.n_e2e != c.n_e2e "
                "OR abs(l.s_ape_ttft - c.s_ape_ttft) > 1e-12 OR abs(l.s_signed_ttft - "
                "c.s_signed_ttft) > 1e-12 OR abs(l.s_abs_ttft - c.s_abs_ttft) > 1e-12 "
                "OR abs(l.s_meas_ttft - c.s_meas_ttft) > 1e-12 OR abs(l.s_pred_ttft - "
                "c.s_pred_ttft) > 1e-12 OR abs(l.s_ape_e2e - c.s_ape_e2e) > 1e-12 "
                "OR abs(l.s_signed_e2e - c.s_signed_e2e) > 1e-12 OR abs(l.s_pred_e2e - "
                "c.s_pred_e2e) > 1e-12 OR (l.s_ape_tpot IS NULL) != (c.s_ape_tpot IS NULL) "
                "OR abs(l.s_ape_tpot - c.s_ape_tpot) > 1e-12 OR abs(l.s_abs_tpot - "
                "c.s_abs_tpot) > 1e-12") == 0,
          "point sums: cache = live");
    for (int i = 1; i < 3; i++)
        CHECK(qf(s,
                 "SELECT count(*) FROM %s l JOIN %s c USING (%s) WHERE l.n != c.n "
                 "OR abs(l.ape_p50 - c.ape_p50) > 1e-12 OR abs(l.ape_p90 - c.ape_p90) > 1e-12 "
                 "OR abs(l.meas_p90 - c.meas_p90) > 1e-12 OR abs(l.pred_p90 - c.pred_p90) > 1e-12 "
                 "OR abs(l.meas_p99 - c.meas_p99) > 1e-12 OR abs(l.pred_p99 - c.pred_p99) > 1e-12",
                 pairs[i][0], pairs[i][1], pairs[i][2]) == 0,
              "%s: cache = live", pairs[i][1]);

    /* Criteria: a split-dependent one over 5 split seeds (values 3.5 2 4 5 3.1,
    ** >= 3: 4 of 5 pass, median 3.5 passes, not robust) and a plain one. */
    CHECK(store_exec(s,
                     "INSERT INTO criteria(hypothesis, criterion, split_seed, value, threshold, "
                     "op, pass) VALUES "
                     "('H2','tpot_gain_pp',1,3.5,3,'>=',1),('H2','tpot_gain_pp',2,2.0,3,'>=',0),"
                     "('H2','tpot_gain_pp',3,4.0,3,'>=',1),('H2','tpot_gain_pp',4,5.0,3,'>=',1),"
                     "('H2','tpot_gain_pp',5,3.1,3,'>=',1),"
                     "('H1','tpot_mape',NULL,0.1,0.2,'<',1)",
                     err) == TAM_OK,
          "%s", err);
    const char *cr = "SELECT %s FROM criteria_summary WHERE hypothesis='%s'";
    CHECK_NEAR(qf(s, cr, "value_median", "H2"), 3.5, 1e-12);
    CHECK_NEAR(qf(s, cr, "share_pass", "H2"), 0.8, 1e-12);
    CHECK(qf(s, cr, "pass_median", "H2") == 1, "median passes");
    CHECK(qf(s, cr, "robust", "H2") == 0, "not robust");
    CHECK(qf(s, cr, "n_split_seeds", "H2") == 5, "5 seeds");
    CHECK_NEAR(qf(s, cr, "value_median", "H1"), 0.1, 1e-12);
    CHECK(qf(s, cr, "n_split_seeds", "H1") == 0 && qf(s, cr, "robust", "H1") == 1, "plain");
    CHECK(store_exec(s,
                     "INSERT INTO criteria(hypothesis, criterion, split_seed, value, threshold, "
                     "op, pass) VALUES ('H1','tpot_mape',NULL,0.1,0.2,'<',1)",
                     err) == TAM_EDB,
          "one row per criterion and split seed");

    /* Sweeps. */
    double x[3] = {128, 256, 512}, v[3] = {1e-3, 2e-3, NAN};
    CHECK(store_sweep(s, "H4A", "decode", 3, x, NULL, v, cfg, err) == TAM_OK, "%s", err);
    CHECK(store_sweep(s, "H4A", "decode", 3, x, NULL, v, cfg, err) == TAM_OK, "replace: %s", err);
    CHECK(q1(s, "SELECT count(*) FROM sweeps WHERE study='H4A' AND y=0") == 3, "3 points");
    CHECK(q1(s, "SELECT count(*) FROM sweeps WHERE value IS NULL") == 1, "NaN -> NULL");

    /* Immutability and deletion. */
    CHECK(qf(s, "SELECT count(*) FROM predictions WHERE run_id=%lld", ra) == 5, "rows");
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE predictions SET ttft = 1 WHERE run_id = %lld", ra);
    CHECK(store_exec(s, sql, err) == TAM_EDB && strstr(err, "immutable"), "no update: %s", err);
    snprintf(sql, sizeof sql, "DELETE FROM predictions WHERE run_id = %lld AND req_index = 0", ra);
    CHECK(store_exec(s, sql, err) == TAM_EDB, "no partial delete");
    snprintf(sql, sizeof sql, "DELETE FROM runs WHERE id = %lld", rb);
    CHECK(store_exec(s, sql, err) == TAM_OK, "%s", err);
    CHECK(qf(s, "SELECT count(*) FROM predictions WHERE run_id=%lld", rb) == 0, "cascade");
    CHECK(qf(s, "SELECT (SELECT count(*) FROM cache_point_sums WHERE run_id=%lld) + (SELECT "
                "count(*) FROM cache_sel_pctl WHERE run_id=%lld)",
             rb, rb) == 0,
          "cache cascade");
    CHECK(qf(s, co, "n_experiments", "corpus_metrics", cfg) == 1, "B gone from the corpus");
    store_close(s);
}

/* A build with other view definitions opens the database: the caches are
** recomputed from the stored predictions, to the same values. */
static void test_rebuild(void)
{
    long long cfg = 0, ra = 0, rb = 0;
    char err[TAM_ERRLEN], path[256];
    store_t *s = metrics_db(&cfg, &ra, &rb);
    if (!s)
        return;
    snprintf(path, sizeof path, "%s", store_path(s));
    double sums = q1(s, "SELECT sum(s_ape_ttft) + sum(s_pred_e2e) + sum(n) FROM cache_point_sums");
    double pct = q1(s, "SELECT sum(ape_p50) + sum(meas_p99) + sum(n) FROM cache_sel_pctl");
    double rows = q1(s, "SELECT (SELECT count(*) FROM cache_point_sums) * 10000 + (SELECT "
                        "count(*) FROM cache_point_pctl) * 100 + (SELECT count(*) FROM "
                        "cache_sel_pctl)");
    CHECK(store_exec(s,
                     "DELETE FROM cache_point_sums; DELETE FROM cache_sel_pctl; "
                     "UPDATE cache_point_pctl SET ape_p50 = -1; "
                     "UPDATE meta SET value = 'older build' WHERE key = 'sql_hash'",
                     err) == TAM_OK,
          "%s", err);
    store_close(s);
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    CHECK(q1(s, "SELECT (SELECT count(*) FROM cache_point_sums) * 10000 + (SELECT count(*) FROM "
                "cache_point_pctl) * 100 + (SELECT count(*) FROM cache_sel_pctl)") == rows,
          "rows rebuilt");
    CHECK_NEAR(q1(s, "SELECT sum(s_ape_ttft) + sum(s_pred_e2e) + sum(n) FROM cache_point_sums"),
               sums, 1e-12);
    CHECK_NEAR(q1(s, "SELECT sum(ape_p50) + sum(meas_p99) + sum(n) FROM cache_sel_pctl"), pct,
               1e-12);
    CHECK(q1(s, "SELECT min(ape_p50) FROM cache_point_pctl") >= 0, "stale values replaced");
    CHECK(q1(s, "SELECT count(*) FROM meta WHERE key='sql_hash' AND value != 'older build'") == 1,
          "hash updated");
    store_close(s);
}

static void test_failed_commit(void)
{
    char err[TAM_ERRLEN], path[128];
    store_t *s;
    long long cfg, run;
    pred_t pa[5];
    new_db(path, sizeof path);
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    CHECK(store_ingest(s, &a_meta, &a_trace, err) == TAM_OK, "%s", err);
    CHECK(store_config(s, "c", "{}", "h", "r", &cfg, err) == TAM_OK, "%s", err);
    CHECK(store_run_begin(s, cfg, "expA", 1, "H1", "x", &run, err) == TAM_OK, "%s", err);
    const char *none = "SELECT (SELECT count(*) FROM predictions) + (SELECT count(*) FROM "
                       "cache_point_sums) + (SELECT count(*) FROM cache_sel_pctl)";

    /* Duplicate req_index: refused before anything is written. */
    preds_a(pa);
    pa[1].req_index = pa[0].req_index;
    CHECK(store_run_commit(s, run, pa, 5, &stats, NULL, err) == TAM_EFIELD, "duplicate");
    CHECK(strstr(err, "req_index 4") && strstr(err, "twice"), "err: %s", err);
    /* A request the experiment does not have, a point mismatch, a first
    ** token that is not arrival + ttft. */
    preds_a(pa);
    pa[0].req_index = 99;
    CHECK(store_run_commit(s, run, pa, 5, &stats, NULL, err) == TAM_EFIELD, "no twin");
    CHECK(strstr(err, "req_index 99") && strstr(err, "no measured"), "err: %s", err);
    preds_a(pa);
    pa[0].point = 0;
    CHECK(store_run_commit(s, run, pa, 5, &stats, NULL, err) == TAM_EFIELD, "point mismatch");
    CHECK(strstr(err, "measured at point 1"), "err: %s", err);
    preds_a(pa);
    pa[0].first_token += 0.5;
    CHECK(store_run_commit(s, run, pa, 5, &stats, NULL, err) == TAM_EFIELD, "first token");
    CHECK(strstr(err, "TTFT = first token - arrival"), "err: %s", err);
    /* A failure half-way through the inserts (a temporary trigger aborts
    ** the third row): everything rolls back. */
    CHECK(store_exec(s,
                     "CREATE TEMP TRIGGER boom BEFORE INSERT ON predictions "
                     "WHEN NEW.req_index = 2 BEGIN SELECT RAISE(ABORT, 'boom'); END",
                     err) == TAM_OK,
          "%s", err);
    preds_a(pa);
    CHECK(store_run_commit(s, run, pa, 5, &stats, NULL, err) == TAM_EDB, "mid-insert failure");
    CHECK(strstr(err, "boom"), "err: %s", err);
    CHECK(q1(s, none) == 0, "no rows after failed commits");
    CHECK(qf(s, "SELECT count(*) FROM runs WHERE id=%lld AND status='running'", run) == 1,
          "still running");
    CHECK(store_exec(s, "DROP TRIGGER boom", err) == TAM_OK, "%s", err);

    /* The caller marks it failed; it stays failed and keeps no rows. */
    CHECK(store_run_fail(s, run, "simulation diverged", err) == TAM_OK, "%s", err);
    CHECK(qf(s, "SELECT count(*) FROM runs WHERE id=%lld AND status='failed' AND "
                "error='simulation diverged' AND finished IS NOT NULL",
             run) == 1,
          "failed");
    CHECK(store_run_fail(s, run, "again", err) == TAM_OK, "fail twice: %s", err);
    CHECK(qf(s, "SELECT count(*) FROM runs WHERE id=%lld AND error='simulation diverged'", run) ==
              1,
          "first reason kept");
    preds_a(pa);
    CHECK(store_run_commit(s, run, pa, 5, &stats, NULL, err) == TAM_EFIELD, "commit a failed run");
    CHECK(strstr(err, "'failed'"), "err: %s", err);
    CHECK(q1(s, none) == 0, "still no rows");

    /* A good run; then it can be neither committed again nor failed. */
    long long ok;
    CHECK(store_run_begin(s, cfg, "expA", 1, "H1", "x", &ok, err) == TAM_OK, "%s", err);
    CHECK(store_run_commit(s, ok, pa, 5, &stats, NULL, err) == TAM_OK, "%s", err);
    CHECK(store_run_commit(s, ok, pa, 5, &stats, NULL, err) == TAM_EFIELD, "commit twice");
    CHECK(store_run_fail(s, ok, "late", err) == TAM_EFIELD, "fail an ok run");
    CHECK(store_run_fail(s, 987654, "x", err) == TAM_EFIELD, "no such run");
    CHECK(store_run_commit(s, 987654, pa, 5, &stats, NULL, err) == TAM_EFIELD, "no such run");
    CHECK(qf(s, "SELECT count(*) FROM predictions WHERE run_id=%lld", ok) == 5, "ok rows");

    /* Bad arguments of run_begin. */
    long long r2;
    CHECK(store_run_begin(s, cfg + 100, "expA", 1, "H1", "x", &r2, err) == TAM_EFIELD, "config");
    CHECK(strstr(err, "no config"), "err: %s", err);
    CHECK(store_run_begin(s, cfg, "expZ", 1, "H1", "x", &r2, err) == TAM_EFIELD, "experiment");
    CHECK(strstr(err, "expZ"), "err: %s", err);
    CHECK(store_run_begin(s, cfg, "expA", 1ULL << 63, "H1", "x", &r2, err) == TAM_EFIELD,
          "seed too large");
    store_close(s);
}

/* Read one byte from fd (a go signal between processes). */
static int wait_byte(int fd)
{
    char c;
    return read(fd, &c, 1) == 1;
}

static void test_stale_run(void)
{
    char err[TAM_ERRLEN], path[128];
    store_t *s;
    long long cfg;
    int up[2], down[2];
    new_db(path, sizeof path);
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    CHECK(store_ingest(s, &a_meta, &a_trace, err) == TAM_OK, "%s", err);
    CHECK(store_config(s, "c", "{}", "h", "r", &cfg, err) == TAM_OK, "%s", err);
    store_close(s); /* no connection across fork */
    if (pipe(up) != 0 || pipe(down) != 0) {
        CHECK(0, "pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* The child begins a run, says so, and dies without committing. */
        store_t *c;
        long long run;
        int ok = store_open(path, &c, err) == TAM_OK &&
                 store_run_begin(c, cfg, "expA", 5, "H1", "x", &run, err) == TAM_OK;
        if (write(up[1], ok ? "1" : "0", 1) != 1)
            _exit(3);
        wait_byte(down[0]);
        _exit(ok ? 0 : 2); /* no store_close: a crash */
    }
    char c = '0';
    CHECK(read(up[0], &c, 1) == 1 && c == '1', "child began its run");
    /* While the child lives, its run stays 'running'. */
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (s) {
        CHECK(q1(s, "SELECT count(*) FROM runs WHERE status='running' AND seed=5") == 1,
              "running while its process lives");
        store_close(s);
    }
    CHECK(write(down[1], "x", 1) == 1, "release child");
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child status %d", status);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    /* Its process is gone: the next open marks it failed. */
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    CHECK(q1(s, "SELECT count(*) FROM runs WHERE status='failed' AND error='interrupted' AND "
                "seed=5 AND finished IS NOT NULL") == 1,
          "stale run failed");
    CHECK(q1(s, "SELECT count(*) FROM runs WHERE status='running'") == 0, "none running");
    CHECK(q1(s, "SELECT count(*) FROM predictions") == 0, "no predictions");
    CHECK(q1(s, "SELECT count(*) FROM run_info WHERE status='failed' AND pid IS NOT NULL AND "
                "host IS NOT NULL") == 1,
          "run_info lists it");
    store_close(s);
}

/* Several processes open a new database at once: one applies the schema,
** the others wait for it and find it applied. */
static void test_concurrent_open(void)
{
    char err[TAM_ERRLEN], path[128];
    store_t *s;
    pid_t kids[4];
    new_db(path, sizeof path);
    fflush(stdout);
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            store_t *c;
            if (store_open(path, &c, err) != TAM_OK) {
                fprintf(stderr, "open %d: %s\n", k, err);
                _exit(1);
            }
            store_close(c);
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status = 0;
        CHECK(waitpid(kids[k], &status, 0) == kids[k] && WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0,
              "opener %d status %d", k, status);
    }
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    CHECK(q1(s, "PRAGMA user_version") == 1, "version");
    CHECK(q1(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'corpus_metrics'") == 1,
          "views applied once");
    store_close(s);
}

/* Two runs of the same (configuration, experiment, seed) begun before either
** is committed, as when two grids share an arm: the second commit keeps the
** first run's rows and drops its own copy. */
static void test_same_run_twice(void)
{
    long long cfg, ra, rb, r1, r2, kept = -1;
    char err[TAM_ERRLEN];
    pred_t pa[5];
    store_t *s = metrics_db(&cfg, &ra, &rb);
    if (!s)
        return;
    preds_a(pa);
    CHECK(store_run_begin(s, cfg, "expA", 7, "H1", "baseline", &r1, err) == TAM_OK, "%s", err);
    CHECK(store_run_begin(s, cfg, "expA", 7, "H2", "baseline", &r2, err) == TAM_OK, "%s", err);
    CHECK(store_run_commit(s, r1, pa, 5, &stats, &kept, err) == TAM_OK, "%s", err);
    CHECK(kept == r1, "first commit keeps its own run (%lld vs %lld)", kept, r1);
    CHECK(store_run_commit(s, r2, pa, 5, &stats, &kept, err) == TAM_OK, "%s", err);
    CHECK(kept == r1, "second commit names the run kept (%lld vs %lld)", kept, r1);
    CHECK(qf(s, "SELECT count(*) FROM runs WHERE id=%lld", r2) == 0, "copy dropped");
    CHECK(q1(s, "SELECT count(*) FROM runs WHERE seed=7 AND status='ok'") == 1, "one ok run");
    CHECK(qf(s, "SELECT count(*) FROM predictions WHERE run_id=%lld", r1) == 5, "its rows");
    CHECK(q1(s, "SELECT count(*) FROM arms WHERE hypothesis='H2' AND label='baseline'") == 1,
          "the second grid's arm is still recorded");
    CHECK(store_run_commit(s, r2, pa, 5, &stats, &kept, err) == TAM_EFIELD,
          "the dropped run cannot be committed again");
    store_close(s);
}

/* Experiment C for the concurrency test: n requests over two points. */
#define C_REQ 3000
static trace_point_t c_points[2];
static trace_req_t c_req[C_REQ];

static void concurrent_child(const char *path, int who, int runs)
{
    char err[TAM_ERRLEN];
    store_t *s;
    long long cfg, run;
    static pred_t p[C_REQ];
    if (store_open(path, &s, err) != TAM_OK)
        _exit(10);
    if (store_config(s, "shared", "{\"x\":1}", "hx", "r", &cfg, err) != TAM_OK)
        _exit(11);
    for (int r = 0; r < runs; r++) {
        if (store_run_begin(s, cfg, "expC", (unsigned long long)(who * 1000 + r), "H9", "c", &run,
                            err) != TAM_OK)
            _exit(12);
        for (int i = 0; i < C_REQ; i++)
            p[i] = mkpred(i, c_req[i].point, i * 0.01, 0.05 + 0.001 * r, 0.02, 5.0 + who);
        if (store_run_commit(s, run, p, C_REQ, &stats, NULL, err) != TAM_OK) {
            fprintf(stderr, "child %d: %s\n", who, err);
            _exit(13);
        }
        /* and one run both writers make: the same seed, as two grids sharing an arm */
        long long kept;
        if (store_run_begin(s, cfg, "expC", 9000 + (unsigned long long)r, "H9", "c", &run,
                            err) != TAM_OK ||
            store_run_commit(s, run, p, C_REQ, &stats, &kept, err) != TAM_OK) {
            fprintf(stderr, "child %d: shared run: %s\n", who, err);
            _exit(14);
        }
    }
    store_close(s);
    _exit(0);
}

static void test_concurrent_writers(void)
{
    char err[TAM_ERRLEN], path[128];
    store_t *s;
    const int runs = 6;
    new_db(path, sizeof path);
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    memset(c_points, 0, sizeof c_points);
    snprintf(c_points[0].name, sizeof c_points[0].name, "constant@1");
    c_points[0].kind = ARR_CONSTANT;
    c_points[0].rate = 1;
    c_points[0].is_lowest = 1;
    snprintf(c_points[1].name, sizeof c_points[1].name, "throughput");
    c_points[1].kind = ARR_THROUGHPUT;
    c_points[1].is_highest = 1;
    for (int i = 0; i < C_REQ; i++)
        set_req(&c_req[i], i, i % 2, 100, 1, 0.05, 5.0);
    trace_t ct = b_trace;
    ct.n_points = 2;
    ct.points = c_points;
    ct.n_req = C_REQ;
    ct.req = c_req;
    exp_meta_t cm = {"expC", 0, "llama-2-7b", "MHA", "decode", "llama-2-7b-hf", 1};
    CHECK(store_ingest(s, &cm, &ct, err) == TAM_OK, "%s", err);
    store_close(s);

    fflush(stdout);
    fflush(stderr);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0)
            concurrent_child(path, k + 1, runs);
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        CHECK(waitpid(kids[k], &status, 0) == kids[k] && WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0,
              "writer %d exit status %d", k + 1, WEXITSTATUS(status));
    }
    CHECK(store_open(path, &s, err) == TAM_OK, "%s", err);
    if (!s)
        return;
    /* Each writer's own runs, plus one copy of each shared run: 3 x runs. */
    CHECK(q1(s, "SELECT count(*) FROM configs") == 1, "one shared config");
    CHECK(q1(s, "SELECT count(*) FROM runs WHERE status='ok'") == 3 * runs, "all runs ok");
    CHECK(q1(s, "SELECT count(*) FROM runs") == 3 * runs, "duplicate copies dropped");
    CHECK(q1(s, "SELECT count(*) FROM runs WHERE seed >= 9000") == runs, "one per shared seed");
    CHECK(q1(s, "SELECT count(*) FROM predictions") == 3.0 * runs * C_REQ, "all predictions");
    CHECK(q1(s, "SELECT count(*) FROM cache_point_sums") == 3.0 * runs * 2, "all caches");
    CHECK(q1(s, "SELECT count(*) FROM exp_metrics") == 3 * runs, "metrics for every run");
    CHECK(q1(s, "SELECT count(*) FROM corpus_metrics WHERE n_experiments = 1") == 3 * runs,
          "corpus rows per seed");
    store_close(s);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/t_store.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("not ok - mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    fixtures();
    RUN(test_schema_in_sync);
    RUN(test_bad_path);
    RUN(test_open_twice);
    RUN(test_ingest);
    RUN(test_config);
    RUN(test_metrics);
    RUN(test_rebuild);
    RUN(test_failed_commit);
    RUN(test_stale_run);
    RUN(test_concurrent_open);
    RUN(test_same_run_twice);
    RUN(test_concurrent_writers);
    cleanup();
    TEST_REPORT("t_store");
}
