/* engine/trace_v2.c - BLIS TraceV2 folders (`blis observe` output).
**
** Files: trace.yaml (header: trace_version, time_unit, server.model),
** trace.csv (one row per request; columns found by header name),
** server_config.json (server limits), and, when present, requests.csv
** (per-request ttft_ms / e2e_ms) and summary.json (aggregates): both are used
** only as self-checks.  trace.itl.csv (per-chunk times) is read by itl.c, not here.
**
** Invariants: all or nothing (every error path ends in tb_abort, *out NULL);
** columns are found by header name only; every CSV error names file:line.
**
** Decisions:
**   - trace_version 2 or 3 (the corpus example says 3) with time_unit "us";
**     anything else is refused rather than guessed.
**   - arrival_time_us is the scheduled arrival, in us from the start of the
**     run; send_time_us, first_chunk_time_us and last_chunk_time_us are wall
**     clock (epoch us) at the client.  t_send = (arrival_time_us - the
**     smallest arrival_time_us) / 1e6; t_recorded = the send time on the same
**     origin (the earliest-arriving request's send time = its t_send).
**   - ttft = (first_chunk_time_us - send_time_us) / 1e6 and e2e =
**     (last_chunk_time_us - send_time_us) / 1e6: latency from the actual send.
**   - in_tokens = server_input_tokens when > 0 (what the server tokenised),
**     else input_tokens; out_tokens = output_tokens; out_client = -1.
**   - status != "ok" -> ok = 0, NaN latencies, timing columns not required.
**     A failed row is kept in the load whatever tokens it records (rule 3;
**     never a reason to refuse the run).  input_tokens / output_tokens are
**     the workload's requested counts (every ok row of the corpus examples
**     says 1024 / 128 while server_input_tokens varies), so a failed row
**     normally has them; one that records 0 (no input count in either
**     column, or 0 output) carries the run's typical request instead: the
**     lower median of the ok rows' in_tokens / out_tokens, tok_src = NOMINAL.
**     Only when no row succeeded is there nothing to take it from: then
**     such a row is an error naming it.  An ok row with no input tokens is
**     an error.
**   - index = request_id (must be an integer, unique).  Rows are reordered by
**     (t_send, index): the file is written in completion-ish order.
**   - prefix: prefix_length > 0 gives prefix_tokens; a non-empty prefix_group
**     name is a recorded group (ids in order of first appearance).
**   - one simulation unit, one load point "replay" (ARR_REPLAY, lowest and
**     highest), rate = (n-1) / (last t_send) measured, window [0, last t_send].
**   - the client as it behaved (trace_point_t inflight_max, lag_median,
**     client_limit): a load generator that holds at most L requests in
**     flight sends a request at max(its scheduled time, the moment one of
**     the L ends), so when it falls behind, its send lag grows while the
**     number in flight sits at L.  Measured on the send_time_us clock:
**     in flight = requests with send_time_us <= t < last_chunk_time_us (a
**     failed row without a last chunk time >= its send is never counted);
**     M = the maximum over the run, reached just after some sends ("at the
**     cap": the in-flight count right after the row's send is M).  lag =
**     t_recorded - t_send (s; 0 for the earliest arrival by construction);
**     lag_median over every row.  The limit M is inferred when the lag rises
**     by more than V2_LAG_RISE_S from one at-the-cap send to a later one;
**     then max_concurrency = client_limit = M and the simulated client sends
**     as the real one did (sim.c's max_inflight: FIFO, a request goes at
**     max(t_send, the moment the number in flight drops below the limit)).
**     Measured latency counts from the actual send and predicted latency
**     from the simulated send, so both exclude the client's own queue.
**     A client that kept up (the low-load example: M = 13, reached once,
**     lags under 3 ms) gets no limit.
**   - server_config.json: tensor_parallel_size, max_num_batched_tokens,
**     num_gpu_blocks, block_size, max_seq_len (-> max_model_len) required;
**     max_num_seqs when present, else vLLM's default 256.
**   - self-checks: requests.csv request_idx numbers trace.csv's data rows in
**     file order (it is NOT request_id: the two differ where rows were written
**     out of id order); its start_time (s, ms resolution) must match
**     send_time_us within 1 ms, which confirms the join.  ttft_ms/e2e_ms are
**     rounded to 0.01 ms, so each must be within 0.005 ms (+1e-6) of ours,
**     and every ok request must be listed; summary.json overall.{num_requests, num_successful} exactly and
**     overall.{ttft_ms,e2e_ms}.mean within 0.005 ms (also rounded).
**
** The CSV reader (csvutil.c, shared with itl.c) follows RFC 4180: comma separated, fields optionally in
** double quotes ("" is a quote; quoted fields may hold commas and newlines),
** LF or CRLF line ends, a UTF-8 BOM and blank lines are skipped.  A bare quote
** inside an unquoted field, text after a closing quote, an unterminated quote
** and a row whose field count differs from the header are errors naming
** file:line.
*/
#include "csvutil.h"
#include "trace_int.h"
#include "yamlutil.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V2_ROUND_MS 0.005
#define V2_DEFAULT_MAX_NUM_SEQS 256
#define V2_START_US 1000.5 /* requests.csv start_time has ms resolution */
#define V2_LAG_RISE_S 1.0  /* a send lag rising by more than this at the cap
                           ** means the client waited for its limit */

/* ---- reader ------------------------------------------------------------ */

typedef struct {
    int index;
    long long arr, send;
    unsigned long line;
    int pos; /* in trace->req */
    long long end; /* last_chunk_time_us; -1 = none (never counted in flight) */
} v2row_t;

static int cmp_row_index(const void *a, const void *b)
{
    const v2row_t *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int cmp_row_send(const void *a, const void *b)
{
    const v2row_t *x = a, *y = b;
    if (x->send != y->send)
        return x->send < y->send ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Fill points[0].inflight_max, lag_median, client_limit (see the header).
** rows are in any order on entry and sorted by send time on return. */
static int infer_client(trace_t *t, v2row_t *rows, int n, char *err)
{
    long long *sends = malloc((size_t)n * sizeof *sends), *ends = malloc((size_t)n * sizeof *ends);
    double *lags = malloc((size_t)n * sizeof *lags);
    if (!sends || !ends || !lags) {
        free(sends);
        free(ends);
        free(lags);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", t->path);
    }
    int ne = 0;
    for (int i = 0; i < n; i++) {
        const trace_req_t *r = &t->req[rows[i].pos];
        lags[i] = r->t_recorded - r->t_send;
        if (rows[i].end >= 0) {
            sends[ne] = rows[i].send;
            ends[ne] = rows[i].end;
            ne++;
        }
    }
    trace_point_t *p = &t->points[0];
    p->lag_median = trace_median(lags, n);
    qsort(sends, (size_t)ne, sizeof *sends, cmp_ll);
    qsort(ends, (size_t)ne, sizeof *ends, cmp_ll);
    qsort(rows, (size_t)n, sizeof *rows, cmp_row_send);
    /* in flight just after each counted send: sends <= s minus ends <= s */
    int m = 0;
    for (int pass = 0; pass < 2; pass++) {
        int is = 0, ie = 0;
        double lo = INFINITY, rise = 0;
        for (int i = 0; i < n; i++) {
            if (rows[i].end < 0)
                continue;
            long long s = rows[i].send;
            while (is < ne && sends[is] <= s)
                is++;
            while (ie < ne && ends[ie] <= s)
                ie++;
            int inflight = is - ie;
            if (pass == 0) {
                if (inflight > m)
                    m = inflight;
            } else if (inflight == m) {
                const trace_req_t *r = &t->req[rows[i].pos];
                double lag = r->t_recorded - r->t_send;
                if (lag - lo > rise)
                    rise = lag - lo;
                if (lag < lo)
                    lo = lag;
            }
        }
        if (pass == 1 && m > 0 && rise > V2_LAG_RISE_S)
            p->client_limit = p->max_concurrency = m;
    }
    p->inflight_max = m;
    free(sends);
    free(ends);
    free(lags);
    return TAM_OK;
}

static int cmp_row_pos(const void *a, const void *b)
{
    const v2row_t *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

enum { C_ID, C_IN, C_OUT, C_ARR, C_SEND, C_FIRST, C_LAST, C_STATUS, C_SIN, C_PG, C_PL, C_N };
static const char *v2_cols[C_N] = {"request_id", "input_tokens", "output_tokens", "arrival_time_us",
                                   "send_time_us", "first_chunk_time_us", "last_chunk_time_us", "status",
                                   "server_input_tokens", "prefix_group", "prefix_length"};
#define V2_N_REQUIRED 8

static int check_requests_csv(const char *file, trace_t *t, v2row_t *rows, int n, char *err)
{
    csv_t c;
    int rc = csv_open(&c, file, err);
    if (rc)
        return rc;
    unsigned long line;
    int *seen = calloc((size_t)n, sizeof *seen);
    if (!seen) {
        csv_close(&c);
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", file);
    }
    rc = csv_row(&c, &line, err);
    if (rc <= 0) {
        if (rc == 0)
            rc = tam_fail(err, TAM_EPARSE, "%s: empty file (no header)", file);
        goto out;
    }
    int ci = csv_col(&c, "request_idx"), ct = csv_col(&c, "ttft_ms"), ce = csv_col(&c, "e2e_ms");
    int cs = csv_col(&c, "start_time");
    int ncol = c.nf;
    if (ci < 0 || ct < 0 || ce < 0) {
        rc = tam_fail(err, TAM_EFIELD, "%s:%lu: missing column %s", file, line,
                      ci < 0 ? "request_idx" : ct < 0 ? "ttft_ms" : "e2e_ms");
        goto out;
    }
    while ((rc = csv_row(&c, &line, err)) == 1) {
        if (c.nf != ncol) {
            rc = tam_fail(err, TAM_EPARSE, "%s:%lu: %d fields, the header has %d", file, line, c.nf, ncol);
            goto out;
        }
        long long idx;
        double tt = 0, ee = 0;
        if ((rc = csv_ll(file, line, "request_idx", c.f[ci], 0, INT_MAX, &idx, err)))
            goto out;
        /* request_idx numbers trace.csv's data rows in file order (it is
        ** not request_id); start_time, when present, confirms the join. */
        if (idx >= n) {
            rc = tam_fail(err, TAM_ECHECK, "%s:%lu: request_idx %lld: trace.csv has only %d rows", file, line,
                          idx, n);
            goto out;
        }
        v2row_t *r = &rows[idx];
        if (cs >= 0) {
            double st;
            if ((rc = csv_num(file, line, "start_time", c.f[cs], &st, err)))
                goto out;
            if (!(fabs(st * 1e6 - (double)r->send) <= V2_START_US)) {
                rc = tam_fail(err, TAM_ECHECK,
                              "%s:%lu: column start_time: %.6f s does not match send_time_us %lld of trace.csv line %lu",
                              file, line, st, r->send, r->line);
                goto out;
            }
        }
        if (seen[idx]) {
            rc = tam_fail(err, TAM_ECHECK, "%s:%lu: request_idx %lld listed twice", file, line, idx);
            goto out;
        }
        seen[idx] = 1;
        const trace_req_t *q = &t->req[r->pos];
        if (!q->ok)
            continue; /* a failed request: no latency to compare */
        if ((rc = csv_num(file, line, "ttft_ms", c.f[ct], &tt, err)) ||
            (rc = csv_num(file, line, "e2e_ms", c.f[ce], &ee, err)))
            goto out;
        double ours[2] = {q->ttft * 1e3, q->e2e * 1e3}, theirs[2] = {tt, ee};
        static const char *nm[2] = {"ttft_ms", "e2e_ms"};
        for (int k = 0; k < 2; k++) {
            double d = fabs(ours[k] - theirs[k]);
            if (!(d <= V2_ROUND_MS + 1e-6)) {
                rc = tam_fail(err, TAM_ECHECK,
                              "%s:%lu: column %s: the file says %.17g ms, trace.csv line %lu gives %.17g ms",
                              file, line, nm[k], theirs[k], r->line, ours[k]);
                goto out;
            }
            if (d / 1e3 > t->check_max_abs)
                t->check_max_abs = d / 1e3;
            t->n_checks++;
        }
    }
    if (rc < 0)
        goto out;
    for (int i = 0; i < n; i++)
        if (!seen[i] && t->req[rows[i].pos].ok) {
            rc = tam_fail(err, TAM_ECHECK, "%s: trace.csv line %lu (request_id %d) is ok but not listed", file,
                          rows[i].line, rows[i].index);
            goto out;
        }
    rc = TAM_OK;
out:
    free(seen);
    csv_close(&c);
    return rc;
}

static int check_summary(const char *file, trace_t *t, char *err)
{
    cJSON *j;
    int rc = json_parse_file(file, &j, err);
    if (rc)
        return rc;
    cJSON *o = json_get(j, "overall");
    if (!o) { /* not the summary this check knows */
        cJSON_Delete(j);
        return TAM_OK;
    }
    int n_req, n_ok;
    if ((rc = json_int(file, "overall", "num_requests", json_get(o, "num_requests"), 0, INT_MAX, &n_req, err)) ||
        (rc = json_int(file, "overall", "num_successful", json_get(o, "num_successful"), 0, INT_MAX, &n_ok, err)))
        goto out;
    int ok = 0;
    double s_tt = 0, s_e = 0;
    for (int i = 0; i < t->n_req; i++)
        if (t->req[i].ok) {
            ok++;
            s_tt += t->req[i].ttft * 1e3;
            s_e += t->req[i].e2e * 1e3;
        }
    if (n_req != t->n_req || n_ok != ok) {
        rc = tam_fail(err, TAM_ECHECK, "%s: overall.%s: the file says %d, trace.csv gives %d", file,
                      n_req != t->n_req ? "num_requests" : "num_successful", n_req != t->n_req ? n_req : n_ok,
                      n_req != t->n_req ? t->n_req : ok);
        goto out;
    }
    t->n_checks += 2;
    if (ok > 0) {
        static const char *nm[2] = {"ttft_ms", "e2e_ms"};
        double ours[2] = {s_tt / ok, s_e / ok};
        for (int k = 0; k < 2; k++) {
            char pre[48];
            snprintf(pre, sizeof pre, "overall.%s", nm[k]);
            double theirs;
            if ((rc = json_num(file, pre, "mean", json_get(json_get(o, nm[k]), "mean"), &theirs, err)))
                goto out;
            if (!(fabs(ours[k] - theirs) <= V2_ROUND_MS + 1e-9 * fabs(theirs))) {
                rc = tam_fail(err, TAM_ECHECK, "%s: %s.mean: the file says %.17g ms, trace.csv gives %.17g ms",
                              file, pre, theirs, ours[k]);
                goto out;
            }
            double rel = trace_rel(ours[k], theirs);
            if (rel > t->check_max_rel)
                t->check_max_rel = rel;
            t->n_checks++;
        }
    }
out:
    cJSON_Delete(j);
    return rc;
}

/* Phase 1: trace.yaml (version, time unit, the model if named there) and
** server_config.json (the engine's limits, vLLM version, else the model). */
static int v2_read_meta(const char *dir, trace_t *t, char *err)
{
    yu_doc_t hy = {0};
    cJSON *sc = NULL;
    char path[1024], file[1024];
    int rc;

    /* trace.yaml */
    int version;
    char unit[16];
    if ((rc = trace_join(path, sizeof path, dir, "trace.yaml", err)) || (rc = yu_load(&hy, path, err)) ||
        (rc = yu_int(&hy, "trace_version", 0, INT_MAX, &version, err)) ||
        (rc = yu_str(&hy, "time_unit", unit, sizeof unit, err)))
        goto fail;
    if (version < 2 || version > 3) {
        rc = tam_fail(err, TAM_EFIELD, "%s:%lu: trace_version: %d is not supported (2 or 3)", path,
                      (unsigned long)yu_find(&hy, "trace_version")->start_mark.line + 1, version);
        goto fail;
    }
    if (strcmp(unit, "us") != 0) {
        rc = tam_fail(err, TAM_EFIELD, "%s:%lu: time_unit: '%s' is not supported (us)", path,
                      (unsigned long)yu_find(&hy, "time_unit")->start_mark.line + 1, unit);
        goto fail;
    }
    int have_model = yu_find(&hy, "server.model") != NULL;
    if (have_model && (rc = yu_str(&hy, "server.model", t->model_id, sizeof t->model_id, err)))
        goto fail;

    /* server_config.json */
    if ((rc = trace_join(file, sizeof file, dir, "server_config.json", err)) ||
        (rc = json_parse_file(file, &sc, err)) ||
        (rc = json_int(file, "", "tensor_parallel_size", json_get(sc, "tensor_parallel_size"), 1, 4096, &t->tp, err)) ||
        (rc = json_int(file, "", "max_num_batched_tokens", json_get(sc, "max_num_batched_tokens"), 1, INT_MAX, &t->max_num_batched_tokens, err)) ||
        (rc = json_int(file, "", "num_gpu_blocks", json_get(sc, "num_gpu_blocks"), 1, INT_MAX, &t->kv_blocks, err)) ||
        (rc = json_int(file, "", "block_size", json_get(sc, "block_size"), 1, 1 << 20, &t->block_size, err)) ||
        (rc = json_int(file, "", "max_seq_len", json_get(sc, "max_seq_len"), 1, INT_MAX, &t->max_model_len, err)))
        goto fail;
    cJSON *vv = json_get(sc, "vllm_version");
    if (cJSON_IsString(vv))
        snprintf(t->vllm_version, sizeof t->vllm_version, "%.31s", vv->valuestring);
    cJSON *ms = json_get(sc, "max_num_seqs");
    t->max_num_seqs = V2_DEFAULT_MAX_NUM_SEQS;
    if (ms && !cJSON_IsNull(ms) && (rc = json_int(file, "", "max_num_seqs", ms, 1, INT_MAX, &t->max_num_seqs, err)))
        goto fail;
    if (!have_model) {
        cJSON *m = json_get(sc, "model");
        if (!cJSON_IsString(m) || !m->valuestring[0]) {
            rc = tam_fail(err, TAM_EFIELD, "%s: server.model missing and %s has no \"model\" string", path, file);
            goto fail;
        }
        snprintf(t->model_id, sizeof t->model_id, "%s", m->valuestring);
    }
fail:
    cJSON_Delete(sc);
    yu_free(&hy);
    return rc;
}

/* Phase 3, on the rows read from trace.csv (file, for messages): failed rows
** without counts get the run's typical request, times move to the earliest
** arrival's origin, the client's limit is inferred, and request ids must be
** unique.  rows end in file order. */
static int v2_finish_rows(const char *file, trace_t *t, v2row_t *rows, int n_rows, int n_nominal,
                          char *err)
{
    int rc = TAM_OK;
    if (n_nominal > 0) { /* failed rows without counts: the run's typical request */
        int typ_in, typ_out;
        if ((rc = trace_typical_tokens(t, &typ_in, &typ_out, err)))
            return rc;
        for (int i = 0; i < n_rows; i++) {
            trace_req_t *r = &t->req[rows[i].pos];
            if (r->tok_src != TRACE_TOK_NOMINAL)
                continue;
            if (typ_in < 1) {
                rc = tam_fail(err, TAM_EFIELD,
                              "%s:%lu: failed request %d records %s, and no request succeeded to take a typical "
                              "one from", file, rows[i].line, rows[i].index,
                              r->in_tokens < 1 ? "no input tokens" : "0 output tokens");
                return rc;
            }
            if (r->in_tokens < 1)
                r->in_tokens = typ_in;
            if (r->out_tokens < 1)
                r->out_tokens = typ_out;
        }
    }

    /* times on the earliest arrival's origin */
    {
        int f = 0;
        for (int i = 1; i < n_rows; i++)
            if (rows[i].arr < rows[f].arr)
                f = i;
        double last_t = 0;
        for (int i = 0; i < n_rows; i++) {
            trace_req_t *r = &t->req[rows[i].pos];
            r->t_send = (double)(rows[i].arr - rows[f].arr) / 1e6;
            r->t_recorded = (double)(rows[i].send - rows[f].send) / 1e6;
            if (r->t_send > last_t)
                last_t = r->t_send;
        }
        t->points[0].t_end = last_t;
        t->points[0].rate = last_t > 0 ? (n_rows - 1) / last_t : 0;
    }
    if ((rc = infer_client(t, rows, n_rows, err)))
        return rc;
    qsort(rows, (size_t)n_rows, sizeof *rows, cmp_row_index);
    for (int i = 1; i < n_rows; i++)
        if (rows[i].index == rows[i - 1].index) {
            rc = tam_fail(err, TAM_EFIELD, "%s:%lu: column request_id: %d already used on line %lu", file,
                          rows[i].line > rows[i - 1].line ? rows[i].line : rows[i - 1].line, rows[i].index,
                          rows[i].line > rows[i - 1].line ? rows[i - 1].line : rows[i].line);
            return rc;
        }
    qsort(rows, (size_t)n_rows, sizeof *rows, cmp_row_pos); /* back to file order */
    return TAM_OK;
}

/* Phase 2a: trace.csv's header row into col[] (the index of each of
** v2_cols, -1 for an absent optional one); the line it was on into *line. */
static int v2_header(csv_t *c, const char *file, unsigned long *line, int *col, char *err)
{
    int rc = csv_row(c, line, err);
    if (rc <= 0)
        return rc == 0 ? tam_fail(err, TAM_EPARSE, "%s: empty file (no header)", file) : rc;
    for (int k = 0; k < C_N; k++) {
        col[k] = csv_col(c, v2_cols[k]);
        if (col[k] < 0 && k < V2_N_REQUIRED)
            return tam_fail(err, TAM_EFIELD, "%s:%lu: missing column %s", file, *line, v2_cols[k]);
    }
    for (int i = 0; i < c->nf; i++)
        for (int k = i + 1; k < c->nf; k++)
            if (strcmp(c->f[i], c->f[k]) == 0 && c->f[i][0])
                return tam_fail(err, TAM_EPARSE, "%s:%lu: column %s appears twice", file, *line, c->f[i]);
    return TAM_OK;
}

/* Phase 4: the tool's own numbers, when its files are there: requests.csv
** request by request, summary.json's means. */
static int v2_self_checks(const char *dir, trace_t *t, v2row_t *rows, int n_rows, char *err)
{
    char file[1024];
    int rc;
    /* self-check against requests.csv */
    if ((rc = trace_join(file, sizeof file, dir, "requests.csv", err)))
        return rc;
    if (trace_is_file(file) && (rc = check_requests_csv(file, t, rows, n_rows, err)))
        return rc;

    /* self-check against summary.json */
    if ((rc = trace_join(file, sizeof file, dir, "summary.json", err)))
        return rc;
    if (trace_is_file(file) && (rc = check_summary(file, t, err)))
        return rc;
    return TAM_OK;
}

int trace_load_tracev2(const char *dir, trace_t **out, char *err)
{
    *out = NULL;
    trace_build_t b;
    int rc = tb_init(&b, dir, "tracev2", err);
    if (rc)
        return rc;
    trace_t *t = b.t;
    csv_t c = {0};
    v2row_t *rows = NULL;
    int n_rows = 0, cap_rows = 0;
    trace_names_t names = {0};
    char file[1024];

    if ((rc = v2_read_meta(dir, t, err)))
        goto fail;

    /* the single load point */
    trace_point_t *p = tb_point(&b, err);
    if (!p) {
        rc = TAM_ENOMEM;
        goto fail;
    }
    snprintf(p->name, sizeof p->name, "replay");
    p->kind = ARR_REPLAY;
    p->is_lowest = p->is_highest = 1;

    /* trace.csv */
    unsigned long line;
    if ((rc = trace_join(file, sizeof file, dir, "trace.csv", err)) || (rc = csv_open(&c, file, err)))
        goto fail;
    int col[C_N];
    if ((rc = v2_header(&c, file, &line, col, err)))
        goto fail;
    int ncol = c.nf;
    int max_prefix = 0, n_nominal = 0;
    while ((rc = csv_row(&c, &line, err)) == 1) {
        if (c.nf != ncol) {
            rc = tam_fail(err, TAM_EPARSE, "%s:%lu: %d fields, the header has %d", file, line, c.nf, ncol);
            goto fail;
        }
        long long id, in, out_t, sin = 0, arr, send, first = 0, last = 0, plen = 0;
        if ((rc = csv_ll(file, line, "request_id", c.f[col[C_ID]], 0, INT_MAX, &id, err)) ||
            (rc = csv_ll(file, line, "input_tokens", c.f[col[C_IN]], 0, INT_MAX, &in, err)) ||
            (rc = csv_ll(file, line, "output_tokens", c.f[col[C_OUT]], 0, INT_MAX, &out_t, err)) ||
            (rc = csv_ll(file, line, "arrival_time_us", c.f[col[C_ARR]], 0, LLONG_MAX, &arr, err)) ||
            (rc = csv_ll(file, line, "send_time_us", c.f[col[C_SEND]], 0, LLONG_MAX, &send, err)))
            goto fail;
        if (col[C_SIN] >= 0 && c.f[col[C_SIN]][0] &&
            (rc = csv_ll(file, line, "server_input_tokens", c.f[col[C_SIN]], 0, INT_MAX, &sin, err)))
            goto fail;
        if (col[C_PL] >= 0 && c.f[col[C_PL]][0] &&
            (rc = csv_ll(file, line, "prefix_length", c.f[col[C_PL]], 0, INT_MAX, &plen, err)))
            goto fail;
        int ok = strcmp(c.f[col[C_STATUS]], "ok") == 0;
        if (ok && ((rc = csv_ll(file, line, "first_chunk_time_us", c.f[col[C_FIRST]], 0, LLONG_MAX, &first, err)) ||
                   (rc = csv_ll(file, line, "last_chunk_time_us", c.f[col[C_LAST]], 0, LLONG_MAX, &last, err))))
            goto fail;
        long long end = ok ? last : -1;
        if (!ok) { /* a failed row's end, when it has a usable one */
            char *e;
            const char *lt = c.f[col[C_LAST]];
            errno = 0;
            long long v = strtoll(lt, &e, 10);
            if (*lt && !*e && !errno && v >= send)
                end = v;
        }
        if (ok && (first < send || last < first)) {
            rc = tam_fail(err, TAM_EFIELD,
                          "%s:%lu: need send_time_us <= first_chunk_time_us <= last_chunk_time_us, got %lld, %lld, %lld",
                          file, line, send, first, last);
            goto fail;
        }
        int eff_in = sin > 0 ? (int)sin : (int)in;
        if (eff_in < 1 && ok) {
            rc = tam_fail(err, TAM_EFIELD, "%s:%lu: column input_tokens: no input tokens (input_tokens %lld, server_input_tokens %lld)",
                          file, line, in, sin);
            goto fail;
        }
        trace_req_t *r = tb_req(&b, err);
        if (!r) {
            rc = TAM_ENOMEM;
            goto fail;
        }
        r->index = (int)id;
        r->point = 0;
        r->in_tokens = eff_in; /* a failed row's 0s are filled in below */
        r->out_tokens = (int)out_t;
        if (!ok && (eff_in < 1 || out_t < 1)) {
            r->tok_src = TRACE_TOK_NOMINAL;
            n_nominal++;
        }
        r->prefix_tokens = (int)plen;
        if (plen > max_prefix)
            max_prefix = (int)plen;
        if (col[C_PG] >= 0 && c.f[col[C_PG]][0]) {
            int gid = tn_id(&names, c.f[col[C_PG]]);
            if (gid < 0) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", file);
                goto fail;
            }
            r->prefix_group = gid;
            r->group_recorded = 1;
        }
        r->ok = ok;
        if (ok) {
            r->ttft = (double)(first - send) / 1e6;
            r->e2e = (double)(last - send) / 1e6;
        }
        if (n_rows == cap_rows) {
            int cap = cap_rows ? 2 * cap_rows : 256;
            v2row_t *nr = realloc(rows, (size_t)cap * sizeof *nr);
            if (!nr) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", file);
                goto fail;
            }
            rows = nr;
            cap_rows = cap;
        }
        rows[n_rows] = (v2row_t){(int)id, arr, send, line, t->n_req - 1, end};
        n_rows++;
    }
    if (rc < 0)
        goto fail;
    csv_close(&c);
    if (n_rows == 0) {
        rc = tam_fail(err, TAM_EFIELD, "%s: no requests", file);
        goto fail;
    }
    t->n_prefix_groups = names.n;
    t->prefix_len = max_prefix;
    if ((rc = v2_finish_rows(file, t, rows, n_rows, n_nominal, err)))
        goto fail;

    if ((rc = v2_self_checks(dir, t, rows, n_rows, err)))
        goto fail;

    free(rows);
    tn_free(&names);
    return tb_finish(&b, out, err);

fail:
    csv_close(&c);
    free(rows);
    tn_free(&names);
    tb_abort(&b);
    return rc ? rc : TAM_EFIELD;
}
