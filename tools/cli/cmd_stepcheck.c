/* tools/cli/cmd_stepcheck.c - `tam stepcheck`: the simulator judged at the level
** of engine steps, not request means.
**
** Two checks, each where a trace allows it:
**   - a trace folder with trace.itl.csv (TraceV2): every measured inter-token
**     gap is one engine step (engine/itl.h: which chunks are tokens, how a
**     gap is classified decode-only or mixed and given a batch size); the
**     simulator's step series over the same replay gives the predicted
**     steps.  A step of the simulator with n_decode decodes stands for
**     n_decode per-token gaps, so predicted quantiles weigh each step by
**     n_decode (the measured ones count each gap once, and a step of b
**     decodes appears b times there too).  Predicted kind: mixed when the
**     step holds a prefill chunk, decode-only otherwise; batch = decodes +
**     prefill chunks (what the measured batch counts: tokens produced at the
**     step's end, a finishing prefill included).  Steps without decodes
**     (prefill alone) produce no gap and are left out.  Also TTFT per load
**     point, measured vs predicted.
**   - every synchronous load point (GuideLLM, one request in flight): TTFT is
**     one prompt's prefill, TPOT a decode-only step at batch 1; per request
**     TTFT, TPOT ((E2E - TTFT) / (out - 1)) and TTFT per 1000 prompt tokens.
*/
#include "cli.h"
#include "itl.h"
#include "runner.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sc_usage[] =
    "usage: tam stepcheck --trace DIR [--trace DIR ...] [options]\n"
    "Compare the simulator with measurements at the level of engine steps.\n"
    "Each trace is replayed as `tam simulate --trace` does; then:\n"
    "  - if DIR has trace.itl.csv (TraceV2 per-chunk times): each measured gap\n"
    "    between consecutive tokens of a request is one engine step.  Chunks:\n"
    "    with output_tokens out (trace.csv), n = out chunks are all tokens;\n"
    "    n = out + 2 drops chunk 0 (role chunk, sent with the first token) and\n"
    "    the last (finish/usage); other requests are skipped and counted.  A\n"
    "    gap (a, e] is 'mixed' when another request's first token lies in\n"
    "    (a + 1 ms, e + 1 ms] (its prefill ran in that step), else 'decode';\n"
    "    its batch = requests with first token <= e + 1 ms and last token >=\n"
    "    e - 1 ms.  Predicted: the simulator's steps with decodes, mixed when\n"
    "    they hold a prefill chunk, batch = decodes + prefill chunks, each step\n"
    "    weighted by its decodes (one gap per decoding request).  Rows:\n"
    "    decode_gap and mixed_gap by batch bucket (all, 1-4, 5-8, 9-16, 17+),\n"
    "    and ttft per load point;\n"
    "  - for every synchronous load point (GuideLLM): rows ttft, tpot\n"
    "    ((E2E - TTFT) / (output - 1)) and ttft_per_1k (TTFT x 1000 / prompt\n"
    "    tokens), per request, successful requests only.\n"
    "A trace with neither is an error.\n"
    "Options:\n"
    "  --trace DIR        a measured run (repeatable); model and TP are the run's\n"
    "  --model M --tp N   override the run's model (folder under DATA/models or a\n"
    "                     config path) and tensor parallelism\n"
    "  --preset NAME      a shipped configuration (default: the default preset)\n"
    "  --config F --kernels SET --hardware F --mfu DIR --gemm-mfu CSV\n"
    "                     (see tam step --help)\n"
    "  --seed N           seeds what a trace did not record (default 42)\n"
    "  --format text|csv  (text)   -o FILE (stdout)\n"
    "CSV: one row per (trace, point, kind, bucket), header\n"
    "  trace,point,kind,bucket,n_measured,n_predicted,measured_mean_ms,\n"
    "  predicted_mean_ms,measured_median_ms,predicted_median_ms,measured_p90_ms,\n"
    "  predicted_p90_ms,measured_min_ms,predicted_min_ms\n"
    "  trace = folder name; point = load point ('replay' for TraceV2); kind =\n"
    "  decode_gap | mixed_gap | ttft | tpot | ttft_per_1k; bucket = all | 1-4 |\n"
    "  5-8 | 9-16 | 17+ (batch size; gap rows only, others 'all').  Values in\n"
    "  ms (ttft_per_1k: ms per 1000 prompt tokens); n = gaps or requests (the\n"
    "  predicted gap count is the sum of decodes over the steps).  Median and\n"
    "  p90 are lower quantiles: the smallest value whose cumulative count\n"
    "  (weight) reaches half / 90% of the total.  Empty cells: no data.\n"
    "Text: the same rows as tables, with what was found about the chunks.\n";

enum { K_DECODE, K_MIXED, K_TTFT, K_TPOT, K_TTFT1K, K_N };
static const char *kind_name[K_N] = {"decode_gap", "mixed_gap", "ttft", "tpot", "ttft_per_1k"};
#define N_BUCKET 5
static const char *bucket_name[N_BUCKET] = {"all", "1-4", "5-8", "9-16", "17+"};

static int bucket_of(int batch)
{
    return batch <= 4 ? 1 : batch <= 8 ? 2 : batch <= 16 ? 3 : 4;
}

/* A growable list of (value, weight). */
typedef struct {
    itl_vw_t *p;
    int n, cap;
} vlist_t;

static int vl_add(vlist_t *l, double v, double w)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        itl_vw_t *np = realloc(l->p, (size_t)cap * sizeof *np);
        if (!np)
            return -1;
        l->p = np;
        l->cap = cap;
    }
    l->p[l->n++] = (itl_vw_t){v, w};
    return 0;
}

typedef struct {
    double n, mean, median, p90, min;
} dstat_t;

static dstat_t dstat(vlist_t *l)
{
    dstat_t s = {0, NAN, NAN, NAN, NAN};
    double sw = 0, swv = 0;
    for (int i = 0; i < l->n; i++)
        if (l->p[i].w > 0) {
            sw += l->p[i].w;
            swv += l->p[i].w * l->p[i].v;
            if (!(s.min <= l->p[i].v))
                s.min = l->p[i].v;
        }
    if (!(sw > 0))
        return s;
    s.n = sw;
    s.mean = swv / sw;
    s.median = itl_quantile(l->p, l->n, 0.5);
    s.p90 = itl_quantile(l->p, l->n, 0.9);
    return s;
}

typedef struct {
    const char *trace, *point, *kind, *bucket;
    dstat_t m, p;
} row_t;

static void cell(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.6g", v);
    else
        fputc(',', f);
}

static void row_csv(FILE *f, const row_t *r)
{
    fprintf(f, "%s,%s,%s,%s,%.0f,%.0f", r->trace, r->point, r->kind, r->bucket, r->m.n, r->p.n);
    cell(f, r->m.mean);
    cell(f, r->p.mean);
    cell(f, r->m.median);
    cell(f, r->p.median);
    cell(f, r->m.p90);
    cell(f, r->p.p90);
    cell(f, r->m.min);
    cell(f, r->p.min);
    fputc('\n', f);
}

static void row_text(FILE *f, const row_t *r)
{
    fprintf(f, "  %-12s %-12s %-5s %8.0f %8.0f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n",
            r->point, r->kind, r->bucket, r->m.n, r->p.n, r->m.median, r->p.median, r->m.p90,
            r->p.p90, r->m.mean, r->p.mean, r->m.min, r->p.min);
}

static void text_header(FILE *f)
{
        fprintf(f, "  %-12s %-12s %-5s %8s %8s %9s %9s %9s %9s %9s %9s %9s %9s\n", "point", "kind",
                "batch", "n_meas", "n_pred", "med_meas", "med_pred", "p90_meas", "p90_pred",
                "mean_meas", "mean_pred", "min_meas", "min_pred");
}

static void emit(FILE *f, int csv, const row_t *r)
{
    if (csv)
        row_csv(f, r);
    else
        row_text(f, r);
}

/* Predicted steps of the simulation (all units). */
typedef struct {
    vlist_t v[2][N_BUCKET]; /* [mixed][bucket] */
    long steps_with_decodes, prefill_only;
    int oom;
} steps_t;

static void on_step(void *ctx, int unit, const sim_step_info_t *s)
{
    steps_t *st = ctx;
    (void)unit;
    if (s->n_decode <= 0) {
        st->prefill_only += s->n_prefill > 0;
        return;
    }
    st->steps_with_decodes++;
    int mixed = s->n_prefill > 0, b = bucket_of(s->n_decode + s->n_prefill);
    if (vl_add(&st->v[mixed][0], 1e3 * s->dt, s->n_decode) ||
        vl_add(&st->v[mixed][b], 1e3 * s->dt, s->n_decode))
        st->oom = 1;
}

/* The gap rows of one trace with trace.itl.csv. */
static int itl_rows(FILE *f, int csv, const itl_t *x, const trace_t *t, steps_t *ps, char *err)
{
    itl_gap_t *g = NULL;
    int *outs = NULL, ng = 0, rc = TAM_OK;
    vlist_t mv[2][N_BUCKET] = {{{0}}};
    if (!(outs = malloc((size_t)(x->n_req ? x->n_req : 1) * sizeof *outs))) {
        rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        goto done;
    }
    /* join on request_id = trace.csv request_id (trace_req_t.index); a
    ** request the trace lacks or that failed has no usable output length */
    int n_unjoined = 0;
    for (int i = 0; i < x->n_req; i++) {
        outs[i] = -1;
        for (int k = 0; k < t->n_req; k++)
            if (t->req[k].index == x->req[i].request_id) {
                outs[i] = t->req[k].ok ? t->req[k].out_tokens : -1;
                break;
            }
        n_unjoined += outs[i] < 0;
    }
    itl_class_stats_t cs;
    if ((rc = itl_classify(x, outs, ITL_SLACK_S, &g, &ng, &cs, err)))
        goto done;
    for (int i = 0; i < ng; i++) {
        int mixed = g[i].n_prefill > 0, b = bucket_of(g[i].batch);
        if (vl_add(&mv[mixed][0], 1e3 * g[i].gap_s, 1) || vl_add(&mv[mixed][b], 1e3 * g[i].gap_s, 1)) {
            rc = tam_fail(err, TAM_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (!csv) {
        fprintf(f, "  %s: %d requests, %ld chunks; %d with chunks = output + 2 (chunk 0 and the "
                "last carry no token; they lie at most %.3f ms from their token), %d with chunks "
                "= output, %d skipped (%d not ok or not in trace.csv)\n", x->path, x->n_req,
                x->n_rows, cs.n_framed, 1e3 * cs.framing_max_s, cs.n_used - cs.n_framed,
                cs.n_skipped, n_unjoined);
        fprintf(f, "  measured gaps: %d decode-only, %d mixed; predicted steps with decodes: %ld "
                "(and %ld prefill-only)\n", mv[0][0].n, mv[1][0].n, ps->steps_with_decodes,
                ps->prefill_only);
        text_header(f);
    }
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < N_BUCKET; b++) {
            if (b && !mv[k][b].n && !ps->v[k][b].n)
                continue;
            row_t r = {t->id, t->points[0].name, kind_name[k], bucket_name[b], dstat(&mv[k][b]),
                       dstat(&ps->v[k][b])};
            if (t->n_points > 1)
                r.point = "all";
            emit(f, csv, &r);
        }
done:
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < N_BUCKET; b++)
            free(mv[k][b].p);
    free(g);
    free(outs);
    return rc;
}

/* Request-level rows of one load point. */
static int req_rows(FILE *f, int csv, const trace_t *t, const pred_t *p, int pt, int all_kinds,
                    char *err)
{
    vlist_t m[3] = {{0}}, q[3] = {{0}};
    int rc = TAM_OK;
    for (int i = 0; i < t->n_req && !rc; i++) {
        const trace_req_t *r = &t->req[i];
        if (r->point != pt || !r->ok || p[i].rejected)
            continue;
        double mt = trace_tpot(r->ttft, r->e2e, r->out_tokens);
        if (vl_add(&m[0], 1e3 * r->ttft, 1) || vl_add(&q[0], 1e3 * p[i].ttft, 1) ||
            (r->in_tokens > 0 && (vl_add(&m[2], 1e6 * r->ttft / r->in_tokens, 1) ||
                                  vl_add(&q[2], 1e6 * p[i].ttft / r->in_tokens, 1))) ||
            (isfinite(mt) && isfinite(p[i].tpot) &&
             (vl_add(&m[1], 1e3 * mt, 1) || vl_add(&q[1], 1e3 * p[i].tpot, 1))))
            rc = tam_fail(err, TAM_ENOMEM, "out of memory");
    }
    static const int kinds[3] = {K_TTFT, K_TPOT, K_TTFT1K};
    for (int k = 0; k < (all_kinds ? 3 : 1) && !rc; k++) {
        row_t r = {t->id, t->points[pt].name, kind_name[kinds[k]], "all", dstat(&m[k]), dstat(&q[k])};
        emit(f, csv, &r);
    }
    for (int k = 0; k < 3; k++) {
        free(m[k].p);
        free(q[k].p);
    }
    return rc;
}

static int check_trace(const char *dir, const inputs_t *base, unsigned long long seed, FILE *f,
                       int csv, char *err)
{
    inputs_t e = *base;
    trace_t *t = NULL;
    itl_t *x = NULL;
    pred_t *p = NULL;
    kset_t *ks = NULL;
    step_model_t *sm = NULL;
    steps_t ps;
    memset(&ps, 0, sizeof ps);
    char mpath[1024], itl_path[1024];
    model_t m;
    hw_t hw;
    econf_t c;
    run_stats_t st;
    int rc;
    if ((rc = trace_load(dir, &t, err)))
        return rc;
    if (snprintf(itl_path, sizeof itl_path, "%s/trace.itl.csv", dir) >= (int)sizeof itl_path) {
        rc = tam_fail(err, TAM_EFIELD, "%s: path too long", dir);
        goto done;
    }
    FILE *probe = fopen(itl_path, "rb");
    int has_itl = probe != NULL;
    if (probe)
        fclose(probe);
    /* read before simulating: a bad file fails fast */
    if (has_itl && (rc = itl_load(itl_path, &x, err)))
        goto done;
    int n_sync = 0;
    for (int pt = 0; pt < t->n_points; pt++)
        n_sync += t->points[pt].kind == ARR_SYNCHRONOUS;
    if (!has_itl && !n_sync) {
        rc = tam_fail(err, TAM_EFIELD, "%s: nothing to check: no trace.itl.csv and no synchronous "
                      "load point", dir);
        goto done;
    }
    if (!e.model) {
        if (runner_model_dir(e.data, t->model_id, mpath, sizeof mpath)) {
            rc = tam_fail(err, TAM_EFIELD, "%s: no config for model '%s' under %s/models", dir,
                          t->model_id, e.data);
            goto done;
        }
        e.model = mpath;
    }
    if (!e.tp)
        e.tp = t->tp;
    if ((rc = inputs_build(&e, &m, &hw, &ks, &c, &sm, err)) ||
        (rc = runner_simulate_trace_steps(sm, t, seed, has_itl ? on_step : NULL, &ps, &p, &st, err)))
        goto done;
    if (ps.oom) {
        rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        goto done;
    }
    if (!csv) {
        char h[17];
        econf_hash(&c, h);
        fprintf(f, "%s (%s, %s, TP %d; configuration %s): %lld steps simulated, %lld preemptions, "
                "%d rejected\n", t->id, t->format, t->model_id, t->tp, h, st.steps, st.preemptions,
                st.rejected);
        if (!has_itl)
            text_header(f);
    }
    if (has_itl && (rc = itl_rows(f, csv, x, t, &ps, err)))
        goto done;
    for (int pt = 0; pt < t->n_points && !rc; pt++) {
        int sync = t->points[pt].kind == ARR_SYNCHRONOUS;
        if (sync || has_itl)
            rc = req_rows(f, csv, t, p, pt, sync, err);
    }
done:
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < N_BUCKET; b++)
            free(ps.v[k][b].p);
    free(p);
    itl_free(x);
    trace_free(t);
    step_model_free(sm);
    kset_free(ks);
    return rc;
}

int cmd_stepcheck(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trace", required_argument, 0, 'T'},   {"config", required_argument, 0, 'c'},
        {"kernels", required_argument, 0, 'k'}, {"hardware", required_argument, 0, 'w'},
        {"mfu", required_argument, 0, 'f'},     {"gemm-mfu", required_argument, 0, 'g'},
        {"seed", required_argument, 0, 's'},    {"format", required_argument, 0, 'F'},
        {"output", required_argument, 0, 'o'},  {"model", required_argument, 0, 'm'},
        {"tp", required_argument, 0, 't'},      {"help", no_argument, 0, 'h'},
        {"preset", required_argument, 0, 'P'},  {0, 0, 0, 0}};
    inputs_t e;
    inputs_init(&e);
    e.tp = 0;
    e.default_preset = 1;
    const char *traces[64], *fmt = "text", *outp = NULL;
    int n_tr = 0, o;
    unsigned long long seed = 42;
    char err[TAM_ERRLEN];
    optind = 1;
    while ((o = getopt_long(argc, argv, "T:c:k:w:f:g:s:F:o:m:t:h", opts, NULL)) != -1) {
        switch (o) {
        case 'T':
            if (n_tr == (int)(sizeof traces / sizeof traces[0])) {
                fprintf(stderr, "tam stepcheck: at most %d --trace\n", n_tr);
                return 2;
            }
            traces[n_tr++] = optarg;
            break;
        case 'c': e.config = optarg; break;
        case 'P': e.preset = optarg; break;
        case 'm': e.model = optarg; break;
        case 't': e.tp = atoi(optarg); break;
        case 'k': e.kernels = optarg; break;
        case 'w': e.hardware = optarg; break;
        case 'f': e.mfu = optarg; break;
        case 'g': e.gemm_mfu = optarg; break;
        case 's': {
            char *end;
            seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end) {
                fprintf(stderr, "tam stepcheck: --seed: '%s' is not a whole number\n", optarg);
                return 2;
            }
            break;
        }
        case 'F': fmt = optarg; break;
        case 'o': outp = optarg; break;
        case 'h':
            fputs(sc_usage, stdout);
            inputs_preset_help(stdout);
            return 0;
        default: fputs(sc_usage, stderr); return 2;
        }
    }
    if (!n_tr || optind < argc || (strcmp(fmt, "text") && strcmp(fmt, "csv"))) {
        fputs(sc_usage, stderr);
        return 2;
    }
    int csv = strcmp(fmt, "csv") == 0;
    FILE *f = cli_open_out(outp, err);
    if (!f) {
        fprintf(stderr, "tam stepcheck: %s\n", err);
        return 1;
    }
    if (csv)
        fputs("trace,point,kind,bucket,n_measured,n_predicted,measured_mean_ms,predicted_mean_ms,"
              "measured_median_ms,predicted_median_ms,measured_p90_ms,predicted_p90_ms,"
              "measured_min_ms,predicted_min_ms\n", f);
    for (int i = 0; i < n_tr; i++)
        if (check_trace(traces[i], &e, seed, f, csv, err)) {
            fprintf(stderr, "tam stepcheck: %s\n", err);
            cli_abort_out(f);
            return 1;
        }
    if (cli_close_out(f, outp, err)) {
        fprintf(stderr, "tam stepcheck: %s\n", err);
        return 1;
    }
    return 0;
}
