/* engine/workload.h - what the simulated clients send.
**
** Three sources, one output (sim_req_t[] sorted by send time plus the client
** concurrency limit):
**   (a) a measured trace's simulation unit (replay, or a GuideLLM strategy
**       reproduced over the recorded requests' token counts);
**   (b) a plain CSV of arrivals and token counts (wl_load_csv);
**   (c) synthetic workloads drawn from seeded PCG32 streams: a GuideLLM
**       data profile with a strategy, or an inference-perf shared-prefix
**       profile with load stages.
** Replays never consume randomness except for what the trace did not record
** (Poisson gaps of a poisson benchmark, inference-perf prefix-group choice).
*/
#ifndef TAM_WORKLOAD_H
#define TAM_WORKLOAD_H

#include "common.h"
#include "sim.h"
#include "trace.h"

typedef struct {
    int n;
    sim_req_t *req;        /* sorted by t_send */
    int *trace_idx;        /* index into trace_t.req for each, or -1 */
    int max_inflight;      /* client concurrency; 0 = open loop */
    int warm_group;        /* prefix group cached at start, or -1 */
    int warm_prefix_tokens;
} workload_t;

void wl_free(workload_t *w);

/* Requests of one simulation unit of a trace (prefix groups must already be
** assigned).  seed drives only what the trace did not record. */
int wl_from_trace(const trace_t *t, int unit, unsigned long long seed, workload_t *w, char *err);

/* CSV with a header naming columns: t_send_s, prompt_tokens, output_tokens
** and optionally prefix_group, prefix_tokens.  Errors name file:line. */
int wl_load_csv(const char *path, workload_t *w, char *err);

/* Synthetic GuideLLM-style data profile. */
typedef struct {
    int n;
    int prefix_tokens;                  /* one prefix shared by all (group 0) */
    double prompt_mean, prompt_sd;
    int prompt_min, prompt_max;
    double output_mean, output_sd;
    int output_min, output_max;
    arrival_kind_t kind;                /* synchronous/throughput/constant/poisson */
    double rate;                        /* constant/poisson */
    int max_concurrency;                /* throughput */
} wl_guidellm_t;
int wl_synth_guidellm(const wl_guidellm_t *g, unsigned long long seed, workload_t *w, char *err);

/* Synthetic inference-perf shared-prefix profile with constant-rate stages. */
typedef struct {
    int groups, users_per_group, system_len, question_len, output_len;
    int n_stages;
    double rate[8], duration[8];        /* requests/s, seconds */
} wl_shared_prefix_t;
int wl_synth_shared_prefix(const wl_shared_prefix_t *p, unsigned long long seed, workload_t *w,
                           char *err);

#endif
