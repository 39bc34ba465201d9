/* tools/cli/cli.h - the tam subcommands and their output files (written
** under a temporary name, renamed into place only when complete).  The
** inputs every command resolves the same way are tools/harness/inputs.h. */
#ifndef TAM_CLI_H
#define TAM_CLI_H

#include "inputs.h"

#include <stdio.h>

FILE *cli_open_out(const char *path, char *err);
int cli_close_out(FILE *f, const char *path, char *err);
void cli_abort_out(FILE *f); /* discard a partial output */
FILE *cli_open_aux(const char *path, char *err);
int cli_close_aux(FILE *f, const char *path, char *err);
void cli_abort_aux(FILE *f);

int cmd_step(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_mfu(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_kernels(int argc, char **argv);
int cmd_stepcheck(int argc, char **argv);

#endif
