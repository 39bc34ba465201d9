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

int trace_load_guidellm(const char *dir, trace_t **out, char *err)
{
    *out = NULL;
    trace_build_t b;
    int rc = tb_init(&b, dir, "guidellm", err);
    if (rc)
        return rc;
    trace_t *t = b.t;
    yu_doc_t ec = {0}, pf = {0};
    cJSON *j = NULL;
    vlog_t vl = {0};
    gl_req_t **br = NULL; /* per benchmark, sorted */
    int *bn = NULL, n_b = 0;
    char path[1024], file[1024];

    if ((rc = trace_join(path, sizeof path, dir, "exp-config.yaml", err)) ||
        (rc = yu_load(&ec, path, err)) ||
        (rc = yu_str(&ec, "model", t->model_id, sizeof t->model_id, err)) ||
        (rc = yu_int(&ec, "tensor_parallelism", 1, 4096, &t->tp, err)) ||
        (rc = yu_int(&ec, "max_model_len", 1, INT_MAX, &t->max_model_len, err)) ||
        (rc = yu_int(&ec, "max_num_batched_tokens", 1, INT_MAX, &t->max_num_batched_tokens, err)) ||
        (rc = yu_int(&ec, "max_num_seqs", 1, INT_MAX, &t->max_num_seqs, err)))
        goto fail;
    int prefix;
    if ((rc = trace_join(path, sizeof path, dir, "profile.yaml", err)) ||
        (rc = yu_load(&pf, path, err)) ||
        (rc = yu_int(&pf, "data.prefix_tokens", 0, INT_MAX, &prefix, err)))
        goto fail;
    t->n_prefix_groups = prefix > 0 ? 1 : 0;
    t->prefix_len = prefix;
    t->users_per_group = 0;
    if ((rc = trace_join(path, sizeof path, dir, "vllm.log", err)) || (rc = read_vllm_log(path, &vl, err)))
        goto fail;
    t->kv_blocks = vl.kv_blocks;
    snprintf(t->vllm_version, sizeof t->vllm_version, "%s", vl.version);
    t->block_size = vl.block_size;

    if ((rc = trace_join(file, sizeof file, dir, "guidellm-results.json", err)) ||
        (rc = json_parse_file(file, &j, err)))
        goto fail;
    cJSON *bs = json_get(j, "benchmarks");
    if ((rc = json_array(file, "", "benchmarks", bs, &n_b, err)))
        goto fail;
    if (n_b == 0) {
        rc = tam_fail(err, TAM_EFIELD, "%s: benchmarks: empty", file);
        goto fail;
    }
    br = calloc((size_t)n_b, sizeof *br);
    bn = calloc((size_t)n_b, sizeof *bn);
    if (!br || !bn) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", file);
        goto fail;
    }

    /* Pass 1: points, requests per benchmark (sorted), self-checks. */
    int has_sync = 0;
    double top_rate = -1;
    for (int bi = 0; bi < n_b; bi++) {
        cJSON *bj = cJSON_GetArrayItem(bs, bi);
        char bpre[48];
        snprintf(bpre, sizeof bpre, "benchmarks[%d]", bi);
        char spre[96];
        snprintf(spre, sizeof spre, "%s.config.strategy", bpre);
        cJSON *strat = json_get(json_get(bj, "config"), "strategy");
        if ((rc = json_object(file, bpre, "config.strategy", strat, err)))
            goto fail;
        cJSON *ty = json_get(strat, "type_");
        if (!cJSON_IsString(ty)) {
            rc = tam_fail(err, TAM_EFIELD, "%s: %s.type_: %s", file, spre, ty ? "expected a string" : "missing");
            goto fail;
        }
        trace_point_t *p = tb_point(&b, err);
        if (!p) {
            rc = TAM_ENOMEM;
            goto fail;
        }
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
                goto fail;
            /* Bounded like inference-perf's stage rates: a rate such as 1e-320
            ** is > 0 but makes t_send = i / rate infinite (tb_finish asserts
            ** finite send times) and Poisson gaps overflow too. */
            if (!(p->rate >= 1e-9 && p->rate <= 1e9)) {
                rc = tam_fail(err, TAM_EFIELD, "%s: %s.rate: must be in [1e-9, 1e9] requests/s, got %g",
                              file, spre, p->rate);
                goto fail;
            }
            snprintf(p->name, sizeof p->name, "%s@%.3f", ty->valuestring, p->rate);
        } else {
            rc = tam_fail(err, TAM_EFIELD, "%s: %s.type_: unknown strategy \"%.40s\"", file, spre, ty->valuestring);
            goto fail;
        }
        cJSON *mc = json_get(strat, "max_concurrency");
        if (mc && !cJSON_IsNull(mc) && (rc = json_int(file, spre, "max_concurrency", mc, 0, INT_MAX, &p->max_concurrency, err)))
            goto fail;
        cJSON *du = json_get(bj, "duration");
        if (du && !cJSON_IsNull(du) && (rc = json_num(file, bpre, "duration", du, &p->t_end, err)))
            goto fail;

        /* requests */
        cJSON *rq = json_get(bj, "requests");
        cJSON *lists[3];
        int ln[3] = {0, 0, 0};
        if ((rc = json_object(file, bpre, "requests", rq, err)))
            goto fail;
        for (int c = 0; c < 3; c++) {
            char rpre[64];
            snprintf(rpre, sizeof rpre, "%s.requests", bpre);
            lists[c] = json_get(rq, cat_name[c]);
            if (c > 0 && (!lists[c] || cJSON_IsNull(lists[c])))
                continue; /* errored/incomplete may be absent */
            if ((rc = json_array(file, rpre, cat_name[c], lists[c], &ln[c], err)))
                goto fail;
        }
        int n = ln[0] + ln[1] + ln[2];
        br[bi] = malloc((size_t)(n > 0 ? n : 1) * sizeof **br);
        if (!br[bi]) {
            rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", file);
            goto fail;
        }
        int k = 0;
        double sum_ttft = 0, sum_e2e = 0;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < ln[c]; i++) {
                gl_req_t *g = &br[bi][k++];
                if ((rc = read_req(file, bi, c, i, cJSON_GetArrayItem(lists[c], i), g, err)))
                    goto fail;
                if (c == CAT_OK) {
                    sum_ttft += g->ttft_ms;
                    sum_e2e += g->e2e;
                }
            }
        bn[bi] = n;
        qsort(br[bi], (size_t)n, sizeof **br, cmp_gl);

        /* self-check */
        cJSON *metrics = json_get(bj, "metrics");
        cJSON *tot = json_get(metrics, "request_totals");
        char mpre[96];
        snprintf(mpre, sizeof mpre, "%s.metrics.request_totals", bpre);
        if ((rc = json_object(file, bpre, "metrics.request_totals", tot, err)))
            goto fail;
        for (int c = 0; c < 3; c++) {
            int v;
            if ((rc = json_int(file, mpre, cat_name[c], json_get(tot, cat_name[c]), 0, INT_MAX, &v, err)))
                goto fail;
            if (v != ln[c]) {
                rc = tam_fail(err, TAM_ECHECK, "%s: %s.%s: the tool says %d, the requests list has %d", file,
                              mpre, cat_name[c], v, ln[c]);
                goto fail;
            }
            t->n_checks++;
        }
        if ((rc = check_metric(file, bpre, metrics, "time_to_first_token_ms", ln[0] ? sum_ttft / ln[0] : 0, ln[0], t, err)) ||
            (rc = check_metric(file, bpre, metrics, "request_latency", ln[0] ? sum_e2e / ln[0] : 0, ln[0], t, err)))
            goto fail;

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
    for (int bi = 0; bi < n_b; bi++)
        if ((t->points[bi].kind == ARR_CONSTANT || t->points[bi].kind == ARR_POISSON) && t->points[bi].rate == top_rate)
            t->points[bi].is_highest = 1;
    cJSON_Delete(j);
    j = NULL;

    /* Requests that got no usage back: recover their tokens from vllm.log. */
    {
        int n_nu = 0;
        for (int bi = 0; bi < n_b; bi++)
            for (int i = 0; i < bn[bi]; i++)
                n_nu += br[bi][i].cat != CAT_OK && br[bi][i].out < 0 && br[bi][i].prompt >= 0;
        if (n_nu > 0 && n_nu == vl.n_rej) {
            gl_req_t **v = malloc((size_t)n_nu * sizeof *v);
            if (!v) {
                rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", file);
                goto fail;
            }
            int m = 0;
            for (int bi = 0; bi < n_b; bi++)
                for (int i = 0; i < bn[bi]; i++)
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
                double est = (double)v[a]->prompt + prefix, got = vl.rej_in[a];
                int mt = t->max_model_len - vl.rej_ctx[a];
                if (fabs(got - est) > 0.05 * got || mt < 0)
                    plausible = 0;
            }
            for (int a = 0; plausible && a < m; a++) {
                v[a]->log_in = vl.rej_in[a];
                v[a]->log_out = t->max_model_len - vl.rej_ctx[a];
            }
            free(v);
        }
    }

    /* Pass 2: the trace's requests. */
    {
        int index = 0, nom_in = -1, nom_out = -1;
        for (int bi = 0; bi < n_b; bi++) {
            const trace_point_t *p = &t->points[bi];
            double origin = bn[bi] > 0 ? br[bi][0].k1 : 0;
            for (int i = 0; i < bn[bi]; i++) {
                const gl_req_t *g = &br[bi][i];
                trace_req_t *r = tb_req(&b, err);
                if (!r) {
                    rc = TAM_ENOMEM;
                    goto fail;
                }
                r->index = index++;
                r->point = bi;
                r->t_send = p->kind == ARR_CONSTANT ? i / p->rate : 0.0;
                r->t_recorded = isnan(g->started) ? NAN : g->started - origin;
                r->prefix_group = prefix > 0 ? 0 : -1;
                r->group_recorded = prefix > 0;
                r->prefix_tokens = prefix;
                r->out_client = -1;
                if (g->prompt < 0) { /* a failed request with no count: the profile's nominal one */
                    if (nom_in < 0) {
                        int np, no;
                        if ((rc = yu_int(&pf, "data.prompt_tokens", 1, INT_MAX, &np, err)) ||
                            (rc = yu_int(&pf, "data.output_tokens", 1, INT_MAX, &no, err)))
                            goto fail;
                        if ((long long)np + prefix > INT_MAX) {
                            rc = tam_fail(err, TAM_EFIELD,
                                          "%s/profile.yaml: data.prompt_tokens %d + data.prefix_tokens %d is more "
                                          "than %d tokens", dir, np, prefix, INT_MAX);
                            goto fail;
                        }
                        nom_in = np + prefix;
                        nom_out = no;
                    }
                    r->in_tokens = nom_in;
                    r->out_tokens = g->out >= 1 ? g->out : nom_out;
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
                    if ((long long)g->prompt + prefix > INT_MAX) {
                        rc = tam_fail(err, TAM_EFIELD,
                                      "%s: benchmarks[%d].requests.%s[%d].prompt_tokens: %d + data.prefix_tokens %d "
                                      "is more than %d tokens",
                                      file, bi, cat_name[g->cat], g->pos, g->prompt, prefix, INT_MAX);
                        goto fail;
                    }
                    r->in_tokens = g->prompt + prefix;
                    r->out_tokens = 1;
                    r->tok_src = TRACE_TOK_CLIENT_EST;
                }
                r->ok = g->cat == CAT_OK;
                if (r->ok) {
                    r->ttft = g->ttft_ms / 1000.0;
                    r->e2e = g->e2e;
                }
            }
        }
    }

    yu_free(&ec);
    yu_free(&pf);
    for (int bi = 0; bi < n_b; bi++)
        free(br[bi]);
    free(br);
    free(bn);
    free(vl.rej_in);
    free(vl.rej_ctx);
    return tb_finish(&b, out, err);

fail:
    yu_free(&ec);
    yu_free(&pf);
    cJSON_Delete(j);
    if (br)
        for (int bi = 0; bi < n_b; bi++)
            free(br[bi]);
    free(br);
    free(bn);
    free(vl.rej_in);
    free(vl.rej_ctx);
    tb_abort(&b);
    return rc ? rc : TAM_EFIELD;
}
