/* db/schema.c - opening a store: applying the compiled-in schema and views, marking
** runs whose process is gone as failed (db/store.h). */
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

#include "schema_sql.h"

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
    fnv_t f = {HASH_FNV1A64_BASIS};
    sdb_fnv_int(&f, STORE_SCHEMA_VERSION);
    sdb_fnv_str(&f, store_schema_text);
    sdb_fnv_str(&f, store_views_text);
    sdb_fnv_hex(&f, out);
}

/* The database's schema version and meta.sql_hash ("" when absent). */
static int schema_state(store_t *s, int *version, char hash[17], char *err)
{
    sqlite3_stmt *st;
    *version = 0;
    hash[0] = '\0';
    int rc = sdb_prepare(s, "PRAGMA user_version", &st, err);
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
    if ((rc = sdb_begin_write(s, err)) != TAM_OK)
        return rc;
    /* Another process may have applied it while we waited for the lock. */
    if ((rc = schema_state(s, &version, have, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    if (version == STORE_SCHEMA_VERSION && strcmp(have, want) == 0) {
        sdb_rollback(s);
        return TAM_OK;
    }
    if (version != 0 && version != STORE_SCHEMA_VERSION) {
        sdb_rollback(s);
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
        sdb_rollback(s);
        return rc;
    }
    /* A database made by another build may hold caches computed by other
    ** view definitions. */
    if (version != 0 && (rc = sdb_rebuild_caches(s, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO meta(key, value) VALUES ('sql_hash', '%s');"
             "PRAGMA user_version = %d;",
             want, STORE_SCHEMA_VERSION);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        rc = sdb_db_fail(s, err, "recording the schema version");
        sdb_rollback(s);
        return rc;
    }
    return sdb_commit(s, err);
}

/* Runs of this host left 'running' by a process that no longer exists
** become 'failed' with error 'interrupted'.  A pid that exists (even if it
** is now another program) is left alone: false negatives only. */
static int mark_stale(store_t *s, char *err)
{
    sqlite3_stmt *st;
    long long *ids = NULL;
    int n = 0, cap = 0, rc;
    if ((rc = sdb_prepare(s, "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?1", &st,
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
        rc = sdb_db_fail(s, err, "looking for stale runs");
        sqlite3_finalize(st);
        free(ids);
        return rc;
    }
    sqlite3_finalize(st);
    if (n == 0)
        return TAM_OK;
    if ((rc = sdb_begin_write(s, err)) != TAM_OK) {
        free(ids);
        return rc;
    }
    if ((rc = sdb_prepare(s,
                      "UPDATE runs SET status = 'failed', error = 'interrupted', finished = " SQL_NOW
                      " WHERE id = ?1 AND status = 'running'",
                      &st, err)) != TAM_OK) {
        sdb_rollback(s);
        free(ids);
        return rc;
    }
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = sdb_db_fail(s, err, "marking a stale run failed");
            sqlite3_finalize(st);
            sdb_rollback(s);
            free(ids);
            return rc;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    free(ids);
    return sdb_commit(s, err);
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
    if ((rc = sdb_exec_retry(s, "PRAGMA journal_mode = WAL", err)) != TAM_OK ||
        (rc = sdb_exec_retry(s, "PRAGMA synchronous = NORMAL", err)) != TAM_OK ||
        (rc = sdb_exec_retry(s, "PRAGMA foreign_keys = ON", err)) != TAM_OK ||
        (rc = sdb_exec_retry(s, "PRAGMA cache_size = -65536", err)) != TAM_OK ||
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
