/* tools/harness/inputs.h - the inputs of a run, resolved the same way by every
** command and by the harness: the data directory, the model, hardware, MFU
** tables, engine configuration (file, shipped preset or the default), its
** kernel set, and the source revision stored with configurations.
** Library code: errors come back in err, nothing is printed except where a
** function says so (inputs_preset_help writes the list it is asked for). */
#ifndef TAM_INPUTS_H
#define TAM_INPUTS_H

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
} inputs_t;

void inputs_init(inputs_t *e);
/* Load model, hardware, configuration and its kernel set (bound to it);
** build a step model. */
int inputs_build(const inputs_t *e, model_t *m, hw_t *hw, kset_t **ks, econf_t *c,
              step_model_t **sm, char *err);
/* The configuration of --config (over the baseline's defaults) or of
** --preset, or with neither the "default" preset where the command defaults
** to it (else the baseline); then --kernels applied. */
int inputs_config(const inputs_t *e, econf_t *c, char *err);
/* A shipped preset (experiments/presets/NAME.json, compiled in); `what`
** says where the name was given ("--preset", "grid.json: arms[0].preset")
** for the error when no preset has that name. */
int inputs_preset(const char *name, const char *what, econf_t *c, char *err);
/* One line per preset, "  NAME  description", for --help. */
void inputs_preset_help(FILE *f);
/* The kernel set a configuration names (with --mfu/--gemm-mfu), bound to it. */
int inputs_kset(const inputs_t *e, const hw_t *hw, econf_t *c, kset_t **ks, char *err);
int inputs_model_path(const inputs_t *e, const char *name, char *out, size_t cap);
/* The MFU tables of --mfu (default DATA/mfu/h100) with --gemm-mfu's GEMM table. */
int inputs_mfu(const inputs_t *e, mfu_db_t **db, char *err);
/* The source revision stored with configurations (TAM_GIT_REV, else git
** describe --dirty of the working tree, else "unknown"). */
void inputs_git_rev(char *out, size_t cap);
#endif
