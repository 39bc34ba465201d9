/* tools/harness/sweep.c - the Part A studies of `tam sweep` (see sweep.h and
** the description at the top of tools/cli/cmd_sweep.c). */
#include "sweep.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JUMP 0.05
#define JUMP_TOL 1e-9

void sweep_line_counts(const double *f, int n, int stride, int *jumps, int *steps)
{
    for (int i = 0; i + 1 < n; i++) {
        double d = f[(i + 1) * stride] / f[i * stride] - 1.0;
        if (fabs(d) < JUMP - JUMP_TOL)
            continue;
        (*jumps)++;
        double nb = 0;
        int nn = 0;
        if (i > 0) {
            nb += f[i * stride] / f[(i - 1) * stride] - 1.0;
            nn++;
        }
        if (i + 2 < n) {
            nb += f[(i + 2) * stride] / f[(i + 1) * stride] - 1.0;
            nn++;
        }
        if (nn == 0 || fabs(d - nb / nn) >= JUMP - JUMP_TOL)
            (*steps)++;
    }
}
static int add_row(sweep_out_t *o, const char *study, const char *series, double x, double y,
                   double v, long long cid, char *err)
{
    if (o->n == o->cap) {
        int nc = o->cap ? 2 * o->cap : 4096;
        sweep_row_t *nr = realloc(o->r, sizeof *nr * (size_t)nc);
        if (!nr)
            return tam_fail(err, TAM_ENOMEM, "out of memory");
        o->r = nr;
        o->cap = nc;
    }
    sweep_row_t *r = &o->r[o->n++];
    r->study = study;
    snprintf(r->series, sizeof r->series, "%s", series);
    r->x = x;
    r->y = y;
    r->value = v;
    r->config_id = cid;
    return TAM_OK;
}


void sweep_say(sweep_out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if (o->tlen + (size_t)len + 1 > o->tcap) {
        size_t nc = (o->tcap ? 2 * o->tcap : 4096) + (size_t)len;
        char *nt = realloc(o->txt, nc);
        if (!nt)
            return; /* the rows are what matters; the text is a courtesy */
        o->txt = nt;
        o->tcap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(o->txt + o->tlen, o->tcap - o->tlen, fmt, ap);
    va_end(ap);
    o->tlen += (size_t)len;
}

/* }====== */


/* The baseline over the study's kernel set. */
static void base_conf(const sweep_ctx_t *c, econf_t *conf)
{
    econf_baseline(conf);
    snprintf(conf->kernels, sizeof conf->kernels, "%s", c->ks->spec);
}

static int load_model(const sweep_ctx_t *c, const char *name, model_t *m, char *err)
{
    char path[1024];
    if (inputs_model_path(&c->env, name, path, sizeof path))
        return tam_fail(err, TAM_EFIELD, "model path too long");
    return model_load(path, m, err);
}

/* Register a configuration (idempotent) and build its step model. */
static int make_model(sweep_ctx_t *c, const model_t *m, int tp, econf_t *conf, const char *name,
                      step_model_t **sm, long long *cid, char *err)
{
    char canon[2048], h[17];
    snprintf(conf->name, sizeof conf->name, "%s", name);
    int rc = kset_bind(c->ks, conf, err);
    if (rc)
        return rc;
    if (econf_canonical(conf, canon, sizeof canon) < 0)
        return tam_fail(err, TAM_EFIELD, "configuration '%s' does not serialise", name);
    econf_hash(conf, h);
    rc = store_config(c->s, name, canon, h, c->rev, cid, err);
    if (rc)
        return rc;
    return step_model_new(m, &c->hw, c->ks, tp, conf, sm, err);
}

static double rel(double a, double ref)
{
    return fabs(a - ref) / ref;
}

/* Sign changes of successive nonzero differences (0 for a monotonic curve). */
static int direction_changes(const double *v, int n)
{
    int last = 0, changes = 0;
    for (int i = 0; i + 1 < n; i++) {
        double dv = v[i + 1] - v[i];
        int sg = (dv > 0) - (dv < 0);
        if (sg == 0)
            continue;
        if (last && sg != last)
            changes++;
        last = sg;
    }
    return changes;
}

/* }====== */

/* {====== H4A: aggregate vs per-component roofline over KV length ====== */

#define H4_BATCH 32
#define KV_FROM 128
#define KV_TO 8192
#define KV_STEP 64
#define NKV ((KV_TO - KV_FROM) / KV_STEP + 1) /* 127 */

static int study_h4a(sweep_ctx_t *c, sweep_out_t *o, char *err)
{
    model_t m;
    econf_t ca, cp;
    step_model_t *sa = NULL, *sp = NULL;
    long long ida = 0, idp = 0;
    int rc;
    if ((rc = load_model(c, "llama-2-70b-hf", &m, err)))
        return rc;
    base_conf(c, &ca);
    base_conf(c, &cp);
    cp.per_component = 1;
    if ((rc = make_model(c, &m, 4, &ca, "baseline", &sa, &ida, err)) ||
        (rc = make_model(c, &m, 4, &cp, "H4 per_component", &sp, &idp, err)))
        goto out;
    static double agg[NKV], pc[NKV], cmp_[NKV], mem[NKV];
    int ctx[H4_BATCH], xmin = 0;
    double rmin = -1;
    char cmin[24] = "";
    step_bd_t bd;
    for (int i = 0; i < NKV; i++) {
        int x = KV_FROM + i * KV_STEP;
        for (int r = 0; r < H4_BATCH; r++)
            ctx[r] = x;
        batch_t b = {0, NULL, NULL, NULL, H4_BATCH, ctx};
        bd.want_comps = 1;
        agg[i] = step_time(sa, &b, &bd);
        for (int k = 0; k < bd.n_comps; k++) {
            /* the engine's own memory time: its bandwidth rule, not a copy */
            double r = bd.comps[k].compute / bd.comps[k].mem;
            if (rmin < 0 || r < rmin) {
                rmin = r;
                xmin = x;
                snprintf(cmin, sizeof cmin, "%s", bd.comps[k].name);
            }
        }
        cmp_[i] = bd.compute;
        mem[i] = bd.mem_time;
        pc[i] = step_time(sp, &b, NULL);
        if ((rc = add_row(o, "H4A", "aggregate", x, H4_BATCH, agg[i], ida, err)) ||
            (rc = add_row(o, "H4A", "per_component", x, H4_BATCH, pc[i], idp, err)) ||
            (rc = add_row(o, "H4A", "agg_compute", x, H4_BATCH, cmp_[i], ida, err)) ||
            (rc = add_row(o, "H4A", "agg_memory", x, H4_BATCH, mem[i], ida, err)))
            goto out;
    }
    int first = cmp_[0] >= mem[0], ix = -1, imax = 0;
    for (int i = 1; i < NKV && ix < 0; i++)
        if ((cmp_[i] >= mem[i]) != first)
            ix = i;
    for (int i = 1; i < NKV; i++)
        if (rel(pc[i], agg[i]) > rel(pc[imax], agg[imax]))
            imax = i;
    double cx = ix >= 0 ? KV_FROM + ix * KV_STEP : NAN;
    double rdx = ix >= 0 ? rel(pc[ix], agg[ix]) : NAN;
    if ((rc = add_row(o, "H4A_summary", "crossover_x", 0, 0, cx, 0, err)) ||
        (rc = add_row(o, "H4A_summary", "rel_diff_at_crossover", 0, 0, rdx, 0, err)) ||
        (rc = add_row(o, "H4A_summary", "max_rel_diff", 0, 0, rel(pc[imax], agg[imax]), 0, err)) ||
        (rc = add_row(o, "H4A_summary", "max_rel_diff_x", 0, 0, KV_FROM + imax * KV_STEP, 0, err)))
        goto out;

    sweep_say(o, "H4A  %s TP4, decode-only steps of %d requests at KV length x = %d..%d step %d\n"
        "     (both models charge the baseline's 50 us per-step overhead; rel diff =\n"
        "     |per_component - aggregate| / aggregate)\n", m.name, H4_BATCH, KV_FROM, KV_TO,
        KV_STEP);
    sweep_say(o, "  at x=%d: aggregate %.6f s (compute %.6f, memory %.6f), per_component %.6f s\n",
        KV_FROM, agg[0], cmp_[0], mem[0], pc[0]);
    sweep_say(o, "  at x=%d: aggregate %.6f s (compute %.6f, memory %.6f), per_component %.6f s\n",
        KV_TO, agg[NKV - 1], cmp_[NKV - 1], mem[NKV - 1], pc[NKV - 1]);
    if (ix >= 0) {
        double g0 = cmp_[ix - 1] - mem[ix - 1], g1 = cmp_[ix] - mem[ix];
        double xl = KV_FROM + (ix - 1) * KV_STEP + KV_STEP * g0 / (g0 - g1);
        sweep_say(o, "  crossover_x            %g  (first x where the aggregate step is %s-bound;\n"
            "                         compute = memory near x = %.1f by linear interpolation)\n",
            cx, first ? "memory" : "compute", xl);
        sweep_say(o, "  rel_diff_at_crossover  %.4f  (%.2f%%; at x = %d: %.4f)\n", rdx, 100 * rdx,
            KV_FROM + (ix - 1) * KV_STEP, rel(pc[ix - 1], agg[ix - 1]));
    } else {
        sweep_say(o, "  crossover_x            none: the aggregate step is %s-bound over the whole "
            "range (stored NULL)\n", first ? "compute" : "memory");
    }
    sweep_say(o, "  max_rel_diff           %.4f  (%.2f%%) at max_rel_diff_x = %d\n",
        rel(pc[imax], agg[imax]), 100 * rel(pc[imax], agg[imax]), KV_FROM + imax * KV_STEP);
    sweep_say(o, "  context (not stored): smallest compute / memory ratio of any single component\n"
        "    over the sweep %.3f (%s at x = %d)%s\n", rmin, cmin, xmin,
        rmin >= 1 ? "\n    every component is compute-bound at every x, so the per-component sum\n"
                    "    of maxima equals the aggregate max exactly" : "");
out:
    step_model_free(sa);
    step_model_free(sp);
    return rc;
}

/* }====== */

/* {====== H5A: blended vs additive mixed step over the prefill share ====== */

#define H5_TOKENS 256
#define H5_DEC_CTX 1024
#define NS 101

static int study_h5a(sweep_ctx_t *c, sweep_out_t *o, char *err)
{
    model_t m;
    econf_t cb, ca, cbi, cai;
    step_model_t *sb = NULL, *sa = NULL, *sbi = NULL, *sai = NULL;
    long long idb = 0, ida = 0;
    int rc;
    if ((rc = load_model(c, "codellama-34b-instruct-hf", &m, err)))
        return rc;
    base_conf(c, &cb);
    base_conf(c, &ca);
    ca.additive_mixed = 1;
    cbi = cb;
    cai = ca;
    cbi.mfu_interp = cai.mfu_interp = 1; /* context only: printed, not stored */
    if ((rc = make_model(c, &m, 2, &cb, "baseline", &sb, &idb, err)) ||
        (rc = make_model(c, &m, 2, &ca, "H5 additive_mixed", &sa, &ida, err)) ||
        (rc = step_model_new(&m, &c->hw, c->ks, 2, &cbi, &sbi, err)) ||
        (rc = step_model_new(&m, &c->hw, c->ks, 2, &cai, &sai, err)))
        goto out;
    double bl[NS], ad[NS], bli[NS], adi[NS];
    const char *rule[NS];
    int dctx[H5_TOKENS], pnew[1], pctx[1] = {0};
    unsigned char pem[1] = {1};
    for (int r = 0; r < H5_TOKENS; r++)
        dctx[r] = H5_DEC_CTX;
    step_bd_t bd;
    for (int s = 0; s < NS; s++) {
        int p = (H5_TOKENS * s + 50) / 100; /* round(256 s / 100), halves up */
        pnew[0] = p;
        batch_t b = {p > 0, pnew, pctx, pem, H5_TOKENS - p, dctx};
        bd.want_comps = 0;
        bl[s] = step_time(sb, &b, &bd);
        rule[s] = bd.blend;
        ad[s] = step_time(sa, &b, NULL);
        bli[s] = step_time(sbi, &b, NULL);
        adi[s] = step_time(sai, &b, NULL);
        if ((rc = add_row(o, "H5A", "blend", s, H5_TOKENS, bl[s], idb, err)) ||
            (rc = add_row(o, "H5A", "additive", s, H5_TOKENS, ad[s], ida, err)))
            goto out;
    }
    int imax = 0;
    for (int s = 1; s < NS; s++)
        if (rel(ad[s], bl[s]) > rel(ad[imax], bl[imax]))
            imax = s;
    int chb = direction_changes(bl, NS), cha = direction_changes(ad, NS);
    if ((rc = add_row(o, "H5A_summary", "rel_diff_at_50", 0, 0, rel(ad[50], bl[50]), 0, err)) ||
        (rc = add_row(o, "H5A_summary", "max_rel_diff", 0, 0, rel(ad[imax], bl[imax]), 0, err)) ||
        (rc = add_row(o, "H5A_summary", "max_rel_diff_x", 0, 0, imax, 0, err)) ||
        (rc = add_row(o, "H5A_summary", "blend_direction_changes", 0, 0, chb, 0, err)) ||
        (rc = add_row(o, "H5A_summary", "additive_direction_changes", 0, 0, cha, 0, err)))
        goto out;

    sweep_say(o, "H5A  %s TP2, one step of %d tokens: round(%d s/100) prefill tokens (one chunk,\n"
        "     empty cache, completes its prompt) + the rest as decodes at context %d;\n"
        "     s = 0..100; rel diff = |additive - blend| / blend\n", m.name, H5_TOKENS,
        H5_TOKENS, H5_DEC_CTX);
    sweep_say(o, "  s=0: blend %.6f additive %.6f s   s=50: blend %.6f additive %.6f s   "
        "s=100: blend %.6f additive %.6f s\n", bl[0], ad[0], bl[50], ad[50], bl[100], ad[100]);
    sweep_say(o, "  rel_diff_at_50             %.4f  (%.2f%%)\n", rel(ad[50], bl[50]),
        100 * rel(ad[50], bl[50]));
    sweep_say(o, "  max_rel_diff               %.4f  (%.2f%%) at max_rel_diff_x = s = %d\n",
        rel(ad[imax], bl[imax]), 100 * rel(ad[imax], bl[imax]), imax);
    sweep_say(o, "  blend_direction_changes    %d  (%s)\n", chb, chb ? "not monotonic" : "monotonic");
    sweep_say(o, "  additive_direction_changes %d  (%s)\n", cha, cha ? "not monotonic" : "monotonic");
    sweep_say(o, "  context (not stored): rel diff at s=49 %.4f, s=51 %.4f; with mfu_interp = 1:\n"
        "    rel diff at s=49/50/51 %.4f/%.4f/%.4f, direction changes blend %d, additive %d\n",
        rel(ad[49], bl[49]), rel(ad[51], bl[51]), rel(adi[49], bli[49]), rel(adi[50], bli[50]),
        rel(adi[51], bli[51]), direction_changes(bli, NS), direction_changes(adi, NS));
    sweep_say(o, "  baseline mixing rule by s:");
    for (int s = 0; s < NS; s++)
        if (s == 0 || strcmp(rule[s], rule[s - 1]) != 0) {
            int e = s;
            while (e + 1 < NS && strcmp(rule[e + 1], rule[s]) == 0)
                e++;
            sweep_say(o, " %d-%d %s;", s, e, rule[s]);
        }
    sweep_say(o, "\n");
out:
    step_model_free(sb);
    step_model_free(sa);
    step_model_free(sbi);
    step_model_free(sai);
    return rc;
}

/* }====== */

/* {====== H6A: MFU surfaces, nearest vs interpolated ====== */

#define NM 256  /* m or batch 1..256 */
#define NSHAPE 8

static const char *const MODE_NAME[2] = {"nearest", "interp"};

/* Store the counts of one kind for both modes and describe them. */
static int h6_summary(sweep_out_t *o, const char *kind, const int jumps[2], const int steps[2],
                      int pairs, char *err)
{
    char ser[48];
    int rc;
    for (int md = 0; md < 2; md++) {
        snprintf(ser, sizeof ser, "%s:%s:jumps", kind, MODE_NAME[md]);
        if ((rc = add_row(o, "H6A_summary", ser, 0, 0, jumps[md], 0, err)))
            return rc;
        snprintf(ser, sizeof ser, "%s:%s:steps", kind, MODE_NAME[md]);
        if ((rc = add_row(o, "H6A_summary", ser, 0, 0, steps[md], 0, err)))
            return rc;
    }
    char pairs_txt[48];
    snprintf(pairs_txt, sizeof pairs_txt, "%d adjacent pairs", pairs);
    sweep_say(o, "  %-24s nearest  interp  removed by interp\n", pairs_txt);
    for (int k = 0; k < 2; k++) {
        const int *v = k ? steps : jumps;
        char rm[32];
        if (v[0] > 0)
            snprintf(rm, sizeof rm, "%.1f%%", 100.0 * (1.0 - (double)v[1] / v[0]));
        else
            snprintf(rm, sizeof rm, "n/a (none)");
        sweep_say(o, "  %-24s %7d %7d  %s\n", k ? "steps (discontinuities)" : "jumps (>= 5%)", v[0],
            v[1], rm);
    }
    return TAM_OK;
}

static int study_h6_gemm(sweep_ctx_t *c, sweep_out_t *o, char *err)
{
    model_t m;
    int rc;
    if ((rc = load_model(c, "llama-2-70b-hf", &m, err)))
        return rc;
    const int tp = 4;
    if (m.H % tp || m.F % tp || m.E)
        return tam_fail(err, TAM_EFIELD, "%s: not a dense model that splits over tp=%d", m.name, tp);
    /* The baseline's split-QKV shapes per GPU (docs/MODEL.md "Layer GEMMs"). */
    int kvh = m.K / tp >= 1 ? m.K / tp : 1;
    const struct {
        const char *name;
        double k, n;
    } all[NSHAPE] = {
        {"q", m.d, (double)m.H / tp * m.hd},  {"k", m.d, (double)kvh * m.hd},
        {"v", m.d, (double)kvh * m.hd},       {"o", (double)m.H / tp * m.hd, m.d},
        {"gate", m.d, (double)m.F / tp},      {"up", m.d, (double)m.F / tp},
        {"down", (double)m.F / tp, m.d},      {"lm_head", m.d, ceil((double)m.V / tp)},
    };
    double sk[NSHAPE], sn[NSHAPE];
    char names[NSHAPE][48];
    int ns = 0;
    for (int i = 0; i < NSHAPE; i++) {
        int j = 0;
        while (j < ns && !(sk[j] == all[i].k && sn[j] == all[i].n))
            j++;
        if (j == ns) {
            sk[ns] = all[i].k;
            sn[ns] = all[i].n;
            snprintf(names[ns++], sizeof names[0], "%s", all[i].name);
        } else {
            size_t l = strlen(names[j]);
            snprintf(names[j] + l, sizeof names[0] - l, ",%s", all[i].name);
        }
    }
    static double f[2][NSHAPE][NM];
    int jumps[2] = {0, 0}, steps[2] = {0, 0};
    for (int y = 0; y < ns; y++)
        for (int md = 0; md < 2; md++) {
            for (int i = 0; i < NM; i++) {
                f[md][y][i] = mfu_gemm(c->db, (mfu_mode_t)md, i + 1, sk[y], sn[y], NULL);
                if ((rc = add_row(o, "H6A_gemm", MODE_NAME[md], i + 1, y, f[md][y][i], 0, err)))
                    return rc;
            }
            sweep_line_counts(f[md][y], NM, 1, &jumps[md], &steps[md]);
        }
    sweep_say(o, "H6A_gemm  GEMM MFU of %s TP4 per-GPU shapes, m = 1..%d (x); y = shape index:\n",
        m.name, NM);
    for (int y = 0; y < ns; y++) {
        int same = -1;
        for (int z = 0; z < y && same < 0; z++)
            if (!memcmp(f[0][z], f[0][y], sizeof f[0][y]) && !memcmp(f[1][z], f[1][y], sizeof f[1][y]))
                same = z;
        char note[64] = "";
        if (same >= 0)
            snprintf(note, sizeof note, "  (same MFU curve as y=%d)", same);
        sweep_say(o, "  y=%d %-10s (k=%g, n=%g)%s\n", y, names[y], sk[y], sn[y], note);
    }
    return h6_summary(o, "gemm", jumps, steps, ns * (NM - 1), err);
}

static int study_h6_attn(sweep_ctx_t *c, sweep_out_t *o, int decode, char *err)
{
    model_t m;
    mfu_attn_t at;
    int rc;
    if ((rc = load_model(c, "llama-2-70b-hf", &m, err)) ||
        (rc = mfu_select_attn(c->db, m.H, m.K, m.hd, 4, &at, err)))
        return rc;
    int jumps[2] = {0, 0}, steps[2] = {0, 0};
    if (!decode) {
        double f[2][NKV];
        for (int md = 0; md < 2; md++) {
            for (int i = 0; i < NKV; i++) {
                f[md][i] = mfu_prefill(&at, (mfu_mode_t)md, KV_FROM + i * KV_STEP, NULL);
                if ((rc = add_row(o, "H6A_prefill", MODE_NAME[md], KV_FROM + i * KV_STEP, 0,
                                  f[md][i], 0, err)))
                    return rc;
            }
            sweep_line_counts(f[md], NKV, 1, &jumps[md], &steps[md]);
        }
        sweep_say(o, "H6A_prefill  prefill attention MFU, %s (%s), seq = %d..%d step %d\n",
            at.prefill_file, at.prefill_exact ? "exact heads" : "nearest heads", KV_FROM, KV_TO,
            KV_STEP);
        return h6_summary(o, "prefill", jumps, steps, NKV - 1, err);
    }
    static double f[2][NM][NKV]; /* [mode][batch - 1][kv index] */
    for (int md = 0; md < 2; md++) {
        for (int bi = 0; bi < NM; bi++)
            for (int k = 0; k < NKV; k++) {
                f[md][bi][k] = mfu_decode(&at, (mfu_mode_t)md, bi + 1, KV_FROM + k * KV_STEP, NULL);
                if ((rc = add_row(o, "H6A_decode", MODE_NAME[md], bi + 1, KV_FROM + k * KV_STEP,
                                  f[md][bi][k], 0, err)))
                    return rc;
            }
        for (int k = 0; k < NKV; k++) /* along batch, each kv */
            sweep_line_counts(&f[md][0][k], NM, NKV, &jumps[md], &steps[md]);
        for (int bi = 0; bi < NM; bi++) /* along kv, each batch */
            sweep_line_counts(f[md][bi], NKV, 1, &jumps[md], &steps[md]);
    }
    sweep_say(o, "H6A_decode  decode attention MFU, %s (%s), batch = 1..%d (x) by kv = %d..%d step "
        "%d (y);\n  pairs along batch for each kv and along kv for each batch\n",
        at.decode_file, at.decode_exact ? "exact heads and tp" : "nearest table", NM, KV_FROM,
        KV_TO, KV_STEP);
    return h6_summary(o, "decode", jumps, steps, NKV * (NM - 1) + NM * (NKV - 1), err);
}

static int study_h6_decode(sweep_ctx_t *c, sweep_out_t *o, char *err)
{
    return study_h6_attn(c, o, 1, err);
}

static int study_h6_prefill(sweep_ctx_t *c, sweep_out_t *o, char *err)
{
    return study_h6_attn(c, o, 0, err);
}

/* }====== */

/* {====== the command ====== */

const sweep_study_t sweep_studies[SWEEP_NSTUDIES] = {
    {"H4A", "H4A_summary", NULL, study_h4a},
    {"H5A", "H5A_summary", NULL, study_h5a},
    {"H6A_gemm", "H6A_summary", "gemm:", study_h6_gemm},
    {"H6A_decode", "H6A_summary", "decode:", study_h6_decode},
    {"H6A_prefill", "H6A_summary", "prefill:", study_h6_prefill},
};

/* Replace the selected studies' rows with o's, in one transaction. */
int sweep_write_store(store_t *s, const int *sel, const sweep_out_t *o, char *err)
{
    sqlite3 *h = store_handle(s);
    sqlite3_stmt *del = NULL, *dsum = NULL, *ins = NULL;
    int rc = store_exec(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(h, "DELETE FROM sweeps WHERE study = ?1", -1, &del, NULL) ||
        sqlite3_prepare_v2(h, "DELETE FROM sweeps WHERE study = ?1 AND substr(series, 1, ?3) = ?2",
                           -1, &dsum, NULL) ||
        sqlite3_prepare_v2(h, "INSERT INTO sweeps(study, series, x, y, value, config_id) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &ins, NULL)) {
        rc = tam_fail(err, TAM_EDB, "%s: preparing the sweep statements: %s", store_path(s),
                      sqlite3_errmsg(h));
        goto out;
    }
    for (int i = 0; i < SWEEP_NSTUDIES && !rc; i++) {
        if (!sel[i])
            continue;
        const sweep_study_t *st = &sweep_studies[i];
        sqlite3_bind_text(del, 1, st->name, -1, SQLITE_STATIC);
        if (sqlite3_step(del) != SQLITE_DONE)
            rc = TAM_EDB;
        sqlite3_reset(del);
        if (!rc && st->prefix) {
            sqlite3_bind_text(dsum, 1, st->summary, -1, SQLITE_STATIC);
            sqlite3_bind_text(dsum, 2, st->prefix, -1, SQLITE_STATIC);
            sqlite3_bind_int(dsum, 3, (int)strlen(st->prefix));
            if (sqlite3_step(dsum) != SQLITE_DONE)
                rc = TAM_EDB;
            sqlite3_reset(dsum);
        } else if (!rc) {
            sqlite3_bind_text(del, 1, st->summary, -1, SQLITE_STATIC);
            if (sqlite3_step(del) != SQLITE_DONE)
                rc = TAM_EDB;
            sqlite3_reset(del);
        }
        if (rc)
            rc = tam_fail(err, TAM_EDB, "%s: deleting the old rows of %s: %s", store_path(s),
                          st->name, sqlite3_errmsg(h));
    }
    for (int i = 0; i < o->n && !rc; i++) {
        const sweep_row_t *r = &o->r[i];
        sqlite3_bind_text(ins, 1, r->study, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, r->series, -1, SQLITE_STATIC);
        sqlite3_bind_double(ins, 3, r->x);
        sqlite3_bind_double(ins, 4, r->y);
        if (isnan(r->value))
            sqlite3_bind_null(ins, 5);
        else
            sqlite3_bind_double(ins, 5, r->value);
        if (r->config_id > 0)
            sqlite3_bind_int64(ins, 6, r->config_id);
        else
            sqlite3_bind_null(ins, 6);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = tam_fail(err, TAM_EDB, "%s: inserting %s/%s at (%g, %g): %s", store_path(s),
                          r->study, r->series, r->x, r->y, sqlite3_errmsg(h));
        sqlite3_reset(ins);
    }
out:
    sqlite3_finalize(del);
    sqlite3_finalize(dsum);
    sqlite3_finalize(ins);
    if (!rc)
        rc = store_exec(s, "COMMIT", err);
    if (rc && !sqlite3_get_autocommit(h))
        store_exec(s, "ROLLBACK", NULL);
    return rc;
}

/* An integer as an integer, else the shortest %g form that reads back as
** the same double; empty for NaN. */
