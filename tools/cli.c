/* tools/cli.c - shared plumbing for the tam subcommands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_env_init(cli_env_t *e)
{
    memset(e, 0, sizeof *e);
    const char *d = getenv("DATA");
    e->data = d && *d ? d : "../shared/data";
    e->tp = 1;
}

int cli_model_path(const cli_env_t *e, const char *name, char *out, size_t cap)
{
    struct stat st;
    if (strchr(name, '/') || stat(name, &st) == 0)
        return snprintf(out, cap, "%s", name) >= (int)cap ? -1 : 0;
    return snprintf(out, cap, "%s/models/%s", e->data, name) >= (int)cap ? -1 : 0;
}

/* The source revision: TAM_GIT_REV (the Makefile reads it once per make)
** or, run by hand, git describe of the working tree. */
void cli_git_rev(char *out, size_t cap)
{
    const char *env = getenv("TAM_GIT_REV");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    snprintf(out, cap, "unknown");
    FILE *p = popen("git describe --always --dirty --abbrev=12 2>/dev/null", "r");
    if (!p)
        return;
    if (fgets(out, (int)cap, p)) {
        out[strcspn(out, "\n")] = '\0';
        if (!out[0])
            snprintf(out, cap, "unknown");
    }
    pclose(p);
}

int cli_load_mfu(const cli_env_t *e, mfu_db_t **db, char *err)
{
    char path[1024];
    if (e->mfu)
        snprintf(path, sizeof path, "%s", e->mfu);
    else
        snprintf(path, sizeof path, "%s/mfu/h100", e->data);
    return mfu_load_with_gemm(path, e->gemm_mfu, db, err);
}

int cli_load_config(const cli_env_t *e, econf_t *c, char *err)
{
    int rc = e->config ? econf_load(e->config, c, err) : (econf_baseline(c), TAM_OK);
    if (rc == TAM_OK && e->kernels) {
        if (!*e->kernels || strlen(e->kernels) >= sizeof c->kernels)
            return tam_fail(err, TAM_EFIELD, "--kernels: '%s' must be a set name or a manifest "
                            "path of 1 to %zu characters", e->kernels, sizeof c->kernels - 1);
        if (strcmp(c->kernels, e->kernels) != 0)
            c->kernels_sha256[0] = '\0'; /* another set: its own digest is bound below */
        snprintf(c->kernels, sizeof c->kernels, "%s", e->kernels);
    }
    return rc;
}

int cli_load_kset(const cli_env_t *e, const hw_t *hw, econf_t *c, kset_t **ks, char *err)
{
    int rc = kset_load(e->data, c->kernels, e->mfu, e->gemm_mfu, hw, ks, err);
    if (rc == TAM_OK && (rc = kset_bind(*ks, c, err))) {
        kset_free(*ks);
        *ks = NULL;
    }
    return rc;
}

int cli_build(const cli_env_t *e, model_t *m, hw_t *hw, kset_t **ks, econf_t *c,
              step_model_t **sm, char *err)
{
    char path[1024];
    int rc;
    *ks = NULL;
    *sm = NULL;
    if (!e->model)
        return tam_fail(err, TAM_EFIELD, "--model is required (a folder under %s/models, or a "
                        "path to config.json)", e->data);
    if (cli_model_path(e, e->model, path, sizeof path))
        return tam_fail(err, TAM_EFIELD, "model path too long");
    if ((rc = model_load(path, m, err)))
        return rc;
    if (e->hardware) {
        if ((rc = hw_load(e->hardware, hw, err)))
            return rc;
    } else {
        hw_h100_sxm(hw);
    }
    if ((rc = cli_load_config(e, c, err)) || (rc = cli_load_kset(e, hw, c, ks, err)))
        return rc;
    if ((rc = step_model_new(m, hw, *ks, e->tp, c, sm, err))) {
        kset_free(*ks);
        *ks = NULL;
        return rc;
    }
    return TAM_OK;
}

/* Output files are written to a temporary name and renamed into place only
** when complete, so a failed command never leaves a partial result file.
** Two slots: the main output and one auxiliary file (the step series). */
static char out_tmp[1100], aux_tmp[1100];

static FILE *open_tmp(const char *path, char *tmp, size_t cap, char *err)
{
    snprintf(tmp, cap, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        tam_fail(err, TAM_EIO, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int close_tmp(FILE *f, const char *path, const char *tmp, char *err)
{
    int bad = ferror(f);
    if (fclose(f) || bad) {
        unlink(tmp);
        return tam_fail(err, TAM_EIO, "%s: write error", path);
    }
    if (rename(tmp, path)) {
        unlink(tmp);
        return tam_fail(err, TAM_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    }
    return TAM_OK;
}

FILE *cli_open_out(const char *path, char *err)
{
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    return open_tmp(path, out_tmp, sizeof out_tmp, err);
}

int cli_close_out(FILE *f, const char *path, char *err)
{
    if (f == stdout)
        return fflush(f) ? tam_fail(err, TAM_EIO, "stdout: write error") : TAM_OK;
    return close_tmp(f, path, out_tmp, err);
}

void cli_abort_out(FILE *f)
{
    if (f && f != stdout) {
        fclose(f);
        unlink(out_tmp);
    }
}

FILE *cli_open_aux(const char *path, char *err)
{
    return open_tmp(path, aux_tmp, sizeof aux_tmp, err);
}

int cli_close_aux(FILE *f, const char *path, char *err)
{
    return close_tmp(f, path, aux_tmp, err);
}

void cli_abort_aux(FILE *f)
{
    if (f) {
        fclose(f);
        unlink(aux_tmp);
    }
}
