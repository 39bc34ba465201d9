/* engine/klat_int.h - what the files of the measured-latency tables share
** (engine/klat.c: CSV, physics check, lookup helpers; engine/klat_gemm.c;
** engine/klat_attn.c: attention and MoE).  Not part of klat.h's interface. */
#ifndef TAM_KLAT_INT_H
#define TAM_KLAT_INT_H

#include "klat.h"

#include <stddef.h>

#define MAX_SPEC 6
#define HEAD_DIM 128.0

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

/* The key of a group of rows: two integers, then a text (MoE; NULL in
** attention tables), compared in that order. */
typedef struct {
    int a, b;
    const char *s;
} gkey_t;

/* One row's load-time check: 0 leaves the row unchecked, else *flops,
** *bytes and *lat (s); what (non-NULL for a row that fails) gets the row. */
typedef int (*row_phys_fn)(const row_t *r, const void *ctx, const klat_phys_t *ph, double *flops,
                           double *bytes, double *lat, char *what, size_t nwhat);


void klat_i_bracket(const double *v, int n, double x, int *i0, int *i1, int *out);
int klat_i_cmp_dbl(double a, double b);
int klat_i_cmp_gkey(gkey_t x, gkey_t y);
int klat_i_cmp_int(int a, int b);
int klat_i_find_group(const gkey_t *g, int n, gkey_t key);
double klat_i_interp(const double *X, const double *L, int a, int n, double x, int *r0, int *r1,
                     int *out, double *w1);
int klat_i_load_rows(const char *path, const klat_phys_t *ph, const colspec_t *spec, int nspec,
                     row_phys_fn phys, const void *ctx, const char *traffic, char **bufp,
                     row_t **rowsp, int *nrowsp, char *err);
int klat_i_phys_valid(const char *path, const klat_phys_t *ph, char *err);
void klat_i_src_add(klat_src_t *src, int line, double w);
void klat_i_src_pair(klat_src_t *src, const int *line, int r0, int r1, double w, double w1);
void klat_i_src_start(klat_src_t *src, const char *path);
double klat_i_troof(const klat_phys_t *ph, double m, double k, double n);

#endif
