/* tests/t_sweep.c - the H6A counting rule of `tam sweep`
** (tools/harness/sweep.c): a "jump" is an adjacent change |b/a - 1| >= 5%; a
** "step" is a jump whose relative change also differs by >= 5 points from
** the mean of its neighbouring steps' (one neighbour at a line's ends). */
#include "check.h"
#include "sweep.h"

static void count(const double *f, int n, int stride, int *j, int *s)
{
    *j = *s = 0;
    sweep_line_counts(f, n, stride, j, s);
}

static void t_flat_and_staircase(void)
{
    int j, s;
    const double flat[5] = {0.3, 0.3, 0.3, 0.3, 0.3};
    count(flat, 5, 1, &j, &s);
    CHECK(j == 0 && s == 0, "flat: %d jumps %d steps", j, s);
    /* nearest-neighbour staircase: two risers */
    const double st[9] = {0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3};
    count(st, 9, 1, &j, &s);
    CHECK(j == 2 && s == 2, "staircase: %d jumps %d steps", j, s);
    /* a riser at either end still counts (single neighbour) */
    const double e[4] = {0.1, 0.2, 0.2, 0.2}, e2[4] = {0.2, 0.2, 0.2, 0.1};
    count(e, 4, 1, &j, &s);
    CHECK(j == 1 && s == 1, "riser at the start: %d jumps %d steps", j, s);
    count(e2, 4, 1, &j, &s);
    CHECK(j == 1 && s == 1, "drop at the end: %d jumps %d steps", j, s);
    /* a lone pair has no neighbour: a jump is a step */
    const double two[2] = {1.0, 2.0};
    count(two, 2, 1, &j, &s);
    CHECK(j == 1 && s == 1, "lone pair: %d jumps %d steps", j, s);
}

static void t_smooth_ramps(void)
{
    int j, s;
    /* geometric growth of 10% a point: every pair a jump, none a step */
    double g[20];
    g[0] = 0.001;
    for (int i = 1; i < 20; i++)
        g[i] = g[i - 1] * 1.1;
    count(g, 20, 1, &j, &s);
    CHECK(j == 19 && s == 0, "geometric ramp: %d jumps %d steps", j, s);
    /* a linear ramp away from zero: relative change 10% falling to 5% */
    double l[11];
    for (int i = 0; i < 11; i++)
        l[i] = 10 + i;
    count(l, 11, 1, &j, &s);
    CHECK(j == 10 && s == 0, "linear ramp 10..20: %d jumps %d steps", j, s);
    /* a linear ramp from a tiny value (0.001 -> 0.014, as interpolation
    ** between decode rows bs=1 and bs=16 gives): its relative change falls
    ** from 100% to 8% within a few points, so the first two pairs still count
    ** as steps -- the residue the H6A summary reports for interp. */
    double t[14];
    for (int i = 0; i < 14; i++)
        t[i] = 0.001 * (i + 1);
    count(t, 14, 1, &j, &s);
    CHECK(j == 13 && s == 2, "ramp from 0.001: %d jumps %d steps", j, s);
}

static void t_threshold_and_stride(void)
{
    int j, s;
    /* 5% in decimal counts although 0.021/0.020 - 1 is not 0.05 in binary */
    const double f[2] = {0.020, 0.021};
    count(f, 2, 1, &j, &s);
    CHECK(j == 1, "0.020 -> 0.021 is a 5%% change: %d jumps", j);
    const double g[2] = {0.0200, 0.02099};
    count(g, 2, 1, &j, &s);
    CHECK(j == 0, "4.95%% is not a jump: %d jumps", j);
    /* strided access: a column of a row-major 3 x 4 array */
    const double a[12] = {1, 9, 9, 9, 1, 9, 9, 9, 2, 9, 9, 9};
    count(a, 3, 4, &j, &s);
    CHECK(j == 1 && s == 1, "column 0 of a 3x4 array: %d jumps %d steps", j, s);
}

int main(void)
{
    RUN(t_flat_and_staircase);
    RUN(t_smooth_ramps);
    RUN(t_threshold_and_stride);
    TEST_REPORT("t_sweep");
}
