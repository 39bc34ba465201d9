/* engine/tests/t_trace.c - the measured-trace readers (trace*.c, yamlutil.c).
**
** Hand-written fixtures under engine/tests/fixtures/trace/ (one good folder
** per format, expected values written beside each check), bad inputs made by
** copying a good folder to a temporary directory and changing one file
** (truncated JSON, wrong types, missing fields, negative counts, ragged CSV,
** a missing file, self-check mismatches), and, when $DATA/corpus exists
** (default ../shared/data), every corpus experiment.  Runs from the repo root.
*/
#include "trace.h"

#include "check.h"

#include <dirent.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIX "engine/tests/fixtures/trace"

typedef int (*loader_t)(const char *, trace_t **, char *);

/* ---- temporary copies of fixtures ------------------------------------ */

static char tmp_root[256];
static int case_no;

static void copy_tree(const char *src, const char *dst)
{
    mkdir(dst, 0755);
    DIR *d = opendir(src);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char s[1024], t[1024];
        snprintf(s, sizeof s, "%s/%s", src, e->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, e->d_name);
        struct stat st;
        if (stat(s, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            copy_tree(s, t);
        } else {
            FILE *in = fopen(s, "rb"), *out = fopen(t, "wb");
            char buf[8192];
            size_t n;
            while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
                fwrite(buf, 1, n, out);
            if (in)
                fclose(in);
            if (out)
                fclose(out);
        }
    }
    closedir(d);
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            rm_tree(p);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static char *slurp(const char *path, size_t *len)
{
    char *buf;
    char err[TAM_ERRLEN];
    if (tam_read_file(path, &buf, len, err))
        return NULL;
    return buf;
}

static void spit(const char *path, const char *s, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(s, 1, len, f);
    fclose(f);
}

/* Copy fixture `name` to a fresh tmp_root/caseN/<as>, return that path. */
static const char *fresh(const char *name, const char *as)
{
    static char dir[512];
    char src[512], parent[300];
    snprintf(parent, sizeof parent, "%s/case%d", tmp_root, ++case_no);
    mkdir(parent, 0755);
    snprintf(src, sizeof src, FIX "/%s", name);
    snprintf(dir, sizeof dir, "%s/%s", parent, as ? as : name);
    copy_tree(src, dir);
    return dir;
}

/* In the copy dir, replace the first `old` of file rel by `new_`. */
static void replace_in(const char *dir, const char *rel, const char *old, const char *new_)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    size_t len;
    char *s = slurp(path, &len);
    char *at = s ? strstr(s, old) : NULL;
    CHECK(at != NULL, "%s lacks '%s'", path, old);
    if (at) {
        size_t ol = strlen(old), nl = strlen(new_);
        char *o = malloc(len - ol + nl + 1);
        memcpy(o, s, (size_t)(at - s));
        memcpy(o + (at - s), new_, nl);
        memcpy(o + (at - s) + nl, at + ol, len - (size_t)(at - s) - ol);
        spit(path, o, len - ol + nl);
        free(o);
    }
    free(s);
}

/* A copy of fixture `name` whose file `rel` has its first `old` replaced
** by `new_` (new_ NULL: the file is deleted; old NULL: truncated to half). */
static const char *mutate(const char *name, const char *rel, const char *old, const char *new_)
{
    const char *dir = fresh(name, NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (!new_ && old) {
        unlink(path);
        return dir;
    }
    if (old) {
        replace_in(dir, rel, old, new_);
        return dir;
    }
    size_t len;
    char *s = slurp(path, &len);
    CHECK(s != NULL, "cannot read %s", path);
    if (s)
        spit(path, s, len / 2);
    free(s);
    return dir;
}

/* mutate, then a second replacement in another file of the same copy. */
static const char *mutate_twice(const char *name, const char *rel, const char *old, const char *new_,
                                const char *rel2, const char *old2, const char *new2)
{
    const char *dir = mutate(name, rel, old, new_);
    replace_in(dir, rel2, old2, new2);
    return dir;
}

/* Loading dir must fail with `want`, leave *out NULL, and name every
** NULL-terminated substring in err. */
static void expect_fail(const char *what, loader_t ld, const char *dir, int want, ...)
{
    char err[TAM_ERRLEN] = "";
    trace_t *t = (trace_t *)&err; /* poison: must come back NULL */
    int rc = ld(dir, &t, err);
    if (getenv("T_TRACE_SHOW")) /* to read the messages: T_TRACE_SHOW=1 */
        printf("# %-24s %d %s\n", what, rc, err);
    CHECK(rc == want, "%s: rc %d want %d (%s)", what, rc, want, err);
    CHECK(t == NULL, "%s: *out not NULL on error", what);
    if (rc == 0 && t && t != (trace_t *)&err)
        trace_free(t);
    va_list ap;
    va_start(ap, want);
    const char *sub;
    while ((sub = va_arg(ap, const char *)))
        CHECK(strstr(err, sub) != NULL, "%s: error '%s' lacks '%s'", what, err, sub);
    va_end(ap);
}

static trace_t *load_ok(loader_t ld, const char *dir)
{
    char err[TAM_ERRLEN] = "";
    trace_t *t = NULL;
    int rc = ld(dir, &t, err);
    CHECK(rc == 0 && t, "load %s: rc %d: %s", dir, rc, err);
    return rc == 0 ? t : NULL;
}

static const trace_req_t *by_index(const trace_t *t, int index)
{
    for (int i = 0; i < t->n_req; i++)
        if (t->req[i].index == index)
            return &t->req[i];
    return NULL;
}

/* ---- inference-perf ---------------------------------------------------- */

static void test_ip_good(void)
{
    trace_t *t = load_ok(trace_load, FIX "/ipmini");
    if (!t)
        return;
    CHECK(!strcmp(t->format, "inference-perf"), "format %s", t->format);
    CHECK(!strcmp(t->id, "ipmini"), "id %s", t->id);
    CHECK(!strcmp(t->model_id, "test/tiny-llama"), "model %s", t->model_id);
    CHECK(t->tp == 2 && t->max_model_len == 4096 && t->max_num_batched_tokens == 2048 && t->max_num_seqs == 64,
          "limits %d %d %d %d", t->tp, t->max_model_len, t->max_num_batched_tokens, t->max_num_seqs);
    CHECK(t->kv_blocks == 1000 && t->block_size == 16, "kv %d bs %d", t->kv_blocks, t->block_size);
    CHECK(t->n_prefix_groups == 3 && t->prefix_len == 20 && t->users_per_group == 2, "prefix %d %d %d",
          t->n_prefix_groups, t->prefix_len, t->users_per_group);
    CHECK(t->n_units == 1 && t->n_points == 2 && t->n_req == 6, "units %d points %d req %d", t->n_units,
          t->n_points, t->n_req);
    /* 2 stage files + summary, each: 2 counts + 2 means */
    CHECK(t->n_checks == 12, "n_checks %d", t->n_checks);
    CHECK(t->check_max_rel <= 1e-15, "check_max_rel %g", t->check_max_rel);
    if (t->n_points == 2) {
        const trace_point_t *p0 = &t->points[0], *p1 = &t->points[1];
        CHECK(!strcmp(p0->name, "stage0@2rps") && !strcmp(p1->name, "stage1@4rps"), "names %s %s", p0->name,
              p1->name);
        CHECK(p0->kind == ARR_REPLAY && p1->kind == ARR_REPLAY && p0->unit == 0 && p1->unit == 0, "kind/unit");
        CHECK(p0->rate == 2 && p1->rate == 4, "rates %g %g", p0->rate, p1->rate);
        CHECK(p0->is_lowest && !p0->is_highest && !p1->is_lowest && p1->is_highest, "lowest/highest");
        CHECK(p0->t_start == 0 && p0->t_end == 2 && p1->t_start == 2 && p1->t_end == 3, "windows");
    }
    /* order by t_send: index 0 (0 s), 1 (0.6), 2 (1.5), 3 (2.0), 4 (2.4), 5 (3.1) */
    static const int order[6] = {0, 1, 2, 3, 4, 5};
    static const int point[6] = {0, 0, 0, 1, 1, 1}; /* 2.0 s opens stage 1; 3.1 s is clamped into it */
    static const int in[6] = {80, 81, 82, 83, 84, 85};
    static const int client[6] = {10, 9, 0, 10, 8, 10};
    static const double ttft[6] = {0.1, 0.2, NAN, 0.3, 0.4, 0.5}, e2e[6] = {1.0, 1.5, NAN, 2.0, 2.5, 3.0};
    for (int i = 0; i < t->n_req && i < 6; i++) {
        const trace_req_t *r = &t->req[i];
        CHECK(r->index == order[i], "req %d index %d", i, r->index);
        CHECK(r->point == point[i], "req %d point %d", i, r->point);
        CHECK(r->in_tokens == in[i], "req %d in %d", i, r->in_tokens);
        CHECK(r->out_tokens == 10, "req %d out %d (profile output_len, ignore_eos)", i, r->out_tokens);
        CHECK(r->out_client == client[i], "req %d client %d", i, r->out_client);
        CHECK(r->prefix_tokens == 20 && r->prefix_group == -1 && !r->group_recorded, "req %d prefix", i);
        CHECK(r->ok == (i != 2), "req %d ok %d", i, r->ok);
        if (i == 2) {
            CHECK(isnan(r->ttft) && isnan(r->e2e), "errored request has latencies");
        } else {
            CHECK(r->ttft == ttft[i] && r->e2e == e2e[i], "req %d ttft %g e2e %g", i, r->ttft, r->e2e);
        }
        CHECK(r->t_recorded == r->t_send, "req %d t_recorded", i);
    }
    CHECK(t->req[5].t_send == 3.1, "clamped request keeps its time %g", t->req[5].t_send);

    /* prefix groups: deterministic per seed, in range, redrawn by a new seed */
    int g42[6], again[6];
    trace_assign_prefix_groups(t, 42);
    for (int i = 0; i < 6; i++) {
        g42[i] = t->req[i].prefix_group;
        CHECK(g42[i] >= 0 && g42[i] < 3, "group %d", g42[i]);
        CHECK(!t->req[i].group_recorded, "drawn groups are not 'recorded'");
    }
    trace_assign_prefix_groups(t, 7);
    trace_assign_prefix_groups(t, 42);
    for (int i = 0; i < 6; i++)
        again[i] = t->req[i].prefix_group;
    CHECK(!memcmp(g42, again, sizeof g42), "same seed, same groups");
    trace_free(t);

    /* the same folder under another name: replay file found by scanning */
    t = load_ok(trace_load_inference_perf, fresh("ipmini", "renamed-run"));
    if (t) {
        CHECK(!strcmp(t->id, "renamed-run") && t->n_req == 6, "renamed: id %s n %d", t->id, t->n_req);
        trace_free(t);
    }
    trace_free(NULL); /* harmless */
}

static void test_ip_bad(void)
{
    const char *R = "replay_data/ipmini.json", *G = "replay_data/ipmini_ground_truth.json";
    loader_t L = trace_load_inference_perf;
    expect_fail("truncated replay", L, mutate("ipmini", R, NULL, ""), TAM_EPARSE, "ipmini.json:", "truncated",
                (char *)NULL);
    expect_fail("string token count", L, mutate("ipmini", R, "\"input_tokens\": 81", "\"input_tokens\": \"81\""),
                TAM_EFIELD, "ipmini.json", "requests[1].input_tokens", "\"81\"", (char *)NULL);
    expect_fail("negative output", L, mutate("ipmini", R, "\"output_tokens\": 0", "\"output_tokens\": -3"),
                TAM_EFIELD, "requests[2].output_tokens", "-3", (char *)NULL);
    expect_fail("fractional input", L, mutate("ipmini", R, "\"input_tokens\": 80", "\"input_tokens\": 80.5"),
                TAM_EFIELD, "requests[0].input_tokens", "80.5", (char *)NULL);
    expect_fail("missing arrival", L, mutate("ipmini", R, "\"arrival_time_us\": 0,", ""), TAM_EFIELD,
                "requests[0].arrival_time_us: missing", (char *)NULL);
    expect_fail("negative arrival", L, mutate("ipmini", R, "\"arrival_time_us\": 600000", "\"arrival_time_us\": -5"),
                TAM_EFIELD, "requests[1].arrival_time_us", (char *)NULL);
    expect_fail("has_error not bool", L, mutate("ipmini", R, "\"has_error\": true", "\"has_error\": 1"),
                TAM_EFIELD, "requests[2].has_error", (char *)NULL);
    expect_fail("tp disagrees", L, mutate("ipmini", R, "\"tensor_parallelism\": 2", "\"tensor_parallelism\": 4"),
                TAM_EFIELD, "config.tensor_parallelism = 4", "exp-config.yaml", (char *)NULL);
    expect_fail("gt index missing", L, mutate("ipmini", G, "\"index\": 5", "\"index\": 9"), TAM_EFIELD,
                "requests[5].index 5 has no entry", (char *)NULL);
    expect_fail("gt e2e string", L, mutate("ipmini", G, "\"e2e_s\": 1.5", "\"e2e_s\": \"x\""), TAM_EFIELD,
                "ground_truth.json", "[1].e2e_s", (char *)NULL);
    expect_fail("gt has_error disagrees", L, mutate("ipmini", G, "\"has_error\": true", "\"has_error\": false"),
                TAM_EFIELD, "[2].e2e_s", (char *)NULL);
    expect_fail("missing ground truth", L, mutate("ipmini", G, "x", NULL), TAM_EIO, "ipmini_ground_truth.json",
                (char *)NULL);
    expect_fail("stage mean mismatch", L,
                mutate("ipmini", "results/stage_1_lifecycle_metrics.json", "\"mean\": 2.5", "\"mean\": 2.6"),
                TAM_ECHECK, "stage_1_lifecycle_metrics.json", "successes.latency.request_latency.mean", "2.6",
                "2.5", (char *)NULL);
    expect_fail("ttft mean mismatch", L,
                mutate("ipmini", "results/summary_lifecycle_metrics.json", "\"mean\": 0.3", "\"mean\": 0.31"),
                TAM_ECHECK, "summary_lifecycle_metrics.json", "time_to_first_token.mean", (char *)NULL);
    expect_fail("count mismatch", L,
                mutate("ipmini", "results/stage_0_lifecycle_metrics.json", "\"count\": 2", "\"count\": 3"),
                TAM_ECHECK, "stage_0_lifecycle_metrics.json", "successes.count", (char *)NULL);
    expect_fail("failure count mismatch", L,
                mutate("ipmini", "results/stage_0_lifecycle_metrics.json", "\"count\": 1", "\"count\": 0"),
                TAM_ECHECK, "failures.count", (char *)NULL);
    expect_fail("profile lacks output_len", L, mutate("ipmini", "profile.yaml", "\"output_len\":10,", ""),
                TAM_EFIELD, "profile.yaml:1", "data.shared_prefix.output_len: missing", (char *)NULL);
    expect_fail("stage rate string", L, mutate("ipmini", "profile.yaml", "\"rate\":4", "\"rate\":\"4\""),
                TAM_EFIELD, "profile.yaml:1:", "load.stages[1].rate", "'4'", (char *)NULL);
    expect_fail("exp-config bad type", L,
                mutate("ipmini", "exp-config.yaml", "tensor_parallelism: 2", "tensor_parallelism: two"),
                TAM_EFIELD, "exp-config.yaml:2:", "tensor_parallelism", "'two'", (char *)NULL);
    expect_fail("exp-config missing key", L, mutate("ipmini", "exp-config.yaml", "max_num_seqs: 64\n", ""),
                TAM_EFIELD, "exp-config.yaml", "max_num_seqs: missing", (char *)NULL);
    expect_fail("yaml syntax", L, mutate("ipmini", "exp-config.yaml", "max_model_len: 4096", "max_model_len: [4096"),
                TAM_EPARSE, "exp-config.yaml:", (char *)NULL);
    expect_fail("no profile", L, mutate("ipmini", "profile.yaml", "x", NULL), TAM_EIO, "profile.yaml",
                (char *)NULL);
}

/* Failed requests that record 0 input and 0 output tokens stay in the load. */
static void test_ip_failed_zero_tokens(void)
{
    trace_t *t = load_ok(trace_load, FIX "/ipfail");
    if (!t)
        return;
    CHECK(t->n_req == 5 && t->n_points == 1, "n %d points %d", t->n_req, t->n_points);
    /* stage file + summary: 2 counts (3 successes, 2 failures) + 2 means each */
    CHECK(t->n_checks == 8, "n_checks %d", t->n_checks);
    /* successful prompts 70, 74, 72 -> lower median 72; output = output_len 12
    ** (ignore_eos) for all; the failed ones keep their recorded 0 as out_client */
    static const int in[5] = {70, 72, 74, 72, 72}, client[5] = {12, 0, 11, 0, 12};
    for (int i = 0; i < t->n_req && i < 5; i++) {
        const trace_req_t *r = &t->req[i];
        int failed = i == 1 || i == 3;
        CHECK(r->index == i && r->ok == !failed, "req %d index %d ok %d", i, r->index, r->ok);
        CHECK(r->in_tokens == in[i] && r->out_tokens == 12 && r->out_client == client[i], "req %d in %d out %d client %d",
              i, r->in_tokens, r->out_tokens, r->out_client);
        CHECK(r->tok_src == (failed ? TRACE_TOK_NOMINAL : TRACE_TOK_SOURCE), "req %d tok_src %d", i, r->tok_src);
        CHECK(failed ? isnan(r->e2e) : r->e2e > 0, "req %d e2e %g", i, r->e2e);
    }
    trace_free(t);

    const char *R = "replay_data/ipfail.json";
    /* nothing succeeded: the profile's nominal prompt, 20 + 40 = 60 */
    const char *dir = fresh("ipfail", NULL);
    static const char *was[3] = {"\"input_tokens\": 70, \"output_tokens\": 12", "\"input_tokens\": 74, \"output_tokens\": 11",
                                 "\"input_tokens\": 72, \"output_tokens\": 12"};
    for (int k = 0; k < 3; k++) {
        replace_in(dir, R, was[k], "\"input_tokens\": 0, \"output_tokens\": 0");
        replace_in(dir, R, "\"has_error\": false", "\"has_error\": true");
        replace_in(dir, "replay_data/ipfail_ground_truth.json", "\"has_error\": false", "\"has_error\": true");
    }
    replace_in(dir, "results/stage_0_lifecycle_metrics.json", "\"count\": 3", "\"count\": 0");
    replace_in(dir, "results/stage_0_lifecycle_metrics.json", "\"count\": 2", "\"count\": 5");
    replace_in(dir, "results/summary_lifecycle_metrics.json", "\"count\": 3", "\"count\": 0");
    replace_in(dir, "results/summary_lifecycle_metrics.json", "\"count\": 2", "\"count\": 5");
    t = load_ok(trace_load_inference_perf, dir);
    if (t) {
        int nom = 0;
        for (int i = 0; i < t->n_req; i++)
            nom += !t->req[i].ok && t->req[i].tok_src == TRACE_TOK_NOMINAL && t->req[i].in_tokens == 60 &&
                   t->req[i].out_tokens == 12;
        CHECK(nom == 5, "all failed: %d of 5 carry the nominal 60 in / 12 out", nom);
        trace_free(t);
    }
    /* a successful request with 0 input tokens is still an error */
    expect_fail("ok request, 0 input", trace_load_inference_perf,
                mutate("ipfail", R, "\"input_tokens\": 70", "\"input_tokens\": 0"), TAM_EFIELD, "ipfail.json",
                "requests[0].input_tokens: 0 for a successful request", (char *)NULL);
}

/* ---- GuideLLM ---------------------------------------------------------- */

static void test_gl_good(void)
{
    trace_t *t = load_ok(trace_load, FIX "/glmini");
    if (!t)
        return;
    CHECK(!strcmp(t->format, "guidellm") && !strcmp(t->model_id, "test/tiny-codellama"), "format/model");
    CHECK(t->tp == 1 && t->max_model_len == 1024 && t->max_num_batched_tokens == 512 && t->max_num_seqs == 16,
          "limits");
    CHECK(t->kv_blocks == 500 && t->block_size == 32, "kv %d bs %d (from vllm.log)", t->kv_blocks, t->block_size);
    CHECK(t->n_prefix_groups == 1 && t->prefix_len == 100, "prefix %d %d", t->n_prefix_groups, t->prefix_len);
    CHECK(t->n_units == 3 && t->n_points == 3 && t->n_req == 8, "units %d points %d req %d", t->n_units,
          t->n_points, t->n_req);
    /* per benchmark: 3 totals + 2 counts + 2 means */
    CHECK(t->n_checks == 21, "n_checks %d", t->n_checks);
    if (t->n_points == 3) {
        const trace_point_t *p = t->points;
        CHECK(!strcmp(p[0].name, "synchronous") && p[0].kind == ARR_SYNCHRONOUS && p[0].max_concurrency == 1,
              "p0");
        CHECK(!strcmp(p[1].name, "throughput") && p[1].kind == ARR_THROUGHPUT && p[1].max_concurrency == 8, "p1");
        CHECK(!strcmp(p[2].name, "constant@2.000") && p[2].kind == ARR_CONSTANT && p[2].rate == 2.0, "p2 %s",
              p[2].name);
        CHECK(p[0].unit == 0 && p[1].unit == 1 && p[2].unit == 2, "units");
        CHECK(!p[0].warm_prefix && p[1].warm_prefix && p[2].warm_prefix, "warm prefix after the first");
        CHECK(p[0].is_lowest && !p[1].is_lowest && !p[2].is_lowest, "lowest = synchronous");
        CHECK(!p[0].is_highest && p[1].is_highest && p[2].is_highest, "highest = throughput + top constant");
        CHECK(p[0].t_end == 5.0 && p[2].t_end == 2.5, "durations");
    }
    /* order: sync by request start (310 first), throughput 330, 320, errored;
    ** constant by targeted start: 360 (t 0), 340 (0.5), 350 (1.0). */
    static const int in[8] = {310, 300, 330, 320, 1098, 360, 340, 350};
    static const int out[8] = {6, 5, 8, 7, 4, 11, 9, 10};
    static const double tsend[8] = {0, 0, 0, 0, 0, 0, 0.5, 1.0};
    static const double ttft[8] = {0.12, 0.1, 0.22, 0.2, NAN, 0.08, 0.09, 0.095};
    for (int i = 0; i < t->n_req && i < 8; i++) {
        const trace_req_t *r = &t->req[i];
        CHECK(r->index == i, "req %d index %d", i, r->index);
        CHECK(r->in_tokens == in[i] && r->out_tokens == out[i], "req %d in %d out %d", i, r->in_tokens,
              r->out_tokens);
        CHECK(r->t_send == tsend[i], "req %d t_send %g", i, r->t_send);
        CHECK(r->out_client == -1 && r->prefix_group == 0 && r->group_recorded && r->prefix_tokens == 100,
              "req %d prefix/client", i);
        CHECK(r->ok == (i != 4), "req %d ok", i);
        if (i != 4)
            CHECK_NEAR(r->ttft, ttft[i], 1e-15);
    }
    if (t->n_req == 8) {
        /* the errored request: vLLM rejected it; the log gives 1098 tokens and
        ** max_tokens = 1024 - 1020 (its prompt_tokens 1000 excludes the prefix) */
        CHECK(t->req[4].tok_src == TRACE_TOK_SERVER_LOG && isnan(t->req[4].e2e), "errored from log");
        CHECK(t->req[0].e2e == 0.6 && t->req[1].e2e == 0.5, "e2e = request_latency");
        CHECK_NEAR(t->req[4].t_recorded, 0.2, 1e-9);
        CHECK_NEAR(t->req[6].t_recorded, 0.51, 1e-9);
    }
    trace_assign_prefix_groups(t, 42); /* recorded groups stay */
    for (int i = 0; i < t->n_req; i++)
        CHECK(t->req[i].prefix_group == 0, "recorded group redrawn");
    trace_free(t);

    /* no rejection lines in the log: client count + prefix, 1 output token */
    t = load_ok(trace_load_guidellm,
                mutate("glmini", "vllm.log", "maximum context length is 1020 tokens", "context too long"));
    if (t) {
        const trace_req_t *r = by_index(t, 4);
        CHECK(r && r->tok_src == TRACE_TOK_CLIENT_EST && r->in_tokens == 1100 && r->out_tokens == 1,
              "fallback in %d out %d", r ? r->in_tokens : -1, r ? r->out_tokens : -1);
        trace_free(t);
    }
    /* the errored request recorded no prompt count (null, or 0): the profile's
    ** nominal request, 100 prefix + 200 prompt tokens in, 8 out; not matched
    ** against the log's rejection */
    static const char *nocount[2] = {"\"prompt_tokens\": null", "\"prompt_tokens\": 0"};
    for (int k = 0; k < 2; k++) {
        t = load_ok(trace_load_guidellm, mutate("glmini", "guidellm-results.json", "\"prompt_tokens\": 1000", nocount[k]));
        if (t) {
            const trace_req_t *r = by_index(t, 4);
            CHECK(r && !r->ok && r->tok_src == TRACE_TOK_NOMINAL && r->in_tokens == 300 && r->out_tokens == 8,
                  "%s: in %d out %d", nocount[k], r ? r->in_tokens : -1, r ? r->out_tokens : -1);
            trace_free(t);
        }
    }
    expect_fail("no count, no profile mean", trace_load_guidellm,
                mutate_twice("glmini", "guidellm-results.json", "\"prompt_tokens\": 1000", "\"prompt_tokens\": null",
                             "profile.yaml", "prompt_tokens: 200", "prompt: 200"),
                TAM_EFIELD, "profile.yaml", "data.prompt_tokens: missing", (char *)NULL);
    /* no block size in the log: 16 */
    t = load_ok(trace_load_guidellm, mutate("glmini", "vllm.log", "block_size=32, ", ""));
    if (t) {
        CHECK(t->block_size == 16, "default block size %d", t->block_size);
        trace_free(t);
    }
}

static void test_gl_bad(void)
{
    const char *J = "guidellm-results.json";
    loader_t L = trace_load_guidellm;
    expect_fail("truncated", L, mutate("glmini", J, NULL, ""), TAM_EPARSE, "guidellm-results.json:", (char *)NULL);
    expect_fail("string prompt", L, mutate("glmini", J, "\"prompt_tokens\": 320", "\"prompt_tokens\": \"320\""),
                TAM_EFIELD, "benchmarks[1].requests.successful[0].prompt_tokens", "\"320\"", (char *)NULL);
    expect_fail("ok request, 0 prompt", L, mutate("glmini", J, "\"prompt_tokens\": 320", "\"prompt_tokens\": 0"),
                TAM_EFIELD, "benchmarks[1].requests.successful[0].prompt_tokens", "out of range", (char *)NULL);
    expect_fail("negative output", L, mutate("glmini", J, "\"output_tokens\": 9", "\"output_tokens\": -9"),
                TAM_EFIELD, "benchmarks[2].requests.successful[0].output_tokens", "-9", (char *)NULL);
    expect_fail("missing latency", L, mutate("glmini", J, "\"request_latency\": 0.6,", ""), TAM_EFIELD,
                "benchmarks[0].requests.successful[1].request_latency: missing", (char *)NULL);
    expect_fail("ttft mean", L, mutate("glmini", J, "\"mean\": 110.0", "\"mean\": 111.0"), TAM_ECHECK,
                "benchmarks[0].metrics.time_to_first_token_ms.successful.mean", "111", "110", (char *)NULL);
    expect_fail("errored total", L, mutate("glmini", J, "\"errored\": 1", "\"errored\": 2"), TAM_ECHECK,
                "benchmarks[1].metrics.request_totals.errored", (char *)NULL);
    expect_fail("unknown strategy", L, mutate("glmini", J, "\"type_\": \"throughput\"", "\"type_\": \"sweepy\""),
                TAM_EFIELD, "benchmarks[1].config.strategy.type_", "sweepy", (char *)NULL);
    expect_fail("constant without rate", L, mutate("glmini", J, "\"rate\": 2.0", "\"rat\": 2.0"), TAM_EFIELD,
                "benchmarks[2].config.strategy.rate: missing", (char *)NULL);
    expect_fail("no KV capacity", L, mutate("glmini", "vllm.log", "num_gpu_blocks is: 500", "blocks: 500"),
                TAM_EFIELD, "vllm.log", "num_gpu_blocks", (char *)NULL);
    expect_fail("no profile prefix", L, mutate("glmini", "profile.yaml", "prefix_tokens: 100", "prefix: 100"),
                TAM_EFIELD, "profile.yaml:5", "data.prefix_tokens: missing", (char *)NULL);
    expect_fail("no vllm.log", L, mutate("glmini", "vllm.log", "x", NULL), TAM_EIO, "vllm.log", (char *)NULL);
}

/* ---- TraceV2 ----------------------------------------------------------- */

static void test_v2_good(void)
{
    trace_t *t = load_ok(trace_load, FIX "/v2mini");
    if (!t)
        return;
    CHECK(!strcmp(t->format, "tracev2") && !strcmp(t->model_id, "test/tiny-qwen"), "format/model");
    CHECK(t->tp == 1 && t->max_model_len == 2048 && t->max_num_batched_tokens == 1024, "limits");
    CHECK(t->max_num_seqs == 256, "default max_num_seqs %d", t->max_num_seqs);
    CHECK(t->kv_blocks == 300 && t->block_size == 16, "kv");
    CHECK(t->n_prefix_groups == 2 && t->prefix_len == 32, "prefix %d %d", t->n_prefix_groups, t->prefix_len);
    CHECK(t->n_units == 1 && t->n_points == 1 && t->n_req == 5, "shape");
    /* requests.csv: 4 rows x 2 + summary: 2 counts + 2 means */
    CHECK(t->n_checks == 12, "n_checks %d", t->n_checks);
    CHECK(t->check_max_abs < 1e-9, "max abs %g", t->check_max_abs);
    if (t->n_points == 1) {
        const trace_point_t *p = &t->points[0];
        CHECK(p->kind == ARR_REPLAY && p->is_lowest && p->is_highest && !strcmp(p->name, "replay"), "point");
        CHECK(p->t_end == 1.0 && p->rate == 4.0, "window %g rate %g", p->t_end, p->rate);
    }
    /* by arrival: id 0 (0 s), 1 (0.5), 2 (0.6), 3 (0.7), 4 (1.0) */
    static const int in[5] = {98, 101, 100, 100, 119}; /* id 2 and 3: server_input_tokens 0 -> input_tokens */
    static const int out[5] = {10, 11, 12, 10, 10};
    static const int grp[5] = {0, 0, 1, -1, -1}, pre[5] = {32, 32, 32, 0, 0};
    static const double ts[5] = {0, 0.5, 0.6, 0.7, 1.0}, ttft[5] = {0.05, 0.04, 0.06, NAN, 0.03},
                        e2e[5] = {0.25, 0.3, 0.3, NAN, 0.33};
    for (int i = 0; i < t->n_req && i < 5; i++) {
        const trace_req_t *r = &t->req[i];
        CHECK(r->index == i, "req %d index %d", i, r->index);
        CHECK(r->in_tokens == in[i] && r->out_tokens == out[i], "req %d in %d out %d", i, r->in_tokens,
              r->out_tokens);
        CHECK(r->prefix_group == grp[i] && r->prefix_tokens == pre[i] && r->group_recorded == (grp[i] >= 0),
              "req %d prefix %d %d", i, r->prefix_group, r->prefix_tokens);
        CHECK_NEAR(r->t_send, ts[i], 1e-12);
        CHECK(r->ok == (i != 3), "req %d ok", i);
        if (i != 3) {
            CHECK_NEAR(r->ttft, ttft[i], 1e-12);
            CHECK_NEAR(r->e2e, e2e[i], 1e-12);
        } else {
            CHECK(isnan(r->ttft) && isnan(r->e2e), "failed row latencies");
        }
    }
    if (t->n_req == 5)
        CHECK_NEAR(t->req[2].t_recorded, 0.6005, 1e-12);
    trace_free(t);
}

static void test_v2_bad(void)
{
    const char *C = "trace.csv";
    loader_t L = trace_load_tracev2;
    expect_fail("ragged row", L, mutate("v2mini", C, "ok,1,1500000,100,101,11,", "ok,1,1500000,100,101,"),
                TAM_EPARSE, "trace.csv:4:", "11 fields, the header has 12", (char *)NULL);
    expect_fail("unterminated quote", L, mutate("v2mini", C, "\"he said \"\"hi\"\"\"", "\"he said"), TAM_EPARSE,
                "trace.csv:7:", "unterminated", (char *)NULL);
    expect_fail("bare quote", L, mutate("v2mini", C, "sysB,32", "sy\"sB,32"), TAM_EPARSE, "trace.csv:3:",
                "bare quote", (char *)NULL);
    expect_fail("text after quote", L, mutate("v2mini", C, "\"note, with comma\"", "\"note\"x"), TAM_EPARSE,
                "trace.csv:3:", (char *)NULL);
    expect_fail("non-numeric", L, mutate("v2mini", C, "ok,2,1600000,100,", "ok,2,1600000,1OO,"), TAM_EFIELD,
                "trace.csv:3:", "column input_tokens", "1OO", (char *)NULL);
    expect_fail("negative output", L, mutate("v2mini", C, ",119,10,", ",119,-10,"), TAM_EFIELD, "trace.csv:7:",
                "column output_tokens", (char *)NULL);
    expect_fail("missing column", L, mutate("v2mini", C, "send_time_us", "sent_us"), TAM_EFIELD, "trace.csv:1:",
                "missing column send_time_us", (char *)NULL);
    expect_fail("duplicate id", L, mutate("v2mini", C, "ok,4,", "ok,2,"), TAM_EFIELD, "trace.csv:7:",
                "request_id: 2 already used on line 3", (char *)NULL);
    expect_fail("chunk before send", L, mutate("v2mini", C, "5000050000", "4000050000"), TAM_EFIELD,
                "trace.csv:2:", (char *)NULL);
    expect_fail("requests.csv ttft", L, mutate("v2mini", "requests.csv", "a,2,40.00", "a,2,41.00"), TAM_ECHECK,
                "requests.csv:4:", "ttft_ms", "41", (char *)NULL);
    expect_fail("requests.csv join", L, mutate("v2mini", "requests.csv", "5000.500", "5000.700"), TAM_ECHECK,
                "requests.csv:4:", "start_time", (char *)NULL);
    expect_fail("requests.csv ragged", L, mutate("v2mini", "requests.csv", "a,4,30.00,", "a,4,"), TAM_EPARSE,
                "requests.csv:5:", (char *)NULL);
    expect_fail("summary mean", L, mutate("v2mini", "summary.json", "\"mean\": 45.0", "\"mean\": 45.5"),
                TAM_ECHECK, "summary.json", "overall.ttft_ms.mean", (char *)NULL);
    expect_fail("summary truncated", L, mutate("v2mini", "summary.json", NULL, ""), TAM_EPARSE, "summary.json:",
                (char *)NULL);
    expect_fail("time unit", L, mutate("v2mini", "trace.yaml", "time_unit: us", "time_unit: ms"), TAM_EFIELD,
                "trace.yaml:2:", "time_unit", (char *)NULL);
    expect_fail("version", L, mutate("v2mini", "trace.yaml", "trace_version: 3", "trace_version: 1"), TAM_EFIELD,
                "trace.yaml:1:", "trace_version", (char *)NULL);
    expect_fail("server_config field", L,
                mutate("v2mini", "server_config.json", "\"num_gpu_blocks\": 300", "\"gpu_blocks\": 300"), TAM_EFIELD,
                "server_config.json", "num_gpu_blocks: missing", (char *)NULL);
    expect_fail("server_config type", L,
                mutate("v2mini", "server_config.json", "\"block_size\": 16", "\"block_size\": \"16\""), TAM_EFIELD,
                "server_config.json", "block_size", "\"16\"", (char *)NULL);
    expect_fail("no trace.csv", L, mutate("v2mini", C, "x", NULL), TAM_EIO, "trace.csv", (char *)NULL);

    /* CRLF line ends and no blank line at the end are fine */
    const char *dir = fresh("v2mini", NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/trace.csv", dir);
    size_t len;
    char *s = slurp(path, &len);
    if (s) {
        char *o = malloc(2 * len + 1);
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '\n')
                o[n++] = '\r';
            o[n++] = s[i];
        }
        while (n > 0 && (o[n - 1] == '\n' || o[n - 1] == '\r'))
            n--;
        spit(path, o, n);
        free(o);
        free(s);
        trace_t *t = load_ok(trace_load_tracev2, dir);
        if (t) {
            const trace_req_t *r = by_index(t, 3);
            CHECK(t->n_req == 5 && r && !r->ok, "CRLF trace: n %d", t->n_req);
            trace_free(t);
        }
    }
}

/* A client capped at 2 in flight that fell behind (fixture v2capped, its
** trace.csv shows the schedule): the limit is inferred; v2mini's client kept
** up and gets none. */
static void test_v2_client(void)
{
    trace_t *t = load_ok(trace_load, FIX "/v2capped");
    if (t) {
        const trace_point_t *p = &t->points[0];
        /* in flight just after each send: id 0: 1; ids 1-7: 2 (a slot is freed
        ** at the very microsecond the next send takes it); id 8 failed with no
        ** chunk times and is never counted */
        CHECK(p->inflight_max == 2, "max in flight %d", p->inflight_max);
        /* lags 0, 0, .5, .5, 1, 1, 1.5, 1.5 at the cap (a rise of 1.5 s > 1 s)
        ** and 2.0 for id 8: median of the nine = 1.0 */
        CHECK(p->client_limit == 2 && p->max_concurrency == 2, "limit %d max_concurrency %d", p->client_limit,
              p->max_concurrency);
        CHECK_NEAR(p->lag_median, 1.0, 1e-12);
        const trace_req_t *r = by_index(t, 8);
        /* ok rows' server_input_tokens 90..97 -> lower median 93; outputs 4 */
        CHECK(r && !r->ok && r->tok_src == TRACE_TOK_NOMINAL && r->in_tokens == 93 && r->out_tokens == 4,
              "failed row: in %d out %d", r ? r->in_tokens : -1, r ? r->out_tokens : -1);
        r = by_index(t, 6);
        CHECK(r && r->t_send == 1.5 && r->t_recorded == 3.0, "id 6 scheduled 1.5 s, sent 3.0 s");
        trace_free(t);
    }
    /* the same client without the growing lag: ids 2-7 sent 0.5 s after
    ** schedule, each taking 0.5 s: still 2 in flight after each send, lags at
    ** the cap 0, .5, .5, .5, .5, .5, .5 -> a rise of 0.5 s, not > 1 s */
    const char *dir = fresh("v2capped", NULL);
    static const char *sends[6][2] = {{"9001000000,9001100000,9002000000", "9001000000,9001100000,9001500000"},
                                      {"9001250000,9001350000,9002250000", "9001250000,9001350000,9001750000"},
                                      {"9002000000,9002100000,9003000000", "9001500000,9001600000,9002000000"},
                                      {"9002250000,9002350000,9003250000", "9001750000,9001850000,9002250000"},
                                      {"9003000000,9003100000,9004000000", "9002000000,9002100000,9002500000"},
                                      {"9003250000,9003350000,9004250000", "9002250000,9002350000,9002750000"}};
    for (int k = 0; k < 6; k++)
        replace_in(dir, "trace.csv", sends[k][0], sends[k][1]);
    t = load_ok(trace_load_tracev2, dir);
    if (t) {
        CHECK(t->points[0].inflight_max == 2 && t->points[0].client_limit == 0 && t->points[0].max_concurrency == 0,
              "constant lag: max %d limit %d", t->points[0].inflight_max, t->points[0].client_limit);
        trace_free(t);
    }
    t = load_ok(trace_load, FIX "/v2mini");
    if (t) {
        /* sends 0, .5002, .6005 (id 1 still in flight: 2), 1.0; id 3 failed, no
        ** times; the cap 2 is reached once; lags 0, .0002, .0005, 0, 0 */
        CHECK(t->points[0].inflight_max == 2 && t->points[0].client_limit == 0, "v2mini: max %d limit %d",
              t->points[0].inflight_max, t->points[0].client_limit);
        CHECK(t->points[0].lag_median == 0, "v2mini median lag %g", t->points[0].lag_median);
        trace_free(t);
    }
    /* every row failed without counts: nothing to take a typical request from */
    dir = fresh("v2capped", NULL);
    for (int k = 0; k < 8; k++) {
        char was[32], now[32];
        snprintf(was, sizeof was, "ok,%d,", k);
        snprintf(now, sizeof now, "error,%d,", k);
        replace_in(dir, "trace.csv", was, now);
    }
    expect_fail("all failed, one without counts", trace_load_tracev2, dir, TAM_EFIELD, "trace.csv:10:",
                "failed request 8", "no request succeeded", (char *)NULL);
    /* an ok row with no input tokens is still an error */
    expect_fail("ok row, no input", trace_load_tracev2, mutate("v2capped", "trace.csv", "ok,3,750000,100,93,",
                "ok,3,750000,0,0,"), TAM_EFIELD, "trace.csv:5:", "no input tokens", (char *)NULL);
}

static void test_dispatch(void)
{
    expect_fail("unknown folder", trace_load, FIX "/unknown", TAM_EIO, "no known trace format", (char *)NULL);
    expect_fail("no folder", trace_load, FIX "/does-not-exist", TAM_EIO, "does-not-exist", (char *)NULL);
}

/* ---- the corpus -------------------------------------------------------- */

typedef struct {
    const char *dir;
    const char *format;
    int n_req, n_points, n_err, out_tokens;
} corpus_t;

static const corpus_t corpus[] = {
    {"inference-perf/20260217-155451-llama-2-7b-tp1-codegen", "inference-perf", 9000, 2, 0, 247},
    {"inference-perf/20260217-162547-llama-2-7b-tp1-roleplay", "inference-perf", 7200, 1, 0, 251},
    {"inference-perf/20260217-231439-llama-2-7b-tp1-general", "inference-perf", 16800, 2, 0, 248},
    {"inference-perf/20260217-202857-llama-2-70b-tp4-general", "inference-perf", 16800, 2, 0, 248},
    {"inference-perf/20260217-203421-llama-2-70b-hf-tp4-codegen", "inference-perf", 9000, 2, 0, 247},
    {"inference-perf/20260218-084319-llama-2-70b-tp4-roleplay", "inference-perf", 7200, 1, 0, 251},
    {"inference-perf/20260218-120914-mixtral-8x7b-v0-1-tp2-codegen", "inference-perf", 9000, 2, 0, 247},
    {"inference-perf/20260218-130541-mixtral-8x7b-v0-1-tp2-general", "inference-perf", 16800, 2, 0, 248},
    {"inference-perf/20260218-141024-mixtral-8x7b-v0-1-tp2-roleplay", "inference-perf", 7200, 1, 0, 251},
    {"inference-perf/20260218-150304-codellama-34b-tp2-general", "inference-perf", 16800, 2, 0, 248},
    {"inference-perf/20260218-150956-codellama-34b-tp2-codegen", "inference-perf", 9000, 2, 0, 247},
    {"inference-perf/20260218-155500-codellama-34b-tp2-roleplay", "inference-perf", 7200, 1, 0, 251},
    {"guidellm/jan20-codellama-prefill-1", "guidellm", 200, 5, 0, 0},
    {"guidellm/jan20-codellama-prefillheavy-1", "guidellm", 200, 5, 3, 0},
    {"tracev2/qwen3-14b-tp1-agg2rps-vanilla", "tracev2", 1212, 1, 0, 0},
};

static void check_corpus_one(const corpus_t *c, const trace_t *t)
{
    int err = 0;
    for (int i = 0; i < t->n_req; i++)
        err += !t->req[i].ok;
    CHECK(!strcmp(t->format, c->format), "%s: format %s", c->dir, t->format);
    CHECK(t->n_req == c->n_req && t->n_points == c->n_points && err == c->n_err, "%s: n %d points %d err %d",
          c->dir, t->n_req, t->n_points, err);
    CHECK(t->n_checks > 0, "%s: no self-check ran", c->dir);
    CHECK(t->check_max_rel <= (strcmp(c->format, "tracev2") ? 1e-9 : 1e-4), "%s: self-check rel %g", c->dir,
          t->check_max_rel);
    int lowest = 0, highest = 0;
    for (int p = 0; p < t->n_points; p++) {
        lowest += t->points[p].is_lowest;
        highest += t->points[p].is_highest;
    }
    CHECK(lowest == 1 && highest >= 1, "%s: lowest %d highest %d", c->dir, lowest, highest);
    for (int i = 1; i < t->n_req; i++) {
        const trace_req_t *a = &t->req[i - 1], *b = &t->req[i];
        int ua = t->points[a->point].unit, ub = t->points[b->point].unit;
        if (ua > ub || (ua == ub && (a->t_send > b->t_send || (a->t_send == b->t_send && a->index >= b->index)))) {
            CHECK(0, "%s: order broken at %d", c->dir, i);
            break;
        }
    }
    if (c->out_tokens) {
        int bad = 0;
        /* Every inference-perf run of the corpus cycles a pool of 100 prompts
        ** (trace_infer_prompt_pool): request i shares its whole prompt with
        ** request i - 100, so its prefix group is i mod 100 and its prefix
        ** is the whole prompt. */
        CHECK(t->prompt_pool == 100 && t->prompt_pool_match >= 0.98, "%s: prompt pool %d (%.4f)",
              c->dir, t->prompt_pool, t->prompt_pool_match);
        for (int i = 0; i < t->n_req; i++)
            bad += t->req[i].out_tokens != c->out_tokens || t->req[i].out_client < 0 ||
                   t->req[i].prefix_tokens != t->req[i].in_tokens ||
                   t->req[i].prefix_group != t->req[i].index % 100 || !t->req[i].group_recorded;
        CHECK(bad == 0, "%s: %d requests with out_tokens != %d or bad prefix", c->dir, bad, c->out_tokens);
        CHECK(t->n_checks == 4 * (t->n_points + 1), "%s: n_checks %d", c->dir, t->n_checks);
    }
}

static void test_corpus(void)
{
    const char *data = getenv("DATA");
    if (!data || !*data)
        data = "../shared/data";
    char root[512];
    snprintf(root, sizeof root, "%s/corpus", data);
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("# %s not found: corpus checks skipped\n", root);
        return;
    }
    for (size_t k = 0; k < sizeof corpus / sizeof corpus[0]; k++) {
        const corpus_t *c = &corpus[k];
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, c->dir);
        trace_t *t = load_ok(trace_load, dir);
        if (!t)
            continue;
        check_corpus_one(c, t);
        if (k == 3) {
            /* experiment 4: 4800 + 12000 over two stages; 113 requests arrive
            ** after the nominal end (1200 s) and are clamped into stage 1 */
            int n0 = 0, n1 = 0, late = 0;
            for (int i = 0; i < t->n_req; i++) {
                n0 += t->req[i].point == 0;
                n1 += t->req[i].point == 1;
                late += t->req[i].t_send >= 1200.0;
            }
            CHECK(n0 == 4800 && n1 == 12000 && late == 113, "exp 4: %d + %d, late %d", n0, n1, late);
            /* 9 system prompts in the profile, but the prompt pool (100
            ** whole prompts) is what the reader records as groups */
            CHECK(t->kv_blocks == 31356 && t->tp == 4 && t->n_prefix_groups == 100, "exp 4 config");
            /* recorded groups: no seed redraws them */
            int *g = malloc((size_t)t->n_req * sizeof *g), same = 0;
            trace_assign_prefix_groups(t, 42);
            for (int i = 0; i < t->n_req; i++)
                g[i] = t->req[i].prefix_group;
            trace_assign_prefix_groups(t, 123);
            for (int i = 0; i < t->n_req; i++)
                same += g[i] == t->req[i].prefix_group;
            CHECK(same == t->n_req, "exp 4: seed 123 changed %d recorded groups", t->n_req - same);
            free(g);
        }
        if (k == 12) {
            for (int p = 0; p < t->n_points; p++) {
                int n = 0;
                for (int i = 0; i < t->n_req; i++)
                    n += t->req[i].point == p;
                CHECK(n == 40 && t->points[p].unit == p, "prefill-1 point %d: %d", p, n);
            }
            CHECK(t->max_num_batched_tokens == 64 && t->kv_blocks == 2790, "prefill-1 config");
        }
        if (k == 13) {
            /* three requests vLLM rejected as too long: tokens from vllm.log */
            static const int in[3] = {4176, 4199, 4214}, out[3] = {1, 17, 21};
            int m = 0;
            for (int i = 0; i < t->n_req; i++)
                if (t->req[i].tok_src == TRACE_TOK_SERVER_LOG) {
                    CHECK(m < 3 && !t->req[i].ok && t->req[i].in_tokens == in[m] && t->req[i].out_tokens == out[m],
                          "rejected %d: in %d out %d", m, t->req[i].in_tokens, t->req[i].out_tokens);
                    m++;
                }
            CHECK(m == 3, "rejected requests from the log: %d", m);
            CHECK(t->kv_blocks == 2537 && t->max_model_len == 4096, "prefillheavy config");
        }
        if (k == 14) {
            CHECK(t->check_max_abs <= 0.005e-3 + 1e-9, "requests.csv agreement %g s", t->check_max_abs);
            CHECK(t->max_num_seqs == 256 && t->kv_blocks == 18038 && t->max_num_batched_tokens == 8192, "v2 config");
            /* a client that kept up: at most 13 in flight, lags of a few ms */
            CHECK(t->points[0].inflight_max == 13 && t->points[0].client_limit == 0 &&
                  t->points[0].max_concurrency == 0 && fabs(t->points[0].lag_median) < 0.01,
                  "vanilla client: max %d limit %d lag %g", t->points[0].inflight_max, t->points[0].client_limit,
                  t->points[0].lag_median);
        }
        trace_free(t);
    }
    /* beyond the 14 (docs/CORPUS.md): the load-dynamics runs load, as they were */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/inference-perf-overload/20260218-160939-codellama-34b-tp2-reasoning", root);
    trace_t *t = load_ok(trace_load, dir);
    if (t) {
        /* 4 of 4800 failed with 0 / 0 tokens: the median successful prompt,
        ** 1080 tokens (results/ prompt_len.median), and output_len 1448 */
        int nf = 0, nom = 0;
        for (int i = 0; i < t->n_req; i++) {
            nf += !t->req[i].ok;
            nom += t->req[i].tok_src == TRACE_TOK_NOMINAL && t->req[i].in_tokens == 1080 &&
                   t->req[i].out_tokens == 1448 && !t->req[i].ok;
        }
        CHECK(t->n_req == 4800 && nf == 4 && nom == 4, "overload: n %d failed %d nominal %d", t->n_req, nf, nom);
        trace_free(t);
    }
    snprintf(dir, sizeof dir, "%s/tracev2/qwen3-14b-tp1-w5-agg24", root);
    t = load_ok(trace_load, dir);
    if (t) {
        /* the client never had more than 256 in flight; its lag rose to 229 s
        ** (median 113.600471 s, docs/CORPUS.md: 114 s) */
        const trace_point_t *p = &t->points[0];
        CHECK(t->n_req == 14449 && p->inflight_max == 256 && p->client_limit == 256 && p->max_concurrency == 256,
              "w5-agg24: n %d max %d limit %d", t->n_req, p->inflight_max, p->client_limit);
        CHECK_NEAR(p->lag_median, 113.600471, 1e-9);
        trace_free(t);
    }
}

/* trace_infer_prompt_pool on hand-made traces.
** Cycle: 12 requests whose input counts repeat with period 3 (50, 61, 72, 50,
** 61, 72, ...): lag 1 matches 0 of 11 pairs (< 50%: the lengths carry
** information), lag 2 matches 0 of 10, lag 3 matches 9 of 9 -> P = 3, and
** request i gets group i mod 3 with its whole prompt as the prefix.  One
** changed count (request 7: 99) leaves lag 3 at 7 of 9 = 0.78 < 0.9 and lag
** 6 (the largest allowed, n/2) at 5 of 6 = 0.83: no pool.
** Constant counts (all 50): lag 1 matches 11 of 11 >= 50%: no evidence, no
** pool, the requests keep their prefix as read. */
static void test_prompt_pool(void)
{
    trace_t t;
    trace_req_t rq[12];
    memset(&t, 0, sizeof t);
    t.req = rq;
    t.n_req = 12;
    static const int cyc[3] = {50, 61, 72};
    for (int pass = 0; pass < 3; pass++) {
        memset(rq, 0, sizeof rq);
        t.prompt_pool = 0;
        t.n_prefix_groups = 2;
        for (int i = 0; i < 12; i++) {
            /* stored out of index order, as a reader may hold them */
            trace_req_t *q = &rq[(i * 5) % 12];
            q->index = i;
            q->in_tokens = pass == 2 ? 50 : cyc[i % 3];
            q->prefix_group = -1;
            q->prefix_tokens = 10;
        }
        if (pass == 1)
            for (int i = 0; i < 12; i++)
                if (rq[i].index == 7)
                    rq[i].in_tokens = 99;
        int p = trace_infer_prompt_pool(&t);
        if (pass == 0) {
            CHECK(p == 3 && t.prompt_pool == 3 && t.prompt_pool_match == 1.0 && t.n_prefix_groups == 3,
                  "cycle: pool %d match %g groups %d", p, t.prompt_pool_match, t.n_prefix_groups);
            int bad = 0;
            for (int i = 0; i < 12; i++)
                bad += rq[i].prefix_group != rq[i].index % 3 || rq[i].prefix_tokens != rq[i].in_tokens ||
                       !rq[i].group_recorded;
            CHECK(bad == 0, "cycle: %d requests without their group or whole-prompt prefix", bad);
        } else {
            int kept = 0;
            for (int i = 0; i < 12; i++)
                kept += rq[i].prefix_group == -1 && rq[i].prefix_tokens == 10 && !rq[i].group_recorded;
            CHECK(p == 0 && t.prompt_pool == 0 && t.n_prefix_groups == 2 && kept == 12,
                  "%s: pool %d, %d requests kept as read", pass == 1 ? "broken cycle" : "constant", p, kept);
        }
    }
}

/* Groups a trace did not record are drawn from a seeded stream: 9000
** requests over 9 groups come out within 10% of uniform (1000 each; a
** binomial's sd is ~30), the same seed draws the same groups, another seed
** redraws most of them. */
static void test_prefix_draw(void)
{
    trace_t t;
    memset(&t, 0, sizeof t);
    t.n_req = 9000;
    t.n_prefix_groups = 9;
    t.req = calloc((size_t)t.n_req, sizeof *t.req);
    int *g = malloc((size_t)t.n_req * sizeof *g), cnt[9] = {0}, same = 0, again = 0;
    for (int i = 0; i < t.n_req; i++) {
        t.req[i].index = i;
        t.req[i].prefix_tokens = 100;
        t.req[i].prefix_group = -1;
    }
    trace_assign_prefix_groups(&t, 42);
    for (int i = 0; i < t.n_req; i++) {
        g[i] = t.req[i].prefix_group;
        if (g[i] >= 0 && g[i] < 9)
            cnt[g[i]]++;
    }
    for (int j = 0; j < 9; j++)
        CHECK(cnt[j] > 900 && cnt[j] < 1100, "group %d: %d", j, cnt[j]);
    trace_assign_prefix_groups(&t, 42);
    for (int i = 0; i < t.n_req; i++)
        again += g[i] == t.req[i].prefix_group;
    CHECK(again == t.n_req, "seed 42 twice: %d of %d the same", again, t.n_req);
    trace_assign_prefix_groups(&t, 123);
    for (int i = 0; i < t.n_req; i++)
        same += g[i] == t.req[i].prefix_group;
    CHECK(same < t.n_req / 2, "seed 123 redraws: %d same", same);
    free(g);
    free(t.req);
}

int main(void)
{
    snprintf(tmp_root, sizeof tmp_root, "/tmp/t_trace.XXXXXX");
    if (!mkdtemp(tmp_root)) {
        printf("not ok - cannot make a temporary directory\n");
        return 1;
    }
    RUN(test_ip_good);
    RUN(test_ip_bad);
    RUN(test_ip_failed_zero_tokens);
    RUN(test_gl_good);
    RUN(test_gl_bad);
    RUN(test_v2_good);
    RUN(test_v2_bad);
    RUN(test_v2_client);
    RUN(test_dispatch);
    RUN(test_prompt_pool);
    RUN(test_prefix_draw);
    RUN(test_corpus);
    rm_tree(tmp_root);
    TEST_REPORT("t_trace");
}
