/* engine/mfu.c - load the MFU CSV tables and answer nearest / interpolated lookups.
**
** Invariant: after mfu_load every table is immutable and holds only usable
** rows (mfu >= 1e-4), with no duplicate grid point, grouped and sorted (GEMM:
** by (k, n) pair, then m; decode: by batch row, then kv; prefill: by seq).  A
** lookup is then a handful of comparisons and binary searches over those
** arrays: it never allocates, never writes, and can never read an unusable or
** missing grid point (there is none left to read).
**
** Unusable rows (docs/MODEL.md item 6, "an MFU below 1e-4 falls back to the
** nearest row with a usable value"): they are dropped at load time, so every
** rule below is applied to the usable rows only, in both modes.  A (k, n)
** pair or a batch row left without usable rows disappears; a table left
** without any is a load error.  (BLIS instead chose among all rows and, when
** the winner was unusable, took the nearest usable row by plain Euclidean
** distance; on the shipped H100 tables the two readings pick the same row for
** every decode query -- engine/tests/t_mfu.c checks this -- and the GEMM and
** prefill tables have no unusable rows.)
**
** Tie-breaks (equal squared distances): the candidate that comes first in
** ascending key order wins -- GEMM pairs by (k, then n); decode rows by
** (batch, then kv); head configurations by (H, then K, then hd); TP degrees
** the smaller one.  "Largest k^2 + n^2" ties go the same way.
**
** Interpolation returns a grid point's own value bit for bit (a query on a
** grid coordinate takes that row alone) and each linear step is
** a + w (b - a) clamped to [a, b], so a plateau of equal MFUs stays exact and
** a result never leaves the range of the rows that served it.
**
** CSV: columns are found by header name (any order; extra columns ignored);
** CRLF, a UTF-8 BOM and blank lines are accepted; every other defect is an
** error naming file:line, the field and the value.
*/
#include "mfu.h"

#include "csvutil.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MFU_USABLE 1e-4 /* an MFU below this is unusable */

enum { KIND_GEMM, KIND_DECODE, KIND_PREFILL };

struct mfu_table {
    char *path;
    int kind;
    int H, K, hd, tp;  /* from the file name (attention tables only) */
    int nrows;         /* usable rows kept */
    int nskipped;      /* rows dropped for mfu < 1e-4 */
    int ngrp;          /* GEMM: (k, n) pairs; decode: batch rows; prefill: 1 */
    double *gk, *gn;   /* group key: GEMM (k, n); decode (bs, 0); prefill (0, 0) */
    int *goff;         /* ngrp + 1 offsets into the row arrays */
    double *x;         /* m (GEMM), kv (decode), seq (prefill); ascending per group */
    double *lx;        /* log(x), used by the GEMM interpolation */
    double *f;         /* MFU */
    int *line;         /* CSV line of each row (header = 1) */
};

struct mfu_db {
    mfu_table_t gemm;
    mfu_table_t *dec; /* sorted by (H, K, hd, tp) */
    int ndec;
    mfu_table_t *pre; /* sorted by (H, K, hd) */
    int npre;
};

/* ------------------------------------------------------------------ CSV */

/* What each column means to the loader. */
enum { ROLE_TEXT, ROLE_A, ROLE_B, ROLE_X, ROLE_LAT, ROLE_MFU };

typedef struct {
    const char *name;
    int role;
} col_t;

static const col_t GEMM_COLS[] = {{"m", ROLE_X}, {"k", ROLE_A}, {"n", ROLE_B},
                                  {"latency_us", ROLE_LAT}, {"mfu", ROLE_MFU}};
static const col_t DEC_COLS[] = {{"dtype", ROLE_TEXT},     {"kv_dtype", ROLE_TEXT},
                                 {"batch_size", ROLE_A},   {"kv_len", ROLE_X},
                                 {"latency_us", ROLE_LAT}, {"mfu", ROLE_MFU}};
static const col_t PRE_COLS[] = {{"dtype", ROLE_TEXT}, {"seq_len", ROLE_X},
                                 {"latency_us", ROLE_LAT}, {"mfu", ROLE_MFU}};

typedef struct {
    double a, b, x, f, lat;
    int line;
} raw_t;

/* The whole field must be a finite number (strtod's syntax). */
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
    return isfinite(v);
}

static int cmp_raw(const void *pa, const void *pb)
{
    const raw_t *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

static void table_clear(mfu_table_t *t)
{
    free(t->path);
    free(t->gk);
    free(t->gn);
    free(t->goff);
    free(t->x);
    free(t->lx);
    free(t->f);
    free(t->line);
    memset(t, 0, sizeof *t);
}

/* Group sorted, usable rows into t's arrays. */
static int table_build(mfu_table_t *t, const raw_t *r, int n, char *err)
{
    int ngrp = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || r[i].a != r[i - 1].a || r[i].b != r[i - 1].b)
            ngrp++;
    t->gk = malloc(sizeof(double) * (size_t)ngrp);
    t->gn = malloc(sizeof(double) * (size_t)ngrp);
    t->goff = malloc(sizeof(int) * (size_t)(ngrp + 1));
    t->x = malloc(sizeof(double) * (size_t)n);
    t->lx = malloc(sizeof(double) * (size_t)n);
    t->f = malloc(sizeof(double) * (size_t)n);
    t->line = malloc(sizeof(int) * (size_t)n);
    if (!t->gk || !t->gn || !t->goff || !t->x || !t->lx || !t->f || !t->line)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    int g = -1;
    for (int i = 0; i < n; i++) {
        if (i == 0 || r[i].a != r[i - 1].a || r[i].b != r[i - 1].b) {
            g++;
            t->gk[g] = r[i].a;
            t->gn[g] = r[i].b;
            t->goff[g] = i;
        }
        t->x[i] = r[i].x;
        t->lx[i] = log(r[i].x);
        t->f[i] = r[i].f;
        t->line[i] = r[i].line;
    }
    t->goff[ngrp] = n;
    t->ngrp = ngrp;
    t->nrows = n;
    return TAM_OK;
}

/* The peaks every table's mfu column is relative to: the H100 SXM dense
** bf16 peak for attention (and a bf16 GEMM table), twice that for an FP8
** GEMM table (kernels/README.md: mfu = round(tflops / 1979, 3)). */
#define PEAK_BF16 989.5e12
#define PEAK_FP8 1979e12
#define HBM_BW 3.35e12            /* H100 SXM HBM3 peak, B/s */
#define L2_BYTES (50.0 * 1048576) /* H100 SXM L2: a working set below it may be cached */
#define PHYS_TOL 0.05             /* a row may exceed a limit by this much (timing noise) */

/* The FLOPs a row's latency measured, as the table's own mfu column counts
** them (each file's mfu equals this over latency x peak, to its rounding). */
static double row_flops(const mfu_table_t *t, const raw_t *r)
{
    if (t->kind == KIND_GEMM)
        return 2.0 * r->x * r->a * r->b;                       /* 2 m k n */
    if (t->kind == KIND_DECODE)
        return r->a * 4.0 * ((double)t->H / t->tp) * t->hd * r->x; /* bs 4 (H/tp) hd kv */
    return 4.0 * t->H * t->hd * r->x * r->x / 2.0;               /* causal: 4 H hd S^2 / 2 */
}

/* Check a row against the physics of the table's declared dtype and, in
** exact mode, replace its rounded mfu by the value its latency implies. */
static int row_physics(const mfu_table_t *t, raw_t *r, const mfu_opts_t *opt, char *err)
{
    int fp8 = t->kind == KIND_GEMM && opt->gemm_fp8;
    double peak = fp8 ? PEAK_FP8 : PEAK_BF16, wb = fp8 ? 1.0 : 2.0;
    if (r->lat <= 0) {
        if (opt->exact)
            return tam_fail(err, TAM_EFIELD, "%s:%d: field 'latency_us': %g: exact mode needs a "
                            "latency > 0", t->path, r->line, r->lat);
        return TAM_OK; /* no latency to check: the mfu column alone prices the row */
    }
    double sec = r->lat * 1e-6, flops = row_flops(t, r);
    if (flops / sec > peak * (1 + PHYS_TOL))
        return tam_fail(err, TAM_EFIELD, "%s:%d: latency_us=%g implies %.1f TFLOP/s, above the "
                        "%s dense peak %.1f TFLOP/s", t->path, r->line, r->lat, flops / sec / 1e12,
                        fp8 ? "FP8" : "bf16", peak / 1e12);
    double bytes = 0; /* what the kernel must at least read from HBM */
    if (t->kind == KIND_GEMM)
        bytes = r->a * r->b * wb;                              /* the weights, k n */
    else if (t->kind == KIND_DECODE)
        bytes = r->a * r->x * 2.0 * ((double)t->K / t->tp >= 1 ? (double)t->K / t->tp : 1) *
                t->hd * 2.0;                                     /* K and V of every context */
    if (bytes > L2_BYTES && bytes / sec > HBM_BW * (1 + PHYS_TOL))
        return tam_fail(err, TAM_EFIELD, "%s:%d: latency_us=%g implies %.2f TB/s of %s traffic, "
                        "above HBM's %.2f TB/s (as %s)", t->path, r->line, r->lat,
                        bytes / sec / 1e12, t->kind == KIND_GEMM ? "weight" : "KV",
                        HBM_BW / 1e12, fp8 ? "FP8" : "bf16");
    if (opt->exact) {
        double f = flops / (sec * peak);
        r->f = f < 1.0 ? f : 1.0;
    }
    return TAM_OK;
}

/* The header record c->f: no column twice, every one of cols present
** (idx[k] = its field index). */
static int table_header(const csv_t *c, int line, const col_t *cols, int ncols, int *idx,
                        char *err)
{
    for (int i = 0; i < c->nf; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(c->f[i], c->f[j]) == 0)
                return tam_fail(err, TAM_EFIELD, "%s:%d: header column '%.40s' appears twice",
                                c->file, line, c->f[i]);
    for (int k = 0; k < ncols; k++)
        if ((idx[k] = csv_col(c, cols[k].name)) < 0) {
            char hdr[160];
            size_t n = 0;
            hdr[0] = '\0';
            for (int i = 0; i < c->nf && n < sizeof hdr; i++)
                n += (size_t)snprintf(hdr + n, sizeof hdr - n, "%s%s", i ? "," : "", c->f[i]);
            return tam_fail(err, TAM_EFIELD, "%s:%d: field '%s': missing from the header '%s'",
                            c->file, line, cols[k].name, hdr);
        }
    return TAM_OK;
}

/* One data record into *r: every numeric column checked against its role. */
static int table_row(const csv_t *c, int line, const col_t *cols, int ncols, const int *idx,
                     raw_t *r, char *err)
{
    *r = (raw_t){0, 0, 0, 0, 0, line};
    for (int k = 0; k < ncols; k++) {
        int role = cols[k].role;
        if (role == ROLE_TEXT)
            continue;
        const char *s = c->f[idx[k]];
        double v = 0;
        int ok = parse_num(s, &v);
        const char *want;
        if (role == ROLE_MFU) {
            ok = ok && v >= 0 && v <= 1;
            want = "a finite number in [0,1]";
        } else if (role == ROLE_LAT) {
            ok = ok && v >= 0;
            want = "a finite number >= 0";
        } else {
            ok = ok && v >= 1;
            want = "a finite number >= 1";
        }
        if (!ok)
            return tam_fail(err, TAM_EFIELD, "%s:%d: field '%s': '%.40s' is not %s", c->file,
                            line, cols[k].name, s, want);
        if (role == ROLE_A)
            r->a = v;
        else if (role == ROLE_B)
            r->b = v;
        else if (role == ROLE_X)
            r->x = v;
        else if (role == ROLE_MFU)
            r->f = v;
        else
            r->lat = v;
    }
    return TAM_OK;
}

/* Sort the rows, refuse a grid point given twice, drop the unusable ones
** and build t's arrays from the rest. */
static int table_finish(mfu_table_t *t, raw_t *raw, int nraw, int hdr_line, char *err)
{
    const char *path = t->path;
    if (!hdr_line)
        return tam_fail(err, TAM_EDB, "%s:1: empty table: no header and no rows", path);
    if (nraw == 0)
        return tam_fail(err, TAM_EDB, "%s:%d: empty table: a header but no data rows", path,
                        hdr_line);
    qsort(raw, (size_t)nraw, sizeof *raw, cmp_raw);
    for (int i = 1; i < nraw; i++)
        if (raw[i].a == raw[i - 1].a && raw[i].b == raw[i - 1].b && raw[i].x == raw[i - 1].x) {
            int l0 = raw[i - 1].line, l1 = raw[i].line;
            return tam_fail(err, TAM_EDB, "%s:%d: duplicate grid point: same key as line %d",
                            path, l0 > l1 ? l0 : l1, l0 < l1 ? l0 : l1);
        }
    int nok = 0;
    for (int i = 0; i < nraw; i++)
        if (raw[i].f >= MFU_USABLE)
            raw[nok++] = raw[i]; /* stable: keeps the sorted order */
    if (nok == 0)
        return tam_fail(err, TAM_EDB, "%s:%d: field 'mfu': every row is below %g, no usable row",
                        path, hdr_line + 1, MFU_USABLE);
    t->nskipped = nraw - nok;
    return table_build(t, raw, nok, err);
}

/* Load one CSV into t (t->path already set) with csvutil.h's reader, fields
** trimmed of spaces and tabs.  On error t still owns what it allocated; the
** caller clears it. */
static int table_load(mfu_table_t *t, int kind, const mfu_opts_t *opt, char *err)
{
    const col_t *cols = kind == KIND_GEMM ? GEMM_COLS : kind == KIND_DECODE ? DEC_COLS : PRE_COLS;
    int ncols = kind == KIND_GEMM     ? (int)(sizeof GEMM_COLS / sizeof *GEMM_COLS)
                : kind == KIND_DECODE ? (int)(sizeof DEC_COLS / sizeof *DEC_COLS)
                                      : (int)(sizeof PRE_COLS / sizeof *PRE_COLS);
    const char *path = t->path;
    t->kind = kind;

    csv_t c;
    int rc = csv_open_table(&c, path, err);
    if (rc)
        return rc;
    raw_t *raw = NULL;
    int nraw = 0, cap = 0, nhdr = 0, hdr_line = 0;
    int idx[sizeof DEC_COLS / sizeof *DEC_COLS]; /* idx[k]: field index of cols[k] */
    unsigned long ul;
    while ((rc = csv_row(&c, &ul, err)) == 1) {
        int line = (int)ul;
        if (csv_trim(&c))
            continue; /* blank line */
        if (!hdr_line) {
            hdr_line = line;
            nhdr = c.nf;
            if ((rc = table_header(&c, line, cols, ncols, idx, err)))
                goto done;
            continue;
        }
        if (c.nf != nhdr) {
            rc = tam_fail(err, TAM_EPARSE,
                          "%s:%d: ragged row: %d fields where the header (line %d) has %d", path,
                          line, c.nf, hdr_line, nhdr);
            goto done;
        }
        raw_t r;
        if ((rc = table_row(&c, line, cols, ncols, idx, &r, err)) ||
            (rc = row_physics(t, &r, opt, err)))
            goto done;
        if (nraw == cap) {
            int nc = cap ? cap * 2 : 64;
            raw_t *nr = realloc(raw, sizeof(raw_t) * (size_t)nc);
            if (!nr) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
                goto done;
            }
            raw = nr;
            cap = nc;
        }
        raw[nraw++] = r;
    }
    if (rc == 0)
        rc = table_finish(t, raw, nraw, hdr_line, err);

done:
    free(raw);
    csv_close(&c);
    return rc;
}

/* ------------------------------------------------------------ directory */

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *s = malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    if (slash)
        s[la] = '/';
    memcpy(s + la + slash, b, lb + 1);
    return s;
}

/* A positive decimal integer of at most 7 digits. */
static int parse_uint(const char **pp, int *out)
{
    const char *s = *pp;
    long v = 0;
    int nd = 0;
    while (*s >= '0' && *s <= '9') {
        if (++nd > 7)
            return 0;
        v = v * 10 + (*s++ - '0');
    }
    if (nd == 0 || v < 1)
        return 0;
    *out = (int)v;
    *pp = s;
    return 1;
}

/* {H}-{K}-{hd}-tp{N}.csv (with_tp) or {H}-{K}-{hd}.csv. */
static int parse_name(const char *name, int with_tp, int *H, int *K, int *hd, int *tp)
{
    const char *p = name;
    if (!parse_uint(&p, H) || *p != '-')
        return 0;
    p++;
    if (!parse_uint(&p, K) || *p != '-')
        return 0;
    p++;
    if (!parse_uint(&p, hd))
        return 0;
    *tp = 0;
    if (with_tp) {
        if (strncmp(p, "-tp", 3) != 0)
            return 0;
        p += 3;
        if (!parse_uint(&p, tp))
            return 0;
    }
    return strcmp(p, ".csv") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_key(const mfu_table_t *a, const mfu_table_t *b)
{
    if (a->H != b->H)
        return a->H < b->H ? -1 : 1;
    if (a->K != b->K)
        return a->K < b->K ? -1 : 1;
    if (a->hd != b->hd)
        return a->hd < b->hd ? -1 : 1;
    return (a->tp > b->tp) - (a->tp < b->tp);
}

static int cmp_table(const void *a, const void *b)
{
    return cmp_key(a, b);
}

/* Load every matching table of dir/sub into *tabs (sorted by key). */
static int load_dir(const char *dir, const char *sub, int kind, mfu_table_t **tabs, int *ntabs,
                    const mfu_opts_t *opt, char *err)
{
    int with_tp = kind == KIND_DECODE;
    char *dpath = join(dir, sub);
    if (!dpath)
        return tam_fail(err, TAM_ENOMEM, "%s/%s: out of memory", dir, sub);
    char **names = NULL;
    int nn = 0, cap = 0, rc = TAM_OK;
    DIR *d = opendir(dpath);
    if (!d) {
        rc = tam_fail(err, TAM_EIO, "%s: cannot open directory: %s", dpath, strerror(errno));
        goto done;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int H, K, hd, tp;
        if (!parse_name(e->d_name, with_tp, &H, &K, &hd, &tp))
            continue; /* not a table of this kind: ignored */
        if (nn == cap) {
            int nc = cap ? cap * 2 : 32;
            char **nv = realloc(names, sizeof(char *) * (size_t)nc);
            if (!nv) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", dpath);
                goto done;
            }
            names = nv;
            cap = nc;
        }
        if (!(names[nn] = strdup(e->d_name))) {
            rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", dpath);
            goto done;
        }
        nn++;
    }
    if (nn == 0) {
        rc = tam_fail(err, TAM_EDB, "%s: no table named %s", dpath,
                      with_tp ? "{H}-{K}-{hd}-tp{N}.csv" : "{H}-{K}-{hd}.csv");
        goto done;
    }
    qsort(names, (size_t)nn, sizeof *names, cmp_str); /* deterministic loading order */
    *tabs = calloc((size_t)nn, sizeof **tabs);
    if (!*tabs) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", dpath);
        goto done;
    }
    for (int i = 0; i < nn; i++) {
        mfu_table_t *t = &(*tabs)[i];
        *ntabs = i + 1;
        parse_name(names[i], with_tp, &t->H, &t->K, &t->hd, &t->tp);
        if (!(t->path = join(dpath, names[i]))) {
            rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", dpath);
            goto done;
        }
        if ((rc = table_load(t, kind, opt, err)) != TAM_OK)
            goto done;
    }
    qsort(*tabs, (size_t)nn, sizeof **tabs, cmp_table);
    for (int i = 1; i < nn; i++)
        if (cmp_key(&(*tabs)[i - 1], &(*tabs)[i]) == 0) {
            rc = tam_fail(err, TAM_EDB, "%s and %s: two tables for the same configuration",
                          (*tabs)[i - 1].path, (*tabs)[i].path);
            goto done;
        }

done:
    if (d)
        closedir(d);
    for (int i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    free(dpath);
    return rc;
}

int mfu_load(const char *dir, mfu_db_t **out, char *err)
{
    return mfu_load_with_gemm(dir, NULL, out, err);
}

int mfu_load_with_gemm(const char *dir, const char *gemm_csv, mfu_db_t **out, char *err)
{
    mfu_opts_t o = {0, 1};
    return mfu_load_opts(dir, gemm_csv, &o, out, err);
}

int mfu_load_opts(const char *dir, const char *gemm_csv, const mfu_opts_t *opt, mfu_db_t **out,
                  char *err)
{
    TAM_ASSERT(dir && out);
    *out = NULL;
    mfu_db_t *db = calloc(1, sizeof *db);
    if (!db)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", dir);
    int rc;
    if (!(db->gemm.path = gemm_csv ? strdup(gemm_csv) : join(dir, "gemm/data.csv")))
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", dir);
    else if ((rc = table_load(&db->gemm, KIND_GEMM, opt, err)) == TAM_OK &&
             (rc = load_dir(dir, "mha/decode", KIND_DECODE, &db->dec, &db->ndec, opt, err)) ==
                 TAM_OK)
        rc = load_dir(dir, "mha/prefill", KIND_PREFILL, &db->pre, &db->npre, opt, err);
    if (rc != TAM_OK) {
        mfu_free(db);
        return rc;
    }
    *out = db;
    return TAM_OK;
}

void mfu_free(mfu_db_t *db)
{
    if (!db)
        return;
    table_clear(&db->gemm);
    for (int i = 0; i < db->ndec; i++)
        table_clear(&db->dec[i]);
    for (int i = 0; i < db->npre; i++)
        table_clear(&db->pre[i]);
    free(db->dec);
    free(db->pre);
    free(db);
}

const char *mfu_table_path(const mfu_table_t *t)
{
    return t ? t->path : NULL;
}

int mfu_table_count(const mfu_db_t *db)
{
    return 1 + db->ndec + db->npre;
}

const char *mfu_table_file(const mfu_db_t *db, int i, const char **role)
{
    if (i == 0) {
        *role = "mfu.gemm";
        return db->gemm.path;
    }
    if (i <= db->ndec) {
        *role = "mfu.decode";
        return db->dec[i - 1].path;
    }
    *role = "mfu.prefill";
    return db->pre[i - 1 - db->ndec].path;
}

/* ------------------------------------------------------------ selection */

/* Copy a path into a fixed buffer; if too long keep its informative tail. */
static void copy_path(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n < cap)
        memcpy(dst, src, n + 1);
    else
        snprintf(dst, cap, "...%s", src + n - (cap - 4));
}

static double head_dist2(const mfu_table_t *t, int H, int K, int hd)
{
    double a = (double)t->H - H, b = (double)t->K - K, c = (double)t->hd - hd;
    return a * a + b * b + c * c;
}

/* Nearest head configuration (first in key order on ties), then within it
** the exact tp or the nearest (smaller on ties).  tabs are sorted by key. */
static const mfu_table_t *pick(const mfu_table_t *tabs, int n, int H, int K, int hd, int tp,
                               int *exact)
{
    int best = -1;
    double bd = 0;
    for (int i = 0; i < n; i++) {
        double d = head_dist2(&tabs[i], H, K, hd);
        if (best < 0 || d < bd) {
            best = i;
            bd = d;
        }
    }
    const mfu_table_t *h = &tabs[best];
    int bt = best;
    long btd = -1;
    for (int i = 0; i < n; i++) {
        const mfu_table_t *t = &tabs[i];
        if (t->H != h->H || t->K != h->K || t->hd != h->hd)
            continue;
        long td = labs((long)t->tp - tp);
        if (btd < 0 || td < btd) { /* ascending tp: ties keep the smaller */
            bt = i;
            btd = td;
        }
    }
    *exact = bd == 0 && tabs[bt].tp == tp;
    return &tabs[bt];
}

int mfu_select_attn(const mfu_db_t *db, int H, int K, int hd, int tp, mfu_attn_t *out, char *err)
{
    TAM_ASSERT(db && out);
    memset(out, 0, sizeof *out);
    if (H < 1 || K < 1 || hd < 1 || tp < 1)
        return tam_fail(err, TAM_EFIELD,
                        "mfu: attention shape H=%d K=%d hd=%d tp=%d: each must be >= 1", H, K, hd,
                        tp);
    if (db->ndec == 0 || db->npre == 0)
        return tam_fail(err, TAM_EDB, "mfu: no %s tables loaded", db->ndec ? "prefill" : "decode");
    out->decode = pick(db->dec, db->ndec, H, K, hd, tp, &out->decode_exact);
    out->prefill = pick(db->pre, db->npre, H, K, hd, 0, &out->prefill_exact);
    copy_path(out->decode_file, sizeof out->decode_file, out->decode->path);
    copy_path(out->prefill_file, sizeof out->prefill_file, out->prefill->path);
    return TAM_OK;
}

/* -------------------------------------------------------------- lookups */

/* Largest i with x[i] <= v, or -1. */
static inline int floor_idx(const double *x, int n, double v)
{
    int lo = 0, hi = n; /* answer + 1 lies in [lo, hi] */
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (x[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

static inline double one(const mfu_table_t *t, int i, mfu_src_t *src)
{
    if (src) {
        src->n = 1;
        src->line[0] = t->line[i];
        src->weight[0] = 1.0;
        src->table = t->path;
    }
    return t->f[i];
}

/* a + w (b - a), kept within [min(a,b), max(a,b)]: exact for w = 0 and for
** a == b (so a plateau of equal MFUs interpolates to that value exactly). */
static inline double lerp(double a, double b, double w)
{
    double v = a + w * (b - a);
    double lo = a < b ? a : b, hi = a < b ? b : a;
    return v < lo ? lo : v > hi ? hi : v;
}

/* Within group g: NEAREST = largest x' <= x, else the smallest x';
** INTERP = linear between the bracketing rows (in log x when uselog),
** clamped to the end rows.  Grid points return their own value exactly. */
static double lookup_1d(const mfu_table_t *t, int g, mfu_mode_t mode, double x, int uselog,
                        mfu_src_t *src)
{
    int lo = t->goff[g], cnt = t->goff[g + 1] - lo;
    int i = floor_idx(t->x + lo, cnt, x);
    if (i < 0)
        return one(t, lo, src);
    i += lo;
    if (mode == MFU_NEAREST || i == lo + cnt - 1 || t->x[i] == x)
        return one(t, i, src);
    double w = uselog ? (log(x) - t->lx[i]) / (t->lx[i + 1] - t->lx[i])
                      : (x - t->x[i]) / (t->x[i + 1] - t->x[i]);
    w = w < 0 ? 0 : w > 1 ? 1 : w;
    if (src) {
        src->n = 2;
        src->line[0] = t->line[i];
        src->weight[0] = 1 - w;
        src->line[1] = t->line[i + 1];
        src->weight[1] = w;
        src->table = t->path;
    }
    return lerp(t->f[i], t->f[i + 1], w);
}

/* Batch row g at kv, linear in kv clamped to the row's own range.  Writes
** up to two (row index, weight) pairs, returns how many, and the value in *v. */
static int decode_row(const mfu_table_t *t, int g, double kv, int *ix, double *wt, double *v)
{
    int lo = t->goff[g], cnt = t->goff[g + 1] - lo;
    int i = floor_idx(t->x + lo, cnt, kv);
    if (i < 0 || i == cnt - 1 || t->x[lo + i] == kv) {
        ix[0] = lo + (i < 0 ? 0 : i);
        wt[0] = 1;
        *v = t->f[ix[0]];
        return 1;
    }
    i += lo;
    double w = (kv - t->x[i]) / (t->x[i + 1] - t->x[i]);
    ix[0] = i;
    wt[0] = 1 - w;
    ix[1] = i + 1;
    wt[1] = w;
    *v = lerp(t->f[i], t->f[i + 1], w);
    return 2;
}

/* Euclidean nearest on (bs, kv), preferring rows with bs' <= bs and
** kv' <= kv.  Per batch row the best floor candidate is its largest
** kv' <= kv; the nearest overall is one of the two kv' bracketing kv.
** Batch rows are visited in ascending order and a candidate replaces the
** best only if strictly nearer, so ties keep the smaller (bs, kv). */
static double decode_nearest(const mfu_table_t *t, double bs, double kv, mfu_src_t *src)
{
    int best = -1;
    double bd = 0;
    for (int g = 0; g < t->ngrp && t->gk[g] <= bs; g++) {
        int lo = t->goff[g];
        int i = floor_idx(t->x + lo, t->goff[g + 1] - lo, kv);
        if (i < 0)
            continue;
        double db = bs - t->gk[g], dk = kv - t->x[lo + i];
        double d = db * db + dk * dk;
        if (best < 0 || d < bd) {
            best = lo + i;
            bd = d;
        }
    }
    if (best >= 0)
        return one(t, best, src);
    for (int g = 0; g < t->ngrp; g++) {
        int lo = t->goff[g], cnt = t->goff[g + 1] - lo;
        int i = floor_idx(t->x + lo, cnt, kv);
        double db = bs - t->gk[g];
        for (int j = i < 0 ? 0 : i; j <= i + 1 && j < cnt; j++) {
            double dk = kv - t->x[lo + j];
            double d = db * db + dk * dk;
            if (best < 0 || d < bd) {
                best = lo + j;
                bd = d;
            }
        }
    }
    return one(t, best, src);
}

/* The (k', n') pair: among pairs with k' >= k and n' >= n the nearest,
** else the pair with the largest k'^2 + n'^2; pairs are in ascending
** (k', n') order and only a strictly better one replaces the best. */
static int gemm_pair(const mfu_table_t *t, double k, double n)
{
    int best = -1;
    double bd = 0;
    for (int g = 0; g < t->ngrp; g++)
        if (t->gk[g] >= k && t->gn[g] >= n) {
            double dk = t->gk[g] - k, dn = t->gn[g] - n;
            double d = dk * dk + dn * dn;
            if (best < 0 || d < bd) {
                best = g;
                bd = d;
            }
        }
    if (best >= 0)
        return best;
    for (int g = 0; g < t->ngrp; g++) {
        double s = t->gk[g] * t->gk[g] + t->gn[g] * t->gn[g];
        if (best < 0 || s > bd) {
            best = g;
            bd = s;
        }
    }
    return best;
}

double mfu_gemm(const mfu_db_t *db, mfu_mode_t mode, double m, double k, double n, mfu_src_t *src)
{
    TAM_ASSERT(db && isfinite(m) && m >= 1 && isfinite(k) && k >= 1 && isfinite(n) && n >= 1);
    const mfu_table_t *t = &db->gemm;
    return lookup_1d(t, gemm_pair(t, k, n), mode, m, 1, src);
}

double mfu_prefill(const mfu_attn_t *a, mfu_mode_t mode, double seq, mfu_src_t *src)
{
    TAM_ASSERT(a && a->prefill && isfinite(seq) && seq >= 1);
    return lookup_1d(a->prefill, 0, mode, seq, 0, src);
}

/* INTERP: bracketing batch rows b0 <= bs <= b1 (clamped at the ends), each
** evaluated linearly in kv within its own kv range, then linear in bs. */
double mfu_decode(const mfu_attn_t *a, mfu_mode_t mode, double bs, double kv, mfu_src_t *src)
{
    TAM_ASSERT(a && a->decode && isfinite(bs) && bs >= 1 && isfinite(kv) && kv >= 1);
    const mfu_table_t *t = a->decode;
    if (mode == MFU_NEAREST)
        return decode_nearest(t, bs, kv, src);
    int g = floor_idx(t->gk, t->ngrp, bs);
    int ix[4];
    double wt[4], v;
    int n;
    if (g < 0 || g == t->ngrp - 1 || t->gk[g] == bs) {
        n = decode_row(t, g < 0 ? 0 : g, kv, ix, wt, &v);
    } else {
        double u = (bs - t->gk[g]) / (t->gk[g + 1] - t->gk[g]), v0, v1;
        n = decode_row(t, g, kv, ix, wt, &v0);
        int n1 = decode_row(t, g + 1, kv, ix + n, wt + n, &v1);
        for (int i = 0; i < n; i++)
            wt[i] *= 1 - u;
        for (int i = n; i < n + n1; i++)
            wt[i] *= u;
        n += n1;
        v = lerp(v0, v1, u);
    }
    if (src) {
        src->n = n;
        for (int i = 0; i < n; i++) {
            src->line[i] = t->line[ix[i]];
            src->weight[i] = wt[i];
        }
        src->table = t->path;
    }
    return v;
}
