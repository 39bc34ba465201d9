/* engine/klat_attn.c - measured attention (decode, prefill) and fused-MoE
** latency tables: loading and lookup (see engine/klat.h and engine/klat.c). */
#include "klat_int.h"

#include "csvutil.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
    if ((c = klat_i_cmp_dbl(a->v[AH], b->v[AH])) || (c = klat_i_cmp_dbl(a->v[AKV], b->v[AKV])) ||
        (c = klat_i_cmp_dbl(a->v[AB], b->v[AB])) || (c = klat_i_cmp_dbl(a->v[AX], b->v[AX])))
        return c;
    return klat_i_cmp_int(a->line, b->line);
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
    int rc = klat_i_phys_valid(path, ph, err);
    if (rc || (rc = klat_i_load_rows(path, ph, is_prefill ? PRE_COLS : DEC_COLS, 5, attn_phys,
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
    return klat_i_find_group(t->gkey, t->ngrp, (gkey_t){heads, kv_heads, NULL});
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
    double lat = klat_i_interp(t->x, t->lat, a, t->bxoff[b + 1] - a, x, p0, p1, &out, w1);
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
    klat_i_src_start(src, t->path);
    int b0 = t->gboff[g], nb = t->gboff[g + 1] - b0;
    const double *B = t->bval + b0;
    int i0, i1, out, ext = 0;
    klat_i_bracket(B, nb, batch, &i0, &i1, &out);
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
    klat_i_src_pair(src, t->line, p0, p1, 1 - wb, w1);
    if (i0 != i1)
        klat_i_src_pair(src, t->line, q0, q1, wb, v1);
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
    if ((c = klat_i_cmp_gkey(moe_key(a), moe_key(b))) || (c = klat_i_cmp_dbl(a->v[MT], b->v[MT])))
        return c;
    return klat_i_cmp_int(a->line, b->line);
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
        int newg = i == 0 || klat_i_cmp_gkey(moe_key(&r[i]), moe_key(&r[i - 1])) != 0;
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
        if (i == 0 || klat_i_cmp_gkey(moe_key(&r[i]), moe_key(&r[i - 1]))) {
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
    int rc = klat_i_phys_valid(path, ph, err);
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
    if ((rc = klat_i_load_rows(path, ph, MOE_COLS, 5, shape ? moe_phys : NULL, shape, "expert weights",
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
    return klat_i_find_group(t->gkey, t->ngrp, (gkey_t){tp, ep, dist});
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
    klat_i_src_start(src, t->path);
    int a = t->goff[g], n = t->goff[g + 1] - a;
    const double *T = t->tok + a, *L = t->lat + a;
    int r0, r1, out;
    double w;
    double lat = klat_i_interp(t->tok, t->lat, a, n, tokens, &r0, &r1, &out, &w);
    if (r0 != r1 || !out || (r0 == a && tokens < T[0]) || n == 1) {
        /* between two counts, a measured count, or clamped below (or a one-row group) */
        klat_i_src_pair(src, t->line, r0, r1, 1, w);
    } else { /* above the largest count: the line through the last two points */
        double u = (tokens - T[n - 1]) / (T[n - 1] - T[n - 2]);
        lat = L[n - 1] + u * (L[n - 1] - L[n - 2]);
        if (lat < L[n - 1]) {
            lat = L[n - 1];
            klat_i_src_add(src, t->line[a + n - 1], 1);
        } else {
            klat_i_src_add(src, t->line[a + n - 1], 1 + u);
            klat_i_src_add(src, t->line[a + n - 2], -u);
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

