/* tools/harness/runner.c - one trace through the simulator, unit by unit.
** Each simulation unit starts from an empty server (GuideLLM benchmarks get a
** warm shared prefix where the real run had one); results land in trace order. */
#include "runner.h"

#include "calib.h"
#include "workload.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int runner_model_dir(const char *data, const char *model_id, char *out, size_t cap)
{
    const char *b = strrchr(model_id, '/');
    b = b ? b + 1 : model_id;
    char low[128];
    size_t i = 0;
    for (; b[i] && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)b[i]);
    low[i] = '\0';
    snprintf(out, cap, "%s/models/%s", data, low);
    struct stat st;
    return stat(out, &st) == 0 ? 0 : -1;
}

void runner_sim_conf(const econf_t *c, const trace_t *t, sim_cfg_t *cfg)
{
    cfg->frontend_s = c->frontend_s;
    cfg->frontend_tok_s = c->frontend_tok_s;
    cfg->cpu_step_s = c->cpu_step_s;
    cfg->cpu_req_s = c->cpu_req_s;
    cfg->async_sched = strcmp(c->scheduling, "async") == 0 ||
                       (strcmp(c->scheduling, "version") == 0 && (!t || trace_async_default(t)));
    cfg->client_ttft_s = c->client_ttft_s;
    cfg->client_token_s = c->client_token_s;
}

typedef struct {
    runner_step_fn fn;
    void *ctx;
    int unit;
} step_hook_t;

static void step_hook(void *ctx, const sim_step_info_t *s)
{
    const step_hook_t *h = ctx;
    h->fn(h->ctx, h->unit, s);
}

int runner_simulate_trace(const step_model_t *sm, trace_t *t, unsigned long long seed,
                          pred_t **out, run_stats_t *st, char *err)
{
    return runner_simulate_trace_steps(sm, t, seed, NULL, NULL, out, st, err);
}

static int simulate(const step_model_t *sm, trace_t *t, unsigned long long seed,
                    runner_step_fn on_step, void *ctx, double *grad, pred_t **out,
                    run_stats_t *st, char *err);

int runner_simulate_trace_steps(const step_model_t *sm, trace_t *t, unsigned long long seed,
                                runner_step_fn on_step, void *ctx, pred_t **out,
                                run_stats_t *st, char *err)
{
    return simulate(sm, t, seed, on_step, ctx, NULL, out, st, err);
}

int runner_simulate_trace_grad(const step_model_t *sm, trace_t *t, unsigned long long seed,
                               double *grad, pred_t **out, run_stats_t *st, char *err)
{
    return simulate(sm, t, seed, NULL, NULL, grad, out, st, err);
}

static int simulate(const step_model_t *sm, trace_t *t, unsigned long long seed,
                    runner_step_fn on_step, void *ctx, double *grad, pred_t **out,
                    run_stats_t *st, char *err)
{
    const econf_t *c = step_model_conf(sm);
    trace_assign_prefix_groups(t, seed);
    pred_t *p = calloc((size_t)t->n_req, sizeof *p);
    if (!p)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    memset(st, 0, sizeof *st);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double sum_run = 0;
    int rc = TAM_OK;
    for (int u = 0; u < t->n_units; u++) {
        workload_t w;
        if ((rc = wl_from_trace(t, u, seed, &w, err)))
            break;
        sim_out_t *so = calloc((size_t)w.n, sizeof *so);
        double *wg = grad ? malloc((size_t)w.n * 3 * SIM_NG * sizeof *wg) : NULL;
        if (!so || (grad && !wg)) {
            free(so);
            free(wg);
            wl_free(&w);
            rc = tam_fail(err, TAM_ENOMEM, "out of memory");
            break;
        }
        int warm = w.warm_group;
        sim_cfg_t cfg = {
            .max_num_batched_tokens = t->max_num_batched_tokens,
            .max_num_seqs = t->max_num_seqs,
            .max_model_len = t->max_model_len,
            .kv_blocks = t->kv_blocks,
            .block_size = t->block_size > 0 ? t->block_size : 16,
            .prefix_caching = 1,
            .max_inflight = w.max_inflight,
            .warm_groups = warm >= 0 ? &warm : NULL,
            .n_warm = warm >= 0,
            .warm_prefix_tokens = w.warm_prefix_tokens,
        };
        runner_sim_conf(c, t, &cfg);
        cfg.grad = wg;
        step_hook_t hook = {on_step, ctx, u};
        if (on_step) {
            cfg.on_step = step_hook;
            cfg.on_step_ctx = &hook;
        }
        sim_stats_t ss;
        rc = sim_run(sm, &cfg, w.req, w.n, so, &ss, err);
        if (rc == TAM_OK) {
            for (int k = 0; k < w.n; k++) {
                int ti = w.trace_idx[k];
                const trace_req_t *q = &t->req[ti];
                const sim_out_t *o = &so[k];
                pred_t *r = &p[ti];
                r->req_index = q->index;
                r->point = q->point;
                r->arrival = o->arrival;
                r->scheduled = o->scheduled;
                r->first_token = o->first_token;
                r->last_token = o->last_token;
                r->preemptions = o->preemptions;
                r->prefix_hit_tokens = o->prefix_hit_tokens;
                r->rejected = o->rejected;
                r->ttft = o->first_token - o->arrival;
                r->e2e = o->last_token - o->arrival;
                r->tpot = trace_tpot(r->ttft, r->e2e, q->out_tokens);
                if (wg)
                    memcpy(grad + (size_t)ti * 3 * SIM_NG, wg + (size_t)k * 3 * SIM_NG,
                           3 * SIM_NG * sizeof *wg);
                /* Tier 1 residual post-correction (tools/harness/calib.h): after the
                ** simulation, so it does not feed back into queueing; only when
                ** a resid_* key is set, so other runs stay bit for bit as they were. */
                if (!o->rejected && calib_resid_active(c)) {
                    calib_resid_apply(c, q->in_tokens, q->out_tokens, &r->ttft, &r->tpot,
                                      &r->e2e);
                    r->first_token = r->arrival + r->ttft;
                    r->last_token = r->arrival + r->e2e;
                }
            }
            st->steps += ss.steps;
            st->sim_seconds += ss.t_end;
            st->preemptions += ss.preemptions;
            st->rejected += ss.rejected;
            sum_run += ss.sum_running;
            st->busy_fraction += ss.busy; /* summed here, divided below */
        }
        free(so);
        free(wg);
        wl_free(&w);
        if (rc)
            break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        free(p);
        *out = NULL;
        return rc;
    }
    st->wall_seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    st->mean_batch = st->steps ? sum_run / (double)st->steps : 0;
    st->busy_fraction = st->sim_seconds > 0 ? st->busy_fraction / st->sim_seconds : 0;
    *out = p;
    return TAM_OK;
}
