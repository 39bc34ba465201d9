/* engine/model.c - read a HuggingFace config.json into model_t.
**
** Defaults follow the HF conventions: num_key_value_heads defaults to
** num_attention_heads (MHA), head_dim to hidden_size / num_attention_heads.
** An explicit head_dim (Qwen3, Llama-3) always wins.  cJSON never escapes.
*/
#include "model.h"
#include "jsonutil.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Model fields are whole numbers in [1, 1e9]. */
static int get_int(const cJSON *root, const char *key, int required, int dflt, int *out,
                   const char *what, char *err)
{
    return json_posint(root, key, required, dflt, 1e9, out, what, err);
}

static int dtype_bytes(const char *dt)
{
    static const struct { const char *name; int bytes; } tab[] = {
        {"bfloat16", 2}, {"float16", 2}, {"half", 2}, {"bf16", 2}, {"fp16", 2},
        {"float32", 4},  {"float", 4},   {"fp32", 4}, {"float8_e4m3fn", 1}, {"fp8", 1},
        {"int8", 1},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(dt, tab[i].name) == 0)
            return tab[i].bytes;
    return 0;
}

int model_parse(const char *json, const char *what, model_t *m, char *err)
{
    memset(m, 0, sizeof *m);
    cJSON *root;
    int rc = json_parse_object(json, what, NULL, &root, err);
    if (rc)
        return rc;
    if ((rc = json_check_members(root, what, NULL, "", err)))
        goto out;
    if ((rc = get_int(root, "num_hidden_layers", 1, 0, &m->L, what, err)) ||
        (rc = get_int(root, "hidden_size", 1, 0, &m->d, what, err)) ||
        (rc = get_int(root, "num_attention_heads", 1, 0, &m->H, what, err)) ||
        (rc = get_int(root, "num_key_value_heads", 0, m->H, &m->K, what, err)) ||
        (rc = get_int(root, "intermediate_size", 1, 0, &m->F, what, err)) ||
        (rc = get_int(root, "vocab_size", 1, 0, &m->V, what, err)))
        goto out;
    const cJSON *hdj = cJSON_GetObjectItemCaseSensitive(root, "head_dim");
    if (m->d % m->H != 0 && (!hdj || cJSON_IsNull(hdj))) { /* null = absent, as in get_int */
        rc = tam_fail(err, TAM_EFIELD, "%s: hidden_size %d not divisible by num_attention_heads %d "
                      "and no head_dim given", what, m->d, m->H);
        goto out;
    }
    if ((rc = get_int(root, "head_dim", 0, m->d / m->H, &m->hd, what, err)))
        goto out;
    if (m->K > m->H || m->H % m->K != 0) {
        rc = tam_fail(err, TAM_EFIELD, "%s: num_key_value_heads %d does not divide "
                      "num_attention_heads %d", what, m->K, m->H);
        goto out;
    }
    const cJSON *ne = cJSON_GetObjectItemCaseSensitive(root, "num_local_experts");
    if (ne && !cJSON_IsNull(ne)) {
        if ((rc = get_int(root, "num_local_experts", 1, 0, &m->E, what, err)) ||
            (rc = get_int(root, "num_experts_per_tok", 1, 0, &m->topk, what, err)))
            goto out;
        if (m->topk > m->E) {
            rc = tam_fail(err, TAM_EFIELD, "%s: num_experts_per_tok %d > num_local_experts %d",
                          what, m->topk, m->E);
            goto out;
        }
    }
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(root, "torch_dtype");
    if (!dt)
        dt = cJSON_GetObjectItemCaseSensitive(root, "dtype");
    if (!dt || !cJSON_IsString(dt)) {
        rc = tam_fail(err, TAM_EFIELD, "%s: missing field 'torch_dtype' (string)", what);
        goto out;
    }
    m->wbytes = dtype_bytes(dt->valuestring);
    if (!m->wbytes) {
        rc = tam_fail(err, TAM_EFIELD, "%s: field 'torch_dtype': unknown dtype \"%s\"", what,
                      dt->valuestring);
        goto out;
    }
    snprintf(m->dtype, sizeof m->dtype, "%s", dt->valuestring);
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "_name_or_path");
    snprintf(m->name, sizeof m->name, "%s", cJSON_IsString(nm) ? nm->valuestring : what);
out:
    cJSON_Delete(root);
    return rc;
}

int model_load(const char *path, model_t *m, char *err)
{
    char file[1024];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(file, sizeof file, "%s/config.json", path);
    else
        snprintf(file, sizeof file, "%s", path);
    char *txt;
    int rc = tam_read_file(file, &txt, NULL, err);
    if (rc)
        return rc;
    rc = model_parse(txt, file, m, err);
    free(txt);
    if (rc == TAM_OK) {
        /* Name the model after its folder: stable and what users typed. */
        const char *p = path + strlen(path);
        while (p > path && p[-1] == '/')
            p--;
        const char *end = p;
        if (!(stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
            while (p > path && p[-1] != '/')
                p--; /* skip file name */
            if (p > path)
                p--;
            end = p;
        }
        const char *b = end;
        while (b > path && b[-1] != '/')
            b--;
        if (end > b)
            snprintf(m->name, sizeof m->name, "%.*s", (int)(end - b), b);
    }
    return rc;
}

double model_weight_bytes(const model_t *m)
{
    double attn = (double)m->d * m->hd * (2.0 * m->H + 2.0 * m->K);
    double mlp = 3.0 * m->d * m->F * (m->E ? m->E : 1) + (m->E ? (double)m->d * m->E : 0.0);
    double emb = 2.0 * m->d * m->V;
    return ((attn + mlp) * m->L + emb) * m->wbytes;
}

int model_is_gqa(const model_t *m)
{
    return m->K < m->H;
}
