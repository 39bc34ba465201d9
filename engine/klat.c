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
#include "klat_int.h"

#include "csvutil.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ------------------------------------------------------------------ CSV */




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

int klat_i_phys_valid(const char *path, const klat_phys_t *ph, char *err)
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


/* read_table, then phys (if any) on every row in file order, so that an error
** names the first offending line; traffic says what the bytes are.  On
** failure nothing is held. */
int klat_i_load_rows(const char *path, const klat_phys_t *ph, const colspec_t *spec, int nspec,
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

double klat_i_troof(const klat_phys_t *ph, double m, double k, double n)
{
    double c = 2 * m * k * n / ph->peak_flops;
    double b = ph->elem_bytes * (k * n + m * k + m * n) / ph->hbm_bw;
    return c > b ? c : b;
}

/* ------------------------------------------------------------- helpers */

/* Bracket x in the ascending v[0..n): v[*i0] <= x <= v[*i1], *i0 == *i1 when
** x is a grid value or lies beyond an end, where it takes the end and *out
** is set. */
void klat_i_bracket(const double *v, int n, double x, int *i0, int *i1, int *out)
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
** bracketed by rows *r0 <= *r1 as by klat_i_bracket(); between two grid values the
** line through them (*w1 the weight of row *r1), on a grid value or beyond an
** end that row's value (*w1 = 0; the caller extrapolates where *out is set). */
double klat_i_interp(const double *X, const double *L, int a, int n, double x, int *r0, int *r1,
                     int *out, double *w1)
{
    klat_i_bracket(X + a, n, x, r0, r1, out);
    *r0 += a;
    *r1 += a;
    *w1 = 0;
    if (*r0 == *r1)
        return L[*r0];
    double w = (x - X[*r0]) / (X[*r1] - X[*r0]);
    *w1 = w;
    return L[*r0] + w * (L[*r1] - L[*r0]);
}

void klat_i_src_start(klat_src_t *src, const char *path)
{
    if (src) {
        src->n = 0;
        src->table = path;
        src->extrapolated = 0;
    }
}

void klat_i_src_add(klat_src_t *src, int line, double w)
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
void klat_i_src_pair(klat_src_t *src, const int *line, int r0, int r1, double w, double w1)
{
    klat_i_src_add(src, line[r0], w * (1 - w1));
    klat_i_src_add(src, line[r1], w * w1);
}

int klat_i_cmp_int(int a, int b)
{
    return (a > b) - (a < b);
}

int klat_i_cmp_dbl(double a, double b)
{
    return (a > b) - (a < b);
}


int klat_i_cmp_gkey(gkey_t x, gkey_t y)
{
    int c;
    if ((c = klat_i_cmp_int(x.a, y.a)) || (c = klat_i_cmp_int(x.b, y.b)) || !x.s || !y.s)
        return c;
    c = strcmp(x.s, y.s);
    return (c > 0) - (c < 0);
}

/* Index of key among the ascending g[0..n), -1 if absent. */
int klat_i_find_group(const gkey_t *g, int n, gkey_t key)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = klat_i_cmp_gkey(g[mid], key);
        if (!c)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

