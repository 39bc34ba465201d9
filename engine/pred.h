/* engine/pred.h - what a simulation of a measured trace yields: one row per
** simulated request, paired with its measured twin, and the run's totals.
**
** The runner (tools/harness/runner.h) produces these and the store
** (db/store.h) records them; both layers sit above the engine, so the type
** lives here, below both.  Plain data: no functions, no ownership rules
** beyond "the caller of whoever filled it frees the array".
*/
#ifndef TAM_PRED_H
#define TAM_PRED_H

/* One simulated request, paired by (experiment, req_index) with its twin. */
typedef struct {
    int req_index;       /* trace_req_t.index */
    int point;           /* load point index */
    double arrival;      /* s, unit time */
    double scheduled;    /* s, first admitted to a step */
    double first_token;  /* s */
    double last_token;   /* s */
    double ttft, tpot, e2e; /* s; tpot NaN when out_tokens == 1 */
    int preemptions;
    int prefix_hit_tokens;
    int rejected;        /* 1: never fit; times are NaN */
} pred_t;

typedef struct {
    long long steps;
    double sim_seconds;      /* simulated time span */
    double wall_seconds;     /* time the simulation took (not a result) */
    long long preemptions;
    int rejected;
    double mean_batch;       /* mean requests per step */
    double busy_fraction;    /* share of simulated time the GPU ran steps */
} run_stats_t;

#endif
