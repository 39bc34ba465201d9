/* tools/cli.h - shared plumbing of the tam subcommands: option defaults,
** resolving model/hardware/MFU inputs, and output files. */
#ifndef TAM_CLI_H
#define TAM_CLI_H

#include "econf.h"
#include "hw.h"
#include "kset.h"
#include "mfu.h"
#include "model.h"
#include "step.h"

#include <stdio.h>

typedef struct {
    const char *data;      /* data directory (DATA env or ../shared/data) */
    const char *model;     /* folder name under DATA/models, or a path */
    const char *hardware;  /* profile JSON, NULL = built-in H100 SXM */
    const char *mfu;       /* MFU dir, NULL = DATA/mfu/h100 */
    const char *gemm_mfu;  /* GEMM table CSV replacing the MFU dir's, NULL = none */
    const char *config;    /* engine configuration JSON, NULL = baseline */
    const char *kernels;   /* kernel set replacing the configuration's, NULL = keep */
    const char *preset;    /* a shipped configuration by name (--preset), NULL = none */
    int default_preset;    /* 1: with neither --config nor --preset, use the "default" preset */
    int tp;
} cli_env_t;

void cli_env_init(cli_env_t *e);
/* Load model, hardware, configuration and its kernel set (bound to it);
** build a step model. */
int cli_build(const cli_env_t *e, model_t *m, hw_t *hw, kset_t **ks, econf_t *c,
              step_model_t **sm, char *err);
/* The configuration of --config (over the baseline's defaults) or of
** --preset, or with neither the "default" preset where the command defaults
** to it (else the baseline); then --kernels applied. */
int cli_load_config(const cli_env_t *e, econf_t *c, char *err);
/* A shipped preset (experiments/presets/NAME.json, compiled in); `what`
** says where the name was given ("--preset", "grid.json: arms[0].preset")
** for the error when no preset has that name. */
int cli_preset(const char *name, const char *what, econf_t *c, char *err);
/* One line per preset, "  NAME  description", for --help. */
void cli_preset_help(FILE *f);
/* The kernel set a configuration names (with --mfu/--gemm-mfu), bound to it. */
int cli_load_kset(const cli_env_t *e, const hw_t *hw, econf_t *c, kset_t **ks, char *err);
int cli_model_path(const cli_env_t *e, const char *name, char *out, size_t cap);
/* The MFU tables of --mfu (default DATA/mfu/h100) with --gemm-mfu's GEMM table. */
int cli_load_mfu(const cli_env_t *e, mfu_db_t **db, char *err);
/* The source revision stored with configurations (TAM_GIT_REV, else git
** describe --dirty of the working tree, else "unknown"). */
void cli_git_rev(char *out, size_t cap);
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
int cmd_kernels(int argc, char **argv);
int cmd_stepcheck(int argc, char **argv);

#endif
