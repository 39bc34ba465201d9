/* engine/workload.c - build simulator requests from traces, CSV and profiles.
** Streams: every random draw comes from a PCG32 generator seeded with the
** caller's seed and a fixed per-purpose stream id, so adding a new use of
** randomness never shifts an existing one. */
#define _GNU_SOURCE 1 /* qsort_r */
#include "workload.h"

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

static int split_csv(char *line, char **f, int maxf)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == maxf)
            return -1;
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int parse_num(const char *s, double *v)
{
    char *end;
    errno = 0;
    while (*s == ' ')
        s++;
    *v = strtod(s, &end);
    while (*end == ' ' || *end == '\r')
        end++;
    return !(end == s || *end != '\0' || errno || !isfinite(*v));
}

int wl_load_csv(const char *path, workload_t *w, char *err)
{
    char *txt;
    size_t len = 0;
    int rc = tam_read_file(path, &txt, &len, err);
    if (rc)
        return rc;
    if (strlen(txt) != len) { /* the line scanner would stop there, silently */
        free(txt);
        return tam_fail(err, TAM_EPARSE, "%s: contains a NUL byte: not a CSV text", path);
    }
    int lines = 0;
    for (char *p = txt; *p; p++)
        lines += *p == '\n';
    rc = wl_alloc(w, lines + 1, err);
    if (rc) {
        free(txt);
        return rc;
    }
    enum { C_T, C_P, C_O, C_G, C_X, NC };
    static const char *names[NC] = {"t_send_s", "prompt_tokens", "output_tokens", "prefix_group",
                                    "prefix_tokens"};
    int col[NC] = {-1, -1, -1, -1, -1}, ncol = 0, n = 0, lineno = 0;
    /* Line by line (not strtok, which skips empty lines and so misnumbers
    ** every line after a blank one in the messages). */
    for (char *line = txt, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        size_t L = strlen(line);
        if (L && line[L - 1] == '\r')
            line[L - 1] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *f[32];
        int nf = split_csv(line, f, 32);
        if (ncol == 0) {
            if (nf < 0) {
                rc = tam_fail(err, TAM_EPARSE, "%s:%d: too many columns", path, lineno);
                goto fail;
            }
            ncol = nf;
            for (int i = 0; i < nf; i++)
                for (int c = 0; c < NC; c++)
                    if (strcmp(f[i], names[c]) == 0)
                        col[c] = i;
            for (int c = 0; c < C_G; c++)
                if (col[c] < 0) {
                    rc = tam_fail(err, TAM_EFIELD, "%s:%d: header lacks column '%s'", path,
                                  lineno, names[c]);
                    goto fail;
                }
            continue;
        }
        if (nf != ncol) {
            rc = tam_fail(err, TAM_EPARSE, "%s:%d: ragged row: %s%d fields, header has %d", path,
                          lineno, nf < 0 ? "more than " : "", nf < 0 ? 32 : nf, ncol);
            goto fail;
        }
        double v[NC] = {0, 0, 0, -1, 0};
        for (int c = 0; c < NC; c++) {
            if (col[c] < 0)
                continue;
            if (!parse_num(f[col[c]], &v[c])) {
                rc = tam_fail(err, TAM_EPARSE, "%s:%d: column '%s': '%s' is not a number", path,
                              lineno, names[c], f[col[c]]);
                goto fail;
            }
        }
        if (v[C_T] < 0 || v[C_P] < 1 || v[C_O] < 1 || v[C_P] != floor(v[C_P]) ||
            v[C_O] != floor(v[C_O]) || v[C_P] > 1e7 || v[C_O] > 1e7) {
            rc = tam_fail(err, TAM_EFIELD, "%s:%d: need t_send_s >= 0 and integer token counts "
                          ">= 1 (got %g, %g, %g)", path, lineno, v[C_T], v[C_P], v[C_O]);
            goto fail;
        }
        /* The optional columns go into ints too: (int)1e300 is undefined. */
        if (v[C_G] < -1 || v[C_G] > INT_MAX || v[C_G] != floor(v[C_G]) || v[C_X] < 0 ||
            v[C_X] > v[C_P] || v[C_X] != floor(v[C_X])) {
            rc = tam_fail(err, TAM_EFIELD, "%s:%d: need prefix_group -1 (none) or an integer >= 0 "
                          "and integer prefix_tokens in [0, prompt_tokens] (got %g, %g)",
                          path, lineno, v[C_G], v[C_X]);
            goto fail;
        }
        sim_req_t *s = &w->req[n];
        s->t_send = v[C_T];
        s->prompt = (int)v[C_P];
        s->output = (int)v[C_O];
        s->prefix_group = (int)v[C_G];
        s->prefix_tokens = (int)v[C_X];
        w->trace_idx[n] = -1;
        n++;
    }
    if (ncol == 0 || n == 0) {
        rc = tam_fail(err, TAM_EFIELD, "%s: no requests (a header and at least one row needed)",
                      path);
        goto fail;
    }
    w->n = n;
    free(txt);
    return sort_by_send(w, err);
fail:
    free(txt);
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
