/* engine/trace_guidellm.c - GuideLLM 0.6 sweeps (guidellm-results.json).
**
** Files: guidellm-results.json (benchmarks with per-request stats),
** exp-config.yaml (server limits), profile.yaml (data.prefix_tokens), vllm.log
** (KV capacity "num_gpu_blocks is: N"; block size; rejected requests).
**
** Invariants: all or nothing (every error path ends in tb_abort, *out NULL);
** the 4 MB JSON is parsed once and deleted before the trace is finished;
** nothing from cJSON (strings included) is kept.
**
** Decisions (docs/CORPUS.md rules 2-5):
**   - each benchmark is one load point and its own simulation unit (unit =
**     benchmark index); warm_prefix = 1 for every benchmark after the first
**     (same server, back to back); is_lowest = the synchronous benchmark
**     (benchmark 0 when there is none); is_highest = throughput and the
**     highest-rate constant/poisson benchmark.
**   - requests of a benchmark = successful + errored + incomplete, ordered by
**     the recorded schedule: info.timings.targeted_start, ties (synchronous
**     and throughput give every request the same target) broken by
**     request_start_time (the actual send).  index = running number over the
**     whole file in that order (benchmark 0 first).
**   - t_send = i / rate for constant (i = position in that order), else 0 (the
**     simulator reproduces synchronous/throughput/poisson itself).
**     t_recorded = request_start_time - the benchmark's first targeted_start.
**   - successful: in_tokens = prompt_tokens (the server's usage count, shared
**     prefix included: mean ~3000 = 1024 + ~2000), out_tokens =
**     output_tokens, ttft = time_to_first_token_ms / 1000, e2e =
**     request_latency; out_client = -1.
**   - errored / incomplete (ok = 0, NaN latencies, kept in the load): when
**     output_tokens is recorded, prompt_tokens/output_tokens are used as they
**     are.  When it is null no usage came back, and prompt_tokens is
**     GuideLLM's client-side count of the prompt *without* the shared prefix
**     (measured: it is the server's count - prefix_tokens + 2).  Then:
**       1. if vllm.log holds exactly one "maximum context length is X tokens.
**          However, your request has N input tokens" rejection per such
**          request (matched in send order) and every N is within 5% of
**          prompt_tokens + prefix_tokens, in_tokens = N and out_tokens =
**          max_model_len - X (the request's max_tokens), tok_src = SERVER_LOG;
**       2. otherwise in_tokens = prompt_tokens + prefix_tokens, out_tokens =
**          1, tok_src = CLIENT_EST.
**     A failed request that recorded no prompt count at all (prompt_tokens
**     missing, null or 0: a request the client gave up on before any
**     count came back) is kept in the load too, never a reason to refuse
**     the run (rule 3): GuideLLM drew it from the run's data profile like
**     every other request, so it carries the profile's nominal request:
**     in_tokens = data.prefix_tokens + data.prompt_tokens, out_tokens =
**     data.output_tokens (or its recorded output_tokens when >= 1),
**     tok_src = NOMINAL; it takes no part in the vllm.log matching (which
**     needs a client count to check against).  A successful request
**     without prompt_tokens >= 1 is an error.
**   - shared prefix: one prefix for the whole run: prefix_group = 0 (recorded),
**     prefix_tokens = profile.yaml data.prefix_tokens, n_prefix_groups = 1.
**   - kv_blocks = the last "num_gpu_blocks is: N" in vllm.log (required);
**     block_size from a "block_size=" / "'block_size': " in the log, else 16.
**   - self-check per benchmark: metrics.request_totals.{successful, errored,
**     incomplete} equal the list lengths, and metrics.time_to_first_token_ms
**     .successful.{mean,count} and metrics.request_latency.successful.{mean,
**     count} equal the per-request data (means to 1e-9 relative); a mismatch
**     is TAM_ECHECK.
*/
#include "trace_int.h"
#include "yamlutil.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GL_CHECK_REL 1e-9

enum { CAT_OK = 0, CAT_ERR, CAT_INC };
static const char *cat_name[3] = {"successful", "errored", "incomplete"};

typedef struct {
    int cat, pos;
    double k1, k2;       /* sort keys: targeted start, actual start */
    double started;      /* request_start_time, NaN if none */
    int prompt, out;     /* -1 = null */
    double ttft_ms, e2e;
    int log_in, log_out; /* from vllm.log, -1 = none */
} gl_req_t;

static int cmp_gl(const void *a, const void *b)
{
    const gl_req_t *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? -1 : 1;
    if (x->cat != y->cat)
        return x->cat < y->cat ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

typedef struct {
    int kv_blocks, block_size;
    char version[32];      /* "vLLM API server version X", "" if absent */
    int n_rej, cap_rej;
    int *rej_in, *rej_ctx; /* "your request has N input tokens", "maximum context length is X" */
} vlog_t;

static int read_vllm_log(const char *path, vlog_t *v, char *err)
{
    char *buf;
    size_t len;
    int rc = tam_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    v->kv_blocks = -1;
    v->block_size = 16;
    unsigned long line = 0;
    char *s = buf;
    while (s < buf + len) {
        char *nl = memchr(s, '\n', (size_t)(buf + len - s));
        if (nl)
            *nl = '\0';
        line++;
        const char *p;
        if ((p = strstr(s, "vLLM API server version "))) {
            p += strlen("vLLM API server version ");
            size_t k = strspn(p, "0123456789.abcdefghijklmnopqrstuvwxyz+-");
            snprintf(v->version, sizeof v->version, "%.*s", (int)(k < 31 ? k : 31), p);
        }
        if ((p = strstr(s, "num_gpu_blocks is:"))) {
            char *end;
            long n = strtol(p + strlen("num_gpu_blocks is:"), &end, 10);
            if (end == p + strlen("num_gpu_blocks is:") || n <= 0 || n > INT_MAX) {
                free(buf);
                return tam_fail(err, TAM_EFIELD, "%s:%lu: num_gpu_blocks: not a positive integer", path, line);
            }
            v->kv_blocks = (int)n;
        }
        if ((p = strstr(s, "block_size=")) || (p = strstr(s, "'block_size': "))) {
            const char *q = strchr(p, *p == 'b' ? '=' : ':') + 1;
            char *end;
            long n = strtol(q, &end, 10);
            if (end != q && n > 0 && n <= 1 << 20)
                v->block_size = (int)n;
        }
        long ctx, in;
        if ((p = strstr(s, "maximum context length is ")) &&
            sscanf(p, "maximum context length is %ld tokens. However, your request has %ld input tokens", &ctx, &in) == 2) {
            /* Out-of-range counts would overflow max_model_len - ctx later. */
            if (ctx < 1 || ctx > INT_MAX || in < 1 || in > INT_MAX) {
                free(buf);
                return tam_fail(err, TAM_EFIELD,
                                "%s:%lu: rejection: context length %ld / input tokens %ld: not positive integers",
                                path, line, ctx, in);
            }
            if (v->n_rej == v->cap_rej) {
                int cap = v->cap_rej ? 2 * v->cap_rej : 8;
                int *a = realloc(v->rej_in, (size_t)cap * sizeof *a);
                if (a)
                    v->rej_in = a;
                int *c = realloc(v->rej_ctx, (size_t)cap * sizeof *c);
                if (c)
                    v->rej_ctx = c;
                if (!a || !c) {
                    free(buf);
                    return tam_fail(err, TAM_ENOMEM, "%s: out of memory", path);
                }
                v->cap_rej = cap;
            }
            v->rej_in[v->n_rej] = (int)in;
            v->rej_ctx[v->n_rej] = (int)ctx;
            v->n_rej++;
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    free(buf);
    if (v->kv_blocks < 0)
        return tam_fail(err, TAM_EFIELD, "%s: no \"num_gpu_blocks is: N\" line (KV capacity unknown)", path);
    return TAM_OK;
}

/* Read one request of benchmarks[bi].requests.<cat>[pos]. */
static int read_req(const char *file, int bi, int cat, int pos, const cJSON *q, gl_req_t *g, char *err)
{
    char pre[128];
    snprintf(pre, sizeof pre, "benchmarks[%d].requests.%s[%d]", bi, cat_name[cat], pos);
    int rc;
    memset(g, 0, sizeof *g);
    g->cat = cat;
    g->pos = pos;
    g->prompt = g->out = g->log_in = g->log_out = -1;
    g->ttft_ms = g->e2e = g->started = NAN;
    if (!cJSON_IsObject(q))
        return tam_fail(err, TAM_EFIELD, "%s: %s: expected an object", file, pre);
    cJSON *pt = json_get(q, "prompt_tokens"), *ot = json_get(q, "output_tokens");
    if (cat == CAT_OK || (pt && !cJSON_IsNull(pt)))
        if ((rc = json_int(file, pre, "prompt_tokens", pt, cat == CAT_OK ? 1 : 0, INT_MAX, &g->prompt, err)))
            return rc;
    if (g->prompt == 0)
        g->prompt = -1; /* a failed request's 0: no count (see the header) */
    if (cat == CAT_OK || (ot && !cJSON_IsNull(ot)))
        if ((rc = json_int(file, pre, "output_tokens", ot, cat == CAT_OK ? 1 : 0, INT_MAX, &g->out, err)))
            return rc;
    cJSON *rs = json_get(q, "request_start_time");
    if (rs && !cJSON_IsNull(rs) && (rc = json_num(file, pre, "request_start_time", rs, &g->started, err)))
        return rc;
    char tpre[160];
    snprintf(tpre, sizeof tpre, "%s.info.timings", pre);
    cJSON *ts = json_get(json_get(json_get(q, "info"), "timings"), "targeted_start");
    double target = NAN;
    if (ts && !cJSON_IsNull(ts) && (rc = json_num(file, tpre, "targeted_start", ts, &target, err)))
        return rc;
    if (isnan(target) && isnan(g->started))
        return tam_fail(err, TAM_EFIELD, "%s: %s: neither info.timings.targeted_start nor request_start_time",
                        file, pre);
    g->k1 = isnan(target) ? g->started : target;
    g->k2 = isnan(g->started) ? g->k1 : g->started;
    if (cat == CAT_OK) {
        if ((rc = json_num(file, pre, "time_to_first_token_ms", json_get(q, "time_to_first_token_ms"), &g->ttft_ms, err)) ||
            (rc = json_num(file, pre, "request_latency", json_get(q, "request_latency"), &g->e2e, err)))
            return rc;
        if (g->ttft_ms < 0 || g->e2e < g->ttft_ms / 1000.0)
            return tam_fail(err, TAM_EFIELD,
                            "%s: %s: need 0 <= time_to_first_token_ms/1000 <= request_latency, got %.9g ms, %.9g s",
                            file, pre, g->ttft_ms, g->e2e);
    }
    return TAM_OK;
}

/* Compare metrics.<metric>.successful.{mean,count} with ours. */
static int check_metric(const char *file, const char *bpre, const cJSON *metrics, const char *metric,
                        double ours_mean, int n_ok, trace_t *t, char *err)
{
    char pre[160];
    snprintf(pre, sizeof pre, "%s.metrics.%s.successful", bpre, metric);
    const cJSON *m = json_get(json_get(metrics, metric), "successful");
    int rc, cnt;
    double mean;
    if ((rc = json_object(file, "", pre, m, err)) ||
        (rc = json_int(file, pre, "count", json_get(m, "count"), 0, INT_MAX, &cnt, err)))
        return rc;
    if (cnt != n_ok)
        return tam_fail(err, TAM_ECHECK, "%s: %s.count: the tool says %d, the requests give %d", file, pre, cnt, n_ok);
    t->n_checks++;
    if (n_ok == 0)
        return TAM_OK;
    if ((rc = json_num(file, pre, "mean", json_get(m, "mean"), &mean, err)))
        return rc;
    double rel = trace_rel(ours_mean, mean);
    if (!(rel <= GL_CHECK_REL))
        return tam_fail(err, TAM_ECHECK,
                        "%s: %s.mean: the tool says %.17g, the requests give %.17g (relative difference %.3g > %g)",
                        file, pre, mean, ours_mean, rel, GL_CHECK_REL);
    if (rel > t->check_max_rel)
        t->check_max_rel = rel;
    t->n_checks++;
    return TAM_OK;
}

/* {====== trace_load_guidellm, phase by phase ======
** What the phases share: the folder's documents, vllm.log's findings and the
** requests of each benchmark, sorted in the recorded schedule. */
typedef struct {
    const char *dir;
    trace_build_t b;
    trace_t *t;
    yu_doc_t ec, pf;     /* exp-config.yaml, profile.yaml */
    cJSON *j;            /* guidellm-results.json */
    vlog_t vl;           /* vllm.log */
    int prefix;          /* profile.yaml data.prefix_tokens */
    gl_req_t **br;       /* per benchmark, sorted */
    int *bn, n_b;
    int nom_in, nom_out; /* the profile's nominal request; -1 until read */
    char file[1024];     /* guidellm-results.json */
} gl_load_t;

/* exp-config.yaml (limits), profile.yaml (shared prefix) and vllm.log. */
static int gl_configs(gl_load_t *L, char *err)
{
    trace_t *t = L->t;
    char path[1024];
    int rc;
    if ((rc = trace_join(path, sizeof path, L->dir, "exp-config.yaml", err)) ||
        (rc = yu_load(&L->ec, path, err)) ||
        (rc = yu_str(&L->ec, "model", t->model_id, sizeof t->model_id, err)) ||
        (rc = yu_int(&L->ec, "tensor_parallelism", 1, 4096, &t->tp, err)) ||
        (rc = yu_int(&L->ec, "max_model_len", 1, INT_MAX, &t->max_model_len, err)) ||
        (rc = yu_int(&L->ec, "max_num_batched_tokens", 1, INT_MAX, &t->max_num_batched_tokens, err)) ||
        (rc = yu_int(&L->ec, "max_num_seqs", 1, INT_MAX, &t->max_num_seqs, err)))
        return rc;
    if ((rc = trace_join(path, sizeof path, L->dir, "profile.yaml", err)) ||
        (rc = yu_load(&L->pf, path, err)) ||
        (rc = yu_int(&L->pf, "data.prefix_tokens", 0, INT_MAX, &L->prefix, err)))
        return rc;
    t->n_prefix_groups = L->prefix > 0 ? 1 : 0;
    t->prefix_len = L->prefix;
    t->users_per_group = 0;
    if ((rc = trace_join(path, sizeof path, L->dir, "vllm.log", err)) || (rc = read_vllm_log(path, &L->vl, err)))
        return rc;
    t->kv_blocks = L->vl.kv_blocks;
    snprintf(t->vllm_version, sizeof t->vllm_version, "%s", L->vl.version);
    t->block_size = L->vl.block_size;
    return TAM_OK;
}

/* guidellm-results.json: its benchmarks array, and room for their requests. */
static int gl_results(gl_load_t *L, char *err)
{
    int rc;
    if ((rc = trace_join(L->file, sizeof L->file, L->dir, "guidellm-results.json", err)) ||
        (rc = json_parse_file(L->file, &L->j, err)))
        return rc;
    if ((rc = json_array(L->file, "", "benchmarks", json_get(L->j, "benchmarks"), &L->n_b, err)))
        return rc;
    if (L->n_b == 0)
        return tam_fail(err, TAM_EFIELD, "%s: benchmarks: empty", L->file);
    L->br = calloc((size_t)L->n_b, sizeof *L->br);
    L->bn = calloc((size_t)L->n_b, sizeof *L->bn);
    if (!L->br || !L->bn)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", L->file);
    return TAM_OK;
}

/* Benchmark bi's strategy as a new load point. */
static int gl_point(gl_load_t *L, int bi, const cJSON *bj, const char *bpre, trace_point_t **pp, char *err)
{
    const char *file = L->file;
    char spre[96];
    int rc;
    snprintf(spre, sizeof spre, "%s.config.strategy", bpre);
    cJSON *strat = json_get(json_get(bj, "config"), "strategy");
    if ((rc = json_object(file, bpre, "config.strategy", strat, err)))
        return rc;
    cJSON *ty = json_get(strat, "type_");
    if (!cJSON_IsString(ty))
        return tam_fail(err, TAM_EFIELD, "%s: %s.type_: %s", file, spre, ty ? "expected a string" : "missing");
    trace_point_t *p = tb_point(&L->b, err);
    if (!p)
        return TAM_ENOMEM;
    *pp = p;
    p->unit = bi;
    p->warm_prefix = bi > 0;
    if (strcmp(ty->valuestring, "synchronous") == 0) {
        p->kind = ARR_SYNCHRONOUS;
        snprintf(p->name, sizeof p->name, "synchronous");
    } else if (strcmp(ty->valuestring, "throughput") == 0) {
        p->kind = ARR_THROUGHPUT;
        snprintf(p->name, sizeof p->name, "throughput");
    } else if (strcmp(ty->valuestring, "constant") == 0 || strcmp(ty->valuestring, "poisson") == 0) {
        p->kind = ty->valuestring[0] == 'c' ? ARR_CONSTANT : ARR_POISSON;
        if ((rc = json_num(file, spre, "rate", json_get(strat, "rate"), &p->rate, err)))
            return rc;
        /* Bounded like inference-perf's stage rates: a rate such as 1e-320
        ** is > 0 but makes t_send = i / rate infinite (tb_finish asserts
        ** finite send times) and Poisson gaps overflow too. */
        if (!(p->rate >= 1e-9 && p->rate <= 1e9))
            return tam_fail(err, TAM_EFIELD, "%s: %s.rate: must be in [1e-9, 1e9] requests/s, got %g",
                            file, spre, p->rate);
        snprintf(p->name, sizeof p->name, "%s@%.3f", ty->valuestring, p->rate);
    } else {
        return tam_fail(err, TAM_EFIELD, "%s: %s.type_: unknown strategy \"%.40s\"", file, spre, ty->valuestring);
    }
    cJSON *mc = json_get(strat, "max_concurrency");
    if (mc && !cJSON_IsNull(mc) && (rc = json_int(file, spre, "max_concurrency", mc, 0, INT_MAX, &p->max_concurrency, err)))
        return rc;
    cJSON *du = json_get(bj, "duration");
    if (du && !cJSON_IsNull(du) && (rc = json_num(file, bpre, "duration", du, &p->t_end, err)))
        return rc;
    return TAM_OK;
}

/* Benchmark bi's requests (successful, errored, incomplete), sorted; ln[]
** gets each list's length, sum_ttft/sum_e2e the successful ones' sums. */
static int gl_requests(gl_load_t *L, int bi, const cJSON *bj, const char *bpre, int ln[3],
                       double *sum_ttft, double *sum_e2e, char *err)
{
    const char *file = L->file;
    cJSON *rq = json_get(bj, "requests");
    cJSON *lists[3];
    int rc;
    if ((rc = json_object(file, bpre, "requests", rq, err)))
        return rc;
    for (int c = 0; c < 3; c++) {
        char rpre[64];
        snprintf(rpre, sizeof rpre, "%s.requests", bpre);
        lists[c] = json_get(rq, cat_name[c]);
        if (c > 0 && (!lists[c] || cJSON_IsNull(lists[c])))
            continue; /* errored/incomplete may be absent */
        if ((rc = json_array(file, rpre, cat_name[c], lists[c], &ln[c], err)))
            return rc;
    }
    int n = ln[0] + ln[1] + ln[2];
    L->br[bi] = malloc((size_t)(n > 0 ? n : 1) * sizeof **L->br);
    if (!L->br[bi])
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", file);
    int k = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < ln[c]; i++) {
            gl_req_t *g = &L->br[bi][k++];
            if ((rc = read_req(file, bi, c, i, cJSON_GetArrayItem(lists[c], i), g, err)))
                return rc;
            if (c == CAT_OK) {
                *sum_ttft += g->ttft_ms;
                *sum_e2e += g->e2e;
            }
        }
    L->bn[bi] = n;
    qsort(L->br[bi], (size_t)n, sizeof **L->br, cmp_gl);
    return TAM_OK;
}

/* Benchmark bi's self-check: request totals and the successful means. */
static int gl_selfcheck(gl_load_t *L, const cJSON *bj, const char *bpre, const int ln[3], double sum_ttft,
                        double sum_e2e, char *err)
{
    const char *file = L->file;
    cJSON *metrics = json_get(bj, "metrics");
    cJSON *tot = json_get(metrics, "request_totals");
    char mpre[96];
    int rc;
    snprintf(mpre, sizeof mpre, "%s.metrics.request_totals", bpre);
    if ((rc = json_object(file, bpre, "metrics.request_totals", tot, err)))
        return rc;
    for (int c = 0; c < 3; c++) {
        int v;
        if ((rc = json_int(file, mpre, cat_name[c], json_get(tot, cat_name[c]), 0, INT_MAX, &v, err)))
            return rc;
        if (v != ln[c])
            return tam_fail(err, TAM_ECHECK, "%s: %s.%s: the tool says %d, the requests list has %d", file,
                            mpre, cat_name[c], v, ln[c]);
        L->t->n_checks++;
    }
    if ((rc = check_metric(file, bpre, metrics, "time_to_first_token_ms", ln[0] ? sum_ttft / ln[0] : 0, ln[0], L->t, err)) ||
        (rc = check_metric(file, bpre, metrics, "request_latency", ln[0] ? sum_e2e / ln[0] : 0, ln[0], L->t, err)))
        return rc;
    return TAM_OK;
}

/* Pass 1: points, requests per benchmark (sorted), self-checks; then the
** lowest and highest points. */
static int gl_benchmarks(gl_load_t *L, char *err)
{
    trace_t *t = L->t;
    cJSON *bs = json_get(L->j, "benchmarks");
    int has_sync = 0, rc;
    double top_rate = -1;
    for (int bi = 0; bi < L->n_b; bi++) {
        cJSON *bj = cJSON_GetArrayItem(bs, bi);
        char bpre[48];
        snprintf(bpre, sizeof bpre, "benchmarks[%d]", bi);
        trace_point_t *p = NULL;
        int ln[3] = {0, 0, 0};
        double sum_ttft = 0, sum_e2e = 0;
        if ((rc = gl_point(L, bi, bj, bpre, &p, err)) ||
            (rc = gl_requests(L, bi, bj, bpre, ln, &sum_ttft, &sum_e2e, err)) ||
            (rc = gl_selfcheck(L, bj, bpre, ln, sum_ttft, sum_e2e, err)))
            return rc;
        if (p->kind == ARR_SYNCHRONOUS && !has_sync) {
            p->is_lowest = 1;
            has_sync = 1;
        }
        if (p->kind == ARR_THROUGHPUT)
            p->is_highest = 1;
        if ((p->kind == ARR_CONSTANT || p->kind == ARR_POISSON) && p->rate > top_rate)
            top_rate = p->rate;
    }
    if (!has_sync)
        t->points[0].is_lowest = 1;
    for (int bi = 0; bi < L->n_b; bi++)
        if ((t->points[bi].kind == ARR_CONSTANT || t->points[bi].kind == ARR_POISSON) && t->points[bi].rate == top_rate)
            t->points[bi].is_highest = 1;
    return TAM_OK;
}

/* Requests that got no usage back: recover their tokens from vllm.log. */
static int gl_recover_from_log(gl_load_t *L, char *err)
{
    gl_req_t **br = L->br;
    int n_nu = 0;
    for (int bi = 0; bi < L->n_b; bi++)
        for (int i = 0; i < L->bn[bi]; i++)
            n_nu += br[bi][i].cat != CAT_OK && br[bi][i].out < 0 && br[bi][i].prompt >= 0;
    if (n_nu == 0 || n_nu != L->vl.n_rej)
        return TAM_OK;
    gl_req_t **v = malloc((size_t)n_nu * sizeof *v);
    if (!v)
        return tam_fail(err, TAM_ENOMEM, "%s: out of memory", L->file);
    int m = 0;
    for (int bi = 0; bi < L->n_b; bi++)
        for (int i = 0; i < L->bn[bi]; i++)
            if (br[bi][i].cat != CAT_OK && br[bi][i].out < 0 && br[bi][i].prompt >= 0)
                v[m++] = &br[bi][i];
    /* send order over the whole run (benchmarks ran one after another) */
    for (int a = 1; a < m; a++)
        for (int c = a; c > 0 && v[c]->k2 < v[c - 1]->k2; c--) {
            gl_req_t *x = v[c];
            v[c] = v[c - 1];
            v[c - 1] = x;
        }
    int plausible = 1;
    for (int a = 0; a < m; a++) {
        double est = (double)v[a]->prompt + L->prefix, got = L->vl.rej_in[a];
        int mt = L->t->max_model_len - L->vl.rej_ctx[a];
        if (fabs(got - est) > 0.05 * got || mt < 0)
            plausible = 0;
    }
    for (int a = 0; plausible && a < m; a++) {
        v[a]->log_in = L->vl.rej_in[a];
        v[a]->log_out = L->t->max_model_len - L->vl.rej_ctx[a];
    }
    free(v);
    return TAM_OK;
}

/* The request's tokens: recorded, from vllm.log, the client's estimate or,
** with no count at all, the profile's nominal request. */
static int gl_tokens(gl_load_t *L, int bi, const gl_req_t *g, trace_req_t *r, char *err)
{
    int prefix = L->prefix, rc;
    if (g->prompt < 0) { /* a failed request with no count: the profile's nominal one */
        if (L->nom_in < 0) {
            int np, no;
            if ((rc = yu_int(&L->pf, "data.prompt_tokens", 1, INT_MAX, &np, err)) ||
                (rc = yu_int(&L->pf, "data.output_tokens", 1, INT_MAX, &no, err)))
                return rc;
            if ((long long)np + prefix > INT_MAX)
                return tam_fail(err, TAM_EFIELD,
                                "%s/profile.yaml: data.prompt_tokens %d + data.prefix_tokens %d is more "
                                "than %d tokens", L->dir, np, prefix, INT_MAX);
            L->nom_in = np + prefix;
            L->nom_out = no;
        }
        r->in_tokens = L->nom_in;
        r->out_tokens = g->out >= 1 ? g->out : L->nom_out;
        r->tok_src = TRACE_TOK_NOMINAL;
    } else if (g->out >= 0) {
        r->in_tokens = g->prompt;
        r->out_tokens = g->out;
        r->tok_src = TRACE_TOK_SOURCE;
    } else if (g->log_in >= 0) {
        r->in_tokens = g->log_in;
        r->out_tokens = g->log_out;
        r->tok_src = TRACE_TOK_SERVER_LOG;
    } else {
        /* both are up to INT_MAX: add in long long */
        if ((long long)g->prompt + prefix > INT_MAX)
            return tam_fail(err, TAM_EFIELD,
                            "%s: benchmarks[%d].requests.%s[%d].prompt_tokens: %d + data.prefix_tokens %d "
                            "is more than %d tokens",
                            L->file, bi, cat_name[g->cat], g->pos, g->prompt, prefix, INT_MAX);
        r->in_tokens = g->prompt + prefix;
        r->out_tokens = 1;
        r->tok_src = TRACE_TOK_CLIENT_EST;
    }
    return TAM_OK;
}

/* Pass 2: the trace's requests. */
static int gl_trace_requests(gl_load_t *L, char *err)
{
    int index = 0, prefix = L->prefix, rc;
    L->nom_in = L->nom_out = -1;
    for (int bi = 0; bi < L->n_b; bi++) {
        const trace_point_t *p = &L->t->points[bi];
        double origin = L->bn[bi] > 0 ? L->br[bi][0].k1 : 0;
        for (int i = 0; i < L->bn[bi]; i++) {
            const gl_req_t *g = &L->br[bi][i];
            trace_req_t *r = tb_req(&L->b, err);
            if (!r)
                return TAM_ENOMEM;
            r->index = index++;
            r->point = bi;
            r->t_send = p->kind == ARR_CONSTANT ? i / p->rate : 0.0;
            r->t_recorded = isnan(g->started) ? NAN : g->started - origin;
            r->prefix_group = prefix > 0 ? 0 : -1;
            r->group_recorded = prefix > 0;
            r->prefix_tokens = prefix;
            r->out_client = -1;
            if ((rc = gl_tokens(L, bi, g, r, err)))
                return rc;
            r->ok = g->cat == CAT_OK;
            if (r->ok) {
                r->ttft = g->ttft_ms / 1000.0;
                r->e2e = g->e2e;
            }
        }
    }
    return TAM_OK;
}

static void gl_free(gl_load_t *L)
{
    yu_free(&L->ec);
    yu_free(&L->pf);
    cJSON_Delete(L->j);
    if (L->br)
        for (int bi = 0; bi < L->n_b; bi++)
            free(L->br[bi]);
    free(L->br);
    free(L->bn);
    free(L->vl.rej_in);
    free(L->vl.rej_ctx);
}

/* }====== */

int trace_load_guidellm(const char *dir, trace_t **out, char *err)
{
    *out = NULL;
    gl_load_t L = {0};
    L.dir = dir;
    int rc = tb_init(&L.b, dir, "guidellm", err);
    if (rc)
        return rc;
    L.t = L.b.t;
    if ((rc = gl_configs(&L, err)) || (rc = gl_results(&L, err)) || (rc = gl_benchmarks(&L, err)))
        goto fail;
    cJSON_Delete(L.j);
    L.j = NULL;
    if ((rc = gl_recover_from_log(&L, err)) || (rc = gl_trace_requests(&L, err)))
        goto fail;
    gl_free(&L);
    return tb_finish(&L.b, out, err);

fail:
    gl_free(&L);
    tb_abort(&L.b);
    return rc ? rc : TAM_EFIELD;
}
