/* tools/harness/inputs.c - resolving a run's inputs (see inputs.h). */
#include "build_info.h"
#include "inputs.h"
#include "jsonutil.h"
#include "presets_json.h"

#include <cJSON.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void inputs_init(inputs_t *e)
{
    memset(e, 0, sizeof *e);
    /* --data (set by each command), then DATA, then where the build found it */
    const char *d = getenv("DATA");
    e->data = d && *d ? d : TAM_DATA_DIR;
    e->tp = 1;
}

int inputs_model_path(const inputs_t *e, const char *name, char *out, size_t cap)
{
    struct stat st;
    if (strchr(name, '/') || stat(name, &st) == 0)
        return snprintf(out, cap, "%s", name) >= (int)cap ? -1 : 0;
    return snprintf(out, cap, "%s/models/%s", e->data, name) >= (int)cap ? -1 : 0;
}

/* The source revision: TAM_GIT_REV (the Makefile reads it once per make)
** or, run by hand, git describe of the working tree. */
void inputs_git_rev(char *out, size_t cap)
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

int inputs_mfu(const inputs_t *e, mfu_db_t **db, char *err)
{
    char path[1024];
    if (e->mfu)
        snprintf(path, sizeof path, "%s", e->mfu);
    else
        snprintf(path, sizeof path, "%s/mfu/h100", e->data);
    return mfu_load_with_gemm(path, e->gemm_mfu, db, err);
}

/* Parse a preset file's text: {"preset", "description", "chosen", "config"}. */
static int preset_parse(const char *file, const char *json, char *name, size_t cap, econf_t *c,
                        char *desc, size_t dcap, char *err)
{
    static const char *const fields[] = {"preset", "description", "chosen", "config"};
    cJSON *root = cJSON_ParseWithOpts(json, NULL, 1);
    int rc = TAM_OK;
    if (!root || !cJSON_IsObject(root)) {
        rc = tam_fail(err, TAM_EPARSE, "%s: malformed JSON (expected a preset object)", file);
        goto out;
    }
    const cJSON *dup = json_duplicate_key(root);
    if (dup) {
        rc = tam_fail(err, TAM_EFIELD, "%s: field '%s' given twice", file, dup->string);
        goto out;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        int known = 0;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            known |= strcmp(it->string, fields[i]) == 0;
        if (!known) {
            rc = tam_fail(err, TAM_EFIELD, "%s: unknown field '%s'", file, it->string);
            goto out;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, fields[i]);
        if (!cJSON_IsString(v) || !v->valuestring[0]) {
            rc = tam_fail(err, TAM_EFIELD, "%s: field '%s' must be a non-empty string", file,
                          fields[i]);
            goto out;
        }
    }
    snprintf(name, cap, "%s", cJSON_GetObjectItemCaseSensitive(root, "preset")->valuestring);
    if (desc)
        snprintf(desc, dcap, "%s",
                 cJSON_GetObjectItemCaseSensitive(root, "description")->valuestring);
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(root, "config");
    if (!cJSON_IsObject(cf)) {
        rc = tam_fail(err, TAM_EFIELD, "%s: field 'config' must be an object", file);
        goto out;
    }
    if (c) {
        char *txt = cJSON_PrintUnformatted(cf), what[300];
        snprintf(what, sizeof what, "%s: config", file);
        rc = txt ? econf_parse(txt, what, c, err) : tam_fail(err, TAM_ENOMEM, "out of memory");
        free(txt);
        if (rc == TAM_OK && strcmp(c->name, "baseline") == 0)
            snprintf(c->name, sizeof c->name, "%s", name);
    }
out:
    cJSON_Delete(root);
    return rc;
}

int inputs_preset(const char *name, const char *what, econf_t *c, char *err)
{
    char known[512] = "", pn[64];
    for (size_t i = 0; i < sizeof presets_json / sizeof presets_json[0]; i++) {
        int rc = preset_parse(presets_json[i].file, presets_json[i].json, pn, sizeof pn, NULL,
                              NULL, 0, err);
        if (rc)
            return rc;
        if (strcmp(pn, name) == 0)
            return preset_parse(presets_json[i].file, presets_json[i].json, pn, sizeof pn, c,
                                NULL, 0, err);
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s%s", l ? ", " : "", pn);
    }
    return tam_fail(err, TAM_EFIELD, "%s '%s': no such preset (shipped: %s)", what, name, known);
}

void inputs_preset_help(FILE *f)
{
    char err[TAM_ERRLEN], pn[64], desc[1024];
    fputs("shipped presets (experiments/presets/):\n", f);
    for (size_t i = 0; i < sizeof presets_json / sizeof presets_json[0]; i++)
        if (preset_parse(presets_json[i].file, presets_json[i].json, pn, sizeof pn, NULL, desc,
                         sizeof desc, err) == TAM_OK)
            fprintf(f, "    %-9s %s\n", pn, desc);
}

int inputs_config(const inputs_t *e, econf_t *c, char *err)
{
    if (e->config && e->preset)
        return tam_fail(err, TAM_EFIELD, "--config and --preset both given: choose one (a "
                        "--config file is read over the baseline's defaults)");
    int rc;
    if (e->config)
        rc = econf_load(e->config, c, err);
    else if (e->preset || e->default_preset)
        rc = inputs_preset(e->preset ? e->preset : "default", "--preset", c, err);
    else
        rc = (econf_baseline(c), TAM_OK);
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

int inputs_kset(const inputs_t *e, const hw_t *hw, econf_t *c, kset_t **ks, char *err)
{
    int rc = kset_load(e->data, c->kernels, e->mfu, e->gemm_mfu, hw, ks, err);
    if (rc == TAM_OK && e->gemm_mfu && (*ks)->gemm) {
        rc = tam_fail(err, TAM_EFIELD, "--gemm-mfu replaces the GEMM table of the proposal-layout "
                      "tables, but kernel set '%s' prices GEMMs from measured latencies: use "
                      "--kernels proposal-h100 (or --preset baseline) with it", (*ks)->name);
        kset_free(*ks);
        *ks = NULL;
        return rc;
    }
    if (rc == TAM_OK && (rc = kset_bind(*ks, c, err))) {
        kset_free(*ks);
        *ks = NULL;
    }
    return rc;
}

int inputs_build(const inputs_t *e, model_t *m, hw_t *hw, kset_t **ks, econf_t *c,
              step_model_t **sm, char *err)
{
    char path[1024];
    int rc;
    *ks = NULL;
    *sm = NULL;
    if (!e->model)
        return tam_fail(err, TAM_EFIELD, "--model is required (a folder under %s/models, or a "
                        "path to config.json)", e->data);
    if (inputs_model_path(e, e->model, path, sizeof path))
        return tam_fail(err, TAM_EFIELD, "model path too long");
    if ((rc = model_load(path, m, err)))
        return rc;
    if (e->hardware) {
        if ((rc = hw_load(e->hardware, hw, err)))
            return rc;
    } else {
        hw_h100_sxm(hw);
    }
    if ((rc = inputs_config(e, c, err)) || (rc = inputs_kset(e, hw, c, ks, err)))
        return rc;
    if ((rc = step_model_new(m, hw, *ks, e->tp, c, sm, err))) {
        kset_free(*ks);
        *ks = NULL;
        return rc;
    }
    return TAM_OK;
}
