/* tools/cli/cli.c - output files of the tam subcommands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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
