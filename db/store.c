/* db/store.c - the SQLite results store (db/store.h).
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
#include "store.h"

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

#include <sqlite3.h>

#include "schema_sql.h"

#define STORE_SCHEMA_VERSION 1 /* PRAGMA user_version of this build's schema */
#define STORE_BUSY_MS 60000    /* how long a writer waits for another one */

/* The timestamp format of every run/config metadata column (UTC). */
#define SQL_NOW "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

struct store {
    sqlite3 *db;
    char *path;          /* as given to store_open */
    char host[256];      /* gethostname(), for stale-run detection */
    char git_rev[128];   /* last git_rev given to store_config; "" = none */
};

static int rebuild_caches(store_t *s, char *err);

/* {====================================================================
** Helpers
** ===================================================================== */

static int db_fail(store_t *s, char *err, const char *what)
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
static int exec_retry(store_t *s, const char *sql, char *err)
{
    double deadline = mono_seconds() + STORE_BUSY_MS / 1000.0;
    for (;;) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return TAM_OK;
        if (!is_busy(rc) || mono_seconds() > deadline)
            return db_fail(s, err, sql);
        sleep_ms(10);
    }
}

static int begin_write(store_t *s, char *err)
{
    return exec_retry(s, "BEGIN IMMEDIATE", err);
}

static void rollback(store_t *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int commit(store_t *s, char *err)
{
    int rc = exec_retry(s, "COMMIT", err);
    if (rc != TAM_OK)
        rollback(s);
    return rc;
}

static int prepare(store_t *s, const char *sql, sqlite3_stmt **st, char *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return db_fail(s, err, "prepare");
    }
    return TAM_OK;
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Text that is NULL when empty (fixed char[] fields of trace_t). */
static const char *nonempty(const char *v)
{
    return v && *v ? v : NULL;
}

static int same_text(const unsigned char *a, const char *b)
{
    if (!a || !b)
        return !a && !b;
    return strcmp((const char *)a, b) == 0;
}

static int seed_ok(unsigned long long seed, char *err)
{
    if (seed > (unsigned long long)INT64_MAX)
        return tam_fail(err, TAM_EFIELD, "seed %llu does not fit a SQLite integer (max %lld)",
                        seed, (long long)INT64_MAX);
    return TAM_OK;
}

/* FNV-1a 64: the content fingerprint of an ingested trace and of the SQL. */
typedef struct {
    uint64_t h;
} fnv_t;

static void fnv_bytes(fnv_t *f, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        f->h ^= b[i];
        f->h *= 1099511628211ULL;
    }
}

static void fnv_int(fnv_t *f, long long v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((unsigned long long)v >> (8 * i));
    fnv_bytes(f, b, 8);
}

static void fnv_real(fnv_t *f, double v)
{
    uint64_t u;
    if (isnan(v))
        v = NAN;   /* one NaN pattern */
    if (v == 0.0)
        v = 0.0;   /* -0 == 0 */
    memcpy(&u, &v, 8);
    fnv_int(f, (long long)u);
}

static void fnv_str(fnv_t *f, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    fnv_int(f, (long long)n);
    fnv_bytes(f, s ? s : "", n);
}

static void fnv_hex(const fnv_t *f, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)f->h);
}

/* }==================================================================== */

/* {====================================================================
** Open, schema, stale runs
** ===================================================================== */

const char *store_schema_sql(void)
{
    return store_schema_text;
}

const char *store_views_sql(void)
{
    return store_views_text;
}

static void sql_hash(char out[17])
{
    fnv_t f = {14695981039346656037ULL};
    fnv_int(&f, STORE_SCHEMA_VERSION);
    fnv_str(&f, store_schema_text);
    fnv_str(&f, store_views_text);
    fnv_hex(&f, out);
}

/* The database's schema version and meta.sql_hash ("" when absent). */
static int schema_state(store_t *s, int *version, char hash[17], char *err)
{
    sqlite3_stmt *st;
    *version = 0;
    hash[0] = '\0';
    int rc = prepare(s, "PRAGMA user_version", &st, err);
    if (rc != TAM_OK)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (*version == 0)
        return TAM_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'sql_hash'", -1, &st,
                           NULL) != SQLITE_OK)
        return TAM_OK; /* no meta table: the SQL must be applied */
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(hash, 17, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return TAM_OK;
}

static int apply_schema(store_t *s, char *err)
{
    char want[17], have[17];
    int version, rc;
    sql_hash(want);
    if ((rc = schema_state(s, &version, have, err)) != TAM_OK)
        return rc;
    if (version == STORE_SCHEMA_VERSION && strcmp(have, want) == 0)
        return TAM_OK;
    if (version > STORE_SCHEMA_VERSION)
        return tam_fail(err, TAM_EDB,
                        "%s: schema version %d is newer than this build's (%d); rebuild tam",
                        s->path, version, STORE_SCHEMA_VERSION);
    if ((rc = begin_write(s, err)) != TAM_OK)
        return rc;
    /* Another process may have applied it while we waited for the lock. */
    if ((rc = schema_state(s, &version, have, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    if (version == STORE_SCHEMA_VERSION && strcmp(have, want) == 0) {
        rollback(s);
        return TAM_OK;
    }
    if (version != 0 && version != STORE_SCHEMA_VERSION) {
        rollback(s);
        return tam_fail(err, TAM_EDB,
                        "%s: schema version %d, this build has %d and no migration from it",
                        s->path, version, STORE_SCHEMA_VERSION);
    }
    char *msg = NULL;
    if (sqlite3_exec(s->db, store_schema_text, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, store_views_text, NULL, NULL, &msg) != SQLITE_OK) {
        rc = tam_fail(err, TAM_EDB, "%s: applying the schema: %s", s->path,
                      msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        rollback(s);
        return rc;
    }
    /* A database made by another build may hold caches computed by other
    ** view definitions. */
    if (version != 0 && (rc = rebuild_caches(s, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO meta(key, value) VALUES ('sql_hash', '%s');"
             "PRAGMA user_version = %d;",
             want, STORE_SCHEMA_VERSION);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "recording the schema version");
        rollback(s);
        return rc;
    }
    return commit(s, err);
}

/* Runs of this host left 'running' by a process that no longer exists
** become 'failed' with error 'interrupted'.  A pid that exists (even if it
** is now another program) is left alone: false negatives only. */
static int mark_stale(store_t *s, char *err)
{
    sqlite3_stmt *st;
    long long *ids = NULL;
    int n = 0, cap = 0, rc;
    if ((rc = prepare(s, "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?1", &st,
                      err)) != TAM_OK)
        return rc;
    sqlite3_bind_text(st, 1, s->host, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) != SQLITE_INTEGER)
            continue;
        long long pid = sqlite3_column_int64(st, 1);
        if (pid <= 0 || pid > INT32_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            long long *grown = realloc(ids, (size_t)cap * sizeof *ids);
            if (!grown) {
                free(ids);
                sqlite3_finalize(st);
                return tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
            }
            ids = grown;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(s, err, "looking for stale runs");
        sqlite3_finalize(st);
        free(ids);
        return rc;
    }
    sqlite3_finalize(st);
    if (n == 0)
        return TAM_OK;
    if ((rc = begin_write(s, err)) != TAM_OK) {
        free(ids);
        return rc;
    }
    if ((rc = prepare(s,
                      "UPDATE runs SET status = 'failed', error = 'interrupted', finished = " SQL_NOW
                      " WHERE id = ?1 AND status = 'running'",
                      &st, err)) != TAM_OK) {
        rollback(s);
        free(ids);
        return rc;
    }
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_fail(s, err, "marking a stale run failed");
            sqlite3_finalize(st);
            rollback(s);
            free(ids);
            return rc;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    free(ids);
    return commit(s, err);
}

int store_open(const char *path, store_t **out, char *err)
{
    *out = NULL;
    if (!path || !*path)
        return tam_fail(err, TAM_EDB, "store_open: empty database path");
    store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
    }
    if (gethostname(s->host, sizeof s->host - 1) != 0)
        snprintf(s->host, sizeof s->host, "unknown");
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rc = tam_fail(err, TAM_EDB,
                      "%s: cannot open the database: %s (does its folder exist, and is it "
                      "writable?)",
                      path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        store_close(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    /* journal_mode touches the file first: a file that is not a database
    ** fails here, with SQLite's "file is not a database". */
    if ((rc = exec_retry(s, "PRAGMA journal_mode = WAL", err)) != TAM_OK ||
        (rc = exec_retry(s, "PRAGMA synchronous = NORMAL", err)) != TAM_OK ||
        (rc = exec_retry(s, "PRAGMA foreign_keys = ON", err)) != TAM_OK ||
        (rc = exec_retry(s, "PRAGMA cache_size = -65536", err)) != TAM_OK ||
        (rc = apply_schema(s, err)) != TAM_OK || (rc = mark_stale(s, err)) != TAM_OK) {
        store_close(s);
        return rc;
    }
    *out = s;
    return TAM_OK;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

const char *store_path(const store_t *s)
{
    return s->path;
}

void *store_handle(store_t *s)
{
    return s->db;
}

/* }==================================================================== */

/* {====================================================================
** Ground truth
** ===================================================================== */

static const char *kind_name(arrival_kind_t k)
{
    switch (k) {
    case ARR_REPLAY: return "replay";
    case ARR_SYNCHRONOUS: return "synchronous";
    case ARR_THROUGHPUT: return "throughput";
    case ARR_CONSTANT: return "constant";
    case ARR_POISSON: return "poisson";
    }
    return NULL;
}

/* Fingerprint of everything ingest stores from the trace (not the path, not
** the seed-dependent prefix groups). */
static void trace_hash(const trace_t *t, char out[17])
{
    fnv_t f = {14695981039346656037ULL};
    fnv_str(&f, t->format);
    fnv_str(&f, t->model_id);
    long long ints[] = {t->tp, t->max_num_batched_tokens, t->max_num_seqs, t->max_model_len,
                        t->kv_blocks, t->block_size, t->n_prefix_groups, t->prefix_len,
                        t->users_per_group, t->n_units, t->n_points, t->n_req};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        fnv_int(&f, ints[i]);
    for (int i = 0; i < t->n_points; i++) {
        const trace_point_t *p = &t->points[i];
        fnv_str(&f, p->name);
        fnv_int(&f, p->unit);
        fnv_int(&f, p->kind);
        fnv_real(&f, p->rate);
        fnv_int(&f, p->max_concurrency);
        fnv_int(&f, p->warm_prefix);
        fnv_int(&f, p->is_lowest);
        fnv_int(&f, p->is_highest);
        fnv_real(&f, p->t_start);
        fnv_real(&f, p->t_end);
    }
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *r = &t->req[i];
        fnv_int(&f, r->index);
        fnv_int(&f, r->point);
        fnv_real(&f, r->t_send);
        fnv_int(&f, r->in_tokens);
        fnv_int(&f, r->out_tokens);
        fnv_int(&f, r->out_client);
        fnv_int(&f, r->prefix_tokens);
        fnv_int(&f, r->ok);
        fnv_real(&f, r->ok ? r->ttft : NAN);
        fnv_real(&f, r->ok ? r->e2e : NAN);
    }
    fnv_hex(&f, out);
}

static int ingest_check(const exp_meta_t *m, const trace_t *t, char *err)
{
    if (!m || !m->id || !*m->id)
        return tam_fail(err, TAM_EFIELD, "store_ingest: experiment id missing");
    if (!t)
        return tam_fail(err, TAM_EFIELD, "store_ingest: %s: no trace", m->id);
    if (t->n_points < 1 || !t->points)
        return tam_fail(err, TAM_EFIELD, "store_ingest: %s: trace has no load points", m->id);
    if (t->n_req < 0 || (t->n_req > 0 && !t->req))
        return tam_fail(err, TAM_EFIELD, "store_ingest: %s: n_req %d without requests", m->id,
                        t->n_req);
    if (m->tp > 0 && t->tp > 0 && m->tp != t->tp)
        return tam_fail(err, TAM_EFIELD, "store_ingest: %s: manifest tp %d but trace tp %d",
                        m->id, m->tp, t->tp);
    for (int i = 0; i < t->n_points; i++)
        if (!kind_name(t->points[i].kind))
            return tam_fail(err, TAM_EFIELD, "store_ingest: %s: point %d: arrival kind %d",
                            m->id, i, (int)t->points[i].kind);
    for (int i = 0; i < t->n_req; i++)
        if (t->req[i].point < 0 || t->req[i].point >= t->n_points)
            return tam_fail(err, TAM_EFIELD,
                            "store_ingest: %s: request %d: point %d outside 0..%d", m->id,
                            t->req[i].index, t->req[i].point, t->n_points - 1);
    return TAM_OK;
}

/* The experiment is already stored: TAM_OK when it matches (meta and
** content), else an error naming the first difference. */
static int ingest_compare(store_t *s, sqlite3_stmt *st, const exp_meta_t *m, const trace_t *t,
                          const char *hash, char *err)
{
    int tp = m->tp > 0 ? m->tp : t->tp;
    const char *field = NULL;
    if (sqlite3_column_int(st, 6) != t->n_req)
        return tam_fail(err, TAM_ECHECK,
                        "%s: experiment %s is stored with %d requests but this trace has %d; "
                        "ground truth is never replaced (use a fresh database)",
                        s->path, m->id, sqlite3_column_int(st, 6), t->n_req);
    if (!same_text(sqlite3_column_text(st, 7), hash))
        return tam_fail(err, TAM_ECHECK,
                        "%s: experiment %s is stored with other content (hash %s, now %s): the "
                        "data or the trace loader changed; use a fresh database",
                        s->path, m->id, (const char *)sqlite3_column_text(st, 7), hash);
    if (sqlite3_column_int(st, 0) != m->number)
        field = "number";
    else if (!same_text(sqlite3_column_text(st, 1), m->family))
        field = "family";
    else if (!same_text(sqlite3_column_text(st, 2), m->attention))
        field = "attention";
    else if (!same_text(sqlite3_column_text(st, 3), m->heavy))
        field = "heavy";
    else if (!same_text(sqlite3_column_text(st, 4), m->model))
        field = "model";
    else if (sqlite3_column_int(st, 5) != tp)
        field = "tp";
    if (field)
        return tam_fail(err, TAM_ECHECK,
                        "%s: experiment %s is stored with another manifest %s; use a fresh "
                        "database or fix the manifest",
                        s->path, m->id, field);
    return TAM_OK;
}

static int ingest_insert(store_t *s, const exp_meta_t *m, const trace_t *t, const char *hash,
                         char *err)
{
    sqlite3_stmt *st = NULL;
    int rc, n_ok = 0;
    for (int i = 0; i < t->n_req; i++)
        n_ok += t->req[i].ok != 0;
    if ((rc = prepare(s,
                      "INSERT INTO experiments(id, number, family, attention, heavy, model, "
                      "model_id, tp, format, path, max_num_batched_tokens, max_num_seqs, "
                      "max_model_len, kv_blocks, block_size, n_prefix_groups, prefix_len, "
                      "users_per_group, n_units, n_points, n_requests, n_ok, content_hash) "
                      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,"
                      "?19,?20,?21,?22,?23)",
                      &st, err)) != TAM_OK)
        return rc;
    bind_text(st, 1, m->id);
    sqlite3_bind_int(st, 2, m->number);
    bind_text(st, 3, m->family);
    bind_text(st, 4, m->attention);
    bind_text(st, 5, m->heavy);
    bind_text(st, 6, m->model);
    bind_text(st, 7, nonempty(t->model_id));
    sqlite3_bind_int(st, 8, m->tp > 0 ? m->tp : t->tp);
    bind_text(st, 9, t->format);
    bind_text(st, 10, t->path);
    int ints[] = {t->max_num_batched_tokens, t->max_num_seqs, t->max_model_len, t->kv_blocks,
                  t->block_size, t->n_prefix_groups, t->prefix_len, t->users_per_group,
                  t->n_units, t->n_points, t->n_req, n_ok};
    for (int i = 0; i < 12; i++)
        sqlite3_bind_int(st, 11 + i, ints[i]);
    bind_text(st, 23, hash);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(s, err, "inserting the experiment");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);

    if ((rc = prepare(s,
                      "INSERT INTO load_points(experiment_id, point, name, unit, kind, rate, "
                      "max_concurrency, warm_prefix, is_lowest, is_highest, t_start, t_end) "
                      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                      &st, err)) != TAM_OK)
        return rc;
    for (int i = 0; i < t->n_points; i++) {
        const trace_point_t *p = &t->points[i];
        bind_text(st, 1, m->id);
        sqlite3_bind_int(st, 2, i);
        bind_text(st, 3, p->name);
        sqlite3_bind_int(st, 4, p->unit);
        bind_text(st, 5, kind_name(p->kind));
        bind_real(st, 6, p->rate > 0 ? p->rate : NAN);
        if (p->max_concurrency > 0)
            sqlite3_bind_int(st, 7, p->max_concurrency);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_int(st, 8, p->warm_prefix != 0);
        sqlite3_bind_int(st, 9, p->is_lowest != 0);
        sqlite3_bind_int(st, 10, p->is_highest != 0);
        bind_real(st, 11, p->t_start);
        bind_real(st, 12, p->t_end);
        if (sqlite3_step(st) != SQLITE_DONE) {
            char what[96];
            snprintf(what, sizeof what, "inserting load point %d", i);
            rc = db_fail(s, err, what);
            sqlite3_finalize(st);
            return rc;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);

    if ((rc = prepare(s,
                      "INSERT INTO measured(experiment_id, req_index, point, t_send, ok, "
                      "in_tokens, out_tokens, out_client, prefix_tokens, ttft, e2e) "
                      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                      &st, err)) != TAM_OK)
        return rc;
    bind_text(st, 1, m->id);
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *r = &t->req[i];
        sqlite3_bind_int(st, 2, r->index);
        sqlite3_bind_int(st, 3, r->point);
        bind_real(st, 4, r->t_send);
        sqlite3_bind_int(st, 5, r->ok != 0);
        sqlite3_bind_int(st, 6, r->in_tokens);
        sqlite3_bind_int(st, 7, r->out_tokens);
        if (r->out_client >= 0)
            sqlite3_bind_int(st, 8, r->out_client);
        else
            sqlite3_bind_null(st, 8);
        sqlite3_bind_int(st, 9, r->prefix_tokens);
        bind_real(st, 10, r->ok ? r->ttft : NAN);
        bind_real(st, 11, r->ok ? r->e2e : NAN);
        if (sqlite3_step(st) != SQLITE_DONE) {
            char what[96];
            snprintf(what, sizeof what, "inserting measured request %d", r->index);
            rc = db_fail(s, err, what);
            sqlite3_finalize(st);
            return rc;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return TAM_OK;
}

int store_ingest(store_t *s, const exp_meta_t *meta, const trace_t *t, char *err)
{
    int rc;
    char hash[17];
    if ((rc = ingest_check(meta, t, err)) != TAM_OK)
        return rc;
    trace_hash(t, hash);
    if ((rc = begin_write(s, err)) != TAM_OK)
        return rc;
    sqlite3_stmt *st;
    if ((rc = prepare(s,
                      "SELECT number, family, attention, heavy, model, tp, n_requests, "
                      "content_hash FROM experiments WHERE id = ?1",
                      &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    bind_text(st, 1, meta->id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        rc = ingest_compare(s, st, meta, t, hash, err);
        sqlite3_finalize(st);
        rollback(s); /* nothing was written */
        return rc;
    }
    if (step != SQLITE_DONE) {
        rc = db_fail(s, err, "looking up the experiment");
        sqlite3_finalize(st);
        rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    if ((rc = ingest_insert(s, meta, t, hash, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    return commit(s, err);
}

int store_has_experiment(store_t *s, const char *id, int *has, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *has = 0;
    if ((rc = prepare(s, "SELECT 1 FROM experiments WHERE id = ?1", &st, err)) != TAM_OK)
        return rc;
    bind_text(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *has = 1;
    else if (step != SQLITE_DONE)
        rc = db_fail(s, err, "looking up the experiment");
    sqlite3_finalize(st);
    return rc;
}

/* }==================================================================== */

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
    if ((rc = begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = prepare(s, "SELECT id, canonical_json FROM configs WHERE hash = ?1", &st, err)) !=
        TAM_OK) {
        rollback(s);
        return rc;
    }
    bind_text(st, 1, hash);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (!same_text(sqlite3_column_text(st, 1), canonical_json))
            rc = tam_fail(err, TAM_ECHECK,
                          "%s: config hash %s is stored with another canonical_json (config %lld): "
                          "the hash does not identify the JSON",
                          s->path, hash, (long long)sqlite3_column_int64(st, 0));
        else
            *config_id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        rollback(s);
        return rc;
    }
    if (step != SQLITE_DONE) {
        rc = db_fail(s, err, "looking up the config");
        sqlite3_finalize(st);
        rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    if ((rc = prepare(s,
                      "INSERT INTO configs(name, hash, canonical_json, git_rev, created) "
                      "VALUES (?1, ?2, ?3, ?4, " SQL_NOW ")",
                      &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    bind_text(st, 1, name);
    bind_text(st, 2, hash);
    bind_text(st, 3, canonical_json);
    bind_text(st, 4, nonempty(git_rev));
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(s, err, "inserting the config");
        sqlite3_finalize(st);
        rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    *config_id = sqlite3_last_insert_rowid(s->db);
    if ((rc = commit(s, err)) != TAM_OK)
        *config_id = 0;
    return rc;
}

/* INSERT OR IGNORE the arm; inside the caller's transaction. */
static int arm_insert(store_t *s, const char *hypothesis, const char *label, long long config_id,
                      char *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = prepare(s, "INSERT OR IGNORE INTO arms(hypothesis, label, config_id) VALUES (?1,?2,?3)",
                      &st, err)) != TAM_OK)
        return rc;
    bind_text(st, 1, hypothesis);
    bind_text(st, 2, label);
    sqlite3_bind_int64(st, 3, config_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(s, err, "recording the grid arm");
    sqlite3_finalize(st);
    return rc;
}

int store_arm(store_t *s, const char *hypothesis, const char *label, long long config_id,
              char *err)
{
    int rc;
    if (!hypothesis || !label)
        return tam_fail(err, TAM_EFIELD, "store_arm: hypothesis and label are required");
    if ((rc = begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = arm_insert(s, hypothesis, label, config_id, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    return commit(s, err);
}

int store_run_find_ok(store_t *s, long long config_id, const char *exp_id, unsigned long long seed,
                      long long *run_id, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *run_id = 0;
    if ((rc = seed_ok(seed, err)) != TAM_OK)
        return rc;
    if ((rc = prepare(s,
                      "SELECT max(id) FROM runs WHERE config_id = ?1 AND experiment_id = ?2 "
                      "AND seed = ?3 AND status = 'ok'",
                      &st, err)) != TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, config_id);
    bind_text(st, 2, exp_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seed);
    if (sqlite3_step(st) == SQLITE_ROW)
        *run_id = sqlite3_column_int64(st, 0); /* NULL -> 0 */
    else
        rc = db_fail(s, err, "looking up an ok run");
    sqlite3_finalize(st);
    return rc;
}

int store_run_begin(store_t *s, long long config_id, const char *exp_id, unsigned long long seed,
                    const char *hypothesis, const char *label, long long *run_id, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *run_id = 0;
    if ((rc = seed_ok(seed, err)) != TAM_OK)
        return rc;
    if (!exp_id)
        return tam_fail(err, TAM_EFIELD, "store_run_begin: experiment id missing");
    if ((rc = begin_write(s, err)) != TAM_OK)
        return rc;
    /* Clear messages for the two foreign keys. */
    if ((rc = prepare(s,
                      "SELECT (SELECT count(*) FROM configs WHERE id = ?1), "
                      "(SELECT count(*) FROM experiments WHERE id = ?2)",
                      &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, config_id);
    bind_text(st, 2, exp_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = db_fail(s, err, "checking the run's config and experiment");
    else if (sqlite3_column_int(st, 0) == 0)
        rc = tam_fail(err, TAM_EFIELD, "%s: store_run_begin: no config %lld", s->path, config_id);
    else if (sqlite3_column_int(st, 1) == 0)
        rc = tam_fail(err, TAM_EFIELD, "%s: store_run_begin: experiment %s is not ingested",
                      s->path, exp_id);
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        rollback(s);
        return rc;
    }
    if ((rc = prepare(s,
                      "INSERT INTO runs(config_id, experiment_id, seed, hypothesis, label, status, "
                      "git_rev, pid, host, started) VALUES (?1, ?2, ?3, ?4, ?5, 'running', "
                      "coalesce(?6, (SELECT git_rev FROM configs WHERE id = ?1)), ?7, ?8, " SQL_NOW
                      ")",
                      &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, config_id);
    bind_text(st, 2, exp_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seed);
    bind_text(st, 4, hypothesis);
    bind_text(st, 5, label);
    bind_text(st, 6, nonempty(s->git_rev));
    sqlite3_bind_int64(st, 7, (sqlite3_int64)getpid());
    bind_text(st, 8, s->host);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(s, err, "inserting the run");
        sqlite3_finalize(st);
        rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    long long id = sqlite3_last_insert_rowid(s->db);
    if (hypothesis && label && (rc = arm_insert(s, hypothesis, label, config_id, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    if ((rc = commit(s, err)) == TAM_OK)
        *run_id = id;
    return rc;
}

/* }==================================================================== */

/* {====================================================================
** Runs: the steps of a commit
** ===================================================================== */

/* A prediction's place in req_index order (sorting (key, position) pairs
** keeps the caller's array untouched). */
typedef struct {
    int req_index;
    int pos;
} pred_key_t;

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
    if ((rc = prepare(s, "SELECT status, experiment_id FROM runs WHERE id = ?1", &st, err)) !=
        TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = tam_fail(err, TAM_EFIELD, "%s: no run %lld", s->path, run_id);
    else if (step != SQLITE_ROW)
        rc = db_fail(s, err, "looking up the run");
    else if (!same_text(sqlite3_column_text(st, 0), "running"))
        rc = tam_fail(err, TAM_EFIELD, "%s: run %lld is '%s', not 'running'", s->path, run_id,
                      (const char *)sqlite3_column_text(st, 0));
    else if (!(*exp_id = strdup((const char *)sqlite3_column_text(st, 1))))
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    sqlite3_finalize(st);
    return rc;
}

enum { M_TTFT, M_TPOT, M_E2E, N_METRIC };
static const char *const metric_name[N_METRIC] = {"ttft", "tpot", "e2e"};

/* What a commit needs to know of the run's experiment. */
typedef struct {
    int n;            /* measured requests */
    int *req_index;   /* ascending */
    int *point;
    int *ok;
    double *lat;      /* [i * N_METRIC + m]: measured ttft, tpot (the generated
                      ** column), e2e in s; NaN = NULL */
    int n_points;     /* 1 + the largest load point */
    unsigned char *flags; /* [point]: 1 = is_lowest, 2 = is_highest */
} exp_truth_t;

static void truth_free(exp_truth_t *t)
{
    free(t->req_index);
    free(t->point);
    free(t->ok);
    free(t->lat);
    free(t->flags);
    memset(t, 0, sizeof *t);
}

static double col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int count_rows(store_t *s, const char *sql, const char *exp_id, int *n, char *err)
{
    sqlite3_stmt *st;
    int rc = prepare(s, sql, &st, err);
    if (rc != TAM_OK)
        return rc;
    bind_text(st, 1, exp_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int(st, 0);
    else
        rc = db_fail(s, err, "counting rows");
    sqlite3_finalize(st);
    return rc;
}

static int truth_load(store_t *s, const char *exp_id, exp_truth_t *t, char *err)
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
        truth_free(t);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    }
    if ((rc = prepare(s,
                      "SELECT req_index, point, ok, ttft, tpot, e2e FROM measured "
                      "WHERE experiment_id = ?1 ORDER BY req_index",
                      &st, err)) != TAM_OK) {
        truth_free(t);
        return rc;
    }
    bind_text(st, 1, exp_id);
    while (i < t->n && (step = sqlite3_step(st)) == SQLITE_ROW) {
        t->req_index[i] = sqlite3_column_int(st, 0);
        t->point[i] = sqlite3_column_int(st, 1);
        t->ok[i] = sqlite3_column_int(st, 2);
        for (int m = 0; m < N_METRIC; m++)
            t->lat[i * N_METRIC + m] = col_real(st, 3 + m);
        i++;
    }
    sqlite3_finalize(st);
    if (i != t->n) {
        truth_free(t);
        return db_fail(s, err, "reading the measured requests");
    }
    if ((rc = prepare(s,
                      "SELECT point, is_lowest, is_highest FROM load_points "
                      "WHERE experiment_id = ?1",
                      &st, err)) != TAM_OK) {
        truth_free(t);
        return rc;
    }
    bind_text(st, 1, exp_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int pt = sqlite3_column_int(st, 0);
        if (pt >= 0 && pt < t->n_points)
            t->flags[pt] = (unsigned char)((sqlite3_column_int(st, 1) ? 1 : 0) |
                                           (sqlite3_column_int(st, 2) ? 2 : 0));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        truth_free(t);
        return db_fail(s, err, "reading the load points");
    }
    return TAM_OK;
}

/* Every prediction must have a measured twin at the same load point:
** twin[k] = the measured row of order[k] (a merge of two sorted lists). */
static int match_twins(store_t *s, long long run_id, const char *exp_id, const pred_t *p,
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
    int rc = prepare(s, sql, st, err);
    free(sql);
    return rc;
}

static void bind_pred(sqlite3_stmt *st, int base, long long run_id, const pred_t *q)
{
    sqlite3_bind_int64(st, base + 1, run_id);
    sqlite3_bind_int(st, base + 2, q->req_index);
    sqlite3_bind_int(st, base + 3, q->point);
    bind_real(st, base + 4, q->arrival);
    bind_real(st, base + 5, q->scheduled);
    bind_real(st, base + 6, q->ttft);
    bind_real(st, base + 7, q->tpot);
    bind_real(st, base + 8, q->e2e);
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
            rc = db_fail(s, err, what);
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
    if ((rc = prepare(s,
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
        bind_real(st, 4, rs->sim_seconds);
        bind_real(st, 5, rs->wall_seconds);
        sqlite3_bind_int64(st, 6, rs->preemptions);
        sqlite3_bind_int(st, 7, rs->rejected);
        bind_real(st, 8, rs->mean_batch);
        bind_real(st, 9, rs->busy_fraction);
    } /* else: unbound parameters are NULL */
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(s, err, "marking the run ok");
    else if (sqlite3_changes(s->db) != 1)
        rc = tam_fail(err, TAM_EDB, "%s: run %lld changed status during its commit", s->path,
                      run_id);
    sqlite3_finalize(st);
    return rc;
}

/* }==================================================================== */

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
    int rc = sqlite3_step(st) == SQLITE_DONE ? TAM_OK : db_fail(s, err, what);
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
    rc = prepare(s,
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
            bind_real(st, b + 1, any ? a->s_ape[m] : NAN);
            bind_real(st, b + 2, any ? a->s_signed[m] : NAN);
            bind_real(st, b + 3, any ? a->s_abs[m] : NAN);
            bind_real(st, b + 4, any ? a->s_meas[m] : NAN);
            bind_real(st, b + 5, any ? a->s_pred[m] : NAN);
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
    if ((rc = prepare(s, "INSERT INTO cache_point_pctl VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                      &pt_st, err)) == TAM_OK)
        rc = prepare(s, "INSERT INTO cache_sel_pctl VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
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
            sqlite3_bind_text(st, 3, metric_name[m], -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, k);
            for (int j = 0; j < 6; j++)
                bind_real(st, 5 + j, q[j]);
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
static int write_caches(store_t *s, long long run_id, const pred_t *p, const pred_key_t *order,
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
        if ((rc = prepare(s, del[i], &st, err)) != TAM_OK)
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
static int cache_stored_run(store_t *s, long long run_id, const char *exp_id,
                            const exp_truth_t *t, char *err)
{
    sqlite3_stmt *st;
    int rc, n = 0, cap = 0, step;
    pred_t *p = NULL;
    if ((rc = prepare(s,
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
        q->ttft = col_real(st, 2);
        q->tpot = col_real(st, 3);
        q->e2e = col_real(st, 4);
        q->rejected = sqlite3_column_int(st, 5);
    }
    if (rc == TAM_OK && step != SQLITE_DONE)
        rc = db_fail(s, err, "reading the run's predictions");
    sqlite3_finalize(st);
    pred_key_t *order = rc == TAM_OK ? malloc((size_t)(n > 0 ? n : 1) * sizeof *order) : NULL;
    int *twin = order ? malloc((size_t)(n > 0 ? n : 1) * sizeof *twin) : NULL;
    if (rc == TAM_OK && !twin)
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
    if (rc == TAM_OK) {
        for (int i = 0; i < n; i++)
            order[i] = (pred_key_t){p[i].req_index, i};
        if ((rc = match_twins(s, run_id, exp_id, p, order, n, t, twin, err)) == TAM_OK)
            rc = write_caches(s, run_id, p, order, n, twin, t, err);
    }
    free(twin);
    free(order);
    free(p);
    return rc;
}

/* Recompute the cache rows of every 'ok' run (a build with other view
** definitions opened the database); inside the caller's transaction.
** About the cost of reading every prediction once. */
static int rebuild_caches(store_t *s, char *err)
{
    sqlite3_stmt *st;
    exp_truth_t t = {0};
    char *loaded = NULL; /* experiment whose truth is in t */
    int rc = TAM_OK, step;
    if (sqlite3_exec(s->db,
                     "DELETE FROM cache_point_sums; DELETE FROM cache_point_pctl; "
                     "DELETE FROM cache_sel_pctl;",
                     NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, err, "clearing the cache tables");
    if ((rc = prepare(s,
                      "SELECT id, experiment_id FROM runs WHERE status = 'ok' "
                      "ORDER BY experiment_id, id",
                      &st, err)) != TAM_OK)
        return rc;
    while (rc == TAM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        const char *exp = (const char *)sqlite3_column_text(st, 1);
        if (!loaded || strcmp(loaded, exp) != 0) {
            truth_free(&t);
            free(loaded);
            if (!(loaded = strdup(exp)))
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
            else
                rc = truth_load(s, exp, &t, err);
        }
        if (rc == TAM_OK)
            rc = cache_stored_run(s, id, exp, &t, err);
    }
    if (rc == TAM_OK && step != SQLITE_DONE)
        rc = db_fail(s, err, "listing the ok runs");
    sqlite3_finalize(st);
    truth_free(&t);
    free(loaded);
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
    if ((rc = prepare(s,
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
        rc = db_fail(s, err, "looking for an ok run with the same key");
    sqlite3_finalize(st);
    return rc;
}

static int run_delete(store_t *s, long long run_id, char *err)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "DELETE FROM runs WHERE id = ?1", &st, err);
    if (rc != TAM_OK)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    rc = sqlite3_step(st) == SQLITE_DONE ? TAM_OK : db_fail(s, err, "dropping a duplicate run");
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
    if ((rc = begin_write(s, err)) != TAM_OK) {
        free(order);
        free(twin);
        return rc;
    }
    long long other = 0;
    if ((rc = run_running(s, run_id, &exp_id, err)) == TAM_OK)
        rc = ok_twin(s, run_id, &other, err);
    if (rc == TAM_OK && other) {
        /* Another process committed this run meanwhile: keep its rows. */
        if ((rc = run_delete(s, run_id, err)) == TAM_OK && (rc = commit(s, err)) == TAM_OK &&
            kept)
            *kept = other;
    } else if (rc == TAM_OK && (rc = truth_load(s, exp_id, &t, err)) == TAM_OK &&
               (rc = match_twins(s, run_id, exp_id, p, order, n, &t, twin, err)) == TAM_OK &&
               (rc = insert_predictions(s, run_id, p, order, n, err)) == TAM_OK &&
               (rc = run_mark_ok(s, run_id, n, st, err)) == TAM_OK &&
               (rc = write_caches(s, run_id, p, order, n, twin, &t, err)) == TAM_OK) {
        rc = commit(s, err);
    }
    if (rc != TAM_OK)
        rollback(s);
    truth_free(&t);
    free(exp_id);
    free(order);
    free(twin);
    return rc;
}

int store_run_fail(store_t *s, long long run_id, const char *why, char *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = prepare(s, "SELECT status FROM runs WHERE id = ?1", &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, run_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = tam_fail(err, TAM_EFIELD, "%s: store_run_fail: no run %lld", s->path, run_id);
    else if (step != SQLITE_ROW)
        rc = db_fail(s, err, "looking up the run");
    else if (same_text(sqlite3_column_text(st, 0), "ok"))
        rc = tam_fail(err, TAM_EFIELD, "%s: store_run_fail: run %lld is already 'ok'", s->path,
                      run_id);
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        rollback(s);
        return rc;
    }
    /* 'running' -> 'failed'; an already failed run keeps its first reason. */
    if ((rc = prepare(s,
                      "UPDATE runs SET status = 'failed', error = ?2, finished = " SQL_NOW
                      " WHERE id = ?1 AND status = 'running'",
                      &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, run_id);
    bind_text(st, 2, why && *why ? why : "failed");
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(s, err, "marking the run failed");
        sqlite3_finalize(st);
        rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    return commit(s, err);
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
    if ((rc = seed_ok(split_seed, err)) != TAM_OK)
        return rc;
    if (n < 0 || (n > 0 && (!exp_ids || !held)))
        return tam_fail(err, TAM_EFIELD, "store_split: seed %llu: bad arguments", split_seed);
    if ((rc = begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = prepare(s, "DELETE FROM splits WHERE split_seed = ?1", &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)split_seed);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(s, err, "replacing the split");
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        rollback(s);
        return rc;
    }
    if ((rc = prepare(s, "INSERT INTO splits(split_seed, experiment_id, role) VALUES (?1,?2,?3)",
                      &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)split_seed);
    for (int i = 0; i < n && rc == TAM_OK; i++) {
        bind_text(st, 2, exp_ids[i]);
        bind_text(st, 3, held[i] ? "held" : "train");
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s, err, "inserting a split row");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        rollback(s);
        return rc;
    }
    return commit(s, err);
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
    if ((rc = begin_write(s, err)) != TAM_OK)
        return rc;
    if ((rc = prepare(s,
                      "INSERT OR REPLACE INTO sweeps(study, series, x, y, value, config_id) "
                      "VALUES (?1,?2,?3,?4,?5,?6)",
                      &st, err)) != TAM_OK) {
        rollback(s);
        return rc;
    }
    bind_text(st, 1, study);
    bind_text(st, 2, series);
    if (config_id > 0)
        sqlite3_bind_int64(st, 6, config_id);
    else
        sqlite3_bind_null(st, 6);
    for (int i = 0; i < n && rc == TAM_OK; i++) {
        sqlite3_bind_double(st, 3, x[i]);
        sqlite3_bind_double(st, 4, y ? y[i] : 0.0);
        bind_real(st, 5, value[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s, err, "inserting a sweep point");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc != TAM_OK) {
        rollback(s);
        return rc;
    }
    return commit(s, err);
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
    if ((rc = prepare(s, sql, &st, err)) != TAM_OK)
        return rc;
    if (!st)
        return TAM_OK; /* empty SQL */
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            *out = sqlite3_column_double(st, 0);
    } else if (step != SQLITE_DONE) {
        rc = db_fail(s, err, "query");
    }
    sqlite3_finalize(st);
    return rc;
}

/* }==================================================================== */

/* {====================================================================
** Merging shards (grids split into independent jobs)
** =====================================================================
** A shard is a database written by one job (`tam jobs`).  Merging copies
** into this store, in one transaction per shard: its experiments (checked
** against ours by content hash, copied when missing), configurations
** (matched by hash, ids remapped), arms, splits, sweeps and every 'ok' run
** whose (configuration, experiment, seed) this store does not already hold
** as 'ok', with its predictions; cache rows are recomputed from the copied
** predictions.  So merging is lossless and idempotent: a second merge of the
** same shard copies nothing.  Failed and running runs of a shard are not
** copied (they have no predictions by construction). */

/* Comma-separated stored (non-generated) columns of a table, optionally
** skipping one (e.g. the rowid alias "id"). */
static int stored_columns(store_t *s, const char *table, const char *skip, char *out,
                          size_t cap, char *err)
{
    sqlite3_stmt *st;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_xinfo('%s') WHERE hidden = 0", table);
    int rc = prepare(s, sql, &st, err), step;
    size_t n = 0;
    out[0] = '\0';
    if (rc != TAM_OK)
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        if (skip && strcmp(c, skip) == 0)
            continue;
        int w = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", c);
        if (w < 0 || (size_t)w >= cap - n) {
            sqlite3_finalize(st);
            return tam_fail(err, TAM_EDB, "%s: column list of %s too long", s->path, table);
        }
        n += (size_t)w;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE || n == 0)
        return tam_fail(err, TAM_EDB, "%s: cannot list the columns of %s", s->path, table);
    return TAM_OK;
}

static int exec_fmt(store_t *s, char *err, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int exec_fmt(store_t *s, char *err, const char *what, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof sql)
        return tam_fail(err, TAM_EDB, "%s: statement too long (%s)", s->path, what);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, err, what);
    return TAM_OK;
}

static int merge_body(store_t *s, const char *shard, store_merge_t *ms, char *err)
{
    char ecols[2048], lcols[2048], mcols[2048], rcols[2048], pcols[2048];
    int rc;
    if ((rc = stored_columns(s, "experiments", NULL, ecols, sizeof ecols, err)) ||
        (rc = stored_columns(s, "load_points", NULL, lcols, sizeof lcols, err)) ||
        (rc = stored_columns(s, "measured", NULL, mcols, sizeof mcols, err)) ||
        (rc = stored_columns(s, "runs", "id", rcols, sizeof rcols, err)) ||
        (rc = stored_columns(s, "predictions", "run_id", pcols, sizeof pcols, err)))
        return rc;
    /* Ground truth: the same experiment must be the same data. */
    sqlite3_stmt *st;
    if ((rc = prepare(s, "SELECT sh.id FROM sh.experiments sh JOIN main.experiments m ON m.id = sh.id "
                         "WHERE m.content_hash <> sh.content_hash", &st, err)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        rc = tam_fail(err, TAM_EDB, "%s: experiment %s differs from the one in %s (content hash)",
                      shard, sqlite3_column_text(st, 0), s->path);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    ms->experiments = sqlite3_total_changes(s->db);
    if ((rc = exec_fmt(s, err, "copying experiments",
                       "INSERT INTO main.experiments(%s) SELECT %s FROM sh.experiments "
                       "WHERE id NOT IN (SELECT id FROM main.experiments)", ecols, ecols)))
        return rc;
    ms->experiments = sqlite3_total_changes(s->db) - ms->experiments;
    if ((rc = exec_fmt(s, err, "copying load points",
                       "INSERT OR IGNORE INTO main.load_points(%s) SELECT %s FROM sh.load_points",
                       lcols, lcols)) ||
        (rc = exec_fmt(s, err, "copying measured requests",
                       "INSERT OR IGNORE INTO main.measured(%s) SELECT %s FROM sh.measured",
                       mcols, mcols)) ||
        (rc = exec_fmt(s, err, "copying splits",
                       "INSERT OR IGNORE INTO main.splits(split_seed, experiment_id, role) "
                       "SELECT split_seed, experiment_id, role FROM sh.splits")))
        return rc;
    /* Configurations by hash; a hash with other JSON would be a broken digest. */
    if ((rc = prepare(s, "SELECT sh.hash FROM sh.configs sh JOIN main.configs m ON m.hash = sh.hash "
                         "WHERE m.canonical_json <> sh.canonical_json", &st, err)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        rc = tam_fail(err, TAM_EDB, "%s: configuration %s has other JSON than in %s", shard,
                      sqlite3_column_text(st, 0), s->path);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if ((rc = exec_fmt(s, err, "copying configurations",
                       "INSERT OR IGNORE INTO main.configs(name, hash, canonical_json, git_rev, "
                       "created) SELECT name, hash, canonical_json, git_rev, created FROM sh.configs")) ||
        (rc = exec_fmt(s, err, "copying arms",
                       "INSERT OR IGNORE INTO main.arms(hypothesis, label, config_id) "
                       "SELECT a.hypothesis, a.label, m.id FROM sh.arms a "
                       "JOIN sh.configs c ON c.id = a.config_id JOIN main.configs m ON m.hash = c.hash")) ||
        (rc = exec_fmt(s, err, "copying sweeps",
                       "INSERT OR IGNORE INTO main.sweeps(study, series, x, y, value, config_id) "
                       "SELECT w.study, w.series, w.x, w.y, w.value, m.id FROM sh.sweeps w "
                       "LEFT JOIN sh.configs c ON c.id = w.config_id "
                       "LEFT JOIN main.configs m ON m.hash = c.hash")))
        return rc;
    /* Runs this store does not hold as 'ok' yet. */
    if ((rc = prepare(s,
                      "SELECT r.id, m.id, r.experiment_id FROM sh.runs r "
                      "JOIN sh.configs c ON c.id = r.config_id JOIN main.configs m ON m.hash = c.hash "
                      "WHERE r.status = 'ok' AND NOT EXISTS (SELECT 1 FROM main.runs x "
                      "WHERE x.config_id = m.id AND x.experiment_id = r.experiment_id "
                      "AND x.seed = r.seed AND x.status = 'ok') ORDER BY r.id", &st, err)))
        return rc;
    exp_truth_t t = {0};
    char *loaded = NULL;
    int step;
    while (rc == TAM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        long long old = sqlite3_column_int64(st, 0), cid = sqlite3_column_int64(st, 1);
        const char *exp = (const char *)sqlite3_column_text(st, 2);
        /* the same columns, config_id replaced by this store's id for the hash */
        char rsel[2400], *w = rsel, *end = rsel + sizeof rsel;
        const char *c = rcols;
        while (*c && w < end - 32) {
            size_t len = strcspn(c, ",");
            if (len == 9 && strncmp(c, "config_id", 9) == 0)
                w += snprintf(w, (size_t)(end - w), "%lld", cid);
            else
                w += snprintf(w, (size_t)(end - w), "%.*s", (int)len, c);
            c += len;
            if (*c == ',') {
                w += snprintf(w, (size_t)(end - w), ", ");
                c += 1;
                while (*c == ' ')
                    c++;
            }
        }
        if ((rc = exec_fmt(s, err, "copying a run",
                           "INSERT INTO main.runs(%s) SELECT %s FROM sh.runs WHERE id = %lld",
                           rcols, rsel, old)))
            break;
        long long nid = sqlite3_last_insert_rowid(s->db);
        if ((rc = exec_fmt(s, err, "copying predictions",
                           "INSERT INTO main.predictions(run_id, %s) SELECT %lld, %s "
                           "FROM sh.predictions WHERE run_id = %lld", pcols, nid, pcols, old)))
            break;
        ms->predictions += sqlite3_changes(s->db);
        if (!loaded || strcmp(loaded, exp) != 0) {
            truth_free(&t);
            free(loaded);
            if (!(loaded = strdup(exp))) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
                break;
            }
            if ((rc = truth_load(s, exp, &t, err)))
                break;
        }
        if ((rc = cache_stored_run(s, nid, exp, &t, err)))
            break;
        ms->runs++;
    }
    if (rc == TAM_OK && step != SQLITE_DONE)
        rc = db_fail(s, err, "listing the shard's runs");
    sqlite3_finalize(st);
    truth_free(&t);
    free(loaded);
    if (rc == TAM_OK) {
        sqlite3_stmt *c;
        if ((rc = prepare(s, "SELECT count(*) FROM sh.runs WHERE status = 'ok'", &c, err)))
            return rc;
        if (sqlite3_step(c) == SQLITE_ROW)
            ms->skipped = sqlite3_column_int(c, 0) - ms->runs;
        sqlite3_finalize(c);
    }
    return rc;
}

int store_merge(store_t *s, const char *shard, store_merge_t *ms, char *err)
{
    memset(ms, 0, sizeof *ms);
    if (access(shard, R_OK) != 0)
        return tam_fail(err, TAM_EIO, "%s: cannot read shard: %s", shard, strerror(errno));
    sqlite3_stmt *st;
    int rc = prepare(s, "ATTACH DATABASE ?1 AS sh", &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, shard);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return tam_fail(err, TAM_EDB, "%s: cannot attach as a shard: %s", shard,
                        sqlite3_errmsg(s->db));
    int ver = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA sh.user_version", -1, &st, NULL) != SQLITE_OK) {
        rc = tam_fail(err, TAM_EDB, "%s: not a readable database: %s", shard,
                      sqlite3_errmsg(s->db));
    } else {
        if (sqlite3_step(st) == SQLITE_ROW)
            ver = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (ver != STORE_SCHEMA_VERSION)
            rc = tam_fail(err, TAM_EDB, "%s: schema version %d, this build writes %d (not a "
                          "tam store, or another version)", shard, ver, STORE_SCHEMA_VERSION);
    }
    if (rc == TAM_OK && (rc = begin_write(s, err)) == TAM_OK) {
        rc = merge_body(s, shard, ms, err);
        if (rc == TAM_OK)
            rc = commit(s, err);
        else
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_exec(s->db, "DETACH DATABASE sh", NULL, NULL, NULL);
    return rc;
}

/* }==================================================================== */
