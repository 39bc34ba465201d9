/* tools/cli/cmd_simulate.c - `tam simulate`: a workload in, per-request results out. */
#include "calib.h"
#include "cli.h"
#include "runner.h"
#include "workload.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sim_usage[] =
    "usage: tam simulate (--trace DIR | --workload CSV) [options]\n"
    "Run requests through the vLLM V1 scheduler model and the step-time model.\n"
    "  --trace DIR        a measured run: inference-perf, GuideLLM or BLIS TraceV2\n"
    "                     folder; limits, model and TP default to the run's own;\n"
    "                     output carries the measured TTFT/E2E beside each prediction\n"
    "  --workload CSV     columns t_send_s,prompt_tokens,output_tokens\n"
    "                     [,prefix_group,prefix_tokens]; needs --model, --kv-blocks\n"
    "  --preset NAME      a shipped engine configuration (below); with neither\n"
    "                     --preset nor --config: the default preset, the best\n"
    "                     validated model; --preset baseline: the proposal's\n"
    "                     roofline v2 baseline\n"
    "  --config F         an engine configuration file, read over the baseline's\n"
    "                     defaults (tam config --help); not with --preset\n"
    "  --model M --tp N --kernels SET --hardware F --mfu DIR --gemm-mfu CSV\n"
    "                     (see tam step --help)\n"
    "  --coeffs FILE      a Tier 1 coefficient file (tam calibrate): its \"config\"\n"
    "                     keys are merged over --config (or the baseline)\n"
    "  --max-num-batched-tokens N (2048)  --max-num-seqs N (128)\n"
    "  --max-model-len N (4096)  --kv-blocks N  --block-size N (16)\n"
    "                     with --trace they replace the run's own limits (said on\n"
    "                     stderr): the same load on another server\n"
    "  --max-inflight N   client concurrency limit for --workload (0 = open loop)\n"
    "  --client-limit N   client concurrency limit for a --trace replay: a request\n"
    "                     goes at max(its recorded time, a free slot), FIFO;\n"
    "                     0 = none; default: the limit the reader inferred from\n"
    "                     the record (TraceV2), else none\n"
    "  --seed N           seeds what a trace did not record (default 42)\n"
    "  --steps FILE       also write one CSV row per engine step (time series):\n"
    "                     t_s,dt_s,prefill_chunks,decodes,tokens,running,waiting,\n"
    "                     free_blocks; with --trace a first column unit (each\n"
    "                     simulation unit, e.g. a GuideLLM benchmark, starts at t 0)\n"
    "  --allow-rejected   a request that can never fit (KV cache, max_model_len) is\n"
    "                     reported and skipped; without it, it is an error (exit 1)\n"
    "  --format csv|json  (csv)   -o FILE (stdout)\n"
    "A summary (per load point: mean predicted vs measured) goes to stderr.\n";

static void write_step(void *ctx, const sim_step_info_t *s)
{
    fprintf((FILE *)ctx, "%.9g,%.9g,%d,%d,%d,%d,%d,%d\n", s->t, s->dt, s->n_prefill, s->n_decode,
            s->tokens, s->running, s->waiting, s->free_blocks);
}

static void write_unit_step(void *ctx, int unit, const sim_step_info_t *s)
{
    fprintf((FILE *)ctx, "%d,", unit);
    write_step(ctx, s);
}

static double nz(double x)
{
    return isfinite(x) ? x : NAN;
}

/* Failed requests (kept in the load, out of the metrics) and what the client did. */
static void summary_load(const trace_t *t)
{
    static const char *src[4] = {"as recorded", "from the server log", "client estimate",
                                 "not recorded, the run's typical request"};
    int nf = 0, by[4] = {0};
    long long in[4] = {0}, out[4] = {0};
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *q = &t->req[i];
        if (q->ok)
            continue;
        int k = q->tok_src >= 0 && q->tok_src < 4 ? q->tok_src : 0;
        nf++;
        by[k]++;
        in[k] += q->in_tokens;
        out[k] += q->out_tokens;
    }
    if (nf) {
        fprintf(stderr, "failed requests: %d of %d, kept in the load, out of the metrics; tokens:", nf,
                t->n_req);
        for (int k = 0, first = 1; k < 4; k++)
            if (by[k]) {
                fprintf(stderr, "%s %d %s (mean %.0f in / %.0f out)", first ? "" : ";", by[k], src[k],
                        (double)in[k] / by[k], (double)out[k] / by[k]);
                first = 0;
            }
        fputc('\n', stderr);
    }
    for (int pt = 0; pt < t->n_points; pt++) {
        const trace_point_t *p = &t->points[pt];
        if (p->kind != ARR_REPLAY || (!p->inflight_max && !p->max_concurrency))
            continue;
        fprintf(stderr, "client %s:", p->name);
        if (p->inflight_max)
            fprintf(stderr, " max in flight %d, median send lag %.3f s;", p->inflight_max, p->lag_median);
        if (p->client_limit)
            fprintf(stderr, " inferred limit %d", p->client_limit);
        else
            fprintf(stderr, " no limit inferred");
        if (p->max_concurrency == p->client_limit)
            fprintf(stderr, "%s\n", p->client_limit ? " (used)" : "");
        else if (p->max_concurrency)
            fprintf(stderr, "; --client-limit %d used\n", p->max_concurrency);
        else
            fprintf(stderr, " (not used: --client-limit 0)\n");
    }
}

static void summary(const trace_t *t, const pred_t *p, const run_stats_t *st)
{
    fprintf(stderr, "steps %lld, simulated %.1f s, wall %.3f s, preemptions %lld, rejected %d\n",
            st->steps, st->sim_seconds, st->wall_seconds, st->preemptions, st->rejected);
    summary_load(t);
    fprintf(stderr, "%-20s %6s %10s %10s %10s %10s %10s %10s\n", "load point", "n", "TTFT ms",
            "meas", "TPOT ms", "meas", "E2E s", "meas");
    for (int pt = 0; pt < t->n_points; pt++) {
        double a[6] = {0};
        int n = 0, nt = 0;
        for (int i = 0; i < t->n_req; i++) {
            const trace_req_t *q = &t->req[i];
            if (q->point != pt || !q->ok || p[i].rejected)
                continue;
            n++;
            a[0] += p[i].ttft;
            a[1] += q->ttft;
            a[4] += p[i].e2e;
            a[5] += q->e2e;
            if (q->out_tokens > 1) {
                nt++;
                a[2] += p[i].tpot;
                a[3] += trace_tpot(q->ttft, q->e2e, q->out_tokens);
            }
        }
        if (!n)
            continue;
        fprintf(stderr, "%-20s %6d %10.2f %10.2f %10.3f %10.3f %10.3f %10.3f\n",
                t->points[pt].name, n, 1e3 * a[0] / n, 1e3 * a[1] / n,
                nt ? 1e3 * a[2] / nt : NAN, nt ? 1e3 * a[3] / nt : NAN, a[4] / n, a[5] / n);
    }
}

/* {====== cmd_simulate, phase by phase ======
** Options, then loading (trace, inputs, coefficients), then the run and its
** output: a trace's points or a workload CSV's rows. */
typedef struct {
    inputs_t e;
    const char *trace_dir, *wl_path, *fmt, *outp, *steps_path, *coeffs, *client_limit;
    unsigned long long seed;
    int mnbt, mseqs, mlen, kvb, bsz, inflight, allow_rej;
    unsigned limits_given; /* LIM_* bits: server limits given on the command line */
} sim_opts_t;

enum { LIM_MNBT = 1, LIM_SEQS = 2, LIM_LEN = 4, LIM_KV = 8, LIM_BSZ = 16 };

/* What a run holds, freed in one place. */
typedef struct {
    model_t m;
    hw_t hw;
    econf_t c;
    kset_t *ks;
    step_model_t *sm;
    FILE *f, *sf;      /* the output, the --steps file */
    trace_t *t;
    pred_t *p;
    workload_t w;
    sim_out_t *so;
    char mpath[1024];  /* the trace's model folder */
} sim_state_t;

/* The options; returns -1 to go on, else the exit status. */
static int sim_parse(int argc, char **argv, sim_opts_t *a)
{
    static const struct option opts[] = {
        {"trace", required_argument, 0, 'T'},   {"workload", required_argument, 0, 'W'},
        {"model", required_argument, 0, 'm'},   {"tp", required_argument, 0, 't'},
        {"config", required_argument, 0, 'c'},  {"hardware", required_argument, 0, 'w'},
        {"mfu", required_argument, 0, 'f'},     {"seed", required_argument, 0, 's'},
        {"format", required_argument, 0, 'F'},  {"output", required_argument, 0, 'o'},
        {"max-num-batched-tokens", required_argument, 0, 1},
        {"max-num-seqs", required_argument, 0, 2},
        {"max-model-len", required_argument, 0, 3},
        {"kv-blocks", required_argument, 0, 4}, {"block-size", required_argument, 0, 5},
        {"max-inflight", required_argument, 0, 6},
        {"steps", required_argument, 0, 7},     {"allow-rejected", no_argument, 0, 8},
        {"coeffs", required_argument, 0, 9},    {"gemm-mfu", required_argument, 0, 10},
        {"client-limit", required_argument, 0, 11},
        {"kernels", required_argument, 0, 12},  {"preset", required_argument, 0, 13},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    inputs_t *e = &a->e;
    inputs_init(e);
    e->tp = 0;
    e->default_preset = 1;
    a->fmt = "csv";
    a->seed = 42;
    a->mnbt = 2048;
    a->mseqs = 128;
    a->mlen = 4096;
    a->bsz = 16;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "T:W:m:t:c:w:f:s:F:o:h", opts, NULL)) != -1) {
        switch (o) {
        case 'T': a->trace_dir = optarg; break;
        case 'W': a->wl_path = optarg; break;
        case 'm': e->model = optarg; break;
        case 't': e->tp = atoi(optarg); break;
        case 'c': e->config = optarg; break;
        case 'w': e->hardware = optarg; break;
        case 'f': e->mfu = optarg; break;
        case 's': a->seed = strtoull(optarg, NULL, 10); break;
        case 'F': a->fmt = optarg; break;
        case 'o': a->outp = optarg; break;
        case 1: a->mnbt = atoi(optarg), a->limits_given |= LIM_MNBT; break;
        case 2: a->mseqs = atoi(optarg), a->limits_given |= LIM_SEQS; break;
        case 3: a->mlen = atoi(optarg), a->limits_given |= LIM_LEN; break;
        case 4: a->kvb = atoi(optarg), a->limits_given |= LIM_KV; break;
        case 5: a->bsz = atoi(optarg), a->limits_given |= LIM_BSZ; break;
        case 6: a->inflight = atoi(optarg); break;
        case 7: a->steps_path = optarg; break;
        case 8: a->allow_rej = 1; break;
        case 9: a->coeffs = optarg; break;
        case 10: e->gemm_mfu = optarg; break;
        case 11: a->client_limit = optarg; break;
        case 12: e->kernels = optarg; break;
        case 13: e->preset = optarg; break;
        case 'h':
            fputs(sim_usage, stdout);
            inputs_preset_help(stdout);
            return 0;
        default: fputs(sim_usage, stderr); return 2;
        }
    }
    if (!!a->trace_dir == !!a->wl_path || (strcmp(a->fmt, "csv") && strcmp(a->fmt, "json"))) {
        fputs(sim_usage, stderr);
        return 2;
    }
    return -1;
}

/* --client-limit as a number (-1 when not given). */
static int sim_client_limit(const sim_opts_t *a, long *climit, char *err)
{
    *climit = -1;
    if (!a->client_limit)
        return TAM_OK;
    char *end;
    *climit = strtol(a->client_limit, &end, 10);
    if (!a->trace_dir)
        return tam_fail(err, TAM_EFIELD, "--client-limit applies to --trace (use --max-inflight with --workload)");
    if (!*a->client_limit || *end || *climit < 0 || *climit > 1000000000)
        return tam_fail(err, TAM_EFIELD, "--client-limit: '%s' is not a whole number of requests in "
                        "[0, 1000000000] (0 = no limit)", a->client_limit);
    return TAM_OK;
}

/* The trace, its client limit, and the model and TP it defaults to. */
static int sim_load_trace(sim_opts_t *a, long climit, sim_state_t *s, char *err)
{
    inputs_t *e = &a->e;
    if (trace_load(a->trace_dir, &s->t, err))
        return 1;
    trace_t *t = s->t;
    if (climit >= 0) { /* replayed points only: GuideLLM strategies carry their own */
        int n_replay = 0;
        for (int pt = 0; pt < t->n_points; pt++)
            if (t->points[pt].kind == ARR_REPLAY) {
                t->points[pt].max_concurrency = (int)climit;
                n_replay++;
            }
        if (!n_replay)
            return tam_fail(err, TAM_EFIELD, "--client-limit: %s has no replayed load point (its "
                            "%s strategies set their own concurrency)", a->trace_dir, t->format);
    }
    /* Server limits given on the command line replace the run's own (a
    ** what-if: the same load on a server with other limits); said, because
    ** the prediction no longer describes the server that was measured. */
    if (a->limits_given) {
        struct { unsigned bit; int *field, value; const char *name; } lim[] = {
            {LIM_MNBT, &t->max_num_batched_tokens, a->mnbt, "max-num-batched-tokens"},
            {LIM_SEQS, &t->max_num_seqs, a->mseqs, "max-num-seqs"},
            {LIM_LEN, &t->max_model_len, a->mlen, "max-model-len"},
            {LIM_KV, &t->kv_blocks, a->kvb, "kv-blocks"},
            {LIM_BSZ, &t->block_size, a->bsz, "block-size"},
        };
        for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++) {
            if (!(a->limits_given & lim[k].bit))
                continue;
            if (lim[k].value < 1)
                return tam_fail(err, TAM_EFIELD, "--%s: %d is not a positive number", lim[k].name,
                                lim[k].value);
            fprintf(stderr, "tam simulate: note: --%s %d replaces the run's %d\n", lim[k].name,
                    lim[k].value, *lim[k].field);
            *lim[k].field = lim[k].value;
        }
    }
    if (!e->model) {
        if (runner_model_dir(e->data, t->model_id, s->mpath, sizeof s->mpath))
            return tam_fail(err, TAM_EFIELD, "%s: no config for model '%s' under %s/models; pass "
                            "--model", a->trace_dir, t->model_id, e->data);
        e->model = s->mpath;
    }
    if (!e->tp)
        e->tp = t->tp;
    return TAM_OK;
}

/* Tier 1: merge the fitted keys, rebuild the step model. */
static int sim_apply_coeffs(const sim_opts_t *a, sim_state_t *s, char *err)
{
    const char *coeffs = a->coeffs;
    char h[17];
    econf_coeffs_meta_t cm;
    econf_hash(&s->c, h);
    if (econf_load_coeffs(coeffs, &s->c, &cm, err))
        return 1;
    /* Applying coefficients over something else than they were fitted
    ** on is allowed (that is what staleness measures), but said. */
    if (cm.base_hash[0] && strcmp(cm.base_hash, h))
        fprintf(stderr, "tam simulate: note: %s was fitted over base configuration %s; "
                "this run's base is %s\n", coeffs, cm.base_hash, h);
    if (strcmp(cm.hardware_measured, s->hw.measured))
        fprintf(stderr, "tam simulate: note: %s was fitted over hardware profile '%s'; "
                "this run uses '%s'\n", coeffs,
                cm.hardware_measured[0] ? cm.hardware_measured : "datasheet (not measured)",
                s->hw.measured[0] ? s->hw.measured : "datasheet (not measured)");
    if (strcmp(cm.gemm_table, a->e.gemm_mfu ? a->e.gemm_mfu : ""))
        fprintf(stderr, "tam simulate: note: %s was fitted with GEMM table %s; this run "
                "uses %s\n", coeffs, cm.gemm_table[0] ? cm.gemm_table : "the --mfu folder's",
                a->e.gemm_mfu ? a->e.gemm_mfu : "the --mfu folder's");
    step_model_free(s->sm);
    s->sm = NULL;
    return step_model_new(&s->m, &s->hw, s->ks, a->e.tp, &s->c, &s->sm, err);
}

/* A trace: simulate every point, one row per request, then the summary. */
static int sim_trace(const sim_opts_t *a, sim_state_t *s, char *err)
{
    trace_t *t = s->t;
    FILE *f = s->f;
    run_stats_t st;
    if (a->steps_path) {
        if (!(s->sf = cli_open_aux(a->steps_path, err)))
            return 1;
        fprintf(s->sf, "unit,t_s,dt_s,prefill_chunks,decodes,tokens,running,waiting,free_blocks\n");
    }
    if (runner_simulate_trace_steps(s->sm, t, a->seed, s->sf ? write_unit_step : NULL, s->sf, &s->p, &st,
                                    err))
        return 1;
    int json = strcmp(a->fmt, "json") == 0;
    fprintf(f, json ? "[\n" : "point,index,arrival_s,scheduled_s,first_token_s,last_token_s,"
                              "ttft_s,tpot_s,e2e_s,prompt,output,preemptions,prefix_hit,"
                              "rejected,ok,measured_ttft_s,measured_tpot_s,measured_e2e_s\n");
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *q = &t->req[i];
        const pred_t *r = &s->p[i];
        double mt = q->ok ? trace_tpot(q->ttft, q->e2e, q->out_tokens) : NAN;
        if (json)
            fprintf(f, "%s{\"point\":\"%s\",\"index\":%d,\"ttft_s\":%.9g,\"tpot_s\":%.9g,"
                    "\"e2e_s\":%.9g,\"arrival_s\":%.9g,\"preemptions\":%d,\"rejected\":%d,"
                    "\"measured_ttft_s\":%.9g,\"measured_e2e_s\":%.9g}", i ? ",\n" : "",
                    t->points[q->point].name, q->index, nz(r->ttft), nz(r->tpot), nz(r->e2e),
                    r->arrival, r->preemptions, r->rejected, nz(q->ttft), nz(q->e2e));
        else
            fprintf(f, "%s,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d,%d,%d,%d,%d,%.9g,%.9g,"
                    "%.9g\n", t->points[q->point].name, q->index, r->arrival, r->scheduled,
                    r->first_token, r->last_token, r->ttft, r->tpot, r->e2e, q->in_tokens,
                    q->out_tokens, r->preemptions, r->prefix_hit_tokens, r->rejected, q->ok,
                    q->ttft, mt, q->e2e);
    }
    if (json)
        fprintf(f, "\n]\n");
    summary(t, s->p, &st);
    return TAM_OK;
}

/* A workload's rows (coefficients' residuals applied), then mean TTFT,
** TPOT and E2E on stderr. */
static void sim_workload_print(const sim_opts_t *a, const sim_state_t *s, const sim_stats_t *ss)
{
    const workload_t *w = &s->w;
    FILE *f = s->f;
    int json = strcmp(a->fmt, "json") == 0;
    fprintf(f, json ? "[\n" : "row,t_send_s,arrival_s,scheduled_s,first_token_s,last_token_s,"
                              "ttft_s,tpot_s,e2e_s,prompt,output,preemptions,prefix_hit,"
                              "rejected\n");
    double sums[3] = {0};
    int nok = 0, ntp = 0;
    for (int i = 0; i < w->n; i++) {
        const sim_out_t *r = &s->so[i];
        double ttft = r->first_token - r->arrival, e2e = r->last_token - r->arrival;
        double tpot = trace_tpot(ttft, e2e, w->req[i].output);
        double ft = r->first_token, lt = r->last_token;
        if (!r->rejected && calib_resid_active(&s->c)) { /* as tools/harness/runner.c does */
            calib_resid_apply(&s->c, w->req[i].prompt, w->req[i].output, &ttft, &tpot, &e2e);
            ft = r->arrival + ttft;
            lt = r->arrival + e2e;
        }
        if (!r->rejected) {
            nok++;
            sums[0] += ttft;
            sums[2] += e2e;
            if (isfinite(tpot)) {
                sums[1] += tpot;
                ntp++;
            }
        }
        if (json)
            fprintf(f, "%s{\"row\":%d,\"ttft_s\":%.9g,\"tpot_s\":%.9g,\"e2e_s\":%.9g,"
                    "\"arrival_s\":%.9g,\"preemptions\":%d,\"rejected\":%d%s%s%s}",
                    i ? ",\n" : "", i, nz(ttft), nz(tpot), nz(e2e), r->arrival,
                    r->preemptions, r->rejected, r->rejected ? ",\"reason\":\"" : "",
                    r->rejected ? r->reason : "", r->rejected ? "\"" : "");
        else
            fprintf(f, "%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d,%d,%d,%d\n", i,
                    w->req[i].t_send, r->arrival, r->scheduled, ft, lt,
                    ttft, tpot, e2e, w->req[i].prompt, w->req[i].output, r->preemptions,
                    r->prefix_hit_tokens, r->rejected);
    }
    if (json)
        fprintf(f, "\n]\n");
    fprintf(stderr, "steps %lld, simulated %.3f s, preemptions %lld, rejected %d; mean TTFT "
            "%.2f ms, TPOT %.3f ms, E2E %.3f s over %d requests\n", ss->steps, ss->t_end,
            ss->preemptions, ss->rejected, nok ? 1e3 * sums[0] / nok : NAN,
            ntp ? 1e3 * sums[1] / ntp : NAN, nok ? sums[2] / nok : NAN, nok);
}

/* A workload CSV: simulate it under the command line's limits. */
static int sim_workload(const sim_opts_t *a, sim_state_t *s, char *err)
{
    workload_t *w = &s->w;
    if (wl_load_csv(a->wl_path, w, err))
        return 1;
    if (a->kvb <= 0)
        return tam_fail(err, TAM_EFIELD, "--kv-blocks is required with --workload");
    s->so = calloc((size_t)w->n, sizeof *s->so);
    sim_cfg_t cfg = {.max_num_batched_tokens = a->mnbt, .max_num_seqs = a->mseqs,
                     .max_model_len = a->mlen, .kv_blocks = a->kvb, .block_size = a->bsz,
                     .prefix_caching = 1, .max_inflight = a->inflight};
    runner_sim_conf(&s->c, NULL, &cfg);
    if (a->steps_path) {
        if (!(s->sf = cli_open_aux(a->steps_path, err)))
            return 1;
        fprintf(s->sf, "t_s,dt_s,prefill_chunks,decodes,tokens,running,waiting,free_blocks\n");
        cfg.on_step = write_step;
        cfg.on_step_ctx = s->sf;
    }
    sim_stats_t ss;
    if (sim_run(s->sm, &cfg, w->req, w->n, s->so, &ss, err))
        return 1;
    for (int i = 0; i < w->n && !a->allow_rej; i++)
        if (s->so[i].rejected)
            return tam_fail(err, TAM_EFIT, "%s: row %d (prompt %d + output %d tokens): %s "
                            "(--kv-blocks %d x --block-size %d, --max-model-len %d); "
                            "--allow-rejected skips such requests", a->wl_path, i + 1, w->req[i].prompt,
                            w->req[i].output, s->so[i].reason, a->kvb, a->bsz, a->mlen);
    sim_workload_print(a, s, &ss);
    return TAM_OK;
}

/* }====== */

int cmd_simulate(int argc, char **argv)
{
    sim_opts_t a = {0};
    int rc = sim_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    char err[TAM_ERRLEN];
    sim_state_t s = {0};
    long climit;
    rc = 1;
    if (sim_client_limit(&a, &climit, err))
        goto fail;
    if (a.trace_dir && sim_load_trace(&a, climit, &s, err))
        goto fail;
    if (!a.e.tp)
        a.e.tp = 1;
    if (inputs_build(&a.e, &s.m, &s.hw, &s.ks, &s.c, &s.sm, err))
        goto fail;
    if (a.coeffs && sim_apply_coeffs(&a, &s, err))
        goto fail;
    if (!(s.f = cli_open_out(a.outp, err)))
        goto fail;
    if (s.t ? sim_trace(&a, &s, err) : sim_workload(&a, &s, err))
        goto fail;
    if (s.sf && cli_close_aux(s.sf, a.steps_path, err)) {
        s.sf = NULL;
        goto fail;
    }
    s.sf = NULL;
    if (cli_close_out(s.f, a.outp, err)) {
        s.f = NULL;
        goto fail;
    }
    s.f = NULL;
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "tam simulate: %s\n", err);
    cli_abort_out(s.f);
    cli_abort_aux(s.sf);
    free(s.so);
    free(s.p);
    wl_free(&s.w);
    trace_free(s.t);
    step_model_free(s.sm);
    kset_free(s.ks);
    return rc;
}
