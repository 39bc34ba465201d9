/* tools/cli/cmd_sweep.c - `tam sweep`: the simulator-internal studies (Part A of
** H4, H5, H6; the TAM proposal, ../shared/docs/TAM-PROPOSAL.md) computed with the engine and written to
** the store's `sweeps` table, so their figures and counts come from SQL
** (docs/METHOD.md, "Verdicts").
**
** Contract (study / series names are what FINDINGS, plots and criteria read):
**
**   H4A   Llama-2-70B TP4, decode-only steps of 32 requests, all at KV length
**         x = 128..8192 step 64; y = 32 (the batch).  value = seconds.
**         series 'aggregate'      baseline step time (max(compute, memory))
**                'per_component'  same with per_component = 1
**                'agg_compute'    the aggregate step's step_bd_t.compute
**                'agg_memory'     the aggregate step's step_bd_t.mem_time
**         Both step times include the baseline's 50 us per-step overhead.
**   H5A   CodeLlama-34B TP2, one step of 256 tokens: p = round(2.56 s)
**         prefill tokens in one chunk on an empty cache (it completes its
**         prompt: one LM-head row) and 256 - p decodes at context 1024;
**         x = s = 0..100 (percent prefill), y = 256.  value = seconds.
**         series 'blend' (baseline) and 'additive' (additive_mixed = 1).
**   H6A_gemm     x = m = 1..256, y = index of a distinct per-GPU GEMM shape
**                (k, n) of Llama-2-70B TP4 under the baseline's split QKV,
**                in the order q, k, v, o, gate, up, down, lm_head with
**                duplicates dropped:
**                  y=0 q (8192, 2048)    y=1 k,v (8192, 256)
**                  y=2 o (2048, 8192)    y=3 gate,up (8192, 7168)
**                  y=4 down (7168, 8192) y=5 lm_head (8192, 8000)
**                (derived from the model config at run time; the summary
**                prints the mapping and flags indices that share a curve:
**                on the H100 tables y=0,1 are both served by the (8192, 6144)
**                rows and y=3,4,5 by (8192, 11008)).  value = MFU.
**   H6A_decode   decode attention, the table mfu_select_attn picks for
**                Llama-2-70B TP4 (64-8-128-tp4): x = batch 1..256,
**                y = kv 128..8192 step 64.  value = MFU.
**   H6A_prefill  prefill attention (64-8-128): x = seq 128..8192 step 64,
**                y = 0.  value = MFU.
**         The three H6A studies have series 'nearest' and 'interp'.
**   Summaries, one row each, x = y = 0:
**     H4A_summary  crossover_x, rel_diff_at_crossover, max_rel_diff, max_rel_diff_x
**     H5A_summary  rel_diff_at_50, max_rel_diff, max_rel_diff_x,
**                  blend_direction_changes, additive_direction_changes
**     H6A_summary  '<gemm|decode|prefill>:<nearest|interp>:<jumps|steps>' = count
**   An undefined number (no crossover in the range) is NULL.
**
** Counting (H6A), on each line of a surface (along x for each y; for decode
** also along y for each x), with d_i = f_{i+1} / f_i - 1 for adjacent points:
**   jump   |d_i| >= 0.05  (the proposal's ">= 5% discontinuity");
**   step   a jump whose d_i also differs by >= 0.05 from the mean of its
**          neighbouring steps' d (|d_i - (d_{i-1} + d_{i+1}) / 2| >= 0.05; the
**          first and last step of a line use their single neighbour).  A
**          smooth ramp over tiny MFUs (0.001 -> 0.014) moves > 5% per point
**          without any discontinuity; it counts as jumps but not as steps.
**   Both comparisons allow 1e-9 for binary rounding, so a ratio that is 5%
**   in decimal (0.021 / 0.020) counts as 5%.
**
** Writing: all studies of one invocation replace their rows (and their
** summary rows) in ONE transaction: BEGIN IMMEDIATE, DELETE, INSERT, COMMIT;
** any error rolls back, so the store holds the old rows or the new ones.
** The engine configurations behind the rows are registered first
** (store_config, idempotent metadata) and linked through sweeps.config_id.
** Everything is deterministic: same inputs, same rows, same bytes of CSV.
*/
#include "cli.h"
#include "sweep.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sweep_usage[] =
    "usage: tam sweep --study NAME [--db FILE] [--data DIR] [--kernels SET] [-o CSV]\n"
    "Compute a simulator-internal study (Part A of H4, H5, H6) and replace its rows\n"
    "in the store's `sweeps` table (study, series, x, y, value) in one transaction;\n"
    "print the numbers the criteria use on stdout (progress goes to stderr).\n"
    "  --study   H4A          aggregate vs per-component roofline: Llama-2-70B TP4,\n"
    "                         32 decodes at KV length 128..8192 step 64 (seconds)\n"
    "            H5A          blend vs additive mixed step: CodeLlama-34B TP2, 256\n"
    "                         tokens, s = 0..100 % prefill (seconds)\n"
    "            H6A          the three MFU surfaces below, nearest vs interp\n"
    "            H6A_gemm     GEMM MFU, m = 1..256, Llama-2-70B TP4 shapes\n"
    "            H6A_decode   decode-attention MFU, batch 1..256 x kv 128..8192/64\n"
    "            H6A_prefill  prefill-attention MFU, seq 128..8192 step 64\n"
    "            all          H4A, H5A and H6A\n"
    "            Counts and headline numbers also go in as rows of H4A_summary,\n"
    "            H5A_summary, H6A_summary (x = y = 0).\n"
    "  --db      SQLite store (default db/tam.db; created if absent)\n"
    "  --data    data directory with models/ and mfu/h100/ (default $DATA, else\n"
    "            the one found at build time)\n"
    "  --kernels kernel data set of the step-time studies H4A and H5A (default\n"
    "            proposal-h100); H6A always studies the proposal-layout MFU tables\n"
    "            (the set's mfu folder), whose lookups H6 is about\n"
    "  -o, --output CSV  also write the rows as CSV: study,series,x,y,value\n"
    "Both H4A models charge the baseline's 50 us per-step overhead.\n";

static void csv_num(FILE *f, double v)
{
    if (isnan(v))
        return;
    char buf[40];
    if (v == floor(v) && fabs(v) < 1e15) { /* counts, coordinates: plain integers */
        fprintf(f, "%.0f", v);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

int cmd_sweep(int argc, char **argv)
{
    static const struct option opts[] = {
        {"study", required_argument, 0, 's'}, {"db", required_argument, 0, 'd'},
        {"data", required_argument, 0, 'D'},  {"output", required_argument, 0, 'o'},
        {"kernels", required_argument, 0, 'K'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    sweep_ctx_t c;
    memset(&c, 0, sizeof c);
    inputs_init(&c.env);
    const char *study = NULL, *dbpath = "db/tam.db", *outp = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "s:d:D:o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 's': study = optarg; break;
        case 'd': dbpath = optarg; break;
        case 'D': c.env.data = optarg; break;
        case 'o': outp = optarg; break;
        case 'K': c.env.kernels = optarg; break;
        case 'h': fputs(sweep_usage, stdout); return 0;
        default: fputs(sweep_usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tam sweep: unexpected argument '%s'\n%s", argv[optind], sweep_usage);
        return 2;
    }
    if (!study) {
        fprintf(stderr, "tam sweep: --study is required\n%s", sweep_usage);
        return 2;
    }
    int sel[SWEEP_NSTUDIES] = {0}, any = 0;
    for (int i = 0; i < SWEEP_NSTUDIES; i++) {
        const char *n = sweep_studies[i].name;
        sel[i] = !strcmp(study, "all") || !strcmp(study, n) ||
                 (!strcmp(study, "H6A") && !strncmp(n, "H6A_", 4));
        any |= sel[i];
    }
    if (!any) {
        fprintf(stderr, "tam sweep: unknown study '%s' (expected H4A, H5A, H6A, H6A_gemm, "
                "H6A_decode, H6A_prefill or all)\n", study);
        return 2;
    }

    char err[TAM_ERRLEN];
    sweep_out_t o;
    memset(&o, 0, sizeof o);
    FILE *f = NULL;
    int rc = 1;
    hw_h100_sxm(&c.hw);
    inputs_git_rev(c.rev, sizeof c.rev);
    if (kset_load(c.env.data, c.env.kernels ? c.env.kernels : ECONF_DEFAULT_KERNELS, NULL, NULL,
                  &c.hw, &c.ks, err) ||
        store_open(dbpath, &c.s, err))
        goto fail;
    c.db = c.ks->mfu;
    for (int i = 0; i < SWEEP_NSTUDIES; i++) {
        if (!sel[i])
            continue;
        int n0 = o.n;
        if (sweep_studies[i].fn(&c, &o, err))
            goto fail;
        fprintf(stderr, "tam sweep: %s: %d rows computed\n", sweep_studies[i].name, o.n - n0);
        sweep_say(&o, "\n");
    }
    if (outp) {
        if (!(f = cli_open_out(outp, err)))
            goto fail;
        fputs("study,series,x,y,value\n", f);
        for (int i = 0; i < o.n; i++) {
            fprintf(f, "%s,%s,", o.r[i].study, o.r[i].series);
            csv_num(f, o.r[i].x);
            fputc(',', f);
            csv_num(f, o.r[i].y);
            fputc(',', f);
            csv_num(f, o.r[i].value);
            fputc('\n', f);
        }
    }
    if (sweep_write_store(c.s, sel, &o, err))
        goto fail;
    if (f) {
        FILE *g = f;
        f = NULL;
        if (cli_close_out(g, outp, err))
            goto fail;
    }
    fprintf(stderr, "tam sweep: %d rows written to %s (table sweeps)\n", o.n, dbpath);
    if (o.txt)
        fputs(o.txt, stdout);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "tam sweep: %s\n", err);
    if (f)
        cli_abort_out(f);
done:
    free(o.r);
    free(o.txt);
    store_close(c.s);
    kset_free(c.ks);
    return rc;
}

/* }====== */
