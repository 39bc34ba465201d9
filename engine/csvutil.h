/* engine/csvutil.h - the RFC 4180 CSV reader shared by the engine's CSV readers
** (trace_v2.c: TraceV2 trace.csv / requests.csv; itl.c: trace.itl.csv).
**
** Comma separated, fields optionally in double quotes ("" is a quote; quoted
** fields may hold commas and newlines), LF or CRLF line ends, a UTF-8 BOM and
** blank lines are skipped.  A bare quote inside an unquoted field, text after
** a closing quote, an unterminated quote and a NUL byte are errors naming
** file:line.  Columns are found by header name (csv_col); the typed field
** parsers name file:line and the column with the offending text.
**
** Every CSV the engine reads goes through here: TraceV2 (trace_v2.c), the
** per-token timestamps (itl.c), the measured-latency tables (klat.c), the
** MFU tables (mfu.c) and --workload files (workload.c).  The last three are
** written by hand as often as by a tool, so they open with csv_open_table
** and trim each record with csv_trim.
*/
#ifndef TAM_CSVUTIL_H
#define TAM_CSVUTIL_H

#include "common.h"

typedef struct {
    const char *file;
    char *buf, *p, *end;
    unsigned long line; /* physical line at p */
    char **f;
    int nf, cap;
} csv_t;

/* Read the whole file; on error nothing is held. */
int csv_open(csv_t *c, const char *file, char *err);
void csv_close(csv_t *c);
/* csv_open, and a last line's CR without its LF ends that line as with one
** (for hand-written tables; RFC 4180 would keep the CR in the last field). */
int csv_open_table(csv_t *c, const char *file, char *err);
/* Strip the spaces and tabs around every field of the current record (in
** place); returns 1 when the record is a single blank field (a line of
** whitespace only, to be skipped like an empty one). */
int csv_trim(csv_t *c);
/* Next record into c->f[0..nf).  1 = a row, 0 = end of file, < 0 = error.
** *row_line = the line the record starts on.  Fields are unescaped in place. */
int csv_row(csv_t *c, unsigned long *row_line, char *err);
/* Index of the field equal to name in the current record (the header), -1 if none. */
int csv_col(const csv_t *c, const char *name);
/* A whole integer in [lo, hi] / a finite number; errors name file:line and col. */
int csv_ll(const char *file, unsigned long line, const char *col, const char *s, long long lo,
           long long hi, long long *out, char *err);
int csv_num(const char *file, unsigned long line, const char *col, const char *s, double *out,
            char *err);

#endif
