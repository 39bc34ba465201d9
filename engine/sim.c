/* engine/sim.c - vLLM V1 scheduling over a paged, prefix-cached KV pool.
**
** Invariants (checked with TAM_ASSERT):
**   - blocks are conserved: every block is either referenced by running
**     requests (ref > 0) or in the free queue (ref == 0), never both;
**   - a cached block's key is in the map exactly while the block holds it;
**   - the tokens scheduled in a step never exceed max_num_batched_tokens and
**     the running set never exceeds max_num_seqs;
**   - simulated time never goes backwards; every non-rejected request ends
**     after exactly its output token count.
** Block content keys: a full block i of a request is the same content as
** block i of every request of its prefix group when the block lies wholly in
** the shared prefix; otherwise it is unique to the request (so a preempted
** request can still hit its own blocks when it is readmitted, as in vLLM).
** Only the request itself can ever look up its own blocks, and only when it
** is readmitted after a preemption, so they are registered lazily: when the
** request is first preempted (all its full blocks at once) and as they fill
** from then on.  Until then a request's own blocks stay out of the map, which
** saves an insert when each block fills and a delete when it is evicted, and
** changes no lookup result: the blocks of a request that finishes without a
** preemption could never be hit.
*/
#include "sim.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* {====== block pool: free queue (LRU) + content-key map ====== */

typedef struct {
    int nblocks;
    int *ref;          /* running requests holding the block */
    uint64_t *key;     /* content key, 0 = none */
    int *prev, *next;  /* free queue links, -1 = end; only valid while free */
    unsigned char *infree;
    int head, tail, nfree;
    uint64_t *mkeys;   /* open addressing map key -> block */
    int *mval;
    uint64_t mmask;
} pool_t;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int map_get(const pool_t *p, uint64_t k)
{
    for (uint64_t i = mix(k) & p->mmask;; i = (i + 1) & p->mmask) {
        if (p->mkeys[i] == 0)
            return -1;
        if (p->mkeys[i] == k)
            return p->mval[i];
    }
}

static void map_put(pool_t *p, uint64_t k, int v)
{
    uint64_t i = mix(k) & p->mmask;
    while (p->mkeys[i] != 0 && p->mkeys[i] != k)
        i = (i + 1) & p->mmask;
    p->mkeys[i] = k;
    p->mval[i] = v;
}

static void map_del(pool_t *p, uint64_t k)
{
    uint64_t i = mix(k) & p->mmask;
    while (p->mkeys[i] != k) {
        TAM_ASSERT(p->mkeys[i] != 0);
        i = (i + 1) & p->mmask;
    }
    /* Backward-shift deletion keeps probe chains intact without tombstones. */
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & p->mmask;
        if (p->mkeys[j] == 0)
            break;
        uint64_t home = mix(p->mkeys[j]) & p->mmask;
        if (((j - home) & p->mmask) >= ((j - i) & p->mmask)) {
            p->mkeys[i] = p->mkeys[j];
            p->mval[i] = p->mval[j];
            i = j;
        }
    }
    p->mkeys[i] = 0;
}

static void fq_remove(pool_t *p, int b)
{
    TAM_ASSERT(p->infree[b]);
    if (p->prev[b] >= 0)
        p->next[p->prev[b]] = p->next[b];
    else
        p->head = p->next[b];
    if (p->next[b] >= 0)
        p->prev[p->next[b]] = p->prev[b];
    else
        p->tail = p->prev[b];
    p->infree[b] = 0;
    p->nfree--;
}

static void fq_append(pool_t *p, int b)
{
    TAM_ASSERT(!p->infree[b] && p->ref[b] == 0);
    p->prev[b] = p->tail;
    p->next[b] = -1;
    if (p->tail >= 0)
        p->next[p->tail] = b;
    else
        p->head = b;
    p->tail = b;
    p->infree[b] = 1;
    p->nfree++;
}

static int pool_init(pool_t *p, int nblocks)
{
    memset(p, 0, sizeof *p);
    p->nblocks = nblocks;
    uint64_t cap = 16;
    while (cap < (uint64_t)nblocks * 4)
        cap <<= 1;
    p->mmask = cap - 1;
    p->ref = calloc((size_t)nblocks, sizeof *p->ref);
    p->key = calloc((size_t)nblocks, sizeof *p->key);
    p->prev = malloc((size_t)nblocks * sizeof *p->prev);
    p->next = malloc((size_t)nblocks * sizeof *p->next);
    p->infree = calloc((size_t)nblocks, 1);
    p->mkeys = calloc(cap, sizeof *p->mkeys);
    p->mval = malloc(cap * sizeof *p->mval);
    if (!p->ref || !p->key || !p->prev || !p->next || !p->infree || !p->mkeys || !p->mval)
        return -1;
    p->head = p->tail = -1;
    for (int b = 0; b < nblocks; b++)
        fq_append(p, b);
    return 0;
}

static void pool_free(pool_t *p)
{
    free(p->ref);
    free(p->key);
    free(p->prev);
    free(p->next);
    free(p->infree);
    free(p->mkeys);
    free(p->mval);
}

/* Pop the least recently used free block, evicting its cached content. */
static int pool_take(pool_t *p)
{
    int b = p->head;
    TAM_ASSERT(b >= 0);
    fq_remove(p, b);
    if (p->key[b]) {
        map_del(p, p->key[b]);
        p->key[b] = 0;
    }
    p->ref[b] = 1;
    return b;
}

/* Take a reference on a cached block found by key. */
static void pool_touch(pool_t *p, int b)
{
    if (p->ref[b] == 0)
        fq_remove(p, b);
    p->ref[b]++;
}

static void pool_release(pool_t *p, int b)
{
    TAM_ASSERT(p->ref[b] > 0);
    if (--p->ref[b] == 0)
        fq_append(p, b);
}

/* }====== */

/* {====== requests ====== */

enum { RS_PENDING, RS_WAITING, RS_RUNNING, RS_DONE, RS_REJECTED };

typedef struct {
    int state;
    int prompt, output;
    int num_tokens;   /* prompt + generated */
    int computed;     /* tokens whose KV is computed */
    int generated;
    int group, prefix_blocks; /* full shared-prefix blocks */
    int nb;           /* blocks held */
    int *blocks;      /* block table (capacity max_blocks) */
    int hashed;       /* leading blocks already registered as cached */
    int sched_new;    /* tokens scheduled in the current step */
    int admitted_once;
    int preempted;    /* ever preempted: its own blocks are registered eagerly */
} rq_t;

static uint64_t block_key(const rq_t *r, int id, int i)
{
    if (r->group >= 0 && i < r->prefix_blocks)
        return (1ULL << 63) | ((uint64_t)(uint32_t)r->group << 24) | (uint64_t)i;
    return (1ULL << 62) | ((uint64_t)(uint32_t)(id + 1) << 24) | (uint64_t)i;
}

/* }====== */

typedef struct {
    const sim_cfg_t *cfg;
    const sim_req_t *in;
    sim_out_t *out;
    rq_t *rq;
    int n;
    pool_t pool;
    int *blockmem;
    int max_blocks;
    int *running, nrun;       /* admission order */
    int *wq, wcap, whead, wlen; /* waiting ring buffer */
    int inflight;
    double gate;              /* a client slot has been free since this time */
    int next;                 /* next request the client has not sent */
    /* derivatives (cfg->grad): of the clock, of the gate, of the last
    ** step's duration (and that duration), and each request's origin:
    ** what the clock's derivative held when it entered the waiting queue,
    ** less its own (see admit_arrivals) */
    double gt[SIM_NG], ggate[SIM_NG], gdt_last[SIM_NG], dt_last;
    double *gorigin;          /* n x SIM_NG */
} sim_t;

static int ceil_div(int a, int b)
{
    return (a + b - 1) / b;
}

static void wq_push_back(sim_t *s, int id)
{
    TAM_ASSERT(s->wlen < s->wcap);
    s->wq[(s->whead + s->wlen) % s->wcap] = id;
    s->wlen++;
}

static void wq_push_front(sim_t *s, int id)
{
    TAM_ASSERT(s->wlen < s->wcap);
    s->whead = (s->whead + s->wcap - 1) % s->wcap;
    s->wq[s->whead] = id;
    s->wlen++;
}

static int wq_front(const sim_t *s)
{
    return s->wq[s->whead];
}

static void wq_pop(sim_t *s)
{
    s->whead = (s->whead + 1) % s->wcap;
    s->wlen--;
}

/* Blocks a request gets from the prefix cache: leading full blocks of its
** first num_tokens - 1 tokens (the last token is always computed). */
static int cache_hits(sim_t *s, int id)
{
    rq_t *r = &s->rq[id];
    if (!s->cfg->prefix_caching)
        return 0;
    int maxb = (r->num_tokens - 1) / s->cfg->block_size;
    int h = 0;
    while (h < maxb && map_get(&s->pool, block_key(r, id, h)) >= 0)
        h++;
    return h;
}

/* Make r hold blocks for `tokens` tokens, first taking `hits` cached blocks
** (only when it holds none).  Returns 0, or -1 if the pool is short. */
static int allocate(sim_t *s, int id, int tokens, int hits)
{
    rq_t *r = &s->rq[id];
    pool_t *p = &s->pool;
    if (hits == 0 && tokens <= r->nb * s->cfg->block_size)
        return 0; /* the common decode step: its last block still has room */
    int need = ceil_div(tokens, s->cfg->block_size);
    int evictable_hits = 0;
    for (int i = 0; i < hits; i++) {
        int b = map_get(p, block_key(r, id, i));
        if (p->ref[b] == 0)
            evictable_hits++;
    }
    int fresh = need - r->nb - hits;
    if (fresh < 0)
        fresh = 0;
    if (fresh + evictable_hits > p->nfree)
        return -1;
    for (int i = 0; i < hits; i++) {
        int b = map_get(p, block_key(r, id, i));
        pool_touch(p, b);
        r->blocks[r->nb++] = b;
    }
    if (hits > r->hashed)
        r->hashed = hits;
    for (int i = 0; i < fresh; i++)
        r->blocks[r->nb++] = pool_take(p);
    TAM_ASSERT(r->nb <= s->max_blocks);
    return 0;
}

/* Free a request's blocks, tail first, so its last blocks are evicted first. */
static void release_all(sim_t *s, rq_t *r)
{
    for (int i = r->nb - 1; i >= 0; i--)
        pool_release(&s->pool, r->blocks[i]);
    r->nb = 0;
    r->hashed = 0;
}

/* Register full blocks [r->hashed, upto) as cached content, unless the
** block already holds a key or another block already holds this content. */
static void register_blocks(sim_t *s, int id, int upto)
{
    rq_t *r = &s->rq[id];
    for (int i = r->hashed; i < upto && i < r->nb; i++) {
        uint64_t k = block_key(r, id, i);
        int b = r->blocks[i];
        if (s->pool.key[b] == 0 && map_get(&s->pool, k) < 0) {
            s->pool.key[b] = k;
            map_put(&s->pool, k, b);
        }
    }
    if (upto > r->hashed)
        r->hashed = upto;
}

/* Register newly completed full blocks: all of them once the request has
** been preempted, before that only those of its shared prefix. */
static void hash_full_blocks(sim_t *s, int id)
{
    rq_t *r = &s->rq[id];
    if (!s->cfg->prefix_caching)
        return;
    int lazy_end = r->group >= 0 ? r->prefix_blocks : 0;
    if (!r->preempted && r->hashed >= lazy_end)
        return; /* the common case: nothing shared left to register */
    int full = r->computed / s->cfg->block_size;
    register_blocks(s, id, r->preempted || full < lazy_end ? full : lazy_end);
}

static double client_arrival(const sim_t *s, int i)
{
    double t = s->in[i].t_send;
    if (s->cfg->max_inflight > 0 && s->gate > t)
        t = s->gate;
    return t;
}

/* {====== derivatives (cfg->grad) ====== */

static double *grad_of(const sim_t *s, int i, int which)
{
    return s->cfg->grad + ((size_t)3 * (size_t)i + (size_t)which) * SIM_NG;
}

/* Request i's time `which` is now: the clock's derivative less its origin. */
static void grad_rel(sim_t *s, int i, int which)
{
    double *g = grad_of(s, i, which);
    const double *o = s->gorigin + (size_t)i * SIM_NG;
    for (int j = 0; j < SIM_NG; j++)
        g[j] = s->gt[j] - o[j];
}

/* d client_arrival(i): the gate's when the gate held the request back. */
static void client_arrival_grad(const sim_t *s, int i, double *g)
{
    int gated = s->cfg->max_inflight > 0 && s->gate > s->in[i].t_send;
    for (int j = 0; j < SIM_NG; j++)
        g[j] = gated ? s->ggate[j] : 0;
}

/* d engine_arrival(i): the client's, plus the front end's 1 s per second of
** frontend_s and prompt seconds per second of frontend_tok_s. */
static void engine_arrival_grad(const sim_t *s, int i, double *g)
{
    client_arrival_grad(s, i, g);
    g[SIM_G_FRONTEND] += 1.0;
    g[SIM_G_FRONTEND_TOK] += s->in[i].prompt;
}

/* }====== */

/* When the engine core sees request i: the client's send plus the front
** end's work on it (requests stay in send order: the API server hands them
** on first come, first served). */
static double engine_arrival(const sim_t *s, int i)
{
    double a = client_arrival(s, i);
    const sim_cfg_t *c = s->cfg;
    if (c->frontend_s > 0 || c->frontend_tok_s > 0)
        a += c->frontend_s + c->frontend_tok_s * s->in[i].prompt;
    return a;
}

static int can_send(const sim_t *s)
{
    return s->next < s->n && (s->cfg->max_inflight <= 0 || s->inflight < s->cfg->max_inflight);
}

/* A request of the client's is done at t (g: its derivative, or NULL). */
static void on_client_done(sim_t *s, double t, const double *g)
{
    if (s->cfg->max_inflight > 0 && s->inflight == s->cfg->max_inflight) {
        s->gate = t;
        if (s->cfg->grad)
            for (int j = 0; j < SIM_NG; j++)
                s->ggate[j] = g ? g[j] : 0;
    }
    s->inflight--;
}

static const char *never_fits(const sim_t *s, const sim_req_t *q)
{
    const sim_cfg_t *c = s->cfg;
    if (q->prompt < 1 || q->output < 1)
        return "prompt and output must each be at least one token";
    long long total = (long long)q->prompt + q->output; /* no int overflow on huge counts */
    if (c->max_model_len > 0 && total > c->max_model_len)
        return "prompt + output exceeds max_model_len";
    if ((total + c->block_size - 1) / c->block_size > c->kv_blocks)
        return "needs more KV blocks than the whole cache holds";
    return NULL;
}

/* Hand the engine every request it has seen by t (send time + front end);
** t_now is the clock (t itself, or later under async scheduling).
** Derivatives: a request's times move with the steps that run after it
** arrives, not with those before.  The clock's derivative accumulates
** every step of a busy period, but a later arrival at a fixed time does
** not wait for the earlier steps to stretch: had they, it would have
** joined an earlier step.  So its origin is the clock's derivative when it
** enters the queue less that of its arrival and of the part of the step in
** progress it waited through (its share of that step: the step stretches
** uniformly); its first and last token's derivatives are then the clock's
** less this origin.  Exact for a request that finds the engine idle; for
** the others it smooths over the step boundary a perturbation would move
** it across. */
static void admit_arrivals(sim_t *s, double t, double t_now)
{
    while (can_send(s)) {
        int i = s->next;
        double a = client_arrival(s, i);
        if (engine_arrival(s, i) > t)
            break;
        s->next++;
        s->inflight++;
        sim_out_t *o = &s->out[i];
        o->arrival = a;
        if (s->cfg->grad)
            client_arrival_grad(s, i, grad_of(s, i, 0));
        const char *why = never_fits(s, &s->in[i]);
        if (why) {
            o->rejected = 1;
            o->reason = why;
            o->scheduled = o->first_token = o->last_token = NAN;
            s->rq[i].state = RS_REJECTED;
            on_client_done(s, a, s->cfg->grad ? grad_of(s, i, 0) : NULL);
            continue;
        }
        s->rq[i].state = RS_WAITING;
        wq_push_back(s, i);
        if (s->cfg->grad) {
            double ge[SIM_NG], *org = s->gorigin + (size_t)i * SIM_NG;
            engine_arrival_grad(s, i, ge);
            double frac = s->dt_last > 0 ? (t_now - engine_arrival(s, i)) / s->dt_last : 0;
            if (frac < 0)
                frac = 0;
            for (int j = 0; j < SIM_NG; j++)
                org[j] = s->gt[j] - ge[j] - frac * s->gdt_last[j];
        }
    }
}

static void preempt(sim_t *s, int id, sim_stats_t *st)
{
    rq_t *r = &s->rq[id];
    if (s->cfg->prefix_caching && !r->preempted) /* its own blocks, deferred until now */
        register_blocks(s, id, r->computed / s->cfg->block_size);
    r->preempted = 1;
    release_all(s, r);
    r->computed = 0;
    r->state = RS_WAITING;
    s->out[id].preemptions++;
    st->preemptions++;
    wq_push_front(s, id);
}

/* {====== sim_run, phase by phase ======
** Set-up (per-slot rows, requests, the warm prefix cache), then one engine
** step at a time: schedule, price, apply.  The step's scratch arrays and the
** free slot rows live in sim_step_t.  Each phase has one caller, so the
** compiler inlines them back into the loop: splitting sim_run was measured
** with `tam bench --corpus` and cost no speed. */
typedef struct {
    int *slotfree, nslotfree; /* free per-slot block-table rows */
    int *sched, nsched;       /* the step's requests */
    int *pf_new, *pf_ctx, *dec_ctx;
    unsigned char *pf_emit;
} sim_step_t;

/* Allocate the run's tables and put every request in its pending state. */
static int sim_setup(sim_t *s, sim_step_t *x, const sim_cfg_t *cfg, const sim_req_t *req, int n,
                     sim_out_t *out, char *err)
{
    s->cfg = cfg;
    s->in = req;
    s->out = out;
    s->n = n;
    /* Block tables are sized for the longest request that can ever fit:
    ** longer ones are rejected before they need a table. */
    long long maxlen = cfg->max_model_len > 0 ? cfg->max_model_len : 1;
    for (int i = 0; i < n; i++) {
        long long len = (long long)req[i].prompt + req[i].output;
        if (len > maxlen && len <= (long long)cfg->kv_blocks * cfg->block_size)
            maxlen = len;
    }
    s->max_blocks = (int)((maxlen + cfg->block_size - 1) / cfg->block_size) + 1;
    int slots = cfg->max_num_seqs;
    s->rq = calloc((size_t)(n ? n : 1), sizeof *s->rq);
    s->blockmem = malloc((size_t)slots * (size_t)s->max_blocks * sizeof(int));
    x->slotfree = malloc((size_t)slots * sizeof(int));
    s->running = malloc((size_t)slots * sizeof(int));
    s->wcap = n + 1;
    s->wq = malloc((size_t)s->wcap * sizeof(int));
    x->pf_new = malloc((size_t)slots * sizeof(int));
    x->pf_ctx = malloc((size_t)slots * sizeof(int));
    x->pf_emit = malloc((size_t)slots);
    x->dec_ctx = malloc((size_t)slots * sizeof(int));
    x->sched = malloc((size_t)slots * sizeof(int));
    if (cfg->grad)
        s->gorigin = calloc((size_t)(n ? n : 1) * SIM_NG, sizeof *s->gorigin);
    if (!s->rq || !s->blockmem || !x->slotfree || !s->running || !s->wq || !x->pf_new || !x->pf_ctx ||
        !x->pf_emit || !x->dec_ctx || !x->sched || (cfg->grad && !s->gorigin) ||
        pool_init(&s->pool, cfg->kv_blocks) != 0)
        return tam_fail(err, TAM_ENOMEM, "out of memory for %d requests, %d blocks", n,
                        cfg->kv_blocks);
    /* Block tables live in per-slot rows: only running requests hold blocks. */
    x->nslotfree = slots;
    for (int i = 0; i < slots; i++)
        x->slotfree[i] = slots - 1 - i;
    for (int i = 0; i < n; i++) {
        rq_t *r = &s->rq[i];
        r->state = RS_PENDING;
        r->prompt = req[i].prompt;
        r->output = req[i].output;
        r->num_tokens = req[i].prompt;
        r->group = req[i].prefix_group;
        r->prefix_blocks = req[i].prefix_group >= 0 ? req[i].prefix_tokens / cfg->block_size : 0;
        memset(&out[i], 0, sizeof out[i]);
        if (cfg->grad)
            memset(cfg->grad + (size_t)3 * (size_t)i * SIM_NG, 0, 3 * SIM_NG * sizeof(double));
        out[i].arrival = out[i].scheduled = out[i].first_token = out[i].last_token = NAN;
    }
    return TAM_OK;
}

/* Warm prefix cache: the groups' prefix blocks are cached and evictable. */
static void sim_warm_prefix(sim_t *s)
{
    const sim_cfg_t *cfg = s->cfg;
    for (int g = 0; g < cfg->n_warm && cfg->prefix_caching; g++) {
        rq_t tmp = {0};
        tmp.group = cfg->warm_groups[g];
        tmp.prefix_blocks = cfg->warm_prefix_tokens / cfg->block_size;
        for (int i = 0; i < tmp.prefix_blocks && s->pool.nfree > 0; i++) {
            uint64_t k = block_key(&tmp, -1, i);
            if (map_get(&s->pool, k) >= 0)
                continue;
            int b = pool_take(&s->pool);
            s->pool.key[b] = k;
            map_put(&s->pool, k, b);
            pool_release(&s->pool, b);
        }
    }
}

/* Schedule one step at time t: the running requests first (preempting
** from the back when blocks run out), then, unless something was
** preempted, waiting ones in FCFS order.  Fills x->sched. */
static void sim_schedule(sim_t *s, sim_step_t *x, double t, sim_stats_t *st)
{
    const sim_cfg_t *cfg = s->cfg;
    int budget = cfg->max_num_batched_tokens, nsched = 0, preempted = 0;
    for (int ri = 0; ri < s->nrun && budget > 0;) {
        int id = s->running[ri];
        rq_t *r = &s->rq[id];
        int want = r->num_tokens - r->computed;
        if (want > budget)
            want = budget;
        TAM_ASSERT(want >= 1);
        int ok = 1;
        while (allocate(s, id, r->computed + want, 0) != 0) {
            int victim = s->running[--s->nrun];
            /* its slot row returns to the pool */
            x->slotfree[x->nslotfree++] = (int)((s->rq[victim].blocks - s->blockmem) / s->max_blocks);
            preempt(s, victim, st);
            preempted = 1;
            if (victim == id) {
                ok = 0;
                break;
            }
        }
        if (!ok)
            break;
        r->sched_new = want;
        budget -= want;
        x->sched[nsched++] = id;
        ri++;
    }
    if (!preempted) {
        while (s->wlen > 0 && budget > 0 && s->nrun < cfg->max_num_seqs) {
            int id = wq_front(s);
            rq_t *r = &s->rq[id];
            TAM_ASSERT(r->nb == 0 && r->computed == 0);
            int hits = cache_hits(s, id);
            int comp = hits * cfg->block_size;
            int want = r->num_tokens - comp;
            if (want > budget)
                want = budget;
            TAM_ASSERT(x->nslotfree > 0);
            r->blocks = s->blockmem + (size_t)x->slotfree[x->nslotfree - 1] * (size_t)s->max_blocks;
            if (allocate(s, id, comp + want, hits) != 0)
                break; /* FCFS: no skipping ahead */
            x->nslotfree--;
            wq_pop(s);
            r->computed = comp;
            r->state = RS_RUNNING;
            r->sched_new = want;
            if (!r->admitted_once) {
                r->admitted_once = 1;
                s->out[id].scheduled = t;
                s->out[id].prefix_hit_tokens = comp;
                st->prefix_hit_tokens += comp;
            }
            s->running[s->nrun++] = id;
            budget -= want;
            x->sched[nsched++] = id;
        }
    }
    TAM_ASSERT(budget >= 0 && s->nrun <= cfg->max_num_seqs);
    x->nsched = nsched;
}

/* Price the scheduled step starting at t: the batch through the step model,
** then the engine's CPU time; returns its duration. */
static double sim_price(sim_t *s, sim_step_t *x, const step_model_t *sm, double t, sim_stats_t *st)
{
    const sim_cfg_t *cfg = s->cfg;
    int nsched = x->nsched, npf = 0, ndec = 0, tokens = 0;
    for (int k = 0; k < nsched; k++) {
        rq_t *r = &s->rq[x->sched[k]];
        tokens += r->sched_new;
        if (r->generated > 0 && r->computed == r->num_tokens - 1 && r->sched_new == 1) {
            x->dec_ctx[ndec++] = r->computed;
        } else {
            x->pf_new[npf] = r->sched_new;
            x->pf_ctx[npf] = r->computed;
            x->pf_emit[npf] = (unsigned char)(r->computed + r->sched_new == r->num_tokens);
            npf++;
        }
    }
    TAM_ASSERT(tokens <= cfg->max_num_batched_tokens);
    batch_t b = {npf, x->pf_new, x->pf_ctx, x->pf_emit, ndec, x->dec_ctx};
    double gdt[SIM_NG] = {0};
    double dt = cfg->grad ? step_time_grad(sm, &b, gdt) : step_time(sm, &b, NULL);
    if (cfg->cpu_step_s > 0 || cfg->cpu_req_s > 0) {
        double cpu = cfg->cpu_step_s + cfg->cpu_req_s * nsched;
        int cpu_wins = cfg->async_sched && !(dt > cpu);
        dt = cfg->async_sched ? (dt > cpu ? dt : cpu) : dt + cpu;
        if (cpu_wins)
            memset(gdt, 0, sizeof gdt);
        if (!cfg->async_sched || cpu_wins) {
            gdt[SIM_G_CPU_STEP] = 1.0;
            gdt[SIM_G_CPU_REQ] = nsched;
        }
    } else if (!cfg->async_sched) {
        gdt[SIM_G_CPU_STEP] = 1.0; /* a CPU term at 0 would add itself */
        gdt[SIM_G_CPU_REQ] = nsched;
    }
    TAM_ASSERT(dt > 0 && isfinite(dt));
    if (cfg->grad) {
        for (int j = 0; j < SIM_NG; j++)
            s->gt[j] += gdt[j];
        memcpy(s->gdt_last, gdt, sizeof gdt);
        s->dt_last = dt;
    }
    st->steps++;
    st->prefill_steps += npf > 0;
    st->busy += dt;
    st->sum_running += nsched;
    if (s->nrun > st->max_running)
        st->max_running = s->nrun;
    if (cfg->on_step) {
        sim_step_info_t info = {t, dt, npf, ndec, tokens, s->nrun, s->wlen, s->pool.nfree};
        cfg->on_step(cfg->on_step_ctx, &info);
    }
    return dt;
}

/* Apply the step's results at t_end: tokens computed, first and last
** tokens, finished requests' blocks and slots released; the running list
** compacted in admission order. */
static void sim_apply(sim_t *s, sim_step_t *x, double t_end)
{
    const sim_cfg_t *cfg = s->cfg;
    sim_out_t *out = s->out;
    for (int k = 0; k < x->nsched; k++) {
        int id = x->sched[k];
        rq_t *r = &s->rq[id];
        r->computed += r->sched_new;
        r->sched_new = 0;
        hash_full_blocks(s, id);
        if (r->computed == r->num_tokens) {
            r->generated++;
            r->num_tokens++;
            if (r->generated == 1) {
                out[id].first_token = t_end + cfg->client_ttft_s;
                if (cfg->grad)
                    grad_rel(s, id, 1);
            }
            if (r->generated == r->output) {
                out[id].last_token =
                    t_end + cfg->client_ttft_s + (r->output - 1) * cfg->client_token_s;
                r->state = RS_DONE;
                release_all(s, r);
                x->slotfree[x->nslotfree++] = (int)((r->blocks - s->blockmem) / s->max_blocks);
                r->blocks = NULL;
                if (cfg->grad)
                    grad_rel(s, id, 2);
                on_client_done(s, out[id].last_token, cfg->grad ? grad_of(s, id, 2) : NULL);
            }
        }
    }
    /* compact the running list, keeping admission order */
    int w = 0;
    for (int k = 0; k < s->nrun; k++)
        if (s->rq[s->running[k]].state == RS_RUNNING)
            s->running[w++] = s->running[k];
    s->nrun = w;
}

/* }====== */

int sim_run(const step_model_t *sm, const sim_cfg_t *cfg, const sim_req_t *req, int n,
            sim_out_t *out, sim_stats_t *st, char *err)
{
    memset(st, 0, sizeof *st);
    if (cfg->max_num_batched_tokens < 1 || cfg->max_num_seqs < 1 || cfg->block_size < 1 ||
        cfg->kv_blocks < 1)
        return tam_fail(err, TAM_EFIELD, "simulator limits must be positive (mnbt %d, max_num_seqs "
                        "%d, block_size %d, kv_blocks %d)", cfg->max_num_batched_tokens,
                        cfg->max_num_seqs, cfg->block_size, cfg->kv_blocks);
    for (int i = 1; i < n; i++)
        if (req[i].t_send < req[i - 1].t_send)
            return tam_fail(err, TAM_EFIELD, "requests not sorted by send time at %d", i);
    sim_t s;
    memset(&s, 0, sizeof s);
    sim_step_t x = {0};
    int rc = sim_setup(&s, &x, cfg, req, n, out, err);
    if (rc)
        goto out;
    sim_warm_prefix(&s);

    double t = 0, t_prev = 0;
    int busy = 0;
    for (;;) {
        /* Async scheduling plans this step while the previous one runs, from
        ** the requests seen by the previous step's start; an idle engine
        ** plans at once. */
        admit_arrivals(&s, cfg->async_sched && busy ? t_prev : t, t);
        if (s.nrun == 0 && s.wlen == 0) {
            if (cfg->async_sched && busy && can_send(&s) && engine_arrival(&s, s.next) <= t) {
                busy = 0; /* a request seen during the last step: plan it now */
                continue;
            }
            busy = 0;
            if (!can_send(&s))
                break; /* everything sent and finished */
            double a = engine_arrival(&s, s.next);
            TAM_ASSERT(a > t);
            t = a;
            if (cfg->grad)
                engine_arrival_grad(&s, s.next, s.gt);
            continue;
        }
        sim_schedule(&s, &x, t, st);
        if (x.nsched == 0) {
            /* Nothing could run: only possible when every running request was
            ** preempted in favour of nothing, which the pool size rules out. */
            TAM_ASSERT(s.nrun == 0 && s.wlen > 0);
            rc = tam_fail(err, TAM_EFIT, "scheduler stalled at t=%.6f s with %d waiting", t,
                          s.wlen);
            goto out;
        }
        double t_end = t + sim_price(&s, &x, sm, t, st);
        sim_apply(&s, &x, t_end);
        TAM_ASSERT(t_end > t);
        t_prev = t;
        busy = 1;
        t = t_end;
    }
    st->t_end = t;
    for (int i = 0; i < n; i++) {
        if (s.rq[i].state == RS_REJECTED)
            st->rejected++;
        else
            TAM_ASSERT(s.rq[i].state == RS_DONE && s.rq[i].generated == req[i].output);
    }
    /* conservation: everything is back in the free queue */
    TAM_ASSERT(s.pool.nfree == s.pool.nblocks);
out:
    pool_free(&s.pool);
    free(s.rq);
    free(s.blockmem);
    free(x.slotfree);
    free(s.running);
    free(s.wq);
    free(x.pf_new);
    free(x.pf_ctx);
    free(x.pf_emit);
    free(x.dec_ctx);
    free(x.sched);
    free(s.gorigin);
    return rc;
}
