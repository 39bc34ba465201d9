/* engine/trace_int.h - helpers shared by the trace readers (trace*.c only).
**
** Not part of the engine's public interface: other modules use trace.h.
** Invariants: cJSON trees never leave a reader (json_parse_file's result is
** deleted by the reader that asked for it); a trace under construction is
** owned by its trace_build_t until tb_finish hands it out whole, so every
** error path ends in tb_abort and the caller sees *out == NULL.
*/
#ifndef TAM_TRACE_INT_H
#define TAM_TRACE_INT_H

#include "jsonutil.h"
#include "trace.h"

/* ---- building a trace -------------------------------------------------- */

typedef struct {
    trace_t *t;
    int cap_req, cap_pts;
} trace_build_t;

int tb_init(trace_build_t *b, const char *dir, const char *format, char *err);
/* Append a zeroed point / request; NULL when out of memory (err is set). */
trace_point_t *tb_point(trace_build_t *b, char *err);
trace_req_t *tb_req(trace_build_t *b, char *err);
/* Sort requests by (unit, t_send, index), count units, check invariants
** (point indices valid, units 0..n-1, index unique per unit).  On success
** *out owns the trace; on failure it is freed and *out is NULL. */
int tb_finish(trace_build_t *b, trace_t **out, char *err);
void tb_abort(trace_build_t *b);

/* A string label -> small integer id, in order of first appearance (for
** recorded prefix-group names).  Returns -1 for "" and -2 on no memory. */
typedef struct {
    char **names;
    int n, cap;
} trace_names_t;
int tn_id(trace_names_t *m, const char *name);
void tn_free(trace_names_t *m);

/* Lower median of n ints (v is sorted in place; 0 when n < 1): always one of
** the values, so a token count stays a count. */
int trace_median_int(int *v, int n);
/* Median of n doubles (sorted in place; mean of the two middle ones when n
** is even; NaN when n < 1). */
double trace_median(double *v, int n);
/* The run's typical request: lower medians of in_tokens and out_tokens over
** the successful requests read so far (0 and 0 when there is none). */
int trace_typical_tokens(const trace_t *t, int *in, int *out, char *err);

/* Relative deviation |a-b|/|b| (|a-b| when b == 0). */
double trace_rel(double a, double b);

/* dir/name into buf (error when it does not fit). */
int trace_join(char *buf, size_t cap, const char *dir, const char *name, char *err);
int trace_is_file(const char *path);
int trace_is_dir(const char *path);

#endif
