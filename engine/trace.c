/* engine/trace.c - trace_load: detects a trace's format and dispatches to its
** reader (trace_ip.c, trace_guidellm.c, trace_v2.c); seeded prefix-group
** assignment.  The readers share trace_build.c (through trace_int.h) and
** never call back into this file, so the dependencies go one way:
** trace.c -> readers -> trace_build.c.
**
** Invariant:
**   - prefix groups drawn by trace_assign_prefix_groups depend only on the
**     seed and the stored order of the requests, never on the process state;
**     recorded groups (group_recorded = 1) are never touched.
*/
#include "trace_int.h"

#include "rng.h"

#include <stdio.h>

/* ---- public ------------------------------------------------------------ */

int trace_async_default(const trace_t *t)
{
    int major = 0, minor = 0;
    if (!t->vllm_version[0] || sscanf(t->vllm_version, "%d.%d", &major, &minor) != 2)
        return 1;
    return major > 0 || minor >= 12;
}

/* Stream id of the prefix-group draw ("prefixgr" in ASCII): fixed, so that a
** run's seed alone decides the assignment. */
#define PREFIX_STREAM 0x7072656669786772ULL

void trace_assign_prefix_groups(trace_t *t, unsigned long long seed)
{
    if (!t || t->n_prefix_groups <= 0)
        return;
    pcg32_t r;
    rng_seed(&r, (uint64_t)seed, PREFIX_STREAM);
    for (int i = 0; i < t->n_req; i++) {
        trace_req_t *q = &t->req[i];
        if (q->prefix_tokens > 0 && !q->group_recorded)
            q->prefix_group = (int)rng_bounded(&r, (uint32_t)t->n_prefix_groups);
    }
}

int trace_load(const char *dir, trace_t **out, char *err)
{
    *out = NULL;
    if (!trace_is_dir(dir))
        return tam_fail(err, TAM_EIO, "%s: not a directory", dir);
    char p1[1024], p2[1024];
    int rc;
    if ((rc = trace_join(p1, sizeof p1, dir, "replay_data", err)))
        return rc;
    if (trace_is_dir(p1))
        return trace_load_inference_perf(dir, out, err);
    if ((rc = trace_join(p1, sizeof p1, dir, "guidellm-results.json", err)))
        return rc;
    if (trace_is_file(p1))
        return trace_load_guidellm(dir, out, err);
    if ((rc = trace_join(p1, sizeof p1, dir, "trace.csv", err)) ||
        (rc = trace_join(p2, sizeof p2, dir, "trace.yaml", err)))
        return rc;
    if (trace_is_file(p1) && trace_is_file(p2))
        return trace_load_tracev2(dir, out, err);
    return tam_fail(err, TAM_EIO,
                    "%s: no known trace format (looked for replay_data/, guidellm-results.json, "
                    "trace.csv + trace.yaml)",
                    dir);
}
