/* db/caches.c - the cache_* tables: per run, what the *_live views of
** db/views.sql compute, written at commit and rebuilt when the views change. */
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

/* {====================================================================
** The cache_* tables
**
** For one 'ok' run, the rows the *_live views of db/views.sql give for it:
** per load point the sums of point_sums_live, and the percentiles of
** point_pctl_live / sel_pctl_live.  Computed here at commit from the
** predictions in hand and the measured rows (pred_ape's join would cost as
** much as the insert itself); build_pairs applies pred_ape's pairing rule.
** tests/t_store.c checks that cache and *_live views agree, edge cases
** (one-token outputs, rejected and errored requests) included.
** ===================================================================== */

typedef struct {
    int point, lowest, highest, rejected;
    double meas[N_METRIC], pred[N_METRIC]; /* NaN = not a pair (NULL in pred_ape) */
} pair_row_t;

typedef struct {
    long long n, n_rejected, n_m[N_METRIC];
    double s_ape[N_METRIC], s_signed[N_METRIC], s_abs[N_METRIC], s_meas[N_METRIC],
        s_pred[N_METRIC];
    int seen;
} point_acc_t;

/* pred_ape's rows for the run: predictions whose measured twin is ok; a
** metric pairs when the measured value is > 0 (not NULL) and the predicted
** one is not NULL (NaN).  Returns the row count. */
static int build_pairs(const pred_t *p, const pred_key_t *order, int n, const int *twin,
                       const exp_truth_t *t, pair_row_t *rows)
{
    int n_rows = 0;
    for (int k = 0; k < n; k++) {
        int j = twin[k];
        if (!t->ok[j])
            continue;
        const pred_t *q = &p[order[k].pos];
        pair_row_t *r = &rows[n_rows++];
        unsigned char f = q->point >= 0 && q->point < t->n_points ? t->flags[q->point] : 0;
        double pred[N_METRIC] = {q->ttft, q->tpot, q->e2e};
        r->point = q->point;
        r->lowest = (f & 1) != 0;
        r->highest = (f & 2) != 0;
        r->rejected = q->rejected != 0;
        for (int m = 0; m < N_METRIC; m++) {
            double meas = t->lat[j * N_METRIC + m];
            int pair = meas > 0 && !isnan(pred[m]);
            r->meas[m] = pair ? meas : NAN;
            r->pred[m] = pair ? pred[m] : NAN;
        }
    }
    return n_rows;
}

/* Quickselect with a three-way partition (duplicates are common: APEs of
** identical requests): afterwards x[k] holds the k-th smallest of
** x[lo..hi), everything in [lo, k) is <= it and everything in (k, hi) >= it.
** Exact order statistics, O(n) expected; no NaN in x. */
static double select_kth(double *x, long long lo, long long hi, long long k)
{
    while (hi - lo > 1) {
        double a = x[lo], b = x[lo + (hi - lo) / 2], c = x[hi - 1];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        long long lt = lo, i = lo, gt = hi; /* [lo,lt) < p, [lt,i) == p, [gt,hi) > p */
        while (i < gt) {
            double v = x[i];
            if (v < pivot) {
                x[i++] = x[lt];
                x[lt++] = v;
            } else if (v > pivot) {
                x[i] = x[--gt];
                x[gt] = v;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return pivot;
    }
    return x[k];
}

/* Quantiles q[0] <= q[1] of x[0..n-1] (n >= 1), numpy "linear" as in
** views.sql: h = (n-1) q, i = (long)h, x(i) + (h - i) (x(min(i+1, n-1)) -
** x(i)), x(j) the j-th smallest.  Reorders x. */
static void quantiles2(double *x, long long n, const double q[2], double out[2])
{
    long long from = 0;
    for (int t = 0; t < 2; t++) {
        double h = (double)(n - 1) * q[t];
        long long i = (long long)h;
        double lo = select_kth(x, from, n, i), hi = lo;
        if (i + 1 < n) {
            hi = x[i + 1];
            for (long long j = i + 2; j < n; j++) /* the (i+1)-th smallest */
                if (x[j] < hi)
                    hi = x[j];
        }
        out[t] = lo + (h - (double)i) * (hi - lo);
        from = i;
    }
}

/* Which rows a percentile group pools. */
enum { G_POINT, G_ALL, G_LOWEST, G_HIGHEST };

static int in_group(const pair_row_t *r, int kind, int point)
{
    switch (kind) {
    case G_POINT: return r->point == point;
    case G_LOWEST: return r->lowest;
    case G_HIGHEST: return r->highest;
    default: return 1;
    }
}

/* The six percentiles of metric m over one group's pairs; *k = pairs.
** ape/meas/pred: scratch of n_rows doubles each. */
static void group_pctl(const pair_row_t *rows, int n_rows, int kind, int point, int m,
                       double *ape, double *meas, double *pred, long long *k, double out[6])
{
    static const double q_ape[2] = {0.50, 0.90}, q_lat[2] = {0.90, 0.99};
    double a[2], me[2], pr[2];
    *k = 0;
    for (int i = 0; i < n_rows; i++) {
        const pair_row_t *r = &rows[i];
        if (isnan(r->meas[m]) || !in_group(r, kind, point))
            continue;
        ape[*k] = fabs(r->pred[m] - r->meas[m]) / r->meas[m];
        meas[*k] = r->meas[m];
        pred[*k] = r->pred[m];
        ++*k;
    }
    if (*k == 0)
        return;
    quantiles2(ape, *k, q_ape, a);
    quantiles2(meas, *k, q_lat, me);
    quantiles2(pred, *k, q_lat, pr);
    out[0] = a[0];  /* ape_p50 */
    out[1] = a[1];  /* ape_p90 */
    out[2] = me[0]; /* meas_p90 */
    out[3] = pr[0]; /* pred_p90 */
    out[4] = me[1]; /* meas_p99 */
    out[5] = pr[1]; /* pred_p99 */
}

static int step_done(store_t *s, sqlite3_stmt *st, const char *what, char *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? TAM_OK : sdb_db_fail(s, err, what);
    sqlite3_reset(st);
    return rc;
}

static int write_point_sums(store_t *s, long long run_id, const pair_row_t *rows, int n_rows,
                            int n_points, char *err)
{
    point_acc_t *acc = calloc((size_t)(n_points > 0 ? n_points : 1), sizeof *acc);
    sqlite3_stmt *st = NULL;
    int rc;
    if (!acc)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    for (int i = 0; i < n_rows; i++) {
        const pair_row_t *r = &rows[i];
        point_acc_t *a = &acc[r->point];
        a->seen = 1;
        a->n++;
        a->n_rejected += r->rejected;
        for (int m = 0; m < N_METRIC; m++) {
            if (isnan(r->meas[m]))
                continue;
            double d = r->pred[m] - r->meas[m];
            a->n_m[m]++;
            a->s_ape[m] += fabs(d) / r->meas[m];
            a->s_signed[m] += d / r->meas[m];
            a->s_abs[m] += fabs(d);
            a->s_meas[m] += r->meas[m];
            a->s_pred[m] += r->pred[m];
        }
    }
    rc = sdb_prepare(s,
                 "INSERT INTO cache_point_sums VALUES (?1,?2,?3,?4, ?5,?6,?7,?8,?9,?10, "
                 "?11,?12,?13,?14,?15,?16, ?17,?18,?19,?20,?21,?22)",
                 &st, err);
    for (int pt = 0; pt < n_points && rc == TAM_OK; pt++) {
        const point_acc_t *a = &acc[pt];
        if (!a->seen)
            continue;
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, pt);
        sqlite3_bind_int64(st, 3, a->n);
        sqlite3_bind_int64(st, 4, a->n_rejected);
        for (int m = 0; m < N_METRIC; m++) {
            int b = 5 + 6 * m, any = a->n_m[m] > 0; /* SQL sum() of nothing is NULL */
            sqlite3_bind_int64(st, b, a->n_m[m]);
            sdb_bind_real(st, b + 1, any ? a->s_ape[m] : NAN);
            sdb_bind_real(st, b + 2, any ? a->s_signed[m] : NAN);
            sdb_bind_real(st, b + 3, any ? a->s_abs[m] : NAN);
            sdb_bind_real(st, b + 4, any ? a->s_meas[m] : NAN);
            sdb_bind_real(st, b + 5, any ? a->s_pred[m] : NAN);
        }
        rc = step_done(s, st, "writing cache_point_sums", err);
    }
    sqlite3_finalize(st);
    free(acc);
    return rc;
}

static int write_pctl(store_t *s, long long run_id, const pair_row_t *rows, int n_rows,
                      int n_points, char *err)
{
    static const char *const sel_name[] = {"all", "lowest", "highest"};
    double *buf = malloc(3 * (size_t)(n_rows > 0 ? n_rows : 1) * sizeof *buf);
    char *has_point = calloc((size_t)(n_points > 0 ? n_points : 1), 1);
    sqlite3_stmt *pt_st = NULL, *sel_st = NULL;
    int rc;
    if (!buf || !has_point) {
        free(buf);
        free(has_point);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    }
    for (int i = 0; i < n_rows; i++)
        has_point[rows[i].point] = 1;
    if ((rc = sdb_prepare(s, "INSERT INTO cache_point_pctl VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                      &pt_st, err)) == TAM_OK)
        rc = sdb_prepare(s, "INSERT INTO cache_sel_pctl VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                     &sel_st, err);
    /* Groups: each load point, then the selections all, lowest, highest. */
    for (int g = 0; g < n_points + 3 && rc == TAM_OK; g++) {
        int is_sel = g >= n_points, kind = is_sel ? G_ALL + (g - n_points) : G_POINT;
        if (!is_sel && !has_point[g])
            continue;
        sqlite3_stmt *st = is_sel ? sel_st : pt_st;
        for (int m = 0; m < N_METRIC && rc == TAM_OK; m++) {
            long long k;
            double q[6];
            group_pctl(rows, n_rows, kind, g, m, buf, buf + n_rows, buf + 2 * n_rows, &k, q);
            if (k == 0)
                continue;
            sqlite3_bind_int64(st, 1, run_id);
            if (is_sel)
                sqlite3_bind_text(st, 2, sel_name[g - n_points], -1, SQLITE_STATIC);
            else
                sqlite3_bind_int(st, 2, g);
            sqlite3_bind_text(st, 3, sdb_metric_name[m], -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, k);
            for (int j = 0; j < 6; j++)
                sdb_bind_real(st, 5 + j, q[j]);
            rc = step_done(s, st, "writing the percentile cache", err);
        }
    }
    sqlite3_finalize(pt_st);
    sqlite3_finalize(sel_st);
    free(buf);
    free(has_point);
    return rc;
}

/* Replace the run's cache rows from its predictions p (in req_index order
** `order`, twins `twin`); inside the caller's transaction. */
int sdb_write_caches(store_t *s, long long run_id, const pred_t *p, const pred_key_t *order,
                        int n, const int *twin, const exp_truth_t *t, char *err)
{
    static const char *const del[] = {
        "DELETE FROM cache_point_sums WHERE run_id = ?1",
        "DELETE FROM cache_point_pctl WHERE run_id = ?1",
        "DELETE FROM cache_sel_pctl WHERE run_id = ?1",
    };
    int rc = TAM_OK;
    for (size_t i = 0; i < sizeof del / sizeof del[0] && rc == TAM_OK; i++) {
        sqlite3_stmt *st;
        if ((rc = sdb_prepare(s, del[i], &st, err)) != TAM_OK)
            return rc;
        sqlite3_bind_int64(st, 1, run_id);
        rc = step_done(s, st, "clearing the run's cache rows", err);
        sqlite3_finalize(st);
    }
    if (rc != TAM_OK)
        return rc;
    pair_row_t *rows = malloc((size_t)(n > 0 ? n : 1) * sizeof *rows);
    if (!rows)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    int n_rows = build_pairs(p, order, n, twin, t, rows);
    if ((rc = write_point_sums(s, run_id, rows, n_rows, t->n_points, err)) == TAM_OK)
        rc = write_pctl(s, run_id, rows, n_rows, t->n_points, err);
    free(rows);
    return rc;
}

/* The cache rows of one stored 'ok' run, from its stored predictions. */
int sdb_cache_stored_run(store_t *s, long long run_id, const char *exp_id,
                            const exp_truth_t *t, char *err)
{
    sqlite3_stmt *st;
    int rc, n = 0, cap = 0, step;
    pred_t *p = NULL;
    if ((rc = sdb_prepare(s,
                      "SELECT req_index, point, ttft, tpot, e2e, rejected FROM predictions "
                      "WHERE run_id = ?1 ORDER BY req_index",
                      &st, err)) != TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            pred_t *grown = realloc(p, (size_t)cap * sizeof *p);
            if (!grown) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
                break;
            }
            p = grown;
        }
        pred_t *q = &p[n++];
        memset(q, 0, sizeof *q);
        q->req_index = sqlite3_column_int(st, 0);
        q->point = sqlite3_column_int(st, 1);
        q->ttft = sdb_col_real(st, 2);
        q->tpot = sdb_col_real(st, 3);
        q->e2e = sdb_col_real(st, 4);
        q->rejected = sqlite3_column_int(st, 5);
    }
    if (rc == TAM_OK && step != SQLITE_DONE)
        rc = sdb_db_fail(s, err, "reading the run's predictions");
    sqlite3_finalize(st);
    pred_key_t *order = rc == TAM_OK ? malloc((size_t)(n > 0 ? n : 1) * sizeof *order) : NULL;
    int *twin = order ? malloc((size_t)(n > 0 ? n : 1) * sizeof *twin) : NULL;
    if (rc == TAM_OK && !twin)
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    if (rc == TAM_OK) {
        for (int i = 0; i < n; i++)
            order[i] = (pred_key_t){p[i].req_index, i};
        if ((rc = sdb_match_twins(s, run_id, exp_id, p, order, n, t, twin, err)) == TAM_OK)
            rc = sdb_write_caches(s, run_id, p, order, n, twin, t, err);
    }
    free(twin);
    free(order);
    free(p);
    return rc;
}

/* Recompute the cache rows of every 'ok' run (a build with other view
** definitions opened the database); inside the caller's transaction.
** About the cost of reading every prediction once. */
int sdb_rebuild_caches(store_t *s, char *err)
{
    sqlite3_stmt *st;
    exp_truth_t t = {0};
    char *loaded = NULL; /* experiment whose truth is in t */
    int rc = TAM_OK, step;
    if (sqlite3_exec(s->db,
                     "DELETE FROM cache_point_sums; DELETE FROM cache_point_pctl; "
                     "DELETE FROM cache_sel_pctl;",
                     NULL, NULL, NULL) != SQLITE_OK)
        return sdb_db_fail(s, err, "clearing the cache tables");
    if ((rc = sdb_prepare(s,
                      "SELECT id, experiment_id FROM runs WHERE status = 'ok' "
                      "ORDER BY experiment_id, id",
                      &st, err)) != TAM_OK)
        return rc;
    while (rc == TAM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        const char *exp = (const char *)sqlite3_column_text(st, 1);
        if (!loaded || strcmp(loaded, exp) != 0) {
            sdb_truth_free(&t);
            free(loaded);
            if (!(loaded = strdup(exp)))
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
            else
                rc = sdb_truth_load(s, exp, &t, err);
        }
        if (rc == TAM_OK)
            rc = sdb_cache_stored_run(s, id, exp, &t, err);
    }
    if (rc == TAM_OK && step != SQLITE_DONE)
        rc = sdb_db_fail(s, err, "listing the ok runs");
    sqlite3_finalize(st);
    sdb_truth_free(&t);
    free(loaded);
    return rc;
}

/* }==================================================================== */
