/* db/store.c - the SQLite results store (db/store.h): the helpers every
** part of the store shares (db/store_int.h), splits, sweeps and raw SQL.
** The other parts, one concern each: db/schema.c (open, schema, stale runs),
** db/ingest.c (ground truth), db/runs.c (configurations, arms, runs and their
** commit), db/caches.c (the cache_* tables), db/merge.c (shards).
**
** The schema is db/schema.sql + db/views.sql, compiled in through the
** generated db/schema_sql.h (sh db/gen-schema-h.sh).  store_open applies it
** when the database's PRAGMA user_version or meta.sql_hash differ from this
** build's, so an up-to-date database is opened without taking the write lock.
**
** Invariants:
**   - every write is one BEGIN IMMEDIATE transaction (begin_write): the write
**     lock is taken up front, so concurrent writers wait for each other
**     (busy timeout STORE_BUSY_MS) instead of failing half-way;
**   - a function that fails rolls back what it started: the database is as
**     it was before the call (store_run_commit leaves the run 'running' and
**     no prediction rows);
**   - a run's predictions, its status 'ok' and its rows in the cache_*
**     tables are written in one transaction; the cache rows are what the
**     *_live views of db/views.sql compute from the run's raw rows, and are
**     recomputed for every run when a build brings other view definitions;
**   - every stored prediction has its measured twin at the same load point,
**     and first_token/last_token = arrival + ttft/e2e (generated columns);
**   - a NaN double is stored as NULL;
**   - this file never prints or exits; errors go into err[TAM_ERRLEN] and name
**     the database path and what failed.
*/
#include "store_int.h"
#include "hash.h"

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
** Helpers
** ===================================================================== */

int sdb_db_fail(store_t *s, char *err, const char *what)
{
    return tam_fail(err, TAM_EDB, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int is_busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Run one statement that may find the database busy outside the busy handler
** (BEGIN IMMEDIATE during WAL recovery, a journal-mode change), retrying until
** STORE_BUSY_MS have passed. */
int sdb_exec_retry(store_t *s, const char *sql, char *err)
{
    double deadline = mono_seconds() + STORE_BUSY_MS / 1000.0;
    for (;;) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return TAM_OK;
        if (!is_busy(rc) || mono_seconds() > deadline)
            return sdb_db_fail(s, err, sql);
        sleep_ms(10);
    }
}

int sdb_begin_write(store_t *s, char *err)
{
    return sdb_exec_retry(s, "BEGIN IMMEDIATE", err);
}

void sdb_rollback(store_t *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int sdb_commit(store_t *s, char *err)
{
    int rc = sdb_exec_retry(s, "COMMIT", err);
    if (rc != TAM_OK)
        sdb_rollback(s);
    return rc;
}

int sdb_prepare(store_t *s, const char *sql, sqlite3_stmt **st, char *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return sdb_db_fail(s, err, "prepare");
    }
    return TAM_OK;
}

void sdb_bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

void sdb_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Text that is NULL when empty (fixed char[] fields of trace_t). */
const char *sdb_nonempty(const char *v)
{
    return v && *v ? v : NULL;
}

int sdb_same_text(const unsigned char *a, const char *b)
{
    if (!a || !b)
        return !a && !b;
    return strcmp((const char *)a, b) == 0;
}

int sdb_seed_ok(unsigned long long seed, char *err)
{
    if (seed > (unsigned long long)INT64_MAX)
        return tam_fail(err, TAM_EFIELD, "seed %llu does not fit a SQLite integer (max %lld)",
                        seed, (long long)INT64_MAX);
    return TAM_OK;
}

void sdb_fnv_int(fnv_t *f, long long v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((unsigned long long)v >> (8 * i));
    f->h = hash_fnv1a64(f->h, b, 8);
}

void sdb_fnv_real(fnv_t *f, double v)
{
    uint64_t u;
    if (isnan(v))
        v = NAN;   /* one NaN pattern */
    if (v == 0.0)
        v = 0.0;   /* -0 == 0 */
    memcpy(&u, &v, 8);
    sdb_fnv_int(f, (long long)u);
}

void sdb_fnv_str(fnv_t *f, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    sdb_fnv_int(f, (long long)n);
    f->h = hash_fnv1a64(f->h, s ? s : "", n);
}

void sdb_fnv_hex(const fnv_t *f, char out[17])
{
    hash_hex(f->h, out);
}

/* }==================================================================== */

/* {====================================================================
** Splits, sweeps, raw SQL
** ===================================================================== */

int store_split(store_t *s, unsigned long long split_seed, int n, const char *const *exp_ids,
                const int *held, char *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = sdb_seed_ok(split_seed, err)) != TAM_OK)
        return rc;
    if (n < 0 || (n > 0 && (!exp_ids || !held)))
        return tam_fail(err, TAM_EFIELD, "store_split: seed %llu: bad arguments", split_seed);
    if ((rc = sdb_begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = sdb_prepare(s, "DELETE FROM splits WHERE split_seed = ?1", &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)split_seed);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sdb_db_fail(s, err, "replacing the split");
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    if ((rc = sdb_prepare(s, "INSERT INTO splits(split_seed, experiment_id, role) VALUES (?1,?2,?3)",
                      &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)split_seed);
    for (int i = 0; i < n && rc == TAM_OK; i++) {
        sdb_bind_text(st, 2, exp_ids[i]);
        sdb_bind_text(st, 3, held[i] ? "held" : "train");
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sdb_db_fail(s, err, "inserting a split row");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    return sdb_commit(s, err);
}

int store_sweep(store_t *s, const char *study, const char *series, int n, const double *x,
                const double *y, const double *value, long long config_id, char *err)
{
    sqlite3_stmt *st;
    int rc;
    if (!study || !series || n < 0 || (n > 0 && (!x || !value)))
        return tam_fail(err, TAM_EFIELD, "store_sweep: bad arguments");
    for (int i = 0; i < n; i++)
        if (isnan(x[i]) || (y && isnan(y[i])))
            return tam_fail(err, TAM_EFIELD, "store_sweep: %s/%s: point %d has a NaN coordinate",
                            study, series, i);
    if ((rc = sdb_begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = sdb_prepare(s,
                      "INSERT OR REPLACE INTO sweeps(study, series, x, y, value, config_id) "
                      "VALUES (?1,?2,?3,?4,?5,?6)",
                      &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sdb_bind_text(st, 1, study);
    sdb_bind_text(st, 2, series);
    if (config_id > 0)
        sqlite3_bind_int64(st, 6, config_id);
    else
        sqlite3_bind_null(st, 6);
    for (int i = 0; i < n && rc == TAM_OK; i++) {
        sqlite3_bind_double(st, 3, x[i]);
        sqlite3_bind_double(st, 4, y ? y[i] : 0.0);
        sdb_bind_real(st, 5, value[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sdb_db_fail(s, err, "inserting a sweep point");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    return sdb_commit(s, err);
}

int store_exec(store_t *s, const char *sql, char *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = tam_fail(err, TAM_EDB, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return TAM_OK;
}

int store_scalar(store_t *s, const char *sql, double *out, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *out = NAN;
    if ((rc = sdb_prepare(s, sql, &st, err)) != TAM_OK)
        return rc;
    if (!st)
        return TAM_OK; /* empty SQL */
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            *out = sqlite3_column_double(st, 0);
    } else if (step != SQLITE_DONE) {
        rc = sdb_db_fail(s, err, "query");
    }
    sqlite3_finalize(st);
    return rc;
}

/* }==================================================================== */
