/* tools/harness/tier1.c - Tier 1: experiments, memoised simulations,
** metrics and the two fits (residual least squares; in-simulator overhead
** search with c profiled out).  See tools/harness/tier1.h. */
#include "tier1.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const tier1_method_name[N_METHODS] = {"base", "residual", "insim", "both"};

void tier1_cpred_free(cpred_t *p)
{
    free(p->ttft);
    free(p->tpot);
    free(p->e2e);
    memset(p, 0, sizeof *p);
}

static int cpred_alloc(cpred_t *p, int n)
{
    memset(p, 0, sizeof *p);
    size_t k = (size_t)(n > 0 ? n : 1);
    p->ttft = malloc(k * sizeof *p->ttft);
    p->tpot = malloc(k * sizeof *p->tpot);
    p->e2e = malloc(k * sizeof *p->e2e);
    if (!p->ttft || !p->tpot || !p->e2e) {
        tier1_cpred_free(p);
        return TAM_ENOMEM;
    }
    return TAM_OK;
}

static int cpred_copy(cpred_t *dst, const cpred_t *src, int n)
{
    if (cpred_alloc(dst, n))
        return TAM_ENOMEM;
    memcpy(dst->ttft, src->ttft, (size_t)n * sizeof *dst->ttft);
    memcpy(dst->tpot, src->tpot, (size_t)n * sizeof *dst->tpot);
    memcpy(dst->e2e, src->e2e, (size_t)n * sizeof *dst->e2e);
    dst->rejected = src->rejected;
    return TAM_OK;
}

/* Measured side of the docs/METHOD.md pairing rule. */
int tier1_cexp_measured(cexp_t *x, char *err)
{
    const trace_t *t = x->t;
    size_t k = (size_t)(t->n_req > 0 ? t->n_req : 1);
    x->m_ttft = malloc(k * sizeof *x->m_ttft);
    x->m_tpot = malloc(k * sizeof *x->m_tpot);
    x->m_e2e = malloc(k * sizeof *x->m_e2e);
    if (!x->m_ttft || !x->m_tpot || !x->m_e2e)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    x->n_ok = 0;
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *q = &t->req[i];
        x->n_ok += q->ok;
        x->m_ttft[i] = q->ok ? q->ttft : NAN;
        x->m_e2e[i] = q->ok ? q->e2e : NAN;
        x->m_tpot[i] = q->ok ? trace_tpot(q->ttft, q->e2e, q->out_tokens) : NAN;
    }
    return TAM_OK;
}

void tier1_cexp_free(cexp_t *x)
{
    trace_free(x->t);
    free(x->m_ttft);
    free(x->m_tpot);
    free(x->m_e2e);
    memset(x, 0, sizeof *x);
}

static double nanmean2(double a, double b)
{
    if (isfinite(a) && isfinite(b))
        return 0.5 * (a + b);
    return isfinite(a) ? a : b;
}

static cmet_t metrics(const cexp_t *x, const cpred_t *p)
{
    int n = x->t->n_req;
    cmet_t m;
    m.ttft = calib_mape(p->ttft, x->m_ttft, n, NULL);
    m.tpot = calib_mape(p->tpot, x->m_tpot, n, NULL);
    m.e2e = calib_mape(p->e2e, x->m_e2e, n, NULL);
    m.j = nanmean2(m.ttft, m.tpot);
    return m;
}

/* Unweighted mean over experiments, skipping undefined values. */
cmet_t tier1_metrics_mean(const cmet_t *v, int n)
{
    double s[4] = {0};
    int k[4] = {0};
    for (int i = 0; i < n; i++) {
        const double a[4] = {v[i].ttft, v[i].tpot, v[i].e2e, v[i].j};
        for (int q = 0; q < 4; q++)
            if (isfinite(a[q])) {
                s[q] += a[q];
                k[q]++;
            }
    }
    cmet_t m = {k[0] ? s[0] / k[0] : NAN, k[1] ? s[1] / k[1] : NAN, k[2] ? s[2] / k[2] : NAN,
                k[3] ? s[3] / k[3] : NAN};
    return m;
}

/* }====== */

/* {====== simulation with memoisation ====== */

static void conf_for(const cctx_t *cx, int base, double o, double c, econf_t *conf)
{
    *conf = cx->base;
    if (!base) {
        conf->overhead_decode_s = o;
        conf->overhead_prefill_s = o;
        conf->client_ttft_s = c;
    }
}

/* Predictions of experiment e under the base (base = 1) or under the base
** with overheads o and client_ttft_s c.  The pointer stays valid until the
** context is freed. */
static int sim_get(cctx_t *cx, int e, int base, double o, double c, const cpred_t **out, char *err)
{
    for (int i = 0; i < cx->n_cache; i++) {
        const centry_t *z = cx->cache[i];
        if (z->e == e && z->base == base && (base || (z->o == o && z->c == c))) {
            *out = &z->p;
            return TAM_OK;
        }
    }
    if (cx->n_cache == cx->cap_cache) {
        int cap = cx->cap_cache ? 2 * cx->cap_cache : 64;
        centry_t **nc = realloc(cx->cache, (size_t)cap * sizeof *nc);
        if (!nc)
            return tam_fail(err, TAM_ENOMEM, "out of memory");
        cx->cache = nc;
        cx->cap_cache = cap;
    }
    cexp_t *x = &cx->x[e];
    econf_t conf;
    conf_for(cx, base, o, c, &conf);
    step_model_t *sm = NULL;
    int rc = step_model_new(&x->m, &cx->hw, cx->ks, x->tp, &conf, &sm, err);
    if (rc)
        return rc;
    pred_t *p = NULL;
    run_stats_t st;
    rc = runner_simulate_trace(sm, x->t, cx->seed, &p, &st, err);
    step_model_free(sm);
    if (rc)
        return rc;
    centry_t *z = calloc(1, sizeof *z);
    if (!z || cpred_alloc(&z->p, x->t->n_req)) {
        free(z);
        free(p);
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    }
    cx->cache[cx->n_cache] = z;
    for (int i = 0; i < x->t->n_req; i++) {
        int rej = p[i].rejected;
        z->p.ttft[i] = rej ? NAN : p[i].ttft;
        z->p.tpot[i] = rej ? NAN : p[i].tpot;
        z->p.e2e[i] = rej ? NAN : p[i].e2e;
        z->p.rejected += rej;
    }
    free(p);
    z->e = e;
    z->base = base;
    z->o = base ? 0 : o;
    z->c = base ? 0 : c;
    cx->n_cache++;
    cx->n_sims++;
    cx->sim_wall += st.wall_seconds;
    *out = &z->p;
    return TAM_OK;
}

/* }====== */


/* {====== fitting ====== */


/* The engine configuration a fitted model stands for (over the base). */
void tier1_params_conf(const cctx_t *cx, const cparams_t *par, econf_t *c)
{
    *c = cx->base;
    if (par->has_insim) {
        c->overhead_decode_s = c->overhead_prefill_s = par->o;
        c->client_ttft_s = par->c;
    }
    if (par->has_resid) {
        c->resid_tpot_a_ms = par->fp.a;
        c->resid_tpot_b_ms = par->fp.b;
        c->resid_tpot_d_ms = par->fp.d;
        c->resid_ttft_a_ms = par->ft.a;
        c->resid_ttft_b_ms = par->ft.b;
        c->resid_ttft_d_ms = par->ft.d;
    }
}

/* Predictions of experiment e under a fitted model: the simulation (base or
** insim parameters) then, in memory, the residual post-correction through
** calib_resid_apply - the very function tools/harness/runner.c applies, so this is
** what `tam simulate --coeffs` prints. */
static int params_pred(cctx_t *cx, const cparams_t *par, int e, cpred_t *out, char *err)
{
    const cpred_t *p;
    int rc = sim_get(cx, e, !par->has_insim, par->o, par->c, &p, err);
    if (rc)
        return rc;
    const trace_t *t = cx->x[e].t;
    if (cpred_copy(out, p, t->n_req))
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    if (par->has_resid) {
        econf_t c;
        tier1_params_conf(cx, par, &c);
        for (int i = 0; i < t->n_req; i++)
            if (isfinite(out->ttft[i]))
                calib_resid_apply(&c, t->req[i].in_tokens, t->req[i].out_tokens, &out->ttft[i],
                                  &out->tpot[i], &out->e2e[i]);
    }
    return TAM_OK;
}

int tier1_params_metrics(cctx_t *cx, const cparams_t *par, int e, cmet_t *m, char *err)
{
    cpred_t p;
    int rc = params_pred(cx, par, e, &p, err);
    if (rc)
        return rc;
    *m = metrics(&cx->x[e], &p);
    tier1_cpred_free(&p);
    return TAM_OK;
}

/* Residual least squares pooled over experiments set[0..ns-1], predicted by
** the simulation of (base | insim o, c); each experiment weighs the same
** (weight 1/n_e per request, n_e its number of pairs of that metric). */
static int fit_residual(cctx_t *cx, const int *set, int ns, cparams_t *par, char *err)
{
    size_t tot = 0;
    for (int k = 0; k < ns; k++)
        tot += (size_t)cx->x[set[k]].t->n_req;
    double *x1 = malloc((tot ? tot : 1) * sizeof *x1), *x2 = malloc((tot ? tot : 1) * sizeof *x2);
    double *yp = malloc((tot ? tot : 1) * sizeof *yp), *yt = malloc((tot ? tot : 1) * sizeof *yt);
    double *wp = malloc((tot ? tot : 1) * sizeof *wp), *wt = malloc((tot ? tot : 1) * sizeof *wt);
    int rc = TAM_OK;
    if (!x1 || !x2 || !yp || !yt || !wp || !wt) {
        rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        goto out;
    }
    size_t j = 0;
    for (int k = 0; k < ns && rc == TAM_OK; k++) {
        const cexp_t *x = &cx->x[set[k]];
        const cpred_t *p;
        if ((rc = sim_get(cx, set[k], !par->has_insim, par->o, par->c, &p, err)))
            break;
        int np = 0, nt = 0;
        size_t j0 = j;
        for (int i = 0; i < x->t->n_req; i++, j++) {
            x1[j] = x->t->req[i].out_tokens;
            x2[j] = x->t->req[i].in_tokens;
            yp[j] = isfinite(p->tpot[i]) && x->m_tpot[i] > 0 ? 1e3 * (x->m_tpot[i] - p->tpot[i]) : NAN;
            yt[j] = isfinite(p->ttft[i]) && x->m_ttft[i] > 0 ? 1e3 * (x->m_ttft[i] - p->ttft[i]) : NAN;
            np += isfinite(yp[j]);
            nt += isfinite(yt[j]);
        }
        for (size_t q = j0; q < j; q++) {
            wp[q] = np ? 1.0 / np : 0;
            wt[q] = nt ? 1.0 / nt : 0;
        }
    }
    if (rc == TAM_OK)
        rc = calib_lsq_auto(x1, x2, yp, wp, (int)tot, "output_tokens", "prompt_tokens", &par->fp,
                            err);
    if (rc == TAM_OK)
        rc = calib_lsq_auto(x1, x2, yt, wt, (int)tot, "output_tokens", "prompt_tokens", &par->ft,
                            err);
    if (rc == TAM_OK)
        par->has_resid = 1;
out:
    free(x1);
    free(x2);
    free(yp);
    free(yt);
    free(wp);
    free(wt);
    return rc;
}

/* TTFT residuals (measured - predicted, s) and weights 1/(measured n_e)
** pooled over a set, from the simulation at (o, c). */
typedef struct {
    double *r, *w, *im; /* residual, pooled weight, 1/measured */
    int *ex;            /* experiment slot (0..ns-1) of each pair */
    int n;
} pool_t;

static void pool_free(pool_t *pl)
{
    free(pl->r);
    free(pl->w);
    free(pl->im);
    free(pl->ex);
    memset(pl, 0, sizeof *pl);
}

static int pool_ttft(cctx_t *cx, const int *set, int ns, double o, double c, pool_t *pl,
                     double *tpot_mean, char *err)
{
    memset(pl, 0, sizeof *pl);
    size_t tot = 0;
    for (int k = 0; k < ns; k++)
        tot += (size_t)cx->x[set[k]].t->n_req;
    if (!tot)
        tot = 1;
    pl->r = malloc(tot * sizeof *pl->r);
    pl->w = malloc(tot * sizeof *pl->w);
    pl->im = malloc(tot * sizeof *pl->im);
    pl->ex = malloc(tot * sizeof *pl->ex);
    if (!pl->r || !pl->w || !pl->im || !pl->ex) {
        pool_free(pl);
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    }
    double tpot_sum = 0;
    int ntp = 0;
    for (int k = 0; k < ns; k++) {
        const cexp_t *x = &cx->x[set[k]];
        const cpred_t *p;
        int rc = sim_get(cx, set[k], 0, o, c, &p, err);
        if (rc) {
            pool_free(pl);
            return rc;
        }
        int n0 = pl->n;
        for (int i = 0; i < x->t->n_req; i++)
            if (isfinite(p->ttft[i]) && isfinite(x->m_ttft[i]) && x->m_ttft[i] > 0) {
                pl->r[pl->n] = x->m_ttft[i] - p->ttft[i];
                pl->im[pl->n] = 1.0 / x->m_ttft[i];
                pl->ex[pl->n] = k;
                pl->n++;
            }
        for (int q = n0; q < pl->n; q++)
            pl->w[q] = pl->im[q] / (pl->n - n0);
        double tp = calib_mape(p->tpot, x->m_tpot, x->t->n_req, NULL);
        if (isfinite(tp)) {
            tpot_sum += tp;
            ntp++;
        }
    }
    *tpot_mean = ntp ? tpot_sum / ntp : NAN;
    return TAM_OK;
}

static double cquant(double c)
{
    c = c < 0 ? 0 : c > C_MAX ? C_MAX : c;
    return round(c / C_QUANT) * C_QUANT;
}

/* J of a set at (o, c + shift) from a simulation at (o, c), when the shift
** moves every TTFT by exactly `shift` (see the header). */
static double pool_j(const pool_t *pl, int ns, double shift, double tpot_mean)
{
    double s[MAXE] = {0};
    int k[MAXE] = {0};
    for (int i = 0; i < pl->n; i++) {
        s[pl->ex[i]] += fabs(pl->r[i] - shift) * pl->im[i];
        k[pl->ex[i]]++;
    }
    double jt = 0;
    int nt = 0;
    for (int e = 0; e < ns; e++)
        if (k[e]) {
            jt += s[e] / k[e];
            nt++;
        }
    return nanmean2(nt ? jt / nt : NAN, tpot_mean);
}

typedef struct {
    cctx_t *cx;
    const int *set;
    int ns;
    int n;                 /* candidates evaluated */
    double o[64], c[64];   /* each candidate's profiled c */
} sctx_t;

static int insim_objective(void *vctx, double o, double *f, char *err)
{
    sctx_t *s = vctx;
    pool_t pl;
    double tpot_mean;
    int rc = pool_ttft(s->cx, s->set, s->ns, o, 0, &pl, &tpot_mean, err);
    if (rc)
        return rc;
    double c = 0;
    rc = calib_wmedian(pl.r, pl.w, pl.n, 0, C_MAX, &c, err);
    if (rc == TAM_OK) {
        c = cquant(c);
        *f = pool_j(&pl, s->ns, c, tpot_mean);
        if (s->n < 64) {
            s->o[s->n] = o;
            s->c[s->n] = c;
            s->n++;
        }
    }
    pool_free(&pl);
    return rc;
}

/* In-simulator calibration of (o, c) on a set (header: the search). */
static int fit_insim(cctx_t *cx, const int *set, int ns, cparams_t *par, char *err)
{
    sctx_t s = {.cx = cx, .set = set, .ns = ns};
    long long sims0 = cx->n_sims;
    double o = 0, j = 0;
    int ne = 0;
    int rc = calib_search1d(0, O_MAX, O_COARSE, O_LEVELS, insim_objective, &s, &o, &j, &ne, err);
    if (rc)
        return rc;
    double c = 0;
    for (int i = 0; i < s.n; i++)
        if (s.o[i] == o)
            c = s.c[i];
    /* Re-centre c on genuine simulations at (o, c) (exact already for
    ** open-loop and synchronous load; first-order for closed loops). */
    for (int it = 0; it < C_FIXPOINT; it++) {
        pool_t pl;
        double tpot_mean, d = 0;
        if ((rc = pool_ttft(cx, set, ns, o, c, &pl, &tpot_mean, err)))
            return rc;
        rc = calib_wmedian(pl.r, pl.w, pl.n, -C_MAX, C_MAX, &d, err);
        pool_free(&pl);
        if (rc)
            return rc;
        double cn = cquant(c + d);
        if (cn == c)
            break;
        c = cn;
    }
    par->has_insim = 1;
    par->o = o;
    par->c = c;
    par->n_eval = ne;
    par->n_sims = (int)(cx->n_sims - sims0);
    return TAM_OK;
}

/* Fit `method` on set; for M_BOTH, `insim` (may be NULL) is an M_INSIM fit
** of the same set to start from. */
int tier1_fit_method(cctx_t *cx, int method, const int *set, int ns, const cparams_t *insim,
                      cparams_t *par, char *err)
{
    memset(par, 0, sizeof *par);
    int rc = TAM_OK;
    if (method == M_INSIM || method == M_BOTH) {
        if (insim && insim->has_insim)
            *par = *insim;
        else
            rc = fit_insim(cx, set, ns, par, err);
        par->has_resid = 0;
    }
    if (rc == TAM_OK && (method == M_RESID || method == M_BOTH))
        rc = fit_residual(cx, set, ns, par, err);
    return rc;
}

/* }====== */
