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

int cmd_simulate(int argc, char **argv)
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
    inputs_t e;
    inputs_init(&e);
    e.tp = 0;
    e.default_preset = 1;
    const char *trace_dir = NULL, *wl_path = NULL, *fmt = "csv", *outp = NULL;
    unsigned long long seed = 42;
    int mnbt = 2048, mseqs = 128, mlen = 4096, kvb = 0, bsz = 16, inflight = 0, allow_rej = 0;
    const char *steps_path = NULL, *coeffs = NULL, *client_limit = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "T:W:m:t:c:w:f:s:F:o:h", opts, NULL)) != -1) {
        switch (o) {
        case 'T': trace_dir = optarg; break;
        case 'W': wl_path = optarg; break;
        case 'm': e.model = optarg; break;
        case 't': e.tp = atoi(optarg); break;
        case 'c': e.config = optarg; break;
        case 'w': e.hardware = optarg; break;
        case 'f': e.mfu = optarg; break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'F': fmt = optarg; break;
        case 'o': outp = optarg; break;
        case 1: mnbt = atoi(optarg); break;
        case 2: mseqs = atoi(optarg); break;
        case 3: mlen = atoi(optarg); break;
        case 4: kvb = atoi(optarg); break;
        case 5: bsz = atoi(optarg); break;
        case 6: inflight = atoi(optarg); break;
        case 7: steps_path = optarg; break;
        case 8: allow_rej = 1; break;
        case 9: coeffs = optarg; break;
        case 10: e.gemm_mfu = optarg; break;
        case 11: client_limit = optarg; break;
        case 12: e.kernels = optarg; break;
        case 13: e.preset = optarg; break;
        case 'h':
            fputs(sim_usage, stdout);
            inputs_preset_help(stdout);
            return 0;
        default: fputs(sim_usage, stderr); return 2;
        }
    }
    if (!!trace_dir == !!wl_path || (strcmp(fmt, "csv") && strcmp(fmt, "json"))) {
        fputs(sim_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN], mpath[1024];
    model_t m;
    hw_t hw;
    econf_t c;
    kset_t *ks = NULL;
    step_model_t *sm = NULL;
    int rc = 1;
    FILE *f = NULL, *sf = NULL;
    trace_t *t = NULL;
    pred_t *p = NULL;
    workload_t w = {0};
    sim_out_t *so = NULL;
    long climit = -1;
    if (client_limit) {
        char *end;
        climit = strtol(client_limit, &end, 10);
        if (!trace_dir) {
            tam_fail(err, TAM_EFIELD, "--client-limit applies to --trace (use --max-inflight with --workload)");
            goto fail;
        }
        if (!*client_limit || *end || climit < 0 || climit > 1000000000) {
            tam_fail(err, TAM_EFIELD, "--client-limit: '%s' is not a whole number of requests in "
                     "[0, 1000000000] (0 = no limit)", client_limit);
            goto fail;
        }
    }
    if (trace_dir) {
        if (trace_load(trace_dir, &t, err))
            goto fail;
        if (climit >= 0) { /* replayed points only: GuideLLM strategies carry their own */
            int n_replay = 0;
            for (int pt = 0; pt < t->n_points; pt++)
                if (t->points[pt].kind == ARR_REPLAY) {
                    t->points[pt].max_concurrency = (int)climit;
                    n_replay++;
                }
            if (!n_replay) {
                tam_fail(err, TAM_EFIELD, "--client-limit: %s has no replayed load point (its "
                         "%s strategies set their own concurrency)", trace_dir, t->format);
                goto fail;
            }
        }
        if (!e.model) {
            if (runner_model_dir(e.data, t->model_id, mpath, sizeof mpath)) {
                tam_fail(err, TAM_EFIELD, "%s: no config for model '%s' under %s/models; pass "
                         "--model", trace_dir, t->model_id, e.data);
                goto fail;
            }
            e.model = mpath;
        }
        if (!e.tp)
            e.tp = t->tp;
    }
    if (!e.tp)
        e.tp = 1;
    if (inputs_build(&e, &m, &hw, &ks, &c, &sm, err))
        goto fail;
    if (coeffs) { /* Tier 1: merge the fitted keys, rebuild the step model */
        char h[17];
        econf_coeffs_meta_t cm;
        econf_hash(&c, h);
        if (econf_load_coeffs(coeffs, &c, &cm, err))
            goto fail;
        /* Applying coefficients over something else than they were fitted
        ** on is allowed (that is what staleness measures), but said. */
        if (cm.base_hash[0] && strcmp(cm.base_hash, h))
            fprintf(stderr, "tam simulate: note: %s was fitted over base configuration %s; "
                    "this run's base is %s\n", coeffs, cm.base_hash, h);
        if (strcmp(cm.hardware_measured, hw.measured))
            fprintf(stderr, "tam simulate: note: %s was fitted over hardware profile '%s'; "
                    "this run uses '%s'\n", coeffs,
                    cm.hardware_measured[0] ? cm.hardware_measured : "datasheet (not measured)",
                    hw.measured[0] ? hw.measured : "datasheet (not measured)");
        if (strcmp(cm.gemm_table, e.gemm_mfu ? e.gemm_mfu : ""))
            fprintf(stderr, "tam simulate: note: %s was fitted with GEMM table %s; this run "
                    "uses %s\n", coeffs, cm.gemm_table[0] ? cm.gemm_table : "the --mfu folder's",
                    e.gemm_mfu ? e.gemm_mfu : "the --mfu folder's");
        step_model_free(sm);
        sm = NULL;
        if (step_model_new(&m, &hw, ks, e.tp, &c, &sm, err))
            goto fail;
    }
    run_stats_t st;
    if (!(f = cli_open_out(outp, err)))
        goto fail;
    if (t) {
        if (steps_path) {
            if (!(sf = cli_open_aux(steps_path, err)))
                goto fail;
            fprintf(sf, "unit,t_s,dt_s,prefill_chunks,decodes,tokens,running,waiting,free_blocks\n");
        }
        if (runner_simulate_trace_steps(sm, t, seed, sf ? write_unit_step : NULL, sf, &p, &st,
                                        err))
            goto fail;
        int json = strcmp(fmt, "json") == 0;
        fprintf(f, json ? "[\n" : "point,index,arrival_s,scheduled_s,first_token_s,last_token_s,"
                                  "ttft_s,tpot_s,e2e_s,prompt,output,preemptions,prefix_hit,"
                                  "rejected,ok,measured_ttft_s,measured_tpot_s,measured_e2e_s\n");
        for (int i = 0; i < t->n_req; i++) {
            const trace_req_t *q = &t->req[i];
            const pred_t *r = &p[i];
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
        summary(t, p, &st);
    } else {
        if (wl_load_csv(wl_path, &w, err))
            goto fail;
        if (kvb <= 0) {
            tam_fail(err, TAM_EFIELD, "--kv-blocks is required with --workload");
            goto fail;
        }
        so = calloc((size_t)w.n, sizeof *so);
        sim_cfg_t cfg = {.max_num_batched_tokens = mnbt, .max_num_seqs = mseqs,
                         .max_model_len = mlen, .kv_blocks = kvb, .block_size = bsz,
                         .prefix_caching = 1, .max_inflight = inflight};
        runner_sim_conf(&c, NULL, &cfg);
        if (steps_path) {
            if (!(sf = cli_open_aux(steps_path, err)))
                goto fail;
            fprintf(sf, "t_s,dt_s,prefill_chunks,decodes,tokens,running,waiting,free_blocks\n");
            cfg.on_step = write_step;
            cfg.on_step_ctx = sf;
        }
        sim_stats_t ss;
        if (sim_run(sm, &cfg, w.req, w.n, so, &ss, err))
            goto fail;
        for (int i = 0; i < w.n && !allow_rej; i++)
            if (so[i].rejected) {
                tam_fail(err, TAM_EFIT, "%s: row %d (prompt %d + output %d tokens): %s "
                         "(--kv-blocks %d x --block-size %d, --max-model-len %d); "
                         "--allow-rejected skips such requests", wl_path, i + 1, w.req[i].prompt,
                         w.req[i].output, so[i].reason, kvb, bsz, mlen);
                goto fail;
            }
        int json = strcmp(fmt, "json") == 0;
        fprintf(f, json ? "[\n" : "row,t_send_s,arrival_s,scheduled_s,first_token_s,last_token_s,"
                                  "ttft_s,tpot_s,e2e_s,prompt,output,preemptions,prefix_hit,"
                                  "rejected\n");
        double sums[3] = {0};
        int nok = 0, ntp = 0;
        for (int i = 0; i < w.n; i++) {
            const sim_out_t *r = &so[i];
            double ttft = r->first_token - r->arrival, e2e = r->last_token - r->arrival;
            double tpot = trace_tpot(ttft, e2e, w.req[i].output);
            double ft = r->first_token, lt = r->last_token;
            if (!r->rejected && calib_resid_active(&c)) { /* as tools/harness/runner.c does */
                calib_resid_apply(&c, w.req[i].prompt, w.req[i].output, &ttft, &tpot, &e2e);
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
                        w.req[i].t_send, r->arrival, r->scheduled, ft, lt,
                        ttft, tpot, e2e, w.req[i].prompt, w.req[i].output, r->preemptions,
                        r->prefix_hit_tokens, r->rejected);
        }
        if (json)
            fprintf(f, "\n]\n");
        fprintf(stderr, "steps %lld, simulated %.3f s, preemptions %lld, rejected %d; mean TTFT "
                "%.2f ms, TPOT %.3f ms, E2E %.3f s over %d requests\n", ss.steps, ss.t_end,
                ss.preemptions, ss.rejected, nok ? 1e3 * sums[0] / nok : NAN,
                ntp ? 1e3 * sums[1] / ntp : NAN, nok ? sums[2] / nok : NAN, nok);
    }
    if (sf && cli_close_aux(sf, steps_path, err)) {
        sf = NULL;
        goto fail;
    }
    sf = NULL;
    if (cli_close_out(f, outp, err)) {
        f = NULL;
        goto fail;
    }
    f = NULL;
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "tam simulate: %s\n", err);
    cli_abort_out(f);
    cli_abort_aux(sf);
    free(so);
    free(p);
    wl_free(&w);
    trace_free(t);
    step_model_free(sm);
    kset_free(ks);
    return rc;
}
