/* engine/itl.c - trace.itl.csv reader and gap classification (itl.h).
**
** Invariants: all or nothing (on error *out is NULL, nothing is held);
** columns by header name only; every CSV error names file:line.
*/
#include "itl.h"

#include "csvutil.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int id, chunk;
    long long t;
    unsigned long line;
} row_t;

static int cmp_row(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    if (x->chunk != y->chunk)
        return x->chunk < y->chunk ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

void itl_free(itl_t *x)
{
    if (!x)
        return;
    free(x->req);
    free(x->t_us);
    free(x);
}

int itl_load(const char *path, itl_t **out, char *err)
{
    *out = NULL;
    csv_t c;
    int rc = csv_open(&c, path, err);
    if (rc)
        return rc;
    row_t *rows = NULL;
    long n = 0, cap = 0;
    itl_t *x = NULL;
    unsigned long line;
    rc = csv_row(&c, &line, err);
    if (rc <= 0) {
        if (rc == 0)
            rc = tam_fail(err, TAM_EPARSE, "%s: empty file (no header)", path);
        goto fail;
    }
    static const char *names[3] = {"request_id", "chunk_index", "timestamp_us"};
    int col[3], ncol = c.nf;
    for (int k = 0; k < 3; k++)
        if ((col[k] = csv_col(&c, names[k])) < 0) {
            rc = tam_fail(err, TAM_EFIELD, "%s:%lu: missing column %s", path, line, names[k]);
            goto fail;
        }
    for (int i = 0; i < ncol; i++)
        for (int k = i + 1; k < ncol; k++)
            if (c.f[i][0] && strcmp(c.f[i], c.f[k]) == 0) {
                rc = tam_fail(err, TAM_EPARSE, "%s:%lu: column %s appears twice", path, line, c.f[i]);
                goto fail;
            }
    while ((rc = csv_row(&c, &line, err)) == 1) {
        if (c.nf != ncol) {
            rc = tam_fail(err, TAM_EPARSE, "%s:%lu: %d fields, the header has %d", path, line, c.nf, ncol);
            goto fail;
        }
        long long id, ch, t;
        if ((rc = csv_ll(path, line, "request_id", c.f[col[0]], 0, INT_MAX, &id, err)) ||
            (rc = csv_ll(path, line, "chunk_index", c.f[col[1]], 0, INT_MAX, &ch, err)) ||
            (rc = csv_ll(path, line, "timestamp_us", c.f[col[2]], 0, LLONG_MAX, &t, err)))
            goto fail;
        if (n == cap) {
            long nc = cap ? 2 * cap : 1024;
            row_t *nr = realloc(rows, (size_t)nc * sizeof *nr);
            if (!nr) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
                goto fail;
            }
            rows = nr;
            cap = nc;
        }
        rows[n++] = (row_t){(int)id, (int)ch, t, line};
    }
    if (rc < 0)
        goto fail;
    rc = TAM_OK;
    if (!n) {
        rc = tam_fail(err, TAM_EFIELD, "%s: no data rows", path);
        goto fail;
    }
    qsort(rows, (size_t)n, sizeof *rows, cmp_row);
    x = calloc(1, sizeof *x);
    if (!x || !(x->t_us = malloc((size_t)n * sizeof *x->t_us))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    snprintf(x->path, sizeof x->path, "%s", path);
    x->n_rows = n;
    int n_req = 0;
    for (long i = 0; i < n; i++)
        n_req += i == 0 || rows[i].id != rows[i - 1].id;
    if (!(x->req = calloc((size_t)n_req, sizeof *x->req))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    for (long i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        int first = i == 0 || r->id != rows[i - 1].id;
        if (first) {
            itl_req_t *q = &x->req[x->n_req++];
            q->request_id = r->id;
            q->t_us = &x->t_us[i];
            q->line0 = r->line;
        }
        itl_req_t *q = &x->req[x->n_req - 1];
        if (r->chunk != q->n) {
            if (r->chunk < q->n) /* sorted: only a repeat can be smaller */
                rc = tam_fail(err, TAM_EFIELD, "%s:%lu: column chunk_index: request_id %d chunk %d "
                              "appears twice (also line %lu)", path, r->line, r->id, r->chunk,
                              rows[i - 1].line);
            else
                rc = tam_fail(err, TAM_EFIELD, "%s:%lu: column chunk_index: request_id %d has chunk "
                              "%d but no chunk %d", path, r->line, r->id, r->chunk, q->n);
            goto fail;
        }
        if (!first && r->t < rows[i - 1].t) {
            rc = tam_fail(err, TAM_EFIELD, "%s:%lu: column timestamp_us: request_id %d chunk %d at "
                          "%lld us is earlier than chunk %d at %lld us (line %lu)", path, r->line,
                          r->id, r->chunk, r->t, r->chunk - 1, rows[i - 1].t, rows[i - 1].line);
            goto fail;
        }
        x->t_us[i] = r->t;
        q->n++;
    }
    free(rows);
    csv_close(&c);
    *out = x;
    return TAM_OK;
fail:
    free(rows);
    csv_close(&c);
    itl_free(x);
    return rc;
}

const itl_req_t *itl_find(const itl_t *x, int request_id)
{
    int lo = 0, hi = x->n_req - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (x->req[mid].request_id == request_id)
            return &x->req[mid];
        if (x->req[mid].request_id < request_id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* ---- classification ---------------------------------------------------- */

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Number of v[0..n) (sorted) that are <= key. */
static int count_le(const long long *v, int n, long long key)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] <= key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int itl_classify(const itl_t *x, const int *out_tokens, double slack_s, itl_gap_t **gaps,
                 int *n_gaps, itl_class_stats_t *st, char *err)
{
    *gaps = NULL;
    *n_gaps = 0;
    memset(st, 0, sizeof *st);
    st->min_first_s = st->max_last_s = NAN;
    if (!(slack_s >= 0))
        return tam_fail(err, TAM_EFIELD, "itl: slack %g s is not >= 0", slack_s);
    long long slack = llround(slack_s * 1e6);
    int n = x->n_req;
    int *lo = malloc((size_t)(n ? n : 1) * sizeof *lo), *cnt = malloc((size_t)(n ? n : 1) * sizeof *cnt);
    long long *first = malloc((size_t)(n ? n : 1) * sizeof *first);
    long long *last = malloc((size_t)(n ? n : 1) * sizeof *last);
    itl_gap_t *g = NULL;
    int rc = TAM_OK;
    if (!lo || !cnt || !first || !last) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", x->path);
        goto done;
    }
    int nu = 0;
    long total = 0;
    for (int i = 0; i < n; i++) {
        const itl_req_t *q = &x->req[i];
        int out = out_tokens[i];
        lo[i] = -1;
        if (out >= 1 && q->n == out) {
            lo[i] = 0;
        } else if (out >= 1 && q->n == out + 2) {
            lo[i] = 1;
            st->n_framed++;
            double f0 = 1e-6 * (double)(q->t_us[1] - q->t_us[0]);
            double f1 = 1e-6 * (double)(q->t_us[q->n - 1] - q->t_us[q->n - 2]);
            st->framing_max_s = fmax(st->framing_max_s, fmax(f0, f1));
        } else {
            st->n_skipped++;
            continue;
        }
        cnt[i] = out;
        first[nu] = q->t_us[lo[i]];
        last[nu] = q->t_us[lo[i] + out - 1];
        if (!(st->min_first_s <= 1e-6 * (double)first[nu]))
            st->min_first_s = 1e-6 * (double)first[nu];
        if (!(st->max_last_s >= 1e-6 * (double)last[nu]))
            st->max_last_s = 1e-6 * (double)last[nu];
        nu++;
        total += out - 1;
    }
    st->n_used = nu;
    qsort(first, (size_t)nu, sizeof *first, cmp_ll);
    qsort(last, (size_t)nu, sizeof *last, cmp_ll);
    if (total > INT_MAX) {
        rc = tam_fail(err, TAM_EFIELD, "%s: %ld gaps: too many", x->path, total);
        goto done;
    }
    if (total && !(g = malloc((size_t)total * sizeof *g))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", x->path);
        goto done;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (lo[i] < 0)
            continue;
        const itl_req_t *q = &x->req[i];
        const long long *tt = q->t_us + lo[i];
        for (int j = 0; j + 1 < cnt[i]; j++) {
            long long a = tt[j], e = tt[j + 1];
            itl_gap_t *r = &g[k++];
            r->request_id = q->request_id;
            r->token = j;
            r->gap_s = 1e-6 * (double)(e - a);
            /* r's own first token is <= a < a + slack: never counted */
            r->n_prefill = count_le(first, nu, e + slack) - count_le(first, nu, a + slack);
            /* first <= e + s, minus those already done (last < e - s, whose
            ** first is earlier still) */
            r->batch = count_le(first, nu, e + slack) - count_le(last, nu, e - slack - 1);
        }
    }
    TAM_ASSERT(k == total);
    *gaps = g;
    *n_gaps = k;
    g = NULL;
done:
    free(g);
    free(lo);
    free(cnt);
    free(first);
    free(last);
    return rc;
}

static int cmp_vw(const void *a, const void *b)
{
    double x = ((const itl_vw_t *)a)->v, y = ((const itl_vw_t *)b)->v;
    return x < y ? -1 : x > y;
}

double itl_quantile(itl_vw_t *p, int n, double q)
{
    double tot = 0, cum = 0;
    for (int i = 0; i < n; i++)
        tot += p[i].w;
    if (n < 1 || !(tot > 0))
        return NAN;
    qsort(p, (size_t)n, sizeof *p, cmp_vw);
    for (int i = 0; i < n; i++) {
        cum += p[i].w;
        if (cum >= q * tot * (1 - 1e-12))
            return p[i].v;
    }
    return p[n - 1].v;
}
