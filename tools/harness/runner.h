/* tools/harness/runner.h - simulate every unit of a measured trace and pair each
** simulated request with its measured twin (pred_t rows, trace order). */
#ifndef TAM_RUNNER_H
#define TAM_RUNNER_H

#include "sim.h"
#include "pred.h"
#include "trace.h"

/* Prefix groups are assigned from `seed` first (what the trace did not record). */
int runner_simulate_trace(const step_model_t *sm, trace_t *t, unsigned long long seed,
                          pred_t **out, run_stats_t *st, char *err);
/* The same, and on_step (when non-NULL) sees every engine step of every
** unit, with the unit's index (step times count from the unit's start). */
typedef void (*runner_step_fn)(void *ctx, int unit, const sim_step_info_t *s);
int runner_simulate_trace_steps(const step_model_t *sm, trace_t *t, unsigned long long seed,
                                runner_step_fn on_step, void *ctx, pred_t **out,
                                run_stats_t *st, char *err);

/* The same with derivatives: grad (t->n_req x 3 x SIM_NG, trace order) gets
** each request's rows of sim_cfg_t.grad (zeros for a rejected request's
** first and last token). */
int runner_simulate_trace_grad(const step_model_t *sm, trace_t *t, unsigned long long seed,
                               double *grad, pred_t **out, run_stats_t *st, char *err);

/* The simulator settings an engine configuration carries (front end, the
** engine core's CPU work and scheduling mode, client-side time); t (may be
** NULL) is the run, whose vLLM version "scheduling": "version" follows. */
void runner_sim_conf(const econf_t *c, const trace_t *t, sim_cfg_t *cfg);

/* Resolve a trace's HF model id to a config folder under data/models. */
int runner_model_dir(const char *data, const char *model_id, char *out, size_t cap);

#endif
