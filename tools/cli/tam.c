/* tools/cli/tam.c - the tam command: dispatch to subcommands.  The only place
** (with the cmd_* functions it calls) that prints to the user or chooses an
** exit status: 0 success, 1 bad input or failed run, 2 usage error. */
#include "build_info.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: tam COMMAND [options]   (tam COMMAND --help for each)\n"
    "\n"
    "Predict what vLLM serving on an NVIDIA H100 measures (TTFT, TPOT, E2E per\n"
    "request) from model shapes, hardware peaks and measured kernels; by default with\n"
    "the shipped default preset (tam simulate --help lists the presets).\n"
    "\n"
    "Engine:\n"
    "  step       price one engine step (a described batch); JSON breakdown\n"
    "  simulate   run a workload (trace folder or CSV) through the scheduler;\n"
    "             per-request results as CSV or JSON\n"
    "  mfu        MFU table lookups and sweeps (which rows served a lookup)\n"
    "  config     print an engine configuration's canonical form and hash\n"
    "  kernels    what a kernel data set is made of (files, SHA-256, digest)\n"
    "  stepcheck  engine steps against measured per-token gaps and synchronous points\n"
    "  bench      time loading vs simulating the largest corpus workload\n"
    "Harness (SQLite store, default db/tam.db):\n"
    "  ingest     load the corpus manifest's measured requests (idempotent)\n"
    "  run        run a hypothesis grid (experiments/Hn/grid.json) into the store\n"
    "  report     evaluate a hypothesis's pre-registered criteria: PASS/FAIL lines\n"
    "  jobs       split a grid into independent jobs writing shard databases\n"
    "  merge      merge shard databases back into the store (idempotent)\n"
    "  sweep      Part A studies (H4A, H5A, H6A) into the store\n"
    "  calibrate  Tier 1: fit a coefficient file on one trace; --cross-validate\n"
    "FINDINGS.md is rendered from the stores by `make findings` (tools/findings.sh).\n"
    "\n"
    "  --version  the source revision this tam was built from\n"
    "\n"
    "Environment: DATA = data directory (default: the one found at build time, " TAM_DATA_DIR
    ").\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("tam %s\n", TAM_VERSION);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"step", cmd_step},       {"simulate", cmd_simulate}, {"mfu", cmd_mfu},
        {"config", cmd_config},   {"ingest", cmd_ingest},     {"run", cmd_run},
        {"report", cmd_report},   {"bench", cmd_bench}, {"jobs", cmd_jobs}, {"merge", cmd_merge},
        {"sweep", cmd_sweep},     {"calibrate", cmd_calibrate}, {"kernels", cmd_kernels},
        {"stepcheck", cmd_stepcheck},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tam: unknown command '%s'\n%s", argv[1], usage);
    return 2;
}
