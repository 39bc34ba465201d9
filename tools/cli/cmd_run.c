/* tools/cli/cmd_run.c - `tam run`: a hypothesis grid into the store.
** Options and printing only; the work is the harness's (tools/harness/harness.h). */
#include "cli.h"
#include "harness.h"
#include "hopts.h"

#include <stdio.h>
#include <unistd.h>

static const char run_usage[] =
    "usage: tam run --grid experiments/Hn/grid.json [--db FILE] [--manifest FILE]\n"
    "               [--data DIR] [--kernels SET] [--only EXPERIMENT_ID] [--arm LABEL]\n"
    "               [--seed N] [--quiet]\n"
    "Run every (arm, experiment, seed) of the grid; each run is simulated whole and\n"
    "stored in one transaction (an interrupted run stays 'failed', never partial).\n"
    "Runs already stored as 'ok' for the same configuration hash are skipped.\n"
    "Grid: {\"hypothesis\": \"Hn\", \"seeds\": [...], \"arms\": [{\"label\": ..., \"config\":\n"
    "{...engine configuration keys...} and/or \"preset\": NAME (config's keys over the\n"
    "preset), \"seeds\": [...] (optional, overrides)}]}\n"
    "--kernels SET runs every arm over that kernel data set (proposal-h100, h100-sxm-bf16\n"
    "or a manifest path) instead of the one its configuration names; the set and the\n"
    "SHA-256 of its files are part of each stored configuration.\n"
    "Needs `tam ingest` first.  Progress (a line per run) goes to stderr when it is a\n"
    "terminal; otherwise, and with --quiet off, one closing line says what was done.\n";

/* A line per run, for a person watching stderr. */
static void progress(void *ctx, const harness_cell_t *c)
{
    (void)ctx;
    if (c->what == HARNESS_CELL_STORED)
        fprintf(stderr, "[%d/%d] %s %-10s #%-2d seed %-4llu: stored (run %lld)\n", c->done,
                c->total, c->hyp, c->label, c->number, c->seed, c->run_id);
    else if (c->what == HARNESS_CELL_DROPPED)
        fprintf(stderr, "[%d/%d] %s %-10s #%-2d seed %-4llu: stored meanwhile by "
                "another process (run %lld); this copy dropped\n", c->done, c->total, c->hyp,
                c->label, c->number, c->seed, c->run_id);
    else
        fprintf(stderr, "[%d/%d] %s %-10s #%-2d seed %-4llu: %d req, %lld steps, %.2f s\n",
                c->done, c->total, c->hyp, c->label, c->number, c->seed, c->n_req, c->steps,
                c->wall_seconds);
}

int cmd_run(int argc, char **argv)
{
    hopts_t o;
    int r = hopts_parse(argc, argv, &o, run_usage);
    if (r >= 0)
        return r;
    if (!o.grid) {
        fputs(run_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN];
    manifest_t m = {0};
    store_t *s = NULL;
    grid_t g = {0};
    int rc = 1, n_sim = 0, n_reused = 0;
    /* A line per run for a person watching; a log gets the closing line. */
    harness_run_t run = {o.db, o.env.data, o.env.kernels, o.only, o.arm, o.seed, NULL, NULL};
    if (!o.quiet && isatty(STDERR_FILENO))
        run.progress = progress;
    if (!manifest_load(o.manifest, &m, err) && !grid_load(o.grid, &g, err) &&
        !(o.arm && grid_has_arm(&g, o.arm, o.grid, err)) && !store_open(o.db, &s, err) &&
        !harness_run_grid(s, &m, &g, &run, &n_sim, &n_reused, err))
        rc = 0;
    if (rc)
        fprintf(stderr, "tam run: %s\n", err);
    else if (!o.quiet)
        fprintf(stderr, "tam run: %s: %d runs simulated and stored, %d already stored\n", g.hyp,
                n_sim, n_reused);
    grid_free(&g);
    store_close(s);
    manifest_free(&m);
    return rc;
}
