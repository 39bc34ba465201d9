/* engine/itl.h - per-chunk streaming timestamps (TraceV2 trace.itl.csv) and
** the step-level view of them: one inter-token gap = one engine step.
**
** File: a CSV with a header; columns found by header name: request_id,
** chunk_index, timestamp_us (other columns are ignored).  Rows may come in
** any order; per request, chunk_index must run 0, 1, ..., n-1 (no gap, no
** duplicate) and timestamp_us must not decrease with chunk_index.  Every
** error names file:line (and the column for a bad value).
**
** Which chunks carry a token (measured on the corpus example
** qwen3-14b-tp1-agg2rps-vanilla: every request has output_tokens 128 and
** num_chunks 130; chunk 0 is the first chunk of trace.csv, first_chunk_time_us,
** and arrives 5-478 us (median 12 us) before chunk 1; the last chunk is
** last_chunk_time_us and arrives 4-279 us (median 8 us) after the one before
** it; the gaps in between are 1-84 ms, median 11.55 ms): with n chunks and
** output_tokens out,
**   n == out      every chunk is one token;
**   n == out + 2  chunk 0 (the role chunk, sent with the first token) and
**                 chunk n-1 (finish reason / usage) carry none; chunks
**                 1..n-2 are the tokens;
**   otherwise     the request is not used (counted in itl_class_stats_t).
**
** Classification of each gap (a, e] between consecutive token times of a
** request r, with a slack s (client-side jitter: tokens of one step reach
** the client within ~50 us of each other on the corpus example; s = 1 ms
** is far below a step and far above the jitter):
**   - prefills in the gap: other used requests whose first token time f
**     satisfies a + s < f <= e + s (their prefill finished in the step that
**     ended at e); mixed = at least one, else decode-only;
**   - batch: used requests that produced a token at the step's end, i.e.
**     first token <= e + s and last token >= e - s (the decodes of that
**     step plus the prefills that completed in it).
*/
#ifndef TAM_ITL_H
#define TAM_ITL_H

#include "common.h"

typedef struct {
    int request_id;
    int n;                  /* chunks */
    const long long *t_us;  /* n timestamps in chunk order (into itl_t storage) */
    unsigned long line0;    /* file line of chunk 0 */
} itl_req_t;

typedef struct {
    char path[512];
    int n_req;
    itl_req_t *req;         /* ascending request_id */
    long n_rows;
    long long *t_us;        /* storage of every request's timestamps */
} itl_t;

int itl_load(const char *path, itl_t **out, char *err);
void itl_free(itl_t *x);
/* The request with this id, NULL if absent. */
const itl_req_t *itl_find(const itl_t *x, int request_id);

#define ITL_SLACK_S 1e-3

typedef struct {
    int request_id;
    int token;      /* the gap runs from token `token` to token+1 (0-based) */
    double gap_s;
    int batch;      /* requests that produced a token at the gap's end */
    int n_prefill;  /* other requests whose first token fell in the gap */
} itl_gap_t;

typedef struct {
    int n_used;         /* requests whose token chunks were identified */
    int n_framed;       /* ... of them with a role chunk and a final chunk */
    int n_skipped;      /* chunk count neither out nor out + 2 (or out unknown) */
    double framing_max_s; /* largest gap between a framing chunk and its token */
    double min_first_s, max_last_s; /* span of token times, s since epoch */
} itl_class_stats_t;

/* Classify every gap of every used request.  out_tokens[i] is the output
** length of x->req[i] (trace.csv output_tokens), < 1 when unknown.  *gaps is
** a heap array of *n_gaps (ordered by request, then token); caller frees. */
int itl_classify(const itl_t *x, const int *out_tokens, double slack_s, itl_gap_t **gaps,
                 int *n_gaps, itl_class_stats_t *st, char *err);

/* Weighted lower quantile of (value, weight) pairs: the smallest v whose
** cumulative weight (pairs sorted by v ascending, in place) reaches q times
** the total weight.  NaN when n < 1 or the total weight is not > 0.  With
** weights 1: the value of rank ceil(q n), so the median of an even count is
** the lower of the two middle values. */
typedef struct {
    double v, w;
} itl_vw_t;
double itl_quantile(itl_vw_t *p, int n, double q);

#endif
