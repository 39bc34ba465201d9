/* tools/harness/sweep.h - the simulator-internal studies (Part A of H4, H5,
** H6) as library code: each study computes its rows and a summary text in
** memory (sweep_out_t); sweep_write_store replaces a selection of studies'
** rows in the store in one transaction.  `tam sweep` (tools/cli/cmd_sweep.c)
** parses options and prints.  Deterministic: same inputs, same rows. */
#ifndef TAM_SWEEP_H
#define TAM_SWEEP_H

#include "inputs.h"
#include "store.h"

/* {====== rows and the summary text ====== */

typedef struct {
    const char *study;  /* static string */
    char series[48];
    double x, y, value; /* value NaN = NULL */
    long long config_id;
} sweep_row_t;

typedef struct {
    sweep_row_t *r;
    int n, cap;
    char *txt; /* summary printed on stdout after the commit */
    size_t tlen, tcap;
} sweep_out_t;


/* {====== shared inputs ====== */

typedef struct {
    inputs_t env;
    store_t *s;
    kset_t *ks;            /* the proposal's tables: Part A studies the baseline's lookups */
    const mfu_db_t *db;    /* ks->mfu */
    hw_t hw;
    char rev[128];
} sweep_ctx_t;

typedef struct {
    const char *name;
    const char *summary;  /* study holding its summary rows */
    const char *prefix;   /* summary series prefix it owns ("gemm:"), NULL = all */
    int (*fn)(sweep_ctx_t *, sweep_out_t *, char *);
} sweep_study_t;

/* Append printf-style text to o's summary (dropped silently when out of
** memory: the rows are what matters, the text is a courtesy). */
void sweep_say(sweep_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SWEEP_NSTUDIES 5
extern const sweep_study_t sweep_studies[SWEEP_NSTUDIES];

/* Replace the rows of the studies with sel[i] != 0 by o's, in one transaction. */
int sweep_write_store(store_t *s, const int *sel, const sweep_out_t *o, char *err);

/* The H6A counting rule over n values f[0], f[stride], ...: a "jump" is an
** adjacent change |b/a - 1| >= 5%; a "step" a jump its neighbours do not
** share (tests/t_sweep.c). */
void sweep_line_counts(const double *f, int n, int stride, int *jumps, int *steps);

#endif
