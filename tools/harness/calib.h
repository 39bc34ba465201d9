/* tools/harness/calib.h - Tier 1 ("one-trace calibration") mathematics: least
** squares for the proposal's residual model, its application to a
** prediction, the error metrics, the overfitting guard, the staleness rule,
** and the deterministic one-dimensional search used by the in-simulator
** calibration.  Pure computation: no I/O, no globals, no allocation that
** outlives a call.
**
** The residual model (the TAM proposal, ../shared/docs/TAM-PROPOSAL.md, Tier 1, steps 4-5; docs/MODEL.md):
**     residual_tpot_ms = a  * output_tokens + b  * prompt_tokens + d
**     residual_ttft_ms = a' * output_tokens + b' * prompt_tokens + d'
** with residual = measured - predicted, per request.  The proposal asks for a
** "network-adjusted" residual; the corpus traces carry no network round-trip
** time (no server-side timestamps, no RTT probe), so the raw client-side
** residual is used: whatever lies outside the GPU, the network included, is
** what the fit absorbs.
**
** Invariants:
**   - calib_lsq fits exactly the terms asked for or fails (TAM_EFIELD, the
**     message names the term and why: constant column, collinear columns, too
**     few points); calib_lsq_auto never fails on a rank-deficient design, it
**     drops terms by a fixed rule and says which in fit.note;
**   - a term that is not fitted is exactly 0;
**   - every function is deterministic (ties are broken by index, never by
**     memory addresses or qsort's order of equal keys).
*/
#ifndef TAM_CALIB_H
#define TAM_CALIB_H

#include "common.h"
#include "econf.h"

/* Terms of y = a*x1 + b*x2 + d. */
enum { CALIB_A = 1, CALIB_B = 2, CALIB_D = 4, CALIB_ABD = 7 };

typedef struct {
    double a, b, d;     /* coefficients; an unfitted term is 0 */
    int terms;          /* CALIB_* bits actually fitted */
    int n;              /* points used: x1, x2, y finite and weight > 0 */
    double wsum;        /* sum of the weights used */
    double rmse;        /* weighted RMS of y - fit over the points used */
    double x1_mean, x2_mean, y_mean; /* weighted means (diagnostics) */
    char note[200];     /* "" when the requested terms were fitted; else which
                        ** terms were dropped and why */
} calib_fit_t;

/* Weighted least squares of y on the requested terms (CALIB_* bits, at least
** one).  w may be NULL (all 1).  Points with a non-finite value or w <= 0 are
** skipped.  Numerics: with an intercept, x1, x2 and y are centred on their
** weighted means and the slopes come from the 2x2 correlation-scaled normal
** equations, so badly scaled columns (tokens ~ 1e3, residuals ~ 1e-1) do not
** lose precision; d follows from the means.  A column is "constant" when its
** weighted standard deviation is <= 1e-9 max(1, |mean|); two columns are
** "collinear" when 1 - r^2 <= 1e-10.  name1/name2 name x1/x2 in messages
** (NULL: "x1"/"x2").  On failure f is zeroed except f->n. */
int calib_lsq(const double *x1, const double *x2, const double *y, const double *w, int n,
              int terms, const char *name1, const char *name2, calib_fit_t *f, char *err);

/* a, b and d when the design allows; otherwise, in this order: drop a when
** x1 is constant; drop b when x2 is constant; drop a when x1 and x2 are
** collinear; drop slopes while there are fewer distinct points than terms.
** f->note says what was dropped.  Fails only when no point is usable. */
int calib_lsq_auto(const double *x1, const double *x2, const double *y, const double *w, int n,
                   const char *name1, const char *name2, calib_fit_t *f, char *err);

double calib_fit_eval(const calib_fit_t *f, double x1, double x2);

/* {====== the residual model inside an engine configuration ====== */

/* 1 when any of the six resid_* keys of c is non-zero. */
int calib_resid_active(const econf_t *c);

/* Post-correct one simulated request (seconds): ttft += (a'*out + b'*prompt +
** d')/1000, tpot += (a*out + b*prompt + d)/1000, each floored at 0 (a latency
** is never negative), then e2e = ttft + tpot*(out-1) (out = 1: e2e = ttft,
** tpot stays undefined).  This happens after the simulation: it does not feed
** back into queueing (the in-simulator calibration is for that).  Callers
** apply it only when calib_resid_active(c), so that a configuration without
** a residual leaves the simulator's own numbers bit for bit unchanged. */
void calib_resid_apply(const econf_t *c, int prompt, int out, double *ttft, double *tpot,
                       double *e2e);

/* }====== */

/* {====== metrics, guard, staleness ====== */

/* Mean of |pred - meas| / meas over the pairs where both are finite and
** meas > 0 (docs/METHOD.md pairing rule); NaN when there is none.  *used
** (may be NULL) receives the number of pairs. */
double calib_mape(const double *pred, const double *meas, int n, int *used);

#define CALIB_GUARD_RATIO 2.0  /* reject when validation > 2 x training */
#define CALIB_STALE_MAPE 0.30  /* stale when the calibrated MAPE > 30% */

/* Overfitting guard (proposal, Tier 1): 1 = reject the fit and fall back to
** Tier 0, when val_mape > CALIB_GUARD_RATIO * train_mape.  A NaN on either
** side also rejects (a fit that cannot be validated is not accepted). */
int calib_guard_reject(double train_mape, double val_mape);

/* Staleness (proposal, Tier 1): 1 when the MAPE that remains after applying
** a calibration to a new trace exceeds CALIB_STALE_MAPE; NaN counts as
** stale. */
int calib_stale(double resid_mape);

/* }====== */

/* {====== in-simulator calibration helpers ====== */

/* The c in [lo, hi] minimising sum_i w_i |r_i - c| (a weighted median,
** clamped; the objective is convex, so clamping the unconstrained minimiser
** gives the constrained one).  Where the minimisers form an interval the
** lowest is returned.  Non-finite r_i or w_i <= 0 are skipped; with no usable
** point the result is lo.  Sorts a private copy (O(n log n)). */
int calib_wmedian(const double *r, const double *w, int n, double lo, double hi, double *c,
                  char *err);

/* One-dimensional grid refinement on a fixed lattice x_k = lo + k h,
** k = 0..K, K = (coarse - 1) * 2^levels, h = (hi - lo) / K: evaluate the
** coarse grid (every 2^levels-th lattice point), then around the best point
** so far evaluate best +- 2^(levels-1), best +- 2^(levels-2), ..., best +- 1
** (points outside [0, K] or already seen are skipped).  The best is the
** smallest f; ties keep the smaller k.  Evaluations: at most coarse +
** 2 levels.  f returns a status; a failure stops the search and is returned.
** A non-finite f value never wins.  Out: *x_best, *f_best, *n_eval. */
typedef int (*calib_obj_fn)(void *ctx, double x, double *f, char *err);
int calib_search1d(double lo, double hi, int coarse, int levels, calib_obj_fn fn, void *ctx,
                   double *x_best, double *f_best, int *n_eval, char *err);

/* }====== */

#endif
