/* engine/klat_gemm.c - measured GEMM latency tables: loading and lookup
** (see engine/klat.h; the file format and the physics check: engine/klat.c). */
#include "klat_int.h"

#include "csvutil.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
    if ((c = klat_i_cmp_dbl(a->v[GK], b->v[GK])) || (c = klat_i_cmp_dbl(a->v[GN], b->v[GN])) ||
        (c = klat_i_cmp_dbl(a->v[GM], b->v[GM])))
        return c;
    return klat_i_cmp_int(a->line, b->line);
}

static int cmp_double_p(const void *a, const void *b)
{
    return klat_i_cmp_dbl(*(const double *)a, *(const double *)b);
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
    int rc = klat_i_phys_valid(path, ph, err);
    if (rc || (rc = klat_i_load_rows(path, ph, GEMM_COLS, 4, gemm_phys, NULL, "weight traffic", &buf,
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
    double lat = klat_i_interp(t->m, t->lat, a, t->goff[g + 1] - a, m, r0, r1, &out, w1);
    if (!out)
        return lat;
    *ext = 1;
    if (*r0 == a && m < t->m[a])
        return lat; /* below the smallest m: its latency */
    return lat * klat_i_troof(&t->ph, m, t->gk[g], t->gn[g]) /
           klat_i_troof(&t->ph, t->m[*r0], t->gk[g], t->gn[g]);
}

double klat_gemm(const klat_gemm_t *t, double m, double k, double n, klat_src_t *src)
{
    TAM_ASSERT(t);
    klat_i_src_start(src, t->path);
    int k0, k1, n0, n1, ko, no, ext = 0;
    klat_i_bracket(t->kv, t->nk, k, &k0, &k1, &ko);
    klat_i_bracket(t->nv, t->nn, n, &n0, &n1, &no);
    ext = ko || no;
    int r0, r1;
    double w1;
    if (k0 == k1 && n0 == n1 && !ext && t->cell[k0 * t->nn + n0] >= 0) {
        /* a measured pair: its own latency, bit for bit at a measured m */
        double lat = gemm_pair(t, t->cell[k0 * t->nn + n0], m, &r0, &r1, &w1, &ext);
        klat_i_src_pair(src, t->line, r0, r1, 1, w1);
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
            continue; /* also the repeated corners of a one-value klat_i_bracket */
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
        e += w * klat_i_troof(&t->ph, m, t->gk[g], t->gn[g]) / lat;
        klat_i_src_pair(src, t->line, r0, r1, w, w1);
    }
    if (src)
        src->extrapolated = ext;
    return klat_i_troof(&t->ph, m, k, n) / e;
}

const char *klat_gemm_path(const klat_gemm_t *t)
{
    return t ? t->path : NULL;
}

