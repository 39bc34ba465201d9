/* tools/harness/tier1.h - Tier 1 one-trace calibration as library code: the
** experiments it reads, simulations memoised by (experiment, o, c), the
** residual and in-simulator fits, and the cross-validation protocols.
** `tam calibrate` (tools/cli/cmd_calibrate.c) parses options, writes the
** coefficient file and prints; the method itself is described there and in
** docs/METHOD.md.  Library code: errors come back in err; the only output is
** an optional progress line on stderr (cctx_t.quiet = 0 and a terminal).
*/
#ifndef TAM_TIER1_H
#define TAM_TIER1_H

#include "calib.h"
#include "harness.h"
#include "inputs.h"
#include "runner.h"
#include "trace.h"

#define MIN_REQUESTS 100  /* successful requests a calibration trace needs */
#define O_MAX 0.032       /* s: per-step overhead search range [0, O_MAX] */
#define O_COARSE 9
#define O_LEVELS 4        /* lattice step O_MAX / ((O_COARSE - 1) 2^O_LEVELS) = 0.25 ms */
#define C_MAX 0.5         /* s: client_ttft_s range [0, C_MAX] */
#define C_QUANT 1e-5      /* s: c is rounded to 10 us */
#define C_FIXPOINT 2      /* extra genuine simulations to re-centre c */
#define MAXE 64           /* experiments in a cross-validation */

enum { M_BASE, M_RESID, M_INSIM, M_BOTH, N_METHODS };
extern const char *const tier1_method_name[N_METHODS];
#define SPLIT_SEEDS 20 /* plus the canonical 42 (docs/METHOD.md) */

/* {====== experiments, predictions, metrics ====== */

typedef struct {
    char label[160];       /* manifest id, or the trace folder */
    int number;            /* manifest number (0: a lone trace) */
    char family[64];
    trace_t *t;
    model_t m;
    int tp;
    double *m_ttft, *m_tpot, *m_e2e; /* measured, trace order; NaN when no pair */
    int n_ok;
} cexp_t;

typedef struct {           /* one simulation's predictions, trace order */
    double *ttft, *tpot, *e2e; /* s; NaN when rejected / undefined */
    int rejected;
} cpred_t;

typedef struct {
    double ttft, tpot, e2e; /* MAPE (fractions) */
    double j;              /* objective: mean of the defined ones of ttft, tpot */
} cmet_t;

typedef struct {
    int e;                 /* experiment index */
    int base;              /* 1: the base configuration as it is */
    double o, c;           /* otherwise: overheads = o, client_ttft_s = c */
    cpred_t p;
} centry_t;

typedef struct {
    hw_t hw;
    kset_t *ks;
    const char *gemm_table; /* --gemm-mfu, or NULL */
    econf_t base;
    unsigned long long seed;
    int quiet;
    int n;
    cexp_t *x;
    centry_t **cache;      /* entries never move: handed-out pointers stay valid */
    int n_cache, cap_cache;
    long long n_sims;
    double sim_wall;
} cctx_t;

typedef struct {
    int has_insim, has_resid;
    double o, c;           /* insim: overheads and client_ttft_s (s) */
    calib_fit_t fp, ft;    /* residual fits (ms): TPOT, TTFT */
    int n_eval, n_sims;    /* insim search: candidates, simulations */
} cparams_t;

enum { P_SINGLE, P_SPLIT };

typedef struct {
    int protocol;          /* P_SINGLE | P_SPLIT */
    int choice;            /* P_SINGLE: manifest number; P_SPLIT: split seed */
    int method;
    int ntrain, train[MAXE];
    int nheld, held[MAXE];
    cparams_t par;
    cmet_t train_m;        /* mean over the training experiments */
    double train_j, val_j; /* guard inputs */
    int reject;            /* guard: fall back to the base */
    cmet_t hm[MAXE];       /* per held-out experiment */
    cmet_t bm[MAXE];       /* the base on the same experiment */
    int stale[MAXE];
    cmet_t held_mean, base_mean, guarded_mean;
} cv_row_t;

void tier1_cexp_free(cexp_t *x);
int tier1_cexp_measured(cexp_t *x, char *err);
void tier1_cpred_free(cpred_t *p);
int tier1_fit_method(cctx_t *cx, int method, const int *set, int ns, const cparams_t *insim,
                      cparams_t *par, char *err);
cmet_t tier1_metrics_mean(const cmet_t *v, int n);
void tier1_params_conf(const cctx_t *cx, const cparams_t *par, econf_t *c);
int tier1_params_metrics(cctx_t *cx, const cparams_t *par, int e, cmet_t *m, char *err);
int tier1_cv_run(cctx_t *cx, const manifest_t *man, int nsplits, cv_row_t **rows_out,
                  int *nrows_out, char *err);
int tier1_load_manifest(cctx_t *cx, const manifest_t *man, const char *data, char *err);
int tier1_load_single(cctx_t *cx, const char *dir, const char *model, const char *data,
                       char *err);
/* Free what tier1_load_single / tier1_load_manifest and the simulations
** allocated for nx experiments (cctx_t.x, the memo); cx is left zeroed. */
void tier1_free(cctx_t *cx, int nx);

#endif
