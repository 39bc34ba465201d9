/* engine/csvutil.c - the RFC 4180 CSV reader (csvutil.h); moved out of
** trace_v2.c unchanged so that trace.itl.csv is read the same way. */
#include "csvutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int csv_open(csv_t *c, const char *file, char *err)
{
    memset(c, 0, sizeof *c);
    c->file = file;
    size_t len;
    int rc = tam_read_file(file, &c->buf, &len, err);
    if (rc)
        return rc;
    if (strlen(c->buf) != len) { /* a field would end there, silently: "12\0x" read as 12 */
        free(c->buf);
        c->buf = NULL;
        return tam_fail(err, TAM_EPARSE, "%s: contains a NUL byte: not a CSV text", file);
    }
    c->p = c->buf;
    c->end = c->buf + len;
    c->line = 1;
    if (len >= 3 && memcmp(c->p, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
    return TAM_OK;
}

void csv_close(csv_t *c)
{
    free(c->buf);
    free(c->f);
    c->buf = NULL;
    c->f = NULL;
}

int csv_open_table(csv_t *c, const char *file, char *err)
{
    int rc = csv_open(c, file, err);
    if (rc == TAM_OK && c->end > c->p && c->end[-1] == '\r')
        *--c->end = '\0';
    return rc;
}

int csv_trim(csv_t *c)
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

static int csv_push(csv_t *c, char *field, char *err)
{
    if (c->nf == c->cap) {
        int cap = c->cap ? 2 * c->cap : 32;
        char **nf = realloc(c->f, (size_t)cap * sizeof *nf);
        if (!nf)
            return tam_fail(err, TAM_ENOMEM, "%s: out of memory", c->file);
        c->f = nf;
        c->cap = cap;
    }
    c->f[c->nf++] = field;
    return TAM_OK;
}

/* Next record into c->f[0..nf).  1 = a row, 0 = end of file, < 0 = error.
** *row_line = the line the record starts on.  Fields are unescaped in place. */
int csv_row(csv_t *c, unsigned long *row_line, char *err)
{
    /* skip blank lines */
    for (;;) {
        if (c->p >= c->end)
            return 0;
        if (*c->p == '\n') {
            c->p++;
            c->line++;
        } else if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n') {
            c->p += 2;
            c->line++;
        } else {
            break;
        }
    }
    *row_line = c->line;
    c->nf = 0;
    for (;;) {
        char *w = c->p, *start = c->p;
        int rc;
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            for (;;) {
                if (c->p >= c->end)
                    return tam_fail(err, TAM_EPARSE, "%s:%lu: unterminated quoted field (field %d)",
                                    c->file, *row_line, c->nf + 1);
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        *w++ = '"';
                        c->p += 2;
                        continue;
                    }
                    c->p++;
                    break;
                }
                if (*c->p == '\n')
                    c->line++;
                *w++ = *c->p++;
            }
            if (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
                !(*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n'))
                return tam_fail(err, TAM_EPARSE, "%s:%lu: text after the closing quote of field %d",
                                c->file, c->line, c->nf + 1);
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
                   !(*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')) {
                if (*c->p == '"')
                    return tam_fail(err, TAM_EPARSE, "%s:%lu: bare quote inside unquoted field %d",
                                    c->file, c->line, c->nf + 1);
                c->p++;
            }
            w = c->p;
        }
        /* w <= c->p: the terminator goes where the separator was or before */
        char sep = c->p < c->end ? *c->p : '\0';
        *w = '\0';
        if ((rc = csv_push(c, start, err)))
            return rc;
        if (sep == ',') {
            c->p++;
            continue;
        }
        if (sep == '\r')
            c->p += 2;
        else if (sep == '\n')
            c->p++;
        if (sep)
            c->line++;
        return 1;
    }
}

int csv_col(const csv_t *c, const char *name)
{
    for (int i = 0; i < c->nf; i++)
        if (strcmp(c->f[i], name) == 0)
            return i;
    return -1;
}

int csv_ll(const char *file, unsigned long line, const char *col, const char *s, long long lo,
                  long long hi, long long *out, char *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return tam_fail(err, TAM_EFIELD, "%s:%lu: column %s: expected an integer, got '%.40s'", file, line,
                        col, s);
    if (v < lo || v > hi)
        return tam_fail(err, TAM_EFIELD, "%s:%lu: column %s: %lld is out of range [%lld, %lld]", file, line,
                        col, v, lo, hi);
    *out = v;
    return TAM_OK;
}

int csv_num(const char *file, unsigned long line, const char *col, const char *s, double *out,
                   char *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return tam_fail(err, TAM_EFIELD, "%s:%lu: column %s: expected a number, got '%.40s'", file, line, col,
                        s);
    *out = v;
    return TAM_OK;
}
