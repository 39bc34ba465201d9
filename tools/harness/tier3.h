/* tools/harness/tier3.h - Tier 3: a few physical coefficients fitted through the
** simulator, and their held-out evaluation.
**
** The coefficients (SIM_G_* order, engine/sim.h): four multipliers on the
** priced kernel times, one per limit a kernel meets (memory-bound GEMMs and
** elementwise kernels, compute-bound GEMMs and prefill attention, decode
** attention, the TP all-reduce), and the costs outside the GPU (engine-core
** CPU per step and per running request, the front end per request and per
** prompt token).  Each is an econf key, so a fitted set is a configuration
** like any other.
**
** The fit: maximum a posteriori, by Levenberg-Marquardt over re-simulations.
**   residuals  r = log(predicted mean / measured mean) of TTFT, TPOT and E2E
**              at every load point of every training experiment, weight
**              1 / (sigma^2 P_e) (P_e: the experiment's load points, so each
**              experiment weighs the same; sigma = 5%, the size of a load
**              point mean's run-to-run noise plus model error), with Huber
**              weights beyond |r| = 0.15 (a saturated point cannot pull the
**              fit alone);
**   prior      each coefficient ~ Normal(the base configuration's value, sd):
**              it keeps what the training data cannot see (the all-reduce on
**              TP1 experiments) where the physics put it;
**   Jacobian   from the simulator itself: sim_cfg_t.grad differentiates every
**              request's times along the event sequence, so queueing reacts
**              to the coefficients in the derivatives as in the re-simulation
**              that checks each step.
** Physical bounds: a kernel may not run faster than the highest fraction of a
** hardware peak any row of the measured tables reaches (klat.h: 96.6% of the
** FLOP peak, 94.6% of HBM), nor more than twice as slow as measured alone; the
** all-reduce not faster than NVLink's one-direction peak; a step's CPU work
** not longer than the shortest measured mean TPOT of the training load points,
** and a running request's not above 50 us (ten times what vLLM's sampler and
** detokeniser cost a request); the front end not longer than the fastest
** training request's TTFT (per token: its TTFT over its prompt).  The fit is
** not constrained to them: a fitted value outside its bounds flags the fit,
** and a flagged fit is not used (the base is evaluated in its place).
*/
#ifndef TAM_TIER3_H
#define TAM_TIER3_H

#include "harness.h"
#include "kset.h"
#include "model.h"
#include "sim.h"
#include "trace.h"

#include <stdio.h>

#define T3_NP SIM_NG

extern const char *const t3_coef_name[T3_NP];

typedef struct {
    double theta[T3_NP];     /* the fitted coefficients (econf units) */
    double prior[T3_NP];     /* the base configuration's values */
    double lo[T3_NP], hi[T3_NP]; /* physical bounds */
    int in_bounds;           /* every coefficient inside its bounds */
    int iterations;          /* accepted Levenberg-Marquardt steps */
    int sims;                /* simulations of the training set */
    double objective;        /* at the fit: weighted squares + prior */
    double objective0;       /* at the prior */
} t3_fit_t;

/* One load point of one experiment under one configuration. */
typedef struct {
    int point;               /* index into trace_t.points */
    int n;                   /* requests paired (measured ok, predicted) */
    double meas[3], pred[3]; /* means of TTFT, TPOT, E2E (s) */
    double mape[3];          /* per-request MAPE over the same requests */
} t3_point_t;

typedef struct t3_ctx t3_ctx_t;

/* A context over a base configuration (kernels bound), hardware and kernel
** set (borrowed: they must outlive it). */
int t3_new(const econf_t *base, const hw_t *hw, const kset_t *ks, unsigned long long seed,
           int jobs, t3_ctx_t **out, char *err);
void t3_free(t3_ctx_t *cx);
/* Add an experiment; the context takes the trace. */
int t3_add(t3_ctx_t *cx, trace_t *t, const model_t *m, int tp, const char *label,
           const char *family, int number, char *err);
int t3_count(const t3_ctx_t *cx);
const trace_t *t3_trace(const t3_ctx_t *cx, int e);

/* Fit on the experiments train[0..ntrain-1]. */
int t3_fit(t3_ctx_t *cx, const int *train, int ntrain, t3_fit_t *fit, char *err);
/* The base configuration with coefficients theta. */
void t3_conf(const t3_ctx_t *cx, const double *theta, econf_t *out);
/* Experiment e's load points under theta (NULL: the base); *pts is
** allocated (caller frees), one per load point with a paired request. */
int t3_points(t3_ctx_t *cx, const double *theta, int e, t3_point_t **pts, int *npts, char *err);

/* The cross-validation: the base on every experiment, then fits under four
** protocols - "split" (split seeds 42, 1..nsplits: one experiment of each
** family held out, split_draw), "lofo" (each family held out whole),
** "single" (one trace fitted, the others held out), "all" (in-sample) - each
** evaluated on its held-out experiments.  Rows go to points_csv (one per
** held-out load point) and fits_csv (one per fit).  progress (may be NULL)
** hears about each fit. */
typedef void (*t3_progress_fn)(void *ctx, const char *protocol, const char *choice, int done,
                               int total);
int t3_cross_validate(t3_ctx_t *cx, const manifest_t *man, int nsplits, FILE *points_csv,
                      FILE *fits_csv, t3_progress_fn progress, void *pctx, char *err);

#endif
