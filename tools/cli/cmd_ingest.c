/* tools/cli/cmd_ingest.c - `tam ingest`: the manifest's experiments and splits into the store.
** Options and printing only; the work is the harness's (tools/harness/harness.h). */
#include "cli.h"
#include "harness.h"
#include "hopts.h"

#include <stdio.h>
#include <string.h>

static const char ingest_usage[] =
    "usage: tam ingest [--db FILE] [--manifest FILE] [--data DIR] [--only ID]\n"
    "Load each manifest experiment's measured requests into the store (once: an\n"
    "experiment already there is checked and skipped) and the 70/30 splits for\n"
    "split seeds 42 and 1..20.  Defaults: db/tam.db, experiments/corpus.json, $DATA.\n";

int cmd_ingest(int argc, char **argv)
{
    hopts_t o;
    int r = hopts_parse(argc, argv, &o, ingest_usage);
    if (r >= 0)
        return r;
    char err[TAM_ERRLEN];
    manifest_t m;
    store_t *s = NULL;
    if (manifest_load(o.manifest, &m, err) || store_open(o.db, &s, err)) {
        fprintf(stderr, "tam ingest: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < m.n && !rc; i++) {
        const manifest_exp_t *e = &m.e[i];
        if (o.only && strcmp(o.only, e->id))
            continue;
        int n_req, n_points;
        if (harness_ingest(s, o.env.data, e, &n_req, &n_points, err))
            rc = 1;
        else if (n_req >= 0 && !o.quiet)
            fprintf(stderr, "ingest: %2d %s: %d requests, %d load points\n", e->number, e->id,
                    n_req, n_points);
    }
    if (!rc && harness_ingest_splits(s, &m, err))
        rc = 1;
    if (rc)
        fprintf(stderr, "tam ingest: %s\n", err);
    store_close(s);
    manifest_free(&m);
    return rc;
}
