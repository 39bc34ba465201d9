/* db/runs.c - configurations, arms and runs: begin, the steps of a commit (twins
** matched, predictions inserted), commit and fail (db/store.h). */
#include "store_int.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

const char *const sdb_metric_name[N_METRIC] = {"ttft", "tpot", "e2e"};

/* {====================================================================
** Configurations, arms, runs
** ===================================================================== */

int store_config(store_t *s, const char *name, const char *canonical_json, const char *hash,
                 const char *git_rev, long long *config_id, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *config_id = 0;
    if (!name || !canonical_json || !hash || !*hash)
        return tam_fail(err, TAM_EFIELD, "store_config: name, canonical_json and hash are required");
    if (git_rev && *git_rev)
        snprintf(s->git_rev, sizeof s->git_rev, "%s", git_rev);
    if ((rc = sdb_begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = sdb_prepare(s, "SELECT id, canonical_json FROM configs WHERE hash = ?1", &st, err)) !=
        TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sdb_bind_text(st, 1, hash);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (!sdb_same_text(sqlite3_column_text(st, 1), canonical_json))
            rc = tam_fail(err, TAM_ECHECK,
                          "%s: config hash %s is stored with another canonical_json (config %lld): "
                          "the hash does not identify the JSON",
                          s->path, hash, (long long)sqlite3_column_int64(st, 0));
        else
            *config_id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sdb_rollback(s);
        return rc;
    }
    if (step != SQLITE_DONE) {
        rc = sdb_db_fail(s, err, "looking up the config");
        sqlite3_finalize(st);
        sdb_rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    if ((rc = sdb_prepare(s,
                      "INSERT INTO configs(name, hash, canonical_json, git_rev, created) "
                      "VALUES (?1, ?2, ?3, ?4, " SQL_NOW ")",
                      &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sdb_bind_text(st, 1, name);
    sdb_bind_text(st, 2, hash);
    sdb_bind_text(st, 3, canonical_json);
    sdb_bind_text(st, 4, sdb_nonempty(git_rev));
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sdb_db_fail(s, err, "inserting the config");
        sqlite3_finalize(st);
        sdb_rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    *config_id = sqlite3_last_insert_rowid(s->db);
    if ((rc = sdb_commit(s, err)) != TAM_OK)
        *config_id = 0;
    return rc;
}

/* INSERT OR IGNORE the arm; inside the caller's transaction. */
static int arm_insert(store_t *s, const char *hypothesis, const char *label, long long config_id,
                      char *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = sdb_prepare(s, "INSERT OR IGNORE INTO arms(hypothesis, label, config_id) VALUES (?1,?2,?3)",
                      &st, err)) != TAM_OK)
        return rc;
    sdb_bind_text(st, 1, hypothesis);
    sdb_bind_text(st, 2, label);
    sqlite3_bind_int64(st, 3, config_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sdb_db_fail(s, err, "recording the grid arm");
    sqlite3_finalize(st);
    return rc;
}

int store_arm(store_t *s, const char *hypothesis, const char *label, long long config_id,
              char *err)
{
    int rc;
    if (!hypothesis || !label)
        return tam_fail(err, TAM_EFIELD, "store_arm: hypothesis and label are required");
    if ((rc = sdb_begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = arm_insert(s, hypothesis, label, config_id, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    return sdb_commit(s, err);
}

int store_run_find_ok(store_t *s, long long config_id, const char *exp_id, unsigned long long seed,
                      long long *run_id, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *run_id = 0;
    if ((rc = sdb_seed_ok(seed, err)) != TAM_OK)
        return rc;
    if ((rc = sdb_prepare(s,
                      "SELECT max(id) FROM runs WHERE config_id = ?1 AND experiment_id = ?2 "
                      "AND seed = ?3 AND status = 'ok'",
                      &st, err)) != TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, config_id);
    sdb_bind_text(st, 2, exp_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seed);
    if (sqlite3_step(st) == SQLITE_ROW)
        *run_id = sqlite3_column_int64(st, 0); /* NULL -> 0 */
    else
        rc = sdb_db_fail(s, err, "looking up an ok run");
    sqlite3_finalize(st);
    return rc;
}

int store_run_begin(store_t *s, long long config_id, const char *exp_id, unsigned long long seed,
                    const char *hypothesis, const char *label, long long *run_id, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *run_id = 0;
    if ((rc = sdb_seed_ok(seed, err)) != TAM_OK)
        return rc;
    if (!exp_id)
        return tam_fail(err, TAM_EFIELD, "store_run_begin: experiment id missing");
    if ((rc = sdb_begin_write(s, err)) != TAM_OK)
        return rc;
    /* Clear messages for the two foreign keys. */
    if ((rc = sdb_prepare(s,
                      "SELECT (SELECT count(*) FROM configs WHERE id = ?1), "
                      "(SELECT count(*) FROM experiments WHERE id = ?2)",
                      &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, config_id);
    sdb_bind_text(st, 2, exp_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = sdb_db_fail(s, err, "checking the run's config and experiment");
    else if (sqlite3_column_int(st, 0) == 0)
        rc = tam_fail(err, TAM_EFIELD, "%s: store_run_begin: no config %lld", s->path, config_id);
    else if (sqlite3_column_int(st, 1) == 0)
        rc = tam_fail(err, TAM_EFIELD, "%s: store_run_begin: experiment %s is not ingested",
                      s->path, exp_id);
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    if ((rc = sdb_prepare(s,
                      "INSERT INTO runs(config_id, experiment_id, seed, hypothesis, label, status, "
                      "git_rev, pid, host, started) VALUES (?1, ?2, ?3, ?4, ?5, 'running', "
                      "coalesce(?6, (SELECT git_rev FROM configs WHERE id = ?1)), ?7, ?8, " SQL_NOW
                      ")",
                      &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, config_id);
    sdb_bind_text(st, 2, exp_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seed);
    sdb_bind_text(st, 4, hypothesis);
    sdb_bind_text(st, 5, label);
    sdb_bind_text(st, 6, sdb_nonempty(s->git_rev));
    sqlite3_bind_int64(st, 7, (sqlite3_int64)getpid());
    sdb_bind_text(st, 8, s->host);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sdb_db_fail(s, err, "inserting the run");
        sqlite3_finalize(st);
        sdb_rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    long long id = sqlite3_last_insert_rowid(s->db);
    if (hypothesis && label && (rc = arm_insert(s, hypothesis, label, config_id, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    if ((rc = sdb_commit(s, err)) == TAM_OK)
        *run_id = id;
    return rc;
}

/* }==================================================================== */

/* {====================================================================
** Runs: the steps of a commit
** ===================================================================== */


static int pred_key_cmp(const void *a, const void *b)
{
    const pred_key_t *x = a, *y = b;
    if (x->req_index != y->req_index)
        return x->req_index < y->req_index ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* predictions.first_token/last_token are generated as arrival + ttft/e2e:
** the engine's timestamp t must be that sum to within 1 ns (both NaN when
** the latency is undefined), or storing it would change it. */
static int time_matches(double t, double arrival, double latency)
{
    double sum = arrival + latency;
    if (isnan(sum))
        return isnan(t);
    return fabs(t - sum) <= 1e-9;
}

/* Inside the commit transaction: the run must exist and be 'running';
** returns its experiment id (malloc'd) in *exp_id. */
static int run_running(store_t *s, long long run_id, char **exp_id, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *exp_id = NULL;
    if ((rc = sdb_prepare(s, "SELECT status, experiment_id FROM runs WHERE id = ?1", &st, err)) !=
        TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = tam_fail(err, TAM_EFIELD, "%s: no run %lld", s->path, run_id);
    else if (step != SQLITE_ROW)
        rc = sdb_db_fail(s, err, "looking up the run");
    else if (!sdb_same_text(sqlite3_column_text(st, 0), "running"))
        rc = tam_fail(err, TAM_EFIELD, "%s: run %lld is '%s', not 'running'", s->path, run_id,
                      (const char *)sqlite3_column_text(st, 0));
    else if (!(*exp_id = strdup((const char *)sqlite3_column_text(st, 1))))
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    sqlite3_finalize(st);
    return rc;
}


void sdb_truth_free(exp_truth_t *t)
{
    free(t->req_index);
    free(t->point);
    free(t->ok);
    free(t->lat);
    free(t->flags);
    memset(t, 0, sizeof *t);
}

double sdb_col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int count_rows(store_t *s, const char *sql, const char *exp_id, int *n, char *err)
{
    sqlite3_stmt *st;
    int rc = sdb_prepare(s, sql, &st, err);
    if (rc != TAM_OK)
        return rc;
    sdb_bind_text(st, 1, exp_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int(st, 0);
    else
        rc = sdb_db_fail(s, err, "counting rows");
    sqlite3_finalize(st);
    return rc;
}

int sdb_truth_load(store_t *s, const char *exp_id, exp_truth_t *t, char *err)
{
    sqlite3_stmt *st;
    int rc, step, i = 0;
    memset(t, 0, sizeof *t);
    if ((rc = count_rows(s, "SELECT count(*) FROM measured WHERE experiment_id = ?1", exp_id,
                         &t->n, err)) != TAM_OK ||
        (rc = count_rows(s, "SELECT coalesce(max(point), -1) + 1 FROM load_points "
                            "WHERE experiment_id = ?1",
                         exp_id, &t->n_points, err)) != TAM_OK)
        return rc;
    size_t n = (size_t)(t->n > 0 ? t->n : 1);
    t->req_index = malloc(n * sizeof *t->req_index);
    t->point = malloc(n * sizeof *t->point);
    t->ok = malloc(n * sizeof *t->ok);
    t->lat = malloc(n * N_METRIC * sizeof *t->lat);
    t->flags = calloc((size_t)(t->n_points > 0 ? t->n_points : 1), 1);
    if (!t->req_index || !t->point || !t->ok || !t->lat || !t->flags) {
        sdb_truth_free(t);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    }
    if ((rc = sdb_prepare(s,
                      "SELECT req_index, point, ok, ttft, tpot, e2e FROM measured "
                      "WHERE experiment_id = ?1 ORDER BY req_index",
                      &st, err)) != TAM_OK) {
        sdb_truth_free(t);
        return rc;
    }
    sdb_bind_text(st, 1, exp_id);
    while (i < t->n && (step = sqlite3_step(st)) == SQLITE_ROW) {
        t->req_index[i] = sqlite3_column_int(st, 0);
        t->point[i] = sqlite3_column_int(st, 1);
        t->ok[i] = sqlite3_column_int(st, 2);
        for (int m = 0; m < N_METRIC; m++)
            t->lat[i * N_METRIC + m] = sdb_col_real(st, 3 + m);
        i++;
    }
    sqlite3_finalize(st);
    if (i != t->n) {
        sdb_truth_free(t);
        return sdb_db_fail(s, err, "reading the measured requests");
    }
    if ((rc = sdb_prepare(s,
                      "SELECT point, is_lowest, is_highest FROM load_points "
                      "WHERE experiment_id = ?1",
                      &st, err)) != TAM_OK) {
        sdb_truth_free(t);
        return rc;
    }
    sdb_bind_text(st, 1, exp_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int pt = sqlite3_column_int(st, 0);
        if (pt >= 0 && pt < t->n_points)
            t->flags[pt] = (unsigned char)((sqlite3_column_int(st, 1) ? 1 : 0) |
                                           (sqlite3_column_int(st, 2) ? 2 : 0));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        sdb_truth_free(t);
        return sdb_db_fail(s, err, "reading the load points");
    }
    return TAM_OK;
}

/* Every prediction must have a measured twin at the same load point:
** twin[k] = the measured row of order[k] (a merge of two sorted lists). */
int sdb_match_twins(store_t *s, long long run_id, const char *exp_id, const pred_t *p,
                       const pred_key_t *order, int n, const exp_truth_t *t, int *twin,
                       char *err)
{
    int j = 0;
    for (int k = 0; k < n; k++) {
        const pred_t *q = &p[order[k].pos];
        while (j < t->n && t->req_index[j] < q->req_index)
            j++;
        if (j == t->n || t->req_index[j] != q->req_index)
            return tam_fail(err, TAM_EFIELD,
                            "%s: run %lld: req_index %d has no measured request in %s", s->path,
                            run_id, q->req_index, exp_id);
        if (t->point[j] != q->point)
            return tam_fail(err, TAM_EFIELD,
                            "%s: run %lld: req_index %d predicted at point %d but measured at "
                            "point %d",
                            s->path, run_id, q->req_index, q->point, t->point[j]);
        twin[k] = j;
    }
    return TAM_OK;
}

/* Rows per INSERT statement: multi-row VALUES lists cut the per-row cost of
** the statement machinery by about 40% (11 parameters a row). */
#define PRED_COLS 11
#define PRED_BATCH 50

static int prepare_pred_insert(store_t *s, int rows, sqlite3_stmt **st, char *err)
{
    static const char head[] = "INSERT INTO predictions(run_id, req_index, point, arrival, "
                               "scheduled, ttft, tpot, e2e, preemptions, prefix_hit_tokens, "
                               "rejected) VALUES ";
    static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?)";
    char *sql = malloc(sizeof head + (size_t)rows * sizeof row), *w = sql;
    if (!sql)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    w += sprintf(w, "%s", head);
    for (int i = 0; i < rows; i++)
        w += sprintf(w, "%s%s", i ? "," : "", row);
    int rc = sdb_prepare(s, sql, st, err);
    free(sql);
    return rc;
}

static void bind_pred(sqlite3_stmt *st, int base, long long run_id, const pred_t *q)
{
    sqlite3_bind_int64(st, base + 1, run_id);
    sqlite3_bind_int(st, base + 2, q->req_index);
    sqlite3_bind_int(st, base + 3, q->point);
    sdb_bind_real(st, base + 4, q->arrival);
    sdb_bind_real(st, base + 5, q->scheduled);
    sdb_bind_real(st, base + 6, q->ttft);
    sdb_bind_real(st, base + 7, q->tpot);
    sdb_bind_real(st, base + 8, q->e2e);
    sqlite3_bind_int(st, base + 9, q->preemptions);
    sqlite3_bind_int(st, base + 10, q->prefix_hit_tokens);
    sqlite3_bind_int(st, base + 11, q->rejected != 0);
}

static int insert_predictions(store_t *s, long long run_id, const pred_t *p,
                              const pred_key_t *order, int n, char *err)
{
    sqlite3_stmt *batch = NULL, *one = NULL;
    int rc, k = 0;
    if ((rc = prepare_pred_insert(s, PRED_BATCH, &batch, err)) != TAM_OK)
        return rc;
    if ((rc = prepare_pred_insert(s, 1, &one, err)) != TAM_OK) {
        sqlite3_finalize(batch);
        return rc;
    }
    while (k < n) {
        int rows = n - k >= PRED_BATCH ? PRED_BATCH : 1;
        sqlite3_stmt *st = rows == PRED_BATCH ? batch : one;
        for (int i = 0; i < rows; i++)
            bind_pred(st, i * PRED_COLS, run_id, &p[order[k + i].pos]);
        if (sqlite3_step(st) != SQLITE_DONE) {
            char what[96];
            snprintf(what, sizeof what, "run %lld: inserting the predictions from req_index %d",
                     run_id, order[k].req_index);
            rc = sdb_db_fail(s, err, what);
            break;
        }
        sqlite3_reset(st);
        k += rows;
    }
    sqlite3_finalize(batch);
    sqlite3_finalize(one);
    return rc;
}

static int run_mark_ok(store_t *s, long long run_id, int n, const run_stats_t *rs, char *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = sdb_prepare(s,
                      "UPDATE runs SET status = 'ok', error = NULL, finished = " SQL_NOW ", "
                      "n_predictions = ?2, steps = ?3, sim_seconds = ?4, wall_seconds = ?5, "
                      "preemptions = ?6, rejected = ?7, mean_batch = ?8, busy_fraction = ?9 "
                      "WHERE id = ?1 AND status = 'running'",
                      &st, err)) != TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int(st, 2, n);
    if (rs) {
        sqlite3_bind_int64(st, 3, rs->steps);
        sdb_bind_real(st, 4, rs->sim_seconds);
        sdb_bind_real(st, 5, rs->wall_seconds);
        sqlite3_bind_int64(st, 6, rs->preemptions);
        sqlite3_bind_int(st, 7, rs->rejected);
        sdb_bind_real(st, 8, rs->mean_batch);
        sdb_bind_real(st, 9, rs->busy_fraction);
    } /* else: unbound parameters are NULL */
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sdb_db_fail(s, err, "marking the run ok");
    else if (sqlite3_changes(s->db) != 1)
        rc = tam_fail(err, TAM_EDB, "%s: run %lld changed status during its commit", s->path,
                      run_id);
    sqlite3_finalize(st);
    return rc;
}

/* }==================================================================== */


/* {====================================================================
** Runs: commit, fail
** ===================================================================== */

/* An 'ok' run other than run_id for the same (configuration, experiment,
** seed); *twin = 0 if none. */
static int ok_twin(store_t *s, long long run_id, long long *twin, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *twin = 0;
    if ((rc = sdb_prepare(s,
                      "SELECT b.id FROM runs a JOIN runs b ON b.config_id = a.config_id AND "
                      "b.experiment_id = a.experiment_id AND b.seed = a.seed AND b.status = 'ok' "
                      "AND b.id <> a.id WHERE a.id = ?1 ORDER BY b.id LIMIT 1",
                      &st, err)) != TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *twin = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        rc = sdb_db_fail(s, err, "looking for an ok run with the same key");
    sqlite3_finalize(st);
    return rc;
}

static int run_delete(store_t *s, long long run_id, char *err)
{
    sqlite3_stmt *st;
    int rc = sdb_prepare(s, "DELETE FROM runs WHERE id = ?1", &st, err);
    if (rc != TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    rc = sqlite3_step(st) == SQLITE_DONE ? TAM_OK : sdb_db_fail(s, err, "dropping a duplicate run");
    sqlite3_finalize(st);
    return rc;
}

int store_run_commit(store_t *s, long long run_id, const pred_t *p, int n, const run_stats_t *st,
                     long long *kept, char *err)
{
    int rc;
    if (kept)
        *kept = run_id;
    if (n < 0 || (n > 0 && !p))
        return tam_fail(err, TAM_EFIELD, "store_run_commit: run %lld: %d predictions", run_id, n);
    for (int i = 0; i < n; i++) {
        const pred_t *q = &p[i];
        if (!time_matches(q->first_token, q->arrival, q->ttft) ||
            !time_matches(q->last_token, q->arrival, q->e2e))
            return tam_fail(err, TAM_EFIELD,
                            "store_run_commit: run %lld: req_index %d: first/last token "
                            "%.17g/%.17g but arrival %.17g + ttft/e2e %.17g/%.17g (METHOD.md: "
                            "TTFT = first token - arrival, E2E = last token - arrival)",
                            run_id, q->req_index, q->first_token, q->last_token, q->arrival,
                            q->ttft, q->e2e);
    }
    /* Sort by req_index: duplicates are found before anything is written,
    ** the twins are found by a merge, and the rows go into the
    ** (run_id, req_index) B-tree in key order. */
    pred_key_t *order = malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    int *twin = malloc((size_t)(n > 0 ? n : 1) * sizeof *twin);
    if (!order || !twin) {
        free(order);
        free(twin);
        return tam_fail(err, TAM_ENOMEM, "store_run_commit: run %lld: out of memory", run_id);
    }
    for (int i = 0; i < n; i++)
        order[i] = (pred_key_t){p[i].req_index, i};
    qsort(order, (size_t)n, sizeof *order, pred_key_cmp);
    for (int i = 1; i < n; i++)
        if (order[i].req_index == order[i - 1].req_index) {
            rc = tam_fail(err, TAM_EFIELD,
                          "store_run_commit: run %lld: req_index %d is predicted twice", run_id,
                          order[i].req_index);
            free(order);
            free(twin);
            return rc;
        }
    char *exp_id = NULL;
    exp_truth_t t = {0};
    if ((rc = sdb_begin_write(s, err)) != TAM_OK) {
        free(order);
        free(twin);
        return rc;
    }
    long long other = 0;
    if ((rc = run_running(s, run_id, &exp_id, err)) == TAM_OK)
        rc = ok_twin(s, run_id, &other, err);
    if (rc == TAM_OK && other) {
        /* Another process committed this run meanwhile: keep its rows. */
        if ((rc = run_delete(s, run_id, err)) == TAM_OK && (rc = sdb_commit(s, err)) == TAM_OK &&
            kept)
            *kept = other;
    } else if (rc == TAM_OK && (rc = sdb_truth_load(s, exp_id, &t, err)) == TAM_OK &&
               (rc = sdb_match_twins(s, run_id, exp_id, p, order, n, &t, twin, err)) == TAM_OK &&
               (rc = insert_predictions(s, run_id, p, order, n, err)) == TAM_OK &&
               (rc = run_mark_ok(s, run_id, n, st, err)) == TAM_OK &&
               (rc = sdb_write_caches(s, run_id, p, order, n, twin, &t, err)) == TAM_OK) {
        rc = sdb_commit(s, err);
    }
    if (rc != TAM_OK)
        sdb_rollback(s);
    sdb_truth_free(&t);
    free(exp_id);
    free(order);
    free(twin);
    return rc;
}

int store_run_fail(store_t *s, long long run_id, const char *why, char *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = sdb_begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = sdb_prepare(s, "SELECT status FROM runs WHERE id = ?1", &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, run_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = tam_fail(err, TAM_EFIELD, "%s: store_run_fail: no run %lld", s->path, run_id);
    else if (step != SQLITE_ROW)
        rc = sdb_db_fail(s, err, "looking up the run");
    else if (sdb_same_text(sqlite3_column_text(st, 0), "ok"))
        rc = tam_fail(err, TAM_EFIELD, "%s: store_run_fail: run %lld is already 'ok'", s->path,
                      run_id);
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    /* 'running' -> 'failed'; an already failed run keeps its first reason. */
    if ((rc = sdb_prepare(s,
                      "UPDATE runs SET status = 'failed', error = ?2, finished = " SQL_NOW
                      " WHERE id = ?1 AND status = 'running'",
                      &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, run_id);
    sdb_bind_text(st, 2, why && *why ? why : "failed");
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sdb_db_fail(s, err, "marking the run failed");
        sqlite3_finalize(st);
        sdb_rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    return sdb_commit(s, err);
}

/* }==================================================================== */
