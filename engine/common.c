/* engine/common.c - error formatting, assertion reporting, whole-file reads. */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tam_fail(char *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, TAM_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return code;
}

void tam_assert_fail(const char *expr, const char *file, int line)
{
    /* An invariant is broken: this is a bug in the engine, not bad input.
    ** Reporting and aborting is the only honest option. */
    fprintf(stderr, "tam: internal invariant failed: %s (%s:%d)\n", expr, file, line);
    abort();
}

int tam_read_file(const char *path, char **out, size_t *len, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tam_fail(err, TAM_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return tam_fail(err, TAM_EIO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return TAM_OK;
}
