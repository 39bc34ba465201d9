/* tests/t_store.c - the SQLite results store (db/store.c) and its views.
**
** Every test works in its own database under a mkdtemp folder in /tmp.
** Two small experiments with hand-computed errors (comments give the
** arithmetic, tests/store_fix.h) check the metric views of db/views.sql: per
** request (pred_ape), per load point, per experiment, corpus (unweighted
** mean over experiments), splits, percentiles and criteria; idempotent
** ingest.  Runs, failed commits and concurrent processes: t_store_runs.c.
** Also: db/schema_sql.h is in sync with db/schema.sql and db/views.sql.
** Run from the repository root.
*/
#include "store_fix.h"

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

/* A corpus-level query of H1's baseline arm, seed 42 (column, view, config id). */
#define CORPUS_Q "SELECT %s FROM %s WHERE config_id=%lld AND hypothesis='H1' AND label='baseline' AND seed=42"

/* test_metrics, in order (each phase sees what the previous stored): runs, provenance, the stored predictions and pred_ape. */
static void metrics_rows(store_t *s, long long cfg, long long ra, long long rb)
{
    long long found = -1;
    char err[TAM_ERRLEN];
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
}

/* test_metrics, in order (each phase sees what the previous stored): the metric views per point, experiment, corpus and arm. */
static void metrics_views(store_t *s, long long cfg, long long ra, long long rb)
{
    char err[TAM_ERRLEN];
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
    CHECK_NEAR(qf(s, CORPUS_Q, "mape_ttft", "corpus_metrics", cfg), 0.21875, 1e-9);
    CHECK(qf(s, CORPUS_Q, "n_experiments", "corpus_metrics", cfg) == 2, "2 experiments");
    CHECK(qf(s, CORPUS_Q, "n_runaway", "corpus_metrics", cfg) == 1, "1 runaway point");
    CHECK_NEAR(qf(s, CORPUS_Q, "mape_e2e", "corpus_metrics", cfg), ((0.6 + 17.5 / 3) / 4 + 0.1) / 2,
               1e-9);
    /* Lowest points: A 0.175, B 0.1. */
    CHECK_NEAR(qf(s, CORPUS_Q, "mape_ttft", "corpus_metrics_lowest", cfg), (0.175 + 0.1) / 2, 1e-9);
    CHECK_NEAR(qf(s, CORPUS_Q, "mape_ttft", "corpus_metrics_highest", cfg), (0.5 + 0.1) / 2, 1e-9);
    CHECK(qf(s, "SELECT count(*) FROM corpus_metrics") == 1, "one arm");
    /* An arm whose runs are all reused lists the same numbers. */
    CHECK(store_arm(s, "H2", "baseline", cfg, err) == TAM_OK, "%s", err);
    CHECK(store_arm(s, "H2", "baseline", cfg, err) == TAM_OK, "idempotent: %s", err);
    CHECK_NEAR(qf(s, "SELECT mape_ttft FROM corpus_metrics WHERE hypothesis='H2'"), 0.21875, 1e-9);
}

/* test_metrics, in order (each phase sees what the previous stored): splits, percentiles, and the caches against the live views. */
static void metrics_splits(store_t *s, long long cfg, long long ra, long long rb)
{
    char err[TAM_ERRLEN];
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
}

/* test_metrics, in order (each phase sees what the previous stored): criteria, sweeps, immutability and deletion. */
static void metrics_rest(store_t *s, long long cfg, long long ra, long long rb)
{
    char err[TAM_ERRLEN];
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
    CHECK(qf(s, CORPUS_Q, "n_experiments", "corpus_metrics", cfg) == 1, "B gone from the corpus");
}

static void test_metrics(void)
{
    long long cfg = 0, ra = 0, rb = 0;
    store_t *s = metrics_db(&cfg, &ra, &rb);
    if (!s)
        return;
    metrics_rows(s, cfg, ra, rb);
    metrics_views(s, cfg, ra, rb);
    metrics_splits(s, cfg, ra, rb);
    metrics_rest(s, cfg, ra, rb);
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

int main(void)
{
    store_fix_setup("t_store");
    RUN(test_schema_in_sync);
    RUN(test_bad_path);
    RUN(test_open_twice);
    RUN(test_ingest);
    RUN(test_config);
    RUN(test_metrics);
    RUN(test_rebuild);
    cleanup();
    TEST_REPORT("t_store");
}
