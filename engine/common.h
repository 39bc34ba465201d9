/* engine/common.h - status codes, the error-message contract and invariant checks.
**
** Every fallible engine function returns an int status (TAM_OK = 0, negative
** on failure) and, on failure, writes a one-line message into a caller-owned
** char err[TAM_ERRLEN] that names the file, the field and the offending value.
** The engine never prints and never exits; only the CLI maps status to exit
** codes.  Broken invariants (an impossible state, not bad input) go through
** TAM_ASSERT, which aborts with file and line: it is always on.
*/
#ifndef TAM_COMMON_H
#define TAM_COMMON_H

#include <stddef.h>

#define TAM_ERRLEN 512

enum {
    TAM_OK = 0,
    TAM_EIO = -1,      /* cannot open/read a file */
    TAM_EPARSE = -2,   /* malformed syntax (JSON, CSV, YAML) */
    TAM_EFIELD = -3,   /* a missing or out-of-range field */
    TAM_ENOMEM = -4,
    TAM_EFIT = -5,     /* a request can never fit (KV capacity, max_model_len) */
    TAM_ECHECK = -6,   /* a self-check against a tool's own summary failed */
    TAM_EDB = -7       /* database error */
};

/* Format into err (if non-NULL) and return code. */
int tam_fail(char *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void tam_assert_fail(const char *expr, const char *file, int line);
#define TAM_ASSERT(e) ((e) ? (void)0 : tam_assert_fail(#e, __FILE__, __LINE__))

/* Read a whole file into a NUL-terminated heap buffer; caller frees. */
int tam_read_file(const char *path, char **out, size_t *len, char *err);

#endif
