/* db/merge.c - merging shard stores written by independent jobs (db/store.h). */
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
    int rc = sdb_prepare(s, sql, &st, err), step;
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
        return sdb_db_fail(s, err, what);
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
    if ((rc = sdb_prepare(s, "SELECT sh.id FROM sh.experiments sh JOIN main.experiments m ON m.id = sh.id "
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
    if ((rc = sdb_prepare(s, "SELECT sh.hash FROM sh.configs sh JOIN main.configs m ON m.hash = sh.hash "
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
    if ((rc = sdb_prepare(s,
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
            sdb_truth_free(&t);
            free(loaded);
            if (!(loaded = strdup(exp))) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", s->path);
                break;
            }
            if ((rc = sdb_truth_load(s, exp, &t, err)))
                break;
        }
        if ((rc = sdb_cache_stored_run(s, nid, exp, &t, err)))
            break;
        ms->runs++;
    }
    if (rc == TAM_OK && step != SQLITE_DONE)
        rc = sdb_db_fail(s, err, "listing the shard's runs");
    sqlite3_finalize(st);
    sdb_truth_free(&t);
    free(loaded);
    if (rc == TAM_OK) {
        sqlite3_stmt *c;
        if ((rc = sdb_prepare(s, "SELECT count(*) FROM sh.runs WHERE status = 'ok'", &c, err)))
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
    int rc = sdb_prepare(s, "ATTACH DATABASE ?1 AS sh", &st, err);
    if (rc)
        return rc;
    sdb_bind_text(st, 1, shard);
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
    if (rc == TAM_OK && (rc = sdb_begin_write(s, err)) == TAM_OK) {
        rc = merge_body(s, shard, ms, err);
        if (rc == TAM_OK)
            rc = sdb_commit(s, err);
        else
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_exec(s->db, "DETACH DATABASE sh", NULL, NULL, NULL);
    return rc;
}

/* }==================================================================== */
