/* tools/harness/tier3.c - Tier 3: physical coefficients fitted through the simulator
** (tools/harness/tier3.h says what is fitted, how, and within which bounds).
**
** Invariants: deterministic (experiments are simulated in parallel, each by
** one thread with its own step model, and every sum is taken afterwards in
** experiment order, so the number of threads changes no result); a fit never
** leaves the econf range of a key (it is clamped there, so every coefficient
** set is a valid configuration); a flagged fit is reported, never used.
*/
#include "tier3.h"

#include "runner.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char *const t3_coef_name[T3_NP] = {
    "scale_weight_read", "scale_compute", "scale_kv_read", "scale_allreduce",
    "cpu_step_s",        "cpu_req_s",     "frontend_s",    "frontend_tok_s",
};

#define SIGMA 0.05        /* noise of a log load-point mean (see tier3.h) */
#define HUBER 0.15        /* |log ratio| beyond which a residual counts linearly */
#define MAX_TRIALS 10     /* Levenberg-Marquardt trial steps (each one simulation) */
#define STEP_TOL 0.01     /* stop when no coefficient moves more than this, in sd */
#define REQ_CPU_MAX 50e-6 /* s: bound on the CPU a running request costs a step */
/* The highest fractions of a peak any row of the measured bf16 tables
** reaches (engine/klat.h): no kernel can beat them by being scaled down. */
#define FLOP_FRAC_MAX 0.966
#define HBM_FRAC_MAX 0.946
#define SLOWDOWN_MAX 2.0

typedef struct {
    char label[160], family[64];
    int number;
    trace_t *t;
    model_t m;
    int tp;
} t3_exp_t;

struct t3_ctx {
    econf_t base;
    const hw_t *hw;
    const kset_t *ks;
    unsigned long long seed;
    int jobs;
    int n, cap;
    t3_exp_t *x;
};

/* {====== coefficients <-> configuration ====== */

static double *coef_field(econf_t *c, int j)
{
    switch (j) {
    case STEP_G_WEIGHT: return &c->scale_weight_read;
    case STEP_G_COMPUTE: return &c->scale_compute;
    case STEP_G_KV: return &c->scale_kv_read;
    case STEP_G_ALLREDUCE: return &c->scale_allreduce;
    case SIM_G_CPU_STEP: return &c->cpu_step_s;
    case SIM_G_CPU_REQ: return &c->cpu_req_s;
    case SIM_G_FRONTEND: return &c->frontend_s;
    default: return &c->frontend_tok_s;
    }
}

void t3_conf(const t3_ctx_t *cx, const double *theta, econf_t *out)
{
    *out = cx->base;
    if (theta)
        for (int j = 0; j < T3_NP; j++)
            *coef_field(out, j) = theta[j];
}

/* The range econf accepts for each key (econf.c): a fit is clamped to it. */
static const double dom_lo[T3_NP] = {0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0};
static const double dom_hi[T3_NP] = {4, 4, 4, 4, 0.1, 1e-3, 1, 1e-3};

/* Prior sd: a tenth for the kernel scales (isolated kernels and the same
** kernels in a serving step differ by cache and clock effects of that
** order), a quarter for the all-reduce (its table spread), and the value
** itself (at least a floor) for the costs outside the GPU, which vLLM's
** own measurements give only to within a factor of about two. */
static void prior_sd(const double *prior, double *sd)
{
    static const double floor_[T3_NP] = {0.1, 0.1, 0.1, 0.25, 2e-4, 4e-6, 1e-3, 1e-6};
    for (int j = 0; j < T3_NP; j++)
        sd[j] = j < STEP_NG ? floor_[j] : (prior[j] > floor_[j] ? prior[j] : floor_[j]);
}

/* }====== */

/* {====== experiments and their simulation ====== */

int t3_new(const econf_t *base, const hw_t *hw, const kset_t *ks, unsigned long long seed,
           int jobs, t3_ctx_t **out, char *err)
{
    *out = NULL;
    t3_ctx_t *cx = calloc(1, sizeof *cx);
    if (!cx)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    cx->base = *base;
    cx->hw = hw;
    cx->ks = ks;
    cx->seed = seed;
    cx->jobs = jobs < 1 ? 1 : jobs;
    *out = cx;
    return TAM_OK;
}

void t3_free(t3_ctx_t *cx)
{
    if (!cx)
        return;
    for (int i = 0; i < cx->n; i++)
        trace_free(cx->x[i].t);
    free(cx->x);
    free(cx);
}

int t3_add(t3_ctx_t *cx, trace_t *t, const model_t *m, int tp, const char *label,
           const char *family, int number, char *err)
{
    if (cx->n == cx->cap) {
        int cap = cx->cap ? 2 * cx->cap : 16;
        t3_exp_t *x = realloc(cx->x, (size_t)cap * sizeof *x);
        if (!x) {
            trace_free(t);
            return tam_fail(err, TAM_ENOMEM, "out of memory");
        }
        cx->x = x;
        cx->cap = cap;
    }
    t3_exp_t *x = &cx->x[cx->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->label, sizeof x->label, "%s", label);
    snprintf(x->family, sizeof x->family, "%s", family ? family : "");
    x->number = number;
    x->t = t;
    x->m = *m;
    x->tp = tp > 0 ? tp : 1;
    return TAM_OK;
}

int t3_count(const t3_ctx_t *cx)
{
    return cx->n;
}

const trace_t *t3_trace(const t3_ctx_t *cx, int e)
{
    return cx->x[e].t;
}

/* One experiment's simulation: predictions and (grad != NULL) derivatives. */
typedef struct {
    pred_t *p;
    double *grad;
} t3_sim_t;

static void sim_free(t3_sim_t *s)
{
    free(s->p);
    free(s->grad);
    memset(s, 0, sizeof *s);
}

static int simulate_one(t3_ctx_t *cx, const double *theta, int e, int want_grad, t3_sim_t *out,
                        char *err)
{
    t3_exp_t *x = &cx->x[e];
    econf_t c;
    t3_conf(cx, theta, &c);
    memset(out, 0, sizeof *out);
    if (want_grad && !(out->grad = calloc((size_t)x->t->n_req * 3 * SIM_NG, sizeof(double))))
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    step_model_t *sm;
    int rc = step_model_new(&x->m, cx->hw, cx->ks, x->tp, &c, &sm, err);
    if (rc == TAM_OK) {
        run_stats_t st;
        rc = runner_simulate_trace_grad(sm, x->t, cx->seed, out->grad, &out->p, &st, err);
        step_model_free(sm);
    }
    if (rc)
        sim_free(out);
    return rc;
}

typedef struct {
    t3_ctx_t *cx;
    const double *theta;
    const int *set;
    int ns, want_grad, first, stride;
    t3_sim_t *res;
    int *rc;
    char (*err)[TAM_ERRLEN];
} job_t;

static void *job_run(void *arg)
{
    job_t *j = arg;
    for (int k = j->first; k < j->ns; k += j->stride)
        j->rc[k] = simulate_one(j->cx, j->theta, j->set[k], j->want_grad, &j->res[k], j->err[k]);
    return NULL;
}

/* Simulate the experiments set[0..ns-1] under theta, cx->jobs at a time. */
static int simulate_set(t3_ctx_t *cx, const double *theta, const int *set, int ns, int want_grad,
                        t3_sim_t *res, char *err)
{
    int nj = cx->jobs < ns ? cx->jobs : ns, rc = TAM_OK;
    int *rcs = calloc((size_t)ns, sizeof *rcs);
    char (*errs)[TAM_ERRLEN] = calloc((size_t)ns, sizeof *errs);
    job_t *jobs = calloc((size_t)(nj > 0 ? nj : 1), sizeof *jobs);
    pthread_t *th = calloc((size_t)(nj > 0 ? nj : 1), sizeof *th);
    int *started = calloc((size_t)(nj > 0 ? nj : 1), sizeof *started);
    if (!rcs || !errs || !jobs || !th || !started) {
        rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < nj; k++) {
        jobs[k] = (job_t){cx, theta, set, ns, want_grad, k, nj, res, rcs, errs};
        /* the first job runs on this thread; a thread that cannot start is
        ** run here too */
        started[k] = k > 0 && pthread_create(&th[k], NULL, job_run, &jobs[k]) == 0;
    }
    for (int k = 0; k < nj; k++)
        if (!started[k])
            job_run(&jobs[k]);
    for (int k = 0; k < nj; k++)
        if (started[k])
            pthread_join(th[k], NULL);
    for (int k = 0; k < ns && rc == TAM_OK; k++)
        if (rcs[k]) {
            rc = rcs[k];
            snprintf(err, TAM_ERRLEN, "%s", errs[k]);
        }
    if (rc)
        for (int k = 0; k < ns; k++)
            sim_free(&res[k]);
out:
    free(rcs);
    free(errs);
    free(jobs);
    free(th);
    free(started);
    return rc;
}

/* }====== */

/* {====== load points ====== */

/* Per load point: sums of measured and predicted TTFT, TPOT, E2E over the
** paired requests, their APEs, and (grad) the predictions' derivatives. */
typedef struct {
    int n[3];
    double sm[3], sp[3], sape[3];
    double g[3][T3_NP];
} acc_point_t;

static int accumulate(const t3_exp_t *x, const t3_sim_t *s, acc_point_t **out, char *err)
{
    const trace_t *t = x->t;
    acc_point_t *a = calloc((size_t)(t->n_points > 0 ? t->n_points : 1), sizeof *a);
    if (!a)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *q = &t->req[i];
        const pred_t *p = &s->p[i];
        if (!q->ok || p->rejected || q->point < 0 || q->point >= t->n_points)
            continue;
        double meas[3] = {q->ttft, trace_tpot(q->ttft, q->e2e, q->out_tokens), q->e2e};
        double pred[3] = {p->ttft, p->tpot, p->e2e};
        double d[3][T3_NP];
        if (s->grad) {
            const double *ga = s->grad + (size_t)i * 3 * SIM_NG;
            const double *gf = ga + SIM_NG, *gl = ga + 2 * SIM_NG;
            for (int j = 0; j < T3_NP; j++) {
                d[0][j] = gf[j] - ga[j];
                d[1][j] = q->out_tokens > 1 ? (gl[j] - gf[j]) / (q->out_tokens - 1) : 0;
                d[2][j] = gl[j] - ga[j];
            }
        }
        acc_point_t *pa = &a[q->point];
        for (int k = 0; k < 3; k++) {
            if (!isfinite(meas[k]) || !isfinite(pred[k]) || meas[k] <= 0)
                continue;
            pa->n[k]++;
            pa->sm[k] += meas[k];
            pa->sp[k] += pred[k];
            pa->sape[k] += fabs(pred[k] - meas[k]) / meas[k];
            if (s->grad)
                for (int j = 0; j < T3_NP; j++)
                    pa->g[k][j] += d[k][j];
        }
    }
    *out = a;
    return TAM_OK;
}

static void point_of(const acc_point_t *a, int point, t3_point_t *o)
{
    memset(o, 0, sizeof *o);
    o->point = point;
    o->n = a->n[2];
    for (int k = 0; k < 3; k++) {
        o->meas[k] = a->n[k] ? a->sm[k] / a->n[k] : NAN;
        o->pred[k] = a->n[k] ? a->sp[k] / a->n[k] : NAN;
        o->mape[k] = a->n[k] ? a->sape[k] / a->n[k] : NAN;
    }
}

int t3_points(t3_ctx_t *cx, const double *theta, int e, t3_point_t **pts, int *npts, char *err)
{
    *pts = NULL;
    *npts = 0;
    t3_sim_t s;
    int rc = simulate_set(cx, theta, &e, 1, 0, &s, err);
    if (rc)
        return rc;
    acc_point_t *a;
    rc = accumulate(&cx->x[e], &s, &a, err);
    sim_free(&s);
    if (rc)
        return rc;
    const trace_t *t = cx->x[e].t;
    t3_point_t *o = calloc((size_t)(t->n_points > 0 ? t->n_points : 1), sizeof *o);
    if (!o) {
        free(a);
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    }
    int n = 0;
    for (int p = 0; p < t->n_points; p++)
        if (a[p].n[2] > 0)
            point_of(&a[p], p, &o[n++]);
    free(a);
    *pts = o;
    *npts = n;
    return TAM_OK;
}

/* }====== */

/* {====== the fit ====== */

typedef struct {
    double r, w;       /* residual, weight */
    double J[T3_NP];   /* d r / d theta */
} row_t;

typedef struct {
    int n, cap;
    row_t *row;
} resid_t;

static int resid_push(resid_t *rs, double r, double w, const double *J)
{
    if (rs->n == rs->cap) {
        int cap = rs->cap ? 2 * rs->cap : 64;
        row_t *nr = realloc(rs->row, (size_t)cap * sizeof *nr);
        if (!nr)
            return TAM_ENOMEM;
        rs->row = nr;
        rs->cap = cap;
    }
    row_t *x = &rs->row[rs->n++];
    x->r = r;
    x->w = w;
    memcpy(x->J, J, sizeof x->J);
    return TAM_OK;
}

/* Residuals and Jacobian of the training set under theta. */
static int residuals(t3_ctx_t *cx, const double *theta, const int *train, int nt, resid_t *rs,
                     char *err)
{
    rs->n = 0;
    t3_sim_t *res = calloc((size_t)nt, sizeof *res);
    if (!res)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    int rc = simulate_set(cx, theta, train, nt, 1, res, err);
    for (int k = 0; k < nt && rc == TAM_OK; k++) {
        const t3_exp_t *x = &cx->x[train[k]];
        acc_point_t *a;
        if ((rc = accumulate(x, &res[k], &a, err)))
            break;
        int np = 0;
        for (int p = 0; p < x->t->n_points; p++)
            np += a[p].n[2] > 0;
        for (int p = 0; p < x->t->n_points && rc == TAM_OK; p++)
            for (int m = 0; m < 3 && a[p].n[m] > 0 && rc == TAM_OK; m++) {
                if (!(a[p].sp[m] > 0))
                    continue;
                double J[T3_NP];
                for (int j = 0; j < T3_NP; j++)
                    J[j] = a[p].g[m][j] / a[p].sp[m]; /* d log(mean) */
                if (resid_push(rs, log(a[p].sp[m] / a[p].sm[m]), 1.0 / (SIGMA * SIGMA * np),
                               J))
                    rc = tam_fail(err, TAM_ENOMEM, "out of memory");
            }
        free(a);
    }
    for (int k = 0; k < nt; k++)
        sim_free(&res[k]);
    free(res);
    return rc;
}

static double huber(double r)
{
    double a = fabs(r);
    return a <= HUBER ? r * r : 2.0 * HUBER * a - HUBER * HUBER;
}

static double objective(const resid_t *rs, const double *x)
{
    double f = 0;
    for (int i = 0; i < rs->n; i++)
        f += rs->row[i].w * huber(rs->row[i].r);
    for (int j = 0; j < T3_NP; j++)
        f += x[j] * x[j];
    return f;
}

/* Solve A z = b (n x n, symmetric positive definite) by Cholesky; A is
** overwritten.  Returns -1 when A is not positive definite. */
static int cholesky_solve(double *A, double *b, int n)
{
    for (int j = 0; j < n; j++) {
        double s = A[j * n + j];
        for (int k = 0; k < j; k++)
            s -= A[j * n + k] * A[j * n + k];
        if (!(s > 0))
            return -1;
        A[j * n + j] = sqrt(s);
        for (int i = j + 1; i < n; i++) {
            double v = A[i * n + j];
            for (int k = 0; k < j; k++)
                v -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = v / A[j * n + j];
        }
    }
    for (int i = 0; i < n; i++) { /* L y = b */
        double v = b[i];
        for (int k = 0; k < i; k++)
            v -= A[i * n + k] * b[k];
        b[i] = v / A[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) { /* L^T z = y */
        double v = b[i];
        for (int k = i + 1; k < n; k++)
            v -= A[k * n + i] * b[k];
        b[i] = v / A[i * n + i];
    }
    return 0;
}

/* The physical bounds over a training set (tier3.h). */
static void bounds(const t3_ctx_t *cx, const int *train, int nt, double *lo, double *hi)
{
    double min_ttft = INFINITY, min_ttft_tok = INFINITY, min_tpot = INFINITY;
    for (int k = 0; k < nt; k++) {
        const trace_t *t = cx->x[train[k]].t;
        double *sum = calloc((size_t)(t->n_points > 0 ? t->n_points : 1), sizeof *sum);
        int *cnt = calloc((size_t)(t->n_points > 0 ? t->n_points : 1), sizeof *cnt);
        for (int i = 0; i < t->n_req; i++) {
            const trace_req_t *q = &t->req[i];
            if (!q->ok || !(q->ttft > 0))
                continue;
            if (q->ttft < min_ttft)
                min_ttft = q->ttft;
            if (q->in_tokens > 0 && q->ttft / q->in_tokens < min_ttft_tok)
                min_ttft_tok = q->ttft / q->in_tokens;
            double tp = trace_tpot(q->ttft, q->e2e, q->out_tokens);
            if (sum && cnt && isfinite(tp) && q->point >= 0 && q->point < t->n_points) {
                sum[q->point] += tp;
                cnt[q->point]++;
            }
        }
        for (int p = 0; sum && cnt && p < t->n_points; p++)
            if (cnt[p] > 0 && sum[p] / cnt[p] < min_tpot)
                min_tpot = sum[p] / cnt[p];
        free(sum);
        free(cnt);
    }
    double ar = cx->base.allreduce_bw > 0 ? cx->base.allreduce_bw : cx->hw->nvlink_bw / 2.0;
    lo[STEP_G_WEIGHT] = HBM_FRAC_MAX;
    lo[STEP_G_COMPUTE] = FLOP_FRAC_MAX;
    lo[STEP_G_KV] = HBM_FRAC_MAX;
    lo[STEP_G_ALLREDUCE] = ar / (cx->hw->nvlink_bw / 2.0);
    for (int j = 0; j < STEP_NG; j++)
        hi[j] = j == STEP_G_ALLREDUCE ? 3.0 : SLOWDOWN_MAX;
    lo[SIM_G_CPU_STEP] = lo[SIM_G_CPU_REQ] = lo[SIM_G_FRONTEND] = lo[SIM_G_FRONTEND_TOK] = 0;
    hi[SIM_G_CPU_STEP] = isfinite(min_tpot) ? min_tpot : dom_hi[SIM_G_CPU_STEP];
    hi[SIM_G_CPU_REQ] = REQ_CPU_MAX;
    hi[SIM_G_FRONTEND] = isfinite(min_ttft) ? min_ttft : dom_hi[SIM_G_FRONTEND];
    hi[SIM_G_FRONTEND_TOK] = isfinite(min_ttft_tok) ? min_ttft_tok : dom_hi[SIM_G_FRONTEND_TOK];
}

static void theta_of(const double *prior, const double *sd, const double *x, double *theta)
{
    for (int j = 0; j < T3_NP; j++) {
        double v = prior[j] + sd[j] * x[j];
        theta[j] = v < dom_lo[j] ? dom_lo[j] : v > dom_hi[j] ? dom_hi[j] : v;
    }
}

int t3_fit(t3_ctx_t *cx, const int *train, int nt, t3_fit_t *fit, char *err)
{
    memset(fit, 0, sizeof *fit);
    econf_t b = cx->base;
    for (int j = 0; j < T3_NP; j++)
        fit->prior[j] = *coef_field(&b, j);
    bounds(cx, train, nt, fit->lo, fit->hi);
    double sd[T3_NP], x[T3_NP] = {0}, theta[T3_NP];
    prior_sd(fit->prior, sd);
    theta_of(fit->prior, sd, x, theta);
    resid_t rs = {0}, trial = {0};
    int rc = residuals(cx, theta, train, nt, &rs, err);
    fit->sims = 1;
    double f = rc ? 0 : objective(&rs, x), mu = 1e-3;
    fit->objective0 = f;
    for (int it = 0; it < MAX_TRIALS && rc == TAM_OK; it++) {
        /* Gauss-Newton on the Huber-weighted squares in sd units, damped */
        double A[T3_NP * T3_NP] = {0}, g[T3_NP];
        for (int j = 0; j < T3_NP; j++) {
            A[j * T3_NP + j] = 1.0; /* the prior */
            g[j] = x[j];
        }
        for (int i = 0; i < rs.n; i++) {
            double r = rs.row[i].r, h = fabs(r) <= HUBER ? 1.0 : HUBER / fabs(r);
            double w = rs.row[i].w * h, Js[T3_NP];
            for (int j = 0; j < T3_NP; j++)
                Js[j] = rs.row[i].J[j] * sd[j];
            for (int j = 0; j < T3_NP; j++) {
                g[j] += w * Js[j] * r;
                for (int k = 0; k < T3_NP; k++)
                    A[j * T3_NP + k] += w * Js[j] * Js[k];
            }
        }
        for (int j = 0; j < T3_NP; j++) {
            A[j * T3_NP + j] *= 1.0 + mu;
            g[j] = -g[j];
        }
        if (cholesky_solve(A, g, T3_NP)) {
            mu *= 10;
            continue;
        }
        double xn[T3_NP], tn[T3_NP], moved = 0;
        for (int j = 0; j < T3_NP; j++)
            xn[j] = x[j] + g[j];
        theta_of(fit->prior, sd, xn, tn);
        for (int j = 0; j < T3_NP; j++) { /* the clamped point, back in sd units */
            xn[j] = (tn[j] - fit->prior[j]) / sd[j];
            if (fabs(xn[j] - x[j]) > moved)
                moved = fabs(xn[j] - x[j]);
        }
        if (moved < 1e-9)
            break;
        if ((rc = residuals(cx, tn, train, nt, &trial, err)))
            break;
        fit->sims++;
        double fn = objective(&trial, xn);
        if (fn < f) {
            resid_t tmp = rs;
            rs = trial;
            trial = tmp;
            memcpy(x, xn, sizeof x);
            memcpy(theta, tn, sizeof theta);
            f = fn;
            fit->iterations++;
            mu = mu / 3 > 1e-6 ? mu / 3 : 1e-6;
            if (moved < STEP_TOL)
                break;
        } else {
            mu *= 4;
        }
    }
    free(rs.row);
    free(trial.row);
    if (rc)
        return rc;
    memcpy(fit->theta, theta, sizeof theta);
    fit->objective = f;
    fit->in_bounds = 1;
    for (int j = 0; j < T3_NP; j++)
        if (theta[j] < fit->lo[j] || theta[j] > fit->hi[j])
            fit->in_bounds = 0;
    return TAM_OK;
}

/* }====== */

/* {====== cross-validation ====== */

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.10g", v);
    else
        fputs(",", f);
}

static int write_points(t3_ctx_t *cx, FILE *f, const char *protocol, const char *choice,
                        int used, const double *theta, const int *held, int nh, char *err)
{
    for (int k = 0; k < nh; k++) {
        const t3_exp_t *x = &cx->x[held[k]];
        t3_point_t *pts;
        int np, rc = t3_points(cx, used ? theta : NULL, held[k], &pts, &np, err);
        if (rc)
            return rc;
        for (int i = 0; i < np; i++) {
            const t3_point_t *p = &pts[i];
            fprintf(f, "%s,%s,%d,%s,%d,%s,%d,%s,%d", protocol, choice, used, x->label,
                    x->number, x->family, p->point, x->t->points[p->point].name, p->n);
            for (int m = 0; m < 3; m++) {
                csv_num(f, p->meas[m]);
                csv_num(f, p->pred[m]);
            }
            for (int m = 0; m < 3; m++)
                csv_num(f, p->mape[m]);
            fputc('\n', f);
        }
        free(pts);
    }
    return TAM_OK;
}

static void write_fit(FILE *f, const t3_ctx_t *cx, const char *protocol, const char *choice,
                      const int *train, int nt, const t3_fit_t *fit)
{
    fprintf(f, "%s,%s,%d,", protocol, choice, nt);
    for (int k = 0; k < nt; k++)
        fprintf(f, "%s%d", k ? ";" : "", cx->x[train[k]].number);
    fprintf(f, ",%d,%d,%d,%d", fit->in_bounds, fit->in_bounds, fit->iterations, fit->sims);
    csv_num(f, fit->objective0);
    csv_num(f, fit->objective);
    for (int j = 0; j < T3_NP; j++) {
        csv_num(f, fit->theta[j]);
        csv_num(f, fit->prior[j]);
        csv_num(f, fit->lo[j]);
        csv_num(f, fit->hi[j]);
    }
    fputc('\n', f);
}

/* One fit and its evaluation on the held-out experiments. */
static int cv_one(t3_ctx_t *cx, const char *protocol, const char *choice, const int *train,
                  int nt, const int *held, int nh, FILE *pf, FILE *ff, char *err)
{
    t3_fit_t fit;
    int rc = t3_fit(cx, train, nt, &fit, err);
    if (rc)
        return rc;
    write_fit(ff, cx, protocol, choice, train, nt, &fit);
    return write_points(cx, pf, protocol, choice, fit.in_bounds, fit.theta, held, nh, err);
}

int t3_cross_validate(t3_ctx_t *cx, const manifest_t *man, int nsplits, FILE *pf, FILE *ff,
                      t3_progress_fn progress, void *pctx, char *err)
{
    int n = cx->n, rc = TAM_OK;
    if (n < 2 || n != man->n)
        return tam_fail(err, TAM_EFIELD, "cross-validation needs the manifest's experiments "
                        "(%d loaded of %d, at least 2)", n, man->n);
    int *all = malloc((size_t)n * sizeof *all), *train = malloc((size_t)n * sizeof *train);
    int *held = malloc((size_t)n * sizeof *held), *hf = malloc((size_t)n * sizeof *hf);
    if (!all || !train || !held || !hf) {
        rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        goto out;
    }
    for (int e = 0; e < n; e++)
        all[e] = e;
    fputs("protocol,choice,fit_used,experiment,number,family,point,point_name,n,"
          "meas_ttft_s,pred_ttft_s,meas_tpot_s,pred_tpot_s,meas_e2e_s,pred_e2e_s,"
          "mape_ttft,mape_tpot,mape_e2e\n", pf);
    fputs("protocol,choice,ntrain,train,in_bounds,used,iterations,sims,objective_prior,"
          "objective", ff);
    for (int j = 0; j < T3_NP; j++)
        fprintf(ff, ",%s,prior_%s,lo_%s,hi_%s", t3_coef_name[j], t3_coef_name[j],
                t3_coef_name[j], t3_coef_name[j]);
    fputc('\n', ff);
    /* families, in manifest order */
    const char *fam[64];
    int nfam = 0;
    for (int e = 0; e < n; e++) {
        int seen = 0;
        for (int f = 0; f < nfam; f++)
            seen |= strcmp(fam[f], cx->x[e].family) == 0;
        if (!seen && nfam < 64)
            fam[nfam++] = cx->x[e].family;
    }
    int total = 1 + (nsplits + 1) + nfam + n + 1, done = 0;
    char choice[64];
    if ((rc = write_points(cx, pf, "base", "default", 0, NULL, all, n, err)))
        goto out;
    if (progress)
        progress(pctx, "base", "default", ++done, total);
    for (int s = 0; s <= nsplits && rc == TAM_OK; s++) {
        unsigned long long seed = s == 0 ? 42 : (unsigned long long)s;
        int nhf, nt = 0, nh = 0;
        if ((rc = split_draw(man, seed, hf, &nhf, err)))
            break;
        for (int e = 0; e < n; e++) {
            int h = 0;
            for (int f = 0; f < nhf; f++)
                h |= hf[f] == e;
            if (h)
                held[nh++] = e;
            else
                train[nt++] = e;
        }
        snprintf(choice, sizeof choice, "%llu", seed);
        rc = cv_one(cx, "split", choice, train, nt, held, nh, pf, ff, err);
        if (progress)
            progress(pctx, "split", choice, ++done, total);
    }
    for (int f = 0; f < nfam && rc == TAM_OK; f++) {
        int nt = 0, nh = 0;
        for (int e = 0; e < n; e++) {
            if (strcmp(cx->x[e].family, fam[f]) == 0)
                held[nh++] = e;
            else
                train[nt++] = e;
        }
        rc = cv_one(cx, "lofo", fam[f], train, nt, held, nh, pf, ff, err);
        if (progress)
            progress(pctx, "lofo", fam[f], ++done, total);
    }
    for (int e = 0; e < n && rc == TAM_OK; e++) {
        int nh = 0;
        for (int k = 0; k < n; k++)
            if (k != e)
                held[nh++] = k;
        snprintf(choice, sizeof choice, "%d", cx->x[e].number);
        rc = cv_one(cx, "single", choice, &e, 1, held, nh, pf, ff, err);
        if (progress)
            progress(pctx, "single", choice, ++done, total);
    }
    if (rc == TAM_OK) {
        rc = cv_one(cx, "all", "in-sample", all, n, all, n, pf, ff, err);
        if (progress)
            progress(pctx, "all", "in-sample", ++done, total);
    }
out:
    free(all);
    free(train);
    free(held);
    free(hf);
    return rc;
}

/* }====== */
