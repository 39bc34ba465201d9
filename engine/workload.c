/* engine/workload.c - build simulator requests from traces, CSV and profiles.
** Streams: every random draw comes from a PCG32 generator seeded with the
** caller's seed and a fixed per-purpose stream id, so adding a new use of
** randomness never shifts an existing one. */
#define _GNU_SOURCE 1 /* qsort_r */
#include "workload.h"

#include "csvutil.h"
#include "rng.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STREAM_POISSON = 11, STREAM_SYNTH_TOKENS = 12, STREAM_SYNTH_ARRIVALS = 13,
       STREAM_SYNTH_GROUPS = 14 };

void wl_free(workload_t *w)
{
    if (!w)
        return;
    free(w->req);
    free(w->trace_idx);
    memset(w, 0, sizeof *w);
}

static int wl_alloc(workload_t *w, int n, char *err)
{
    memset(w, 0, sizeof *w);
    w->warm_group = -1;
    w->req = calloc((size_t)(n ? n : 1), sizeof *w->req);
    w->trace_idx = malloc((size_t)(n ? n : 1) * sizeof *w->trace_idx);
    if (!w->req || !w->trace_idx) {
        wl_free(w);
        return tam_fail(err, TAM_ENOMEM, "out of memory for %d requests", n);
    }
    w->n = n;
    return TAM_OK;
}

/* Stable sort by send time (insertion into index order keeps ties stable). */
static int cmp_send(const void *a, const void *b, void *ctx)
{
    const workload_t *w = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    double ti = w->req[i].t_send, tj = w->req[j].t_send;
    if (ti < tj)
        return -1;
    if (ti > tj)
        return 1;
    return (i > j) - (i < j);
}

static int sort_by_send(workload_t *w, char *err)
{
    int *ord = malloc((size_t)(w->n ? w->n : 1) * sizeof *ord);
    sim_req_t *r2 = malloc((size_t)(w->n ? w->n : 1) * sizeof *r2);
    int *t2 = malloc((size_t)(w->n ? w->n : 1) * sizeof *t2);
    if (!ord || !r2 || !t2) {
        free(ord);
        free(r2);
        free(t2);
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    }
    for (int i = 0; i < w->n; i++)
        ord[i] = i;
    /* n is at most ~10^5; an insertion-free merge sort via qsort_r-like
    ** approach: glibc qsort is not stable, so the comparator breaks ties by
    ** index, which makes the order total and therefore deterministic. */
    qsort_r(ord, (size_t)w->n, sizeof *ord, cmp_send, w);
    for (int i = 0; i < w->n; i++) {
        r2[i] = w->req[ord[i]];
        t2[i] = w->trace_idx[ord[i]];
    }
    free(w->req);
    free(w->trace_idx);
    w->req = r2;
    w->trace_idx = t2;
    free(ord);
    return TAM_OK;
}

int wl_from_trace(const trace_t *t, int unit, unsigned long long seed, workload_t *w, char *err)
{
    int n = 0;
    for (int i = 0; i < t->n_req; i++)
        if (t->points[t->req[i].point].unit == unit)
            n++;
    if (n == 0)
        return tam_fail(err, TAM_EFIELD, "%s: simulation unit %d has no requests", t->id, unit);
    int rc = wl_alloc(w, n, err);
    if (rc)
        return rc;
    const trace_point_t *pt = NULL;
    pcg32_t rng;
    rng_seed(&rng, seed, STREAM_POISSON + (uint64_t)unit * 101);
    double clock = 0;
    int k = 0;
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *q = &t->req[i];
        const trace_point_t *p = &t->points[q->point];
        if (p->unit != unit)
            continue;
        pt = p;
        sim_req_t *s = &w->req[k];
        switch (p->kind) {
        case ARR_POISSON:
            clock += rng_exp(&rng, p->rate);
            s->t_send = clock;
            break;
        case ARR_SYNCHRONOUS:
        case ARR_THROUGHPUT:
            s->t_send = 0;
            break;
        default:
            s->t_send = q->t_send;
        }
        s->prompt = q->in_tokens;
        s->output = q->out_tokens;
        s->prefix_group = q->prefix_group;
        s->prefix_tokens = q->prefix_tokens;
        w->trace_idx[k] = i;
        k++;
    }
    if (pt->kind == ARR_SYNCHRONOUS)
        w->max_inflight = 1;
    else if (pt->max_concurrency > 0)
        w->max_inflight = pt->max_concurrency;
    if (pt->warm_prefix) {
        w->warm_group = 0;
        w->warm_prefix_tokens = t->req[w->trace_idx[0]].prefix_tokens;
    }
    return sort_by_send(w, err);
}

/* {====== CSV workloads ====== */

/* The columns of a --workload CSV: the first three are required. */
#define WL_NCOLS 5
static const char *const WL_COLS[WL_NCOLS] = {"t_send_s", "prompt_tokens", "output_tokens",
                                              "prefix_group", "prefix_tokens"};

/* The whole field must be a finite number (csv_trim dropped its spaces). */
static int parse_num(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return !(end == s || *end != '\0' || errno || !isfinite(*v));
}

/* One data record (fields trimmed) into w->req[n]. */
static int csv_request(const char *path, int line, const csv_t *c, const int *col,
                       sim_req_t *s, char *err)
{
    enum { C_T, C_P, C_O, C_G, C_X, NC };
    double v[NC] = {0, 0, 0, -1, 0};
    for (int k = 0; k < NC; k++) {
        if (col[k] < 0)
            continue;
        if (!parse_num(c->f[col[k]], &v[k]))
            return tam_fail(err, TAM_EPARSE, "%s:%d: column '%s': '%s' is not a number", path,
                            line, WL_COLS[k], c->f[col[k]]);
    }
    if (v[C_T] < 0 || v[C_P] < 1 || v[C_O] < 1 || v[C_P] != floor(v[C_P]) ||
        v[C_O] != floor(v[C_O]) || v[C_P] > 1e7 || v[C_O] > 1e7)
        return tam_fail(err, TAM_EFIELD, "%s:%d: need t_send_s >= 0 and integer token counts "
                        ">= 1 (got %g, %g, %g)", path, line, v[C_T], v[C_P], v[C_O]);
    /* The optional columns go into ints too: (int)1e300 is undefined. */
    if (v[C_G] < -1 || v[C_G] > INT_MAX || v[C_G] != floor(v[C_G]) || v[C_X] < 0 ||
        v[C_X] > v[C_P] || v[C_X] != floor(v[C_X]))
        return tam_fail(err, TAM_EFIELD, "%s:%d: need prefix_group -1 (none) or an integer >= 0 "
                        "and integer prefix_tokens in [0, prompt_tokens] (got %g, %g)",
                        path, line, v[C_G], v[C_X]);
    s->t_send = v[C_T];
    s->prompt = (int)v[C_P];
    s->output = (int)v[C_O];
    s->prefix_group = (int)v[C_G];
    s->prefix_tokens = (int)v[C_X];
    return TAM_OK;
}

/* csvutil.h's reader, fields trimmed of spaces and tabs; blank lines and
** lines starting with '#' are skipped (line numbers still count them). */
int wl_load_csv(const char *path, workload_t *w, char *err)
{
    csv_t c;
    int rc = csv_open_table(&c, path, err);
    if (rc)
        return rc;
    int lines = 0;
    for (const char *p = c.p; p < c.end; p++)
        lines += *p == '\n';
    if ((rc = wl_alloc(w, lines + 1, err))) {
        csv_close(&c);
        return rc;
    }
    int col[WL_NCOLS], ncol = 0, n = 0;
    unsigned long ul;
    while ((rc = csv_row(&c, &ul, err)) == 1) {
        int line = (int)ul;
        if (csv_trim(&c) || c.f[0][0] == '#')
            continue;
        if (ncol == 0) {
            ncol = c.nf;
            for (int k = 0; k < WL_NCOLS; k++) {
                col[k] = csv_col(&c, WL_COLS[k]);
                for (int i = col[k] + 1; col[k] >= 0 && i < c.nf; i++)
                    if (strcmp(c.f[i], WL_COLS[k]) == 0) {
                        rc = tam_fail(err, TAM_EFIELD, "%s:%d: header column '%s' appears twice",
                                      path, line, WL_COLS[k]);
                        goto fail;
                    }
            }
            for (int k = 0; k < 3; k++)
                if (col[k] < 0) {
                    rc = tam_fail(err, TAM_EFIELD, "%s:%d: header lacks column '%s'", path,
                                  line, WL_COLS[k]);
                    goto fail;
                }
            continue;
        }
        if (c.nf != ncol) {
            rc = tam_fail(err, TAM_EPARSE, "%s:%d: ragged row: %d fields, header has %d", path,
                          line, c.nf, ncol);
            goto fail;
        }
        if ((rc = csv_request(path, line, &c, col, &w->req[n], err)))
            goto fail;
        w->trace_idx[n++] = -1;
    }
    if (rc < 0)
        goto fail;
    if (ncol == 0 || n == 0) {
        rc = tam_fail(err, TAM_EFIELD, "%s: no requests (a header and at least one row needed)",
                      path);
        goto fail;
    }
    w->n = n;
    csv_close(&c);
    return sort_by_send(w, err);
fail:
    csv_close(&c);
    wl_free(w);
    return rc;
}

/* }====== */

static int clamp_round(double x, int lo, int hi)
{
    long v = lround(x);
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    return (int)v;
}

int wl_synth_guidellm(const wl_guidellm_t *g, unsigned long long seed, workload_t *w, char *err)
{
    if (g->n < 1 || g->prompt_min < 1 || g->prompt_max < g->prompt_min || g->output_min < 1 ||
        g->output_max < g->output_min)
        return tam_fail(err, TAM_EFIELD, "synthetic profile: need n >= 1 and 1 <= min <= max");
    if ((g->kind == ARR_CONSTANT || g->kind == ARR_POISSON) && !(g->rate > 0))
        return tam_fail(err, TAM_EFIELD, "synthetic profile: rate must be > 0 for this strategy");
    int rc = wl_alloc(w, g->n, err);
    if (rc)
        return rc;
    pcg32_t tok, arr;
    rng_seed(&tok, seed, STREAM_SYNTH_TOKENS);
    rng_seed(&arr, seed, STREAM_SYNTH_ARRIVALS);
    double clock = 0;
    for (int i = 0; i < g->n; i++) {
        sim_req_t *s = &w->req[i];
        int body = clamp_round(rng_normal(&tok, g->prompt_mean, g->prompt_sd), g->prompt_min,
                               g->prompt_max);
        s->prompt = g->prefix_tokens + body;
        s->output = clamp_round(rng_normal(&tok, g->output_mean, g->output_sd), g->output_min,
                                g->output_max);
        s->prefix_group = g->prefix_tokens > 0 ? 0 : -1;
        s->prefix_tokens = g->prefix_tokens;
        if (g->kind == ARR_CONSTANT)
            s->t_send = i / g->rate;
        else if (g->kind == ARR_POISSON)
            s->t_send = (clock += rng_exp(&arr, g->rate));
        w->trace_idx[i] = -1;
    }
    w->max_inflight = g->kind == ARR_SYNCHRONOUS ? 1 : g->max_concurrency;
    return TAM_OK;
}

int wl_synth_shared_prefix(const wl_shared_prefix_t *p, unsigned long long seed, workload_t *w,
                           char *err)
{
    if (p->n_stages < 1 || p->n_stages > 8 || p->groups < 1 || p->question_len < 1 ||
        p->output_len < 1 || p->system_len < 0)
        return tam_fail(err, TAM_EFIELD, "shared-prefix profile: bad stage count or lengths");
    int n = 0;
    for (int s = 0; s < p->n_stages; s++) {
        if (!(p->rate[s] > 0) || !(p->duration[s] > 0))
            return tam_fail(err, TAM_EFIELD, "shared-prefix profile: stage %d needs rate and "
                            "duration > 0", s);
        n += (int)floor(p->rate[s] * p->duration[s]);
    }
    int rc = wl_alloc(w, n, err);
    if (rc)
        return rc;
    pcg32_t g;
    rng_seed(&g, seed, STREAM_SYNTH_GROUPS);
    double t0 = 0;
    int k = 0;
    for (int s = 0; s < p->n_stages; s++) {
        int m = (int)floor(p->rate[s] * p->duration[s]);
        for (int i = 0; i < m; i++, k++) {
            sim_req_t *q = &w->req[k];
            q->t_send = t0 + i / p->rate[s];
            q->prompt = p->system_len + p->question_len;
            q->output = p->output_len;
            q->prefix_group = (int)rng_bounded(&g, (uint32_t)p->groups);
            q->prefix_tokens = p->system_len;
            w->trace_idx[k] = -1;
        }
        t0 += p->duration[s];
    }
    return TAM_OK;
}
