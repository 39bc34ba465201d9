/* engine/klat.c - load measured kernel-latency tables and answer lookups in latency space.
**
** Invariant: after klat_*_load a table is immutable, every latency is finite
** and > 0 (stored in seconds, as latency_us * 1e-6), there is no duplicate
** grid point, and rows are grouped and sorted so that a lookup is a few
** binary searches plus arithmetic: it never allocates and never writes
** (except into the caller's klat_src_t).  A query on a measured grid point
** returns that row's stored latency bit for bit (no arithmetic touches it).
**
** CSV (engine/csvutil.h's reader, fields trimmed of spaces and tabs):
** columns are found by header name (any order, extra columns ignored); CRLF,
** a UTF-8 BOM, double-quoted fields and blank lines are accepted; every other
** defect is an error naming file:line, the column and the value.
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

#include "csvutil.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Strip the spaces and tabs around every field of the current record (in
** place); returns 1 when the record is a single blank field (a line of
** whitespace only, skipped like an empty one). */
static int trim_fields(csv_t *c)
{
    for (int i = 0; i < c->nf; i++) {
        char *s = c->f[i];
        while (*s == ' ' || *s == '\t')
            s++;
        char *e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        c->f[i] = s;
    }
    return c->nf == 1 && !c->f[0][0];
}

/* Field s of column spec, checked against its kind, into *v (numbers) or
** *text (COL_TEXT). */
static int parse_field(const char *path, int line, const colspec_t *spec, const char *s,
                       double *v, const char **text, char *err)
{
    if (spec->kind == COL_TEXT) {
        if (!*s)
            return tam_fail(err, TAM_EFIELD, "%s:%d: column '%s': empty", path, line, spec->name);
        *text = s;
        return TAM_OK;
    }
    char *end;
    double x = strtod(s, &end); /* underflow (ERANGE) keeps strtod's value, as ever */
    int ok = *s && end != s && *end == '\0' && isfinite(x);
    const char *want;
    if (spec->kind == COL_LAT) {
        ok = ok && x > 0;
        want = "a finite latency > 0 (microseconds)";
    } else if (spec->kind == COL_INT) {
        ok = ok && x >= 1 && x <= INT_MAX && x == floor(x);
        want = "an integer >= 1";
    } else {
        ok = ok && x >= 1;
        want = "a finite number >= 1";
    }
    if (!ok)
        return tam_fail(err, TAM_EFIELD, "%s:%d: column '%s': '%.40s' is not %s", path, line,
                        spec->name, s, want);
    *v = x;
    return TAM_OK;
}

/* Find spec's columns in the header record c->f (whose text it names). */
static int read_header(csv_t *c, int line, const colspec_t *spec, int nspec, int *idx, char *err)
{
    for (int i = 0; i < c->nf; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(c->f[i], c->f[j]) == 0)
                return tam_fail(err, TAM_EFIELD, "%s:%d: header column '%.40s' appears twice",
                                c->file, line, c->f[i]);
    for (int k = 0; k < nspec; k++)
        if ((idx[k] = csv_col(c, spec[k].name)) < 0) {
            char hdr[160];
            size_t n = 0;
            hdr[0] = '\0';
            for (int i = 0; i < c->nf && n < sizeof hdr; i++)
                n += (size_t)snprintf(hdr + n, sizeof hdr - n, "%s%s", i ? "," : "", c->f[i]);
            return tam_fail(err, TAM_EFIELD, "%s:%d: column '%s': missing from the header '%s'",
                            c->file, line, spec[k].name, hdr);
        }
    return TAM_OK;
}

/* Read path's rows under spec (csvutil.h's reader; fields trimmed of spaces
** and tabs).  On success *bufp owns the text that row.s points into and
** *rowsp the rows (both for the caller to free); on failure both are NULL. */
static int read_table(const char *path, const colspec_t *spec, int nspec, char **bufp,
                      row_t **rowsp, int *nrowsp, char *err)
{
    *bufp = NULL;
    *rowsp = NULL;
    *nrowsp = 0;
    csv_t c;
    int rc = csv_open(&c, path, err);
    if (rc)
        return rc;
    if (c.end > c.p && c.end[-1] == '\r') /* a last line's CR without its LF, as with one */
        *--c.end = '\0';
    row_t *rows = NULL;
    char **hname = NULL; /* the header's fields (they stay in c.buf) */
    int nrows = 0, cap = 0, idx[MAX_SPEC], nhdr = 0, hdr_line = 0;
    unsigned long ul;
    while ((rc = csv_row(&c, &ul, err)) == 1) {
        int line = (int)ul;
        if (trim_fields(&c))
            continue; /* blank line */
        if (!hdr_line) {
            hdr_line = line;
            nhdr = c.nf;
            if ((rc = read_header(&c, line, spec, nspec, idx, err)))
                goto done;
            if (!(hname = malloc(sizeof *hname * (size_t)nhdr))) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
                goto done;
            }
            memcpy(hname, c.f, sizeof *hname * (size_t)nhdr);
            continue;
        }
        if (c.nf != nhdr) {
            if (c.nf < nhdr)
                rc = tam_fail(err, TAM_EPARSE,
                              "%s:%d: ragged row: %d fields where the header (line %d) has %d: "
                              "column '%.40s' is missing (a truncated row?)",
                              path, line, c.nf, hdr_line, nhdr, hname[c.nf]);
            else
                rc = tam_fail(err, TAM_EPARSE,
                              "%s:%d: ragged row: %d fields where the header (line %d) has "
                              "%d: field '%.40s' has no column",
                              path, line, c.nf, hdr_line, nhdr, c.f[nhdr]);
            goto done;
        }
        row_t r;
        memset(&r, 0, sizeof r);
        r.line = line;
        for (int k = 0; k < nspec; k++)
            if ((rc = parse_field(path, line, &spec[k], c.f[idx[k]], &r.v[k], &r.s, err)))
                goto done;
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
    if (rc < 0)
        goto done;
    if (!hdr_line)
        rc = tam_fail(err, TAM_EPARSE, "%s:1: empty table: no header and no rows", path);
    else if (nrows == 0)
        rc = tam_fail(err, TAM_EPARSE, "%s:%d: empty table: a header but no data rows", path,
                      hdr_line);

done:
    free(hname);
    if (rc != TAM_OK) {
        csv_close(&c);
        free(rows);
        return rc;
    }
    *bufp = c.buf; /* row.s points into it: the caller frees it */
    c.buf = NULL;
    csv_close(&c);
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

/* The error for a row that over_flops or over_bytes flags (the FLOP limit
** first); what: "m=1 k=2 n=3 latency_us=4", traffic: what the bytes are. */
static int phys_fail(const char *path, int line, const char *what, const char *traffic,
                     double flops, double bytes, double lat, const klat_phys_t *ph, char *err)
{
    char tn[48];
    tol_note(ph, tn, sizeof tn);
    if (over_flops(flops, lat, ph))
        return tam_fail(err, TAM_ECHECK,
                        "%s:%d: %s: implies %.1f TFLOP/s, above the dense peak %.1f TFLOP/s%s",
                        path, line, what, flops / lat / 1e12, ph->peak_flops / 1e12, tn);
    TAM_ASSERT(over_bytes(bytes, lat, ph));
    return tam_fail(err, TAM_ECHECK,
                    "%s:%d: %s: implies %.2f TB/s of %s (%.0f bytes, above L2's %.0f), above "
                    "the HBM bandwidth %.2f TB/s%s",
                    path, line, what, bytes / lat / 1e12, traffic, bytes, ph->l2_bytes,
                    ph->hbm_bw / 1e12, tn);
}

/* One row's load-time check: 0 leaves the row unchecked, else *flops,
** *bytes and *lat (s); what (non-NULL for a row that fails) gets the row. */
typedef int (*row_phys_fn)(const row_t *r, const void *ctx, const klat_phys_t *ph, double *flops,
                           double *bytes, double *lat, char *what, size_t nwhat);

/* read_table, then phys (if any) on every row in file order, so that an error
** names the first offending line; traffic says what the bytes are.  On
** failure nothing is held. */
static int load_rows(const char *path, const klat_phys_t *ph, const colspec_t *spec, int nspec,
                     row_phys_fn phys, const void *ctx, const char *traffic, char **bufp,
                     row_t **rowsp, int *nrowsp, char *err)
{
    int rc = read_table(path, spec, nspec, bufp, rowsp, nrowsp, err);
    for (int i = 0; !rc && phys && i < *nrowsp; i++) {
        const row_t *r = &(*rowsp)[i];
        double flops, bytes, lat;
        if (!phys(r, ctx, ph, &flops, &bytes, &lat, NULL, 0) ||
            (!over_flops(flops, lat, ph) && !over_bytes(bytes, lat, ph)))
            continue;
        char what[256];
        phys(r, ctx, ph, &flops, &bytes, &lat, what, sizeof what);
        rc = phys_fail(path, r->line, what, traffic, flops, bytes, lat, ph, err);
        free(*bufp);
        free(*rowsp);
        *bufp = NULL;
        *rowsp = NULL;
        *nrowsp = 0;
    }
    return rc;
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

/* Piecewise linear over the ascending X[a..a+n) with values L[a..a+n): x is
** bracketed by rows *r0 <= *r1 as by bracket(); between two grid values the
** line through them (*w1 the weight of row *r1), on a grid value or beyond an
** end that row's value (*w1 = 0; the caller extrapolates where *out is set). */
static double interp(const double *X, const double *L, int a, int n, double x, int *r0, int *r1,
                     int *out, double *w1)
{
    bracket(X + a, n, x, r0, r1, out);
    *r0 += a;
    *r1 += a;
    *w1 = 0;
    if (*r0 == *r1)
        return L[*r0];
    double w = (x - X[*r0]) / (X[*r1] - X[*r0]);
    *w1 = w;
    return L[*r0] + w * (L[*r1] - L[*r0]);
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

/* Rows r0 and r1 (line[r0], line[r1]) of a linear blend with r1's weight w1,
** the blend itself counting w. */
static void src_pair(klat_src_t *src, const int *line, int r0, int r1, double w, double w1)
{
    src_add(src, line[r0], w * (1 - w1));
    src_add(src, line[r1], w * w1);
}

static int cmp_int(int a, int b)
{
    return (a > b) - (a < b);
}

static int cmp_dbl(double a, double b)
{
    return (a > b) - (a < b);
}

/* The key of a group of rows: two integers, then a text (MoE; NULL in
** attention tables), compared in that order. */
typedef struct {
    int a, b;
    const char *s;
} gkey_t;

static int cmp_gkey(gkey_t x, gkey_t y)
{
    int c;
    if ((c = cmp_int(x.a, y.a)) || (c = cmp_int(x.b, y.b)) || !x.s || !y.s)
        return c;
    c = strcmp(x.s, y.s);
    return (c > 0) - (c < 0);
}

/* Index of key among the ascending g[0..n), -1 if absent. */
static int find_group(const gkey_t *g, int n, gkey_t key)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = cmp_gkey(g[mid], key);
        if (!c)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
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

static int gemm_phys(const row_t *r, const void *ctx, const klat_phys_t *ph, double *flops,
                     double *bytes, double *lat, char *what, size_t nwhat)
{
    (void)ctx;
    double m = r->v[GM], k = r->v[GK], n = r->v[GN], lus = r->v[GLAT];
    *flops = 2 * m * k * n;
    *bytes = k * n * ph->elem_bytes;
    *lat = lus * 1e-6;
    if (what)
        snprintf(what, nwhat, "m=%g k=%g n=%g latency_us=%g", m, k, n, lus);
    return 1;
}

int klat_gemm_load(const char *path, const klat_phys_t *ph, klat_gemm_t **out, char *err)
{
    TAM_ASSERT(path && out);
    *out = NULL;
    char *buf;
    row_t *r;
    int n;
    int rc = phys_valid(path, ph, err);
    if (rc || (rc = load_rows(path, ph, GEMM_COLS, 4, gemm_phys, NULL, "weight traffic", &buf,
                              &r, &n, err)))
        return rc;
    klat_gemm_t *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
    } else {
        t->ph = *ph;
        rc = gemm_build(t, r, n, err);
    }
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
    int a = t->goff[g], out;
    double lat = interp(t->m, t->lat, a, t->goff[g + 1] - a, m, r0, r1, &out, w1);
    if (!out)
        return lat;
    *ext = 1;
    if (*r0 == a && m < t->m[a])
        return lat; /* below the smallest m: its latency */
    return lat * troof(&t->ph, m, t->gk[g], t->gn[g]) /
           troof(&t->ph, t->m[*r0], t->gk[g], t->gn[g]);
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
        src_pair(src, t->line, r0, r1, 1, w1);
        if (src)
            src->extrapolated = ext;
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
        src_pair(src, t->line, r0, r1, w, w1);
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
    gkey_t *gkey;    /* (heads, kv_heads), ascending */
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
    free(t->gkey);
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
    t->gkey = malloc(sizeof(gkey_t) * (size_t)ngrp);
    t->gboff = malloc(sizeof(int) * (size_t)(ngrp + 1));
    t->bval = malloc(sizeof(double) * (size_t)nb);
    t->bxoff = malloc(sizeof(int) * (size_t)(nb + 1));
    t->x = malloc(sizeof(double) * (size_t)n);
    t->lat = malloc(sizeof(double) * (size_t)n);
    t->line = malloc(sizeof(int) * (size_t)n);
    if (!t->gkey || !t->gboff || !t->bval || !t->bxoff || !t->x || !t->lat || !t->line)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    int g = -1, b = -1;
    for (int i = 0; i < n; i++) {
        int newg = i == 0 || r[i].v[AH] != r[i - 1].v[AH] || r[i].v[AKV] != r[i - 1].v[AKV];
        if (newg) {
            g++;
            t->gkey[g] = (gkey_t){(int)r[i].v[AH], (int)r[i].v[AKV], NULL};
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

static int attn_phys(const row_t *r, const void *ctx, const klat_phys_t *ph, double *flops,
                     double *bytes, double *lat, char *what, size_t nwhat)
{
    int is_prefill = *(const int *)ctx;
    double b = r->v[AB], x = r->v[AX], h = r->v[AH], kv = r->v[AKV];
    *lat = r->v[ALAT] * 1e-6;
    *flops = is_prefill ? 4 * h * HEAD_DIM * b * x * (x + 1) / 2 : 4 * h * HEAD_DIM * x * b;
    *bytes = is_prefill ? 0 : 2 * kv * HEAD_DIM * ph->elem_bytes * x * b;
    if (what)
        snprintf(what, nwhat, "batch_size=%g %s=%g num_heads=%g num_kv_heads=%g latency_us=%g",
                 b, is_prefill ? "seq_len" : "kv_len", x, h, kv, r->v[ALAT]);
    return 1;
}

int klat_attn_load(const char *path, int is_prefill, const klat_phys_t *ph, klat_attn_t **out,
                   char *err)
{
    TAM_ASSERT(path && out);
    *out = NULL;
    char *buf;
    row_t *r;
    int n;
    int rc = phys_valid(path, ph, err);
    if (rc || (rc = load_rows(path, ph, is_prefill ? PRE_COLS : DEC_COLS, 5, attn_phys,
                              &is_prefill, "KV reads", &buf, &r, &n, err)))
        return rc;
    klat_attn_t *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
    } else {
        t->prefill = is_prefill != 0;
        t->ph = *ph;
        rc = attn_build(t, r, n, err);
    }
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
    return find_group(t->gkey, t->ngrp, (gkey_t){heads, kv_heads, NULL});
}

int klat_attn_has(const klat_attn_t *t, int heads, int kv_heads)
{
    return t && attn_group(t, heads, kv_heads) >= 0;
}

/* Latency (s) of batch row b at x (rule 2 of the header comment). */
static double attn_row(const klat_attn_t *t, int b, double x, int *p0, int *p1, double *w1,
                       int *ext)
{
    int a = t->bxoff[b], out;
    double lat = interp(t->x, t->lat, a, t->bxoff[b + 1] - a, x, p0, p1, &out, w1);
    if (!out)
        return lat;
    if (*p0 == a && x < t->x[a]) { /* the launch floor */
        if (!(x >= 1))
            *ext = 1;
        return lat;
    }
    *ext = 1;
    double q = x / t->x[*p0];
    if (t->prefill)
        q *= q;
    return lat * q;
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
    src_pair(src, t->line, p0, p1, 1 - wb, w1);
    if (i0 != i1)
        src_pair(src, t->line, q0, q1, wb, v1);
    if (src)
        src->extrapolated = ext;
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
    gkey_t *gkey;    /* (moe_tp_size, moe_ep_size, distribution), ascending */
    char **gdist;    /* owned: gkey[g].s */
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

static gkey_t moe_key(const row_t *r)
{
    return (gkey_t){(int)r->v[MTP], (int)r->v[MEP], r->s};
}

static int cmp_moe_row(const void *pa, const void *pb)
{
    const row_t *a = pa, *b = pb;
    int c;
    if ((c = cmp_gkey(moe_key(a), moe_key(b))) || (c = cmp_dbl(a->v[MT], b->v[MT])))
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
    free(t->gkey);
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
        int newg = i == 0 || cmp_gkey(moe_key(&r[i]), moe_key(&r[i - 1])) != 0;
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
    t->gkey = malloc(sizeof(gkey_t) * (size_t)ngrp);
    t->gdist = calloc((size_t)ngrp, sizeof(char *));
    t->goff = malloc(sizeof(int) * (size_t)(ngrp + 1));
    t->tok = malloc(sizeof(double) * (size_t)n);
    t->lat = malloc(sizeof(double) * (size_t)n);
    t->line = malloc(sizeof(int) * (size_t)n);
    if (!t->gkey || !t->gdist || !t->goff || !t->tok || !t->lat || !t->line)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    t->ngrp = ngrp; /* gdist is calloc'ed: free works from here on */
    int g = -1;
    for (int i = 0; i < n; i++) {
        if (i == 0 || cmp_gkey(moe_key(&r[i]), moe_key(&r[i - 1]))) {
            g++;
            if (!(t->gdist[g] = strdup(r[i].s)))
                return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
            t->gkey[g] = (gkey_t){(int)r[i].v[MTP], (int)r[i].v[MEP], t->gdist[g]};
            t->goff[g] = i;
        }
        t->tok[i] = r[i].v[MT];
        t->lat[i] = r[i].v[MLAT] * 1e-6;
        t->line[i] = r[i].line;
    }
    t->goff[ngrp] = n;
    return TAM_OK;
}

/* ctx: the klat_moe_shape_t; rows with EP > 1 are not checked (no known
** lower bound: header comment). */
static int moe_phys(const row_t *r, const void *ctx, const klat_phys_t *ph, double *flops,
                    double *bytes, double *lat, char *what, size_t nwhat)
{
    const klat_moe_shape_t *shape = ctx;
    if (r->v[MEP] != 1)
        return 0;
    double tok = r->v[MT], tp = r->v[MTP];
    double inter = shape->intermediate / tp;
    *lat = r->v[MLAT] * 1e-6;
    *flops = 2 * tok * shape->topk * 3 * shape->hidden * inter;
    *bytes = shape->topk * 3 * shape->hidden * inter * ph->elem_bytes;
    if (what)
        snprintf(what, nwhat,
                 "num_tokens=%g moe_tp_size=%g moe_ep_size=1 distribution=%.40s latency_us=%g "
                 "(hidden %g, intermediate %g per GPU, top-%d)",
                 tok, tp, r->s, r->v[MLAT], shape->hidden, inter, shape->topk);
    return 1;
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
    char *buf;
    row_t *r;
    int n;
    if ((rc = load_rows(path, ph, MOE_COLS, 5, shape ? moe_phys : NULL, shape, "expert weights",
                        &buf, &r, &n, err)))
        return rc;
    klat_moe_t *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
    } else {
        t->ph = *ph;
        rc = moe_build(t, r, n, err);
    }
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
    return find_group(t->gkey, t->ngrp, (gkey_t){tp, ep, dist});
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
    int r0, r1, out;
    double w;
    double lat = interp(t->tok, t->lat, a, n, tokens, &r0, &r1, &out, &w);
    if (r0 != r1 || !out || (r0 == a && tokens < T[0]) || n == 1) {
        /* between two counts, a measured count, or clamped below (or a one-row group) */
        src_pair(src, t->line, r0, r1, 1, w);
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
