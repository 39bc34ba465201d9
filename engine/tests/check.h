/* engine/tests/check.h - the two-macro test helper every t_*.c uses.
**
** CHECK(cond, ...) records one assertion; CHECK_NEAR(got, want, rel) checks
** a relative tolerance.  TEST_MAIN(fn...) runs each test function and prints
** one TAP line per assertion failure plus the closing "N passed, N failed"
** line that the harness (tests/run-unit.sh) adds up.
** Tests run from the repository root, so fixture paths are relative to it.
*/
#ifndef TAM_CHECK_H
#define TAM_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_pass, check_fail;
static const char *check_test = "";

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (cond) {                                                           \
            check_pass++;                                                     \
        } else {                                                              \
            check_fail++;                                                     \
            printf("not ok - %s %s:%d: %s: ", check_test, __FILE__, __LINE__, \
                   #cond);                                                    \
            printf(__VA_ARGS__);                                              \
            printf("\n");                                                     \
        }                                                                     \
    } while (0)

#define CHECK_NEAR(got, want, rel)                                            \
    do {                                                                      \
        double g_ = (got), w_ = (want);                                       \
        CHECK(fabs(g_ - w_) <= (rel) * fabs(w_) + 1e-300, "got %.12g want %.12g (rel %g)", \
              g_, w_, (double)(rel));                                         \
    } while (0)

#define RUN(fn)                                                               \
    do {                                                                      \
        check_test = #fn;                                                     \
        fn();                                                                 \
    } while (0)

#define TEST_REPORT(name)                                                     \
    do {                                                                      \
        printf("%s: %d passed, %d failed\n", name, check_pass, check_fail);   \
        return check_fail ? 1 : 0;                                            \
    } while (0)

#endif
