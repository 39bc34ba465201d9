/* db/store_int.h - what the files of the store (the db/ sources) share: the store
** handle, the transaction and statement helpers, the field hashing used for
** content fingerprints, and the types a run's commit passes to the caches.
**
** Not part of the store's interface (db/store.h): only the db/ sources include it.
** The invariants of db/store.h and db/store.c hold for every file here: one
** BEGIN IMMEDIATE transaction per write, rollback on failure, no printing.
*/
#ifndef TAM_STORE_INT_H
#define TAM_STORE_INT_H

#include "store.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

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

/* A content fingerprint (of an ingested trace, of the SQL) being built:
** FNV-1a 64 from HASH_FNV1A64_BASIS (engine/hash.h) over each field's
** fixed-width encoding (sdb_fnv_int/real/str). */
typedef struct {
    uint64_t h;
} fnv_t;

/* A prediction's place in req_index order (sorting (key, position) pairs
** keeps the caller's array untouched). */
typedef struct {
    int req_index;
    int pos;
} pred_key_t;

enum { M_TTFT, M_TPOT, M_E2E, N_METRIC };
extern const char *const sdb_metric_name[N_METRIC];

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

/* ---- helpers (db/store.c) ---- */
int sdb_commit(store_t *s, char *err);
void sdb_rollback(store_t *s);
int sdb_begin_write(store_t *s, char *err);
int sdb_exec_retry(store_t *s, const char *sql, char *err);
int sdb_seed_ok(unsigned long long seed, char *err);
const char *sdb_nonempty(const char *v);
int sdb_prepare(store_t *s, const char *sql, sqlite3_stmt **st, char *err);
void sdb_bind_real(sqlite3_stmt *st, int i, double v);
void sdb_fnv_str(fnv_t *f, const char *s);
void sdb_fnv_hex(const fnv_t *f, char out[17]);
int sdb_db_fail(store_t *s, char *err, const char *what);
int sdb_same_text(const unsigned char *a, const char *b);
void sdb_bind_text(sqlite3_stmt *st, int i, const char *v);
void sdb_fnv_real(fnv_t *f, double v);
void sdb_fnv_int(fnv_t *f, long long v);
int sdb_truth_load(store_t *s, const char *exp_id, exp_truth_t *t, char *err);
void sdb_truth_free(exp_truth_t *t);
double sdb_col_real(sqlite3_stmt *st, int i);
int sdb_match_twins(store_t *s, long long run_id, const char *exp_id, const pred_t *p,
                       const pred_key_t *order, int n, const exp_truth_t *t, int *twin,
                       char *err);
int sdb_cache_stored_run(store_t *s, long long run_id, const char *exp_id,
                            const exp_truth_t *t, char *err);
int sdb_write_caches(store_t *s, long long run_id, const pred_t *p, const pred_key_t *order,
                        int n, const int *twin, const exp_truth_t *t, char *err);
int sdb_rebuild_caches(store_t *s, char *err);

#endif
