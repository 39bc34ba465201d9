/* tools/cmd_bench.c - `tam bench`: speed and memory of one experiment end to end.
** Reports the median of several repetitions for (a) loading the trace alone,
** the floor every simulation pays, and (b) loading + simulating, so the ratio
** to that floor is visible.  Wall-clock time here is a measurement reported to
** the user, never a result stored or asserted. */
#include "cli.h"
#include "runner.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char bench_usage[] =
    "usage: tam bench [--trace DIR] [--model M] [--reps N] [--config F] [--data DIR]\n"
    "Default trace: the largest corpus workload (experiment 4: Llama-2-70B TP4,\n"
    "16,800 requests, two stages).  Prints median wall times of loading the trace\n"
    "alone and of load + simulate, requests/s, steps/s and peak resident memory.\n";

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trace", required_argument, 0, 'T'}, {"model", required_argument, 0, 'm'},
        {"reps", required_argument, 0, 'r'},  {"config", required_argument, 0, 'c'},
        {"data", required_argument, 0, 'D'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    cli_env_t e;
    cli_env_init(&e);
    const char *trace = NULL;
    int reps = 7, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'T': trace = optarg; break;
        case 'm': e.model = optarg; break;
        case 'r': reps = atoi(optarg); break;
        case 'c': e.config = optarg; break;
        case 'D': e.data = optarg; break;
        case 'h': fputs(bench_usage, stdout); return 0;
        default: fputs(bench_usage, stderr); return 2;
        }
    }
    if (reps < 1 || reps > 100) {
        fputs(bench_usage, stderr);
        return 2;
    }
    char dflt[1024], mpath[1024], err[TAM_ERRLEN];
    if (!trace) {
        snprintf(dflt, sizeof dflt, "%s/corpus/inference-perf/20260217-202857-llama-2-70b-tp4-general",
                 e.data);
        trace = dflt;
    }
    double *tl = calloc((size_t)reps, sizeof *tl), *ts = calloc((size_t)reps, sizeof *ts);
    trace_t *t = NULL;
    long long steps = 0;
    int nreq = 0, rc = 1;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (trace_load(trace, &t, err))
            goto fail;
        tl[r] = now() - t0;
        trace_free(t);
        t = NULL;
    }
    model_t m;
    hw_t hw;
    econf_t c;
    mfu_db_t *db = NULL;
    step_model_t *sm = NULL;
    if (trace_load(trace, &t, err))
        goto fail;
    if (!e.model) {
        if (runner_model_dir(e.data, t->model_id, mpath, sizeof mpath)) {
            tam_fail(err, TAM_EFIELD, "no model config for %s", t->model_id);
            goto fail;
        }
        e.model = mpath;
    }
    e.tp = t->tp;
    trace_free(t);
    t = NULL;
    if (cli_build(&e, &m, &hw, &db, &c, &sm, err))
        goto fail;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        pred_t *p;
        run_stats_t st;
        if (trace_load(trace, &t, err) || runner_simulate_trace(sm, t, 42, &p, &st, err)) {
            step_model_free(sm);
            mfu_free(db);
            goto fail;
        }
        ts[r] = now() - t0;
        steps = st.steps;
        nreq = t->n_req;
        free(p);
        trace_free(t);
        t = NULL;
    }
    step_model_free(sm);
    mfu_free(db);
    qsort(tl, (size_t)reps, sizeof *tl, cmp_d);
    qsort(ts, (size_t)reps, sizeof *ts, cmp_d);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double load = tl[reps / 2], total = ts[reps / 2], sim = total - load;
    printf("bench: %s\n", trace);
    printf("  requests            %d\n", nreq);
    printf("  steps               %lld\n", steps);
    printf("  load trace only     %.1f ms (median of %d; min %.1f, max %.1f)\n", 1e3 * load, reps,
           1e3 * tl[0], 1e3 * tl[reps - 1]);
    printf("  load + simulate     %.1f ms (median; min %.1f, max %.1f)\n", 1e3 * total,
           1e3 * ts[0], 1e3 * ts[reps - 1]);
    printf("  simulate alone      %.1f ms = %.0f requests/s, %.0f steps/s\n", 1e3 * sim,
           sim > 0 ? nreq / sim : 0, sim > 0 ? (double)steps / sim : 0);
    printf("  ratio to the floor  %.2fx (load + simulate / load only)\n", total / load);
    printf("  peak resident       %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "tam bench: %s\n", err);
    trace_free(t);
    free(tl);
    free(ts);
    return rc;
}
