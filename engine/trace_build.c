/* engine/trace_build.c - what the three trace readers share (trace_int.h):
** the trace builder and trace_free, recorded-name ids, small statistics and
** path helpers.  The readers depend on this file and trace.c depends on the
** readers (it detects the format and dispatches), never the other way.
**
** Invariants:
**   - a reader either returns TAM_OK with a complete trace or a negative code
**     with *out == NULL and nothing allocated (tb_abort on every error path);
**   - requests are stored ordered by (unit, t_send, index); ties cannot occur
**     because index is unique within a unit (checked in tb_finish).
*/
#include "trace_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- files ------------------------------------------------------------- */

int trace_join(char *buf, size_t cap, const char *dir, const char *name, char *err)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return tam_fail(err, TAM_EIO, "%s/%s: path too long", dir, name);
    return TAM_OK;
}

int trace_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int trace_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int trace_median_int(int *v, int n)
{
    if (n < 1)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_int);
    return v[(n - 1) / 2];
}

double trace_median(double *v, int n)
{
    if (n < 1)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int trace_typical_tokens(const trace_t *t, int *in, int *out, char *err)
{
    int n = 0;
    for (int i = 0; i < t->n_req; i++)
        n += t->req[i].ok;
    *in = *out = 0;
    if (n == 0)
        return TAM_OK;
    int *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    for (int k = 0, i = 0; i < t->n_req; i++)
        if (t->req[i].ok)
            v[k++] = t->req[i].in_tokens;
    *in = trace_median_int(v, n);
    for (int k = 0, i = 0; i < t->n_req; i++)
        if (t->req[i].ok)
            v[k++] = t->req[i].out_tokens;
    *out = trace_median_int(v, n);
    free(v);
    return TAM_OK;
}

double trace_rel(double a, double b)
{
    double d = fabs(a - b);
    return b != 0.0 ? d / fabs(b) : d;
}

/* ---- names ------------------------------------------------------------- */

int tn_id(trace_names_t *m, const char *name)
{
    if (!name || !*name)
        return -1;
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->names[i], name) == 0)
            return i;
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 8;
        char **nn = realloc(m->names, (size_t)cap * sizeof *nn);
        if (!nn)
            return -2;
        m->names = nn;
        m->cap = cap;
    }
    char *s = strdup(name);
    if (!s)
        return -2;
    m->names[m->n] = s;
    return m->n++;
}

void tn_free(trace_names_t *m)
{
    for (int i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m->names);
    memset(m, 0, sizeof *m);
}

/* ---- building ---------------------------------------------------------- */

int tb_init(trace_build_t *b, const char *dir, const char *format, char *err)
{
    memset(b, 0, sizeof *b);
    if (strlen(dir) >= sizeof b->t->path)
        return tam_fail(err, TAM_EIO, "%s: path too long", dir);
    b->t = calloc(1, sizeof *b->t);
    if (!b->t)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", dir);
    trace_t *t = b->t;
    snprintf(t->path, sizeof t->path, "%s", dir);
    /* id = the folder's name (trailing slashes ignored) */
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && dir[s - 1] != '/')
        s--;
    snprintf(t->id, sizeof t->id, "%.*s", (int)(n - s), dir + s);
    snprintf(t->format, sizeof t->format, "%s", format);
    return TAM_OK;
}

trace_point_t *tb_point(trace_build_t *b, char *err)
{
    trace_t *t = b->t;
    if (t->n_points == b->cap_pts) {
        int cap = b->cap_pts ? 2 * b->cap_pts : 8;
        trace_point_t *np = realloc(t->points, (size_t)cap * sizeof *np);
        if (!np) {
            tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
            return NULL;
        }
        t->points = np;
        b->cap_pts = cap;
    }
    trace_point_t *p = &t->points[t->n_points++];
    memset(p, 0, sizeof *p);
    p->lag_median = NAN;
    return p;
}

trace_req_t *tb_req(trace_build_t *b, char *err)
{
    trace_t *t = b->t;
    if (t->n_req == b->cap_req) {
        int cap = b->cap_req ? 2 * b->cap_req : 256;
        trace_req_t *nr = realloc(t->req, (size_t)cap * sizeof *nr);
        if (!nr) {
            tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
            return NULL;
        }
        t->req = nr;
        b->cap_req = cap;
    }
    trace_req_t *r = &t->req[t->n_req++];
    memset(r, 0, sizeof *r);
    r->prefix_group = -1;
    r->out_client = -1;
    r->ttft = r->e2e = r->t_recorded = NAN;
    return r;
}

void tb_abort(trace_build_t *b)
{
    trace_free(b->t);
    b->t = NULL;
}

typedef struct {
    int unit;
    double t;
    int index;
    int pos;
} sortkey_t;

static int cmp_send(const void *a, const void *b)
{
    const sortkey_t *x = a, *y = b;
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return 0;
}

static int cmp_index(const void *a, const void *b)
{
    const sortkey_t *x = a, *y = b;
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return 0;
}

int tb_finish(trace_build_t *b, trace_t **out, char *err)
{
    trace_t *t = b->t;
    char path[sizeof t->path];
    snprintf(path, sizeof path, "%s", t->path);
    *out = NULL;
    /* Units: 0..n_units-1, each with at least one point. */
    int max_unit = -1;
    for (int i = 0; i < t->n_points; i++) {
        TAM_ASSERT(t->points[i].unit >= 0);
        if (t->points[i].unit > max_unit)
            max_unit = t->points[i].unit;
    }
    t->n_units = max_unit + 1;
    for (int u = 0; u < t->n_units; u++) {
        int seen = 0;
        for (int i = 0; i < t->n_points && !seen; i++)
            seen = t->points[i].unit == u;
        TAM_ASSERT(seen);
    }
    if (t->n_req == 0) {
        tb_abort(b);
        return tam_fail(err, TAM_EFIELD, "%s: the trace holds no requests", path);
    }
    sortkey_t *k = malloc((size_t)t->n_req * sizeof *k);
    trace_req_t *sorted = malloc((size_t)t->n_req * sizeof *sorted);
    if (!k || !sorted) {
        free(k);
        free(sorted);
        tb_abort(b);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < t->n_req; i++) {
        trace_req_t *r = &t->req[i];
        TAM_ASSERT(r->point >= 0 && r->point < t->n_points);
        TAM_ASSERT(isfinite(r->t_send) && r->t_send >= 0.0);
        k[i] = (sortkey_t){t->points[r->point].unit, r->t_send, r->index, i};
    }
    qsort(k, (size_t)t->n_req, sizeof *k, cmp_index);
    for (int i = 1; i < t->n_req; i++) {
        if (k[i].unit == k[i - 1].unit && k[i].index == k[i - 1].index) {
            int unit = k[i].unit, index = k[i].index;
            free(k);
            free(sorted);
            tb_abort(b);
            return tam_fail(err, TAM_EFIELD, "%s: request index %d appears twice (unit %d)", path,
                            index, unit);
        }
    }
    qsort(k, (size_t)t->n_req, sizeof *k, cmp_send);
    for (int i = 0; i < t->n_req; i++)
        sorted[i] = t->req[k[i].pos];
    free(k);
    free(t->req);
    t->req = sorted;
    b->cap_req = t->n_req;
    *out = t;
    b->t = NULL;
    return TAM_OK;
}

/* ---- freeing ---------------------------------------------------------- */


void trace_free(trace_t *t)
{
    if (!t)
        return;
    free(t->points);
    free(t->req);
    free(t);
}
