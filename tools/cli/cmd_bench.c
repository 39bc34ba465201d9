/* tools/cli/cmd_bench.c - `tam bench`: speed and memory of one experiment end to end.
** Reports the median of several repetitions for (a) loading the trace alone,
** the floor every simulation pays, and (b) loading + simulating, so the ratio
** to that floor is visible.  Wall-clock time here is a measurement reported to
** the user, never a result stored or asserted. */
#include "cli.h"
#include "harness.h"
#include "runner.h"
#include "store.h"

#include <getopt.h>
#include <math.h>
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

/* One pass over the corpus into a scratch store: every experiment read,
** then either simulated (sim = 1) or its measured values copied as the
** "predictions" (sim = 0: the floor of reading the traces and inserting the
** same number of rows through the same store path), stored as one run. */
enum { PH_READ, PH_INGEST, PH_PREDICT, PH_STORE, PH_N };
static const char *const ph_name[PH_N] = {"read traces", "ingest measured", "predict", "store"};

/* Median over n repetitions of column k of an n x PH_N table, or of a plain
** array of n values when k < 0. */
static double median_col(const double *v, int n, int k)
{
    double x[100];
    for (int r = 0; r < n && r < 100; r++)
        x[r] = k < 0 ? v[r] : v[r * PH_N + k];
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static int corpus_pass(const manifest_t *m, const char *data, const char *dbpath, int sim,
                       const kset_t *ks, double *secs, double ph[PH_N], long long *rows,
                       char *err)
{
    store_t *s = NULL;
    int rc = store_open(dbpath, &s, err);
    if (rc)
        return rc;
    long long cid = 0;
    econf_t c;
    econf_baseline(&c);
    char canon[2048], h[17];
    if ((rc = kset_bind(ks, &c, err))) {
        store_close(s);
        return rc;
    }
    econf_canonical(&c, canon, sizeof canon);
    econf_hash(&c, h);
    if ((rc = store_config(s, "baseline", canon, h, "bench", &cid, err))) {
        store_close(s);
        return rc;
    }
    double t0 = now(), tp = t0;
    *rows = 0;
    memset(ph, 0, PH_N * sizeof *ph);
#define LAP(k) do { double tn_ = now(); ph[k] += tn_ - tp; tp = tn_; } while (0)
    for (int i = 0; i < m->n && !rc; i++) {
        char path[1024], mpath[1024];
        snprintf(path, sizeof path, "%s/%s", data, m->e[i].path);
        trace_t *t = NULL;
        rc = trace_load(path, &t, err);
        LAP(PH_READ);
        if (rc)
            break;
        exp_meta_t meta = {m->e[i].id, m->e[i].number, m->e[i].family, m->e[i].attention,
                           m->e[i].heavy, m->e[i].model, m->e[i].tp};
        int has = 0;
        if (!(rc = store_has_experiment(s, m->e[i].id, &has, err)) && !has)
            rc = store_ingest(s, &meta, t, err);
        LAP(PH_INGEST);
        pred_t *p = NULL;
        run_stats_t st = {0};
        if (!rc && sim) {
            model_t md;
            hw_t hw;
            step_model_t *sm = NULL;
            hw_h100_sxm(&hw);
            snprintf(mpath, sizeof mpath, "%s/models/%s", data, m->e[i].model);
            if (!(rc = model_load(mpath, &md, err)) &&
                !(rc = step_model_new(&md, &hw, ks, m->e[i].tp, &c, &sm, err)))
                rc = runner_simulate_trace(sm, t, 42, &p, &st, err);
            step_model_free(sm);
        } else if (!rc) {
            p = calloc((size_t)t->n_req, sizeof *p);
            for (int k = 0; p && k < t->n_req; k++) {
                const trace_req_t *q = &t->req[k];
                p[k] = (pred_t){.req_index = q->index, .point = q->point, .arrival = q->t_send,
                                .scheduled = q->t_send, .ttft = q->ttft, .e2e = q->e2e,
                                .tpot = trace_tpot(q->ttft, q->e2e, q->out_tokens)};
                if (!q->ok) /* no measured latency: any valid numbers cost the same */
                    p[k].ttft = p[k].e2e = 0.001, p[k].tpot = NAN;
                p[k].first_token = p[k].arrival + p[k].ttft;
                p[k].last_token = p[k].arrival + p[k].e2e;
            }
            if (!p)
                rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        }
        LAP(PH_PREDICT);
        long long run_id = 0;
        if (!rc && !(rc = store_run_begin(s, cid, m->e[i].id, sim ? 42 : 43, "BENCH",
                                          sim ? "sim" : "floor", &run_id, err)))
            rc = store_run_commit(s, run_id, p, t->n_req, &st, NULL, err);
        *rows += t->n_req;
        free(p);
        trace_free(t);
        LAP(PH_STORE);
    }
#undef LAP
    *secs = now() - t0;
    store_close(s);
    return rc;
}

static const char bench_usage[] =
    "usage: tam bench [--trace DIR] [--model M] [--reps N] [--config F] [--data DIR]\n"
    "       tam bench --corpus [--reps N] [--manifest FILE] [--data DIR]\n"
    "--corpus: the whole corpus into scratch stores, side by side: the floor (read\n"
    "every trace, insert the same number of prediction rows through the same store\n"
    "path) and the real thing (read, simulate with the baseline, store), alternating\n"
    "N times (default 3); prints the median of each phase and the ratio of medians.\n"
    "Without --corpus: one trace (default: the largest corpus workload, experiment\n"
    "4: Llama-2-70B TP4, 16,800 requests, two stages), N times (default 7).  Prints\n"
    "median wall times of loading the trace alone and of load + simulate,\n"
    "requests/s, steps/s and peak resident memory.\n";

/* --corpus: the medians of each phase, floor beside simulation. */
static void bench_corpus_print(const manifest_t *m, long long rf, long long rs, int reps, const double *tf,
                               const double *ts, const double *phf, const double *phs)
{
    printf("bench --corpus: %d experiments, %lld requests, median of %d\n", m->n, rs, reps);
    printf("  %-22s %10s %10s\n", "phase", "floor", "simulate");
    for (int k = 0; k < PH_N; k++)
        printf("  %-22s %9.3fs %9.3fs\n", ph_name[k], median_col(phf, reps, k),
               median_col(phs, reps, k));
    double mf = median_col(tf, reps, -1), ms = median_col(ts, reps, -1);
    printf("  %-22s %9.3fs %9.3fs\n", "total", mf, ms);
    printf("  floor = read the traces and insert the same %lld rows\n", rf);
    printf("  ratio to the floor      %.2fx (target <= 2x)\n", ms / mf);
}

/* --corpus: the floor and the real thing into scratch stores, N times;
** returns the exit status. */
static int bench_corpus(const inputs_t *e, const char *manifest, int reps)
{
    char err[TAM_ERRLEN];
    manifest_t m;
    kset_t *mdb = NULL;
    char dir[] = "/tmp/tam-bench-XXXXXX", p1[64], p2[64];
    hw_t hw0;
    hw_h100_sxm(&hw0);
    if (manifest_load(manifest, &m, err) ||
        kset_load(e->data, ECONF_DEFAULT_KERNELS, NULL, NULL, &hw0, &mdb, err) ||
        !mkdtemp(dir)) {
        fprintf(stderr, "tam bench: %s\n", err);
        return 1;
    }
    snprintf(p1, sizeof p1, "%s/floor.db", dir);
    snprintf(p2, sizeof p2, "%s/sim.db", dir);
    /* Floor and simulation alternate within each repetition, so drift in
    ** the machine's speed hits both sides alike. */
    double *tf = calloc((size_t)reps, sizeof *tf), *ts = calloc((size_t)reps, sizeof *ts);
    double *phf = calloc((size_t)reps * PH_N, sizeof *phf);
    double *phs = calloc((size_t)reps * PH_N, sizeof *phs);
    long long rf = 0, rs = 0;
    int rc = !tf || !ts || !phf || !phs ? tam_fail(err, TAM_ENOMEM, "out of memory") : 0;
    for (int r = 0; r < reps && !rc; r++) {
        remove(p1);
        remove(p2);
        rc = corpus_pass(&m, e->data, p1, 0, mdb, &tf[r], phf + r * PH_N, &rf, err) ||
             corpus_pass(&m, e->data, p2, 1, mdb, &ts[r], phs + r * PH_N, &rs, err);
        fprintf(stderr, "bench --corpus: repetition %d of %d: %.2f s vs %.2f s\n", r + 1,
                reps, ts[r], tf[r]);
    }
    if (!rc)
        bench_corpus_print(&m, rf, rs, reps, tf, ts, phf, phs);
    else
        fprintf(stderr, "tam bench: %s\n", err);
    free(tf);
    free(ts);
    free(phf);
    free(phs);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "tam bench: could not remove %s\n", dir);
    kset_free(mdb);
    manifest_free(&m);
    return rc ? 1 : 0;
}

/* One trace: median times (tl[], ts[] sorted) and peak resident memory. */
static void bench_trace_print(const char *trace, int nreq, long long steps, int reps, const double *tl,
                              const double *ts)
{
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
}

/* One trace: loading alone N times, then loading + simulating N times;
** returns the exit status. */
static int bench_trace(inputs_t *e, const char *trace, int reps)
{
    char dflt[1024], mpath[1024], err[TAM_ERRLEN];
    if (!trace) {
        snprintf(dflt, sizeof dflt, "%s/corpus/inference-perf/20260217-202857-llama-2-70b-tp4-general",
                 e->data);
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
    kset_t *db = NULL;
    step_model_t *sm = NULL;
    if (trace_load(trace, &t, err))
        goto fail;
    if (!e->model) {
        if (runner_model_dir(e->data, t->model_id, mpath, sizeof mpath)) {
            tam_fail(err, TAM_EFIELD, "no model config for %s", t->model_id);
            goto fail;
        }
        e->model = mpath;
    }
    e->tp = t->tp;
    trace_free(t);
    t = NULL;
    if (inputs_build(e, &m, &hw, &db, &c, &sm, err))
        goto fail;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        pred_t *p;
        run_stats_t st;
        if (trace_load(trace, &t, err) || runner_simulate_trace(sm, t, 42, &p, &st, err)) {
            step_model_free(sm);
            kset_free(db);
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
    kset_free(db);
    qsort(tl, (size_t)reps, sizeof *tl, cmp_d);
    qsort(ts, (size_t)reps, sizeof *ts, cmp_d);
    bench_trace_print(trace, nreq, steps, reps, tl, ts);
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "tam bench: %s\n", err);
    trace_free(t);
    free(tl);
    free(ts);
    return rc;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trace", required_argument, 0, 'T'}, {"model", required_argument, 0, 'm'},
        {"reps", required_argument, 0, 'r'},  {"config", required_argument, 0, 'c'},
        {"data", required_argument, 0, 'D'},  {"help", no_argument, 0, 'h'},
        {"corpus", no_argument, 0, 'C'},      {"manifest", required_argument, 0, 'M'},
        {0, 0, 0, 0}};
    int corpus = 0;
    const char *manifest = "experiments/corpus.json";
    inputs_t e;
    inputs_init(&e);
    const char *trace = NULL;
    int reps = 0, o; /* 0: the default, 7 (one trace) or 3 (--corpus) */
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'T': trace = optarg; break;
        case 'm': e.model = optarg; break;
        case 'r': reps = atoi(optarg); break;
        case 'c': e.config = optarg; break;
        case 'D': e.data = optarg; break;
        case 'C': corpus = 1; break;
        case 'M': manifest = optarg; break;
        case 'h': fputs(bench_usage, stdout); return 0;
        default: fputs(bench_usage, stderr); return 2;
        }
    }
    if (reps == 0)
        reps = corpus ? 3 : 7;
    if (reps < 1 || reps > 100) {
        fputs(bench_usage, stderr);
        return 2;
    }
    return corpus ? bench_corpus(&e, manifest, reps) : bench_trace(&e, trace, reps);
}
