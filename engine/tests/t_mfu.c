/* engine/tests/t_mfu.c - tests of the MFU database: loading, errors, both lookup modes.
**
** Invariant: every expected value is either derived by hand in a comment next
** to its check (fixtures under engine/tests/fixtures/mfu/) or recomputed by an
** independent brute-force reference in this file that reads the CSV itself
** (real tables under $DATA/mfu/h100, skipped with a note when absent).
*/
#include "mfu.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"

#define FX "engine/tests/fixtures/mfu/"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* src has n rows with these lines and weights (weights to 1e-12). */
static void check_src(const mfu_src_t *s, int n, const int *lines, const double *w,
                      const char *table_suffix)
{
    CHECK(s->n == n, "src.n %d want %d", s->n, n);
    if (s->n != n)
        return;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        CHECK(s->line[i] == lines[i], "src.line[%d] %d want %d", i, s->line[i], lines[i]);
        CHECK(fabs(s->weight[i] - w[i]) <= 1e-12, "src.weight[%d] %.17g want %.17g", i,
              s->weight[i], w[i]);
        sum += s->weight[i];
    }
    CHECK(fabs(sum - 1) <= 1e-12, "weights sum to %.17g", sum);
    CHECK(s->table && ends_with(s->table, table_suffix), "src.table %s want *%s",
          s->table ? s->table : "(null)", table_suffix);
}

#define SRC1(s, l, suf)                                                                      \
    do {                                                                                     \
        int l_[1] = {l};                                                                     \
        double w_[1] = {1};                                                                  \
        check_src(s, 1, l_, w_, suf);                                                        \
    } while (0)

/* ------------------------------------------------------------- fixtures */

static mfu_db_t *load_good(void)
{
    char err[TAM_ERRLEN] = "";
    mfu_db_t *db = NULL;
    int rc = mfu_load(FX "good", &db, err);
    CHECK(rc == TAM_OK && db, "load good: %d %s", rc, err);
    return rc == TAM_OK ? db : NULL;
}

static void test_gemm_fixture(void)
{
    mfu_db_t *db = load_good();
    if (!db)
        return;
    const char *T = "good/gemm/data.csv";
    mfu_src_t s;
    /* Rows (line: m,k,n -> mfu): 2: 8,1024,2048 .1  3: 64,1024,2048 .4  4: 512,1024,2048 .7
    ** 5: 512,1024,8192 .8  6: 64,1024,8192 .5  7: 8,1024,8192 .2  8: 8,4096,2048 0 (unusable)
    ** 9: 64,4096,2048 .45  10: 512,4096,2048 .75  11: 8,4096,8192 .3  12: 64,4096,8192 .6
    ** 13: 512,4096,8192 .9 */

    /* Grid points are exact in both modes. */
    for (int mode = 0; mode < 2; mode++) {
        CHECK(mfu_gemm(db, mode, 64, 1024, 2048, &s) == 0.4, "grid (64,1024,2048)");
        SRC1(&s, 3, T);
        CHECK(mfu_gemm(db, mode, 512, 4096, 8192, &s) == 0.9, "grid (512,4096,8192)");
        SRC1(&s, 13, T);
        CHECK(mfu_gemm(db, mode, 8, 1024, 8192, &s) == 0.2, "grid (8,1024,8192), rows reversed");
        SRC1(&s, 7, T);
        CHECK(mfu_gemm(db, mode, 64, 4096, 2048, NULL) == 0.45, "grid, src NULL");
    }

    /* NEAREST off-grid m: largest m' <= m, else the smallest m'. */
    CHECK(mfu_gemm(db, MFU_NEAREST, 100, 1024, 2048, &s) == 0.4, "m=100 -> m'=64");
    SRC1(&s, 3, T);
    CHECK(mfu_gemm(db, MFU_NEAREST, 4, 1024, 2048, &s) == 0.1, "m=4 below grid -> m'=8");
    SRC1(&s, 2, T);
    CHECK(mfu_gemm(db, MFU_NEAREST, 1000, 1024, 2048, &s) == 0.7, "m=1000 -> m'=512");
    SRC1(&s, 4, T);

    /* INTERP in log m: 64*sqrt(8) is halfway between 64 and 512 in log -> (.4+.7)/2. */
    double mid = 64 * sqrt(8.0);
    CHECK_NEAR(mfu_gemm(db, MFU_INTERP, mid, 1024, 2048, &s), 0.55, 1e-12);
    {
        int l[2] = {3, 4};
        double w[2] = {0.5, 0.5};
        check_src(&s, 2, l, w, T);
    }
    /* m=128: log2 is 7, a third of the way from 6 to 9 -> .4 + .3/3 = .5. */
    CHECK_NEAR(mfu_gemm(db, MFU_INTERP, 128, 1024, 2048, &s), 0.5, 1e-12);
    {
        int l[2] = {3, 4};
        double w[2] = {2.0 / 3, 1.0 / 3};
        check_src(&s, 2, l, w, T);
    }
    /* Clamped outside the m range. */
    CHECK(mfu_gemm(db, MFU_INTERP, 4, 1024, 2048, &s) == 0.1, "interp m=4 clamps to m'=8");
    SRC1(&s, 2, T);
    CHECK(mfu_gemm(db, MFU_INTERP, 1e6, 1024, 2048, &s) == 0.7, "interp m=1e6 clamps to 512");
    SRC1(&s, 4, T);

    /* (k', n') selection.  (2000,2000): covering pairs are (4096,2048)
    ** d^2 = 2096^2+48^2 and (4096,8192) (farther) -> (4096,2048) at m=64 = .45. */
    CHECK(mfu_gemm(db, MFU_NEAREST, 64, 2000, 2000, &s) == 0.45, "pair (4096,2048)");
    SRC1(&s, 9, T);
    /* (100,100): every pair covers; nearest is (1024,2048) -> .4 */
    CHECK(mfu_gemm(db, MFU_NEAREST, 64, 100, 100, &s) == 0.4, "pair (1024,2048)");
    /* (1024,2049): n' >= 2049 leaves (1024,8192) d=6143 and (4096,8192) -> .5 */
    CHECK(mfu_gemm(db, MFU_INTERP, 64, 1024, 2049, &s) == 0.5, "pair (1024,8192)");
    SRC1(&s, 6, T);
    /* Nothing covers k=5000 or n=9000: largest k'^2+n'^2 = (4096,8192) -> .6 */
    CHECK(mfu_gemm(db, MFU_NEAREST, 64, 5000, 100, &s) == 0.6, "fallback pair, k too big");
    SRC1(&s, 12, T);
    CHECK(mfu_gemm(db, MFU_INTERP, 64, 100, 9000, &s) == 0.6, "fallback pair, n too big");

    /* The MFU-0 row (line 8, m=8 of (4096,2048)) is never served: its pair
    ** starts at m'=64 (.45) in both modes, and interpolation never mixes in 0. */
    CHECK(mfu_gemm(db, MFU_NEAREST, 8, 4096, 2048, &s) == 0.45, "m=8 unusable -> m'=64");
    SRC1(&s, 9, T);
    CHECK(mfu_gemm(db, MFU_NEAREST, 20, 4096, 2048, &s) == 0.45, "m=20 nothing usable below");
    CHECK(mfu_gemm(db, MFU_INTERP, 8, 4096, 2048, &s) == 0.45, "interp m=8 clamps to 64");
    SRC1(&s, 9, T);
    CHECK(mfu_gemm(db, MFU_INTERP, 16, 4096, 2048, NULL) == 0.45, "interp m=16 clamps, not 0");
    /* halfway 64..512 on this pair: (.45+.75)/2 = .6 */
    CHECK_NEAR(mfu_gemm(db, MFU_INTERP, mid, 4096, 2048, NULL), 0.6, 1e-12);
    mfu_free(db);
}

static void test_gemm_ties(void)
{
    char err[TAM_ERRLEN] = "";
    mfu_db_t *db = NULL;
    CHECK(mfu_load(FX "ties", &db, err) == TAM_OK, "%s", err);
    if (!db)
        return;
    /* Pairs (2048,4096) .25 (line 2) and (4096,2048) .75 (line 3), mirror images. */
    mfu_src_t s;
    /* (1024,1024): both cover at d^2 = 1024^2 + 3072^2 -> first in (k,n) order */
    CHECK(mfu_gemm(db, MFU_NEAREST, 8, 1024, 1024, &s) == 0.25, "covering tie");
    SRC1(&s, 2, "ties/gemm/data.csv");
    /* (5000,5000): none covers; k^2+n^2 ties -> first in (k,n) order */
    CHECK(mfu_gemm(db, MFU_INTERP, 8, 5000, 5000, &s) == 0.25, "largest-pair tie");
    SRC1(&s, 2, "ties/gemm/data.csv");
    /* (3000,1000): only (4096,2048) covers */
    CHECK(mfu_gemm(db, MFU_NEAREST, 8, 3000, 1000, NULL) == 0.75, "single covering pair");
    mfu_free(db);
}

static void test_decode_fixture(void)
{
    mfu_db_t *db = load_good();
    if (!db)
        return;
    char err[TAM_ERRLEN] = "";
    mfu_attn_t a;
    CHECK(mfu_select_attn(db, 4, 2, 64, 1, &a, err) == TAM_OK, "%s", err);
    const char *T = "good/mha/decode/4-2-64-tp1.csv";
    mfu_src_t s;
    /* Rows (line: bs,kv -> mfu): 2: 1,100 0 (unusable)  3: 1,200 .02  4: 1,400 .04
    ** 5: 4,100 .1  6: 4,200 .2  7: 4,400 .3  8: 16,100 .5  9: 16,200 .6
    ** (triangular: batch 16 stops at kv 200). */

    for (int mode = 0; mode < 2; mode++) {
        CHECK(mfu_decode(&a, mode, 4, 200, &s) == 0.2, "grid (4,200)");
        SRC1(&s, 6, T);
        CHECK(mfu_decode(&a, mode, 16, 100, &s) == 0.5, "grid (16,100)");
        SRC1(&s, 8, T);
        CHECK(mfu_decode(&a, mode, 1, 400, &s) == 0.04, "grid (1,400)");
        SRC1(&s, 4, T);
        CHECK(mfu_decode(&a, mode, 16, 200, NULL) == 0.6, "grid (16,200)");
    }

    /* NEAREST, floor preferred.  (5,250): floor rows (1,200) 16+2500,
    ** (4,100) 1+22500, (4,200) 1+2500 -> (4,200) = .2 */
    CHECK(mfu_decode(&a, MFU_NEAREST, 5, 250, &s) == 0.2, "(5,250)");
    SRC1(&s, 6, T);
    /* (16,300): (16,200) d^2=10000 beats (4,200) 144+10000 -> .6 */
    CHECK(mfu_decode(&a, MFU_NEAREST, 16, 300, &s) == 0.6, "(16,300)");
    SRC1(&s, 9, T);
    /* (100,1000): raw Euclidean, kv dominates: (4,400) 96^2+600^2 = 369216 beats
    ** (16,200) 84^2+800^2 = 647056 and (1,400) 99^2+600^2 -> .3 */
    CHECK(mfu_decode(&a, MFU_NEAREST, 100, 1000, &s) == 0.3, "(100,1000)");
    SRC1(&s, 7, T);
    /* Nothing below (1,50): nearest overall (4,100) 9+2500 beats (1,200) 22500 -> .1 */
    CHECK(mfu_decode(&a, MFU_NEAREST, 1, 50, &s) == 0.1, "(1,50) no floor row");
    SRC1(&s, 5, T);
    /* (1,150): the only floor row (1,100) has MFU 0, so it is no candidate; the
    ** nearest overall is (1,200) d^2=2500 vs (4,100) 2509 -> .02, never 0. */
    CHECK(mfu_decode(&a, MFU_NEAREST, 1, 150, &s) == 0.02, "(1,150) MFU-0 row skipped");
    SRC1(&s, 3, T);
    /* (1,100) is the MFU-0 grid point itself: no usable floor row; nearest
    ** overall is (4,100) at d^2 = 9, not (1,200) at 10000 -> .1 */
    CHECK(mfu_decode(&a, MFU_NEAREST, 1, 100, &s) == 0.1, "(1,100) MFU-0 grid point");
    SRC1(&s, 5, T);
    /* Tie: (2.5,150) has no usable floor row; (1,200), (4,100), (4,200) are all
    ** at d^2 = 1.5^2+50^2 = 2502.25; the first in (bs,kv) order wins -> (1,200). */
    CHECK(mfu_decode(&a, MFU_NEAREST, 2.5, 150, &s) == 0.02, "tie -> smaller (bs,kv)");
    SRC1(&s, 3, T);

    /* INTERP (bilinear, triangular grid, rows clamped to their own kv range). */
    /* (4,300): batch row 4 halfway between kv 200 and 400 -> .25 */
    CHECK_NEAR(mfu_decode(&a, MFU_INTERP, 4, 300, &s), 0.25, 1e-12);
    {
        int l[2] = {6, 7};
        double w[2] = {0.5, 0.5};
        check_src(&s, 2, l, w, T);
    }
    /* (10,150): rows 4 (.15) and 16 (.55), u = 6/12 -> .35, four corners at .25 */
    CHECK_NEAR(mfu_decode(&a, MFU_INTERP, 10, 150, &s), 0.35, 1e-12);
    {
        int l[4] = {5, 6, 8, 9};
        double w[4] = {0.25, 0.25, 0.25, 0.25};
        check_src(&s, 4, l, w, T);
    }
    /* Missing corner (16,400): row 16 clamps to its last kv (200, .6), so
    ** (10,400) = (.3 + .6)/2 = .45 -- reading the corner as 0 would give .15. */
    CHECK_NEAR(mfu_decode(&a, MFU_INTERP, 10, 400, &s), 0.45, 1e-12);
    {
        int l[2] = {7, 9};
        double w[2] = {0.5, 0.5};
        check_src(&s, 2, l, w, T);
    }
    /* (10,300): row 4 -> .25, row 16 clamped -> .6; mean .425 */
    CHECK_NEAR(mfu_decode(&a, MFU_INTERP, 10, 300, NULL), 0.425, 1e-12);
    /* (7,200): u = 3/12: .75*.2 + .25*.6 = .3 */
    CHECK_NEAR(mfu_decode(&a, MFU_INTERP, 7, 200, NULL), 0.3, 1e-12);
    /* MFU-0 row skipped: batch row 1 is usable on [200,400] only, so (1,100)
    ** and (1,150) clamp to .02; (2.5,100) = (.02 + .1)/2 = .06 */
    CHECK(mfu_decode(&a, MFU_INTERP, 1, 100, &s) == 0.02, "interp (1,100) skips MFU 0");
    SRC1(&s, 3, T);
    CHECK(mfu_decode(&a, MFU_INTERP, 1, 150, NULL) == 0.02, "interp (1,150)");
    CHECK_NEAR(mfu_decode(&a, MFU_INTERP, 2.5, 100, &s), 0.06, 1e-12);
    {
        int l[2] = {3, 5};
        double w[2] = {0.5, 0.5};
        check_src(&s, 2, l, w, T);
    }
    /* Clamps: batch above the grid -> row 16; kv above/below a row's range. */
    CHECK_NEAR(mfu_decode(&a, MFU_INTERP, 32, 150, NULL), 0.55, 1e-12);
    CHECK(mfu_decode(&a, MFU_INTERP, 1000, 1000, &s) == 0.6, "interp clamp both");
    SRC1(&s, 9, T);
    CHECK(mfu_decode(&a, MFU_INTERP, 1, 1000, NULL) == 0.04, "interp (1,1000)");
    CHECK(mfu_decode(&a, MFU_INTERP, 4, 50, NULL) == 0.1, "interp (4,50)");
    mfu_free(db);
}

static void test_prefill_fixture(void)
{
    mfu_db_t *db = load_good();
    if (!db)
        return;
    char err[TAM_ERRLEN] = "";
    mfu_attn_t a;
    CHECK(mfu_select_attn(db, 4, 2, 64, 1, &a, err) == TAM_OK, "%s", err);
    const char *T = "good/mha/prefill/4-2-64.csv";
    mfu_src_t s;
    /* Rows: 2: seq 100 .2  3: 200 .4  4: 400 0 (unusable)  5: 800 .8 */
    for (int mode = 0; mode < 2; mode++) {
        CHECK(mfu_prefill(&a, mode, 100, &s) == 0.2, "grid 100");
        SRC1(&s, 2, T);
        CHECK(mfu_prefill(&a, mode, 800, &s) == 0.8, "grid 800");
        SRC1(&s, 5, T);
    }
    /* NEAREST: largest usable seq <= S, else the smallest. */
    CHECK(mfu_prefill(&a, MFU_NEAREST, 500, &s) == 0.4, "500 -> 200 (400 has MFU 0)");
    SRC1(&s, 3, T);
    CHECK(mfu_prefill(&a, MFU_NEAREST, 400, &s) == 0.4, "400 (MFU 0) -> 200");
    CHECK(mfu_prefill(&a, MFU_NEAREST, 50, &s) == 0.2, "50 -> smallest 100");
    SRC1(&s, 2, T);
    CHECK(mfu_prefill(&a, MFU_NEAREST, 1e5, &s) == 0.8, "1e5 -> 800");
    /* INTERP: linear in seq, skipping the MFU-0 row: 150 -> .3; 400 -> a third
    ** of the way from 200 (.4) to 800 (.8) = .5333...; 500 -> .6; clamped ends. */
    CHECK_NEAR(mfu_prefill(&a, MFU_INTERP, 150, &s), 0.3, 1e-12);
    {
        int l[2] = {2, 3};
        double w[2] = {0.5, 0.5};
        check_src(&s, 2, l, w, T);
    }
    CHECK_NEAR(mfu_prefill(&a, MFU_INTERP, 400, &s), 0.4 + 0.4 / 3, 1e-12);
    {
        int l[2] = {3, 5};
        double w[2] = {2.0 / 3, 1.0 / 3};
        check_src(&s, 2, l, w, T);
    }
    CHECK_NEAR(mfu_prefill(&a, MFU_INTERP, 500, NULL), 0.6, 1e-12);
    CHECK(mfu_prefill(&a, MFU_INTERP, 50, NULL) == 0.2, "interp clamps low");
    CHECK(mfu_prefill(&a, MFU_INTERP, 1000, NULL) == 0.8, "interp clamps high");
    mfu_free(db);
}

static void test_select_fixture(void)
{
    mfu_db_t *db = load_good();
    if (!db)
        return;
    char err[TAM_ERRLEN] = "";
    mfu_attn_t a;
    /* Decode tables: 4-2-64-tp1, 4-2-64-tp3, 8-8-64-tp2 (the non-matching
    ** names 4-2-64.csv, x-2-64-tp1.csv, *.bak, README.txt hold garbage and must
    ** be ignored).  Prefill: 4-2-64, 8-8-64 (BOM, CRLF, reordered columns). */
    CHECK(mfu_select_attn(db, 4, 2, 64, 1, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "/mha/decode/4-2-64-tp1.csv") && a.decode_exact == 1,
          "exact: %s %d", a.decode_file, a.decode_exact);
    CHECK(ends_with(a.prefill_file, "/mha/prefill/4-2-64.csv") && a.prefill_exact == 1,
          "exact prefill: %s %d", a.prefill_file, a.prefill_exact);
    CHECK(strcmp(mfu_table_path(a.decode), a.decode_file) == 0, "table path");
    CHECK(strcmp(mfu_table_path(a.prefill), a.prefill_file) == 0, "table path");
    CHECK(mfu_table_path(NULL) == NULL, "NULL table");

    CHECK(mfu_select_attn(db, 4, 2, 64, 3, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "4-2-64-tp3.csv") && a.decode_exact == 1, "tp3 exact");
    /* tp 3 table: (1,100) .07 and (4,100) .08 */
    CHECK(mfu_decode(&a, MFU_NEAREST, 1, 100, NULL) == 0.07, "tp3 table served");

    /* tp 2: |1-2| = |3-2| = 1, tie -> the smaller tp (1). */
    CHECK(mfu_select_attn(db, 4, 2, 64, 2, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "4-2-64-tp1.csv") && a.decode_exact == 0,
          "tp tie -> smaller: %s %d", a.decode_file, a.decode_exact);
    CHECK(a.prefill_exact == 1, "prefill has no tp: still exact");
    /* tp 8 -> nearest tp 3 */
    CHECK(mfu_select_attn(db, 4, 2, 64, 8, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "4-2-64-tp3.csv") && a.decode_exact == 0, "tp8 -> tp3");

    /* 8-8-64: exact heads and tp; prefill table has CRLF + reordered columns (.33);
    ** decode table has an extra column (.09). */
    CHECK(mfu_select_attn(db, 8, 8, 64, 2, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "8-8-64-tp2.csv") && a.decode_exact == 1, "8-8-64-tp2");
    CHECK(ends_with(a.prefill_file, "8-8-64.csv") && a.prefill_exact == 1, "8-8-64 prefill");
    CHECK(mfu_prefill(&a, MFU_NEAREST, 5000, NULL) == 0.33, "CRLF table");
    CHECK(mfu_prefill(&a, MFU_INTERP, 1, NULL) == 0.33, "CRLF table");
    CHECK(mfu_decode(&a, MFU_INTERP, 7, 7, NULL) == 0.09, "extra column table");
    /* heads exact, tp 1 missing -> only tp2: not exact */
    CHECK(mfu_select_attn(db, 8, 8, 64, 1, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "8-8-64-tp2.csv") && a.decode_exact == 0, "tp1 -> tp2");

    /* (6,6,64): d^2 to (4,2,64) = 4+16 = 20, to (8,8,64) = 4+4 = 8 -> 8-8-64 */
    CHECK(mfu_select_attn(db, 6, 6, 64, 2, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "8-8-64-tp2.csv") && a.decode_exact == 0, "(6,6,64)");
    CHECK(ends_with(a.prefill_file, "8-8-64.csv") && a.prefill_exact == 0, "(6,6,64) prefill");
    /* (6,5,64): d^2 = 4+9 = 13 to both -> the first in (H,K,hd) order, 4-2-64 */
    CHECK(mfu_select_attn(db, 6, 5, 64, 1, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "4-2-64-tp1.csv") && a.decode_exact == 0, "head tie");
    CHECK(ends_with(a.prefill_file, "4-2-64.csv") && a.prefill_exact == 0, "head tie prefill");
    /* (64,8,128): d^2 = 60^2+6^2+64^2 = 7732 vs 56^2+0+64^2 = 7232 -> 8-8-64, tp2 */
    CHECK(mfu_select_attn(db, 64, 8, 128, 4, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "8-8-64-tp2.csv"), "far config: %s", a.decode_file);

    err[0] = '\0';
    CHECK(mfu_select_attn(db, 0, 2, 64, 1, &a, err) == TAM_EFIELD, "H=0 rejected");
    CHECK(strstr(err, "H=0") != NULL, "err: %s", err);
    CHECK(mfu_select_attn(db, 4, 2, 64, 0, &a, err) == TAM_EFIELD, "tp=0 rejected");
    mfu_free(db);
}

static void test_bad_inputs(void)
{
    static const struct {
        const char *dir;
        int code;
        const char *want[3];
    } cases[] = {
        {"bad_nogemm", TAM_EIO, {"bad_nogemm/gemm/data.csv", "cannot open", NULL}},
        {"bad_header", TAM_EFIELD, {"bad_header/gemm/data.csv:1:", "field 'n'", "m,k,nn"}},
        {"bad_dupcol", TAM_EFIELD, {"bad_dupcol/gemm/data.csv:1:", "'m'", "twice"}},
        {"bad_short", TAM_EPARSE, {"bad_short/gemm/data.csv:3:", "4 fields", "has 5"}},
        {"bad_long", TAM_EPARSE, {"bad_long/mha/decode/1-1-8-tp1.csv:3:", "7 fields", "has 6"}},
        {"bad_nonnum", TAM_EFIELD, {"bad_nonnum/gemm/data.csv:2:", "field 'k'", "'abc'"}},
        {"bad_trailing", TAM_EFIELD, {"bad_trailing/gemm/data.csv:2:", "field 'mfu'", "'0.5x'"}},
        {"bad_emptyfield", TAM_EFIELD, {"bad_emptyfield/gemm/data.csv:2:", "field 'k'", "''"}},
        {"bad_zerokey", TAM_EFIELD, {"bad_zerokey/gemm/data.csv:2:", "field 'm'", "'0'"}},
        {"bad_nan", TAM_EFIELD, {"bad_nan/gemm/data.csv:3:", "field 'mfu'", "'nan'"}},
        {"bad_inf", TAM_EFIELD,
         {"bad_inf/mha/decode/1-1-8-tp1.csv:2:", "field 'latency_us'", "'inf'"}},
        {"bad_neg", TAM_EFIELD,
         {"bad_neg/mha/prefill/1-1-8.csv:2:", "field 'latency_us'", "'-1'"}},
        {"bad_mfu", TAM_EFIELD, {"bad_mfu/mha/prefill/1-1-8.csv:3:", "field 'mfu'", "'1.5'"}},
        {"bad_empty", TAM_EDB, {"bad_empty/mha/prefill/1-1-8.csv:1:", "empty", NULL}},
        {"bad_emptyfile", TAM_EDB, {"bad_emptyfile/gemm/data.csv:1:", "empty", NULL}},
        {"bad_dup", TAM_EDB, {"bad_dup/gemm/data.csv:3:", "duplicate", "line 2"}},
        {"bad_allzero", TAM_EDB, {"bad_allzero/mha/decode/1-1-8-tp1.csv:2:", "usable", NULL}},
        {"bad_nodecode", TAM_EDB, {"bad_nodecode/mha/decode", "no table", NULL}},
        {"bad_noprefill", TAM_EIO, {"bad_noprefill/mha/prefill", "cannot open", NULL}},
        {"bad_dupname", TAM_EDB, {"/01-1-8-tp1.csv", "decode/1-1-8-tp1.csv", "same"}},
        {"does_not_exist", TAM_EIO, {"does_not_exist/gemm/data.csv", NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char dir[256], err[TAM_ERRLEN] = "";
        snprintf(dir, sizeof dir, FX "%s", cases[i].dir);
        static char sentinel;
        mfu_db_t *db = (mfu_db_t *)(void *)&sentinel; /* must be reset to NULL */
        int rc = mfu_load(dir, &db, err);
        CHECK(rc == cases[i].code, "%s: rc %d want %d (%s)", cases[i].dir, rc, cases[i].code,
              err);
        CHECK(db == NULL, "%s: *out not NULL after failure", cases[i].dir);
        for (int j = 0; j < 3 && cases[i].want[j]; j++)
            CHECK(strstr(err, cases[i].want[j]) != NULL, "%s: message '%s' lacks '%s'",
                  cases[i].dir, err, cases[i].want[j]);
        if (rc == TAM_OK)
            mfu_free(db);
    }
    /* The exact wording of one message (file:line: field 'name': 'value' is not ...). */
    char err[TAM_ERRLEN] = "";
    mfu_db_t *db = NULL;
    mfu_load(FX "bad_nan", &db, err);
    CHECK(strcmp(err, FX "bad_nan/gemm/data.csv:3: field 'mfu': 'nan' is not a finite number "
                          "in [0,1]") == 0,
          "message: %s", err);
    mfu_free(NULL); /* a no-op */
}

/* ------------------------------------------------------- real tables */

/* An independent reading of one CSV: rows in file order. */
typedef struct {
    double a, b, x, f; /* GEMM: k, n, m; decode: bs, 0, kv; prefill: 0, 0, seq */
    int line;
} row_t;

static int read_rows(const char *path, int kind, row_t *rows, int max)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    char buf[512];
    int n = 0, line = 0;
    while (fgets(buf, sizeof buf, fp)) {
        line++;
        if (line == 1 || n == max)
            continue;
        row_t r = {0, 0, 0, 0, line};
        double lat;
        int ok = kind == 0 ? sscanf(buf, "%lf,%lf,%lf,%lf,%lf", &r.x, &r.a, &r.b, &lat, &r.f) == 5
                 : kind == 1 ? sscanf(buf, "%*[^,],%*[^,],%lf,%lf,%lf,%lf", &r.a, &r.x, &lat,
                                      &r.f) == 4
                             : sscanf(buf, "%*[^,],%lf,%lf,%lf", &r.x, &lat, &r.f) == 3;
        if (ok)
            rows[n++] = r;
    }
    fclose(fp);
    return n;
}

static int cmp_row(const void *pa, const void *pb)
{
    const row_t *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return (a->x > b->x) - (a->x < b->x);
}

static uint64_t rs = 88172645463325252ULL;
static double urand(void) /* xorshift64, [0,1) */
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* Sweeps against the references count their mismatches (printing the first
** few) and end in one CHECK each, so the pass count stays meaningful. */
static int tally_n, tally_bad;
#define TALLY(cond, ...)                                                                     \
    do {                                                                                     \
        tally_n++;                                                                           \
        if (!(cond) && tally_bad++ < 10) {                                                   \
            printf("# mismatch %s:%d: ", __FILE__, __LINE__);                               \
            printf(__VA_ARGS__);                                                             \
            printf("\n");                                                                    \
        }                                                                                    \
    } while (0)

/* The documented NEAREST rule as a plain scan over usable rows sorted by
** (bs, kv); only a strictly nearer row replaces the best. */
static int ref_decode_nearest(const row_t *r, int n, double bs, double kv)
{
    int best = -1;
    double bd = 0;
    for (int pass = 0; pass < 2 && best < 0; pass++)
        for (int i = 0; i < n; i++) {
            if (r[i].f < 1e-4 || (pass == 0 && !(r[i].a <= bs && r[i].x <= kv)))
                continue;
            double d = (r[i].a - bs) * (r[i].a - bs) + (r[i].x - kv) * (r[i].x - kv);
            if (best < 0 || d < bd) {
                best = i;
                bd = d;
            }
        }
    return best;
}

/* BLIS's own reading: choose among all rows, then if the winner's MFU is
** below 1e-4 take the nearest usable row by plain Euclidean distance. */
static int blis_decode_nearest(const row_t *r, int n, double bs, double kv)
{
    int best = -1, isfloor = 0;
    double bd = 0;
    for (int i = 0; i < n; i++) {
        int fl = r[i].a <= bs && r[i].x <= kv;
        double d = (r[i].a - bs) * (r[i].a - bs) + (r[i].x - kv) * (r[i].x - kv);
        if (best >= 0 && isfloor && !fl)
            continue; /* a floor row is never replaced by a ceiling row */
        if (best < 0 || (!isfloor && fl) || d < bd) {
            best = i;
            bd = d;
            isfloor = fl;
        }
    }
    if (r[best].f >= 1e-4)
        return best;
    int fb = -1;
    double fd = 0;
    for (int i = 0; i < n; i++) {
        if (r[i].f < 1e-4)
            continue;
        double d = (r[i].a - bs) * (r[i].a - bs) + (r[i].x - kv) * (r[i].x - kv);
        if (fb < 0 || d < fd) {
            fb = i;
            fd = d;
        }
    }
    return fb;
}

/* Linear in x over usable rows i0..i1-1 (sorted by x), clamped. */
static double ref_lin(const row_t *r, int i0, int i1, double x, int uselog)
{
    int lo = -1, hi = -1;
    for (int i = i0; i < i1; i++) {
        if (r[i].f < 1e-4)
            continue;
        if (r[i].x <= x)
            lo = i;
        if (r[i].x >= x && hi < 0)
            hi = i;
    }
    if (lo < 0)
        return r[hi].f;
    if (hi < 0 || hi == lo)
        return r[lo].f;
    double w = uselog ? (log(x) - log(r[lo].x)) / (log(r[hi].x) - log(r[lo].x))
                      : (x - r[lo].x) / (r[hi].x - r[lo].x);
    return (1 - w) * r[lo].f + w * r[hi].f;
}

/* Bilinear reference: batch rows that have a usable value, clamped. */
static double ref_decode_interp(const row_t *r, int n, double bs, double kv)
{
    double b0 = -1, b1 = -1, bmin = -1, bmax = -1;
    for (int i = 0; i < n; i++) {
        if (r[i].f < 1e-4)
            continue;
        if (bmin < 0 || r[i].a < bmin)
            bmin = r[i].a;
        if (r[i].a > bmax)
            bmax = r[i].a;
        if (r[i].a <= bs && r[i].a > b0)
            b0 = r[i].a;
        if (r[i].a >= bs && (b1 < 0 || r[i].a < b1))
            b1 = r[i].a;
    }
    if (b0 < 0)
        b0 = b1 = bmin;
    if (b1 < 0)
        b0 = b1 = bmax;
    double v[2];
    for (int j = 0; j < 2; j++) {
        double b = j ? b1 : b0;
        int i0 = 0, i1;
        while (r[i0].a != b)
            i0++;
        for (i1 = i0; i1 < n && r[i1].a == b; i1++)
            ;
        v[j] = ref_lin(r, i0, i1, kv, 0);
    }
    if (b0 == b1)
        return v[0];
    double u = (bs - b0) / (b1 - b0);
    return (1 - u) * v[0] + u * v[1];
}

/* Both lookups on (bs, kv): nearest against the scan, interp against the
** reference, src consistent with the value. */
static void check_decode_query(const mfu_attn_t *a, const row_t *r, int n, double bs, double kv,
                               int *differs_blis, double fmin, double fmax)
{
    mfu_src_t s;
    int want = ref_decode_nearest(r, n, bs, kv);
    double got = mfu_decode(a, MFU_NEAREST, bs, kv, &s);
    TALLY(got == r[want].f && s.n == 1 && s.line[0] == r[want].line,
          "%s nearest (%g,%g): got %g line %d want %g line %d", a->decode_file, bs, kv, got,
          s.line[0], r[want].f, r[want].line);
    if (blis_decode_nearest(r, n, bs, kv) != want)
        (*differs_blis)++;
    double gi = mfu_decode(a, MFU_INTERP, bs, kv, &s);
    double wi = ref_decode_interp(r, n, bs, kv);
    TALLY(fabs(gi - wi) <= 1e-12 * wi && gi >= fmin && gi <= fmax,
          "%s interp (%g,%g): got %.15g want %.15g", a->decode_file, bs, kv, gi, wi);
    double sum = 0, val = 0;
    int lines_ok = s.n >= 1 && s.n <= 4;
    for (int i = 0; i < s.n && lines_ok; i++) {
        int k = 0;
        while (k < n && r[k].line != s.line[i])
            k++;
        lines_ok = k < n && r[k].f >= 1e-4;
        if (lines_ok)
            val += s.weight[i] * r[k].f;
        sum += s.weight[i];
    }
    TALLY(lines_ok && fabs(sum - 1) <= 1e-12 && fabs(val - gi) <= 1e-12,
          "%s interp src (%g,%g): n %d sum %g", a->decode_file, bs, kv, s.n, sum);
}

/* The real tables: hand-checked spot values and the table selection. */
static void test_real_spots(mfu_db_t *db)
{
    char err[TAM_ERRLEN] = "";
    mfu_src_t s;

    /* GEMM grid point m=8,k=2048,n=6144 (line 2) is 0.011 in both modes. */
    CHECK(mfu_gemm(db, MFU_NEAREST, 8, 2048, 6144, &s) == 0.011, "gemm grid nearest");
    SRC1(&s, 2, "gemm/data.csv");
    CHECK(mfu_gemm(db, MFU_INTERP, 8, 2048, 6144, &s) == 0.011, "gemm grid interp");
    SRC1(&s, 2, "gemm/data.csv");
    /* m=2048 is missing on the grid (1024 .506 line 9, 4096 .579 line 10);
    ** log2 2048 = 11 is halfway between 10 and 12 -> .5425; nearest -> .506. */
    CHECK_NEAR(mfu_gemm(db, MFU_INTERP, 2048, 2048, 6144, &s), 0.5425, 1e-12);
    {
        int l[2] = {9, 10};
        double w[2] = {0.5, 0.5};
        check_src(&s, 2, l, w, "gemm/data.csv");
    }
    CHECK(mfu_gemm(db, MFU_NEAREST, 2048, 2048, 6144, NULL) == 0.506, "gemm m=2048 nearest");

    /* Llama-2-70B (H=64, K=8, hd=128) at tp4: both tables exact. */
    mfu_attn_t a;
    CHECK(mfu_select_attn(db, 64, 8, 128, 4, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "/mha/decode/64-8-128-tp4.csv") && a.decode_exact,
          "70B tp4: %s", a.decode_file);
    CHECK(ends_with(a.prefill_file, "/mha/prefill/64-8-128.csv") && a.prefill_exact,
          "70B prefill: %s", a.prefill_file);
    /* 64-8-128-tp4: row 256 ends at kv 16384 (.026, line 39), row 512 at
    ** kv 8192 (.025, line 42): (384,16384) = (.026 + .025)/2 = .0255. */
    CHECK_NEAR(mfu_decode(&a, MFU_INTERP, 384, 16384, &s), 0.0255, 1e-12);
    {
        int l[2] = {39, 42};
        double w[2] = {0.5, 0.5};
        check_src(&s, 2, l, w, "64-8-128-tp4.csv");
    }
    /* (1,1024) has MFU 0 (line 2).  INTERP: batch row 1 starts at kv 4096
    ** (.001, line 3).  NEAREST: no usable floor row; (16,1024) at d=15 (.006,
    ** line 9) beats (1,4096) at d=3072. */
    CHECK(mfu_decode(&a, MFU_INTERP, 1, 1024, &s) == 0.001, "70B (1,1024) interp");
    SRC1(&s, 3, "64-8-128-tp4.csv");
    CHECK(mfu_decode(&a, MFU_NEAREST, 1, 1024, &s) == 0.006, "70B (1,1024) nearest");
    SRC1(&s, 9, "64-8-128-tp4.csv");
    /* Prefill 64-8-128: 4096 -> .648 exact; 6144 halfway 4096..8192 -> .685 */
    CHECK(mfu_prefill(&a, MFU_NEAREST, 6144, NULL) == 0.648, "prefill nearest");
    CHECK_NEAR(mfu_prefill(&a, MFU_INTERP, 6144, NULL), 0.685, 1e-12);
    /* tp8 is not measured: nearest tp4. */
    CHECK(mfu_select_attn(db, 64, 8, 128, 8, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "64-8-128-tp4.csv") && !a.decode_exact, "tp8 -> tp4");
    /* (40,8,128) (e.g. Qwen3-14B) has no table: d^2 to 32-8-128 is 64, to
    ** 56-8-128 256, to 40-40-128 1024 -> 32-8-128. */
    CHECK(mfu_select_attn(db, 40, 8, 128, 2, &a, err) == TAM_OK, "%s", err);
    CHECK(ends_with(a.decode_file, "32-8-128-tp2.csv") && !a.decode_exact, "%s", a.decode_file);
    CHECK(ends_with(a.prefill_file, "32-8-128.csv") && !a.prefill_exact, "%s", a.prefill_file);
}

/* Every decode table against the reference scans: every grid point (and
** its +-1 neighbours), then random queries. */
static void test_real_tables(mfu_db_t *db)
{
    char err[TAM_ERRLEN] = "";
    mfu_src_t s;
    mfu_attn_t a;
    static const int heads[][3] = {{28, 4, 128}, {32, 32, 128}, {32, 8, 128},
                                   {40, 40, 128}, {56, 8, 128}, {64, 8, 128}};
    int differs_blis = 0, nq = 0;
    tally_n = tally_bad = 0;
    for (int h = 0; h < 6; h++)
        for (int tp = 1; tp <= 4; tp *= 2) {
            CHECK(mfu_select_attn(db, heads[h][0], heads[h][1], heads[h][2], tp, &a, err) ==
                          TAM_OK &&
                      a.decode_exact && a.prefill_exact,
                  "select %d-%d-%d tp%d: %s", heads[h][0], heads[h][1], heads[h][2], tp, err);
            row_t r[256];
            int n = read_rows(a.decode_file, 1, r, 256);
            CHECK(n > 0, "read %s", a.decode_file);
            if (n <= 0)
                continue;
            qsort(r, (size_t)n, sizeof *r, cmp_row);
            double fmin = 1, fmax = 0;
            for (int i = 0; i < n; i++)
                if (r[i].f >= 1e-4) {
                    fmin = fmin < r[i].f ? fmin : r[i].f;
                    fmax = fmax > r[i].f ? fmax : r[i].f;
                }
            for (int i = 0; i < n; i++) {
                if (r[i].f >= 1e-4)
                    for (int mode = 0; mode < 2; mode++) {
                        double v = mfu_decode(&a, mode, r[i].a, r[i].x, &s);
                        TALLY(v == r[i].f && s.n == 1 && s.line[0] == r[i].line,
                              "%s grid line %d mode %d", a.decode_file, r[i].line, mode);
                    }
                for (int db_ = -1; db_ <= 1; db_++)
                    for (int dk = -1; dk <= 1; dk++)
                        if (r[i].a + db_ >= 1) {
                            check_decode_query(&a, r, n, r[i].a + db_, r[i].x + dk,
                                               &differs_blis, fmin, fmax);
                            nq++;
                        }
            }
            for (int q = 0; q < 3000; q++) {
                double bs = 1 + floor(urand() * 700), kv = 1 + floor(urand() * 200000);
                if (q % 3 == 1)
                    bs += 0.5; /* non-integer batch sizes too */
                check_decode_query(&a, r, n, bs, kv, &differs_blis, fmin, fmax);
                nq++;
            }

            /* Prefill table of this head configuration. */
            if (tp == 1) {
                row_t p[64];
                int np = read_rows(a.prefill_file, 2, p, 64);
                CHECK(np > 0, "read %s", a.prefill_file);
                qsort(p, (size_t)np, sizeof *p, cmp_row);
                for (int q = 0; q < 2000 && np > 0; q++) {
                    double seq = q < np ? p[q].x : 1 + floor(urand() * 40000);
                    int best = -1;
                    for (int i = 0; i < np; i++)
                        if (p[i].f >= 1e-4 && p[i].x <= seq)
                            best = i;
                    if (best < 0)
                        for (best = 0; p[best].f < 1e-4; best++)
                            ;
                    TALLY(mfu_prefill(&a, MFU_NEAREST, seq, &s) == p[best].f &&
                              s.line[0] == p[best].line,
                          "%s prefill nearest %g", a.prefill_file, seq);
                    double wi = ref_lin(p, 0, np, seq, 0);
                    double gi = mfu_prefill(&a, MFU_INTERP, seq, NULL);
                    TALLY(fabs(gi - wi) <= 1e-12 * wi, "%s prefill interp %g: %.15g vs %.15g",
                          a.prefill_file, seq, gi, wi);
                }
            }
        }
    CHECK(tally_bad == 0, "%d of %d decode/prefill comparisons with the references failed",
          tally_bad, tally_n);
    printf("# t_mfu: %d real decode queries; BLIS's pick-then-fall-back reading of the "
           "MFU<1e-4 rule differs from dropping unusable rows on %d\n",
           nq, differs_blis);
    CHECK(differs_blis == 0, "the two readings of the MFU<1e-4 rule differ on %d queries",
          differs_blis);
}

/* GEMM against a brute-force scan of all rows (the real table has no
** unusable row): pair by the covering rule / largest k^2+n^2, then m. */
static void test_real_gemm_scan(mfu_db_t *db, const char *dir)
{
    char path[600];
    mfu_src_t s;
    snprintf(path, sizeof path, "%s/gemm/data.csv", dir);
    row_t g[256];
    tally_n = tally_bad = 0;
    int ng = read_rows(path, 0, g, 256);
    CHECK(ng == 112, "gemm rows %d", ng);
    qsort(g, (size_t)ng, sizeof *g, cmp_row);
    for (int q = 0; q < 20000 && ng > 0; q++) {
        double m, k, n;
        if (q < ng) { /* every grid point */
            m = g[q].x, k = g[q].a, n = g[q].b;
        } else {
            m = 1 + floor(exp(urand() * log(300000.0)));
            k = 1 + floor(urand() * 20000);
            n = 1 + floor(urand() * (q % 2 ? 40000 : 12000));
        }
        double bk = -1, bn = -1, bd = 0;
        for (int i = 0; i < ng; i++)
            if (g[i].a >= k && g[i].b >= n) {
                double d = (g[i].a - k) * (g[i].a - k) + (g[i].b - n) * (g[i].b - n);
                if (bk < 0 || d < bd)
                    bk = g[i].a, bn = g[i].b, bd = d;
            }
        if (bk < 0)
            for (int i = 0; i < ng; i++) {
                double s2 = g[i].a * g[i].a + g[i].b * g[i].b;
                if (bk < 0 || s2 > bd)
                    bk = g[i].a, bn = g[i].b, bd = s2;
            }
        int i0 = 0, i1;
        while (g[i0].a != bk || g[i0].b != bn)
            i0++;
        for (i1 = i0; i1 < ng && g[i1].a == bk && g[i1].b == bn; i1++)
            ;
        int best = i0;
        for (int i = i0; i < i1; i++)
            if (g[i].x <= m)
                best = i;
        double got = mfu_gemm(db, MFU_NEAREST, m, k, n, &s);
        TALLY(got == g[best].f && s.line[0] == g[best].line, "gemm nearest (%g,%g,%g)", m, k, n);
        double wi = ref_lin(g, i0, i1, m, 1);
        double gi = mfu_gemm(db, MFU_INTERP, m, k, n, &s);
        TALLY(fabs(gi - wi) <= 1e-12 * wi, "gemm interp (%g,%g,%g): %.15g vs %.15g", m, k, n, gi,
              wi);
        if (q < ng)
            TALLY(gi == g[q].f && s.n == 1 && s.line[0] == g[q].line, "gemm grid interp line %d",
                  g[q].line);
    }
    CHECK(tally_bad == 0, "%d of %d GEMM comparisons with the reference failed", tally_bad,
          tally_n);
}

static void test_real(void)
{
    const char *data = getenv("DATA");
    char dir[512], err[TAM_ERRLEN] = "";
    snprintf(dir, sizeof dir, "%s/mfu/h100", data && *data ? data : "../shared/data");
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("# t_mfu: %s absent, real-table checks skipped\n", dir);
        return;
    }
    mfu_db_t *db = NULL;
    int rc = mfu_load(dir, &db, err);
    CHECK(rc == TAM_OK, "load %s: %s", dir, err);
    if (rc != TAM_OK)
        return;
    test_real_spots(db);
    test_real_tables(db);
    test_real_gemm_scan(db, dir);
    mfu_free(db);
}

int main(void)
{
    RUN(test_gemm_fixture);
    RUN(test_gemm_ties);
    RUN(test_decode_fixture);
    RUN(test_prefill_fixture);
    RUN(test_select_fixture);
    RUN(test_bad_inputs);
    RUN(test_real);
    TEST_REPORT("t_mfu");
}
