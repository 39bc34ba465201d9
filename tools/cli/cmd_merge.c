/* tools/cli/cmd_merge.c - `tam merge`: shard databases back into the store.
** Options and printing only; the work is the harness's (tools/harness/harness.h). */
#include "cli.h"
#include "harness.h"
#include "hopts.h"

#include <getopt.h>
#include <stdio.h>

static const char merge_usage[] =
    "usage: tam merge [--db FILE] SHARD.db...\n"
    "Merge shard databases (from `tam jobs`) into the store, one transaction per\n"
    "shard: experiments (checked by content hash), configurations (by hash), arms,\n"
    "splits, sweeps and every 'ok' run not already stored for the same\n"
    "(configuration, experiment, seed), with all its predictions.  Merging the\n"
    "same shard twice changes nothing.\n";

int cmd_merge(int argc, char **argv)
{
    hopts_t o;
    int r = hopts_parse(argc, argv, &o, merge_usage);
    if (r >= 0)
        return r;
    if (optind >= argc) {
        fputs(merge_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN];
    store_t *s = NULL;
    if (store_open(o.db, &s, err)) {
        fprintf(stderr, "tam merge: %s\n", err);
        return 1;
    }
    int rc = 0;
    long long runs = 0, preds = 0, skipped = 0;
    for (int i = optind; i < argc; i++) {
        store_merge_t ms;
        if (store_merge(s, argv[i], &ms, err)) {
            fprintf(stderr, "tam merge: %s\n", err);
            rc = 1;
            break;
        }
        runs += ms.runs;
        preds += ms.predictions;
        skipped += ms.skipped;
        if (!o.quiet)
            fprintf(stderr, "merge: %s: %d experiments, %d runs (%lld predictions) copied, %d "
                    "already present\n", argv[i], ms.experiments, ms.runs, ms.predictions,
                    ms.skipped);
    }
    if (!rc)
        printf("merged %d shard(s): %lld runs, %lld predictions copied; %lld runs already "
               "present\n", argc - optind, runs, preds, skipped);
    store_close(s);
    return rc;
}
