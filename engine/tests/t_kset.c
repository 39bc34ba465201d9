/* engine/tests/t_kset.c - kernel data sets: configuration keys, manifests and
** their identity, the proposal loader's exact mode and physics check, steps
** priced from measured tables, and fp8_gemm_ratio.
**
** Fixtures (engine/tests/fixtures/kset/, hand-made, no shared data):
**   set.json          manifest "tiny-set": mfu/ (proposal layout, declared
**                     bf16), gemm.csv, decode.csv, prefill.csv, moe.csv
**   model.json        2 layers, hidden 256, 2 heads of 128, 1 KV head,
**                     intermediate 512, vocab 1024, bf16 (GQA)
**   model-mha.json    the same with 2 KV heads (absent from decode.csv)
**   model-moe.json    model.json with 4 experts, 2 per token
**   bad_*.json        broken manifests; phys/, phys_bw/, exact_zero/: tables
**                     whose rows break physics or exact mode
** Every shape of the three models at tp 1 is a grid point of the measured
** tables, so every expected time below is a sum of table entries.
** The real shared tables are used only by t_real_tables (skipped without them).
*/
#include "check.h"
#include "models.h"
#include "econf.h"
#include "kset.h"
#include "mfu.h"
#include "model.h"
#include "step.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FX "engine/tests/fixtures/kset"
#define P_BF16 989.5e12 /* H100 SXM dense bf16 peak (hw_h100_sxm, mfu.c) */
#define P_FP8 1979e12   /* the FP8 peak of the proposal's GEMM table (kernels/README.md) */
#define US 1e-6

static int has(const char *s, const char *sub)
{
    return strstr(s, sub) != NULL;
}

/* ----------------------------------------------------------------- econf */

static void t_econf_keys(void)
{
    econf_t c;
    char err[TAM_ERRLEN], buf[2048];
    econf_baseline(&c);
    CHECK(strcmp(c.kernels, "proposal-h100") == 0, "default kernels '%s'", c.kernels);
    CHECK(c.kernels_sha256[0] == '\0', "default kernels_sha256 '%s'", c.kernels_sha256);
    CHECK(c.fp8_gemm_ratio == 2.0 && c.mfu_exact == 0, "defaults %g %d", c.fp8_gemm_ratio,
          c.mfu_exact);
    /* parsing {} gives the same default */
    CHECK(econf_parse("{}", "t", &c, err) == 0 && strcmp(c.kernels, "proposal-h100") == 0,
          "parse {}: %s", err);

    /* kernels_sha256: "" or 64 lowercase hex digits */
    static const char *bad_sha[] = {
        "{\"kernels_sha256\":\"abc\"}",
        /* 63 digits */
        "{\"kernels_sha256\":\"000000000000000000000000000000000000000000000000000000000000000\"}",
        /* 64 digits, one uppercase */
        "{\"kernels_sha256\":\"A000000000000000000000000000000000000000000000000000000000000000\"}",
        /* 64 characters, one not hex */
        "{\"kernels_sha256\":\"g000000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"kernels_sha256\":5}",
    };
    for (size_t i = 0; i < sizeof bad_sha / sizeof *bad_sha; i++) {
        int rc = econf_parse(bad_sha[i], "cfg.json", &c, err);
        CHECK(rc == TAM_EFIELD && has(err, "cfg.json") && has(err, "kernels_sha256"),
              "%s: rc %d: %s", bad_sha[i], rc, err);
    }
    const char *good_sha =
        "{\"kernels_sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}";
    CHECK(econf_parse(good_sha, "t", &c, err) == 0 &&
              strcmp(c.kernels_sha256,
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") == 0,
          "good sha refused: %s", err);
    CHECK(econf_parse("{\"kernels_sha256\":\"\"}", "t", &c, err) == 0, "empty sha: %s", err);

    /* kernels: no quote, backslash or control character, not empty */
    static const char *bad_k[] = {
        "{\"kernels\":\"a\\\"b\"}",     /* a"b */
        "{\"kernels\":\"a\\\\b\"}",     /* a\b */
        "{\"kernels\":\"a\\u0001b\"}",  /* a^Ab */
        "{\"kernels\":\"a\\nb\"}",      /* newline */
        "{\"kernels\":\"\"}",
        "{\"kernels\":7}",
    };
    for (size_t i = 0; i < sizeof bad_k / sizeof *bad_k; i++) {
        int rc = econf_parse(bad_k[i], "cfg.json", &c, err);
        CHECK(rc == TAM_EFIELD && has(err, "cfg.json") && has(err, "'kernels'"), "%s: rc %d: %s",
              bad_k[i], rc, err);
    }
    CHECK(econf_parse("{\"kernels\":\"a\\\"b\"}", "t", &c, err) != 0 && has(err, "quotes"),
          "quote message: %s", err);
    CHECK(econf_parse("{\"kernels\":\"../my set/k.json\"}", "t", &c, err) == 0 &&
              strcmp(c.kernels, "../my set/k.json") == 0,
          "a path with a space is a fine kernels value: %s", err);

    /* fp8_gemm_ratio in [1, 4], both ends included */
    static const char *bad_r[] = {"{\"fp8_gemm_ratio\":0.999}", "{\"fp8_gemm_ratio\":4.001}",
                                  "{\"fp8_gemm_ratio\":0}", "{\"fp8_gemm_ratio\":-2}",
                                  "{\"fp8_gemm_ratio\":\"2\"}"};
    for (size_t i = 0; i < sizeof bad_r / sizeof *bad_r; i++) {
        int rc = econf_parse(bad_r[i], "cfg.json", &c, err);
        CHECK(rc == TAM_EFIELD && has(err, "fp8_gemm_ratio"), "%s: rc %d: %s", bad_r[i], rc, err);
    }
    CHECK(econf_parse("{\"fp8_gemm_ratio\":1}", "t", &c, err) == 0 && c.fp8_gemm_ratio == 1,
          "ratio 1: %s", err);
    CHECK(econf_parse("{\"fp8_gemm_ratio\":4}", "t", &c, err) == 0 && c.fp8_gemm_ratio == 4,
          "ratio 4: %s", err);
    CHECK(econf_parse("{\"mfu_exact\":1}", "t", &c, err) == TAM_EFIELD && has(err, "mfu_exact"),
          "mfu_exact must be a bool: %s", err);

    /* canonical form and hash */
    econf_baseline(&c);
    int n = econf_canonical(&c, buf, sizeof buf);
    CHECK(n > 0 && has(buf, "\"kernels\":\"proposal-h100\"") && has(buf, "\"kernels_sha256\":\"\"") &&
              has(buf, "\"fp8_gemm_ratio\":2,") && has(buf, "\"mfu_exact\":false"),
          "canonical: %s", buf);
    econf_t a, b;
    econf_baseline(&a);
    econf_baseline(&b);
    snprintf(b.kernels_sha256, sizeof b.kernels_sha256, "%064d", 0);
    n = econf_canonical(&b, buf, sizeof buf);
    CHECK(n > 0 && has(buf, "\"kernels_sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\""),
          "canonical with a digest: %s", buf);
    char ha[17], hb[17];
    econf_hash(&a, ha);
    econf_hash(&b, hb);
    CHECK(strcmp(ha, hb) != 0, "configurations differing only in kernels_sha256 hash alike: %s",
          ha);
    snprintf(b.kernels_sha256, sizeof b.kernels_sha256, "%063d1", 0);
    char hc[17];
    econf_hash(&b, hc);
    CHECK(strcmp(hb, hc) != 0 && strcmp(ha, hc) != 0, "one digit of the digest: %s %s", hb, hc);
    econf_baseline(&b);
    snprintf(b.kernels, sizeof b.kernels, "h100-sxm-bf16");
    econf_hash(&b, hb);
    CHECK(strcmp(ha, hb) != 0, "kernels is not part of the hash");
    /* a parsed configuration hashes like the struct it describes */
    CHECK(econf_parse("{\"name\":\"x\",\"kernels_sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
                      "t", &b, err) == 0, "%s", err);
    snprintf(a.kernels_sha256, sizeof a.kernels_sha256, "%064d", 0);
    econf_hash(&a, ha);
    econf_hash(&b, hb);
    CHECK(strcmp(ha, hb) == 0, "name changed the hash or the digest was not parsed: %s %s", ha, hb);
}

/* ------------------------------------------------------------------ kset */

/* sha256sum engine/tests/fixtures/kset/{mfu/gemm/data.csv,
**   mfu/mha/decode/2-1-128-tp1.csv,mfu/mha/prefill/2-1-128.csv,gemm.csv,
**   decode.csv,prefill.csv,moe.csv} */
static const struct {
    const char *role, *name, *sha;
} set_files[] = {
    {"mfu.gemm", "mfu/gemm/data.csv",
     "4eff502cb9a76e718d701a65d7967cd999b04944d4a6d9745885fef1939ef2af"},
    {"mfu.decode", "mfu/mha/decode/2-1-128-tp1.csv",
     "501e8f93367afe57d34b463739076898202407f02fcd0818b63e78f7e6672aa2"},
    {"mfu.prefill", "mfu/mha/prefill/2-1-128.csv",
     "dde62c13a1a43faa5ea23fe9b56535b2d2e7fd42277665a91e9f2632f77cf7a2"},
    {"gemm", "gemm.csv", "b0ec16118f17b3f9323fee90280f567c8292669db8f8c890aa6d3fa5247eb387"},
    {"decode", "decode.csv", "64089069f71bb2f9942ec3dc4aa01ea4214c403065667b5131637cddea1912f0"},
    {"prefill", "prefill.csv", "086573cb550aa90a19784e32339034ece2d6d1bab1f72cf05ffe69887e8c9115"},
    {"moe", "moe.csv", "5fb12c9ef8967da27d9fa942e991d0a7a978dc973b667815bc73d17794ba653d"},
};
/* cd engine/tests/fixtures/kset && printf 'mfu.gemm\tmfu/gemm/data.csv\t%s\n
**   mfu.decode\tmfu/mha/decode/2-1-128-tp1.csv\t%s\nmfu.prefill\t
**   mfu/mha/prefill/2-1-128.csv\t%s\ngemm\tgemm.csv\t%s\ndecode\tdecode.csv\t%s\n
**   prefill\tprefill.csv\t%s\nmoe\tmoe.csv\t%s\n' $(sha256sum <the 7 files in that
**   order> | cut -d' ' -f1) | sha256sum */
#define SET_DIGEST "0e59355c23dd27702d39b83232480946bd4f7563ad827b63a42767e268131ecc"

static kset_t *tiny; /* FX/set.json, loaded once by main */

static void t_manifest(void)
{
    const kset_t *ks = tiny;
    CHECK(strcmp(ks->name, "tiny-set") == 0, "name '%s'", ks->name);
    CHECK(strcmp(ks->spec, FX "/set.json") == 0, "spec '%s'", ks->spec);
    CHECK(strcmp(ks->description, "hand-made tables for engine/tests/t_kset.c") == 0,
          "description '%s'", ks->description);
    CHECK(ks->gemm_fp8 == 0, "mfu_gemm_dtype bf16 read as fp8");
    CHECK(ks->mfu && ks->mfu_exact && ks->gemm && ks->decode && ks->prefill, "tables missing");
    CHECK(ks->n_moe == 1 && ks->moe[0].hidden == 256 && ks->moe[0].intermediate == 512 &&
              ks->moe[0].experts == 4 && ks->moe[0].topk == 2,
          "moe entry: %d", ks->n_moe);
    CHECK(kset_moe_for(ks, 256, 512, 4, 2) == &ks->moe[0], "kset_moe_for misses its shape");
    CHECK(kset_moe_for(ks, 256, 512, 8, 2) == NULL, "kset_moe_for matched 8 experts");
    /* paths resolved against the manifest's folder */
    CHECK(strcmp(klat_gemm_path(ks->gemm), FX "/gemm.csv") == 0, "gemm path %s",
          klat_gemm_path(ks->gemm));
    CHECK(strcmp(klat_attn_path(ks->decode), FX "/decode.csv") == 0, "decode path %s",
          klat_attn_path(ks->decode));
    CHECK(strcmp(klat_moe_path(ks->moe[0].t), FX "/moe.csv") == 0, "moe path %s",
          klat_moe_path(ks->moe[0].t));
    int nf = (int)(sizeof set_files / sizeof *set_files);
    CHECK(ks->n_files == nf, "files: %d, want %d", ks->n_files, nf);
    for (int i = 0; i < nf && i < ks->n_files; i++) {
        CHECK(strcmp(ks->files[i].role, set_files[i].role) == 0, "file %d role '%s' want '%s'", i,
              ks->files[i].role, set_files[i].role);
        CHECK(strcmp(ks->files[i].name, set_files[i].name) == 0, "file %d name '%s' want '%s'", i,
              ks->files[i].name, set_files[i].name);
        CHECK(strcmp(ks->files[i].sha256, set_files[i].sha) == 0, "file %d (%s) sha256 %s want %s",
              i, set_files[i].name, ks->files[i].sha256, set_files[i].sha);
    }
    CHECK(strcmp(ks->sha256, SET_DIGEST) == 0, "set digest %s want %s", ks->sha256, SET_DIGEST);

    /* The same manifest named through another path to the same folder gives
    ** the same digest: names are recorded relative to the manifest. */
    hw_t hw;
    hw_h100_sxm(&hw);
    kset_t *k2;
    char err[TAM_ERRLEN];
    int rc = kset_load("", "engine/tests/../tests/fixtures/kset/set.json", NULL, NULL, &hw, &k2,
                       err);
    CHECK(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(strcmp(k2->sha256, SET_DIGEST) == 0, "digest depends on the manifest's path: %s",
              k2->sha256);
        kset_free(k2);
    }
}

static void t_manifest_errors(void)
{
    static const struct {
        const char *file, *want1, *want2;
        int rc;
    } cases[] = {
        {"bad_unknown.json", "unknown field 'gemms'", NULL, TAM_EFIELD},
        {"bad_dup.json", "field 'name' given twice", NULL, TAM_EFIELD},
        {"bad_nomfu.json", "missing field 'mfu'", NULL, TAM_EFIELD},
        {"bad_dtype.json", "field 'mfu_gemm_dtype'", "\"fp16\" is not fp8 or bf16", TAM_EFIELD},
        {"bad_moe.json", "moe[0]: field 'topk'", "0 is not a positive integer", TAM_EFIELD},
        /* far beyond int: refused before any conversion ((int) 1e300 is undefined) */
        {"bad_moe_huge.json", "moe[0]: field 'topk'", "1e+300 is not a positive integer", TAM_EFIELD},
        {"bad_moe_field.json", "moe[0]: unknown field 'top_k'", NULL, TAM_EFIELD},
        {"nosuch.json", "nosuch.json", NULL, TAM_EIO},
        {"model.json", "unknown field '_name_or_path'", NULL, TAM_EFIELD}, /* not a manifest */
        /* a measured table whose row breaks physics (klat's check, bf16):
        ** phys/gemm/data.csv:2 m=k=n=4096 in 100 us = 1374.4 TFLOP/s */
        /* (the message names the table, not the manifest) */
        {"bad_phys.json", FX "/phys/gemm/data.csv:2:", "1374.4 TFLOP/s", TAM_ECHECK},
    };
    hw_t hw;
    hw_h100_sxm(&hw);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char spec[256], err[TAM_ERRLEN] = "";
        snprintf(spec, sizeof spec, FX "/%s", cases[i].file);
        kset_t *ks = (kset_t *)1;
        int rc = kset_load("", spec, NULL, NULL, &hw, &ks, err);
        CHECK(rc == cases[i].rc && ks == NULL, "%s: rc %d", spec, rc);
        CHECK((cases[i].rc == TAM_ECHECK || has(err, spec)) && has(err, cases[i].want1) &&
                  (!cases[i].want2 || has(err, cases[i].want2)),
              "%s: message: %s", spec, err);
    }
    /* malformed JSON */
    char err[TAM_ERRLEN];
    kset_t *ks;
    int rc = kset_load("", FX "/gemm.csv", NULL, NULL, &hw, &ks, err); /* has a '/': a path */
    CHECK(rc == TAM_EPARSE && has(err, "malformed JSON"), "csv as manifest: %d %s", rc, err);
    /* a bare word that is neither a built-in set nor a path */
    rc = kset_load("", "nosuchset", NULL, NULL, &hw, &ks, err);
    CHECK(rc == TAM_EFIELD && has(err, "'nosuchset'") && has(err, "not a built-in set") &&
              has(err, "proposal-h100") && has(err, "h100-sxm-bf16"),
          "unknown set: %d %s", rc, err);
}

static void t_bind(void)
{
    econf_t c;
    char err[TAM_ERRLEN];
    econf_baseline(&c);
    /* the baseline names proposal-h100, not this set */
    int rc = kset_bind(tiny, &c, err);
    CHECK(rc == TAM_EFIELD && has(err, "'proposal-h100'") && has(err, "'tiny-set'"),
          "another set bound: %d %s", rc, err);
    CHECK(c.kernels_sha256[0] == '\0', "a refused bind wrote the digest");
    /* by name: the digest is filled */
    snprintf(c.kernels, sizeof c.kernels, "tiny-set");
    rc = kset_bind(tiny, &c, err);
    CHECK(rc == 0 && strcmp(c.kernels_sha256, SET_DIGEST) == 0, "bind by name: %d %s / %s", rc,
          err, c.kernels_sha256);
    /* binding again with the right digest is fine */
    rc = kset_bind(tiny, &c, err);
    CHECK(rc == 0 && strcmp(c.kernels_sha256, SET_DIGEST) == 0, "rebind: %d %s", rc, err);
    /* by the manifest path it was loaded from */
    econf_baseline(&c);
    snprintf(c.kernels, sizeof c.kernels, FX "/set.json");
    rc = kset_bind(tiny, &c, err);
    CHECK(rc == 0 && strcmp(c.kernels_sha256, SET_DIGEST) == 0, "bind by path: %d %s", rc, err);
    /* a stored digest that the files no longer give */
    snprintf(c.kernels_sha256, sizeof c.kernels_sha256, "%064d", 0);
    snprintf(c.name, sizeof c.name, "stored");
    rc = kset_bind(tiny, &c, err);
    CHECK(rc == TAM_EFIELD && has(err, "measurements changed") && has(err, "'stored'") &&
              has(err, "0000000000000000") && has(err, "0e59355c23dd2770"),
          "changed digest: %d %s", rc, err);
    CHECK(strcmp(c.kernels_sha256, "0000000000000000000000000000000000000000000000000000000000000000") == 0,
          "a refused bind overwrote the stored digest: %s", c.kernels_sha256);
    /* step_model_new refuses a configuration naming another set too */
    model_t m;
    hw_t hw;
    hw_h100_sxm(&hw);
    CHECK(model_load(FX "/model.json", &m, err) == 0, "%s", err);
    econf_baseline(&c);
    step_model_t *sm;
    rc = step_model_new(&m, &hw, tiny, 1, &c, &sm, err);
    CHECK(rc == TAM_EFIELD && has(err, "'proposal-h100'") && has(err, "'tiny-set'"),
          "step_model_new with another set: %d %s", rc, err);
}

/* ------------------------------------------------------------------- mfu */

/* Exact mode over FX/mfu (bf16 attention; GEMM declared either way).
**   decode 2-1-128-tp1: flops = batch 4 (H/tp = 2) hd 128 kv
**     line 2  1 x 256,  2 us:  262,144 / (2e-6 x 989.5e12) = 1.3246e-4 (column 0.000)
**     line 3  4 x 256,  5 us: 1,048,576 / (5e-6 x 989.5e12) = 2.1194e-4 (column 0.000)
**     line 4 16 x 1024, 20 us: 16,777,216 / (20e-6 x 989.5e12) = 8.4776e-4 (column 0.001)
**   prefill 2-1-128: flops = 4 H hd S^2 / 2
**     line 2  S=64,  10 us: 2,097,152 / (10e-6 x 989.5e12) = 2.1194e-4 (column 0.000)
**     line 3  S=1024, 30 us: 536,870,912 / (30e-6 x 989.5e12) = 1.8086e-2 (column 0.018)
**   gemm: 2 m k n
**     line 2  m=64 k=n=256, 8 us: 8,388,608 / (8e-6 x P) = 1.0597e-3 (bf16), 5.2985e-4 (FP8)
**     line 3  m=4096, 10 us: 536,870,912 / (10e-6 x P) = 5.4257e-2 (bf16), 2.7128e-2 (FP8) */
static void t_mfu_exact(void)
{
    char err[TAM_ERRLEN];
    mfu_db_t *pub, *ex, *ex8;
    mfu_opts_t o_pub = {0, 0}, o_ex = {1, 0}, o_ex8 = {1, 1};
    int rc = mfu_load_opts(FX "/mfu", NULL, &o_pub, &pub, err);
    CHECK(rc == 0, "published: %s", err);
    rc |= mfu_load_opts(FX "/mfu", NULL, &o_ex, &ex, err);
    CHECK(rc == 0, "exact: %s", err);
    rc |= mfu_load_opts(FX "/mfu", NULL, &o_ex8, &ex8, err);
    CHECK(rc == 0, "exact fp8: %s", err);
    if (rc)
        return;
    mfu_attn_t ap, ae;
    CHECK(mfu_select_attn(pub, 2, 1, 128, 1, &ap, err) == 0, "%s", err);
    CHECK(mfu_select_attn(ex, 2, 1, 128, 1, &ae, err) == 0, "%s", err);
    mfu_src_t s;
    /* decode (4, 256): line 3, rounded 0.000, unusable as published */
    double f = mfu_decode(&ae, MFU_NEAREST, 4, 256, &s);
    CHECK_NEAR(f, 4.0 * 4 * 2 * 128 * 256 / (5 * US * P_BF16), 1e-12);
    CHECK(s.n == 1 && s.line[0] == 3, "exact decode (4,256) from line %d", s.line[0]);
    f = mfu_decode(&ae, MFU_INTERP, 4, 256, &s);
    CHECK_NEAR(f, 4.0 * 4 * 2 * 128 * 256 / (5 * US * P_BF16), 1e-12);
    f = mfu_decode(&ae, MFU_NEAREST, 1, 256, &s);
    CHECK_NEAR(f, 1.0 * 4 * 2 * 128 * 256 / (2 * US * P_BF16), 1e-12);
    CHECK(s.line[0] == 2, "exact decode (1,256) from line %d", s.line[0]);
    f = mfu_decode(&ae, MFU_NEAREST, 16, 1024, &s);
    CHECK_NEAR(f, 16.0 * 4 * 2 * 128 * 1024 / (20 * US * P_BF16), 1e-12);
    /* published: lines 2 and 3 were dropped, so (4, 256) comes from line 4 (0.001) */
    f = mfu_decode(&ap, MFU_NEAREST, 4, 256, &s);
    CHECK(f == 0.001 && s.line[0] == 4, "published decode (4,256): %g from line %d", f, s.line[0]);
    /* prefill */
    f = mfu_prefill(&ae, MFU_NEAREST, 64, &s);
    CHECK_NEAR(f, 4.0 * 2 * 128 * 64 * 64 / 2 / (10 * US * P_BF16), 1e-12);
    CHECK(s.line[0] == 2, "exact prefill 64 from line %d", s.line[0]);
    f = mfu_prefill(&ae, MFU_NEAREST, 1024, &s);
    CHECK_NEAR(f, 4.0 * 2 * 128 * 1024 * 1024 / 2 / (30 * US * P_BF16), 1e-12);
    f = mfu_prefill(&ap, MFU_NEAREST, 64, &s);
    CHECK(f == 0.018 && s.line[0] == 3, "published prefill 64: %g from line %d", f, s.line[0]);
    /* GEMM: over the bf16 or the FP8 peak as declared; published keeps the column */
    f = mfu_gemm(ex, MFU_NEAREST, 64, 256, 256, &s);
    CHECK_NEAR(f, 2.0 * 64 * 256 * 256 / (8 * US * P_BF16), 1e-12);
    CHECK(s.line[0] == 2, "gemm m=64 from line %d", s.line[0]);
    f = mfu_gemm(ex8, MFU_NEAREST, 64, 256, 256, &s);
    CHECK_NEAR(f, 2.0 * 64 * 256 * 256 / (8 * US * P_FP8), 1e-12);
    f = mfu_gemm(ex8, MFU_NEAREST, 4096, 256, 256, &s);
    CHECK_NEAR(f, 2.0 * 4096 * 256 * 256 / (10 * US * P_FP8), 1e-12);
    CHECK(s.line[0] == 3, "gemm m=4096 from line %d", s.line[0]);
    f = mfu_gemm(pub, MFU_NEAREST, 4096, 256, 256, &s);
    CHECK(f == 0.054, "published gemm m=4096: %g", f);
    /* every file in load order */
    CHECK(mfu_table_count(ex) == 3, "tables %d", mfu_table_count(ex));
    const char *role;
    const char *p = mfu_table_file(ex, 1, &role);
    CHECK(strcmp(role, "mfu.decode") == 0 && has(p, "2-1-128-tp1.csv"), "%s %s", role, p);
    mfu_free(pub);
    mfu_free(ex);
    mfu_free(ex8);
}

static void t_mfu_physics(void)
{
    char err[TAM_ERRLEN];
    mfu_db_t *db;
    /* A zero latency: exact mode cannot recompute the row. */
    mfu_opts_t ex = {1, 0};
    int rc = mfu_load_opts(FX "/exact_zero", NULL, &ex, &db, err);
    CHECK(rc == TAM_EFIELD && has(err, FX "/exact_zero/gemm/data.csv:2:") &&
              has(err, "latency_us") && has(err, "exact mode"),
          "zero latency: %d %s", rc, err);
    /* Published mode reads the mfu column and passes that row, failing later
    ** only on the folder's missing attention tables. */
    mfu_opts_t pub = {0, 0};
    rc = mfu_load_opts(FX "/exact_zero", NULL, &pub, &db, err);
    CHECK(rc != 0 && !has(err, "latency_us") && has(err, "mha/decode"),
          "zero latency published: %d %s", rc, err);
    /* phys/gemm/data.csv:2: m=k=n=4096 in 100 us: 2 x 4096^3 = 137,438,953,472
    ** FLOP / 100e-6 s = 1374.4 TFLOP/s: above bf16's 989.5 (x 1.05 = 1039.0),
    ** below FP8's 1979. */
    rc = mfu_load_opts(FX "/phys", NULL, &pub, &db, err);
    CHECK(rc == TAM_EFIELD && has(err, FX "/phys/gemm/data.csv:2:") && has(err, "1374.4 TFLOP/s") &&
              has(err, "bf16") && has(err, "989.5"),
          "too fast for bf16: %d %s", rc, err);
    mfu_opts_t fp8 = {0, 1};
    rc = mfu_load_opts(FX "/phys", NULL, &fp8, &db, err);
    CHECK(rc != 0 && !has(err, "TFLOP/s") && has(err, "mha/decode"),
          "as FP8 the row is possible: %d %s", rc, err);
    /* phys_bw decode 2-1-128-tp1.csv:2: batch 64, kv 4096, 1 KV head, 10 us:
    ** KV bytes 64 x 4096 x 2 x 1 x 128 x 2 B = 134,217,728 B (> L2 50 MiB)
    ** / 10e-6 s = 13.42 TB/s, above HBM's 3.35 TB/s; its FLOPs 64 x 4 x 2 x
    ** 128 x 4096 = 268,435,456 / 10e-6 = 26.8 TFLOP/s are possible. */
    rc = mfu_load_opts(FX "/phys_bw", NULL, &pub, &db, err);
    CHECK(rc == TAM_EFIELD && has(err, FX "/phys_bw/mha/decode/2-1-128-tp1.csv:2:") &&
              has(err, "13.42 TB/s") && has(err, "3.35 TB/s"),
          "KV faster than HBM: %d %s", rc, err);
}

/* The proposal's shared tables: the GEMM table is FP8 (kernels/README.md).
** Read as bf16 some row implies more than the bf16 peak or HBM allows. */
static void t_real_tables(void)
{
    const char *data = getenv("DATA");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/mfu/h100", data && *data ? data : "../shared/data");
    if (access(dir, R_OK) != 0) {
        printf("# skip t_real_tables: no %s\n", dir);
        return;
    }
    char err[TAM_ERRLEN], want[1100];
    mfu_db_t *db;
    mfu_opts_t bf16 = {0, 0}, fp8 = {0, 1}, fp8x = {1, 1};
    int rc = mfu_load_opts(dir, NULL, &bf16, &db, err);
    snprintf(want, sizeof want, "%s/gemm/data.csv:", dir);
    CHECK(rc == TAM_EFIELD && has(err, want) && (has(err, "TFLOP/s") || has(err, "TB/s")),
          "FP8 table as bf16: %d %s", rc, err);
    rc = mfu_load_opts(dir, NULL, &fp8, &db, err);
    CHECK(rc == 0, "FP8 table as FP8: %s", err);
    if (rc == 0)
        mfu_free(db);
    rc = mfu_load_opts(dir, NULL, &fp8x, &db, err);
    CHECK(rc == 0, "FP8 table as FP8, exact: %s", err);
    if (rc == 0)
        mfu_free(db);
    /* the two built-in sets */
    hw_t hw;
    hw_h100_sxm(&hw);
    kset_t *ks;
    rc = kset_load(data && *data ? data : "../shared/data", "proposal-h100", NULL, NULL, &hw, &ks,
                   err);
    CHECK(rc == 0, "proposal-h100: %s", err);
    if (rc == 0) {
        CHECK(ks->gemm_fp8 == 1 && !ks->gemm && !ks->decode && ks->n_moe == 0 &&
                  strlen(ks->sha256) == 64 && strcmp(ks->files[0].name, "mfu/h100/gemm/data.csv") == 0,
              "proposal-h100: fp8 %d files[0] %s", ks->gemm_fp8, ks->files[0].name);
        kset_free(ks);
    }
    rc = kset_load(data && *data ? data : "../shared/data", "h100-sxm-bf16", NULL, NULL, &hw, &ks,
                   err);
    CHECK(rc == 0, "h100-sxm-bf16: %s", err);
    if (rc == 0) {
        CHECK(ks->gemm && ks->decode && ks->prefill && ks->n_moe == 1 &&
                  ks->moe[0].hidden == 4096 && ks->moe[0].experts == 8 &&
                  strcmp(ks->files[ks->n_files - 1].role, "moe") == 0,
              "h100-sxm-bf16 tables");
        kset_free(ks);
    }
}

/* ------------------------------------------------------- measured steps */

static double price(const char *model, const kset_t *ks, econf_t *c, const batch_t *b,
                    step_bd_t *bd, step_pricing_t *pr)
{
    char err[TAM_ERRLEN];
    model_t m;
    hw_t hw;
    hw_h100_sxm(&hw);
    int rc = model_load(model, &m, err);
    CHECK(rc == 0, "%s: %s", model, err);
    if (rc)
        return -1;
    snprintf(c->kernels, sizeof c->kernels, "%s", ks->name);
    step_model_t *sm;
    rc = step_model_new(&m, &hw, ks, 1, c, &sm, err);
    CHECK(rc == 0, "%s: %s", model, err);
    if (rc)
        return -1;
    double t = step_time(sm, b, NULL);
    if (bd) {
        memset(bd, 0, sizeof *bd);
        bd->want_comps = 1;
        double t2 = step_time(sm, b, bd);
        CHECK(t2 == t && bd->total == t, "breakdown path differs: %.17g vs %.17g", t2, t);
    }
    if (pr)
        step_model_pricing(sm, pr);
    step_model_free(sm);
    return t;
}

static const step_comp_t *comp(const step_bd_t *bd, const char *name)
{
    for (int i = 0; i < bd->n_comps; i++)
        if (strcmp(bd->comps[i].name, name) == 0)
            return &bd->comps[i];
    return NULL;
}

/* Hand derivations (fixture tables, microseconds; 2 layers; 50 us overhead;
** every step below is compute-bound: its bytes move in ~1 us, checked).
** GEMM rows per layer at m (q,o: k=n=256; k,v: n=128; gate,up: n=512; down:
** k=512 n=256; lm_head n=1024, once):
**   m=4:  q 4 + k 3 + v 3 + o 4 + gate 5 + up 5 + down 5.5 = 29.5; lm_head(4) 8
**   m=32: 6 + 4 + 4 + 6 + 9 + 9 + 9.5 = 47.5;  m=64: 8 + 5 + 5 + 8 + 12 + 12 + 12.5 = 62.5
**   lm_head(1) 7, lm_head(2) 7.5
** t_measured_steps checks them one concern at a time: decode-only steps on
** and off the grid, prefill chunks, MHA from the proposal-layout tables, MoE. */

/* Decode-only steps, on and off the grid. */
static void t_measured_decode(void)
{
    econf_t c;
    step_bd_t *bd = calloc(1, sizeof *bd);
    step_pricing_t pr;
    const char *M = FX "/model.json";

    /* Decode-only: 4 requests at contexts 64, 128, 128, 256.
    **   GEMMs 2 x 29.5 + lm_head 8 = 67
    **   attention per layer: (lat(4,64) + 2 lat(4,128) + lat(4,256)) / 4
    **     = (7 + 9 + 9 + 13) / 4 = 9.5; x 2 layers = 19
    **   step = 67 + 19 + 50 = 136 us
    ** bytes: weights per layer (2 x 256x256 + 2 x 256x128 + 2 x 256x512 + 512x256)
    **   x 2 B = 1,179,648; x 2 layers + lm_head 256x1024x2 = 2,883,584 B;
    **   KV 512 B/token/layer (2 x 1 head x 128 x 2 B) x (65+129+129+257) x 2 = 593,920 B */
    int dctx[4] = {64, 128, 128, 256};
    batch_t b = {0, NULL, NULL, NULL, 4, dctx};
    econf_baseline(&c);
    double t = price(M, tiny, &c, &b, bd, &pr);
    CHECK_NEAR(t, 136 * US, 1e-12);
    CHECK_NEAR(bd->compute, 86 * US, 1e-12);
    CHECK_NEAR(bd->mem_time, (2883584.0 + 593920.0) / 3.35e12, 1e-12);
    CHECK(bd->mem_time < bd->compute, "decode step not compute-bound");
    CHECK(strcmp(bd->blend, "decode-only") == 0, "blend %s", bd->blend);
    CHECK(strcmp(pr.gemm, "measured") == 0 && strcmp(pr.decode, "measured") == 0 &&
              strcmp(pr.prefill, "measured") == 0 && strcmp(pr.moe, "none") == 0 &&
              pr.gemm_fp8_for_bf16 == 0,
          "pricing %s %s %s %s %d", pr.gemm, pr.decode, pr.prefill, pr.moe, pr.gemm_fp8_for_bf16);
    const step_comp_t *q = comp(bd, "q"), *ad = comp(bd, "attn.decode"), *lm = comp(bd, "lm_head");
    CHECK(q && ad && lm, "components missing");
    if (q && ad && lm) {
        CHECK(q->measured && !q->extrapolated && q->src.n == 0, "q: measured %d extrap %d",
              q->measured, q->extrapolated);
        CHECK_NEAR(q->compute, 2 * 4.0 * US, 1e-12);
        /* q at m=4 is gemm.csv line 4 (header = 1), alone */
        CHECK(q->ksrc.n >= 1 && q->ksrc.line[0] == 4 && q->ksrc.weight[0] == 1 &&
                  q->ksrc.table && has(q->ksrc.table, "gemm.csv"),
              "q rows: n %d line %d", q->ksrc.n, q->ksrc.line[0]);
        CHECK(ad->measured && !ad->extrapolated, "attn.decode: measured %d extrap %d",
              ad->measured, ad->extrapolated);
        CHECK_NEAR(ad->compute, 19 * US, 1e-12);
        /* the last request (4, 256) is decode.csv line 7 */
        CHECK(ad->ksrc.line[0] == 7 && has(ad->ksrc.table, "decode.csv"), "decode row %d",
              ad->ksrc.line[0]);
        CHECK_NEAR(lm->compute, 8 * US, 1e-12);
        /* mfu reported = FLOPs / (P latency): q 2 x 4 x 256 x 256 x 2 layers */
        CHECK_NEAR(q->mfu, 2.0 * 4 * 256 * 256 * 2 / (P_BF16 * 8 * US), 1e-12);
    }
    /* fp8_gemm_ratio does not touch measured GEMMs */
    econf_baseline(&c);
    c.fp8_gemm_ratio = 1.47;
    CHECK(price(M, tiny, &c, &b, NULL, NULL) == t, "fp8_gemm_ratio changed a measured step");
    /* mfu_interp / mfu_exact do not change a fully measured step either */
    econf_baseline(&c);
    c.mfu_exact = 1;
    c.mfu_interp = 1;
    CHECK(price(M, tiny, &c, &b, NULL, NULL) == t, "mfu switches changed a measured step");

    /* Off the grid: a context of 512 (grid ends at 256) scales lat(4,256)
    ** by 512/256: (7 + 9 + 9 + 26) / 4 = 12.75 per layer; flagged. */
    int dctx2[4] = {64, 128, 128, 512};
    batch_t b2 = {0, NULL, NULL, NULL, 4, dctx2};
    econf_baseline(&c);
    t = price(M, tiny, &c, &b2, bd, NULL);
    ad = comp(bd, "attn.decode");
    q = comp(bd, "q");
    CHECK(ad && ad->measured && ad->extrapolated, "off-grid decode not flagged");
    CHECK(q && q->measured && !q->extrapolated, "on-grid GEMM flagged");
    CHECK_NEAR(t, (67 + 2 * 12.75 + 50) * US, 1e-12);
    free(bd);
}

/* Prefill chunks, with and without cached context. */
static void t_measured_prefill(void)
{
    econf_t c;
    step_bd_t *bd = calloc(1, sizeof *bd);
    const char *M = FX "/model.json";

    /* Prefill-only: one chunk of 64 new tokens, no context, emits.
    **   GEMMs 2 x 62.5 + lm_head(1) 7 = 132; attention lat(1,64) = 15 x 2 = 30
    **   step = 132 + 30 + 50 = 212 us */
    int pn[2] = {64, 0}, pc[2] = {0, 0};
    unsigned char pe[2] = {1, 1};
    batch_t bp = {1, pn, pc, pe, 0, NULL};
    econf_baseline(&c);
    double t = price(M, tiny, &c, &bp, bd, NULL);
    CHECK_NEAR(t, 212 * US, 1e-12);
    CHECK(bd->mem_time < bd->compute && strcmp(bd->blend, "prefill-only") == 0, "prefill %s",
          bd->blend);
    const step_comp_t *ap = comp(bd, "attn.prefill");
    CHECK(ap && ap->measured && !ap->extrapolated, "attn.prefill flags");
    if (ap)
        CHECK_NEAR(ap->compute, 30 * US, 1e-12);

    /* A chunk with cached context: 32 new over 96 cached, emits.  S = 128:
    **   share = lat(1,128) x 32 (96 + 33/2) / (128 x 129 / 2)
    **         = 40 x 3600 / 8256 = 17.4418605 us > floor lat(1,32) = 12
    **   GEMMs 2 x 47.5 + lm_head(1) 7 = 102; attention 2 x 17.4418605
    **   step = 102 + 34.8837209 + 50 = 186.8837209 us */
    pn[0] = 32;
    pc[0] = 96;
    t = price(M, tiny, &c, &bp, bd, NULL);
    CHECK_NEAR(t, (102 + 2 * 40.0 * 3600 / 8256 + 50) * US, 1e-12);
    /* The floor: 32 new over 32 cached, not emitting.  S = 64:
    **   share = lat(1,64) x 32 (32 + 33/2) / (64 x 65 / 2) = 15 x 1552 / 2080
    **         = 11.19 us < floor lat(1,32) = 12: the floor
    **   step = 2 x 47.5 + 2 x 12 + 50 = 169 us (no LM head row) */
    pc[0] = 32;
    pe[0] = 0;
    t = price(M, tiny, &c, &bp, bd, NULL);
    CHECK_NEAR(t, 169 * US, 1e-12);
    CHECK(comp(bd, "lm_head") == NULL, "an LM head row for a chunk that does not emit");
    /* Two chunks in one step (one varlen call of batch 2): (32 over 96) and
    ** (32 over 32), both emitting.
    **   chunk 1: lat(2,128)/2 = 35; 35 x 3600/8256 = 15.2616279 > lat(2,32)/2 = 10
    **   chunk 2: lat(2,64)/2 = 13; 13 x 1552/2080 = 9.7 < 10: the floor, 10
    **   GEMMs at m = 64: 125, lm_head(2) 7.5
    **   step = 125 + 7.5 + 2 x (15.2616279 + 10) + 50 = 233.0232558 us */
    pn[0] = pn[1] = 32;
    pc[0] = 96;
    pc[1] = 32;
    pe[0] = pe[1] = 1;
    bp.n_pf = 2;
    t = price(M, tiny, &c, &bp, bd, NULL);
    CHECK_NEAR(t, (125 + 7.5 + 2 * (35.0 * 3600 / 8256 + 10) + 50) * US, 1e-12);
    free(bd);
}

/* MHA attention from the proposal-layout tables. */
static void t_measured_mha(void)
{
    econf_t c;
    step_bd_t *bd = calloc(1, sizeof *bd);
    step_pricing_t pr;

    /* MHA: (2 heads, 2 KV heads) is not in decode.csv or prefill.csv; those
    ** fall back to the proposal-layout tables' latency_us (exact MFU,
    ** interpolated), while the GEMMs stay measured.  Decode-only, 4
    ** requests at 256: mfu/mha/decode/2-1-128-tp1.csv line 3 (batch 4, kv
    ** 256, 5 us, the nearest head configuration) has exact mfu
    ** 4 x 4 x 2 x 128 x 256 / (5e-6 P); each request's FLOPs 4 x 2 x 128 x 256
    ** over P mfu = 5e-6 / 4 s, so the batch costs 5 us per layer = 10 us.
    **   GEMMs (k, v now n = 256: 4 each): 2 x (4 x 4 + 5 + 5 + 5.5) + 8 = 71
    **   step = 71 + 10 + 50 = 131 us */
    int dctx3[4] = {256, 256, 256, 256};
    batch_t b3 = {0, NULL, NULL, NULL, 4, dctx3};
    econf_baseline(&c);
    double t = price(FX "/model-mha.json", tiny, &c, &b3, bd, &pr);
    CHECK_NEAR(t, 131 * US, 1e-12);
    CHECK(strcmp(pr.gemm, "measured") == 0 && strcmp(pr.decode, "mfu-exact") == 0 &&
              strcmp(pr.prefill, "mfu-exact") == 0,
          "MHA pricing %s %s %s", pr.gemm, pr.decode, pr.prefill);
    const step_comp_t *ad = comp(bd, "attn.decode");
    CHECK(ad && !ad->measured && ad->src.n == 1 && ad->src.line[0] == 3 &&
              has(ad->src.table, "2-1-128-tp1.csv"),
          "MHA decode rows");
    free(bd);
}

/* The fused MoE table, and per-expert GEMMs without it. */
static void t_measured_moe(void)
{
    econf_t c;
    step_bd_t *bd = calloc(1, sizeof *bd);
    step_pricing_t pr;

    /* MoE, moe_fused: one fused call per layer from moe.csv (tp 1, ep 1,
    ** balanced).  Decode-only, 4 requests at 128:
    **   per layer q 4 + k 3 + v 3 + o 4 + router (4 x 256 x 4) 2 + moe(4) 30 = 46
    **   2 x 46 + lm_head 8 = 100; attention 2 x lat(4,128) x 4/4 = 18
    **   step = 100 + 18 + 50 = 168 us */
    int dctx4[4] = {128, 128, 128, 128};
    batch_t b4 = {0, NULL, NULL, NULL, 4, dctx4};
    econf_baseline(&c);
    c.moe_fused = 1;
    double t = price(FX "/model-moe.json", tiny, &c, &b4, bd, &pr);
    CHECK_NEAR(t, 168 * US, 1e-12);
    CHECK(bd->mem_time < bd->compute, "MoE step not compute-bound");
    CHECK(strcmp(pr.moe, "fused-measured") == 0, "moe pricing %s", pr.moe);
    const step_comp_t *mo = comp(bd, "moe.fused");
    CHECK(mo && mo->measured && !mo->extrapolated && mo->ksrc.line[0] == 3, "moe.fused rows");
    if (mo)
        CHECK_NEAR(mo->compute, 60 * US, 1e-12);
    /* without moe_fused the experts are per-expert GEMMs */
    econf_baseline(&c);
    price(FX "/model-moe.json", tiny, &c, &b4, NULL, &pr);
    CHECK(strcmp(pr.moe, "per-expert") == 0, "moe pricing without moe_fused: %s", pr.moe);
    free(bd);
}

static void t_measured_steps(void)
{
    t_measured_decode();
    t_measured_prefill();
    t_measured_mha();
    t_measured_moe();
}

/* ---------------------------------------------------------- fp8 ratio */

/* engine/tests/fixtures/step-mfu (t_step's tables, GEMM declared FP8) and
** Llama-2-7B (float16 weights): every GEMM's compute is FP8 time x ratio, so
** against ratio 2 (roofline v2's factor) ratio 1.47 scales each GEMM's
** compute by 1.47 / 2 = 0.735 and leaves attention alone. */
static void t_fp8_ratio(void)
{
    char err[TAM_ERRLEN];
    hw_t hw;
    hw_h100_sxm(&hw);
    kset_t *ks;
    int rc = kset_load("", "engine/tests/fixtures/step-mfu/kset.json", NULL, NULL, &hw, &ks, err);
    CHECK(rc == 0, "%s", err);
    if (rc)
        return;
    CHECK(ks->gemm_fp8 == 1 && ks->gemm == NULL, "step-mfu set: fp8 %d", ks->gemm_fp8);
    static const char *l7 = TEST_MODEL_L7;
    static const char *l7fp8 = "{\"num_hidden_layers\":32,\"hidden_size\":4096,"
        "\"num_attention_heads\":32,\"num_key_value_heads\":32,\"intermediate_size\":11008,"
        "\"vocab_size\":32000,\"torch_dtype\":\"float8_e4m3fn\"}";
    model_t m, m8;
    CHECK(model_parse(l7, "7b", &m, err) == 0, "%s", err);
    CHECK(model_parse(l7fp8, "7b-fp8", &m8, err) == 0, "%s", err);
    int pn[1] = {512}, pc[1] = {0};
    unsigned char pe[1] = {1};
    batch_t b = {1, pn, pc, pe, 0, NULL};
    step_bd_t *b2 = calloc(1, sizeof *b2), *b147 = calloc(1, sizeof *b147);
    econf_t c2, c147, cbase;
    econf_baseline(&cbase);
    snprintf(cbase.kernels, sizeof cbase.kernels, "%s", ks->name);
    c2 = cbase;
    c2.fp8_gemm_ratio = 2.0;
    c147 = cbase;
    c147.fp8_gemm_ratio = 1.47;
    step_model_t *sb, *s2, *s147;
    rc = step_model_new(&m, &hw, ks, 1, &cbase, &sb, err) ||
         step_model_new(&m, &hw, ks, 1, &c2, &s2, err) ||
         step_model_new(&m, &hw, ks, 1, &c147, &s147, err);
    CHECK(rc == 0, "%s", err);
    if (rc)
        return;
    step_pricing_t pr;
    step_model_pricing(s147, &pr);
    CHECK(pr.gemm_fp8_for_bf16 == 1 && strcmp(pr.gemm, "mfu") == 0, "pricing %d %s",
          pr.gemm_fp8_for_bf16, pr.gemm);
    double tb = step_time(sb, &b, NULL), t2 = step_time(s2, &b, NULL);
    /* ratio 2 is the baseline, bit for bit, and t_step's hand-derived
    ** prefill value (engine/tests/handcalc_step.py: 1.1843509754e-02 s) */
    CHECK(memcmp(&tb, &t2, sizeof tb) == 0, "ratio 2 differs from the baseline: %.17g %.17g", tb,
          t2);
    CHECK_NEAR(t2, 1.1843509754e-02, 1e-9);
    b2->want_comps = b147->want_comps = 1;
    step_time(s2, &b, b2);
    double t147 = step_time(s147, &b, b147);
    CHECK(b2->n_comps == b147->n_comps && b2->n_comps > 0, "components %d %d", b2->n_comps,
          b147->n_comps);
    double gsum = 0;
    int ngemm = 0;
    for (int i = 0; i < b2->n_comps && i < b147->n_comps; i++) {
        const step_comp_t *x = &b2->comps[i], *y = &b147->comps[i];
        if (x->k > 0) { /* a GEMM */
            ngemm++;
            gsum += x->compute;
            CHECK_NEAR(y->compute / x->compute, 0.735, 1e-12);
            /* ratio 2: the unscaled roofline-v2 time, FLOPs / (P mfu) */
            CHECK(x->compute == x->flops / (P_BF16 * x->mfu), "%s: %.17g vs %.17g", x->name,
                  x->compute, x->flops / (P_BF16 * x->mfu));
        } else {
            CHECK(y->compute == x->compute, "%s changed with the GEMM ratio", x->name);
        }
    }
    CHECK(ngemm == 8, "GEMM components %d (q k v o gate up down lm_head)", ngemm);
    /* compute-bound at both ratios: the step shrinks by 0.265 of its GEMM time */
    CHECK(b2->compute > b2->mem_time && b147->compute > b147->mem_time, "not compute-bound");
    CHECK_NEAR(t147, t2 - 0.265 * gsum, 1e-12);
    step_model_free(sb);
    step_model_free(s2);
    step_model_free(s147);
    /* an FP8 model over the FP8 table: the ratio does not apply */
    rc = step_model_new(&m8, &hw, ks, 1, &c2, &s2, err) ||
         step_model_new(&m8, &hw, ks, 1, &c147, &s147, err);
    CHECK(rc == 0, "%s", err);
    if (rc == 0) {
        step_model_pricing(s147, &pr);
        CHECK(pr.gemm_fp8_for_bf16 == 0, "an FP8 model flagged bf16-over-FP8");
        CHECK(step_time(s2, &b, NULL) == step_time(s147, &b, NULL), "ratio applied to FP8 model");
        step_model_free(s2);
        step_model_free(s147);
    }
    /* mfu_exact on a proposal-layout set: the pricing says so */
    c2.mfu_exact = 1;
    if (step_model_new(&m, &hw, ks, 1, &c2, &s2, err) == 0) {
        step_model_pricing(s2, &pr);
        CHECK(strcmp(pr.gemm, "mfu-exact") == 0 && strcmp(pr.decode, "mfu-exact") == 0,
              "mfu_exact pricing %s %s", pr.gemm, pr.decode);
        step_model_free(s2);
    }
    free(b2);
    free(b147);
    kset_free(ks);
}

int main(void)
{
    char err[TAM_ERRLEN];
    hw_t hw;
    hw_h100_sxm(&hw);
    RUN(t_econf_keys);
    int rc = kset_load("", FX "/set.json", NULL, NULL, &hw, &tiny, err);
    CHECK(rc == 0, "fixture set: %s", err);
    if (rc)
        TEST_REPORT("t_kset");
    RUN(t_manifest);
    RUN(t_manifest_errors);
    RUN(t_bind);
    RUN(t_mfu_exact);
    RUN(t_mfu_physics);
    RUN(t_real_tables);
    RUN(t_measured_steps);
    RUN(t_fp8_ratio);
    kset_free(tiny);
    TEST_REPORT("t_kset");
}
