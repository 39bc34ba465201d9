/* engine/klat.c - load measured kernel-latency tables and answer lookups in latency space.
**
** Invariant: after klat_*_load a table is immutable, every latency is finite
** and > 0 (stored in seconds, as latency_us * 1e-6), there is no duplicate
** grid point, and rows are grouped and sorted so that a lookup is a few
** binary searches plus arithmetic: it never allocates and never writes
** (except into the caller's klat_src_t).  A query on a measured grid point
** returns that row's stored latency bit for bit (no arithmetic touches it).
**
** CSV (as engine/mfu.c): columns are found by header name (any order, extra
** columns ignored); CRLF, a UTF-8 BOM and blank lines are accepted; every
** other defect is an error naming file:line, the column and the value.
** Keys must be finite numbers >= 1 (GEMM m, k, n; attention batch and
** length; MoE tokens), integers >= 1 (head counts, TP, EP), a non-empty
** text (MoE distribution); latency_us a finite number > 0.
**
** ---- GEMM (rows m, k, n, latency) ------------------------------------
** Rows are grouped by (k, n) pair and sorted by m.  k and n grid values are
** the distinct k and n of all pairs; a dense map cell[ik][in] gives the pair
** (or -1 where the grid lacks it: the real table lacks (65536, 65536)).
**   One pair at m:  between two measured m, linear in m (a measured m: that
**     row); below the smallest m: the smallest m's latency (extrapolated
**     when m < smallest m, i.e. never for m >= 1 when the pair starts at 1);
**     above the largest m: lat(m_max) * t_roof(m) / t_roof(m_max) with the
**     pair's own (k, n) (extrapolated).
**   Shape: k is bracketed by grid values k0 <= k <= k1 (one value when k is
**     on the grid), n likewise; outside the grid the bracket is the edge
**     value (extrapolated).  Each corner pair c with bilinear weight w_c > 0
**     in (log k, log n) gives e_c = t_roof(m, k_c, n_c) / lat_c(m); the
**     answer is t_roof(m, k, n) / sum_c w_c e_c.  Missing corners are left
**     out and the weights of the others renormalised (not flagged); if no
**     corner exists, the pair nearest (in (log k, log n)) to the grid cell of
**     the largest-weight corner serves alone (precomputed at load; ties: the
**     first pair in (k, n) order) and the lookup is flagged extrapolated.
**     When (k, n) is itself a measured pair the pair's latency at m is
**     returned directly (no t_roof / e round trip), so grid points are exact.
**   src: each corner's one or two m rows, weight w_c times the row's linear
**     weight in m (the result is a weighted harmonic mean of efficiencies,
**     so the weights say how much each row counted, not a linear blend).
**
** ---- attention (rows batch, x, heads, kv_heads, latency) --------------
** Grouped by (num_heads, num_kv_heads), then by batch row, sorted by x
** (decode: kv_len, prefill: seq_len).  Each batch row covers its own x range
** [x_min, x_max] (the grid is triangular: large batches stop at shorter x).
** Q(b, x) is the physically matching quantity: decode b * x (KV bytes read),
** prefill b * x^2 (causal FLOPs).  The exact rule:
**   1. Batch rows: b0 <= batch <= b1 bracketing measured batch sizes (one
**      row when batch is measured).  batch below the smallest row: that row
**      (the launch floor; flagged only when batch < 1).  batch above the
**      largest row B: that row at x, times batch / B (flagged).
**   2. A batch row r at x: linear in x between its measured x; x below x_min:
**      the x_min latency (launch floor; flagged only when x < 1); x above
**      x_max: lat(r, x_max) * Q(b_r, x) / Q(b_r, x_max), i.e. decode
**      * x / x_max, prefill * (x / x_max)^2 (flagged).  This is how a
**      missing corner of the triangular grid is filled: from the nearest
**      measured point of its own batch row.
**   3. The answer is linear in batch between the two rows' values.
** So inside measured cells the lookup is plain bilinear interpolation;
** every scale factor above is >= 1, so an extrapolated latency is never
** below the measured latency it was scaled from.  src: up to four rows
** (two per batch row), weights bilinear.
**
** ---- MoE (rows tokens, tp, ep, distribution, latency) ------------------
** Grouped by (moe_tp_size, moe_ep_size, distribution), sorted by tokens;
** piecewise linear in tokens.  Below the smallest count: its latency
** (flagged when tokens < the smallest count).  Above the largest: the line
** through the last two points, L(n-1) + (tokens - T(n-1)) * slope, never
** below L(n-1) (a falling last segment would make more tokens cheaper: then
** L(n-1) alone), flagged; src weights of the two rows are then 1 + u and -u
** (u = (tokens - T(n-1)) / (T(n-1) - T(n-2))): they still sum to 1.
**
** ---- physics check at load (klat_phys_t, limits times 1 + tolerance) ----
**   GEMM: 2 m k n / lat <= peak_flops; and, when the weight matrix k n
**     elem_bytes exceeds l2_bytes, k n elem_bytes / lat <= hbm_bw.
**   decode (head_dim 128): 4 heads 128 kv_len batch / lat <= peak_flops; KV
**     bytes 2 kv_heads 128 elem_bytes kv_len batch / lat <= hbm_bw when the
**     KV bytes exceed l2_bytes.
**   prefill: causal FLOPs 4 heads 128 batch seq (seq + 1) / 2 / lat <=
**     peak_flops (no bandwidth check: prefill attention is compute-bound and
**     its K/V traffic is a small multiple of what it writes).
**   MoE: only with a shape (klat_moe_load_shape) and only rows with
**     moe_ep_size 1, where the timed GPU holds every expert: FLOPs 2 tokens
**     topk 3 hidden (intermediate / tp) (gate, up and down projections of
**     each routed token) <= peak_flops; and every token reads at least topk
**     distinct experts, so min(topk, experts) 3 hidden (intermediate / tp)
**     elem_bytes / lat <= hbm_bw when those bytes exceed l2_bytes.  Rows
**     with EP > 1 are not checked: the file says neither which rank was
**     timed nor how many tokens reached it, so no lower bound on its work
**     is known.  klat_moe_load (no shape) checks no MoE physics.
** Rows are checked in file order, so an error names the first offending
** line: "gemm.csv:1234: m=8192 k=8192 n=11008 latency_us=1.1: implies
** 1286.0 TFLOP/s, above the dense peak 989.5 TFLOP/s".
*/
#include "klat.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64
#define MAX_SPEC 6
#define HEAD_DIM 128.0

/* ------------------------------------------------------------------ CSV */

enum { COL_KEY, COL_INT, COL_LAT, COL_TEXT };

typedef struct {
    const char *name;
    int kind;
} colspec_t;

typedef struct {
    double v[MAX_SPEC]; /* numeric columns, in spec order */
    const char *s;      /* the text column (points into the file buffer) */
    int line;
} row_t;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    return s;
}

/* Split line in place on ','; returns the field count, or -1 if > max. */
static int split(char *line, char **fld, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        char *c = strchr(p, ',');
        if (c)
            *c = '\0';
        fld[n++] = trim(p);
        if (!c)
            return n;
        p = c + 1;
    }
}

/* The whole string must be a number. */
static int parse_num(const char *s, double *out)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

/* Read path's rows under spec.  On success *bufp owns the text that row.s
** points into and *rowsp the rows (both for the caller to free); on failure
** both are NULL. */
static int csv_read(const char *path, const colspec_t *spec, int nspec, char **bufp,
                    row_t **rowsp, int *nrowsp, char *err)
{
    *bufp = NULL;
    *rowsp = NULL;
    *nrowsp = 0;
    char *buf = NULL;
    size_t nbytes = 0;
    int rc = tam_read_file(path, &buf, &nbytes, err);
    if (rc)
        return rc;
    row_t *rows = NULL;
    int nrows = 0, cap = 0;
    if (strlen(buf) != nbytes) { /* the line scanner would stop there, silently */
        rc = tam_fail(err, TAM_EPARSE, "%s: contains a NUL byte: not a CSV text", path);
        goto done;
    }
    int idx[MAX_SPEC];
    char *fld[MAX_COLS], *hname[MAX_COLS];
    int nhdr = 0, hdr_line = 0, lineno = 0;
    char *p = buf;
    if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
        p += 3; /* UTF-8 byte-order mark */
    while (*p) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        lineno++;
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r')
            p[--len] = '\0';
        char *line = p;
        p = next;
        if (*trim(line) == '\0')
            continue; /* blank line */

        if (!hdr_line) {
            char copy[160];
            snprintf(copy, sizeof copy, "%s", line);
            hdr_line = lineno;
            nhdr = split(line, hname, MAX_COLS);
            if (nhdr < 0) {
                rc = tam_fail(err, TAM_EPARSE, "%s:%d: header has more than %d columns", path,
                              lineno, MAX_COLS);
                goto done;
            }
            for (int i = 0; i < nhdr; i++)
                for (int j = 0; j < i; j++)
                    if (strcmp(hname[i], hname[j]) == 0) {
                        rc = tam_fail(err, TAM_EFIELD,
                                      "%s:%d: header column '%.40s' appears twice", path,
                                      lineno, hname[i]);
                        goto done;
                    }
            for (int c = 0; c < nspec; c++) {
                idx[c] = -1;
                for (int i = 0; i < nhdr; i++)
                    if (strcmp(hname[i], spec[c].name) == 0)
                        idx[c] = i;
                if (idx[c] < 0) {
                    rc = tam_fail(err, TAM_EFIELD,
                                  "%s:%d: column '%s': missing from the header '%s'", path,
                                  lineno, spec[c].name, copy);
                    goto done;
                }
            }
            continue;
        }

        int nf = split(line, fld, MAX_COLS);
        if (nf != nhdr) {
            if (nf >= 0 && nf < nhdr)
                rc = tam_fail(err, TAM_EPARSE,
                              "%s:%d: ragged row: %d fields where the header (line %d) has %d: "
                              "column '%.40s' is missing (a truncated row?)",
                              path, lineno, nf, hdr_line, nhdr, hname[nf]);
            else
                rc = tam_fail(err, TAM_EPARSE,
                              "%s:%d: ragged row: %s%d fields where the header (line %d) has "
                              "%d: field '%.40s' has no column",
                              path, lineno, nf < 0 ? "more than " : "", nf < 0 ? MAX_COLS : nf,
                              hdr_line, nhdr, fld[nhdr]);
            goto done;
        }
        row_t r;
        memset(&r, 0, sizeof r);
        r.line = lineno;
        for (int c = 0; c < nspec; c++) {
            const char *s = fld[idx[c]];
            if (spec[c].kind == COL_TEXT) {
                if (!*s) {
                    rc = tam_fail(err, TAM_EFIELD, "%s:%d: column '%s': empty", path, lineno,
                                  spec[c].name);
                    goto done;
                }
                r.s = s;
                continue;
            }
            double v = 0;
            int ok = parse_num(s, &v) && isfinite(v);
            const char *want;
            if (spec[c].kind == COL_LAT) {
                ok = ok && v > 0;
                want = "a finite latency > 0 (microseconds)";
            } else if (spec[c].kind == COL_INT) {
                ok = ok && v >= 1 && v <= INT_MAX && v == floor(v);
                want = "an integer >= 1";
            } else {
                ok = ok && v >= 1;
                want = "a finite number >= 1";
            }
            if (!ok) {
                rc = tam_fail(err, TAM_EFIELD, "%s:%d: column '%s': '%.40s' is not %s", path,
                              lineno, spec[c].name, s, want);
                goto done;
            }
            r.v[c] = v;
        }
        if (nrows == cap) {
            int nc = cap ? cap * 2 : 256;
            row_t *nr = realloc(rows, sizeof(row_t) * (size_t)nc);
            if (!nr) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
                goto done;
            }
            rows = nr;
            cap = nc;
        }
        rows[nrows++] = r;
    }
    if (!hdr_line)
        rc = tam_fail(err, TAM_EPARSE, "%s:1: empty table: no header and no rows", path);
    else if (nrows == 0)
        rc = tam_fail(err, TAM_EPARSE, "%s:%d: empty table: a header but no data rows", path,
                      hdr_line);

done:
    if (rc != TAM_OK) {
        free(buf);
        free(rows);
        return rc;
    }
    *bufp = buf;
    *rowsp = rows;
    *nrowsp = nrows;
    return TAM_OK;
}

/* ------------------------------------------------------------- physics */

static int phys_valid(const char *path, const klat_phys_t *ph, char *err)
{
    if (!ph)
        return tam_fail(err, TAM_EFIELD, "%s: no physics (klat_phys_t) given", path);
    struct {
        const char *name;
        double v, min;
        int strict;
    } f[] = {{"peak_flops", ph->peak_flops, 0, 1},
             {"hbm_bw", ph->hbm_bw, 0, 1},
             {"elem_bytes", ph->elem_bytes, 0, 1},
             {"l2_bytes", ph->l2_bytes, 0, 0},
             {"tolerance", ph->tolerance, 0, 0}};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (!isfinite(f[i].v) || f[i].v < f[i].min || (f[i].strict && f[i].v <= f[i].min))
            return tam_fail(err, TAM_EFIELD, "%s: physics field '%s': %g is not a finite %s 0",
                            path, f[i].name, f[i].v, f[i].strict ? ">" : ">=");
    return TAM_OK;
}

/* The cheap tests the loaders run on every row; the messages below are
** formatted only for a row that fails. */
static int over_flops(double flops, double lat, const klat_phys_t *ph)
{
    return flops / lat > ph->peak_flops * (1 + ph->tolerance);
}

static int over_bytes(double bytes, double lat, const klat_phys_t *ph)
{
    return bytes > ph->l2_bytes && bytes / lat > ph->hbm_bw * (1 + ph->tolerance);
}

/* " (tolerance 3%)" or "" */
static void tol_note(const klat_phys_t *ph, char *buf, size_t n)
{
    if (ph->tolerance > 0)
        snprintf(buf, n, " (tolerance %g%%)", ph->tolerance * 100);
    else
        buf[0] = '\0';
}

/* what: "m=1 k=2 n=3 latency_us=4" */
static int check_flops(const char *path, int line, const char *what, double flops, double lat,
                       const klat_phys_t *ph, char *err)
{
    double rate = flops / lat;
    if (!over_flops(flops, lat, ph))
        return TAM_OK;
    char tn[48];
    tol_note(ph, tn, sizeof tn);
    return tam_fail(err, TAM_ECHECK,
                    "%s:%d: %s: implies %.1f TFLOP/s, above the dense peak %.1f TFLOP/s%s", path,
                    line, what, rate / 1e12, ph->peak_flops / 1e12, tn);
}

static int check_bytes(const char *path, int line, const char *what, const char *traffic,
                       double bytes, double lat, const klat_phys_t *ph, char *err)
{
    double rate = bytes / lat;
    if (!over_bytes(bytes, lat, ph))
        return TAM_OK;
    char tn[48];
    tol_note(ph, tn, sizeof tn);
    return tam_fail(err, TAM_ECHECK,
                    "%s:%d: %s: implies %.2f TB/s of %s (%.0f bytes, above L2's %.0f), above "
                    "the HBM bandwidth %.2f TB/s%s",
                    path, line, what, rate / 1e12, traffic, bytes, ph->l2_bytes,
                    ph->hbm_bw / 1e12, tn);
}

static double troof(const klat_phys_t *ph, double m, double k, double n)
{
    double c = 2 * m * k * n / ph->peak_flops;
    double b = ph->elem_bytes * (k * n + m * k + m * n) / ph->hbm_bw;
    return c > b ? c : b;
}

/* ------------------------------------------------------------- helpers */

/* Bracket x in the ascending v[0..n): v[*i0] <= x <= v[*i1], *i0 == *i1 when
** x is a grid value or lies beyond an end, where it takes the end and *out
** is set. */
static void bracket(const double *v, int n, double x, int *i0, int *i1, int *out)
{
    *out = 0;
    if (!(x > v[0])) {
        *i0 = *i1 = 0;
        *out = x < v[0];
        return;
    }
    if (x >= v[n - 1]) {
        *i0 = *i1 = n - 1;
        *out = x > v[n - 1];
        return;
    }
    int lo = 0, hi = n - 1; /* v[lo] < x < v[hi] */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    *i0 = lo;
    *i1 = v[lo] == x ? lo : hi;
}

static void src_start(klat_src_t *src, const char *path)
{
    if (src) {
        src->n = 0;
        src->table = path;
        src->extrapolated = 0;
    }
}

static void src_add(klat_src_t *src, int line, double w)
{
    if (!src || w == 0)
        return;
    for (int i = 0; i < src->n; i++)
        if (src->line[i] == line) {
            src->weight[i] += w;
            return;
        }
    TAM_ASSERT(src->n < KLAT_SRC_MAX);
    src->line[src->n] = line;
    src->weight[src->n] = w;
    src->n++;
}

static int cmp_int(int a, int b)
{
    return (a > b) - (a < b);
}

static int cmp_dbl(double a, double b)
{
    return (a > b) - (a < b);
}

/* ---------------------------------------------------------------- GEMM */

struct klat_gemm {
    char *path;
    klat_phys_t ph;
    int nrows, ngrp;
    int nk, nn;            /* grid values of k and n */
    double *kv, *nv;       /* ascending */
    double *lkv, *lnv;     /* their logs */
    int *cell;             /* nk * nn: pair index, or -1 */
    int *near;             /* nk * nn: nearest existing pair */
    double *gk, *gn;       /* per pair */
    int *goff;             /* ngrp + 1 offsets into the rows */
    double *m, *lat;       /* per row, ascending m within a pair; lat in s */
    int *line;
};

static const colspec_t GEMM_COLS[] = {
    {"m", COL_KEY}, {"k", COL_KEY}, {"n", COL_KEY}, {"latency_us", COL_LAT}};
enum { GM, GK, GN, GLAT };

static int cmp_gemm_row(const void *pa, const void *pb)
{
    const row_t *a = pa, *b = pb;
    int c;
    if ((c = cmp_dbl(a->v[GK], b->v[GK])) || (c = cmp_dbl(a->v[GN], b->v[GN])) ||
        (c = cmp_dbl(a->v[GM], b->v[GM])))
        return c;
    return cmp_int(a->line, b->line);
}

static int cmp_double_p(const void *a, const void *b)
{
    return cmp_dbl(*(const double *)a, *(const double *)b);
}

/* Sort v[0..n) and drop repeats; returns the new count. */
static int uniq(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double_p);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || v[i] != v[u - 1])
            v[u++] = v[i];
    return u;
}

static int find_exact(const double *v, int n, double x)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] == x)
            return mid;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

void klat_gemm_free(klat_gemm_t *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->kv);
    free(t->nv);
    free(t->lkv);
    free(t->lnv);
    free(t->cell);
    free(t->near);
    free(t->gk);
    free(t->gn);
    free(t->goff);
    free(t->m);
    free(t->lat);
    free(t->line);
    free(t);
}

static int gemm_build(klat_gemm_t *t, row_t *r, int n, char *err)
{
    qsort(r, (size_t)n, sizeof *r, cmp_gemm_row);
    for (int i = 1; i < n; i++)
        if (r[i].v[GK] == r[i - 1].v[GK] && r[i].v[GN] == r[i - 1].v[GN] &&
            r[i].v[GM] == r[i - 1].v[GM])
            return tam_fail(err, TAM_EFIELD,
                            "%s:%d: columns m,k,n: duplicate grid point m=%g k=%g n=%g (also on "
                            "line %d)",
                            t->path, r[i].line, r[i].v[GM], r[i].v[GK], r[i].v[GN], r[i - 1].line);
    int ngrp = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || r[i].v[GK] != r[i - 1].v[GK] || r[i].v[GN] != r[i - 1].v[GN])
            ngrp++;
    t->nrows = n;
    t->ngrp = ngrp;
    t->gk = malloc(sizeof(double) * (size_t)ngrp);
    t->gn = malloc(sizeof(double) * (size_t)ngrp);
    t->goff = malloc(sizeof(int) * (size_t)(ngrp + 1));
    t->m = malloc(sizeof(double) * (size_t)n);
    t->lat = malloc(sizeof(double) * (size_t)n);
    t->line = malloc(sizeof(int) * (size_t)n);
    t->kv = malloc(sizeof(double) * (size_t)ngrp);
    t->nv = malloc(sizeof(double) * (size_t)ngrp);
    if (!t->gk || !t->gn || !t->goff || !t->m || !t->lat || !t->line || !t->kv || !t->nv)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    int g = -1;
    for (int i = 0; i < n; i++) {
        if (i == 0 || r[i].v[GK] != r[i - 1].v[GK] || r[i].v[GN] != r[i - 1].v[GN]) {
            g++;
            t->gk[g] = t->kv[g] = r[i].v[GK];
            t->gn[g] = t->nv[g] = r[i].v[GN];
            t->goff[g] = i;
        }
        t->m[i] = r[i].v[GM];
        t->lat[i] = r[i].v[GLAT] * 1e-6;
        t->line[i] = r[i].line;
    }
    t->goff[ngrp] = n;
    t->nk = uniq(t->kv, ngrp);
    t->nn = uniq(t->nv, ngrp);
    size_t ncell = (size_t)t->nk * (size_t)t->nn;
    t->lkv = malloc(sizeof(double) * (size_t)t->nk);
    t->lnv = malloc(sizeof(double) * (size_t)t->nn);
    t->cell = malloc(sizeof(int) * ncell);
    t->near = malloc(sizeof(int) * ncell);
    if (!t->lkv || !t->lnv || !t->cell || !t->near)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    for (int i = 0; i < t->nk; i++)
        t->lkv[i] = log(t->kv[i]);
    for (int i = 0; i < t->nn; i++)
        t->lnv[i] = log(t->nv[i]);
    for (size_t c = 0; c < ncell; c++)
        t->cell[c] = -1;
    int *gik = malloc(sizeof(int) * (size_t)ngrp), *gin = malloc(sizeof(int) * (size_t)ngrp);
    if (!gik || !gin) {
        free(gik);
        free(gin);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    }
    for (g = 0; g < ngrp; g++) {
        gik[g] = find_exact(t->kv, t->nk, t->gk[g]);
        gin[g] = find_exact(t->nv, t->nn, t->gn[g]);
        TAM_ASSERT(gik[g] >= 0 && gin[g] >= 0);
        t->cell[gik[g] * t->nn + gin[g]] = g;
    }
    /* Nearest existing pair of each grid cell in (log k, log n); ties: the
    ** first pair in (k, n) order (strict < keeps the earlier one). */
    for (int ik = 0; ik < t->nk; ik++)
        for (int in = 0; in < t->nn; in++) {
            int c = ik * t->nn + in;
            if (t->cell[c] >= 0) {
                t->near[c] = t->cell[c];
                continue;
            }
            int best = -1;
            double bd = 0;
            for (g = 0; g < ngrp; g++) {
                double dk = t->lkv[gik[g]] - t->lkv[ik], dn = t->lnv[gin[g]] - t->lnv[in];
                double d = dk * dk + dn * dn;
                if (best < 0 || d < bd)
                    best = g, bd = d;
            }
            t->near[c] = best;
        }
    free(gik);
    free(gin);
    return TAM_OK;
}

int klat_gemm_load(const char *path, const klat_phys_t *ph, klat_gemm_t **out, char *err)
{
    TAM_ASSERT(path && out);
    *out = NULL;
    int rc = phys_valid(path, ph, err);
    if (rc)
        return rc;
    char *buf = NULL;
    row_t *r = NULL;
    int n = 0;
    if ((rc = csv_read(path, GEMM_COLS, 4, &buf, &r, &n, err)) != TAM_OK)
        return rc;
    klat_gemm_t *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    t->ph = *ph;
    for (int i = 0; i < n; i++) { /* physics, in file order */
        double m = r[i].v[GM], k = r[i].v[GK], nn = r[i].v[GN], lus = r[i].v[GLAT];
        double flops = 2 * m * k * nn, bytes = k * nn * ph->elem_bytes, lat = lus * 1e-6;
        if (!over_flops(flops, lat, ph) && !over_bytes(bytes, lat, ph))
            continue;
        char what[256];
        snprintf(what, sizeof what, "m=%g k=%g n=%g latency_us=%g", m, k, nn, lus);
        if ((rc = check_flops(path, r[i].line, what, flops, lat, ph, err)) ||
            (rc = check_bytes(path, r[i].line, what, "weight traffic", bytes, lat, ph, err)))
            goto done;
    }
    rc = gemm_build(t, r, n, err);
done:
    free(r);
    free(buf);
    if (rc) {
        klat_gemm_free(t);
        return rc;
    }
    *out = t;
    return TAM_OK;
}

/* Latency (s) of pair g at m; the rows used are *r0 (weight 1 - *w1) and *r1
** (weight *w1). */
static double gemm_pair(const klat_gemm_t *t, int g, double m, int *r0, int *r1, double *w1,
                        int *ext)
{
    int a = t->goff[g], n = t->goff[g + 1] - a;
    const double *M = t->m + a;
    int i0, i1, out;
    bracket(M, n, m, &i0, &i1, &out);
    *r0 = a + i0;
    *r1 = a + i1;
    *w1 = 0;
    if (i0 != i1) {
        double w = (m - M[i0]) / (M[i1] - M[i0]);
        double l0 = t->lat[a + i0], l1 = t->lat[a + i1];
        *w1 = w;
        return l0 + w * (l1 - l0);
    }
    if (!out)
        return t->lat[a + i0];
    *ext = 1;
    if (i0 == 0 && m < M[0])
        return t->lat[a]; /* below the smallest m: its latency */
    return t->lat[a + i0] * troof(&t->ph, m, t->gk[g], t->gn[g]) /
           troof(&t->ph, M[i0], t->gk[g], t->gn[g]);
}

double klat_gemm(const klat_gemm_t *t, double m, double k, double n, klat_src_t *src)
{
    TAM_ASSERT(t);
    src_start(src, t->path);
    int k0, k1, n0, n1, ko, no, ext = 0;
    bracket(t->kv, t->nk, k, &k0, &k1, &ko);
    bracket(t->nv, t->nn, n, &n0, &n1, &no);
    ext = ko || no;
    int r0, r1;
    double w1;
    if (k0 == k1 && n0 == n1 && !ext && t->cell[k0 * t->nn + n0] >= 0) {
        /* a measured pair: its own latency, bit for bit at a measured m */
        double lat = gemm_pair(t, t->cell[k0 * t->nn + n0], m, &r0, &r1, &w1, &ext);
        if (src) {
            src_add(src, t->line[r0], 1 - w1);
            src_add(src, t->line[r1], w1);
            src->extrapolated = ext;
        }
        return lat;
    }
    double wk = k0 == k1 ? 0 : (log(k) - t->lkv[k0]) / (t->lkv[k1] - t->lkv[k0]);
    double wn = n0 == n1 ? 0 : (log(n) - t->lnv[n0]) / (t->lnv[n1] - t->lnv[n0]);
    const int ci[4] = {k0, k0, k1, k1}, cj[4] = {n0, n1, n0, n1};
    const double cw4[4] = {(1 - wk) * (1 - wn), (1 - wk) * wn, wk * (1 - wn), wk * wn};
    int cg[4], nc = 0, best = k0 * t->nn + n0;
    double cw[4], sw = 0, bestw = 0;
    for (int c = 0; c < 4; c++) {
        if (!(cw4[c] > 0))
            continue; /* also the repeated corners of a one-value bracket */
        int cell = ci[c] * t->nn + cj[c];
        if (cw4[c] > bestw)
            bestw = cw4[c], best = cell;
        if (t->cell[cell] >= 0) {
            cg[nc] = t->cell[cell];
            cw[nc] = cw4[c];
            sw += cw4[c];
            nc++;
        }
    }
    if (nc == 0) { /* no corner measured: the nearest pair alone */
        cg[0] = t->near[best];
        cw[0] = sw = 1;
        nc = 1;
        ext = 1;
    }
    double e = 0;
    for (int c = 0; c < nc; c++) {
        int g = cg[c];
        double w = cw[c] / sw;
        double lat = gemm_pair(t, g, m, &r0, &r1, &w1, &ext);
        e += w * troof(&t->ph, m, t->gk[g], t->gn[g]) / lat;
        if (src) {
            src_add(src, t->line[r0], w * (1 - w1));
            src_add(src, t->line[r1], w * w1);
        }
    }
    if (src)
        src->extrapolated = ext;
    return troof(&t->ph, m, k, n) / e;
}

const char *klat_gemm_path(const klat_gemm_t *t)
{
    return t ? t->path : NULL;
}

/* ----------------------------------------------------------- attention */

struct klat_attn {
    char *path;
    int prefill;
    klat_phys_t ph;
    int ngrp;
    int *gh, *gkv;   /* (heads, kv_heads), ascending */
    int *gboff;      /* ngrp + 1 offsets into the batch rows */
    int nb;
    double *bval;    /* batch size of each batch row, ascending per group */
    int *bxoff;      /* nb + 1 offsets into the points */
    int np;
    double *x, *lat; /* ascending x per batch row; lat in s */
    int *line;
};

static const colspec_t DEC_COLS[] = {{"batch_size", COL_KEY},
                                     {"kv_len", COL_KEY},
                                     {"num_heads", COL_INT},
                                     {"num_kv_heads", COL_INT},
                                     {"latency_us", COL_LAT}};
static const colspec_t PRE_COLS[] = {{"batch_size", COL_KEY},
                                     {"seq_len", COL_KEY},
                                     {"num_heads", COL_INT},
                                     {"num_kv_heads", COL_INT},
                                     {"latency_us", COL_LAT}};
enum { AB, AX, AH, AKV, ALAT };

static int cmp_attn_row(const void *pa, const void *pb)
{
    const row_t *a = pa, *b = pb;
    int c;
    if ((c = cmp_dbl(a->v[AH], b->v[AH])) || (c = cmp_dbl(a->v[AKV], b->v[AKV])) ||
        (c = cmp_dbl(a->v[AB], b->v[AB])) || (c = cmp_dbl(a->v[AX], b->v[AX])))
        return c;
    return cmp_int(a->line, b->line);
}

void klat_attn_free(klat_attn_t *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->gh);
    free(t->gkv);
    free(t->gboff);
    free(t->bval);
    free(t->bxoff);
    free(t->x);
    free(t->lat);
    free(t->line);
    free(t);
}

static int attn_build(klat_attn_t *t, row_t *r, int n, char *err)
{
    const char *xn = t->prefill ? "seq_len" : "kv_len";
    qsort(r, (size_t)n, sizeof *r, cmp_attn_row);
    int ngrp = 0, nb = 0;
    for (int i = 0; i < n; i++) {
        int newg = i == 0 || r[i].v[AH] != r[i - 1].v[AH] || r[i].v[AKV] != r[i - 1].v[AKV];
        int newb = newg || r[i].v[AB] != r[i - 1].v[AB];
        if (!newb && r[i].v[AX] == r[i - 1].v[AX])
            return tam_fail(err, TAM_EFIELD,
                            "%s:%d: columns batch_size,%s,num_heads,num_kv_heads: duplicate grid "
                            "point batch_size=%g %s=%g num_heads=%g num_kv_heads=%g (also on line "
                            "%d)",
                            t->path, r[i].line, xn, r[i].v[AB], xn, r[i].v[AX], r[i].v[AH],
                            r[i].v[AKV], r[i - 1].line);
        ngrp += newg;
        nb += newb;
    }
    t->ngrp = ngrp;
    t->nb = nb;
    t->np = n;
    t->gh = malloc(sizeof(int) * (size_t)ngrp);
    t->gkv = malloc(sizeof(int) * (size_t)ngrp);
    t->gboff = malloc(sizeof(int) * (size_t)(ngrp + 1));
    t->bval = malloc(sizeof(double) * (size_t)nb);
    t->bxoff = malloc(sizeof(int) * (size_t)(nb + 1));
    t->x = malloc(sizeof(double) * (size_t)n);
    t->lat = malloc(sizeof(double) * (size_t)n);
    t->line = malloc(sizeof(int) * (size_t)n);
    if (!t->gh || !t->gkv || !t->gboff || !t->bval || !t->bxoff || !t->x || !t->lat || !t->line)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    int g = -1, b = -1;
    for (int i = 0; i < n; i++) {
        int newg = i == 0 || r[i].v[AH] != r[i - 1].v[AH] || r[i].v[AKV] != r[i - 1].v[AKV];
        if (newg) {
            g++;
            t->gh[g] = (int)r[i].v[AH];
            t->gkv[g] = (int)r[i].v[AKV];
            t->gboff[g] = b + 1;
        }
        if (newg || r[i].v[AB] != r[i - 1].v[AB]) {
            b++;
            t->bval[b] = r[i].v[AB];
            t->bxoff[b] = i;
        }
        t->x[i] = r[i].v[AX];
        t->lat[i] = r[i].v[ALAT] * 1e-6;
        t->line[i] = r[i].line;
    }
    t->gboff[ngrp] = nb;
    t->bxoff[nb] = n;
    return TAM_OK;
}

int klat_attn_load(const char *path, int is_prefill, const klat_phys_t *ph, klat_attn_t **out,
                   char *err)
{
    TAM_ASSERT(path && out);
    *out = NULL;
    int rc = phys_valid(path, ph, err);
    if (rc)
        return rc;
    char *buf = NULL;
    row_t *r = NULL;
    int n = 0;
    if ((rc = csv_read(path, is_prefill ? PRE_COLS : DEC_COLS, 5, &buf, &r, &n, err)) != TAM_OK)
        return rc;
    klat_attn_t *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    t->prefill = is_prefill != 0;
    t->ph = *ph;
    for (int i = 0; i < n; i++) {
        double b = r[i].v[AB], x = r[i].v[AX], h = r[i].v[AH], kv = r[i].v[AKV];
        double lat = r[i].v[ALAT] * 1e-6;
        double flops = is_prefill ? 4 * h * HEAD_DIM * b * x * (x + 1) / 2
                                  : 4 * h * HEAD_DIM * x * b;
        double bytes = is_prefill ? 0 : 2 * kv * HEAD_DIM * ph->elem_bytes * x * b;
        if (!over_flops(flops, lat, ph) && !over_bytes(bytes, lat, ph))
            continue;
        char what[256];
        snprintf(what, sizeof what,
                 "batch_size=%g %s=%g num_heads=%g num_kv_heads=%g latency_us=%g", b,
                 is_prefill ? "seq_len" : "kv_len", x, h, kv, r[i].v[ALAT]);
        if ((rc = check_flops(path, r[i].line, what, flops, lat, ph, err)) ||
            (rc = check_bytes(path, r[i].line, what, "KV reads", bytes, lat, ph, err)))
            goto done;
    }
    rc = attn_build(t, r, n, err);
done:
    free(r);
    free(buf);
    if (rc) {
        klat_attn_free(t);
        return rc;
    }
    *out = t;
    return TAM_OK;
}

static int attn_group(const klat_attn_t *t, int heads, int kv_heads)
{
    int lo = 0, hi = t->ngrp - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = cmp_int(t->gh[mid], heads);
        if (!c)
            c = cmp_int(t->gkv[mid], kv_heads);
        if (!c)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int klat_attn_has(const klat_attn_t *t, int heads, int kv_heads)
{
    return t && attn_group(t, heads, kv_heads) >= 0;
}

/* Latency (s) of batch row b at x (rule 2 of the header comment). */
static double attn_row(const klat_attn_t *t, int b, double x, int *p0, int *p1, double *w1,
                       int *ext)
{
    int a = t->bxoff[b], n = t->bxoff[b + 1] - a;
    const double *X = t->x + a;
    int i0, i1, out;
    bracket(X, n, x, &i0, &i1, &out);
    *p0 = a + i0;
    *p1 = a + i1;
    *w1 = 0;
    if (i0 != i1) {
        double w = (x - X[i0]) / (X[i1] - X[i0]);
        double l0 = t->lat[a + i0], l1 = t->lat[a + i1];
        *w1 = w;
        return l0 + w * (l1 - l0);
    }
    if (!out)
        return t->lat[a + i0];
    if (i0 == 0 && x < X[0]) { /* the launch floor */
        if (!(x >= 1))
            *ext = 1;
        return t->lat[a];
    }
    *ext = 1;
    double q = x / X[i0];
    if (t->prefill)
        q *= q;
    return t->lat[a + i0] * q;
}

double klat_attn(const klat_attn_t *t, int heads, int kv_heads, double batch, double x,
                 klat_src_t *src)
{
    TAM_ASSERT(t);
    int g = attn_group(t, heads, kv_heads);
    TAM_ASSERT(g >= 0); /* the caller checks klat_attn_has first */
    src_start(src, t->path);
    int b0 = t->gboff[g], nb = t->gboff[g + 1] - b0;
    const double *B = t->bval + b0;
    int i0, i1, out, ext = 0;
    bracket(B, nb, batch, &i0, &i1, &out);
    double scale = 1, wb = 0;
    if (out) {
        if (i0 == 0 && batch < B[0]) {
            if (!(batch >= 1))
                ext = 1;
        } else {
            ext = 1;
            scale = batch / B[i0];
        }
    }
    int p0, p1, q0, q1;
    double w1, v1;
    double lat = attn_row(t, b0 + i0, x, &p0, &p1, &w1, &ext);
    if (i0 != i1) {
        wb = (batch - B[i0]) / (B[i1] - B[i0]);
        double l1 = attn_row(t, b0 + i1, x, &q0, &q1, &v1, &ext);
        lat = lat + wb * (l1 - lat);
    }
    if (src) {
        src_add(src, t->line[p0], (1 - wb) * (1 - w1));
        src_add(src, t->line[p1], (1 - wb) * w1);
        if (i0 != i1) {
            src_add(src, t->line[q0], wb * (1 - v1));
            src_add(src, t->line[q1], wb * v1);
        }
        src->extrapolated = ext;
    }
    return scale == 1 ? lat : lat * scale;
}

const char *klat_attn_path(const klat_attn_t *t)
{
    return t ? t->path : NULL;
}

/* ----------------------------------------------------------------- MoE */

struct klat_moe {
    char *path;
    klat_phys_t ph;
    int ngrp;
    int *gtp, *gep;
    char **gdist;    /* owned */
    int *goff;       /* ngrp + 1 */
    int np;
    double *tok, *lat; /* ascending tokens per group; lat in s */
    int *line;
};

static const colspec_t MOE_COLS[] = {{"num_tokens", COL_KEY},
                                     {"moe_tp_size", COL_INT},
                                     {"moe_ep_size", COL_INT},
                                     {"distribution", COL_TEXT},
                                     {"latency_us", COL_LAT}};
enum { MT, MTP, MEP, MDIST, MLAT };

static int cmp_moe_key(int tpa, int epa, const char *da, int tpb, int epb, const char *db)
{
    int c;
    if ((c = cmp_int(tpa, tpb)) || (c = cmp_int(epa, epb)))
        return c;
    c = strcmp(da, db);
    return (c > 0) - (c < 0);
}

static int cmp_moe_row(const void *pa, const void *pb)
{
    const row_t *a = pa, *b = pb;
    int c;
    if ((c = cmp_moe_key((int)a->v[MTP], (int)a->v[MEP], a->s, (int)b->v[MTP], (int)b->v[MEP],
                         b->s)) ||
        (c = cmp_dbl(a->v[MT], b->v[MT])))
        return c;
    return cmp_int(a->line, b->line);
}

void klat_moe_free(klat_moe_t *t)
{
    if (!t)
        return;
    if (t->gdist)
        for (int i = 0; i < t->ngrp; i++)
            free(t->gdist[i]);
    free(t->gdist);
    free(t->path);
    free(t->gtp);
    free(t->gep);
    free(t->goff);
    free(t->tok);
    free(t->lat);
    free(t->line);
    free(t);
}

static int moe_build(klat_moe_t *t, row_t *r, int n, char *err)
{
    qsort(r, (size_t)n, sizeof *r, cmp_moe_row);
    int ngrp = 0;
    for (int i = 0; i < n; i++) {
        int newg = i == 0 || cmp_moe_key((int)r[i].v[MTP], (int)r[i].v[MEP], r[i].s,
                                         (int)r[i - 1].v[MTP], (int)r[i - 1].v[MEP],
                                         r[i - 1].s) != 0;
        if (!newg && r[i].v[MT] == r[i - 1].v[MT])
            return tam_fail(err, TAM_EFIELD,
                            "%s:%d: columns num_tokens,moe_tp_size,moe_ep_size,distribution: "
                            "duplicate grid point num_tokens=%g moe_tp_size=%g moe_ep_size=%g "
                            "distribution=%.40s (also on line %d)",
                            t->path, r[i].line, r[i].v[MT], r[i].v[MTP], r[i].v[MEP], r[i].s,
                            r[i - 1].line);
        ngrp += newg;
    }
    t->np = n;
    t->gtp = malloc(sizeof(int) * (size_t)ngrp);
    t->gep = malloc(sizeof(int) * (size_t)ngrp);
    t->gdist = calloc((size_t)ngrp, sizeof(char *));
    t->goff = malloc(sizeof(int) * (size_t)(ngrp + 1));
    t->tok = malloc(sizeof(double) * (size_t)n);
    t->lat = malloc(sizeof(double) * (size_t)n);
    t->line = malloc(sizeof(int) * (size_t)n);
    if (!t->gtp || !t->gep || !t->gdist || !t->goff || !t->tok || !t->lat || !t->line)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    t->ngrp = ngrp; /* gdist is calloc'ed: free works from here on */
    int g = -1;
    for (int i = 0; i < n; i++) {
        if (i == 0 || cmp_moe_key((int)r[i].v[MTP], (int)r[i].v[MEP], r[i].s,
                                  (int)r[i - 1].v[MTP], (int)r[i - 1].v[MEP], r[i - 1].s)) {
            g++;
            t->gtp[g] = (int)r[i].v[MTP];
            t->gep[g] = (int)r[i].v[MEP];
            if (!(t->gdist[g] = strdup(r[i].s)))
                return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
            t->goff[g] = i;
        }
        t->tok[i] = r[i].v[MT];
        t->lat[i] = r[i].v[MLAT] * 1e-6;
        t->line[i] = r[i].line;
    }
    t->goff[ngrp] = n;
    return TAM_OK;
}

int klat_moe_load_shape(const char *path, const klat_phys_t *ph, const klat_moe_shape_t *shape,
                        klat_moe_t **out, char *err)
{
    TAM_ASSERT(path && out);
    *out = NULL;
    int rc = phys_valid(path, ph, err);
    if (rc)
        return rc;
    if (shape && !(isfinite(shape->hidden) && shape->hidden >= 1 &&
                   isfinite(shape->intermediate) && shape->intermediate >= 1 &&
                   shape->experts >= 1 && shape->topk >= 1 && shape->topk <= shape->experts))
        return tam_fail(err, TAM_EFIELD,
                        "%s: MoE shape hidden=%g intermediate=%g experts=%d topk=%d: needs "
                        "sizes >= 1 and 1 <= topk <= experts",
                        path, shape->hidden, shape->intermediate, shape->experts, shape->topk);
    char *buf = NULL;
    row_t *r = NULL;
    int n = 0;
    if ((rc = csv_read(path, MOE_COLS, 5, &buf, &r, &n, err)) != TAM_OK)
        return rc;
    klat_moe_t *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    t->ph = *ph;
    for (int i = 0; shape && i < n; i++) {
        if (r[i].v[MEP] != 1)
            continue; /* EP > 1: no known lower bound (header comment) */
        double tok = r[i].v[MT], tp = r[i].v[MTP], lat = r[i].v[MLAT] * 1e-6;
        double inter = shape->intermediate / tp;
        double flops = 2 * tok * shape->topk * 3 * shape->hidden * inter;
        double bytes = shape->topk * 3 * shape->hidden * inter * ph->elem_bytes;
        if (!over_flops(flops, lat, ph) && !over_bytes(bytes, lat, ph))
            continue;
        char what[256];
        snprintf(what, sizeof what,
                 "num_tokens=%g moe_tp_size=%g moe_ep_size=1 distribution=%.40s latency_us=%g "
                 "(hidden %g, intermediate %g per GPU, top-%d)",
                 tok, tp, r[i].s, r[i].v[MLAT], shape->hidden, inter, shape->topk);
        if ((rc = check_flops(path, r[i].line, what, flops, lat, ph, err)) ||
            (rc = check_bytes(path, r[i].line, what, "expert weights", bytes, lat, ph, err)))
            goto done;
    }
    rc = moe_build(t, r, n, err);
done:
    free(r);
    free(buf);
    if (rc) {
        klat_moe_free(t);
        return rc;
    }
    *out = t;
    return TAM_OK;
}

int klat_moe_load(const char *path, const klat_phys_t *ph, klat_moe_t **out, char *err)
{
    return klat_moe_load_shape(path, ph, NULL, out, err);
}

static int moe_group(const klat_moe_t *t, int tp, int ep, const char *dist)
{
    int lo = 0, hi = t->ngrp - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = cmp_moe_key(t->gtp[mid], t->gep[mid], t->gdist[mid], tp, ep, dist);
        if (!c)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int klat_moe_has(const klat_moe_t *t, int tp, int ep, const char *distribution)
{
    return t && distribution && moe_group(t, tp, ep, distribution) >= 0;
}

double klat_moe(const klat_moe_t *t, int tp, int ep, const char *distribution, double tokens,
                klat_src_t *src)
{
    TAM_ASSERT(t && distribution);
    int g = moe_group(t, tp, ep, distribution);
    TAM_ASSERT(g >= 0); /* the caller checks klat_moe_has first */
    src_start(src, t->path);
    int a = t->goff[g], n = t->goff[g + 1] - a;
    const double *T = t->tok + a, *L = t->lat + a;
    int i0, i1, out;
    bracket(T, n, tokens, &i0, &i1, &out);
    double lat;
    if (i0 != i1) {
        double w = (tokens - T[i0]) / (T[i1] - T[i0]);
        lat = L[i0] + w * (L[i1] - L[i0]);
        src_add(src, t->line[a + i0], 1 - w);
        src_add(src, t->line[a + i1], w);
    } else if (!out || (i0 == 0 && tokens < T[0]) || n == 1) {
        lat = L[i0]; /* a measured count, or clamped below (or a one-row group) */
        src_add(src, t->line[a + i0], 1);
    } else { /* above the largest count: the line through the last two points */
        double u = (tokens - T[n - 1]) / (T[n - 1] - T[n - 2]);
        lat = L[n - 1] + u * (L[n - 1] - L[n - 2]);
        if (lat < L[n - 1]) {
            lat = L[n - 1];
            src_add(src, t->line[a + n - 1], 1);
        } else {
            src_add(src, t->line[a + n - 1], 1 + u);
            src_add(src, t->line[a + n - 2], -u);
        }
    }
    if (src)
        src->extrapolated = out;
    return lat;
}

const char *klat_moe_path(const klat_moe_t *t)
{
    return t ? t->path : NULL;
}
