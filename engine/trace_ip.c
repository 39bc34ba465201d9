/* engine/trace_ip.c - inference-perf runs (replay_data/ + profile + results/).
**
** Files: exp-config.yaml (server limits), profile.yaml (JSON-syntax YAML:
** data.shared_prefix, load.stages, server.ignore_eos), replay_data/<id>.json
** (requests, KV config), replay_data/<id>_ground_truth.json (TTFT, E2E,
** joined on index), results/{stage_N,summary}_lifecycle_metrics.json (the
** tool's own aggregates, used as a self-check).
**
** Invariants: all or nothing (every error path ends in tb_abort, *out NULL);
** the cJSON trees are deleted before return; every request is joined to
** exactly one ground-truth entry (same index, same has_error).
**
** Decisions (docs/CORPUS.md rules 1, 3, 4, 5):
**   - one simulation unit (0) holds every stage: the stages ran back to back on
**     one server.  (Measured: inference-perf drains a stage before starting
**     the next one, so the server is empty at each stage boundary.)
**   - load point = the stage whose nominal window [sum of previous durations,
**     + duration) holds arrival_time_us.  The next stage really starts a few
**     seconds late (the drain), so the last stage's arrivals run past its
**     nominal end; arrivals at or past the end of the last window are clamped
**     into the last stage.  Windows (t_start, t_end) stay nominal, so such
**     requests have t_send >= t_end of their point.
**   - t_send = arrival_time_us / 1e6 (the replay counts from the first request).
**   - out_tokens = profile output_len when server.ignore_eos is true (the
**     server generated exactly that many); out_client = the replay's client
**     re-tokenised count.  When ignore_eos is false, out_tokens = the client
**     count and out_client = -1 (same source).
**   - shared prefix: inference-perf's shared_prefix generator builds a pool
**     of prompts (system prompt + question) once and request i sends prompt
**     i mod (pool size) (kubernetes-sigs/inference-perf, datagen/
**     shared_prefix_datagen.py, load_lazy_data).  Every corpus run repeats
**     its input token counts with period 100 (98-99.8% of requests equal the
**     one 100 before), and its measured TTFT drops after the first 100
**     requests (median 87.5 -> 52 ms on 70B TP4 codegen: from then on the
**     whole prompt is in the prefix cache).  trace_infer_prompt_pool finds
**     the period and gives each request the group (index mod P) with its
**     whole prompt shareable.  Where no period is found, every request
**     carries prefix_tokens = system_prompt_len and prefix_group = -1: which
**     of the num_unique_system_prompts groups a request used is not recorded
**     (trace_assign_prefix_groups draws it from a seeded stream).  A
**     non-empty recorded replay prefix_group is kept.
**   - has_error requests stay in the load with ok = 0, NaN latencies, and
**     never make the run fail, whatever tokens they record.  An overloaded
**     run's failed requests can record 0 input and 0 output tokens
**     (inference-perf-overload/...-reasoning: 4 of 4800).  What they put on
**     the server, from the files: the tool drew them from the same profile
**     as their neighbours (one shared_prefix spec, ignore_eos); the ground
**     truth gives them 300.08-300.47 s of E2E (results/ failures.
**     request_latency), the same as their successful neighbours (299.6-300.4
**     s: queued ~261 s, then decoded the whole output_len), so they were
**     cut off by the client's 300 s timeout near the end of a full-length
**     request, not refused up front.  So a failed request whose input count
**     is 0 carries the run's typical prompt: the lower median of the
**     successful requests' input_tokens (the recorded prompts run 25-47
**     tokens above the profile's nominal system_prompt_len + question_len,
**     template tokens, so the nominal would undercount), or that nominal sum
**     when no request succeeded; its output is output_len as for every
**     request under ignore_eos (without ignore_eos, a failed request's 0 is
**     output_len too).  Such requests get tok_src = TRACE_TOK_NOMINAL and
**     out_client keeps the recorded 0.  A successful request with 0 input
**     tokens is still an error.  The self-check is unaffected: the tool's
**     summaries count failures (failures.count) and average successes only.
**   - the replay config must agree with exp-config.yaml (TP, max_num_seqs,
**     max_num_batched_tokens); a disagreement is an error.
**   - self-check: for each results/stage_N_lifecycle_metrics.json and
**     summary_lifecycle_metrics.json present, successes.count, failures.count
**     and the means of successes.latency.request_latency / time_to_first_token
**     must equal the per-request data (counts exactly, means to 1e-9
**     relative); a mismatch is TAM_ECHECK.  Missing results files are skipped
**     (t->n_checks counts the comparisons made).
*/
#include "trace_int.h"
#include "yamlutil.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP_CHECK_REL 1e-9

typedef struct {
    int index;
    int has_error;
    double e2e, ttft;
} gt_t;

static int cmp_gt(const void *a, const void *b)
{
    const gt_t *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

/* replay_data/<id>.json, or the only <name>.json with a <name>_ground_truth.json. */
static int find_replay(const char *dir, const char *id, char *rp, char *gp, size_t cap, char *err)
{
    char rd[1024], name[600];
    int rc;
    if ((rc = trace_join(rd, sizeof rd, dir, "replay_data", err)))
        return rc;
    snprintf(name, sizeof name, "%s.json", id);
    if ((rc = trace_join(rp, cap, rd, name, err)))
        return rc;
    snprintf(name, sizeof name, "%s_ground_truth.json", id);
    if ((rc = trace_join(gp, cap, rd, name, err)))
        return rc;
    if (trace_is_file(rp))
        return TAM_OK;
    DIR *dh = opendir(rd);
    if (!dh)
        return tam_fail(err, TAM_EIO, "%s: cannot open the folder", rd);
    int found = 0;
    struct dirent *e;
    char base[512] = "";
    while ((e = readdir(dh))) {
        size_t n = strlen(e->d_name);
        const char *gsuf = "_ground_truth.json";
        if (n <= 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        if (n >= strlen(gsuf) && strcmp(e->d_name + n - strlen(gsuf), gsuf) == 0)
            continue;
        if (n - 5 >= sizeof base)
            continue;
        found++;
        snprintf(base, sizeof base, "%.*s", (int)(n - 5), e->d_name);
    }
    closedir(dh);
    if (found != 1)
        return tam_fail(err, TAM_EIO, "%s: expected %s.json or exactly one replay .json, found %d",
                        rd, id, found);
    snprintf(name, sizeof name, "%s.json", base);
    if ((rc = trace_join(rp, cap, rd, name, err)))
        return rc;
    snprintf(name, sizeof name, "%s_ground_truth.json", base);
    return trace_join(gp, cap, rd, name, err);
}

/* Compare one lifecycle-metrics file with the per-request sums. */
static int check_lifecycle(const char *file, int n_ok, int n_err, double sum_e2e,
                           double sum_ttft, trace_t *t, char *err)
{
    cJSON *j;
    int rc = json_parse_file(file, &j, err);
    if (rc)
        return rc;
    int cnt, fcnt;
    cJSON *succ = json_get(j, "successes"), *fail = json_get(j, "failures");
    if ((rc = json_object(file, "", "successes", succ, err)) ||
        (rc = json_int(file, "successes", "count", json_get(succ, "count"), 0, INT_MAX, &cnt, err)) ||
        (rc = json_object(file, "", "failures", fail, err)) ||
        (rc = json_int(file, "failures", "count", json_get(fail, "count"), 0, INT_MAX, &fcnt, err)))
        goto out;
    if (cnt != n_ok) {
        rc = tam_fail(err, TAM_ECHECK, "%s: successes.count: the tool says %d, the requests give %d",
                      file, cnt, n_ok);
        goto out;
    }
    if (fcnt != n_err) {
        rc = tam_fail(err, TAM_ECHECK, "%s: failures.count: the tool says %d, the requests give %d",
                      file, fcnt, n_err);
        goto out;
    }
    t->n_checks += 2;
    if (cnt > 0) {
        cJSON *lat = json_get(succ, "latency");
        static const char *keys[2] = {"request_latency", "time_to_first_token"};
        double ours[2] = {sum_e2e / n_ok, sum_ttft / n_ok};
        for (int k = 0; k < 2; k++) {
            char pre[96];
            snprintf(pre, sizeof pre, "successes.latency.%s", keys[k]);
            cJSON *m = json_get(lat, keys[k]);
            double theirs;
            if ((rc = json_object(file, "successes.latency", keys[k], m, err)) ||
                (rc = json_num(file, pre, "mean", json_get(m, "mean"), &theirs, err)))
                goto out;
            double rel = trace_rel(ours[k], theirs);
            if (!(rel <= IP_CHECK_REL)) {
                rc = tam_fail(err, TAM_ECHECK,
                              "%s: %s.mean: the tool says %.17g, the requests give %.17g "
                              "(relative difference %.3g > %g)",
                              file, pre, theirs, ours[k], rel, IP_CHECK_REL);
                goto out;
            }
            if (rel > t->check_max_rel)
                t->check_max_rel = rel;
            t->n_checks++;
        }
    }
out:
    cJSON_Delete(j);
    return rc;
}

#define POOL_MAX 1000

int trace_infer_prompt_pool(trace_t *t)
{
    int n = t->n_req;
    if (n < 4)
        return 0;
    /* Lag L compares the requests whose indexes differ by L: token counts
    ** are laid out by index (the indexes of a record are 0..n-1 in practice;
    ** a gap only removes pairs, and indexes spread far wider than the
    ** requests carry no cycle to find). */
    int lo = t->req[0].index, hi = lo;
    for (int i = 1; i < n; i++) {
        lo = t->req[i].index < lo ? t->req[i].index : lo;
        hi = t->req[i].index > hi ? t->req[i].index : hi;
    }
    long long span = (long long)hi - lo + 1;
    if (span > 4LL * n)
        return 0;
    int *tok = malloc(sizeof *tok * (size_t)span);
    if (!tok)
        return 0; /* no inference without memory: the trace stays as read */
    for (long long i = 0; i < span; i++)
        tok[i] = -1;
    for (int i = 0; i < n; i++)
        tok[t->req[i].index - lo] = t->req[i].in_tokens;
    int found = 0;
    double match = 0;
    for (int lag = 1; lag <= POOL_MAX && 2 * lag <= n && !found; lag++) {
        long pairs = 0, same = 0;
        for (long long i = 0; i + lag < span; i++)
            if (tok[i] >= 0 && tok[i + lag] >= 0) {
                pairs++;
                same += tok[i] == tok[i + lag];
            }
        double f = pairs ? (double)same / (double)pairs : 0;
        if (lag == 1 && f >= 0.5)
            break; /* nearly constant lengths: no evidence either way */
        if (lag > 1 && f >= 0.9) {
            found = lag;
            match = f;
        }
    }
    free(tok);
    if (found) {
        for (int i = 0; i < n; i++) {
            trace_req_t *q = &t->req[i];
            q->prefix_group = (int)(((long long)q->index - lo) % found);
            q->prefix_tokens = q->in_tokens;
            q->group_recorded = 1;
        }
        t->n_prefix_groups = found;
        t->prompt_pool = found;
        t->prompt_pool_match = match;
    }
    return found;
}

int trace_load_inference_perf(const char *dir, trace_t **out, char *err)
{
    *out = NULL;
    trace_build_t b;
    int rc = tb_init(&b, dir, "inference-perf", err);
    if (rc)
        return rc;
    trace_t *t = b.t;
    yu_doc_t ec = {0}, pf = {0};
    cJSON *rj = NULL, *gj = NULL;
    gt_t *gt = NULL;
    trace_names_t names = {0};
    double *st_start = NULL, *st_dur = NULL, *sum_e2e = NULL, *sum_ttft = NULL;
    int *n_ok = NULL, *n_err = NULL;
    char path[1024], rpath[1024], gpath[1024];

    /* exp-config.yaml */
    if ((rc = trace_join(path, sizeof path, dir, "exp-config.yaml", err)) ||
        (rc = yu_load(&ec, path, err)) ||
        (rc = yu_str(&ec, "model", t->model_id, sizeof t->model_id, err)) ||
        (rc = yu_int(&ec, "tensor_parallelism", 1, 4096, &t->tp, err)) ||
        (rc = yu_int(&ec, "max_model_len", 1, INT_MAX, &t->max_model_len, err)) ||
        (rc = yu_int(&ec, "max_num_batched_tokens", 1, INT_MAX, &t->max_num_batched_tokens, err)) ||
        (rc = yu_int(&ec, "max_num_seqs", 1, INT_MAX, &t->max_num_seqs, err)))
        goto fail;

    /* profile.yaml */
    int sys_len, out_len, n_groups, users, ignore_eos, n_st;
    if ((rc = trace_join(path, sizeof path, dir, "profile.yaml", err)) ||
        (rc = yu_load(&pf, path, err)) ||
        (rc = yu_int(&pf, "data.shared_prefix.system_prompt_len", 0, INT_MAX, &sys_len, err)) ||
        (rc = yu_int(&pf, "data.shared_prefix.output_len", 1, INT_MAX, &out_len, err)) ||
        (rc = yu_int(&pf, "data.shared_prefix.num_unique_system_prompts", 1, INT_MAX, &n_groups, err)) ||
        (rc = yu_int(&pf, "data.shared_prefix.num_users_per_system_prompt", 1, INT_MAX, &users, err)) ||
        (rc = yu_bool(&pf, "server.ignore_eos", &ignore_eos, err)) ||
        (rc = yu_seq_len(&pf, "load.stages", &n_st, err)))
        goto fail;
    if (n_st < 1) {
        rc = tam_fail(err, TAM_EFIELD, "%s:%lu: load.stages: empty", path,
                      (unsigned long)yu_find(&pf, "load.stages")->start_mark.line + 1);
        goto fail;
    }
    t->n_prefix_groups = sys_len > 0 ? n_groups : 0;
    t->prefix_len = sys_len;
    t->users_per_group = users;
    st_start = calloc((size_t)n_st, sizeof *st_start);
    st_dur = calloc((size_t)n_st, sizeof *st_dur);
    sum_e2e = calloc((size_t)n_st, sizeof *sum_e2e);
    sum_ttft = calloc((size_t)n_st, sizeof *sum_ttft);
    n_ok = calloc((size_t)n_st, sizeof *n_ok);
    n_err = calloc((size_t)n_st, sizeof *n_err);
    if (!st_start || !st_dur || !sum_e2e || !sum_ttft || !n_ok || !n_err) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", dir);
        goto fail;
    }
    double t0 = 0.0;
    for (int s = 0; s < n_st; s++) {
        char kp[64];
        double rate, dur;
        snprintf(kp, sizeof kp, "load.stages[%d].rate", s);
        if ((rc = yu_num(&pf, kp, 1e-9, 1e9, &rate, err)))
            goto fail;
        snprintf(kp, sizeof kp, "load.stages[%d].duration", s);
        if ((rc = yu_num(&pf, kp, 1e-9, 1e9, &dur, err)))
            goto fail;
        trace_point_t *p = tb_point(&b, err);
        if (!p) {
            rc = TAM_ENOMEM;
            goto fail;
        }
        snprintf(p->name, sizeof p->name, "stage%d@%grps", s, rate);
        p->unit = 0;
        p->kind = ARR_REPLAY;
        p->rate = rate;
        p->is_lowest = s == 0;
        p->is_highest = s == n_st - 1;
        p->t_start = t0;
        p->t_end = t0 + dur;
        st_start[s] = t0;
        st_dur[s] = dur;
        t0 += dur;
    }

    /* replay_data */
    if ((rc = find_replay(dir, t->id, rpath, gpath, sizeof rpath, err)) ||
        (rc = json_parse_file(rpath, &rj, err)) || (rc = json_parse_file(gpath, &gj, err)))
        goto fail;
    cJSON *cfg = json_get(rj, "config");
    int c_tp, c_seqs, c_mnbt;
    if ((rc = json_object(rpath, "", "config", cfg, err)) ||
        (rc = json_int(rpath, "config", "tensor_parallelism", json_get(cfg, "tensor_parallelism"), 1, 4096, &c_tp, err)) ||
        (rc = json_int(rpath, "config", "max_num_seqs", json_get(cfg, "max_num_seqs"), 1, INT_MAX, &c_seqs, err)) ||
        (rc = json_int(rpath, "config", "max_num_batched_tokens", json_get(cfg, "max_num_batched_tokens"), 1, INT_MAX, &c_mnbt, err)) ||
        (rc = json_int(rpath, "config", "kv_blocks_total_gpu", json_get(cfg, "kv_blocks_total_gpu"), 1, INT_MAX, &t->kv_blocks, err)) ||
        (rc = json_int(rpath, "config", "block_size", json_get(cfg, "block_size"), 1, 1 << 20, &t->block_size, err)))
        goto fail;
    {
        static const char *nm[3] = {"tensor_parallelism", "max_num_seqs", "max_num_batched_tokens"};
        int rv[3] = {c_tp, c_seqs, c_mnbt}, ev[3] = {t->tp, t->max_num_seqs, t->max_num_batched_tokens};
        for (int k = 0; k < 3; k++)
            if (rv[k] != ev[k]) {
                rc = tam_fail(err, TAM_EFIELD, "%s: config.%s = %d disagrees with exp-config.yaml %s = %d",
                              rpath, nm[k], rv[k], nm[k], ev[k]);
                goto fail;
            }
    }

    /* ground truth, sorted by index for the join */
    int n_gt, n_rq;
    if ((rc = json_array(gpath, "", "(top level)", gj, &n_gt, err)))
        goto fail;
    gt = malloc((size_t)(n_gt > 0 ? n_gt : 1) * sizeof *gt);
    if (!gt) {
        rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", gpath);
        goto fail;
    }
    {
        int i = 0;
        cJSON *g;
        cJSON_ArrayForEach(g, gj)
        {
            char pre[48];
            snprintf(pre, sizeof pre, "[%d]", i);
            gt_t *x = &gt[i];
            if ((rc = json_int(gpath, pre, "index", json_get(g, "index"), 0, INT_MAX, &x->index, err)) ||
                (rc = json_bool(gpath, pre, "has_error", json_get(g, "has_error"), &x->has_error, err)))
                goto fail;
            x->e2e = x->ttft = NAN;
            if (!x->has_error) {
                if ((rc = json_num(gpath, pre, "e2e_s", json_get(g, "e2e_s"), &x->e2e, err)) ||
                    (rc = json_num(gpath, pre, "ttft_s", json_get(g, "ttft_s"), &x->ttft, err)))
                    goto fail;
                if (x->ttft < 0 || x->e2e < x->ttft) {
                    rc = tam_fail(err, TAM_EFIELD, "%s: %s: need 0 <= ttft_s <= e2e_s, got ttft_s %.9g, e2e_s %.9g",
                                  gpath, pre, x->ttft, x->e2e);
                    goto fail;
                }
            }
            i++;
        }
    }
    qsort(gt, (size_t)n_gt, sizeof *gt, cmp_gt);
    for (int i = 1; i < n_gt; i++)
        if (gt[i].index == gt[i - 1].index) {
            rc = tam_fail(err, TAM_EFIELD, "%s: index %d appears twice", gpath, gt[i].index);
            goto fail;
        }

    /* requests */
    cJSON *reqs = json_get(rj, "requests");
    if ((rc = json_array(rpath, "", "requests", reqs, &n_rq, err)))
        goto fail;
    if (n_rq != n_gt) {
        rc = tam_fail(err, TAM_EFIELD, "%s: %d requests but %s has %d entries", rpath, n_rq, gpath, n_gt);
        goto fail;
    }
    {
        int i = 0;
        cJSON *q;
        cJSON_ArrayForEach(q, reqs)
        {
            char pre[48];
            snprintf(pre, sizeof pre, "requests[%d]", i);
            int index, in_tok, out_tok, has_error;
            double arr;
            if ((rc = json_int(rpath, pre, "index", json_get(q, "index"), 0, INT_MAX, &index, err)) ||
                (rc = json_num(rpath, pre, "arrival_time_us", json_get(q, "arrival_time_us"), &arr, err)) ||
                (rc = json_int(rpath, pre, "input_tokens", json_get(q, "input_tokens"), 0, INT_MAX, &in_tok, err)) ||
                (rc = json_int(rpath, pre, "output_tokens", json_get(q, "output_tokens"), 0, INT_MAX, &out_tok, err)) ||
                (rc = json_bool(rpath, pre, "has_error", json_get(q, "has_error"), &has_error, err)))
                goto fail;
            if (in_tok == 0 && !has_error) {
                rc = tam_fail(err, TAM_EFIELD, "%s: %s.input_tokens: 0 for a successful request (at least 1 expected)",
                              rpath, pre);
                goto fail;
            }
            if (arr < 0) {
                rc = tam_fail(err, TAM_EFIELD, "%s: %s.arrival_time_us: negative (%.17g)", rpath, pre, arr);
                goto fail;
            }
            gt_t key = {.index = index}, *g = bsearch(&key, gt, (size_t)n_gt, sizeof *gt, cmp_gt);
            if (!g) {
                rc = tam_fail(err, TAM_EFIELD, "%s: %s.index %d has no entry in %s", rpath, pre, index, gpath);
                goto fail;
            }
            if (g->has_error != has_error) {
                rc = tam_fail(err, TAM_EFIELD, "%s: %s.has_error = %s but %s says %s for index %d", rpath,
                              pre, has_error ? "true" : "false", gpath, g->has_error ? "true" : "false", index);
                goto fail;
            }
            /* stage: the window holding the arrival; past the end -> last */
            double a = arr / 1e6;
            int s = 0;
            while (s < n_st - 1 && a >= st_start[s] + st_dur[s])
                s++;
            trace_req_t *r = tb_req(&b, err);
            if (!r) {
                rc = TAM_ENOMEM;
                goto fail;
            }
            r->index = index;
            r->point = s;
            r->t_send = a;
            r->t_recorded = a;
            r->in_tokens = in_tok; /* 0 only for a failed request: filled in below */
            if (ignore_eos) {
                r->out_tokens = out_len;
                r->out_client = out_tok;
            } else if (has_error && out_tok == 0) {
                r->out_tokens = out_len;
                r->out_client = 0;
                r->tok_src = TRACE_TOK_NOMINAL;
            } else {
                r->out_tokens = out_tok;
                r->out_client = -1;
            }
            if (in_tok == 0)
                r->tok_src = TRACE_TOK_NOMINAL;
            r->prefix_tokens = sys_len;
            r->prefix_group = -1;
            cJSON *pg = json_get(q, "prefix_group");
            if (cJSON_IsString(pg) && pg->valuestring[0]) {
                int id = tn_id(&names, pg->valuestring);
                if (id < 0) {
                    rc = tam_fail(err, TAM_ENOMEM, "%s: out of memory", rpath);
                    goto fail;
                }
                r->prefix_group = id;
                r->group_recorded = 1;
            } else if (cJSON_IsNumber(pg)) {
                int id;
                /* INT_MAX - 1: n_prefix_groups = id + 1 must not overflow */
                if ((rc = json_int(rpath, pre, "prefix_group", pg, 0, INT_MAX - 1, &id, err)))
                    goto fail;
                r->prefix_group = id;
                r->group_recorded = 1;
                if (id + 1 > t->n_prefix_groups)
                    t->n_prefix_groups = id + 1;
            } else if (pg && !cJSON_IsNull(pg) && !cJSON_IsString(pg)) {
                rc = tam_fail(err, TAM_EFIELD, "%s: %s.prefix_group: expected a string, number or null", rpath, pre);
                goto fail;
            }
            r->ok = !has_error;
            if (r->ok) {
                r->ttft = g->ttft;
                r->e2e = g->e2e;
                n_ok[s]++;
                sum_e2e[s] += g->e2e;
                sum_ttft[s] += g->ttft;
            } else {
                n_err[s]++;
            }
            i++;
        }
    }
    if (names.n > t->n_prefix_groups)
        t->n_prefix_groups = names.n;
    /* failed requests with no recorded prompt: the run's typical one */
    {
        int typ_in = 0, typ_out, need = 0;
        for (int i = 0; i < t->n_req; i++)
            need += t->req[i].in_tokens == 0;
        if (need && (rc = trace_typical_tokens(t, &typ_in, &typ_out, err)))
            goto fail;
        if (need && typ_in == 0) { /* nothing succeeded: the profile's nominal prompt */
            int q_len;
            if ((rc = yu_int(&pf, "data.shared_prefix.question_len", 0, INT_MAX, &q_len, err)))
                goto fail;
            if ((long long)sys_len + q_len < 1 || (long long)sys_len + q_len > INT_MAX) {
                rc = tam_fail(err, TAM_EFIELD,
                              "%s: data.shared_prefix: system_prompt_len %d + question_len %d is no prompt length "
                              "(needed for %d failed requests that recorded 0 input tokens)",
                              path, sys_len, q_len, need);
                goto fail;
            }
            typ_in = sys_len + q_len;
        }
        for (int i = 0; i < t->n_req; i++)
            if (t->req[i].in_tokens == 0)
                t->req[i].in_tokens = typ_in;
    }
    /* The tool cycles its pool of prompts (trace_infer_prompt_pool). */
    trace_infer_prompt_pool(t);
    cJSON_Delete(rj);
    cJSON_Delete(gj);
    rj = gj = NULL;

    /* self-check against the tool's lifecycle summaries */
    {
        int all_ok = 0, all_err = 0;
        double all_e2e = 0, all_ttft = 0;
        for (int s = 0; s < n_st; s++) {
            char name[64];
            snprintf(name, sizeof name, "results/stage_%d_lifecycle_metrics.json", s);
            if ((rc = trace_join(path, sizeof path, dir, name, err)))
                goto fail;
            if (trace_is_file(path) &&
                (rc = check_lifecycle(path, n_ok[s], n_err[s], sum_e2e[s], sum_ttft[s], t, err)))
                goto fail;
            all_ok += n_ok[s];
            all_err += n_err[s];
            all_e2e += sum_e2e[s];
            all_ttft += sum_ttft[s];
        }
        if ((rc = trace_join(path, sizeof path, dir, "results/summary_lifecycle_metrics.json", err)))
            goto fail;
        if (trace_is_file(path) && (rc = check_lifecycle(path, all_ok, all_err, all_e2e, all_ttft, t, err)))
            goto fail;
    }

    yu_free(&ec);
    yu_free(&pf);
    free(gt);
    tn_free(&names);
    free(st_start);
    free(st_dur);
    free(sum_e2e);
    free(sum_ttft);
    free(n_ok);
    free(n_err);
    return tb_finish(&b, out, err);

fail:
    yu_free(&ec);
    yu_free(&pf);
    cJSON_Delete(rj);
    cJSON_Delete(gj);
    free(gt);
    tn_free(&names);
    free(st_start);
    free(st_dur);
    free(sum_e2e);
    free(sum_ttft);
    free(n_ok);
    free(n_err);
    tb_abort(&b);
    return rc ? rc : TAM_EFIELD;
}
