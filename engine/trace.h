/* engine/trace.h - measured traces from real vLLM runs, in one common shape.
**
** Readers (trace_ip.c: inference-perf; trace_guidellm.c: GuideLLM results
** JSON; trace_v2.c: BLIS TraceV2) turn a run's folder into a trace_t that
** holds both what the simulator needs to replay the load (send times, token
** counts, prefix groups, server limits) and what was measured (TTFT, E2E).
** Data-quality rules of docs/CORPUS.md are applied here, once:
**   - inference-perf output length is the profile's output_len (ignore_eos);
**     the client's re-tokenised count is kept in out_client for audit;
**   - errored requests stay in the load (ok = 0) but carry no latency;
**   - TPOT is never read from a tool; it is derived as (E2E-TTFT)/(out-1);
**   - per-request means must reproduce each tool's own summary (self-check,
**     a mismatch is an error).
**
** A trace has one or more load points (an inference-perf stage, a GuideLLM
** benchmark).  A simulation unit is what runs as one simulation: all stages of
** an inference-perf run are one unit (the server saw them back to back; the
** recorded arrivals show the tool let each stage drain before the next, and
** replaying them reproduces that gap); each GuideLLM benchmark is its own unit.
*/
#ifndef TAM_TRACE_H
#define TAM_TRACE_H

#include "common.h"

#include <math.h>

typedef enum {
    ARR_REPLAY = 0,   /* open loop at the recorded send times */
    ARR_SYNCHRONOUS,  /* one in flight; next sent when the previous completes */
    ARR_THROUGHPUT,   /* all at t=0, at most max_concurrency in flight */
    ARR_CONSTANT,     /* i / rate */
    ARR_POISSON       /* exponential gaps at rate (seeded) */
} arrival_kind_t;

typedef struct {
    char name[64];          /* "stage0@8rps", "synchronous", "constant@0.759" */
    int unit;               /* simulation unit this point belongs to */
    arrival_kind_t kind;
    double rate;            /* requests/s; 0 when not applicable */
    int max_concurrency;    /* 0 = unlimited */
    int warm_prefix;        /* 1: the shared prefix was already cached (GuideLLM
                            ** benchmarks after the first ran on a warm server) */
    int is_lowest;          /* lowest load point of the experiment */
    int is_highest;         /* the "high QPS" point(s): throughput, highest
                            ** constant rate, last stage */
    double t_start, t_end;  /* seconds, unit time; stage window (replay) */
    /* What the real client did (replay points whose source records the
    ** actual send and end of every request: TraceV2; see trace_v2.c): */
    int inflight_max;       /* most requests in flight at once (send .. last
                            ** chunk); 0 = not measured */
    double lag_median;      /* s: median send lag, t_recorded - t_send; NaN
                            ** when not measured */
    int client_limit;       /* client concurrency limit inferred from the
                            ** record (0 = none); the reader also sets
                            ** max_concurrency to it, so the simulated client
                            ** sends a request at max(t_send, the moment the
                            ** number in flight drops below the limit), FIFO */
} trace_point_t;

typedef struct {
    int index;              /* the source's request index (join key) */
    int point;              /* index into trace_t.points */
    double t_send;          /* seconds from the unit's start; for REPLAY the
                            ** recorded send time, for CONSTANT i/rate, else 0 */
    int in_tokens;          /* prompt tokens as the server saw them, prefix included */
    int out_tokens;         /* true output length (what the server generated) */
    int out_client;         /* the client's own count, -1 when it is the same source */
    int prefix_group;       /* -1 = no shared prefix; groups may be assigned later
                            ** (see trace_assign_prefix_groups) */
    int prefix_tokens;      /* shared-prefix length in tokens, 0 when none */
    int ok;                 /* 1: successful, measured latency valid */
    double ttft;            /* seconds, measured; NaN when !ok */
    double e2e;             /* seconds, measured; NaN when !ok */
    /* Added by the readers (trace*.c): */
    int group_recorded;     /* 1: prefix_group came from the source; 0: it is
                            ** -1 or was drawn by trace_assign_prefix_groups */
    int tok_src;            /* where in/out tokens came from (TRACE_TOK_*) */
    double t_recorded;      /* seconds, same origin as t_send: when the client
                            ** really sent it (GuideLLM request_start_time,
                            ** TraceV2 send_time_us, inference-perf = t_send);
                            ** NaN when unknown.  For audit: a GuideLLM client
                            ** can fall seconds behind its constant schedule. */
} trace_req_t;

/* trace_req_t.tok_src */
enum {
    TRACE_TOK_SOURCE = 0,   /* the tool's normal per-request fields */
    TRACE_TOK_SERVER_LOG,   /* recovered from the server log (GuideLLM errored
                            ** requests that vLLM rejected: "your request has
                            ** N input tokens", max_tokens from the limit) */
    TRACE_TOK_CLIENT_EST,   /* client-side estimate, no server count exists */
    TRACE_TOK_NOMINAL       /* a failed request that recorded no token count:
                            ** the run's typical request stands in for it
                            ** (each reader's header says which numbers) */
};

typedef struct {
    char path[512];         /* folder read */
    char id[128];           /* folder name */
    char format[24];        /* "inference-perf" | "guidellm" | "tracev2" */
    char model_id[128];     /* HF id as the run named it */
    char vllm_version[32];  /* the server's vLLM version where the run records
                            ** it (GuideLLM vllm.log, TraceV2
                            ** server_config.json), "" otherwise */
    int tp;
    int max_num_batched_tokens;
    int max_num_seqs;
    int max_model_len;
    int kv_blocks;          /* KV capacity of the run, in blocks per GPU */
    int block_size;         /* tokens per block (16) */
    /* inference-perf shared prefix: which request used which system prompt is
    ** not recorded; trace_assign_prefix_groups draws it from a seeded stream. */
    int n_prefix_groups;    /* 0 if the profile has none */
    int prefix_len;         /* system prompt length (tokens) */
    int users_per_group;
    int n_units;
    int n_points;
    trace_point_t *points;
    int n_req;
    trace_req_t *req;       /* ordered by (unit, t_send, index) */
    /* Added by the readers (trace*.c): */
    int n_checks;           /* self-check comparisons made against the tool's
                            ** own summaries (0: the source had none) */
    double check_max_rel;   /* largest relative deviation of a mean (or
                            ** count) from the tool's own summary */
    double check_max_abs;   /* seconds: largest per-request deviation where a
                            ** tool also lists per-request latencies (TraceV2
                            ** requests.csv, rounded to 0.01 ms) */
    /* A client that cycles a pool of prompts (inference-perf: request i sends
    ** prompt i mod P; see trace_infer_prompt_pool): */
    int prompt_pool;        /* P, 0 = none found */
    double prompt_pool_match; /* share of requests whose prompt length equals
                            ** that of the request P before it */
} trace_t;

/* The one TPOT definition (docs/METHOD.md), for measured and predicted
** requests alike: (E2E - TTFT) / (output tokens - 1); NaN for one token. */
static inline double trace_tpot(double ttft, double e2e, int out_tokens)
{
    return out_tokens > 1 ? (e2e - ttft) / (out_tokens - 1) : NAN;
}

/* Read any supported format; the format is detected from the folder's files
** (replay_data/ -> inference-perf, guidellm-results.json -> GuideLLM,
** trace.csv + trace.yaml -> TraceV2).  On error *out is NULL and err names
** the file and the place. */
int trace_load(const char *dir, trace_t **out, char *err);
void trace_free(trace_t *t);

/* Give every request with prefix_tokens > 0 but no recorded group one of the
** trace's n_prefix_groups, from PCG32 stream `seed`.  Deterministic. */
void trace_assign_prefix_groups(trace_t *t, unsigned long long seed);

/* A load generator that cycles a fixed pool of P prompts sends the same
** prompt again every P requests (inference-perf's shared_prefix data:
** load_lazy_data takes prompt data_index % len(prompts)), so every request
** after the first cycle can find its whole prompt in the prefix cache.  The
** record does not name the prompt, but its token counts carry it: P is the
** smallest lag (2..1000, at most half the requests) at which >= 90% of
** requests have the same input_tokens as the request P indexes before, and
** only when lag 1 matches < 50% (lengths that are nearly constant say
** nothing) and the indexes span at most 4 x the requests.  When found,
** request i gets prefix group (index mod P) with its
** whole prompt as the shared prefix (recorded: no seeded draw).  Returns P. */
int trace_infer_prompt_pool(trace_t *t);

/* Whether the run's vLLM scheduled asynchronously by default: from v0.12
** on (vLLM PR #27614 made async scheduling the default), and for a run
** that does not record its version (the corpus's inference-perf runs date
** from February 2026, after that change).  Versions are "MAJOR.MINOR..." */
int trace_async_default(const trace_t *t);

/* Format readers (used by trace_load; exposed for tests). */
int trace_load_inference_perf(const char *dir, trace_t **out, char *err);
int trace_load_guidellm(const char *dir, trace_t **out, char *err);
int trace_load_tracev2(const char *dir, trace_t **out, char *err);

#endif
