/* tools/harness/harness.h - the hypothesis harness: corpus manifest, grids, criteria.
**
**   experiments/corpus.json     the measured experiments (data, not code)
**   experiments/Hn/grid.json    arms (label + engine configuration) x seeds
**   experiments/Hn/criteria.json  pre-registered criteria, each one SQL query
**                               returning one number, an operator and a threshold
*/
#ifndef TAM_HARNESS_H
#define TAM_HARNESS_H

#include "common.h"

typedef struct {
    int number;
    char id[128], path[256], model[128], family[64], attention[8], heavy[16], workload[64];
    int tp;
} manifest_exp_t;

typedef struct {
    int n;
    manifest_exp_t *e;
} manifest_t;

int manifest_load(const char *path, manifest_t *m, char *err);
void manifest_free(manifest_t *m);

/* The split of a split seed: held[f] = manifest index held out for family f.
** One held-out experiment per family, drawn with PCG32 (stream 7). */
int split_draw(const manifest_t *m, unsigned long long seed, int *held, int *nheld, char *err);

int cmd_ingest(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_merge(int argc, char **argv);

#endif
