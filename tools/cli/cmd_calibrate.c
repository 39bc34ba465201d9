/* tools/cli/cmd_calibrate.c - `tam calibrate`: Tier 1, one-trace calibration.
**
** Two methods, side by side, fitted on one trace (>= 100 successful requests)
** over a base (Tier 0) engine configuration:
**
**   residual  the proposal's protocol.  Simulate the trace with the base;
**             per request, residual = measured - predicted (ms) for TPOT and
**             for TTFT; least squares
**               residual_tpot_ms = a  out + b  prompt + d
**               residual_ttft_ms = a' out + b' prompt + d'
**             (tools/harness/calib.c; a constant output length, as in every
**             inference-perf run, drops a and the note says so).  The
**             proposal's "network-adjusted" residual needs a network RTT; no
**             corpus trace records one, so the raw client-side residual is
**             fitted.  Applied after the simulation (engine configuration
**             keys resid_*; tools/harness/runner.c): it does not feed back into
**             queueing.
**   insim     parameters inside the simulator, so that queueing reacts to
**             them: o = overhead_decode_s = overhead_prefill_s (per engine
**             step) and c = client_ttft_s (per request, outside the GPU; in
**             closed-loop load it delays the client's next request).
**             Objective J = (TTFT MAPE + TPOT MAPE) / 2 over the trace's
**             successful requests (E2E is their consequence; TTFT and TPOT
**             give each parameter its own signal, E2E alone cannot tell them
**             apart).  Search, deterministic: o on the lattice 0..32 ms in
**             0.25 ms steps by grid refinement (9 coarse points, then +-2,
**             +-1, +-0.5, +-0.25 ms around the best: at most 17 candidates,
**             each one re-simulated).  For each o the best c is profiled out
**             in closed form: TPOT does not depend on c and, for open-loop
**             and synchronous load, c shifts every TTFT by exactly c without
**             changing the schedule, so the c minimising TTFT MAPE is the
**             weighted median of (measured - predicted TTFT) with weights
**             1/measured, clamped to [0, 0.5 s] and rounded to 10 us.  For the
**             one load shape where c feeds back (a concurrency-limited
**             closed loop: GuideLLM's throughput benchmark) that is exact
**             only to first order, so the chosen (o, c) is re-simulated and c
**             re-centred on the genuine residuals until it stops moving (at
**             most 2 more simulations).  Every number reported comes from a
**             genuine simulation of the final configuration.
**   both      insim, then the residual fitted on what insim leaves (stacked).
**
** Output: a small version-tagged coefficient file whose "config" object is
** merged over the base by `tam simulate --coeffs FILE` (econf_load_coeffs).
**
** --cross-validate is the headline study (results in arrays, cv_row_t, then
** printed; a CSV with -o):
**   single-trace: each of the 14 manifest experiments in turn is the one
**     calibration trace; every method is evaluated on the 13 others;
**   10/4 splits: split seeds 42 and 1..20 (split_draw: one held-out
**     experiment per family); fit on the 10 training experiments pooled
**     (each experiment weighs the same: weights 1/n per request), evaluate
**     on the 4 held out.
**   In both: the overfitting guard (validation J > 2 x training J -> reject,
**   fall back to the base) and the staleness flag (calibrated E2E MAPE on a
**   held-out experiment > 30%).  Corpus MAPE = unweighted mean over the
**   held-out experiments of each experiment's MAPE (docs/METHOD.md).
**
** Invariants: deterministic (same inputs, same bytes; the date is the only
** field that moves, --date pins it); simulations are memoised by (experiment,
** o, c), which cannot change a result because a simulation is a pure
** function of its configuration and seed.
*/
#include "cli.h"
#include "hash.h"
#include "tier1.h"
#include "tier3.h"

#include <cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile (numpy "linear", Hyndman-Fan 7) of v[0..n-1]; sorts v. */
static double quantile(double *v, int n, double q)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, dcmp);
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    int hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

static const char *short_id(const cexp_t *x)
{
    return x->label;
}

static void pct(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %7.1f", 100 * v);
    else
        fprintf(f, " %7s", "-");
}

/* The columns every cross-validation row ends with: J on the training and
** held-out data, held-out MAPEs, guard and stale count, fitted parameters. */
static void print_row_tail(FILE *f, const cv_row_t *r, int nstale)
{
    pct(f, r->train_j);
    pct(f, r->val_j);
    pct(f, r->held_mean.e2e);
    pct(f, r->held_mean.ttft);
    pct(f, r->held_mean.tpot);
    fprintf(f, " %-3s %2d/%-2d ", r->reject ? "*" : "", nstale, r->nheld);
    if (r->par.has_insim)
        fprintf(f, " o=%.2fms c=%.2fms", 1e3 * r->par.o, 1e3 * r->par.c);
    if (r->par.has_resid)
        fprintf(f, " tpot=%.3g*out%+.3g*in%+.4gms ttft=%.3g*out%+.3g*in%+.4gms", r->par.fp.a,
                r->par.fp.b, r->par.fp.d, r->par.ft.a, r->par.ft.b, r->par.ft.d);
    fprintf(f, "\n");
}

/* Experiment numbers of idx[0..n) joined by sep into buf (truncated to cap). */
static void exp_numbers(const cctx_t *cx, const int *idx, int n, const char *sep, char *buf,
                        size_t cap)
{
    size_t u = 0;
    buf[0] = '\0';
    for (int k = 0; k < n && u < cap; k++) {
        int w = snprintf(buf + u, cap - u, "%s%d", k ? sep : "", cx->x[idx[k]].number);
        if (w > 0)
            u += (size_t)w;
    }
}

static void cv_print(FILE *f, const cctx_t *cx, const cv_row_t *rows, int nr, int nsplits,
                     const char *base_name, const char *base_hash)
{
    fprintf(f, "Tier 1 cross-validation over %d experiments; base configuration: %s (hash "
            "%s); seed %llu\n", cx->n, base_name, base_hash, cx->seed);
    fprintf(f, "MAPE in %%; held-out corpus MAPE = mean over held-out experiments of each "
            "experiment's MAPE.\nJ = (TTFT + TPOT MAPE)/2 (the in-simulator objective and the "
            "guard's metric); guard: held-out J > %.0f x training J -> fall back to the base "
            "(marked *);\nstale: calibrated E2E MAPE > %.0f%% on a held-out experiment.\n\n",
            CALIB_GUARD_RATIO, 100 * CALIB_STALE_MAPE);
    fprintf(f, "== Single-trace calibration: each experiment in turn is the one calibration "
            "trace; evaluated on the other %d ==\n", cx->n - 1);
    fprintf(f, "%-3s %-44s %-8s %8s %8s %8s %8s %8s %-3s %5s  %s\n", "#", "calibration trace",
            "method", "trainJ", "heldJ", "E2E", "TTFT", "TPOT", "grd", "stale", "fitted");
    for (int i = 0; i < nr; i++) {
        const cv_row_t *r = &rows[i];
        if (r->protocol != P_SINGLE)
            continue;
        const cexp_t *x = &cx->x[r->train[0]];
        int ns = 0;
        for (int k = 0; k < r->nheld; k++)
            ns += r->stale[k];
        if (r->method == M_BASE)
            fprintf(f, "%-3d %-44.44s %-8s", x->number, short_id(x), tier1_method_name[r->method]);
        else
            fprintf(f, "%-3s %-44s %-8s", "", "", tier1_method_name[r->method]);
        print_row_tail(f, r, ns);
    }
    const char *mn[3] = {"E2E", "TTFT", "TPOT"};
    for (int proto = P_SINGLE; proto <= P_SPLIT; proto++) {
        if (proto == P_SPLIT) {
            fprintf(f, "\n== 10/4 splits: split seeds 42 and 1..%d; fit on the 10 training "
                    "experiments pooled, evaluated on the 4 held out ==\n", nsplits);
            fprintf(f, "%-5s %-16s %-8s %8s %8s %8s %8s %8s %-3s %5s  %s\n", "seed", "held out",
                    "method", "trainJ", "heldJ", "E2E", "TTFT", "TPOT", "grd", "stale",
                    "fitted");
            for (int i = 0; i < nr; i++) {
                const cv_row_t *r = &rows[i];
                if (r->protocol != P_SPLIT)
                    continue;
                char held[64];
                exp_numbers(cx, r->held, r->nheld, ",", held, sizeof held);
                int ns = 0;
                for (int k = 0; k < r->nheld; k++)
                    ns += r->stale[k];
                if (r->method == M_BASE)
                    fprintf(f, "%-5d %-16s %-8s", r->choice, held, tier1_method_name[r->method]);
                else
                    fprintf(f, "%-5s %-16s %-8s", "", "", tier1_method_name[r->method]);
                print_row_tail(f, r, ns);
            }
        }
        fprintf(f, "\n-- %s: held-out corpus MAPE (%%) over the %s: median [min, max]%s --\n",
                proto == P_SINGLE ? "single-trace" : "10/4 splits",
                proto == P_SINGLE ? "14 calibration choices" : "split seeds",
                proto == P_SPLIT ? " (5th-95th percentile in parentheses)" : "");
        fprintf(f, "%-9s %-8s %-34s %-34s %s\n", "method", "", "as fitted", "after the guard",
                "guard fired / stale held-out experiments");
        for (int m = 0; m < N_METHODS; m++) {
            for (int q = 0; q < 3; q++) {
                double v[MAXE * 2] = {0}, g[MAXE * 2] = {0}; /* only k are set; memcpy copies all */
                int k = 0, nrej = 0, nst = 0, nh = 0;
                for (int i = 0; i < nr; i++) {
                    const cv_row_t *r = &rows[i];
                    if (r->protocol != proto || r->method != m)
                        continue;
                    const double a[3] = {r->held_mean.e2e, r->held_mean.ttft, r->held_mean.tpot};
                    const double b[3] = {r->guarded_mean.e2e, r->guarded_mean.ttft,
                                         r->guarded_mean.tpot};
                    v[k] = a[q];
                    g[k] = b[q];
                    k++;
                    nrej += r->reject;
                    for (int h = 0; h < r->nheld; h++) {
                        nst += r->stale[h];
                        nh++;
                    }
                }
                double vc[MAXE * 2], gc[MAXE * 2];
                memcpy(vc, v, sizeof v);
                memcpy(gc, g, sizeof g);
                char s1[64], s2[64];
                double med = quantile(vc, k, 0.5), lo = quantile(vc, k, 0), hi = quantile(vc, k, 1);
                double gmed = quantile(gc, k, 0.5), glo = quantile(gc, k, 0), ghi = quantile(gc, k, 1);
                if (proto == P_SPLIT) {
                    double p5 = quantile(vc, k, 0.05), p95 = quantile(vc, k, 0.95);
                    double g5 = quantile(gc, k, 0.05), g95 = quantile(gc, k, 0.95);
                    snprintf(s1, sizeof s1, "%6.1f [%6.1f,%6.1f] (%5.1f-%5.1f)", 100 * med,
                             100 * lo, 100 * hi, 100 * p5, 100 * p95);
                    snprintf(s2, sizeof s2, "%6.1f [%6.1f,%6.1f] (%5.1f-%5.1f)", 100 * gmed,
                             100 * glo, 100 * ghi, 100 * g5, 100 * g95);
                } else {
                    snprintf(s1, sizeof s1, "%6.1f [%6.1f,%6.1f]", 100 * med, 100 * lo, 100 * hi);
                    snprintf(s2, sizeof s2, "%6.1f [%6.1f,%6.1f]", 100 * gmed, 100 * glo,
                             100 * ghi);
                }
                if (q == 0)
                    fprintf(f, "%-9s %-8s %-34s %-34s %d/%d fits, %d/%d\n", tier1_method_name[m], mn[q],
                            s1, s2, nrej, k, nst, nh);
                else
                    fprintf(f, "%-9s %-8s %-34s %s\n", "", mn[q], s1, s2);
            }
        }
    }
}

static void csv_met(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.6f", v);
    else
        fprintf(f, ",");
}

static void cv_csv(FILE *f, const cctx_t *cx, const cv_row_t *rows, int nr)
{
    fprintf(f, "protocol,choice,method,train,held_exp,family,overhead_s,client_ttft_s,"
            "tpot_a_ms,tpot_b_ms,tpot_d_ms,ttft_a_ms,ttft_b_ms,ttft_d_ms,train_j,val_j,"
            "guard_reject,mape_ttft,mape_tpot,mape_e2e,base_mape_ttft,base_mape_tpot,"
            "base_mape_e2e,stale\n");
    for (int i = 0; i < nr; i++) {
        const cv_row_t *r = &rows[i];
        char train[256];
        exp_numbers(cx, r->train, r->ntrain, " ", train, sizeof train);
        for (int k = 0; k < r->nheld; k++) {
            const cexp_t *x = &cx->x[r->held[k]];
            fprintf(f, "%s,%d,%s,%s,%d,%s", r->protocol == P_SINGLE ? "single" : "split",
                    r->choice, tier1_method_name[r->method], train, x->number, x->family);
            if (r->par.has_insim)
                fprintf(f, ",%.9g,%.9g", r->par.o, r->par.c);
            else
                fprintf(f, ",,");
            if (r->par.has_resid)
                fprintf(f, ",%.9g,%.9g,%.9g,%.9g,%.9g,%.9g", r->par.fp.a, r->par.fp.b,
                        r->par.fp.d, r->par.ft.a, r->par.ft.b, r->par.ft.d);
            else
                fprintf(f, ",,,,,,");
            csv_met(f, r->train_j);
            csv_met(f, r->val_j);
            fprintf(f, ",%d", r->reject);
            csv_met(f, r->hm[k].ttft);
            csv_met(f, r->hm[k].tpot);
            csv_met(f, r->hm[k].e2e);
            csv_met(f, r->bm[k].ttft);
            csv_met(f, r->bm[k].tpot);
            csv_met(f, r->bm[k].e2e);
            fprintf(f, ",%d\n", r->stale[k]);
        }
    }
}

/* }====== */

/* {====== the coefficient file ====== */

static void trace_hash(const trace_t *t, char out[17])
{
    uint64_t h = HASH_SHORT_BASIS; /* hash.h: the values name coefficient files */
    char row[128];
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *q = &t->req[i];
        int n = snprintf(row, sizeof row, "%d,%d,%.17g,%.17g\n", q->in_tokens, q->out_tokens,
                         q->ttft, q->e2e);
        h = hash_fnv1a64(h, row, n < (int)sizeof row ? (size_t)n : sizeof row);
    }
    hash_hex(h, out);
}

/* cJSON 1.7's number printer accepts a 15-digit form when it is only
** approximately equal to the value, so a printed number need not read back
** as the same double.  Numbers here are written as raw "%.17g" text (as in
** econf_canonical), which always round-trips; non-finite values as null. */
static void add_num(cJSON *o, const char *key, double v)
{
    char buf[40];
    if (isfinite(v))
        snprintf(buf, sizeof buf, "%.17g", v);
    else
        snprintf(buf, sizeof buf, "null");
    cJSON_AddRawToObject(o, key, buf);
}

static cJSON *met_json(const cmet_t *m)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "mape_ttft", m->ttft);
    add_num(o, "mape_tpot", m->tpot);
    add_num(o, "mape_e2e", m->e2e);
    add_num(o, "j", m->j);
    return o;
}

static const char *terms_str(int t)
{
    static const char *const s[8] = {"", "a", "b", "a,b", "d", "a,d", "b,d", "a,b,d"};
    return s[t & 7];
}

static cJSON *fit_json(const calib_fit_t *f)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "a_ms_per_output_token", f->a);
    add_num(o, "b_ms_per_prompt_token", f->b);
    add_num(o, "d_ms", f->d);
    cJSON_AddStringToObject(o, "terms", terms_str(f->terms));
    cJSON_AddStringToObject(o, "note", f->note);
    add_num(o, "n", f->n);
    add_num(o, "rmse_ms", f->rmse);
    return o;
}

/* }====== */

static const char calib_usage[] =
    "usage: tam calibrate --trace DIR -o COEFFS.json [--config BASE.json | --preset NAME]\n"
    "                     [--method residual|insim|both] [--seed N] [--data DIR]\n"
    "                     [--model M] [--date YYYY-MM-DD] [--quiet]\n"
    "       tam calibrate --cross-validate [--manifest FILE] [--config BASE.json | --preset NAME]\n"
    "                     [--data DIR] [--seed N] [--splits N] [-o RESULTS.csv] [--quiet]\n"
    "       tam calibrate --method tier3 (--trace DIR -o COEFFS.json | --cross-validate\n"
    "                     -o POINTS.csv --fits FITS.csv) [--jobs N] [options as above]\n"
    "both forms also take --kernels SET --hardware F --mfu DIR --gemm-mfu CSV (see tam step --help):\n"
    "Tier 2 is Tier 1 over a measured profile and GEMM table.\n"
    "Tier 1 one-trace calibration over a base (Tier 0) engine configuration\n"
    "(default: the default preset, as tam simulate uses; --preset baseline for the\n"
    "proposal's roofline v2).  The trace (inference-perf, GuideLLM or TraceV2 folder)\n"
    "needs at least 100 successful requests.  Methods:\n"
    "  residual  the proposal's: residual = measured - predicted (ms) per request,\n"
    "            least squares  tpot: a*out + b*prompt + d,  ttft: a'*out + b'*prompt + d'\n"
    "            (raw client-side residual: the traces record no network RTT), applied\n"
    "            after the simulation (keys resid_*; does not feed back into queueing)\n"
    "  insim     overhead_decode_s = overhead_prefill_s = o (0..32 ms, 0.25 ms lattice,\n"
    "            grid refinement, each candidate re-simulated) and client_ttft_s = c\n"
    "            (0..0.5 s, profiled in closed form per o, then re-centred on a genuine\n"
    "            simulation); objective J = (TTFT MAPE + TPOT MAPE)/2 on the trace\n"
    "  both      insim, then the residual fitted on what insim leaves\n"
    "  tier3     beyond the proposal: eight physical coefficients fitted through the\n"
    "            simulator (scales on memory-bound GEMM, compute-bound GEMM + prefill\n"
    "            attention, decode attention and all-reduce times; engine-core CPU per\n"
    "            step and per request; front end per request and per prompt token),\n"
    "            maximum a posteriori around the base's values by Levenberg-Marquardt\n"
    "            with the simulator's own derivatives; a fit outside the physical\n"
    "            bounds (tools/harness/tier3.h) is reported and not used.  --cross-validate:\n"
    "            the base, the 10/4 splits (seeds 42, 1..N), leave-one-family-out,\n"
    "            each trace alone and all in-sample; one CSV row per held-out load\n"
    "            point (-o) and per fit (--fits); --jobs N simulations in parallel\n"
    "            (default: the online CPUs; results do not depend on it)\n"
    "Default method: residual.  The coefficient file {\"tam_coefficients\": 1, ...} carries\n"
    "the vLLM version (if the folder records it), model, GPU, TP, trace hash, date,\n"
    "base configuration and its hash, the keys to apply (\"config\") and the fit;\n"
    "`tam simulate --trace DIR --config BASE.json --coeffs COEFFS.json` applies it.\n"
    "--cross-validate: each manifest experiment as the one calibration trace,\n"
    "evaluated on the others, and the 10/4 splits (seeds 42, 1..N, default 20; fit on\n"
    "the 10 pooled); overfitting guard (held-out J > 2 x training J -> base) and\n"
    "staleness (calibrated E2E MAPE > 30%) per held-out experiment.  Table on stdout,\n"
    "one CSV row per (calibration, method, held-out experiment) with -o.\n";

static int valid_date(const char *s)
{
    int y, m, d;
    char tail;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 &&
           m <= 12 && d >= 1 && d <= 31;
}

/* {====== the coefficient file, for every method ======
** A small version-tagged file: where it was fitted (vLLM version, model, GPU
** and measured profile, TP, trace and its hash, date, seed), the base
** configuration and its hash, the keys to apply ("config") and its hash,
** then the method's own "fit". */

/* The fields before "config". */
static cJSON *coeff_header(const cctx_t *cx, const trace_t *t, const char *method,
                           const char *dir, const char *date)
{
    char bhash[17], thash[17], canon[4096];
    econf_hash(&cx->base, bhash);
    trace_hash(t, thash);
    cJSON *root = cJSON_CreateObject();
    add_num(root, "tam_coefficients", 1);
    cJSON_AddStringToObject(root, "method", method);
    /* the readers record it where the folder does (trace.h); "unknown" otherwise */
    cJSON_AddStringToObject(root, "vllm_version", t->vllm_version[0] ? t->vllm_version : "unknown");
    cJSON_AddStringToObject(root, "model", t->model_id);
    cJSON_AddStringToObject(root, "gpu", cx->hw.name);
    if (cx->hw.measured[0]) /* Tier 2: the profile's provenance (date, card, driver) */
        cJSON_AddStringToObject(root, "hardware_measured", cx->hw.measured);
    if (cx->gemm_table)
        cJSON_AddStringToObject(root, "gemm_table", cx->gemm_table);
    add_num(root, "tp", t->tp > 0 ? t->tp : 1);
    cJSON_AddStringToObject(root, "trace", dir);
    cJSON_AddStringToObject(root, "trace_format", t->format);
    cJSON_AddStringToObject(root, "trace_hash", thash);
    add_num(root, "n_requests", t->n_req);
    cJSON_AddStringToObject(root, "date", date);
    add_num(root, "seed", (double)cx->seed);
    econf_canonical(&cx->base, canon, sizeof canon);
    cJSON_AddRawToObject(root, "base_config", canon); /* exactly what the hash covers */
    cJSON_AddStringToObject(root, "base_config_hash", bhash);
    return root;
}

/* "config_hash" after "config", once the file is known to load: merge
** "config" over the base as tam simulate --coeffs will, and land on the
** fitted configuration. */
static int coeff_config_hash(const cctx_t *cx, cJSON *root, const econf_t *fitted, char *err)
{
    char fhash[17], h[17];
    econf_hash(fitted, fhash);
    char *cj = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root, "config"));
    econf_t chk = cx->base;
    int rc = cj ? econf_merge_json(cj, "fitted configuration", &chk, err) : TAM_ENOMEM;
    free(cj);
    if (rc == TAM_OK) {
        econf_hash(&chk, h);
        if (strcmp(h, fhash))
            rc = tam_fail(err, TAM_ECHECK, "fitted configuration does not round-trip "
                          "(hash %s, written %s)", fhash, h);
    }
    if (rc == TAM_OK)
        cJSON_AddStringToObject(root, "config_hash", fhash);
    return rc;
}

/* Print root (deleted here) to outp. */
static int coeff_write(cJSON *root, const char *outp, char *err)
{
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    FILE *f = cli_open_out(outp, err);
    if (!f) {
        free(txt);
        return TAM_EIO;
    }
    fprintf(f, "%s\n", txt);
    free(txt);
    return cli_close_out(f, outp, err);
}

/* }====== */

static int write_coeffs(cctx_t *cx, int method, const cparams_t *par, const char *dir,
                        const char *date, const char *outp, char *err)
{
    const cexp_t *x = &cx->x[0];
    econf_t fitted;
    tier1_params_conf(cx, par, &fitted);
    cparams_t none;
    memset(&none, 0, sizeof none);
    cmet_t bm, tm;
    int rc;
    if ((rc = tier1_params_metrics(cx, &none, 0, &bm, err)) ||
        (rc = tier1_params_metrics(cx, par, 0, &tm, err)))
        return rc;

    cJSON *root = coeff_header(cx, x->t, tier1_method_name[method], dir, date);
    cJSON *cf = cJSON_AddObjectToObject(root, "config");
    if (par->has_insim) {
        add_num(cf, "client_ttft_s", par->c);
        add_num(cf, "overhead_decode_s", par->o);
        add_num(cf, "overhead_prefill_s", par->o);
    }
    if (par->has_resid) {
        add_num(cf, "resid_tpot_a_ms", par->fp.a);
        add_num(cf, "resid_tpot_b_ms", par->fp.b);
        add_num(cf, "resid_tpot_d_ms", par->fp.d);
        add_num(cf, "resid_ttft_a_ms", par->ft.a);
        add_num(cf, "resid_ttft_b_ms", par->ft.b);
        add_num(cf, "resid_ttft_d_ms", par->ft.d);
    }
    if ((rc = coeff_config_hash(cx, root, &fitted, err))) {
        cJSON_Delete(root);
        return rc;
    }
    cJSON *fit = cJSON_AddObjectToObject(root, "fit");
    cJSON_AddStringToObject(fit, "objective", "J = (TTFT MAPE + TPOT MAPE) / 2 over the trace's "
                            "successful requests (MAPE as fractions)");
    add_num(fit, "n_ok", x->n_ok);
    cJSON_AddItemToObject(fit, "base", met_json(&bm));
    if (par->has_insim) {
        cJSON *is = cJSON_AddObjectToObject(fit, "insim");
        add_num(is, "overhead_s", par->o);
        add_num(is, "client_ttft_s", par->c);
        cJSON_AddStringToObject(is, "search", "o: 0..0.032 s, 9 coarse points then +-2, +-1, "
                                "+-0.5, +-0.25 ms (grid refinement, each candidate simulated); "
                                "c: 0..0.5 s, weighted median of TTFT residuals per o, "
                                "re-centred on genuine simulations, rounded to 10 us");
        add_num(is, "candidates", par->n_eval);
        add_num(is, "simulations", par->n_sims);
    }
    if (par->has_resid) {
        cJSON *rs = cJSON_AddObjectToObject(fit, "residual");
        cJSON_AddStringToObject(rs, "fitted_on", par->has_insim ? "insim" : "base");
        cJSON_AddStringToObject(rs, "form", "residual_ms = a * output_tokens + b * "
                                "prompt_tokens + d; residual = measured - predicted");
        cJSON_AddStringToObject(rs, "network", "no network RTT is recorded in the trace: the "
                                "raw client-side residual is fitted");
        cJSON_AddItemToObject(rs, "tpot", fit_json(&par->fp));
        cJSON_AddItemToObject(rs, "ttft", fit_json(&par->ft));
    }
    cJSON_AddItemToObject(fit, "train", met_json(&tm));
    if ((rc = coeff_write(root, outp, err)))
        return rc;
    if (!cx->quiet) {
        fprintf(stderr, "calibrate: %s, %d successful requests, method %s\n", dir, x->n_ok,
                tier1_method_name[method]);
        if (par->has_insim)
            fprintf(stderr, "  insim: overhead %.2f ms per step, client_ttft %.2f ms (%d "
                    "candidates, %d simulations)\n", 1e3 * par->o, 1e3 * par->c, par->n_eval,
                    par->n_sims);
        if (par->has_resid) {
            fprintf(stderr, "  residual tpot_ms = %.6g*out %+.6g*prompt %+.6g  (terms %s%s%s)\n",
                    par->fp.a, par->fp.b, par->fp.d, terms_str(par->fp.terms),
                    par->fp.note[0] ? "; " : "", par->fp.note);
            fprintf(stderr, "  residual ttft_ms = %.6g*out %+.6g*prompt %+.6g  (terms %s%s%s)\n",
                    par->ft.a, par->ft.b, par->ft.d, terms_str(par->ft.terms),
                    par->ft.note[0] ? "; " : "", par->ft.note);
        }
        fprintf(stderr, "  MAPE %%      TTFT    TPOT     E2E       J\n");
        fprintf(stderr, "  base    %7.2f %7.2f %7.2f %7.2f\n", 100 * bm.ttft, 100 * bm.tpot,
                100 * bm.e2e, 100 * bm.j);
        fprintf(stderr, "  fitted  %7.2f %7.2f %7.2f %7.2f   (on the calibration trace itself)\n",
                100 * tm.ttft, 100 * tm.tpot, 100 * tm.e2e, 100 * tm.j);
    }
    return TAM_OK;
}

/* The method beyond Tier 1's (tools/harness/tier1.h numbers those). */
enum { M_TIER3 = N_METHODS };

/* {====== --method tier3 (tools/harness/tier3.c) ====== */

typedef struct {
    const inputs_t *env;
    const char *manifest, *trace_dir, *model, *outp, *fitsp, *date;
    int nsplits, jobs, cv, quiet;
} tier3_args_t;

static void tier3_progress(void *ctx, const char *protocol, const char *choice, int done,
                           int total)
{
    (void)ctx;
    fprintf(stderr, "calibrate: tier3 %d/%d fits (%s %s)\n", done, total, protocol, choice);
}

/* The coefficient file of a one-trace Tier 3 fit (tagged like Tier 1's). */
static int tier3_write(const cctx_t *cx, t3_ctx_t *t3, const t3_fit_t *fit, const tier3_args_t *a,
                       char *err)
{
    econf_t fitted;
    t3_conf(t3, fit->theta, &fitted);
    cJSON *root = coeff_header(cx, t3_trace(t3, 0), "tier3", a->trace_dir, a->date);
    cJSON *cf = cJSON_AddObjectToObject(root, "config");
    for (int j = 0; j < T3_NP; j++)
        add_num(cf, t3_coef_name[j], fit->theta[j]);
    int rc = coeff_config_hash(cx, root, &fitted, err);
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    cJSON *fj = cJSON_AddObjectToObject(root, "fit");
    cJSON_AddStringToObject(fj, "objective", "maximum a posteriori: Huber-weighted squares of "
                            "log(predicted / measured) load-point means of TTFT, TPOT and E2E "
                            "(sigma 5%) plus a normal prior around the base (tools/harness/tier3.h)");
    for (int j = 0; j < T3_NP; j++) {
        cJSON *c = cJSON_AddObjectToObject(fj, t3_coef_name[j]);
        add_num(c, "value", fit->theta[j]);
        add_num(c, "prior", fit->prior[j]);
        add_num(c, "lo", fit->lo[j]);
        add_num(c, "hi", fit->hi[j]);
    }
    add_num(fj, "iterations", fit->iterations);
    add_num(fj, "simulations", fit->sims);
    add_num(fj, "objective_prior", fit->objective0);
    add_num(fj, "objective_fit", fit->objective);
    return coeff_write(root, a->outp, err);
}

static void tier3_report(const t3_fit_t *fit)
{
    fprintf(stderr, "calibrate: tier3 fit, %d steps, %d simulations, objective %.4g -> %.4g\n",
            fit->iterations, fit->sims, fit->objective0, fit->objective);
    for (int j = 0; j < T3_NP; j++) {
        int out = fit->theta[j] < fit->lo[j] || fit->theta[j] > fit->hi[j];
        fprintf(stderr, "  %-18s %12.6g  (prior %.6g, bounds [%.6g, %.6g])%s\n", t3_coef_name[j],
                fit->theta[j], fit->prior[j], fit->lo[j], fit->hi[j],
                out ? "  OUT OF BOUNDS" : "");
    }
}

/* Write a buffer to path through cli_open_out (one output open at a time:
** it stages each in one temporary file). */
static int write_buffer(const char *path, const char *buf, size_t len, char *err)
{
    FILE *f = cli_open_out(path, err);
    if (!f)
        return TAM_EIO;
    fwrite(buf, 1, len, f);
    return cli_close_out(f, path, err);
}

static int calibrate_tier3(cctx_t *cx, const tier3_args_t *a, char *err)
{
    t3_ctx_t *t3 = NULL;
    manifest_t man = {0};
    FILE *pf = NULL, *ff = NULL;
    char *pbuf = NULL, *fbuf = NULL;
    size_t plen = 0, flen = 0;
    int rc = t3_new(&cx->base, &cx->hw, cx->ks, cx->seed, a->jobs, &t3, err);
    if (rc == TAM_OK && a->cv) {
        rc = manifest_load(a->manifest, &man, err);
        for (int i = 0; i < man.n && rc == TAM_OK; i++) {
            const manifest_exp_t *me = &man.e[i];
            trace_t *t;
            model_t m;
            if ((rc = manifest_exp_load(me, a->env->data, &m, &t, err)))
                break;
            rc = t3_add(t3, t, &m, me->tp, me->id, me->family, me->number, err);
        }
        /* both tables are built in memory and written only when complete */
        if (rc == TAM_OK && (!(pf = open_memstream(&pbuf, &plen)) ||
                             !(ff = open_memstream(&fbuf, &flen))))
            rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        if (rc == TAM_OK)
            rc = t3_cross_validate(t3, &man, a->nsplits, pf, ff,
                                   a->quiet || !isatty(STDERR_FILENO) ? NULL : tier3_progress,
                                   NULL, err);
        if (pf && fclose(pf) && rc == TAM_OK)
            rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        if (ff && fclose(ff) && rc == TAM_OK)
            rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        pf = ff = NULL;
        if (rc == TAM_OK)
            rc = write_buffer(a->outp, pbuf, plen, err);
        if (rc == TAM_OK)
            rc = write_buffer(a->fitsp, fbuf, flen, err);
    } else if (rc == TAM_OK) {
        trace_t *t;
        model_t m;
        char mpath[1024];
        if ((rc = trace_load(a->trace_dir, &t, err)))
            goto out;
        if (a->model)
            rc = inputs_model_path(a->env, a->model, mpath, sizeof mpath)
                     ? tam_fail(err, TAM_EFIELD, "--model: path too long") : TAM_OK;
        else if (runner_model_dir(a->env->data, t->model_id, mpath, sizeof mpath))
            rc = tam_fail(err, TAM_EFIELD, "%s: no config for model '%s' under %s/models; pass "
                          "--model", a->trace_dir, t->model_id, a->env->data);
        if (rc == TAM_OK)
            rc = model_load(mpath, &m, err);
        if (rc) {
            trace_free(t);
            goto out;
        }
        if ((rc = t3_add(t3, t, &m, t->tp, a->trace_dir, "", 0, err)))
            goto out;
        int zero = 0;
        t3_fit_t fit;
        if ((rc = t3_fit(t3, &zero, 1, &fit, err)))
            goto out;
        if (!a->quiet)
            tier3_report(&fit);
        if (!fit.in_bounds)
            rc = tam_fail(err, TAM_EFIT, "the tier3 fit left its physical bounds (above); it is "
                          "not written");
        else
            rc = tier3_write(cx, t3, &fit, a, err);
    }
out:
    if (pf)
        fclose(pf);
    if (ff)
        fclose(ff);
    free(pbuf);
    free(fbuf);
    manifest_free(&man);
    t3_free(t3);
    return rc;
}

/* }====== */

/* {====== cmd_calibrate, phase by phase ======
** Options, then the base (hardware, configuration, kernel set), then one of
** Tier 3, Tier 1's cross-validation or Tier 1 on one trace. */
typedef struct {
    inputs_t env;
    const char *trace_dir, *outp, *model, *date, *fitsp, *manifest;
    int method, cv, nsplits, quiet, jobs;
    unsigned long long seed;
    char dbuf[16]; /* today's date when --date is not given */
} cal_opts_t;

/* The options; returns -1 to go on, else the exit status. */
static int cal_parse(int argc, char **argv, cal_opts_t *a)
{
    static const struct option opts[] = {
        {"trace", required_argument, 0, 'T'},   {"config", required_argument, 0, 'c'},
        {"method", required_argument, 0, 'M'},  {"seed", required_argument, 0, 's'},
        {"data", required_argument, 0, 'D'},    {"output", required_argument, 0, 'o'},
        {"model", required_argument, 0, 'm'},   {"date", required_argument, 0, 1},
        {"cross-validate", no_argument, 0, 2},  {"manifest", required_argument, 0, 3},
        {"splits", required_argument, 0, 4},    {"quiet", no_argument, 0, 'q'},
        {"hardware", required_argument, 0, 5},  {"mfu", required_argument, 0, 6},
        {"gemm-mfu", required_argument, 0, 7},  {"help", no_argument, 0, 'h'},
        {"kernels", required_argument, 0, 8},   {"preset", required_argument, 0, 9},
        {"fits", required_argument, 0, 10},     {"jobs", required_argument, 0, 11},
        {0, 0, 0, 0}};
    inputs_t *env = &a->env;
    inputs_init(env);
    env->default_preset = 1;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    a->jobs = nproc > 0 ? (int)(nproc < 64 ? nproc : 64) : 1;
    a->manifest = "experiments/corpus.json";
    a->method = M_RESID;
    a->nsplits = SPLIT_SEEDS;
    a->seed = 42;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "T:c:M:s:D:o:m:qh", opts, NULL)) != -1) {
        switch (o) {
        case 'T': a->trace_dir = optarg; break;
        case 'c': env->config = optarg; break;
        case 'M':
            a->method = strcmp(optarg, "tier3") == 0 ? M_TIER3 : -1;
            for (int m = M_RESID; m < N_METHODS; m++)
                if (strcmp(optarg, tier1_method_name[m]) == 0)
                    a->method = m;
            if (a->method < 0) {
                fprintf(stderr, "tam calibrate: --method '%s': expected residual, insim, "
                        "both or tier3\n", optarg);
                return 2;
            }
            break;
        case 10: a->fitsp = optarg; break;
        case 11:
            a->jobs = atoi(optarg);
            if (a->jobs < 1 || a->jobs > 64) {
                fprintf(stderr, "tam calibrate: --jobs '%s': expected 1..64\n", optarg);
                return 2;
            }
            break;
        case 's': a->seed = strtoull(optarg, NULL, 10); break;
        case 'D': env->data = optarg; break;
        case 'o': a->outp = optarg; break;
        case 'm': a->model = optarg; break;
        case 1: a->date = optarg; break;
        case 2: a->cv = 1; break;
        case 3: a->manifest = optarg; break;
        case 4: a->nsplits = atoi(optarg); break;
        case 5: env->hardware = optarg; break;
        case 6: env->mfu = optarg; break;
        case 7: env->gemm_mfu = optarg; break;
        case 8: env->kernels = optarg; break;
        case 9: env->preset = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h':
            fputs(calib_usage, stdout);
            inputs_preset_help(stdout);
            return 0;
        default: fputs(calib_usage, stderr); return 2;
        }
    }
    if (optind < argc || (!a->cv && (!a->trace_dir || !a->outp)) || (a->cv && a->trace_dir) ||
        a->nsplits < 0 || a->nsplits > 1000 || (a->method == M_TIER3 && a->cv && (!a->outp || !a->fitsp)) ||
        (a->fitsp && !(a->method == M_TIER3 && a->cv))) {
        fputs(calib_usage, stderr);
        return 2;
    }
    if (a->date && !valid_date(a->date)) {
        fprintf(stderr, "tam calibrate: --date '%s': expected YYYY-MM-DD\n", a->date);
        return 2;
    }
    if (!a->date) {
        time_t now = time(NULL);
        struct tm tmv;
        localtime_r(&now, &tmv);
        strftime(a->dbuf, sizeof a->dbuf, "%Y-%m-%d", &tmv);
        a->date = a->dbuf;
    }
    return -1;
}

/* The base: hardware, a configuration without a residual, its kernel set. */
static int cal_base(cal_opts_t *a, cctx_t *cx, char *err)
{
    cx->gemm_table = a->env.gemm_mfu;
    if (a->env.hardware) {
        if (hw_load(a->env.hardware, &cx->hw, err))
            return 1;
    } else {
        hw_h100_sxm(&cx->hw);
    }
    if (inputs_config(&a->env, &cx->base, err))
        return 1;
    if (calib_resid_active(&cx->base))
        return tam_fail(err, TAM_EFIELD, "%s: the base configuration already carries a residual "
                        "(resid_* keys); calibrate over the configuration without it",
                        a->env.config ? a->env.config : "base");
    return inputs_kset(&a->env, &cx->hw, &cx->base, &cx->ks, err);
}

/* Tier 1 --cross-validate: every manifest experiment and the splits;
** the table on stdout, the rows as CSV to -o. */
static int cal_cross_validate(const cal_opts_t *a, cctx_t *cx, manifest_t *man, char *err)
{
    cv_row_t *rows = NULL;
    int nrows = 0, rc = 1;
    FILE *f = NULL;
    if (manifest_load(a->manifest, man, err))
        goto out;
    if (man->n < 2 || man->n > MAXE) {
        tam_fail(err, TAM_EFIELD, "%s: %d experiments; cross-validation needs 2..%d",
                 a->manifest, man->n, MAXE);
        goto out;
    }
    cx->x = calloc((size_t)man->n, sizeof *cx->x);
    if (!cx->x) {
        tam_fail(err, TAM_ENOMEM, "out of memory");
        goto out;
    }
    if (tier1_load_manifest(cx, man, a->env.data, err))
        goto out;
    if (tier1_cv_run(cx, man, a->nsplits, &rows, &nrows, err))
        goto out;
    char bh[17];
    econf_hash(&cx->base, bh);
    cv_print(stdout, cx, rows, nrows, a->nsplits,
             a->env.config ? a->env.config : "the built-in baseline", bh);
    if (a->outp) {
        if (!(f = cli_open_out(a->outp, err)))
            goto out;
        cv_csv(f, cx, rows, nrows);
        int crc = cli_close_out(f, a->outp, err);
        f = NULL;
        if (crc)
            goto out;
    }
    if (!a->quiet)
        fprintf(stderr, "calibrate: %lld simulations, %.1f s of simulation wall time\n",
                cx->n_sims, cx->sim_wall);
    rc = 0;
out:
    cli_abort_out(f);
    free(rows);
    return rc;
}

/* Tier 1 on one trace: fit by the method, write the coefficient file. */
static int cal_single(const cal_opts_t *a, cctx_t *cx, char *err)
{
    cx->x = calloc(1, sizeof *cx->x);
    if (!cx->x)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    cx->n = 1;
    if (tier1_load_single(cx, a->trace_dir, a->model, a->env.data, err))
        return 1;
    int set = 0;
    cparams_t par;
    if (tier1_fit_method(cx, a->method, &set, 1, NULL, &par, err) ||
        write_coeffs(cx, a->method, &par, a->trace_dir, a->date, a->outp, err))
        return 1;
    return 0;
}

/* }====== */

int cmd_calibrate(int argc, char **argv)
{
    cal_opts_t a = {0};
    int rc = cal_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    char err[TAM_ERRLEN] = "";
    cctx_t cx;
    memset(&cx, 0, sizeof cx);
    cx.seed = a.seed;
    cx.quiet = a.quiet;
    manifest_t man = {0};
    rc = 1;
    if (cal_base(&a, &cx, err))
        goto out;
    if (a.method == M_TIER3) {
        tier3_args_t t3 = {&a.env, a.manifest, a.trace_dir, a.model, a.outp, a.fitsp, a.date, a.nsplits,
                           a.jobs, a.cv, a.quiet};
        if (calibrate_tier3(&cx, &t3, err) == TAM_OK)
            rc = 0;
    } else if (a.cv) {
        rc = cal_cross_validate(&a, &cx, &man, err);
    } else {
        rc = cal_single(&a, &cx, err);
    }
out:
    if (rc)
        fprintf(stderr, "tam calibrate: %s\n", err);
    kset_t *ks = cx.ks; /* tier1_free zeroes cx; the kernel set is ours */
    tier1_free(&cx, a.cv ? man.n : 1);
    manifest_free(&man);
    kset_free(ks);
    return rc;
}
