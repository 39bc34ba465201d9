/* db/store.h - the SQLite results store: ground truth, configurations, runs,
** predictions, splits, criteria and synthetic sweeps.
**
** The schema lives in db/schema.sql (compiled in; applied on open, idempotent)
** and every metric of docs/METHOD.md is a SQL view over it, so a user can
** re-derive any number in FINDINGS.md with plain sqlite3.
**
** Durability contract:
**   - ground truth (experiments, load points, measured requests) is loaded
**     once per experiment and idempotently (re-ingest = no change);
**   - a run is a row created with status 'running' and committed; its
**     predictions and the status 'ok' are written in ONE later transaction,
**     so a killed process leaves no prediction rows, only a 'running' row
**     that store_open marks 'failed' (stale: its pid is gone);
**   - WAL mode, busy timeout and BEGIN IMMEDIATE make concurrent writers
**     (two `make` jobs) serialise instead of failing or corrupting.
** Library code: never prints or exits; errors go into err[TAM_ERRLEN].
*/
#ifndef TAM_STORE_H
#define TAM_STORE_H

#include "common.h"
#include "pred.h"
#include "trace.h"

typedef struct store store_t;

/* One corpus experiment as the manifest (experiments/corpus.json) describes it. */
typedef struct {
    const char *id;        /* folder name */
    int number;            /* 1..14 in docs/CORPUS.md, 0 for others */
    const char *family;    /* llama-2-7b | llama-2-70b | mixtral-8x7b | codellama-34b | ... */
    const char *attention; /* "MHA" | "GQA" */
    const char *heavy;     /* "decode" | "prefill" */
    const char *model;     /* model config folder under DATA/models */
    int tp;
} exp_meta_t;

int store_open(const char *path, store_t **out, char *err);
void store_close(store_t *s);
const char *store_path(const store_t *s);

/* Ground truth.  Idempotent: a second call for the same experiment id checks
** the request count matches and changes nothing. */
int store_ingest(store_t *s, const exp_meta_t *meta, const trace_t *t, char *err);
int store_has_experiment(store_t *s, const char *id, int *has, char *err);

/* Engine configuration: canonical JSON and its hash; returns its row id
** (inserting if new).  git_rev is the engine's source revision. */
int store_config(store_t *s, const char *name, const char *canonical_json, const char *hash,
                 const char *git_rev, long long *config_id, char *err);

/* Runs.  `hypothesis` is e.g. "H1", `label` the grid arm ("baseline", "eta=0.80"). */
int store_run_find_ok(store_t *s, long long config_id, const char *exp_id, unsigned long long seed,
                      long long *run_id, char *err); /* run_id = 0 if none */
int store_run_begin(store_t *s, long long config_id, const char *exp_id, unsigned long long seed,
                    const char *hypothesis, const char *label, long long *run_id, char *err);
/* Commit: the predictions, the run's status 'ok' and its metric caches, in
** one transaction.  Runs are deterministic, so a (configuration, experiment,
** seed) needs only one 'ok' run: when another process committed one while
** this run was simulating (two grids sharing an arm), this run is dropped
** instead, and *kept (may be NULL) names the run that stays; otherwise
** *kept = run_id. */
int store_run_commit(store_t *s, long long run_id, const pred_t *p, int n, const run_stats_t *st,
                     long long *kept, char *err);
int store_run_fail(store_t *s, long long run_id, const char *why, char *err);

/* Merge a shard (a store written by one job of a split grid) into s, in one
** transaction: missing experiments, configurations (by hash), arms, splits,
** sweeps, and every 'ok' run not already held as 'ok' for the same
** (configuration, experiment, seed), with its predictions.  Idempotent. */
typedef struct {
    int experiments;  /* experiments copied */
    int runs;         /* runs copied */
    int skipped;      /* ok runs of the shard already present here */
    long long predictions;
} store_merge_t;
int store_merge(store_t *s, const char *shard, store_merge_t *ms, char *err);

/* Raw SQL for harness code (analysis steps, criteria); errors into err. */
int store_exec(store_t *s, const char *sql, char *err);
/* First column of the first row as double; NaN (and TAM_OK) when NULL/no row. */
int store_scalar(store_t *s, const char *sql, double *out, char *err);
void *store_handle(store_t *s); /* the sqlite3* for tools that need more */

/* ---- Additions (db/store.c); the declarations above are unchanged. ---- */

/* Record that configuration config_id is arm (hypothesis, label) of a grid.
** store_run_begin does this itself; call it when an arm's runs were all
** reused through store_run_find_ok, so corpus_metrics lists the arm too.
** Idempotent. */
int store_arm(store_t *s, const char *hypothesis, const char *label, long long config_id,
              char *err);

/* Replace the rows of one split seed with n experiments, held[i] != 0 marking
** the held-out ones (role 'held', else 'train'); one transaction. */
int store_split(store_t *s, unsigned long long split_seed, int n, const char *const *exp_ids,
                const int *held, char *err);

/* Write n points of a simulator-internal sweep (table sweeps), replacing any
** with the same (study, series, x, y); y may be NULL (all 0); NaN values are
** stored as NULL; config_id 0 = none.  One transaction. */
int store_sweep(store_t *s, const char *study, const char *series, int n, const double *x,
                const double *y, const double *value, long long config_id, char *err);

/* The SQL text compiled into store.c (db/schema.sql, db/views.sql), for the
** test that checks db/schema_sql.h is in sync with the .sql files. */
const char *store_schema_sql(void);
const char *store_views_sql(void);

#endif
