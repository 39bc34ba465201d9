/* tools/cli/cmd_step.c - `tam step`: price one described batch, print the breakdown. */
#include "cli.h"

#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char step_usage[] =
    "usage: tam step --model M [--tp N] [--preset NAME | --config F] [--kernels SET] [--hardware F] [--mfu DIR]\n"
    "                [--gemm-mfu CSV] [--prefill NEW:CTX[:EMIT],...] [--decode CTX[xCOUNT],...] [-o FILE]\n"
    "Price one engine step and print JSON: total seconds, overhead, the prefill and\n"
    "decode phase times, compute vs memory time, bytes, the mixed-batch rule used, the\n"
    "kernel set and which of its tables priced each kind of kernel, and every priced\n"
    "component with the table rows that served it (flagged when outside the grid).\n"
    "  --preset   a shipped engine configuration (below); default: the default\n"
    "             preset; --preset baseline: the proposal's roofline v2\n"
    "  --config   an engine configuration file over the baseline's defaults\n"
    "  --kernels  kernel data set: proposal-h100 (the proposal's tables, the baseline's),\n"
    "             h100-sxm-bf16 (measured bf16 vLLM kernels) or a manifest JSON path;\n"
    "             default: the configuration's \"kernels\"\n"
    "  --prefill  chunks: NEW tokens on top of CTX cached; EMIT=1 (default) when the\n"
    "             chunk completes its prompt (an LM-head row)\n"
    "  --decode   decoding requests by context length; 1000x32 = 32 requests at 1000\n"
    "  --model    folder under $DATA/models (e.g. llama-2-7b-hf) or a config.json path\n"
    "  --hardware a hardware profile JSON (default: the built-in H100 SXM); with\n"
    "             \"measured_bw\": true in --config, weights are read at its\n"
    "             bw_sequential and the KV cache at its bw_paged_kv (Tier 2)\n"
    "  --mfu      MFU tables folder (default $DATA/mfu/h100)\n"
    "  --gemm-mfu a GEMM table CSV used instead of the folder's gemm/data.csv, e.g.\n"
    "             Tier 2's tools/bench/measured/mfu/gemm/data.csv\n";

#define MAXB 4096

static int parse_list(const char *s, int *a, int *b, unsigned char *e, int *n, int pre, char *err)
{
    char *dup = strdup(s), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        long x = strtol(tok, &end, 10), y = 0, z = 1, cnt = 1;
        if (end == tok || x < (pre ? 1 : 1)) {
            rc = tam_fail(err, TAM_EFIELD, "'%s': expected a positive integer", tok);
            break;
        }
        if (pre) {
            if (*end != ':' || (y = strtol(end + 1, &end, 10)) < 0) {
                rc = tam_fail(err, TAM_EFIELD, "'%s': expected NEW:CTX[:EMIT]", tok);
                break;
            }
            if (*end == ':')
                z = strtol(end + 1, &end, 10);
        } else if (*end == 'x') {
            cnt = strtol(end + 1, &end, 10);
        }
        if (*end != '\0' || cnt < 1 || (z != 0 && z != 1)) {
            rc = tam_fail(err, TAM_EFIELD, "'%s': trailing characters or bad count", tok);
            break;
        }
        for (long k = 0; k < cnt; k++) {
            if (*n >= MAXB) {
                rc = tam_fail(err, TAM_EFIELD, "more than %d entries", MAXB);
                goto out;
            }
            a[*n] = (int)x;
            if (pre) {
                b[*n] = (int)y;
                e[*n] = (unsigned char)z;
            }
            (*n)++;
        }
    }
out:
    free(dup);
    return rc;
}

/* The table rows that served a lookup, as an array named key of x. */
static void add_rows(cJSON *x, const char *key, const char *table, int n, const int *line,
                     const double *weight)
{
    cJSON *rows = cJSON_AddArrayToObject(x, key);
    for (int r = 0; r < n; r++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "table", table ? table : "");
        cJSON_AddNumberToObject(row, "line", line[r]);
        cJSON_AddNumberToObject(row, "weight", weight[r]);
        cJSON_AddItemToArray(rows, row);
    }
}

/* What priced the step: model, configuration, kernel set and its tables. */
static void step_json_inputs(cJSON *j, const model_t *m, int tp, const econf_t *c, const kset_t *ks,
                             const step_model_t *sm)
{
    char hash[17];
    econf_hash(c, hash);
    cJSON_AddStringToObject(j, "model", m->name);
    cJSON_AddNumberToObject(j, "tp", tp);
    cJSON_AddStringToObject(j, "config", c->name);
    cJSON_AddStringToObject(j, "config_hash", hash);
    cJSON_AddStringToObject(j, "kernels", ks->name);
    cJSON_AddStringToObject(j, "kernels_sha256", ks->sha256);
    step_pricing_t pr;
    step_model_pricing(sm, &pr);
    cJSON *pj = cJSON_AddObjectToObject(j, "priced_by");
    cJSON_AddStringToObject(pj, "gemm", pr.gemm);
    cJSON_AddStringToObject(pj, "decode_attention", pr.decode);
    cJSON_AddStringToObject(pj, "prefill_attention", pr.prefill);
    cJSON_AddStringToObject(pj, "moe", pr.moe);
    if (pr.gemm_fp8_for_bf16) {
        char note[300];
        snprintf(note, sizeof note, "this bf16 model's GEMMs are priced through an FP8 GEMM table "
                 "(%s): time = FP8 kernel time x fp8_gemm_ratio %g%s", ks->name, c->fp8_gemm_ratio,
                 c->fp8_gemm_ratio == 2.0 ? " (roofline v2's implicit factor; measured bf16/FP8 "
                 "ratios are 1.4-1.7)" : "");
        cJSON_AddStringToObject(j, "note", note);
    }
    cJSON_AddStringToObject(j, "decode_table", step_model_attn(sm)->decode_file);
    cJSON_AddStringToObject(j, "prefill_table", step_model_attn(sm)->prefill_file);
}

/* The step's totals and its breakdown. */
static void step_json_totals(cJSON *j, const batch_t *b, double t, const step_bd_t *bd)
{
    cJSON_AddNumberToObject(j, "prefill_tokens", 0);
    int tpf = 0;
    for (int i = 0; i < b->n_pf; i++)
        tpf += b->pf_new[i];
    cJSON_ReplaceItemInObject(j, "prefill_tokens", cJSON_CreateNumber(tpf));
    cJSON_AddNumberToObject(j, "decode_requests", b->n_dec);
    cJSON_AddNumberToObject(j, "total_s", t);
    cJSON_AddNumberToObject(j, "overhead_s", bd->overhead);
    cJSON_AddNumberToObject(j, "elementwise_s", bd->elementwise);
    cJSON_AddNumberToObject(j, "t_prefill_s", bd->t_prefill);
    cJSON_AddNumberToObject(j, "t_decode_s", bd->t_decode);
    cJSON_AddStringToObject(j, "mixed_rule", bd->blend);
    cJSON_AddNumberToObject(j, "compute_s", bd->compute);
    cJSON_AddNumberToObject(j, "memory_s", bd->mem_time);
    cJSON_AddNumberToObject(j, "memory_bound_s", bd->mem_bound);
    cJSON_AddNumberToObject(j, "allreduce_s", bd->allreduce);
    cJSON_AddNumberToObject(j, "weight_bytes", bd->weight_bytes);
    cJSON_AddNumberToObject(j, "kv_bytes", bd->kv_bytes);
}

/* Every priced component with the table rows that served it. */
static void step_json_components(cJSON *j, const step_bd_t *bd)
{
    cJSON *arr = cJSON_AddArrayToObject(j, "components");
    for (int i = 0; i < bd->n_comps; i++) {
        const step_comp_t *sc = &bd->comps[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", sc->name);
        char ph[2] = {sc->phase, 0};
        cJSON_AddStringToObject(x, "phase", ph);
        if (sc->k > 0) {
            cJSON_AddNumberToObject(x, "m", sc->m);
            cJSON_AddNumberToObject(x, "k", sc->k);
            cJSON_AddNumberToObject(x, "n", sc->n);
        }
        cJSON_AddNumberToObject(x, "mfu", sc->mfu);
        cJSON_AddNumberToObject(x, "flops", sc->flops);
        cJSON_AddNumberToObject(x, "compute_s", sc->compute);
        cJSON_AddNumberToObject(x, "bytes", sc->bytes);
        if (sc->measured) {
            cJSON_AddBoolToObject(x, "extrapolated", sc->extrapolated);
            add_rows(x, "latency_rows", sc->ksrc.table, sc->ksrc.n, sc->ksrc.line,
                     sc->ksrc.weight);
        }
        if (sc->src.n > 0)
            add_rows(x, "mfu_rows", sc->src.table, sc->src.n, sc->src.line, sc->src.weight);
        cJSON_AddItemToArray(arr, x);
    }
}

/* The JSON to -o (stdout by default); returns the exit status. */
static int step_write(const cJSON *j, const char *outp)
{
    char err[TAM_ERRLEN];
    char *txt = cJSON_Print(j);
    FILE *f = cli_open_out(outp, err);
    int rc = 0;
    if (!f) {
        fprintf(stderr, "tam step: %s\n", err);
        rc = 1;
    } else {
        fprintf(f, "%s\n", txt);
        if (cli_close_out(f, outp, err)) {
            fprintf(stderr, "tam step: %s\n", err);
            rc = 1;
        }
    }
    free(txt);
    return rc;
}

int cmd_step(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},    {"tp", required_argument, 0, 't'},
        {"config", required_argument, 0, 'c'},   {"hardware", required_argument, 0, 'w'},
        {"mfu", required_argument, 0, 'f'},      {"prefill", required_argument, 0, 'p'},
        {"decode", required_argument, 0, 'd'},   {"output", required_argument, 0, 'o'},
        {"gemm-mfu", required_argument, 0, 'G'}, {"help", no_argument, 0, 'h'},
        {"kernels", required_argument, 0, 'K'},  {"preset", required_argument, 0, 'P'},
        {0, 0, 0, 0}};
    inputs_t e;
    inputs_init(&e);
    e.default_preset = 1;
    const char *pre = NULL, *dec = NULL, *outp = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "m:t:c:w:f:p:d:o:h", opts, NULL)) != -1) {
        switch (o) {
        case 'm': e.model = optarg; break;
        case 't': e.tp = atoi(optarg); break;
        case 'c': e.config = optarg; break;
        case 'w': e.hardware = optarg; break;
        case 'f': e.mfu = optarg; break;
        case 'G': e.gemm_mfu = optarg; break;
        case 'K': e.kernels = optarg; break;
        case 'P': e.preset = optarg; break;
        case 'p': pre = optarg; break;
        case 'd': dec = optarg; break;
        case 'o': outp = optarg; break;
        case 'h':
            fputs(step_usage, stdout);
            inputs_preset_help(stdout);
            return 0;
        default: fputs(step_usage, stderr); return 2;
        }
    }
    static int pnew[MAXB], pctx[MAXB], dctx[MAXB];
    static unsigned char pem[MAXB];
    int np = 0, nd = 0;
    char err[TAM_ERRLEN];
    if ((pre && parse_list(pre, pnew, pctx, pem, &np, 1, err)) ||
        (dec && parse_list(dec, dctx, NULL, NULL, &nd, 0, err))) {
        fprintf(stderr, "tam step: %s\n", err);
        return 2;
    }
    if (np + nd == 0) {
        fprintf(stderr, "tam step: describe a batch with --prefill and/or --decode\n");
        return 2;
    }
    model_t m;
    hw_t hw;
    econf_t c;
    kset_t *ks;
    step_model_t *sm;
    if (inputs_build(&e, &m, &hw, &ks, &c, &sm, err)) {
        fprintf(stderr, "tam step: %s\n", err);
        return 1;
    }
    batch_t b = {np, pnew, pctx, pem, nd, dctx};
    step_bd_t *bd = calloc(1, sizeof *bd);
    bd->want_comps = 1;
    double t = step_time(sm, &b, bd);
    cJSON *j = cJSON_CreateObject();
    step_json_inputs(j, &m, e.tp, &c, ks, sm);
    step_json_totals(j, &b, t, bd);
    step_json_components(j, bd);
    int rc = step_write(j, outp);
    cJSON_Delete(j);
    free(bd);
    step_model_free(sm);
    kset_free(ks);
    return rc;
}
