/* engine/trace.c - trace_load (format detection), trace_free, seeded
** prefix-group assignment, and the helpers the three readers share
** (JSON field access with path-named errors, the trace builder).
**
** Invariants:
**   - a reader either returns TAM_OK with a complete trace or a negative code
**     with *out == NULL and nothing allocated (tb_abort on every error path);
**   - requests are stored ordered by (unit, t_send, index); ties cannot occur
**     because index is unique within a unit (checked in tb_finish);
**   - prefix groups drawn by trace_assign_prefix_groups depend only on the
**     seed and the stored order of the requests, never on the process state;
**     recorded groups (group_recorded = 1) are never touched.
*/
#include "trace_int.h"

#include "rng.h"

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

/* ---- JSON -------------------------------------------------------------- */

int tj_parse_file(const char *path, cJSON **out, char *err)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = tam_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    if (strlen(buf) != len) {
        free(buf);
        return tam_fail(err, TAM_EPARSE, "%s: contains a NUL byte: not a JSON text", path);
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(buf, &end, 1);
    if (!j) {
        /* end points at the first byte cJSON could not accept. */
        unsigned long line = 1, col = 1;
        if (!end || end < buf || end > buf + len)
            end = buf + len;
        for (const char *p = buf; p < end; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        rc = tam_fail(err, TAM_EPARSE, "%s:%lu:%lu: JSON syntax error%s near '%.20s'", path, line,
                      col, end >= buf + len ? " (unexpected end of file: truncated?)" : "", end);
        free(buf);
        return rc;
    }
    free(buf);
    *out = j;
    return TAM_OK;
}

cJSON *tj_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The value as short JSON text for messages. */
static const char *tj_show(const cJSON *item, char *buf, size_t cap)
{
    if (cJSON_IsNumber(item) && !isfinite(item->valuedouble)) {
        /* cJSON reads 1e999 as inf and would print it as "null" */
        snprintf(buf, cap, "%g", item->valuedouble);
        return buf;
    }
    char *s = cJSON_PrintUnformatted(item);
    if (!s) {
        snprintf(buf, cap, "?");
        return buf;
    }
    if (strlen(s) > 60)
        snprintf(buf, cap, "%.57s...", s);
    else
        snprintf(buf, cap, "%s", s);
    cJSON_free(s);
    return buf;
}

#define TJ_PATH(prefix, key) (prefix) && *(prefix) ? (prefix) : "", (prefix) && *(prefix) ? "." : "", (key)

static int tj_missing(const char *file, const char *prefix, const char *key, char *err)
{
    return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: missing", file, TJ_PATH(prefix, key));
}

int tj_num(const char *file, const char *prefix, const char *key, const cJSON *item,
           double *out, char *err)
{
    if (!item)
        return tj_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected a number, got %s", file,
                        TJ_PATH(prefix, key), tj_show(item, b, sizeof b));
    *out = item->valuedouble;
    return TAM_OK;
}

int tj_int(const char *file, const char *prefix, const char *key, const cJSON *item,
           long lo, long hi, int *out, char *err)
{
    if (!item)
        return tj_missing(file, prefix, key, err);
    char b[80];
    double v = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!isfinite(v) || v != floor(v))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected an integer, got %s", file,
                        TJ_PATH(prefix, key), tj_show(item, b, sizeof b));
    if (v < (double)lo || v > (double)hi)
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: %.15g is out of range [%ld, %ld]", file,
                        TJ_PATH(prefix, key), v, lo, hi);
    *out = (int)v;
    return TAM_OK;
}

int tj_bool(const char *file, const char *prefix, const char *key, const cJSON *item,
            int *out, char *err)
{
    if (!item)
        return tj_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsBool(item))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected true or false, got %s", file,
                        TJ_PATH(prefix, key), tj_show(item, b, sizeof b));
    *out = cJSON_IsTrue(item) ? 1 : 0;
    return TAM_OK;
}

int tj_array(const char *file, const char *prefix, const char *key, const cJSON *item,
             int *n, char *err)
{
    if (!item)
        return tj_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsArray(item))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected an array, got %s", file,
                        TJ_PATH(prefix, key), tj_show(item, b, sizeof b));
    *n = cJSON_GetArraySize(item);
    return TAM_OK;
}

int tj_object(const char *file, const char *prefix, const char *key, const cJSON *item,
              char *err)
{
    if (!item)
        return tj_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsObject(item))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected an object, got %s", file,
                        TJ_PATH(prefix, key), tj_show(item, b, sizeof b));
    return TAM_OK;
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

/* ---- public ------------------------------------------------------------ */

void trace_free(trace_t *t)
{
    if (!t)
        return;
    free(t->points);
    free(t->req);
    free(t);
}

int trace_async_default(const trace_t *t)
{
    int major = 0, minor = 0;
    if (!t->vllm_version[0] || sscanf(t->vllm_version, "%d.%d", &major, &minor) != 2)
        return 1;
    return major > 0 || minor >= 12;
}

#define POOL_MAX 1000

int trace_infer_prompt_pool(trace_t *t)
{
    int n = t->n_req;
    if (n < 4)
        return 0;
    /* Lag L compares the requests whose indexes differ by L: token counts
    ** are laid out by index (the indexes of a record are 0..n-1 in practice;
    ** a gap only removes pairs, and indexes spread far wider than the
    ** requests carry no cycle to find). */
    int lo = t->req[0].index, hi = lo;
    for (int i = 1; i < n; i++) {
        lo = t->req[i].index < lo ? t->req[i].index : lo;
        hi = t->req[i].index > hi ? t->req[i].index : hi;
    }
    long long span = (long long)hi - lo + 1;
    if (span > 4LL * n)
        return 0;
    int *tok = malloc(sizeof *tok * (size_t)span);
    if (!tok)
        return 0; /* no inference without memory: the trace stays as read */
    for (long long i = 0; i < span; i++)
        tok[i] = -1;
    for (int i = 0; i < n; i++)
        tok[t->req[i].index - lo] = t->req[i].in_tokens;
    int found = 0;
    double match = 0;
    for (int lag = 1; lag <= POOL_MAX && 2 * lag <= n && !found; lag++) {
        long pairs = 0, same = 0;
        for (long long i = 0; i + lag < span; i++)
            if (tok[i] >= 0 && tok[i + lag] >= 0) {
                pairs++;
                same += tok[i] == tok[i + lag];
            }
        double f = pairs ? (double)same / (double)pairs : 0;
        if (lag == 1 && f >= 0.5)
            break; /* nearly constant lengths: no evidence either way */
        if (lag > 1 && f >= 0.9) {
            found = lag;
            match = f;
        }
    }
    free(tok);
    if (found) {
        for (int i = 0; i < n; i++) {
            trace_req_t *q = &t->req[i];
            q->prefix_group = (int)(((long long)q->index - lo) % found);
            q->prefix_tokens = q->in_tokens;
            q->group_recorded = 1;
        }
        t->n_prefix_groups = found;
        t->prompt_pool = found;
        t->prompt_pool_match = match;
    }
    return found;
}

/* Stream id of the prefix-group draw ("prefixgr" in ASCII): fixed, so that a
** run's seed alone decides the assignment. */
#define PREFIX_STREAM 0x7072656669786772ULL

void trace_assign_prefix_groups(trace_t *t, unsigned long long seed)
{
    if (!t || t->n_prefix_groups <= 0)
        return;
    pcg32_t r;
    rng_seed(&r, (uint64_t)seed, PREFIX_STREAM);
    for (int i = 0; i < t->n_req; i++) {
        trace_req_t *q = &t->req[i];
        if (q->prefix_tokens > 0 && !q->group_recorded)
            q->prefix_group = (int)rng_bounded(&r, (uint32_t)t->n_prefix_groups);
    }
}

int trace_load(const char *dir, trace_t **out, char *err)
{
    *out = NULL;
    if (!trace_is_dir(dir))
        return tam_fail(err, TAM_EIO, "%s: not a directory", dir);
    char p1[1024], p2[1024];
    int rc;
    if ((rc = trace_join(p1, sizeof p1, dir, "replay_data", err)))
        return rc;
    if (trace_is_dir(p1))
        return trace_load_inference_perf(dir, out, err);
    if ((rc = trace_join(p1, sizeof p1, dir, "guidellm-results.json", err)))
        return rc;
    if (trace_is_file(p1))
        return trace_load_guidellm(dir, out, err);
    if ((rc = trace_join(p1, sizeof p1, dir, "trace.csv", err)) ||
        (rc = trace_join(p2, sizeof p2, dir, "trace.yaml", err)))
        return rc;
    if (trace_is_file(p1) && trace_is_file(p2))
        return trace_load_tracev2(dir, out, err);
    return tam_fail(err, TAM_EIO,
                    "%s: no known trace format (looked for replay_data/, guidellm-results.json, "
                    "trace.csv + trace.yaml)",
                    dir);
}
