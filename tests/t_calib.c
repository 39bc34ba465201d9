/* tests/t_calib.c - Tier 1 calibration mathematics (tools/harness/calib.c)
** and the configuration merge helpers it relies on (engine/econf.c).
** Expected values are derived by hand in the comments: exact data generated
** from known coefficients must come back; a 2x2 factorial design has a
** closed-form answer; rank-deficient designs are detected and named. */
#include "calib.h"
#include "check.h"
#include "econf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* y = 0.5 out - 0.002 prompt + 3 exactly, on a non-degenerate design. */
static void t_exact_recovery(void)
{
    double x1[12], x2[12], y[12];
    for (int i = 0; i < 12; i++) {
        x1[i] = 10 + 5 * (i % 5) + i;          /* output tokens 10..66 */
        x2[i] = 500 + 137 * ((i * 7) % 12);    /* prompt tokens 500..2007 */
        y[i] = 0.5 * x1[i] - 0.002 * x2[i] + 3;
    }
    calib_fit_t f;
    char err[TAM_ERRLEN] = "";
    int rc = calib_lsq(x1, x2, y, NULL, 12, CALIB_ABD, "output_tokens", "prompt_tokens", &f, err);
    CHECK(rc == TAM_OK, "rc %d: %s", rc, err);
    CHECK_NEAR(f.a, 0.5, 1e-10);
    CHECK_NEAR(f.b, -0.002, 1e-9);
    CHECK_NEAR(f.d, 3, 1e-9);
    CHECK(f.n == 12 && f.terms == CALIB_ABD, "n %d terms %d", f.n, f.terms);
    CHECK(f.rmse < 1e-10, "rmse %g", f.rmse);
    /* The auto variant agrees and says nothing. */
    calib_fit_t g;
    rc = calib_lsq_auto(x1, x2, y, NULL, 12, "output_tokens", "prompt_tokens", &g, err);
    CHECK(rc == TAM_OK && g.note[0] == '\0' && g.a == f.a && g.b == f.b && g.d == f.d,
          "auto differs: %s", g.note);
    /* Huge offsets (x ~ 1e6) do not cost precision: centring. */
    double u1[12], u2[12], v[12];
    for (int i = 0; i < 12; i++) {
        u1[i] = 1e6 + x1[i];
        u2[i] = 1e7 + x2[i];
        v[i] = 2e-3 * u1[i] + 4e-4 * u2[i] - 7;
    }
    rc = calib_lsq(u1, u2, v, NULL, 12, CALIB_ABD, NULL, NULL, &f, err);
    CHECK(rc == TAM_OK, "rc %d: %s", rc, err);
    CHECK_NEAR(f.a, 2e-3, 1e-7);
    CHECK_NEAR(f.b, 4e-4, 1e-7);
    CHECK_NEAR(f.d, -7, 1e-6);
}

/* 2x2 factorial: (x1, x2, y) = (0,0,1), (1,0,3), (0,1,2), (1,1,5).
** Balanced, so a = mean(y | x1=1) - mean(y | x1=0) = 4 - 1.5 = 2.5,
** b = mean(y | x2=1) - mean(y | x2=0) = 3.5 - 2 = 1.5,
** d = mean(y) - a/2 - b/2 = 2.75 - 1.25 - 0.75 = 0.75;
** residuals +-0.25 everywhere, so rmse = 0.25. */
static void t_factorial(void)
{
    double x1[] = {0, 1, 0, 1}, x2[] = {0, 0, 1, 1}, y[] = {1, 3, 2, 5};
    calib_fit_t f;
    char err[TAM_ERRLEN] = "";
    int rc = calib_lsq(x1, x2, y, NULL, 4, CALIB_ABD, NULL, NULL, &f, err);
    CHECK(rc == TAM_OK, "rc %d: %s", rc, err);
    CHECK_NEAR(f.a, 2.5, 1e-12);
    CHECK_NEAR(f.b, 1.5, 1e-12);
    CHECK_NEAR(f.d, 0.75, 1e-12);
    CHECK_NEAR(f.rmse, 0.25, 1e-12);
    CHECK_NEAR(calib_fit_eval(&f, 1, 1), 4.75, 1e-12);
    /* Only the intercept: d = mean(y) = 2.75; only a and d: a = 2.5,
    ** d = mean(y | x1=0) = 1.5. */
    rc = calib_lsq(x1, x2, y, NULL, 4, CALIB_D, NULL, NULL, &f, err);
    CHECK(rc == TAM_OK && f.a == 0 && f.b == 0, "rc %d", rc);
    CHECK_NEAR(f.d, 2.75, 1e-12);
    rc = calib_lsq(x1, x2, y, NULL, 4, CALIB_A | CALIB_D, NULL, NULL, &f, err);
    CHECK(rc == TAM_OK && f.b == 0, "rc %d", rc);
    CHECK_NEAR(f.a, 2.5, 1e-12);
    CHECK_NEAR(f.d, 1.5, 1e-12);
    /* Through the origin, a only: a = sum x1 y / sum x1^2 = (3 + 5) / 2 = 4. */
    rc = calib_lsq(x1, x2, y, NULL, 4, CALIB_A, NULL, NULL, &f, err);
    CHECK(rc == TAM_OK && f.d == 0, "rc %d", rc);
    CHECK_NEAR(f.a, 4, 1e-12);
    /* Weight 2 on a point = that point twice. */
    double X1[] = {0, 1, 0, 1, 1}, X2[] = {0, 0, 1, 1, 1}, Y[] = {1, 3, 2, 5, 5};
    double w[] = {1, 1, 1, 2};
    calib_fit_t g;
    calib_lsq(x1, x2, y, w, 4, CALIB_ABD, NULL, NULL, &f, err);
    calib_lsq(X1, X2, Y, NULL, 5, CALIB_ABD, NULL, NULL, &g, err);
    CHECK_NEAR(f.a, g.a, 1e-12);
    CHECK_NEAR(f.b, g.b, 1e-12);
    CHECK_NEAR(f.d, g.d, 1e-12);
    /* Non-finite points and zero weights are skipped. */
    double z1[] = {0, 1, 0, 1, NAN, 3}, z2[] = {0, 0, 1, 1, 1, 4}, zy[] = {1, 3, 2, 5, 9, INFINITY};
    double zw[] = {1, 1, 1, 1, 1, 1};
    rc = calib_lsq(z1, z2, zy, zw, 6, CALIB_ABD, NULL, NULL, &f, err);
    CHECK(rc == TAM_OK && f.n == 4, "rc %d n %d", rc, f.n);
    CHECK_NEAR(f.a, 2.5, 1e-12);
    /* Without (0,0,1): three points, three terms, an exact fit:
    ** d + a = 3, d + b = 2, d + a + b = 5  ->  d = 0, a = 3, b = 2. */
    zw[0] = 0;
    rc = calib_lsq(z1, z2, zy, zw, 6, CALIB_ABD, NULL, NULL, &f, err);
    CHECK(rc == TAM_OK && f.n == 3, "rc %d n %d: %s", rc, f.n, err);
    CHECK_NEAR(f.a, 3, 1e-12);
    CHECK_NEAR(f.b, 2, 1e-12);
    CHECK(fabs(f.d) < 1e-12 && f.rmse < 1e-12, "d %g rmse %g", f.d, f.rmse);
    /* Two points cannot carry three terms. */
    zw[1] = 0;
    rc = calib_lsq(z1, z2, zy, zw, 6, CALIB_ABD, NULL, NULL, &f, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "2 usable point(s) for 3 terms"), "rc %d: %s", rc, err);
}

/* Constant output length (every inference-perf experiment: ignore_eos with a
** fixed output_len) makes a*output_tokens indistinguishable from d. */
static void t_constant_x1(void)
{
    double x1[6], x2[6], y[6];
    for (int i = 0; i < 6; i++) {
        x1[i] = 247;
        x2[i] = 400 + 50 * i;
        y[i] = 0.01 * x2[i] + 5; /* b = 0.01, d = 5 */
    }
    calib_fit_t f;
    char err[TAM_ERRLEN] = "";
    int rc = calib_lsq(x1, x2, y, NULL, 6, CALIB_ABD, "output_tokens", "prompt_tokens", &f, err);
    CHECK(rc == TAM_EFIELD, "rc %d", rc);
    CHECK(strstr(err, "singular design") && strstr(err, "output_tokens is constant (= 247)"),
          "message: %s", err);
    rc = calib_lsq_auto(x1, x2, y, NULL, 6, "output_tokens", "prompt_tokens", &f, err);
    CHECK(rc == TAM_OK, "rc %d: %s", rc, err);
    CHECK(f.terms == (CALIB_B | CALIB_D) && f.a == 0, "terms %d a %g", f.terms, f.a);
    CHECK_NEAR(f.b, 0.01, 1e-10);
    CHECK_NEAR(f.d, 5, 1e-10);
    CHECK(strstr(f.note, "a = 0: output_tokens constant (247)") != NULL, "note: %s", f.note);
    /* Both constant: only d = mean(y). */
    for (int i = 0; i < 6; i++)
        x2[i] = 600;
    rc = calib_lsq_auto(x1, x2, y, NULL, 6, "output_tokens", "prompt_tokens", &f, err);
    CHECK(rc == TAM_OK && f.terms == CALIB_D, "rc %d terms %d", rc, f.terms);
    CHECK_NEAR(f.d, (0.01 * (400 + 450 + 500 + 550 + 600 + 650)) / 6 + 5, 1e-12);
    CHECK(strstr(f.note, "b = 0: prompt_tokens constant") != NULL, "note: %s", f.note);
    /* One point: d = y. */
    rc = calib_lsq_auto(x1, x2, y, NULL, 1, NULL, NULL, &f, err);
    CHECK(rc == TAM_OK && f.terms == CALIB_D && f.d == y[0], "rc %d", rc);
    /* No usable point at all is an error. */
    double nan1[] = {NAN};
    rc = calib_lsq_auto(nan1, nan1, nan1, NULL, 1, NULL, NULL, &f, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "usable"), "rc %d: %s", rc, err);
}

/* prompt = 3 out + 7: collinear.  y = 2 out + 1 = (2/3) prompt - 14/3 + 1,
** so the fallback (drop a) gives b = 2/3, d = -11/3. */
static void t_collinear(void)
{
    double x1[5] = {10, 20, 30, 40, 50}, x2[5], y[5];
    for (int i = 0; i < 5; i++) {
        x2[i] = 3 * x1[i] + 7;
        y[i] = 2 * x1[i] + 1;
    }
    calib_fit_t f;
    char err[TAM_ERRLEN] = "";
    int rc = calib_lsq(x1, x2, y, NULL, 5, CALIB_ABD, "output_tokens", "prompt_tokens", &f, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "collinear"), "rc %d: %s", rc, err);
    rc = calib_lsq_auto(x1, x2, y, NULL, 5, "output_tokens", "prompt_tokens", &f, err);
    CHECK(rc == TAM_OK && f.terms == (CALIB_B | CALIB_D), "rc %d terms %d", rc, f.terms);
    CHECK_NEAR(f.b, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(f.d, -11.0 / 3.0, 1e-12);
    CHECK(strstr(f.note, "collinear") != NULL, "note: %s", f.note);
    rc = calib_lsq(x1, x2, y, NULL, 5, 0, NULL, NULL, &f, err);
    CHECK(rc == TAM_EFIELD, "empty term set accepted");
}

/* ttft 0.1 s, tpot 0.02 s, prompt 1000, out 11;
** tpot: a = 1 ms/token, d = 2 ms -> +13 ms -> 0.033 s;
** ttft: b' = 0.01 ms/token, d' = 5 ms -> +15 ms -> 0.115 s;
** e2e = 0.115 + 10 x 0.033 = 0.445 s. */
static void t_resid_apply(void)
{
    econf_t c;
    econf_baseline(&c);
    CHECK(!calib_resid_active(&c), "baseline has a residual");
    c.resid_tpot_a_ms = 1;
    c.resid_tpot_d_ms = 2;
    c.resid_ttft_b_ms = 0.01;
    c.resid_ttft_d_ms = 5;
    CHECK(calib_resid_active(&c), "residual not seen");
    double ttft = 0.1, tpot = 0.02, e2e = 0.3;
    calib_resid_apply(&c, 1000, 11, &ttft, &tpot, &e2e);
    CHECK_NEAR(ttft, 0.115, 1e-12);
    CHECK_NEAR(tpot, 0.033, 1e-12);
    CHECK_NEAR(e2e, 0.445, 1e-12);
    /* One output token, prompt 0: ttft += (0 + 0 + 5) ms; tpot stays
    ** undefined and e2e = ttft. */
    ttft = 0.1, tpot = NAN, e2e = 0.1;
    calib_resid_apply(&c, 0, 1, &ttft, &tpot, &e2e);
    CHECK_NEAR(ttft, 0.105, 1e-12);
    CHECK(isnan(tpot) && e2e == ttft, "tpot %g e2e %g", tpot, e2e);
    /* Floors at 0; NaN (rejected) stays NaN. */
    c.resid_ttft_d_ms = -1e4;
    c.resid_tpot_d_ms = -1e4;
    ttft = 0.1, tpot = 0.02, e2e = 0.3;
    calib_resid_apply(&c, 1000, 11, &ttft, &tpot, &e2e);
    CHECK(ttft == 0 && tpot == 0 && e2e == 0, "%g %g %g", ttft, tpot, e2e);
    ttft = NAN, tpot = NAN, e2e = NAN;
    calib_resid_apply(&c, 1000, 11, &ttft, &tpot, &e2e);
    CHECK(isnan(ttft) && isnan(e2e), "NaN lost");
}

static void t_metrics_guard_stale(void)
{
    double pred[] = {1.1, 0.9, NAN, 2, 3}, meas[] = {1, 1, 1, 0, NAN};
    int used = -1;
    CHECK_NEAR(calib_mape(pred, meas, 5, &used), 0.1, 1e-12);
    CHECK(used == 2, "used %d", used);
    CHECK(isnan(calib_mape(pred, meas, 0, &used)) && used == 0, "empty MAPE not NaN");
    CHECK(calib_guard_reject(0.10, 0.21) == 1, "0.21 > 2 x 0.10 not rejected");
    CHECK(calib_guard_reject(0.10, 0.20) == 0, "0.20 = 2 x 0.10 rejected");
    CHECK(calib_guard_reject(0.10, 0.05) == 0, "better validation rejected");
    CHECK(calib_guard_reject(NAN, 0.05) == 1 && calib_guard_reject(0.1, NAN) == 1, "NaN accepted");
    CHECK(calib_guard_reject(0, 0) == 0 && calib_guard_reject(0, 1e-9) == 1, "zero training");
    CHECK(calib_stale(0.30) == 0 && calib_stale(0.3000001) == 1 && calib_stale(0.05) == 0,
          "staleness threshold");
    CHECK(calib_stale(NAN) == 1, "NaN not stale");
}

static void t_wmedian(void)
{
    char err[TAM_ERRLEN] = "";
    double r[] = {10, 2, 3, 1}, w[] = {1, 1, 1, 1}, c = -1;
    /* Sorted 1, 2, 3, 10 with equal weights: every c in [2, 3] minimises;
    ** the lowest is returned. */
    CHECK(calib_wmedian(r, w, 4, -100, 100, &c, err) == TAM_OK && c == 2, "c %g", c);
    double w2[] = {5, 1, 1, 1}; /* weight 5 on 10: W = 8, cum reaches 4 at 10 */
    calib_wmedian(r, w2, 4, -100, 100, &c, err);
    CHECK(c == 10, "c %g", c);
    calib_wmedian(r, w2, 4, 0, 5, &c, err);
    CHECK(c == 5, "clamped high: %g", c);
    calib_wmedian(r, w, 4, 4, 6, &c, err);
    CHECK(c == 4, "clamped low: %g", c);
    double rn[] = {NAN, 7}, wn[] = {1, 0};
    calib_wmedian(rn, wn, 2, 1, 9, &c, err);
    CHECK(c == 1, "no usable point -> lo: %g", c);
    CHECK(calib_wmedian(r, w, 4, 2, 1, &c, err) == TAM_EFIELD, "empty range accepted");
    /* The weighted median minimises sum w |r - c| (spot check vs neighbours). */
    double rr[] = {0.3, -0.1, 0.05, 0.2, 0.07}, ww[] = {0.5, 2, 1, 0.25, 1};
    calib_wmedian(rr, ww, 5, -1, 1, &c, err);
    double best = 0, alt1 = 0, alt2 = 0;
    for (int i = 0; i < 5; i++) {
        best += ww[i] * fabs(rr[i] - c);
        alt1 += ww[i] * fabs(rr[i] - c - 0.01);
        alt2 += ww[i] * fabs(rr[i] - c + 0.01);
    }
    CHECK(best <= alt1 && best <= alt2, "c %g: %g vs %g %g", c, best, alt1, alt2);
    CHECK(c == 0.05, "weighted median %g", c);
}

static int quad(void *ctx, double x, double *f, char *err)
{
    (void)err;
    int *calls = ctx;
    (*calls)++;
    *f = (x - 3.3) * (x - 3.3);
    return TAM_OK;
}

static int failing(void *ctx, double x, double *f, char *err)
{
    (void)ctx;
    *f = 0;
    return x > 1 ? tam_fail(err, TAM_EIO, "simulation failed at %g", x) : TAM_OK;
}

/* (x - 3.3)^2 on [0, 8], 9 coarse points, 4 levels: lattice step 8/128 =
** 0.0625.  Coarse best 3; +-0.5 -> 3.5; +-0.25 -> 3.25; +-0.125 keeps
** 3.25; +-0.0625 -> 3.3125 (the lattice point nearest 3.3).  9 + 4 x 2
** evaluations. */
static void t_search(void)
{
    char err[TAM_ERRLEN] = "";
    int calls = 0, ne = 0;
    double x = 0, f = 0;
    int rc = calib_search1d(0, 8, 9, 4, quad, &calls, &x, &f, &ne, err);
    CHECK(rc == TAM_OK, "rc %d: %s", rc, err);
    CHECK(x == 3.3125, "x %.17g", x);
    CHECK_NEAR(f, 0.0125 * 0.0125, 1e-9);
    CHECK(ne == 17 && calls == 17, "evaluations %d calls %d", ne, calls);
    /* Minimum at the lower edge: refinement skips points below 0. */
    calls = 0;
    rc = calib_search1d(3.3, 11.3, 9, 4, quad, &calls, &x, &f, &ne, err);
    CHECK(rc == TAM_OK && x == 3.3 && f == 0 && ne == 13, "x %g ne %d", x, ne);
    rc = calib_search1d(0, 8, 9, 4, failing, NULL, &x, &f, &ne, err);
    CHECK(rc == TAM_EIO && strstr(err, "simulation failed at 2"), "rc %d: %s", rc, err);
    CHECK(calib_search1d(1, 1, 9, 4, quad, &calls, &x, &f, &ne, err) == TAM_EFIELD,
          "empty interval accepted");
}

/* econf_merge_json / econf_load_coeffs: keys merge over the configuration as
** it is; an unknown key or a bad version is an error and changes nothing. */
static void t_merge(void)
{
    char err[TAM_ERRLEN] = "", h0[17], h1[17];
    econf_t c;
    econf_parse("{\"bw_eta\": 0.8}", "base", &c, err);
    econf_hash(&c, h0);
    int rc = econf_merge_json("{\"resid_tpot_d_ms\": -3.5, \"client_ttft_s\": 0.01}", "m", &c,
                              err);
    CHECK(rc == TAM_OK && c.bw_eta == 0.8 && c.resid_tpot_d_ms == -3.5 && c.client_ttft_s == 0.01,
          "merge: rc %d %s", rc, err);
    econf_hash(&c, h1);
    CHECK(strcmp(h0, h1) != 0, "hash ignores the residual keys");
    econf_t before = c;
    rc = econf_merge_json("{\"resid_tpot_d_ms\": 1, \"resid_tpot_e_ms\": 2}", "m2", &c, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "m2: unknown field 'resid_tpot_e_ms'"), "%s", err);
    CHECK(memcmp(&before, &c, sizeof c) == 0, "failed merge changed the configuration");
    rc = econf_merge_json("{\"resid_ttft_d_ms\": 2e6}", "m3", &c, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "resid_ttft_d_ms"), "range: %s", err);

    char path[] = "/tmp/t_calib_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    if (fd < 0)
        return;
    close(fd);
    FILE *f = fopen(path, "w");
    fputs("{\"tam_coefficients\": 1, \"method\": \"residual\", \"base_config_hash\": "
          "\"0123456789abcdef\", \"config\": {\"resid_ttft_a_ms\": 0.25}, \"fit\": {}}", f);
    fclose(f);
    econf_coeffs_meta_t cm;
    memset(&cm, 'x', sizeof cm);
    c = before;
    rc = econf_load_coeffs(path, &c, &cm, err);
    CHECK(rc == TAM_OK && c.resid_ttft_a_ms == 0.25 && c.bw_eta == 0.8 &&
          strcmp(cm.base_hash, "0123456789abcdef") == 0 && cm.hardware_measured[0] == 0 &&
          cm.gemm_table[0] == 0, "coeffs: rc %d %s", rc, err);
    f = fopen(path, "w");
    fputs("{\"tam_coefficients\": 1, \"hardware_measured\": \"2026-12-01 H100 driver 1\", "
          "\"gemm_table\": \"m/gemm.csv\", \"config\": {}}", f);
    fclose(f);
    rc = econf_load_coeffs(path, &c, &cm, err);
    CHECK(rc == TAM_OK && strcmp(cm.hardware_measured, "2026-12-01 H100 driver 1") == 0 &&
          strcmp(cm.gemm_table, "m/gemm.csv") == 0 && cm.base_hash[0] == 0,
          "coeffs metadata: rc %d %s", rc, err);
    f = fopen(path, "w");
    fputs("{\"tam_coefficients\": 1, \"gemm_table\": 7, \"config\": {}}", f);
    fclose(f);
    c = before;
    rc = econf_load_coeffs(path, &c, &cm, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "field 'gemm_table' must be a string"), "%s", err);
    CHECK(memcmp(&before, &c, sizeof c) == 0, "failed load changed the configuration");
    f = fopen(path, "w");
    fputs("{\"tam_coefficients\": 1, \"config\": {}, \"colour\": \"blue\"}", f);
    fclose(f);
    c = before;
    rc = econf_load_coeffs(path, &c, &cm, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "unknown field 'colour'"), "%s", err);
    CHECK(memcmp(&before, &c, sizeof c) == 0, "failed load changed the configuration");
    f = fopen(path, "w");
    fputs("{\"tam_coefficients\": 2, \"config\": {}}", f);
    fclose(f);
    rc = econf_load_coeffs(path, &c, &cm, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "tam_coefficients"), "%s", err);
    f = fopen(path, "w");
    fputs("{\"tam_coefficients\": 1, \"config\": {\"overhead_decode_z\": 1}}", f);
    fclose(f);
    rc = econf_load_coeffs(path, &c, &cm, err);
    CHECK(rc == TAM_EFIELD && strstr(err, "config: unknown field 'overhead_decode_z'"), "%s",
          err);
    unlink(path);
}

int main(void)
{
    RUN(t_exact_recovery);
    RUN(t_factorial);
    RUN(t_constant_x1);
    RUN(t_collinear);
    RUN(t_resid_apply);
    RUN(t_metrics_guard_stale);
    RUN(t_wmedian);
    RUN(t_search);
    RUN(t_merge);
    TEST_REPORT("t_calib");
}
