/* tools/cli/hopts.h - the options the harness commands (ingest, run, report,
** jobs, merge) share, parsed one way for all of them. */
#ifndef TAM_HOPTS_H
#define TAM_HOPTS_H

#include "inputs.h"

typedef struct {
    const char *db, *manifest, *grid, *criteria, *only, *arm, *shards, *format;
    long long seed; /* -1 = every seed of the grid */
    inputs_t env;
    int quiet;
} hopts_t;

/* Parse argv into o (defaults: db/tam.db, experiments/corpus.json, $DATA).
** Returns -1 to go on (optind = the first operand), else the exit status
** (0 after --help printed usage on stdout, 2 after a usage error). */
int hopts_parse(int argc, char **argv, hopts_t *o, const char *usage);

#endif
