/* tests/t_store_runs.c - the store's runs under failure and concurrency
** (db/runs.c, db/store.c): a failed commit leaves no rows, a run that is never
** committed becomes 'failed' once its process is gone, processes open a new
** database and write at once, the same run begun twice is stored once.
** Fixtures: tests/store_fix.h.  Run from the repository root.
*/
#include "store_fix.h"

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

int main(void)
{
    store_fix_setup("t_store_runs");
    RUN(test_failed_commit);
    RUN(test_stale_run);
    RUN(test_concurrent_open);
    RUN(test_same_run_twice);
    RUN(test_concurrent_writers);
    cleanup();
    TEST_REPORT("t_store_runs");
}
