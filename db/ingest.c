/* db/ingest.c - ground truth: a measured trace into experiments, load points and
** measured requests, once and idempotently (db/store.h). */
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
    fnv_t f = {HASH_FNV1A64_BASIS};
    sdb_fnv_str(&f, t->format);
    sdb_fnv_str(&f, t->model_id);
    long long ints[] = {t->tp, t->max_num_batched_tokens, t->max_num_seqs, t->max_model_len,
                        t->kv_blocks, t->block_size, t->n_prefix_groups, t->prefix_len,
                        t->users_per_group, t->n_units, t->n_points, t->n_req};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        sdb_fnv_int(&f, ints[i]);
    for (int i = 0; i < t->n_points; i++) {
        const trace_point_t *p = &t->points[i];
        sdb_fnv_str(&f, p->name);
        sdb_fnv_int(&f, p->unit);
        sdb_fnv_int(&f, p->kind);
        sdb_fnv_real(&f, p->rate);
        sdb_fnv_int(&f, p->max_concurrency);
        sdb_fnv_int(&f, p->warm_prefix);
        sdb_fnv_int(&f, p->is_lowest);
        sdb_fnv_int(&f, p->is_highest);
        sdb_fnv_real(&f, p->t_start);
        sdb_fnv_real(&f, p->t_end);
    }
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *r = &t->req[i];
        sdb_fnv_int(&f, r->index);
        sdb_fnv_int(&f, r->point);
        sdb_fnv_real(&f, r->t_send);
        sdb_fnv_int(&f, r->in_tokens);
        sdb_fnv_int(&f, r->out_tokens);
        sdb_fnv_int(&f, r->out_client);
        sdb_fnv_int(&f, r->prefix_tokens);
        sdb_fnv_int(&f, r->ok);
        sdb_fnv_real(&f, r->ok ? r->ttft : NAN);
        sdb_fnv_real(&f, r->ok ? r->e2e : NAN);
    }
    sdb_fnv_hex(&f, out);
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
    if (!sdb_same_text(sqlite3_column_text(st, 7), hash))
        return tam_fail(err, TAM_ECHECK,
                        "%s: experiment %s is stored with other content (hash %s, now %s): the "
                        "data or the trace loader changed; use a fresh database",
                        s->path, m->id, (const char *)sqlite3_column_text(st, 7), hash);
    if (sqlite3_column_int(st, 0) != m->number)
        field = "number";
    else if (!sdb_same_text(sqlite3_column_text(st, 1), m->family))
        field = "family";
    else if (!sdb_same_text(sqlite3_column_text(st, 2), m->attention))
        field = "attention";
    else if (!sdb_same_text(sqlite3_column_text(st, 3), m->heavy))
        field = "heavy";
    else if (!sdb_same_text(sqlite3_column_text(st, 4), m->model))
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
    if ((rc = sdb_prepare(s,
                      "INSERT INTO experiments(id, number, family, attention, heavy, model, "
                      "model_id, tp, format, path, max_num_batched_tokens, max_num_seqs, "
                      "max_model_len, kv_blocks, block_size, n_prefix_groups, prefix_len, "
                      "users_per_group, n_units, n_points, n_requests, n_ok, content_hash) "
                      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,"
                      "?19,?20,?21,?22,?23)",
                      &st, err)) != TAM_OK)
        return rc;
    sdb_bind_text(st, 1, m->id);
    sqlite3_bind_int(st, 2, m->number);
    sdb_bind_text(st, 3, m->family);
    sdb_bind_text(st, 4, m->attention);
    sdb_bind_text(st, 5, m->heavy);
    sdb_bind_text(st, 6, m->model);
    sdb_bind_text(st, 7, sdb_nonempty(t->model_id));
    sqlite3_bind_int(st, 8, m->tp > 0 ? m->tp : t->tp);
    sdb_bind_text(st, 9, t->format);
    sdb_bind_text(st, 10, t->path);
    int ints[] = {t->max_num_batched_tokens, t->max_num_seqs, t->max_model_len, t->kv_blocks,
                  t->block_size, t->n_prefix_groups, t->prefix_len, t->users_per_group,
                  t->n_units, t->n_points, t->n_req, n_ok};
    for (int i = 0; i < 12; i++)
        sqlite3_bind_int(st, 11 + i, ints[i]);
    sdb_bind_text(st, 23, hash);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sdb_db_fail(s, err, "inserting the experiment");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);

    if ((rc = sdb_prepare(s,
                      "INSERT INTO load_points(experiment_id, point, name, unit, kind, rate, "
                      "max_concurrency, warm_prefix, is_lowest, is_highest, t_start, t_end) "
                      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                      &st, err)) != TAM_OK)
        return rc;
    for (int i = 0; i < t->n_points; i++) {
        const trace_point_t *p = &t->points[i];
        sdb_bind_text(st, 1, m->id);
        sqlite3_bind_int(st, 2, i);
        sdb_bind_text(st, 3, p->name);
        sqlite3_bind_int(st, 4, p->unit);
        sdb_bind_text(st, 5, kind_name(p->kind));
        sdb_bind_real(st, 6, p->rate > 0 ? p->rate : NAN);
        if (p->max_concurrency > 0)
            sqlite3_bind_int(st, 7, p->max_concurrency);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_int(st, 8, p->warm_prefix != 0);
        sqlite3_bind_int(st, 9, p->is_lowest != 0);
        sqlite3_bind_int(st, 10, p->is_highest != 0);
        sdb_bind_real(st, 11, p->t_start);
        sdb_bind_real(st, 12, p->t_end);
        if (sqlite3_step(st) != SQLITE_DONE) {
            char what[96];
            snprintf(what, sizeof what, "inserting load point %d", i);
            rc = sdb_db_fail(s, err, what);
            sqlite3_finalize(st);
            return rc;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);

    if ((rc = sdb_prepare(s,
                      "INSERT INTO measured(experiment_id, req_index, point, t_send, ok, "
                      "in_tokens, out_tokens, out_client, prefix_tokens, ttft, e2e) "
                      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                      &st, err)) != TAM_OK)
        return rc;
    sdb_bind_text(st, 1, m->id);
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *r = &t->req[i];
        sqlite3_bind_int(st, 2, r->index);
        sqlite3_bind_int(st, 3, r->point);
        sdb_bind_real(st, 4, r->t_send);
        sqlite3_bind_int(st, 5, r->ok != 0);
        sqlite3_bind_int(st, 6, r->in_tokens);
        sqlite3_bind_int(st, 7, r->out_tokens);
        if (r->out_client >= 0)
            sqlite3_bind_int(st, 8, r->out_client);
        else
            sqlite3_bind_null(st, 8);
        sqlite3_bind_int(st, 9, r->prefix_tokens);
        sdb_bind_real(st, 10, r->ok ? r->ttft : NAN);
        sdb_bind_real(st, 11, r->ok ? r->e2e : NAN);
        if (sqlite3_step(st) != SQLITE_DONE) {
            char what[96];
            snprintf(what, sizeof what, "inserting measured request %d", r->index);
            rc = sdb_db_fail(s, err, what);
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
    if ((rc = sdb_begin_write(s, err)) != TAM_OK)
        return rc;
    sqlite3_stmt *st;
    if ((rc = sdb_prepare(s,
                      "SELECT number, family, attention, heavy, model, tp, n_requests, "
                      "content_hash FROM experiments WHERE id = ?1",
                      &st, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    sdb_bind_text(st, 1, meta->id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        rc = ingest_compare(s, st, meta, t, hash, err);
        sqlite3_finalize(st);
        sdb_rollback(s); /* nothing was written */
        return rc;
    }
    if (step != SQLITE_DONE) {
        rc = sdb_db_fail(s, err, "looking up the experiment");
        sqlite3_finalize(st);
        sdb_rollback(s);
        return rc;
    }
    sqlite3_finalize(st);
    if ((rc = ingest_insert(s, meta, t, hash, err)) != TAM_OK) {
        sdb_rollback(s);
        return rc;
    }
    return sdb_commit(s, err);
}

int store_has_experiment(store_t *s, const char *id, int *has, char *err)
{
    sqlite3_stmt *st;
    int rc;
    *has = 0;
    if ((rc = sdb_prepare(s, "SELECT 1 FROM experiments WHERE id = ?1", &st, err)) != TAM_OK)
        return rc;
    sdb_bind_text(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *has = 1;
    else if (step != SQLITE_DONE)
        rc = sdb_db_fail(s, err, "looking up the experiment");
    sqlite3_finalize(st);
    return rc;
}

/* }==================================================================== */
