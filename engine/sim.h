/* engine/sim.h - the serving simulator: a vLLM V1 scheduler driving the step model.
**
** This is the one header harness code needs besides the loaders.  A
** simulation takes requests (send time, token counts, prefix group), the
** server's limits and a step model, and returns per-request times.  The
** scheduler's state lives in locals of sim_run, so runs are independent: a
** run's result depends only on its arguments, never on earlier runs.
** Threads: the step model is passed const, but step_time fills exact lookup
** memos that the model carries (engine/step.h), so one step model must not be
** used by two simulations at the same time; give each thread its own
** (step_model_new).  Sequential reuse is safe: a memo holds exact results.
**
** Scheduler semantics (docs/MODEL.md, "Scheduler semantics"): one step at a
** time; running requests first in admission order (prefill remainder capped
** by the token budget, decodes 1 token); then, only if nothing was preempted,
** waiting requests FCFS while budget remains and fewer than max_num_seqs run,
** stopping at the first that cannot get its KV blocks; chunked prefill; paged
** KV in blocks with prefix caching of full blocks (LRU eviction, vLLM's free
** queue order); recompute preemption of the most recently admitted request;
** rejection of a request that can never fit.
*/
#ifndef TAM_SIM_H
#define TAM_SIM_H

#include "common.h"
#include "step.h"

typedef struct {
    double t_send;       /* s: when the client wants to send it */
    int prompt;          /* prompt tokens, shared prefix included */
    int output;          /* tokens to generate, >= 1 */
    int prefix_group;    /* -1: none */
    int prefix_tokens;   /* tokens of the shared prefix (full blocks are shareable) */
} sim_req_t;

/* The parameters a simulation can differentiate its times by (Tier 3): the
** step model's four scales, then the simulator's own CPU and front-end
** costs. */
enum {
    SIM_G_CPU_STEP = STEP_NG, /* cpu_step_s */
    SIM_G_CPU_REQ,            /* cpu_req_s */
    SIM_G_FRONTEND,           /* frontend_s */
    SIM_G_FRONTEND_TOK,       /* frontend_tok_s */
    SIM_NG
};

typedef struct {
    double t;            /* s: step start */
    double dt;           /* s: step duration */
    int n_prefill, n_decode, tokens, running, waiting;
    int free_blocks;
} sim_step_info_t;

typedef struct {
    int max_num_batched_tokens;
    int max_num_seqs;
    int max_model_len;
    int kv_blocks;            /* KV capacity in blocks */
    int block_size;           /* tokens per block */
    int prefix_caching;       /* 1: on (every corpus run) */
    int max_inflight;         /* client concurrency limit, 0 = open loop */
    const int *warm_groups;   /* prefix groups already cached at t = 0 */
    int n_warm;
    int warm_prefix_tokens;   /* their prefix length */
    double frontend_s;        /* per request between the client's send and the
                              ** engine seeing it (HTTP, parsing, IPC) */
    double frontend_tok_s;    /* the same per prompt token (tokenisation) */
    double cpu_step_s;        /* engine-core CPU work per step */
    double cpu_req_s;         /* and per request in the step */
    int async_sched;          /* 0: the CPU work and the GPU step run one after
                              ** the other, and a request joins the next step;
                              ** 1 (vLLM's async scheduling): the CPU plans
                              ** step N+1 while the GPU runs N, so a step lasts
                              ** the longer of the two, and a request that
                              ** arrives during a step joins the one after next */
    double client_ttft_s;     /* client-side time outside the server, first token */
    double client_token_s;    /* per streamed token after the first */
    void (*on_step)(void *ctx, const sim_step_info_t *s); /* optional */
    void *on_step_ctx;
    double *grad;             /* optional, n x 3 x SIM_NG: for request i,
                              ** grad[(3 i + w) SIM_NG + j] is the derivative of
                              ** its arrival (w 0), first token (1) and last
                              ** token (2) by parameter j at its value, the
                              ** schedule held as it fell (forward-mode
                              ** differentiation along the event sequence:
                              ** exact between the points where an ordering
                              ** decision flips).  Computing it changes no time. */
} sim_cfg_t;

typedef struct {
    double arrival;      /* s: when the server received it */
    double scheduled;    /* s: start of the first step that served it */
    double first_token;  /* s: client sees the first token */
    double last_token;   /* s: client sees the last token */
    int preemptions;
    int prefix_hit_tokens; /* tokens served from the prefix cache at first admission */
    int rejected;        /* 1: can never fit; times are NaN */
    const char *reason;  /* static string when rejected */
} sim_out_t;

typedef struct {
    long long steps;
    long long prefill_steps;   /* steps that held any prefill */
    long long preemptions;
    int rejected;
    double t_end;              /* s: last step end */
    double busy;               /* s: total step time */
    double sum_running;        /* sum over steps of requests served */
    int max_running;
    long long prefix_hit_tokens;
} sim_stats_t;

/* Simulate; out has n entries (same order as req).  Requests must be sorted
** by t_send.  Returns TAM_OK or an error for invalid parameters. */
int sim_run(const step_model_t *sm, const sim_cfg_t *cfg, const sim_req_t *req, int n,
            sim_out_t *out, sim_stats_t *st, char *err);

#endif
