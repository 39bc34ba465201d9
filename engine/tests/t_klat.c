/* engine/tests/t_klat.c - tests of the measured kernel-latency tables: loading, errors,
** the physics check, and every lookup rule of engine/klat.c.
**
** Invariant: every expected value on a fixture (engine/tests/fixtures/klat/)
** is derived by hand in a comment next to its check.  The real tables under
** $DATA/kernels/h100-sxm/aiconfigurator/vllm-0.24.0 ($DATA defaults to
** ../shared/data) are read again here by an independent CSV reader; when
** they are absent the test fails (it does not skip).
*/
#include "klat.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define FX "engine/tests/fixtures/klat/"
#define US 1e-6

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* src has exactly these lines (any order) with these weights (to 1e-12). */
static void check_src(const klat_src_t *s, int n, const int *lines, const double *w, int ext,
                      const char *suffix)
{
    CHECK(s->n == n, "src.n %d want %d", s->n, n);
    CHECK(s->extrapolated == ext, "src.extrapolated %d want %d", s->extrapolated, ext);
    CHECK(s->table && ends_with(s->table, suffix), "src.table %s want *%s",
          s->table ? s->table : "(null)", suffix);
    double sum = 0;
    for (int i = 0; i < s->n; i++)
        sum += s->weight[i];
    CHECK(fabs(sum - 1) <= 1e-12, "weights sum to %.17g", sum);
    for (int j = 0; j < n; j++) {
        int found = -1;
        for (int i = 0; i < s->n; i++)
            if (s->line[i] == lines[j])
                found = i;
        CHECK(found >= 0, "src lacks line %d", lines[j]);
        if (found >= 0)
            CHECK(fabs(s->weight[found] - w[j]) <= 1e-12, "src line %d weight %.17g want %.17g",
                  lines[j], s->weight[found], w[j]);
    }
}

#define SRC(s, ext, suf, ...)                                                                \
    do {                                                                                     \
        double a_[] = {__VA_ARGS__};                                                         \
        int n_ = (int)(sizeof a_ / sizeof *a_) / 2, l_[KLAT_SRC_MAX];                        \
        double w_[KLAT_SRC_MAX];                                                             \
        for (int i_ = 0; i_ < n_; i_++)                                                      \
            l_[i_] = (int)a_[2 * i_], w_[i_] = a_[2 * i_ + 1];                               \
        check_src(s, n_, l_, w_, ext, suf);                                                  \
    } while (0)

/* The fixtures' physics: P = 1e15 FLOP/s, B = 1e12 B/s, b = 1 byte, no L2,
** no tolerance.  With these, every GEMM fixture shape is memory-bound
** (t_roof = (kn + mk + mn) / 1e12 s) and a latency scales per byte. */
static const klat_phys_t PH_MEM = {1e15, 1e12, 1, 0, 0};

/* ------------------------------------------------------------------ GEMM */

static void test_gemm_grid_and_m(void)
{
    char err[TAM_ERRLEN] = "";
    klat_gemm_t *t = NULL;
    int rc = klat_gemm_load(FX "gemm.csv", &PH_MEM, &t, err);
    CHECK(rc == TAM_OK && t, "load: %d %s", rc, err);
    if (!t)
        return;
    const char *T = "klat/gemm.csv";
    CHECK(ends_with(klat_gemm_path(t), T), "path %s", klat_gemm_path(t));
    klat_src_t s;
    /* Rows (line: m,k,n -> us; header m,n,k so the file says n before k):
    ** 2: 1,1000,1000 5.01   3: 16,1000,1000 10   4: 32,1000,1000 20
    ** 5: 1,1000,4000 10.0125   6: 1,4000,1000 10.0125   7: 1,4000,4000 20.01
    ** 8: 1,1000,8000 16.018.  Efficiencies at m=1, t_roof = (kn+k+n)/1e12:
    ** (1000,1000) 1.002/5.01 = .2; (1000,4000) 4.005/10.0125 = .4;
    ** (4000,1000) .4; (4000,4000) 16.008/20.01 = .8; (1000,8000) 8.009/16.018 = .5;
    ** the pair (4000,8000) is missing. */

    /* Grid points: the row's latency_us * 1e-6, bit for bit, one source row. */
    static const double G[7][4] = {{1, 1000, 1000, 5.01},   {16, 1000, 1000, 10},
                                   {32, 1000, 1000, 20},    {1, 1000, 4000, 10.0125},
                                   {1, 4000, 1000, 10.0125}, {1, 4000, 4000, 20.01},
                                   {1, 1000, 8000, 16.018}};
    for (int i = 0; i < 7; i++) {
        double v = klat_gemm(t, G[i][0], G[i][1], G[i][2], &s);
        CHECK(v == G[i][3] * 1e-6, "grid line %d: %.17g want %.17g", i + 2, v, G[i][3] * 1e-6);
        SRC(&s, 0, T, i + 2, 1);
    }
    CHECK(klat_gemm(t, 16, 1000, 1000, NULL) == 10 * 1e-6, "src NULL");

    /* m between rows of a pair: m=16 -> 10 us, m=32 -> 20 us; m=24 is halfway: 15 us. */
    CHECK_NEAR(klat_gemm(t, 24, 1000, 1000, &s), 15 * US, 1e-12);
    SRC(&s, 0, T, 3, .5, 4, .5);
    /* m=8.5: (8.5-1)/(16-1) = .5 between 5.01 and 10 -> 7.505 us */
    CHECK_NEAR(klat_gemm(t, 8.5, 1000, 1000, &s), 7.505 * US, 1e-12);
    SRC(&s, 0, T, 2, .5, 3, .5);

    /* Above the largest m (32): scaled by t_roof.  t_roof(64,1000,1000) =
    ** max(2*64e6/1e15 = .128 us, (1e6 + 64e3 + 64e3)/1e12 = 1.128 us) = 1.128 us;
    ** t_roof(32) = (1e6 + 2*32e3)/1e12 = 1.064 us -> 20 * 1.128/1.064 us, flagged. */
    CHECK_NEAR(klat_gemm(t, 64, 1000, 1000, &s), 20 * 1.128 / 1.064 * US, 1e-12);
    SRC(&s, 1, T, 4, 1);
    /* m=1 on a pair whose smallest m is 1: measured, not flagged; m=0.5 is
    ** below the grid: the m=1 latency, flagged. */
    CHECK(klat_gemm(t, 1, 1000, 1000, &s) == 5.01 * 1e-6 && !s.extrapolated, "m=1");
    CHECK(klat_gemm(t, 0.5, 1000, 1000, &s) == 5.01 * 1e-6, "m=0.5 clamps");
    SRC(&s, 1, T, 2, 1);
    klat_gemm_free(t);

    /* A pair whose smallest m is 8 (rows 3: m=8 10 us, 2: m=16 20 us). */
    CHECK(klat_gemm_load(FX "gemm_m8.csv", &PH_MEM, &t, err) == TAM_OK, "%s", err);
    if (!t)
        return;
    /* m=4 is below the grid: the m=8 latency, 10 us, flagged */
    CHECK(klat_gemm(t, 4, 1000, 1000, &s) == 10 * 1e-6, "m=4 clamps to m=8");
    SRC(&s, 1, "gemm_m8.csv", 3, 1);
    /* m=12 halfway between 8 and 16: 15 us, not flagged */
    CHECK_NEAR(klat_gemm(t, 12, 1000, 1000, &s), 15 * US, 1e-12);
    SRC(&s, 0, "gemm_m8.csv", 3, .5, 2, .5);
    klat_gemm_free(t);
}

static void test_gemm_shape(void)
{
    char err[TAM_ERRLEN] = "";
    klat_gemm_t *t = NULL;
    CHECK(klat_gemm_load(FX "gemm.csv", &PH_MEM, &t, err) == TAM_OK, "%s", err);
    if (!t)
        return;
    const char *T = "klat/gemm.csv";
    klat_src_t s;
    /* (1, 2000, 2000): 2000 is halfway between 1000 and 4000 in log, for k and
    ** for n: the four corners weigh .25 each; e = (.2 + .4 + .4 + .8)/4 = .45;
    ** t_roof = (4e6 + 2000 + 2000)/1e12 = 4.004 us -> 4.004/.45 us. */
    CHECK_NEAR(klat_gemm(t, 1, 2000, 2000, &s), 4.004 / 0.45 * US, 1e-12);
    SRC(&s, 0, T, 2, .25, 5, .25, 6, .25, 7, .25);
    /* (1, 2000, 1000): n on the grid, k halfway: corners (1000,1000) .2 and
    ** (4000,1000) .4 -> e = .3; t_roof = (2e6 + 2000 + 1000)/1e12 = 2.003 us. */
    CHECK_NEAR(klat_gemm(t, 1, 2000, 1000, &s), 2.003 / 0.3 * US, 1e-12);
    SRC(&s, 0, T, 2, .5, 6, .5);
    /* Per byte in the memory-bound regime: with equal efficiencies a shape's
    ** latency is its bytes over the same e.  (1, 1000, 2000) between
    ** (1000,1000) .2 and (1000,4000) .4 -> e .3, t_roof (2e6+1000+2000)/1e12. */
    CHECK_NEAR(klat_gemm(t, 1, 1000, 2000, &s), 2.003 / 0.3 * US, 1e-12);

    /* A missing corner: (1, 2000, 4000*sqrt 2): k and n both halfway in log;
    ** corners (1000,4000) .4, (1000,8000) .5, (4000,4000) .8 and (4000,8000)
    ** missing: the three weights .25 renormalise to 1/3 -> e = 1.7/3;
    ** t_roof = (2000 n + 2000 + n)/1e12 with n = 4000 sqrt 2.  Not flagged. */
    double n2 = 4000 * sqrt(2.0);
    CHECK_NEAR(klat_gemm(t, 1, 2000, n2, &s), (2000 * n2 + 2000 + n2) * 1e-12 / (1.7 / 3),
               1e-12);
    SRC(&s, 0, T, 5, 1.0 / 3, 8, 1.0 / 3, 7, 1.0 / 3);
    /* No corner at all: (1, 4000, 8000) is the missing pair itself.  Nearest
    ** pair in (log k, log n): (4000,4000) at ln 2, before (1000,8000) at ln 4
    ** -> e = .8; t_roof = (32e6 + 4000 + 8000)/1e12 = 32.012 us -> 40.015 us, flagged. */
    CHECK_NEAR(klat_gemm(t, 1, 4000, 8000, &s), 40.015 * US, 1e-12);
    SRC(&s, 1, T, 7, 1);

    /* Outside the k grid: k=500 clamps to 1000 (efficiency .2 of (1000,1000));
    ** t_roof(1,500,1000) = (5e5 + 500 + 1000)/1e12 = .5015 us -> 2.5075 us, flagged. */
    CHECK_NEAR(klat_gemm(t, 1, 500, 1000, &s), 2.5075 * US, 1e-12);
    SRC(&s, 1, T, 2, 1);
    /* n=16000 clamps to 8000: e .5 of (1000,8000); t_roof = (16e6 + 1000 +
    ** 16000)/1e12 = 16.017 us -> 32.034 us, flagged. */
    CHECK_NEAR(klat_gemm(t, 1, 1000, 16000, &s), 32.034 * US, 1e-12);
    SRC(&s, 1, T, 8, 1);
    /* m above the grid off a pair: (64, 2000, 1000), k halfway in log.  Beyond
    ** its largest m a pair keeps that m's efficiency (lat scales with t_roof):
    ** corner (1000,1000): t_roof(32)/20 us = 1.064/20 = .0532; corner
    ** (4000,1000), measured at m=1 only: 4.005/10.0125 = .4.  e = (.0532 +
    ** .4)/2 = .2266; t_roof(64,2000,1000) = max(2*64*2e6/1e15 = .256 us,
    ** (2e6 + 128000 + 64000)/1e12 = 2.192 us) = 2.192 us; flagged. */
    CHECK_NEAR(klat_gemm(t, 64, 2000, 1000, &s), 2.192 / ((1.064 / 20 + 0.4) / 2) * US, 1e-12);
    SRC(&s, 1, T, 4, .5, 6, .5);
    klat_gemm_free(t);

    /* Compute-bound: P = 1e12, B = 1e15 (t_roof = 2mkn/1e12 for every
    ** fixture shape).  Rows (line: k,n,m -> us): 2: 100,100,2 .06;
    ** 3: 400,100,1 .1; 4: 100,100,1 .04.  e(100,100,m=1) = 2e4/1e12 s / .04 us
    ** = .02/.04 = .5; e(400,100,1) = .08/.1 = .8. */
    const klat_phys_t PH_CMP = {1e12, 1e15, 1, 0, 0};
    CHECK(klat_gemm_load(FX "gemm_compute.csv", &PH_CMP, &t, err) == TAM_OK, "%s", err);
    if (!t)
        return;
    /* (1, 200, 100): k halfway in log -> e = .65; t_roof = 2*200*100/1e12 =
    ** .04 us -> .04/.65 us (per FLOP). */
    CHECK_NEAR(klat_gemm(t, 1, 200, 100, &s), 0.04 / 0.65 * US, 1e-12);
    SRC(&s, 0, "gemm_compute.csv", 4, .5, 3, .5);
    /* m=8 above the largest m=2 of (100,100): .06 us * t_roof(8)/t_roof(2) =
    ** .06 * 8/2 = .24 us (compute-bound: t_roof is linear in m), flagged. */
    CHECK_NEAR(klat_gemm(t, 8, 100, 100, &s), 0.24 * US, 1e-12);
    SRC(&s, 1, "gemm_compute.csv", 2, 1);
    klat_gemm_free(t);
}

/* ------------------------------------------------------------- attention */

static void test_decode(void)
{
    char err[TAM_ERRLEN] = "";
    klat_attn_t *t = NULL;
    const klat_phys_t ph = {1e15, 1e12, 2, 0, 0};
    CHECK(klat_attn_load(FX "decode.csv", 0, &ph, &t, err) == TAM_OK, "%s", err);
    if (!t)
        return;
    const char *T = "klat/decode.csv";
    CHECK(ends_with(klat_attn_path(t), T), "path");
    klat_src_t s;
    /* Rows (line: batch,kv -> us), heads 8 / kv_heads 1: 2: 1,100 10  3: 1,200 12
    ** 4: 1,400 16  5: 4,200 30  6: 4,100 20 (triangular: batch 4 stops at 200);
    ** heads 16 / kv_heads 2: 7: 1,100 5. */
    CHECK(klat_attn_has(t, 8, 1) && klat_attn_has(t, 16, 2), "has");
    CHECK(!klat_attn_has(t, 8, 2) && !klat_attn_has(t, 32, 32) && !klat_attn_has(t, 16, 1),
          "has: missing head pairs");
    static const double G[6][4] = {{1, 100, 10, 2}, {1, 200, 12, 3}, {1, 400, 16, 4},
                                   {4, 200, 30, 5}, {4, 100, 20, 6}};
    for (int i = 0; i < 5; i++) {
        CHECK(klat_attn(t, 8, 1, G[i][0], G[i][1], &s) == G[i][2] * 1e-6, "grid line %g",
              G[i][3]);
        SRC(&s, 0, T, G[i][3], 1);
    }
    CHECK(klat_attn(t, 16, 2, 1, 100, &s) == 5 * 1e-6, "other head pair");
    SRC(&s, 0, T, 7, 1);

    /* Bilinear inside the cell: (2.5, 150): batch weight (2.5-1)/3 = .5; batch
    ** 1 at 150 = 11, batch 4 at 150 = 25 -> 18 us. */
    CHECK_NEAR(klat_attn(t, 8, 1, 2.5, 150, &s), 18 * US, 1e-12);
    SRC(&s, 0, T, 2, .25, 3, .25, 6, .25, 5, .25);
    /* (1, 300): halfway 200..400 on batch 1: 14 us */
    CHECK_NEAR(klat_attn(t, 8, 1, 1, 300, &s), 14 * US, 1e-12);
    SRC(&s, 0, T, 3, .5, 4, .5);

    /* Triangular fallback: batch 4 has no kv 400.  (4, 400): from its last
    ** point (4,200) 30 us, times kv 400/200 -> 60 us, flagged. */
    CHECK_NEAR(klat_attn(t, 8, 1, 4, 400, &s), 60 * US, 1e-12);
    SRC(&s, 1, T, 5, 1);
    /* (2.5, 300): batch 1 at 300 = 14 (measured); batch 4 at 300 = 30 * 300/200
    ** = 45 (the missing corner); halfway -> 29.5 us, flagged. */
    CHECK_NEAR(klat_attn(t, 8, 1, 2.5, 300, &s), 29.5 * US, 1e-12);
    SRC(&s, 1, T, 3, .25, 4, .25, 5, .5);
    /* Beyond the largest batch: (8, 150): batch 4 at 150 = 25, times 8/4 ->
    ** 50 us, flagged; (8, 400): 60 * 2 = 120 us. */
    CHECK_NEAR(klat_attn(t, 8, 1, 8, 150, &s), 50 * US, 1e-12);
    SRC(&s, 1, T, 6, .5, 5, .5);
    CHECK_NEAR(klat_attn(t, 8, 1, 8, 400, &s), 120 * US, 1e-12);
    SRC(&s, 1, T, 5, 1);
    /* The other pair has only (1,100) 5 us: (3, 100) -> 5 * 3 = 15 us, flagged;
    ** (1, 300) -> 5 * 3 = 15 us, flagged. */
    CHECK_NEAR(klat_attn(t, 16, 2, 3, 100, &s), 15 * US, 1e-12);
    CHECK(s.extrapolated, "(3,100) flagged");
    CHECK_NEAR(klat_attn(t, 16, 2, 1, 300, &s), 15 * US, 1e-12);
    CHECK(s.extrapolated, "(1,300) flagged");

    /* Below the grid: the launch floor.  (1, 50): kv 50 < 100 but >= 1 -> the
    ** (1,100) latency, 10 us, not flagged; (2.5, 50): 10 and 20 -> 15 us, not
    ** flagged; below 1 (batch .5 or kv .5): 10 us, flagged. */
    CHECK(klat_attn(t, 8, 1, 1, 50, &s) == 10 * 1e-6, "(1,50)");
    SRC(&s, 0, T, 2, 1);
    CHECK_NEAR(klat_attn(t, 8, 1, 2.5, 50, &s), 15 * US, 1e-12);
    SRC(&s, 0, T, 2, .5, 6, .5);
    CHECK(klat_attn(t, 8, 1, 0.5, 100, &s) == 10 * 1e-6, "(.5,100)");
    SRC(&s, 1, T, 2, 1);
    CHECK(klat_attn(t, 8, 1, 1, 0.5, &s) == 10 * 1e-6, "(1,.5)");
    SRC(&s, 1, T, 2, 1);
    klat_attn_free(t);
}

static void test_prefill(void)
{
    char err[TAM_ERRLEN] = "";
    klat_attn_t *t = NULL;
    const klat_phys_t ph = {1e15, 1e12, 2, 0, 0};
    CHECK(klat_attn_load(FX "prefill.csv", 1, &ph, &t, err) == TAM_OK, "%s", err);
    if (!t)
        return;
    const char *T = "klat/prefill.csv";
    klat_src_t s;
    /* Rows (line: batch,seq -> us), heads 4 / kv_heads 4 (columns reordered in
    ** the file): 2: 1,16 10  3: 1,32 20  4: 1,64 40  5: 2,16 15  6: 2,32 30. */
    CHECK(klat_attn_has(t, 4, 4) && !klat_attn_has(t, 4, 1), "has");
    CHECK(klat_attn(t, 4, 4, 2, 32, &s) == 30 * 1e-6, "grid (2,32)");
    SRC(&s, 0, T, 6, 1);
    /* (1.5, 24): batch 1 at 24 = 15, batch 2 at 24 = 22.5; halfway 18.75 us. */
    CHECK_NEAR(klat_attn(t, 4, 4, 1.5, 24, &s), 18.75 * US, 1e-12);
    SRC(&s, 0, T, 2, .25, 3, .25, 5, .25, 6, .25);
    /* Triangular fallback, causal FLOPs ~ seq^2: (2, 64) = 30 * (64/32)^2 = 120 us. */
    CHECK_NEAR(klat_attn(t, 4, 4, 2, 64, &s), 120 * US, 1e-12);
    SRC(&s, 1, T, 6, 1);
    /* (1.5, 48): batch 1 at 48 = 30; batch 2 at 48 = 30 * (48/32)^2 = 67.5;
    ** halfway 48.75 us, flagged. */
    CHECK_NEAR(klat_attn(t, 4, 4, 1.5, 48, &s), 48.75 * US, 1e-12);
    SRC(&s, 1, T, 3, .25, 4, .25, 6, .5);
    /* Beyond the batch grid, linear in batch: (4, 32) = 30 * 4/2 = 60 us. */
    CHECK_NEAR(klat_attn(t, 4, 4, 4, 32, &s), 60 * US, 1e-12);
    SRC(&s, 1, T, 6, 1);
    /* Launch floor: (1, 8) -> 10 us, not flagged. */
    CHECK(klat_attn(t, 4, 4, 1, 8, &s) == 10 * 1e-6 && !s.extrapolated, "(1,8)");
    klat_attn_free(t);
}

/* ------------------------------------------------------------------- MoE */

static void test_moe(void)
{
    char err[TAM_ERRLEN] = "";
    klat_moe_t *t = NULL;
    const klat_phys_t ph = {1e15, 1e12, 2, 0, 0};
    /* Shape: hidden 1000, intermediate 2000, 4 experts, top-2.  EP-1 rows:
    ** min bytes 2 * 3 * 1000 * 2000/tp * 2 = 24e6/tp: at most 24e6/90 us =
    ** .27 TB/s; FLOPs at most 2*16*2*3*1000*2000 / 250 us = 1.5 TFLOP/s. */
    const klat_moe_shape_t shape = {1000, 2000, 4, 2};
    CHECK(klat_moe_load_shape(FX "moe.csv", &ph, &shape, &t, err) == TAM_OK, "%s", err);
    if (!t)
        return;
    const char *T = "klat/moe.csv";
    CHECK(ends_with(klat_moe_path(t), T), "path");
    klat_src_t s;
    /* Rows (line: tokens,tp,ep,dist -> us): 2: 1,1,1,balanced 100  3: 4,.. 130
    ** 4: 16,.. 250  5: 1,2,1,balanced 60  6: 1,1,1,power_law_1.2 110
    ** 7: 16,1,1,power_law_1.2 90  8: 1,1,2,balanced 70. */
    CHECK(klat_moe_has(t, 1, 1, "balanced") && klat_moe_has(t, 1, 1, "power_law_1.2") &&
              klat_moe_has(t, 1, 2, "balanced"),
          "has");
    CHECK(!klat_moe_has(t, 1, 1, "uniform") && !klat_moe_has(t, 2, 2, "balanced") &&
              !klat_moe_has(t, 2, 1, "power_law_1.2"),
          "has: missing keys");
    CHECK(klat_moe(t, 1, 1, "balanced", 4, &s) == 130 * 1e-6, "grid 4");
    SRC(&s, 0, T, 3, 1);
    /* 10 tokens: (10-4)/(16-4) = .5 between 130 and 250 -> 190 us */
    CHECK_NEAR(klat_moe(t, 1, 1, "balanced", 10, &s), 190 * US, 1e-12);
    SRC(&s, 0, T, 3, .5, 4, .5);
    /* 32 tokens: slope (250-130)/12 = 10 us/token; 250 + 16*10 = 410 us,
    ** flagged; weights: u = 16/12 = 4/3 -> line 4: 7/3, line 3: -4/3. */
    CHECK_NEAR(klat_moe(t, 1, 1, "balanced", 32, &s), 410 * US, 1e-12);
    SRC(&s, 1, T, 4, 7.0 / 3, 3, -4.0 / 3);
    /* Below the smallest count: .5 -> 100 us, flagged */
    CHECK(klat_moe(t, 1, 1, "balanced", 0.5, &s) == 100 * 1e-6, "clamp below");
    SRC(&s, 1, T, 2, 1);
    /* power law: 8.5 tokens = (8.5-1)/15 = .5 between 110 and 90 -> 100 us;
    ** 32 tokens: the last segment falls, so the line would go below 90: 90 us. */
    CHECK_NEAR(klat_moe(t, 1, 1, "power_law_1.2", 8.5, &s), 100 * US, 1e-12);
    SRC(&s, 0, T, 6, .5, 7, .5);
    CHECK(klat_moe(t, 1, 1, "power_law_1.2", 32, &s) == 90 * 1e-6, "falling tail");
    SRC(&s, 1, T, 7, 1);
    /* one-row key (tp 2): constant 60 us, flagged above it */
    CHECK(klat_moe(t, 2, 1, "balanced", 4, &s) == 60 * 1e-6, "one row");
    SRC(&s, 1, T, 5, 1);
    CHECK(klat_moe(t, 1, 2, "balanced", 1, NULL) == 70 * 1e-6, "ep 2");
    klat_moe_free(t);
}

/* ---------------------------------------------------------------- errors */

static void expect_err(int rc, int want_rc, const char *err, const char *a, const char *b,
                       const char *c)
{
    CHECK(rc == want_rc, "rc %d want %d (%s)", rc, want_rc, err);
    CHECK(strstr(err, a), "'%s' not in: %s", a, err);
    if (b)
        CHECK(strstr(err, b), "'%s' not in: %s", b, err);
    if (c)
        CHECK(strstr(err, c), "'%s' not in: %s", c, err);
}

static void test_errors(void)
{
    char err[TAM_ERRLEN];
    klat_gemm_t *g = NULL;
    klat_attn_t *a = NULL;
    klat_moe_t *m = NULL;
    int rc;
#define GLOAD(f) (err[0] = '\0', klat_gemm_load(FX f, &PH_MEM, &g, err))
    /* the last row is cut after "16,1000,10": 3 of 4 fields, latency_us missing */
    rc = GLOAD("bad_trunc.csv");
    expect_err(rc, TAM_EPARSE, err, "bad_trunc.csv:3:", "ragged row", "column 'latency_us'");
    CHECK(g == NULL, "out NULL on error");
    rc = GLOAD("bad_ragged.csv");
    expect_err(rc, TAM_EPARSE, err, "bad_ragged.csv:3:", "5 fields", "field 'x' has no column");
    rc = GLOAD("bad_nan.csv");
    expect_err(rc, TAM_EFIELD, err, "bad_nan.csv:3:", "column 'latency_us'", "'nan'");
    rc = GLOAD("bad_neg.csv");
    expect_err(rc, TAM_EFIELD, err, "bad_neg.csv:3:", "column 'latency_us'", "'-3'");
    rc = GLOAD("bad_zero.csv");
    expect_err(rc, TAM_EFIELD, err, "bad_zero.csv:3:", "column 'latency_us'", "'0' is not");
    rc = GLOAD("bad_nocol.csv");
    expect_err(rc, TAM_EFIELD, err, "bad_nocol.csv:1:", "column 'n'", "missing");
    /* lines 2 and 4 are both m=1 k=1000 n=1000 */
    rc = GLOAD("bad_dup.csv");
    expect_err(rc, TAM_EFIELD, err, "bad_dup.csv:4:", "duplicate grid point m=1 k=1000 n=1000",
               "line 2");
    rc = GLOAD("bad_empty.csv");
    expect_err(rc, TAM_EPARSE, err, "bad_empty.csv:1:", "empty", NULL);
    rc = GLOAD("bad_hdronly.csv");
    expect_err(rc, TAM_EPARSE, err, "bad_hdronly.csv:1:", "no data rows", NULL);
    rc = GLOAD("bad_key.csv");
    expect_err(rc, TAM_EFIELD, err, "bad_key.csv:2:", "column 'm'", "'0'");
    rc = GLOAD("no_such_file.csv");
    expect_err(rc, TAM_EIO, err, "no_such_file.csv", "cannot open", NULL);
    /* decode tables are refused as GEMM tables: no m column */
    rc = GLOAD("decode.csv");
    expect_err(rc, TAM_EFIELD, err, "decode.csv:1:", "column 'm'", NULL);
    CHECK(g == NULL, "still NULL");

    /* physics arguments */
    klat_phys_t bad = PH_MEM;
    bad.hbm_bw = 0;
    rc = klat_gemm_load(FX "gemm.csv", &bad, &g, err);
    expect_err(rc, TAM_EFIELD, err, "gemm.csv", "hbm_bw", NULL);
    rc = klat_gemm_load(FX "gemm.csv", NULL, &g, err);
    expect_err(rc, TAM_EFIELD, err, "gemm.csv", "physics", NULL);

    rc = klat_attn_load(FX "bad_heads.csv", 0, &PH_MEM, &a, err);
    expect_err(rc, TAM_EFIELD, err, "bad_heads.csv:2:", "column 'num_heads'", "'4.5'");
    rc = klat_attn_load(FX "bad_attn_dup.csv", 0, &PH_MEM, &a, err);
    expect_err(rc, TAM_EFIELD, err, "bad_attn_dup.csv:4:", "duplicate grid point", "line 2");
    /* a decode table read as prefill lacks seq_len */
    rc = klat_attn_load(FX "decode.csv", 1, &PH_MEM, &a, err);
    expect_err(rc, TAM_EFIELD, err, "decode.csv:1:", "column 'seq_len'", NULL);
    CHECK(a == NULL, "attn NULL");
    rc = klat_moe_load(FX "bad_moe_dist.csv", &PH_MEM, &m, err);
    expect_err(rc, TAM_EFIELD, err, "bad_moe_dist.csv:2:", "column 'distribution'", "empty");
    rc = klat_moe_load(FX "gemm.csv", &PH_MEM, &m, err);
    expect_err(rc, TAM_EFIELD, err, "gemm.csv:1:", "column 'num_tokens'", NULL);
    CHECK(m == NULL, "moe NULL");
#undef GLOAD

    /* CRLF, a BOM and blank lines are accepted: rows on lines 3, 4 and 6. */
    rc = klat_gemm_load(FX "gemm_crlf.csv", &PH_MEM, &g, err);
    CHECK(rc == TAM_OK, "crlf: %s", err);
    if (g) {
        klat_src_t s;
        CHECK(klat_gemm(g, 32, 1000, 1000, &s) == 20 * 1e-6 && s.n == 1 && s.line[0] == 6,
              "crlf");
        CHECK_NEAR(klat_gemm(g, 24, 1000, 1000, NULL), 15 * US, 1e-12);
        klat_gemm_free(g);
        g = NULL;
    }
}

static void test_physics(void)
{
    char err[TAM_ERRLEN];
    klat_gemm_t *g = NULL;
    klat_attn_t *a = NULL;
    klat_moe_t *m = NULL;
    klat_phys_t ph = PH_MEM;
    /* gemm_flops.csv line 3: m=k=n=1000 in 1 us: 2e9 FLOP / 1e-6 s = 2000 TFLOP/s,
    ** above the 1000 TFLOP/s peak. */
    int rc = klat_gemm_load(FX "gemm_flops.csv", &ph, &g, err);
    expect_err(rc, TAM_ECHECK, err, "gemm_flops.csv:3: m=1000 k=1000 n=1000 latency_us=1",
               "implies 2000.0 TFLOP/s", "above the dense peak 1000.0 TFLOP/s");
    ph.tolerance = 0.5; /* 2000 > 1500: still refused, and the message says why */
    rc = klat_gemm_load(FX "gemm_flops.csv", &ph, &g, err);
    expect_err(rc, TAM_ECHECK, err, "gemm_flops.csv:3:", "2000.0 TFLOP/s", "tolerance 50%");
    ph.tolerance = 1.01; /* 2000 <= 2010 */
    rc = klat_gemm_load(FX "gemm_flops.csv", &ph, &g, err);
    CHECK(rc == TAM_OK, "tolerance 1.01: %s", err);
    klat_gemm_free(g);
    g = NULL;

    /* gemm_bytes.csv line 2: k=n=4000, 1 byte: 16e6 B / 10 us = 1.60 TB/s > 1.00. */
    ph = PH_MEM;
    rc = klat_gemm_load(FX "gemm_bytes.csv", &ph, &g, err);
    expect_err(rc, TAM_ECHECK, err, "gemm_bytes.csv:2: m=1 k=4000 n=4000 latency_us=10",
               "implies 1.60 TB/s of weight traffic", "above the HBM bandwidth 1.00 TB/s");
    ph.l2_bytes = 2e7; /* 16e6 bytes fit in L2: no bandwidth check */
    rc = klat_gemm_load(FX "gemm_bytes.csv", &ph, &g, err);
    CHECK(rc == TAM_OK, "L2: %s", err);
    klat_gemm_free(g);
    g = NULL;
    ph.l2_bytes = 0, ph.tolerance = 0.7; /* 1.6 <= 1.7 */
    CHECK(klat_gemm_load(FX "gemm_bytes.csv", &ph, &g, err) == TAM_OK, "tol .7: %s", err);
    klat_gemm_free(g);
    g = NULL;

    /* decode_bytes.csv line 3: KV 2*1*128*2*1000*1 = 512000 B in .1 us = 5.12 TB/s;
    ** its FLOPs 4*8*128*1000 = 4.096e6 / .1 us = 41 TFLOP/s pass. */
    const klat_phys_t pa = {1e15, 1e12, 2, 0, 0};
    rc = klat_attn_load(FX "decode_bytes.csv", 0, &pa, &a, err);
    expect_err(rc, TAM_ECHECK, err, "decode_bytes.csv:3:", "implies 5.12 TB/s of KV reads",
               "1.00 TB/s");
    /* prefill_flops.csv line 2: 4*8*128*1*1000*1001/2 = 2.050048e9 FLOP in 1 us
    ** = 2050.0 TFLOP/s */
    rc = klat_attn_load(FX "prefill_flops.csv", 1, &pa, &a, err);
    expect_err(rc, TAM_ECHECK, err, "prefill_flops.csv:2:", "implies 2050.0 TFLOP/s",
               "above the dense peak 1000.0");
    /* the same row read as decode: 4*8*128*1000*1 = 4.1e6 FLOP / 1 us, fine; KV
    ** 512000 B / 1 us = .51 TB/s, fine. */
    rc = klat_attn_load(FX "prefill_flops.csv", 0, &pa, &a, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "kv_len"), "no kv_len: %s", err);

    /* MoE: line 3 (EP 1, top-2 of hidden 1000 x intermediate 2000 x 3
    ** matrices, 2 bytes): >= 24e6 B in 10 us = 2.40 TB/s.  Line 2 (EP 2, 1 us)
    ** is not checked.  Without a shape nothing is checked. */
    const klat_moe_shape_t shape = {1000, 2000, 4, 2};
    rc = klat_moe_load_shape(FX "moe_bytes.csv", &pa, &shape, &m, err);
    expect_err(rc, TAM_ECHECK, err, "moe_bytes.csv:3:", "implies 2.40 TB/s of expert weights",
               NULL);
    rc = klat_moe_load(FX "moe_bytes.csv", &pa, &m, err);
    CHECK(rc == TAM_OK, "no shape: %s", err);
    klat_moe_free(m);
    m = NULL;
    const klat_moe_shape_t bshape = {1000, 2000, 2, 4};
    rc = klat_moe_load_shape(FX "moe.csv", &pa, &bshape, &m, err);
    expect_err(rc, TAM_EFIELD, err, "moe.csv", "topk", NULL);
}

/* ------------------------------------------------------------ real data */

#define MAXF 8
typedef struct {
    double v[MAXF];
    char s[40];
    int line;
} rrow_t;

/* Independent reader: the named numeric columns (and, where text is
** non-NULL, one text column) of every data row.  Returns the row count, or
** -1.  *out is malloc'ed. */
static int read_real(const char *path, const char *const *names, int nn, const char *text,
                     rrow_t **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    int idx[MAXF], tidx = -1, n = 0, cap = 0, lineno = 1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    {
        line[strcspn(line, "\r\n")] = '\0';
        char *save, *tok = strtok_r(line, ",", &save);
        for (int i = 0; i < nn; i++)
            idx[i] = -1;
        for (int c = 0; tok; c++, tok = strtok_r(NULL, ",", &save)) {
            for (int i = 0; i < nn; i++)
                if (!strcmp(tok, names[i]))
                    idx[i] = c;
            if (text && !strcmp(tok, text))
                tidx = c;
        }
    }
    rrow_t *r = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            r = realloc(r, sizeof *r * (size_t)cap);
            if (!r)
                abort();
        }
        memset(&r[n], 0, sizeof r[n]);
        r[n].line = lineno;
        char *save, *tok = strtok_r(line, ",", &save);
        for (int c = 0; tok; c++, tok = strtok_r(NULL, ",", &save)) {
            for (int i = 0; i < nn; i++)
                if (idx[i] == c)
                    r[n].v[i] = atof(tok);
            if (c == tidx)
                snprintf(r[n].s, sizeof r[n].s, "%s", tok);
        }
        n++;
    }
    fclose(f);
    *out = r;
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *data_dir(void)
{
    const char *d = getenv("DATA");
    return d && *d ? d : "../shared/data";
}

#define KDIR "/kernels/h100-sxm/aiconfigurator/vllm-0.24.0/"

/* The bf16 H100 figures of the brief: P 989.5e12, B 3.35e12, b 2, L2 50 MiB. */
static const klat_phys_t PH_BF16 = KLAT_PHYS_H100_BF16;

/* test_real_gemm: rows breaking the physics at each tolerance (the loader
** stops at the first; this counts them all); returns those at tolerance 0. */
static int real_gemm_physics(const rrow_t *r, int n)
{
    static const double tols[4] = {0, 0.03, 0.05, 0.10};
    double maxf = 0, maxb = 0;
    int bad[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        double m = r[i].v[0], k = r[i].v[1], nn = r[i].v[2], lat = r[i].v[3] * 1e-6;
        double f = 2 * m * k * nn / lat / PH_BF16.peak_flops;
        double w = k * nn * 2 > PH_BF16.l2_bytes ? k * nn * 2 / lat / PH_BF16.hbm_bw : 0;
        maxf = fmax(maxf, f), maxb = fmax(maxb, w);
        for (int j = 0; j < 4; j++)
            bad[j] += f > 1 + tols[j] || w > 1 + tols[j];
    }
    printf("# t_klat: gemm.csv rows breaking physics at tolerance 0/3/5/10%%: %d %d %d %d; "
           "highest: %.3f of the FLOP peak, %.3f of HBM\n",
           bad[0], bad[1], bad[2], bad[3], maxf, maxb);
    return bad[0];
}

/* test_real_gemm: every grid point returns its own latency, from its own line. */
static void real_gemm_grid(const klat_gemm_t *t, const rrow_t *r, int n)
{
    klat_src_t s;
    int nbad = 0;
    for (int i = 0; i < n; i++) {
        double v = klat_gemm(t, r[i].v[0], r[i].v[1], r[i].v[2], &s);
        int ok = v == r[i].v[3] * 1e-6 && s.n == 1 && s.line[0] == r[i].line && !s.extrapolated;
        if (!ok && nbad++ < 5)
            CHECK(ok, "grid line %d: %.17g want %.17g", r[i].line, v, r[i].v[3] * 1e-6);
    }
    CHECK(nbad == 0, "%d of %d grid points differ", nbad, n);

}

/* test_real_gemm: the README's figures and lookups between (k, n) pairs. */
static void real_gemm_off_grid(const klat_gemm_t *t)
{
    klat_src_t s;
    /* README sanity figures: Llama-2-7B QKV (k 4096, n 12288) at m = 1 is 35.6 us
    ** (the file: 35.592), at m = 4096 519.8 us. */
    CHECK(klat_gemm(t, 1, 4096, 12288, NULL) == 35.592 * 1e-6, "QKV m=1");
    CHECK_NEAR(klat_gemm(t, 4096, 4096, 12288, NULL), 519.8e-6, 5e-4);

    /* Off the grid: Llama-2-7B gate/up (k 4096, n 11008, between 10240 and
    ** 12288).  The answer is a weighted harmonic mean of the two corners'
    ** latencies each scaled by t_roof(query)/t_roof(corner), so it lies between
    ** those scaled latencies; and at m = 1 (memory-bound, bytes grow with n) it
    ** lies between the two corners' own latencies. */
    static const double ms[] = {1, 7, 64, 200, 1000, 4096, 5000, 32768, 65536};
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
        double m = ms[i], lo = 1e9, hi = 0;
        static const double ns[2] = {10240, 12288};
        for (int c = 0; c < 2; c++) {
            double lc = klat_gemm(t, m, 4096, ns[c], NULL);
            double tr = fmax(2 * m * 4096 * 11008 / 989.5e12,
                             2 * (4096.0 * 11008 + m * 4096 + m * 11008) / 3.35e12);
            double tc = fmax(2 * m * 4096 * ns[c] / 989.5e12,
                             2 * (4096.0 * ns[c] + m * 4096 + m * ns[c]) / 3.35e12);
            lo = fmin(lo, lc * tr / tc), hi = fmax(hi, lc * tr / tc);
        }
        double v = klat_gemm(t, m, 4096, 11008, &s);
        CHECK(v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12), "m=%g: %g not in [%g, %g]", m, v,
              lo, hi);
        CHECK(s.extrapolated == (m > 32768), "m=%g flag %d", m, s.extrapolated);
    }
    double a1 = klat_gemm(t, 1, 4096, 10240, NULL), b1 = klat_gemm(t, 1, 4096, 12288, NULL);
    double v1 = klat_gemm(t, 1, 4096, 11008, NULL);
    CHECK(v1 > a1 && v1 < b1, "m=1 n=11008: %g not in (%g, %g)", v1, a1, b1);
}

/* test_real_gemm: lookups do not fall as m grows where the data does not. */
static void real_gemm_monotone(const klat_gemm_t *t, const rrow_t *r, int n)
{
    klat_src_t s;
    /* Non-decreasing in m where the data is: between consecutive measured m of
    ** a pair whose latencies do not fall, every lookup is between them and
    ** lookups do not fall.  (The data itself is not monotone everywhere: the
    ** count of falling adjacent pairs is printed.) */
    int falls = 0;
    for (int i = 1; i < n; i++)
        falls += r[i].v[1] == r[i - 1].v[1] && r[i].v[2] == r[i - 1].v[2] &&
                 r[i].v[0] > r[i - 1].v[0] && r[i].v[3] < r[i - 1].v[3];
    printf("# t_klat: gemm.csv: %d adjacent m pairs (file order) where latency falls as m "
           "grows\n",
           falls);
    static const double shapes[][2] = {{4096, 12288}, {4096, 4096}, {8192, 28672}, {5120, 15360}};
    int nmono = 0, nmono_bad = 0;
    for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
        double k = shapes[sh][0], nn = shapes[sh][1], prev_m = 0, prev = 0;
        int have = 0;
        for (int i = 0; i < n; i++) {
            if (r[i].v[1] != k || r[i].v[2] != nn)
                continue;
            if (have && r[i].v[0] > prev_m && r[i].v[3] * 1e-6 >= prev) {
                double last = prev;
                for (int q = 1; q <= 8; q++) {
                    double m = prev_m + (r[i].v[0] - prev_m) * q / 8;
                    double v = klat_gemm(t, m, k, nn, NULL);
                    nmono++;
                    nmono_bad += v < last;
                    last = v;
                }
            }
            have = 1, prev_m = r[i].v[0], prev = r[i].v[3] * 1e-6;
        }
        /* beyond the grid the latency grows with t_roof */
        double v0 = klat_gemm(t, 32768, k, nn, NULL), v1b = klat_gemm(t, 65536, k, nn, &s);
        CHECK(v1b > v0 && s.extrapolated, "k %g n %g: m beyond the grid", k, nn);
    }
    CHECK(nmono > 100 && nmono_bad == 0, "%d of %d monotone-segment lookups fall", nmono_bad,
          nmono);
}

/* test_real_gemm: random in-grid queries are finite and never flagged. */
static void real_gemm_in_grid(const klat_gemm_t *t)
{
    klat_src_t s;
    /* In-grid queries are never flagged (the only missing pair, (65536,65536),
    ** is covered by renormalisation except at the pair itself), and are finite. */
    unsigned x = 12345;
    int nflag = 0, nnan = 0;
    for (int q = 0; q < 20000; q++) {
        x = x * 1103515245u + 12345u;
        double m = 1 + (x >> 8) % 32768;
        x = x * 1103515245u + 12345u;
        double k = 32 * exp((double)(x >> 8) / 16777216.0 * log(2048.0));
        x = x * 1103515245u + 12345u;
        double nn = 32 * exp((double)(x >> 8) / 16777216.0 * log(2047.9));
        double v = klat_gemm(t, m, k, nn, &s);
        nnan += !(isfinite(v) && v > 0);
        nflag += s.extrapolated;
    }
    CHECK(nflag == 0 && nnan == 0, "in-grid random queries: %d flagged, %d not finite > 0",
          nflag, nnan);
    /* the missing pair itself: served by its nearest pair, flagged */
    double vm = klat_gemm(t, 64, 65536, 65536, &s);
    CHECK(isfinite(vm) && vm > 0 && s.extrapolated && s.n >= 1, "missing pair");
}

/* test_real_gemm: lookups per second (printed, not asserted). */
static void real_gemm_speed(const klat_gemm_t *t)
{
    double sum = 0;
    double t0 = now_s();
    for (int q = 0; q < 1000000; q++)
        sum += klat_gemm(t, 1 + q % 5000, 4096 + q % 777, 11008, NULL);
    double dt = now_s() - t0;
    printf("# t_klat: 1e6 off-grid GEMM lookups in %.0f ms (%.0f ns each; sum %g)\n", dt * 1e3,
           dt * 1e3, sum);
}

static void test_real_gemm(void)
{
    char path[1024], err[TAM_ERRLEN] = "";
    snprintf(path, sizeof path, "%s" KDIR "gemm.csv", data_dir());
    static const char *const cols[] = {"m", "k", "n", "latency_us"};
    rrow_t *r;
    int n = read_real(path, cols, 4, NULL, &r);
    CHECK(n == 35742, "%s: %d rows (DATA=%s: the real tables are required)", path, n,
          data_dir());
    if (n <= 0)
        return;

    int bad0 = real_gemm_physics(r, n);
    /* the best of three loads, so that a busy machine does not fail the test */
    klat_gemm_t *t = NULL;
    int rc = TAM_OK;
    double t0, dt = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        klat_gemm_free(t);
        t = NULL;
        t0 = now_s();
        rc = klat_gemm_load(path, &PH_BF16, &t, err);
        dt = fmin(dt, now_s() - t0);
    }
    CHECK((rc == TAM_OK) == (bad0 == 0), "load at tolerance 0: %d %s (%d bad rows)", rc, err,
          bad0);
    CHECK(rc == TAM_OK, "the real bf16 GEMM table loads at tolerance 0: %s", err);
    printf("# t_klat: gemm.csv (%d rows) loaded in %.1f ms\n", n, dt * 1e3);
#if defined(__SANITIZE_ADDRESS__)
    CHECK(dt < 1.0, "load took %.3f s under ASan", dt);
#else
    CHECK(dt < 0.1, "load took %.3f s, want < 100 ms", dt);
#endif
    if (!t) {
        free(r);
        return;
    }
    real_gemm_grid(t, r, n);
    real_gemm_off_grid(t);
    real_gemm_monotone(t, r, n);
    real_gemm_in_grid(t);
    real_gemm_speed(t);
    klat_gemm_free(t);
    free(r);
}

/* The FP8 MFU table read as a GEMM latency table. */
static void test_real_fp8(void)
{
    char path[1024], err[TAM_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/mfu/h100/gemm/data.csv", data_dir());
    static const char *const cols[] = {"m", "k", "n", "latency_us"};
    rrow_t *r;
    int n = read_real(path, cols, 4, NULL, &r);
    CHECK(n == 112, "%s: %d rows", path, n);
    int nf = 0, nb = 0;
    double maxf = 0, maxb = 0;
    for (int i = 0; i < n; i++) { /* under the bf16 figures */
        double m = r[i].v[0], k = r[i].v[1], nn = r[i].v[2], lat = r[i].v[3] * 1e-6;
        double f = 2 * m * k * nn / lat / PH_BF16.peak_flops;
        double w = k * nn * 2 > PH_BF16.l2_bytes ? k * nn * 2 / lat / PH_BF16.hbm_bw : 0;
        nf += f > 1, nb += w > 1;
        maxf = fmax(maxf, f), maxb = fmax(maxb, w);
    }
    printf("# t_klat: FP8 table under bf16 physics: %d of %d rows above the FLOP peak (up to "
           "%.3f), %d above HBM (up to %.3f)\n",
           nf, n, maxf, nb, maxb);
    CHECK(nf + nb > 0, "the FP8 table breaks bf16 physics");
    free(r);
    klat_gemm_t *t = NULL;
    int rc = klat_gemm_load(path, &PH_BF16, &t, err);
    CHECK(rc == TAM_ECHECK && t == NULL, "FP8 table as bf16: %d %s", rc, err);
    CHECK(strstr(err, "data.csv:") && strstr(err, "implies"), "message: %s", err);
    printf("# t_klat: FP8 table as bf16: %s\n", err);
    const klat_phys_t fp8 = {1979e12, 3.35e12, 1, 50.0 * 1024 * 1024, 0};
    rc = klat_gemm_load(path, &fp8, &t, err);
    CHECK(rc == TAM_OK && t, "FP8 table as FP8: %d %s", rc, err);
    if (t)
        CHECK(klat_gemm(t, 16, 2048, 6144, NULL) == 8.816 * 1e-6, "FP8 grid point (line 3)");
    klat_gemm_free(t);
}

static void test_real_attn(void)
{
    for (int pre = 0; pre < 2; pre++) {
        char path[1024], err[TAM_ERRLEN] = "";
        snprintf(path, sizeof path, "%s" KDIR "%s", data_dir(),
                 pre ? "prefill_attention.csv" : "decode_attention.csv");
        const char *cols[] = {"batch_size", pre ? "seq_len" : "kv_len", "num_heads",
                              "num_kv_heads", "latency_us"};
        rrow_t *r;
        int n = read_real(path, cols, 5, NULL, &r);
        CHECK(n == (pre ? 5763 : 6770), "%s: %d rows", path, n);
        if (n <= 0)
            continue;
        static const double tols[4] = {0, 0.03, 0.05, 0.10};
        int bad[4] = {0, 0, 0, 0};
        double maxf = 0, maxb = 0;
        for (int i = 0; i < n; i++) {
            double b = r[i].v[0], x = r[i].v[1], h = r[i].v[2], kv = r[i].v[3];
            double lat = r[i].v[4] * 1e-6;
            double fl = pre ? 4 * h * 128 * b * x * (x + 1) / 2 : 4 * h * 128 * x * b;
            double by = pre ? 0 : 2 * kv * 128 * 2 * x * b;
            double f = fl / lat / PH_BF16.peak_flops;
            double w = by > PH_BF16.l2_bytes ? by / lat / PH_BF16.hbm_bw : 0;
            maxf = fmax(maxf, f), maxb = fmax(maxb, w);
            for (int j = 0; j < 4; j++)
                bad[j] += f > 1 + tols[j] || w > 1 + tols[j];
        }
        printf("# t_klat: %s rows breaking physics at tolerance 0/3/5/10%%: %d %d %d %d; "
               "highest: %.3f of the FLOP peak, %.3f of HBM\n",
               pre ? "prefill" : "decode", bad[0], bad[1], bad[2], bad[3], maxf, maxb);
        klat_attn_t *t = NULL;
        int rc = klat_attn_load(path, pre, &PH_BF16, &t, err);
        CHECK(rc == TAM_OK && bad[0] == 0, "load %s: %s", path, err);
        if (!t) {
            free(r);
            continue;
        }
        klat_src_t s;
        int nbad = 0;
        for (int i = 0; i < n; i++) {
            double v = klat_attn(t, (int)r[i].v[2], (int)r[i].v[3], r[i].v[0], r[i].v[1], &s);
            int ok = v == r[i].v[4] * 1e-6 && s.n == 1 && s.line[0] == r[i].line &&
                     !s.extrapolated;
            if (!ok && nbad++ < 5)
                CHECK(ok, "%s grid line %d", path, r[i].line);
        }
        CHECK(nbad == 0, "%d of %d grid points differ", nbad, n);
        /* decode has no MHA head pair (num_kv_heads only 1, 2, 4, 8); prefill has */
        CHECK(klat_attn_has(t, 32, 8) && klat_attn_has(t, 8, 1), "GQA pairs");
        CHECK(klat_attn_has(t, 32, 32) == pre, "(32, 32) only in prefill");
        CHECK(!klat_attn_has(t, 7, 1) && !klat_attn_has(t, 32, 16), "absent pairs");
        if (!pre) {
            /* (8,1): batch 2048 stops at kv 2048; (2048, 4096) is scaled from
            ** (2048, 2048) by 2, flagged, and above it. */
            double base = klat_attn(t, 8, 1, 2048, 2048, NULL);
            double v = klat_attn(t, 8, 1, 2048, 4096, &s);
            CHECK(s.extrapolated && v == base * 2, "decode triangle: %g vs %g", v, base);
            /* kv 1 (below the grid's 2): the kv-2 latency, not flagged */
            CHECK(klat_attn(t, 8, 1, 1, 1, &s) == klat_attn(t, 8, 1, 1, 2, NULL) &&
                      !s.extrapolated,
                  "decode floor");
        } else {
            double base = klat_attn(t, 32, 32, 1, 16384, NULL);
            double v = klat_attn(t, 32, 32, 1, 32768, &s);
            CHECK(s.extrapolated && fabs(v - 4 * base) <= 1e-15, "prefill beyond: %g vs %g", v,
                  base);
        }
        klat_attn_free(t);
        free(r);
    }
}

static void test_real_moe(void)
{
    char path[1024], err[TAM_ERRLEN] = "";
    snprintf(path, sizeof path, "%s" KDIR "moe_mixtral-8x7b.csv", data_dir());
    static const char *const cols[] = {"num_tokens", "moe_tp_size", "moe_ep_size",
                                       "latency_us"};
    rrow_t *r;
    int n = read_real(path, cols, 4, "distribution", &r);
    CHECK(n == 729, "%s: %d rows", path, n);
    if (n <= 0)
        return;
    /* Mixtral-8x7B: hidden 4096, intermediate 14336, 8 experts, top-2. */
    const klat_moe_shape_t mx = {4096, 14336, 8, 2};
    static const double tols[4] = {0, 0.03, 0.05, 0.10};
    int bad[4] = {0, 0, 0, 0}, checked = 0;
    double maxf = 0, maxb = 0;
    for (int i = 0; i < n; i++) {
        if (r[i].v[2] != 1)
            continue;
        checked++;
        double tok = r[i].v[0], inter = 14336 / r[i].v[1], lat = r[i].v[3] * 1e-6;
        double f = 2 * tok * 2 * 3 * 4096 * inter / lat / PH_BF16.peak_flops;
        double by = 2 * 3 * 4096 * inter * 2;
        double w = by > PH_BF16.l2_bytes ? by / lat / PH_BF16.hbm_bw : 0;
        maxf = fmax(maxf, f), maxb = fmax(maxb, w);
        for (int j = 0; j < 4; j++)
            bad[j] += f > 1 + tols[j] || w > 1 + tols[j];
    }
    printf("# t_klat: moe (EP-1 rows checked: %d of %d) rows breaking physics at tolerance "
           "0/3/5/10%%: %d %d %d %d; highest: %.3f of the FLOP peak, %.3f of HBM\n",
           checked, n, bad[0], bad[1], bad[2], bad[3], maxf, maxb);
    klat_moe_t *t = NULL;
    int rc = klat_moe_load_shape(path, &PH_BF16, &mx, &t, err);
    CHECK(rc == TAM_OK && bad[0] == 0, "load %s: %s", path, err);
    if (!t) {
        free(r);
        return;
    }
    klat_src_t s;
    int nbad = 0;
    for (int i = 0; i < n; i++) {
        double v = klat_moe(t, (int)r[i].v[1], (int)r[i].v[2], r[i].s, r[i].v[0], &s);
        int ok = v == r[i].v[3] * 1e-6 && s.n == 1 && s.line[0] == r[i].line && !s.extrapolated;
        if (!ok && nbad++ < 5)
            CHECK(ok, "moe grid line %d", r[i].line);
    }
    CHECK(nbad == 0, "%d of %d grid points differ", nbad, n);
    CHECK(klat_moe_has(t, 1, 1, "balanced") && klat_moe_has(t, 32, 1, "power_law_1.01") &&
              klat_moe_has(t, 1, 8, "power_law_1.2"),
          "keys");
    CHECK(!klat_moe_has(t, 2, 2, "balanced") && !klat_moe_has(t, 1, 1, "power_law"), "absent");
    double v = klat_moe(t, 1, 1, "balanced", 32768, &s);
    CHECK(s.extrapolated && v >= klat_moe(t, 1, 1, "balanced", 16384, NULL), "beyond: %g", v);
    klat_moe_free(t);
    free(r);
}

int main(void)
{
    RUN(test_gemm_grid_and_m);
    RUN(test_gemm_shape);
    RUN(test_decode);
    RUN(test_prefill);
    RUN(test_moe);
    RUN(test_errors);
    RUN(test_physics);
    RUN(test_real_gemm);
    RUN(test_real_fp8);
    RUN(test_real_attn);
    RUN(test_real_moe);
    TEST_REPORT("t_klat");
}
