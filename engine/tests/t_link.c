/* engine/tests/t_link.c - the engine used as a library by a program that has
** nothing else: no store, no harness, no SQLite (the Makefile links it with
** build/libtam_engine.a, cJSON, libyaml and libm only; `make engine-link`
** also checks the library references no sqlite3_ symbol).  It builds a step
** model and simulates a small open-loop workload twice, expecting identical
** results, then prices one step by hand. */
#include "check.h"
#include "models.h"
#include "sim.h"

#include <string.h>

int main(void)
{
    char err[TAM_ERRLEN];
    model_t m;
    hw_t hw;
    econf_t c;
    kset_t *ks = NULL;
    step_model_t *sm = NULL;
    hw_h100_sxm(&hw);
    econf_baseline(&c);
    int rc = kset_load("", "engine/tests/fixtures/step-mfu/kset.json", NULL, NULL, &hw, &ks, err);
    if (rc == 0)
        snprintf(c.kernels, sizeof c.kernels, "%s", ks->name);
    rc = rc || model_parse(TEST_MODEL_L7, "llama-2-7b", &m, err) ||
         step_model_new(&m, &hw, ks, 1, &c, &sm, err);
    CHECK(rc == 0, "setup: %s", err);
    if (rc)
        TEST_REPORT("t_link");

    enum { N = 40 };
    sim_req_t req[N];
    for (int i = 0; i < N; i++)
        req[i] = (sim_req_t){0.05 * i, 200 + 37 * (i % 7), 20 + (i % 5), -1, 0};
    sim_cfg_t cfg = {.max_num_batched_tokens = 512, .max_num_seqs = 16, .max_model_len = 4096,
                     .kv_blocks = 2000, .block_size = 16, .prefix_caching = 1};
    sim_out_t a[N], b[N];
    sim_stats_t sa, sb;
    CHECK(sim_run(sm, &cfg, req, N, a, &sa, err) == 0, "%s", err);
    CHECK(sim_run(sm, &cfg, req, N, b, &sb, err) == 0, "%s", err);
    int same = 1, sane = 1;
    for (int i = 0; i < N; i++) {
        same &= memcmp(&a[i].first_token, &b[i].first_token, sizeof(double)) == 0 &&
                memcmp(&a[i].last_token, &b[i].last_token, sizeof(double)) == 0;
        sane &= !a[i].rejected && a[i].first_token > a[i].arrival &&
                a[i].last_token > a[i].first_token;
    }
    CHECK(same, "two runs of the same workload differ");
    CHECK(sane, "a request finished before it started or was rejected");
    CHECK(sa.steps > 0 && sa.steps == sb.steps, "steps %lld vs %lld", sa.steps, sb.steps);

    int d[1] = {500};
    batch_t one = {0, NULL, NULL, NULL, 1, d};
    double t = step_time(sm, &one, NULL);
    CHECK(t > 0 && t < 1, "one decode step of a 7B model: %g s", t);
    step_model_free(sm);
    kset_free(ks);
    TEST_REPORT("t_link");
}
