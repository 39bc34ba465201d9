/* tools/harness/calib.c - Tier 1 calibration mathematics (see calib.h for the
** contracts): weighted least squares with centring and correlation scaling,
** rank-deficiency detection and the fixed fallback rule, the residual
** post-correction, MAPE, the overfitting guard, staleness, the weighted
** median and the lattice grid-refinement search.
**
** Invariants: no I/O; deterministic (sorting breaks ties by index); every
** allocation is freed before return.
*/
#include "calib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {====== least squares ====== */

#define CONST_REL 1e-9   /* a column is constant when sd <= CONST_REL * max(1, |mean|) */
#define COLLIN_TOL 1e-10 /* collinear when 1 - r^2 <= COLLIN_TOL */

/* Weighted first and second moments of the usable points.  Centred sums
** (s11, s22, s12, s1y, s2y) when centred, raw sums otherwise. */
typedef struct {
    int n;
    double W, m1, m2, my;
    double s11, s22, s12, s1y, s2y;
    int const1, const2; /* constant columns (centred sense) */
    double r;           /* correlation of x1 and x2 (centred or raw) */
} dstats_t;

static int usable(const double *x1, const double *x2, const double *y, const double *w, int i)
{
    return isfinite(x1[i]) && isfinite(x2[i]) && isfinite(y[i]) && (!w || (isfinite(w[i]) && w[i] > 0));
}

static void design_stats(const double *x1, const double *x2, const double *y, const double *w,
                         int n, int centred, dstats_t *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n; i++) {
        if (!usable(x1, x2, y, w, i))
            continue;
        double wi = w ? w[i] : 1.0;
        s->n++;
        s->W += wi;
        s->m1 += wi * x1[i];
        s->m2 += wi * x2[i];
        s->my += wi * y[i];
    }
    if (s->n == 0)
        return;
    s->m1 /= s->W;
    s->m2 /= s->W;
    s->my /= s->W;
    double c1 = centred ? s->m1 : 0, c2 = centred ? s->m2 : 0, cy = centred ? s->my : 0;
    /* The constant-column test always uses centred spread. */
    double v1 = 0, v2 = 0;
    for (int i = 0; i < n; i++) {
        if (!usable(x1, x2, y, w, i))
            continue;
        double wi = w ? w[i] : 1.0;
        double u1 = x1[i] - c1, u2 = x2[i] - c2, uy = y[i] - cy;
        s->s11 += wi * u1 * u1;
        s->s22 += wi * u2 * u2;
        s->s12 += wi * u1 * u2;
        s->s1y += wi * u1 * uy;
        s->s2y += wi * u2 * uy;
        v1 += wi * (x1[i] - s->m1) * (x1[i] - s->m1);
        v2 += wi * (x2[i] - s->m2) * (x2[i] - s->m2);
    }
    s->const1 = sqrt(v1 / s->W) <= CONST_REL * fmax(1.0, fabs(s->m1));
    s->const2 = sqrt(v2 / s->W) <= CONST_REL * fmax(1.0, fabs(s->m2));
    s->r = s->s11 > 0 && s->s22 > 0 ? s->s12 / sqrt(s->s11 * s->s22) : 0;
}

static const char *nm(const char *name, const char *dflt)
{
    return name ? name : dflt;
}

int calib_lsq(const double *x1, const double *x2, const double *y, const double *w, int n,
              int terms, const char *name1, const char *name2, calib_fit_t *f, char *err)
{
    memset(f, 0, sizeof *f);
    if (terms < 1 || terms > CALIB_ABD)
        return tam_fail(err, TAM_EFIELD, "least squares: terms mask %d is not a non-empty subset "
                        "of {a, b, d}", terms);
    if (n < 0 || (n > 0 && (!x1 || !x2 || !y)))
        return tam_fail(err, TAM_EFIELD, "least squares: no data (n = %d)", n);
    const char *n1 = nm(name1, "x1"), *n2 = nm(name2, "x2");
    int ha = !!(terms & CALIB_A), hb = !!(terms & CALIB_B), hd = !!(terms & CALIB_D);
    dstats_t s;
    design_stats(x1, x2, y, w, n, hd, &s);
    f->n = s.n;
    int k = ha + hb + hd;
    if (s.n == 0)
        return tam_fail(err, TAM_EFIELD, "least squares: none of the %d points is usable "
                        "(finite %s, %s, y and a positive weight)", n, n1, n2);
    if (s.n < k)
        return tam_fail(err, TAM_EFIELD, "least squares: %d usable point(s) for %d terms", s.n,
                        k);
    if (hd) {
        if (ha && s.const1)
            return tam_fail(err, TAM_EFIELD, "singular design: %s is constant (= %.10g) over %d "
                            "points, so term a (x %s) cannot be told apart from the intercept d",
                            n1, s.m1, s.n, n1);
        if (hb && s.const2)
            return tam_fail(err, TAM_EFIELD, "singular design: %s is constant (= %.10g) over %d "
                            "points, so term b (x %s) cannot be told apart from the intercept d",
                            n2, s.m2, s.n, n2);
    } else {
        if (ha && !(s.s11 > 0))
            return tam_fail(err, TAM_EFIELD, "singular design: %s is 0 at every point (no "
                            "intercept), term a is not identifiable", n1);
        if (hb && !(s.s22 > 0))
            return tam_fail(err, TAM_EFIELD, "singular design: %s is 0 at every point (no "
                            "intercept), term b is not identifiable", n2);
    }
    if (ha && hb && 1 - s.r * s.r <= COLLIN_TOL)
        return tam_fail(err, TAM_EFIELD, "singular design: %s and %s are collinear over %d "
                        "points (correlation %.12g), terms a and b are not separately "
                        "identifiable", n1, n2, s.n, s.r);
    /* Slopes from the scaled normal equations: with z_j = u_j / sqrt(s_jj),
    ** [[1 r] [r 1]] alpha = q, q_j = s_jy / sqrt(s_jj); a = alpha_1 / sqrt(s11). */
    double a = 0, b = 0;
    if (ha && hb) {
        double c1 = sqrt(s.s11), c2 = sqrt(s.s22);
        double q1 = s.s1y / c1, q2 = s.s2y / c2, det = 1 - s.r * s.r;
        a = (q1 - s.r * q2) / det / c1;
        b = (q2 - s.r * q1) / det / c2;
    } else if (ha) {
        a = s.s1y / s.s11;
    } else if (hb) {
        b = s.s2y / s.s22;
    }
    f->a = a;
    f->b = b;
    f->d = hd ? s.my - a * s.m1 - b * s.m2 : 0;
    f->terms = terms;
    f->wsum = s.W;
    f->x1_mean = s.m1;
    f->x2_mean = s.m2;
    f->y_mean = s.my;
    double ss = 0;
    for (int i = 0; i < n; i++) {
        if (!usable(x1, x2, y, w, i))
            continue;
        double e = y[i] - calib_fit_eval(f, x1[i], x2[i]);
        ss += (w ? w[i] : 1.0) * e * e;
    }
    f->rmse = sqrt(ss / s.W);
    return TAM_OK;
}

int calib_lsq_auto(const double *x1, const double *x2, const double *y, const double *w, int n,
                   const char *name1, const char *name2, calib_fit_t *f, char *err)
{
    const char *n1 = nm(name1, "x1"), *n2 = nm(name2, "x2");
    dstats_t s;
    memset(f, 0, sizeof *f);
    if (n < 0 || (n > 0 && (!x1 || !x2 || !y)))
        return tam_fail(err, TAM_EFIELD, "least squares: no data (n = %d)", n);
    design_stats(x1, x2, y, w, n, 1, &s);
    if (s.n == 0)
        return tam_fail(err, TAM_EFIELD, "least squares: none of the %d points is usable "
                        "(finite %s, %s, y and a positive weight)", n, n1, n2);
    int terms = CALIB_ABD;
    char note[200] = "";
    size_t used = 0;
#define NOTE(...)                                                                        \
    do {                                                                                 \
        int w_ = snprintf(note + used, sizeof note - used, "%s", used ? "; " : "");      \
        if (w_ > 0 && (size_t)w_ < sizeof note - used)                                   \
            used += (size_t)w_;                                                          \
        w_ = snprintf(note + used, sizeof note - used, __VA_ARGS__);                     \
        if (w_ > 0)                                                                      \
            used = used + (size_t)w_ < sizeof note ? used + (size_t)w_ : sizeof note - 1; \
    } while (0)
    if (s.const1) {
        terms &= ~CALIB_A;
        NOTE("a = 0: %s constant (%.10g)", n1, s.m1);
    }
    if (s.const2) {
        terms &= ~CALIB_B;
        NOTE("b = 0: %s constant (%.10g)", n2, s.m2);
    }
    if ((terms & CALIB_A) && (terms & CALIB_B) && 1 - s.r * s.r <= COLLIN_TOL) {
        terms &= ~CALIB_A;
        NOTE("a = 0: %s collinear with %s (r = %.10g)", n1, n2, s.r);
    }
    /* Rank is now the number of terms (centred columns independent), and the
    ** centred design has rank <= n - 1, so this only binds for tiny n. */
    while (!!(terms & CALIB_A) + !!(terms & CALIB_B) + !!(terms & CALIB_D) > s.n) {
        int drop = (terms & CALIB_A) ? CALIB_A : CALIB_B;
        terms &= ~drop;
        NOTE("%s = 0: too few points (%d)", drop == CALIB_A ? "a" : "b", s.n);
    }
#undef NOTE
    int rc = calib_lsq(x1, x2, y, w, n, terms, name1, name2, f, err);
    if (rc == TAM_OK)
        snprintf(f->note, sizeof f->note, "%s", note);
    return rc;
}

double calib_fit_eval(const calib_fit_t *f, double x1, double x2)
{
    return f->a * x1 + f->b * x2 + f->d;
}

/* }====== */

/* {====== residual post-correction ====== */

int calib_resid_active(const econf_t *c)
{
    return c->resid_tpot_a_ms != 0 || c->resid_tpot_b_ms != 0 || c->resid_tpot_d_ms != 0 ||
           c->resid_ttft_a_ms != 0 || c->resid_ttft_b_ms != 0 || c->resid_ttft_d_ms != 0;
}

void calib_resid_apply(const econf_t *c, int prompt, int out, double *ttft, double *tpot,
                       double *e2e)
{
    double dt = (c->resid_ttft_a_ms * out + c->resid_ttft_b_ms * prompt + c->resid_ttft_d_ms) / 1e3;
    double dp = (c->resid_tpot_a_ms * out + c->resid_tpot_b_ms * prompt + c->resid_tpot_d_ms) / 1e3;
    double t = *ttft + dt;
    if (t < 0)
        t = 0;
    *ttft = t;
    if (out > 1) {
        double p = *tpot + dp;
        if (p < 0)
            p = 0;
        *tpot = p;
        *e2e = t + p * (out - 1);
    } else {
        *e2e = t;
    }
}

/* }====== */

/* {====== metrics, guard, staleness ====== */

double calib_mape(const double *pred, const double *meas, int n, int *used)
{
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(pred[i]) && isfinite(meas[i]) && meas[i] > 0) {
            s += fabs(pred[i] - meas[i]) / meas[i];
            k++;
        }
    if (used)
        *used = k;
    return k ? s / k : NAN;
}

int calib_guard_reject(double train_mape, double val_mape)
{
    if (!isfinite(train_mape) || !isfinite(val_mape))
        return 1;
    return val_mape > CALIB_GUARD_RATIO * train_mape;
}

int calib_stale(double resid_mape)
{
    return !(resid_mape <= CALIB_STALE_MAPE);
}

/* }====== */

/* {====== weighted median, lattice search ====== */

typedef struct {
    double r, w;
    int i;
} rw_t;

static int rw_cmp(const void *pa, const void *pb)
{
    const rw_t *a = pa, *b = pb;
    if (a->r < b->r)
        return -1;
    if (a->r > b->r)
        return 1;
    return (a->i > b->i) - (a->i < b->i);
}

int calib_wmedian(const double *r, const double *w, int n, double lo, double hi, double *c,
                  char *err)
{
    if (!(lo <= hi))
        return tam_fail(err, TAM_EFIELD, "weighted median: empty range [%g, %g]", lo, hi);
    *c = lo;
    rw_t *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    int k = 0;
    double W = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(r[i]) && isfinite(w[i]) && w[i] > 0) {
            v[k].r = r[i];
            v[k].w = w[i];
            v[k].i = i;
            W += w[i];
            k++;
        }
    if (k > 0) {
        qsort(v, (size_t)k, sizeof *v, rw_cmp);
        double cum = 0, m = v[k - 1].r;
        for (int j = 0; j < k; j++) {
            cum += v[j].w;
            if (cum >= 0.5 * W) {
                m = v[j].r;
                break;
            }
        }
        *c = m < lo ? lo : m > hi ? hi : m;
    }
    free(v);
    return TAM_OK;
}

int calib_search1d(double lo, double hi, int coarse, int levels, calib_obj_fn fn, void *ctx,
                   double *x_best, double *f_best, int *n_eval, char *err)
{
    if (coarse < 2 || levels < 0 || levels > 20 || !(lo < hi))
        return tam_fail(err, TAM_EFIELD, "search: needs coarse >= 2, 0 <= levels <= 20 and "
                        "lo < hi (got %d, %d, [%g, %g])", coarse, levels, lo, hi);
    long K = (long)(coarse - 1) << levels, s0 = 1L << levels;
    long seen[64 + 2 * 20];
    int ns = 0;
    if (coarse > 64)
        return tam_fail(err, TAM_EFIELD, "search: at most 64 coarse points (got %d)", coarse);
    long kb = -1;
    double fb = NAN;
    *n_eval = 0;
    for (int pass = 0; pass <= levels; pass++) {
        long step = pass == 0 ? s0 : s0 >> pass;
        long cand[64];
        int nc = 0;
        if (pass == 0)
            for (long k = 0; k <= K; k += step)
                cand[nc++] = k;
        else {
            cand[nc++] = kb - step;
            cand[nc++] = kb + step;
        }
        for (int j = 0; j < nc; j++) {
            long k = cand[j];
            if (k < 0 || k > K)
                continue;
            int dup = 0;
            for (int q = 0; q < ns; q++)
                dup |= seen[q] == k;
            if (dup)
                continue;
            double x = lo + (hi - lo) * (double)k / (double)K, f = NAN;
            int rc = fn(ctx, x, &f, err);
            if (rc)
                return rc;
            seen[ns++] = k;
            (*n_eval)++;
            int better = kb < 0 ||
                         (isfinite(f) && (!isfinite(fb) || f < fb || (f == fb && k < kb)));
            if (better) {
                kb = k;
                fb = f;
            }
        }
    }
    *x_best = lo + (hi - lo) * (double)kb / (double)K;
    *f_best = fb;
    return TAM_OK;
}

/* }====== */
