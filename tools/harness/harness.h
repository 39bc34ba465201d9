/* tools/harness/harness.h - the hypothesis harness: corpus manifest, grids,
** runs, criteria.  Library code: nothing here parses options or prints; the
** `tam ingest/run/report/jobs/merge` commands (tools/cli/) do.
**
**   experiments/corpus.json     the measured experiments (data, not code)
**   experiments/Hn/grid.json    arms (label + engine configuration) x seeds
**   experiments/Hn/criteria.json  pre-registered criteria, each one SQL query
**                               returning one number, an operator and a threshold
**
** Every file is read strictly (engine/jsonutil.h): nothing may follow the
** JSON value and no object may give a key twice.
*/
#ifndef TAM_HARNESS_H
#define TAM_HARNESS_H

#include "common.h"
#include "econf.h"
#include "model.h"
#include "trace.h"
#include "store.h"

#include <cJSON.h>

/* {====== the manifest ====== */

typedef struct {
    int number;
    char id[128], path[256], model[128], family[64], attention[8], heavy[16], workload[64];
    int tp;
} manifest_exp_t;

typedef struct {
    int n;
    manifest_exp_t *e;
} manifest_t;

int manifest_load(const char *path, manifest_t *m, char *err);
void manifest_free(manifest_t *m);
/* A manifest experiment's model config and trace, from under the data
** directory (model first: its errors name the manifest's model folder). */
int manifest_exp_load(const manifest_exp_t *e, const char *data, model_t *m, trace_t **t,
                      char *err);

/* The split of a split seed: held[f] = manifest index held out for family f.
** One held-out experiment per family, drawn with PCG32 (stream 7). */
int split_draw(const manifest_t *m, unsigned long long seed, int *held, int *nheld, char *err);

/* Experiment e's trace (under data) into the store, unless it is there
** already (*n_req = *n_points = -1 then; else the counts ingested). */
int harness_ingest(store_t *s, const char *data, const manifest_exp_t *e, int *n_req,
                   int *n_points, char *err);
/* The split of every split seed (42 and 1..20), one held-out experiment per family. */
int harness_ingest_splits(store_t *s, const manifest_t *m, char *err);

/* }====== */

/* {====== grids ====== */

/* A grid file, validated as a whole before anything runs: the hypothesis,
** and per arm its label, its engine configuration (strictly parsed, named
** after the label) and its seeds (the arm's own or the grid's).  Everything
** points into root, owned by the grid. */
typedef struct {
    cJSON *root;
    const char *hyp;
    int narms;
    const char **label;
    const cJSON **seeds; /* per arm: a JSON array of whole numbers */
    econf_t *conf;
} grid_t;

int grid_load(const char *path, grid_t *g, char *err);
void grid_free(grid_t *g);
/* --arm names one of the grid's arms (a typo would otherwise run nothing). */
int grid_has_arm(const grid_t *g, const char *arm, const char *path, char *err);

/* }====== */

/* {====== running a grid ====== */

/* What became of one (arm, experiment, seed) cell, for a progress report. */
typedef enum {
    HARNESS_CELL_STORED,    /* an 'ok' run was stored already: reused */
    HARNESS_CELL_SIMULATED, /* simulated and stored now */
    HARNESS_CELL_DROPPED    /* simulated, but another process stored it meanwhile */
} harness_cell_what_t;

typedef struct {
    int done, total; /* cells handled so far (this one included) / selected */
    const char *hyp, *label;
    int number; /* the experiment's manifest number */
    unsigned long long seed;
    harness_cell_what_t what;
    long long run_id; /* the stored run */
    int n_req;
    long long steps;     /* SIMULATED/DROPPED: the run's engine steps */
    double wall_seconds; /* and its wall time */
    int n_sim, n_reused; /* running totals */
} harness_cell_t;

typedef void (*harness_progress_fn)(void *ctx, const harness_cell_t *c);

/* Which cells to run, and where. */
typedef struct {
    const char *db;      /* the store's path, for messages */
    const char *data;    /* the data directory */
    const char *kernels; /* every arm over this kernel set, or NULL */
    const char *only;    /* one experiment id, or NULL */
    const char *arm;     /* one arm label, or NULL */
    long long seed;      /* one seed, or -1 */
    harness_progress_fn progress; /* called after each cell, or NULL */
    void *ctx;
} harness_run_t;

/* Run every selected cell of grid g over manifest m into the store: each run
** simulated whole and committed in one transaction (a failed run is stored as
** 'failed', never partial); runs already 'ok' for the same configuration
** hash are reused.  Registers the grid's configurations and arms first.  g's
** configurations are bound to their kernel sets in place. */
int harness_run_grid(store_t *s, const manifest_t *m, grid_t *g, const harness_run_t *r,
                     int *n_sim, int *n_reused, char *err);

/* }====== */

/* {====== criteria ====== */

/* A criteria file, validated as a whole: each criterion has id, text, sql,
** op (>=, >, <=, <), a numeric threshold and optionally "primary": false. */
typedef struct {
    const char *path;
    cJSON *root;
    const char *hyp;
    const cJSON *list;
} criteria_t;

int criteria_load(const char *path, criteria_t *c, char *err);
void criteria_free(criteria_t *c);

typedef struct {
    const char *id, *text, *op; /* point into the criteria file */
    double value, threshold;    /* value NaN: the query returned NULL */
    int primary, pass;
} criterion_result_t;

typedef struct {
    int n_primary, n_pass, n_nan;
    const char *verdict; /* Confirmed, Partially confirmed, Refuted, Inconclusive */
} criteria_verdict_t;

typedef void (*harness_criterion_fn)(void *ctx, const criterion_result_t *r);

/* Evaluate every criterion (its query -> one number, against its threshold)
** and the verdict from the primary ones; store them in table `criteria` in
** one transaction (nothing on error).  cb sees each result in order. */
int criteria_eval(store_t *s, const criteria_t *c, harness_criterion_fn cb, void *ctx,
                  criteria_verdict_t *v, char *err);

/* }====== */

#endif
