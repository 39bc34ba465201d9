/* tools/cli/cmd_mfu.c - `tam mfu`: single lookups and sweeps of the MFU tables. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char mfu_usage[] =
    "usage: tam mfu KIND [options]      KIND = gemm | decode | prefill\n"
    "  gemm:    --m M --k K --n N\n"
    "  decode:  --bs B --kv C   (attention tables chosen by --model and --tp)\n"
    "  prefill: --seq S         (by --model)\n"
    "  --mode nearest|interp|both (both)   --mfu DIR (default $DATA/mfu/h100)\n"
    "  --gemm-mfu CSV  a GEMM table used instead of DIR/gemm/data.csv\n"
    "  --sweep VAR:FROM:TO:STEP   vary m, bs, kv or seq; prints CSV\n"
    "Prints the MFU each mode returns and the table rows (file:line, weight) behind it.\n";

static void print_src(const mfu_src_t *s)
{
    for (int i = 0; i < s->n; i++)
        printf("%s%s:%d@%.4g", i ? " " : "", s->table ? s->table : "?", s->line[i], s->weight[i]);
}

int cmd_mfu(int argc, char **argv)
{
    static const struct option opts[] = {
        {"m", required_argument, 0, 'M'},     {"k", required_argument, 0, 'K'},
        {"n", required_argument, 0, 'N'},     {"bs", required_argument, 0, 'b'},
        {"kv", required_argument, 0, 'v'},    {"seq", required_argument, 0, 's'},
        {"model", required_argument, 0, 'm'}, {"tp", required_argument, 0, 't'},
        {"mode", required_argument, 0, 'x'},  {"mfu", required_argument, 0, 'f'},
        {"sweep", required_argument, 0, 'w'}, {"help", no_argument, 0, 'h'},
        {"gemm-mfu", required_argument, 0, 'G'}, {0, 0, 0, 0}};
    if (argc < 2 || argv[1][0] == '-') {
        fputs(mfu_usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    const char *kind = argv[1];
    inputs_t e;
    inputs_init(&e);
    double M = 0, K = 0, N = 0, bs = 0, kv = 0, seq = 0;
    const char *mode = "both", *sweep = NULL;
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'M': M = atof(optarg); break;
        case 'K': K = atof(optarg); break;
        case 'N': N = atof(optarg); break;
        case 'b': bs = atof(optarg); break;
        case 'v': kv = atof(optarg); break;
        case 's': seq = atof(optarg); break;
        case 'm': e.model = optarg; break;
        case 't': e.tp = atoi(optarg); break;
        case 'x': mode = optarg; break;
        case 'f': e.mfu = optarg; break;
        case 'G': e.gemm_mfu = optarg; break;
        case 'w': sweep = optarg; break;
        case 'h': fputs(mfu_usage, stdout); return 0;
        default: fputs(mfu_usage, stderr); return 2;
        }
    }
    int isg = !strcmp(kind, "gemm"), isd = !strcmp(kind, "decode"), isp = !strcmp(kind, "prefill");
    if (!isg && !isd && !isp) {
        fputs(mfu_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN];
    mfu_db_t *db;
    if (inputs_mfu(&e, &db, err)) {
        fprintf(stderr, "tam mfu: %s\n", err);
        return 1;
    }
    mfu_attn_t at;
    memset(&at, 0, sizeof at);
    if (isd || isp) {
        model_t m;
        char mp[1024];
        if (!e.model || inputs_model_path(&e, e.model, mp, sizeof mp) || model_load(mp, &m, err) ||
            mfu_select_attn(db, m.H, m.K, m.hd, e.tp, &at, err)) {
            fprintf(stderr, "tam mfu: %s\n", e.model ? err : "--model is required");
            mfu_free(db);
            return 1;
        }
        fprintf(stderr, "tables: decode %s%s, prefill %s%s\n", at.decode_file,
                at.decode_exact ? "" : " (nearest)", at.prefill_file,
                at.prefill_exact ? "" : " (nearest)");
    }
    double *var = isg ? &M : isd ? &bs : &seq;
    double from = 0, to = 0, stepv = 1;
    if (sweep) {
        char name[16];
        if (sscanf(sweep, "%15[a-z]:%lf:%lf:%lf", name, &from, &to, &stepv) != 4 || stepv <= 0 ||
            to < from) {
            fprintf(stderr, "tam mfu: --sweep wants VAR:FROM:TO:STEP\n");
            mfu_free(db);
            return 2;
        }
        var = !strcmp(name, "m") ? &M : !strcmp(name, "bs") ? &bs : !strcmp(name, "kv") ? &kv
              : !strcmp(name, "seq") ? &seq : NULL;
        if (!var) {
            fprintf(stderr, "tam mfu: cannot sweep '%s'\n", name);
            mfu_free(db);
            return 2;
        }
        printf("%s,nearest,interp\n", name);
    } else {
        from = to = *var;
    }
    int rc = 0;
    for (double x = from; x <= to + 1e-9; x += stepv) {
        *var = x;
        if ((isg && (M < 1 || K < 1 || N < 1)) || (isd && (bs < 1 || kv < 1)) || (isp && seq < 1)) {
            fprintf(stderr, "tam mfu: give every dimension a value >= 1\n");
            rc = 2;
            break;
        }
        mfu_src_t s1, s2;
        double a, b;
        if (isg) {
            a = mfu_gemm(db, MFU_NEAREST, M, K, N, &s1);
            b = mfu_gemm(db, MFU_INTERP, M, K, N, &s2);
        } else if (isd) {
            a = mfu_decode(&at, MFU_NEAREST, bs, kv, &s1);
            b = mfu_decode(&at, MFU_INTERP, bs, kv, &s2);
        } else {
            a = mfu_prefill(&at, MFU_NEAREST, seq, &s1);
            b = mfu_prefill(&at, MFU_INTERP, seq, &s2);
        }
        if (sweep) {
            printf("%g,%.6g,%.6g\n", x, a, b);
            continue;
        }
        if (strcmp(mode, "interp")) {
            printf("nearest %.6g  rows ", a);
            print_src(&s1);
            printf("\n");
        }
        if (strcmp(mode, "nearest")) {
            printf("interp  %.6g  rows ", b);
            print_src(&s2);
            printf("\n");
        }
    }
    mfu_free(db);
    return rc;
}
