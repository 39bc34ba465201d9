/* engine/kset.c - kernel data sets: built-in definitions, manifests, loading
** and identity (see kset.h).
**
** Manifest format (JSON object, strict: unknown fields and duplicate keys
** are errors):
**   "name"            string, required
**   "description"     string
**   "mfu"             folder in the proposal's layout (gemm/data.csv,
**                     mha/decode, mha/prefill), required: it prices whatever
**                     the measured tables lack (MHA decode, head pairs)
**   "mfu_gemm_dtype"  "fp8" | "bf16": what its GEMM table measured (default bf16)
**   "gemm", "decode", "prefill"   measured latency tables (engine/klat.h), optional
**   "moe"             array of {"file", "hidden", "intermediate", "experts", "topk"}
** Paths are relative to the manifest's folder (built-in sets: to the data
** directory) unless absolute.
*/
#include "kset.h"
#include "jsonutil.h"
#include "sha256.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AIC "kernels/h100-sxm/aiconfigurator/vllm-0.24.0/"

static const struct {
    const char *name, *json;
} builtin[] = {
    {"proposal-h100",
     "{\"name\": \"proposal-h100\", \"description\": \"the TAM proposal's H100 tables (mfu/h100): "
     "GEMM = DeepGEMM FP8, attention = bf16 FlashInfer/FA3, mfu rounded to 3 decimals\", "
     "\"mfu\": \"mfu/h100\", \"mfu_gemm_dtype\": \"fp8\"}"},
    {"h100-sxm-bf16",
     "{\"name\": \"h100-sxm-bf16\", \"description\": \"measured bf16 kernels of vLLM 0.24 on H100 "
     "SXM (aiconfigurator): GEMM, FA3 decode and prefill attention, fused MoE; MHA decode from "
     "mfu/h100 latency_us\", \"mfu\": \"mfu/h100\", \"mfu_gemm_dtype\": \"fp8\", "
     "\"gemm\": \"" AIC "gemm.csv\", \"decode\": \"" AIC "decode_attention.csv\", "
     "\"prefill\": \"" AIC "prefill_attention.csv\", \"moe\": [{\"file\": \"" AIC
     "moe_mixtral-8x7b.csv\", \"hidden\": 4096, \"intermediate\": 14336, \"experts\": 8, "
     "\"topk\": 2}]}"},
};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

const char *const kset_builtin_names[] = {"proposal-h100", "h100-sxm-bf16", NULL};

/* H100 SXM's L2 cache: a working set below it may be served from cache. */
#define L2_BYTES (50.0 * 1048576)
/* Measured tables are checked with no noise allowance: every row of the
** vllm-0.24.0 tables stays below the bf16 dense peak and HBM bandwidth (the
** closest: a GEMM at 96.6% of the FLOP peak, a decode call at 94.6% of HBM). */
#define KLAT_TOLERANCE 0.0

void kset_free(kset_t *ks)
{
    if (!ks)
        return;
    mfu_free(ks->mfu);
    mfu_free(ks->mfu_exact);
    klat_gemm_free(ks->gemm);
    klat_attn_free(ks->decode);
    klat_attn_free(ks->prefill);
    for (int i = 0; i < ks->n_moe; i++)
        klat_moe_free(ks->moe[i].t);
    free(ks);
}

/* Resolve a manifest path against base ("" = as given). */
static int resolve(const char *base, const char *rel, char *out, size_t cap, char *err)
{
    int n = rel[0] == '/' || !*base ? snprintf(out, cap, "%s", rel)
                                    : snprintf(out, cap, "%s/%s", base, rel);
    if (n < 0 || (size_t)n >= cap)
        return tam_fail(err, TAM_EFIELD, "path too long: %s/%s", base, rel);
    return TAM_OK;
}

/* Record a file read: its role, its name as the manifest gave it (paths
** under the base are shown relative to it, so the digest does not depend on
** where the data directory sits), and its SHA-256. */
static int add_file(kset_t *ks, const char *role, const char *base, const char *path, char *err)
{
    if (ks->n_files == KSET_MAX_FILES)
        return tam_fail(err, TAM_EFIELD, "kernel set '%s': more than %d files", ks->name,
                        KSET_MAX_FILES);
    kset_file_t *f = &ks->files[ks->n_files];
    size_t bl = strlen(base);
    const char *shown = path;
    if (bl && strncmp(path, base, bl) == 0 && path[bl] == '/')
        shown = path + bl + 1;
    snprintf(f->role, sizeof f->role, "%s", role);
    snprintf(f->name, sizeof f->name, "%s", shown);
    int rc = sha256_file(path, f->sha256, err);
    if (rc == TAM_OK)
        ks->n_files++;
    return rc;
}

static int str_field(const cJSON *o, const char *key, const char *what, int required,
                     const char **out, char *err)
{
    return json_nonempty_str(o, key, required, out, what, err);
}

static int int_field(const cJSON *o, const char *key, const char *what, int *out, char *err)
{
    return json_posint(o, key, 1, 0, 1e7, out, what, err);
}

static int check_fields(const cJSON *o, const char *what, const char *const *allowed, char *err)
{
    return json_check_members(o, what, allowed, "", err);
}

static int load_moe(kset_t *ks, const cJSON *arr, const char *what, const char *base,
                    const klat_phys_t *ph, char *err)
{
    static const char *const allowed[] = {"file", "hidden", "intermediate", "experts", "topk",
                                          NULL};
    if (!cJSON_IsArray(arr))
        return tam_fail(err, TAM_EFIELD, "%s: field 'moe' must be an array", what);
    int i = 0, rc = TAM_OK;
    for (const cJSON *e = arr->child; e && rc == TAM_OK; e = e->next, i++) {
        char w[600], path[1024];
        snprintf(w, sizeof w, "%s: moe[%d]", what, i);
        if (!cJSON_IsObject(e))
            return tam_fail(err, TAM_EFIELD, "%s must be an object", w);
        if (ks->n_moe == KSET_MAX_MOE)
            return tam_fail(err, TAM_EFIELD, "%s: more than %d MoE tables", w, KSET_MAX_MOE);
        kset_moe_t *m = &ks->moe[ks->n_moe];
        const char *file;
        if ((rc = check_fields(e, w, allowed, err)) || (rc = str_field(e, "file", w, 1, &file, err)) ||
            (rc = int_field(e, "hidden", w, &m->hidden, err)) ||
            (rc = int_field(e, "intermediate", w, &m->intermediate, err)) ||
            (rc = int_field(e, "experts", w, &m->experts, err)) ||
            (rc = int_field(e, "topk", w, &m->topk, err)) ||
            (rc = resolve(base, file, path, sizeof path, err)))
            return rc;
        klat_moe_shape_t shape = {m->hidden, m->intermediate, m->experts, m->topk};
        if ((rc = klat_moe_load_shape(path, ph, &shape, &m->t, err)))
            return rc;
        ks->n_moe++;
        rc = add_file(ks, "moe", base, path, err);
    }
    return rc;
}

/* Build *ks from a parsed manifest. */
static int from_manifest(kset_t *ks, const cJSON *root, const char *what, const char *base,
                         const char *mfu_dir, const char *gemm_mfu, const hw_t *hw, char *err)
{
    static const char *const allowed[] = {"name", "description", "mfu", "mfu_gemm_dtype", "gemm",
                                          "decode", "prefill", "moe", "comment", NULL};
    const char *name, *desc, *mfu, *dtype, *gemm, *dec, *pre;
    int rc;
    if ((rc = check_fields(root, what, allowed, err)) ||
        (rc = str_field(root, "name", what, 1, &name, err)) ||
        (rc = str_field(root, "description", what, 0, &desc, err)) ||
        (rc = str_field(root, "mfu", what, 1, &mfu, err)) ||
        (rc = str_field(root, "mfu_gemm_dtype", what, 0, &dtype, err)) ||
        (rc = str_field(root, "gemm", what, 0, &gemm, err)) ||
        (rc = str_field(root, "decode", what, 0, &dec, err)) ||
        (rc = str_field(root, "prefill", what, 0, &pre, err)))
        return rc;
    if (strlen(name) >= sizeof ks->name)
        return tam_fail(err, TAM_EFIELD, "%s: field 'name' longer than %zu characters", what,
                        sizeof ks->name - 1);
    if (dtype && strcmp(dtype, "fp8") && strcmp(dtype, "bf16"))
        return tam_fail(err, TAM_EFIELD, "%s: field 'mfu_gemm_dtype': \"%.40s\" is not fp8 or "
                        "bf16", what, dtype);
    snprintf(ks->name, sizeof ks->name, "%s", name);
    snprintf(ks->description, sizeof ks->description, "%s", desc ? desc : "");
    ks->gemm_fp8 = dtype && strcmp(dtype, "fp8") == 0;

    char path[1024];
    if (mfu_dir)
        snprintf(path, sizeof path, "%s", mfu_dir);
    else if ((rc = resolve(base, mfu, path, sizeof path, err)))
        return rc;
    mfu_opts_t o = {0, ks->gemm_fp8};
    if ((rc = mfu_load_opts(path, gemm_mfu, &o, &ks->mfu, err)))
        return rc;
    o.exact = 1;
    if ((rc = mfu_load_opts(path, gemm_mfu, &o, &ks->mfu_exact, err)))
        return rc;
    for (int i = 0; i < mfu_table_count(ks->mfu); i++) {
        const char *role, *f = mfu_table_file(ks->mfu, i, &role);
        if ((rc = add_file(ks, role, base, f, err)))
            return rc;
    }
    klat_phys_t ph = {hw->peak_flops, hw->hbm_bw, 2.0, L2_BYTES, KLAT_TOLERANCE};
    if (gemm && ((rc = resolve(base, gemm, path, sizeof path, err)) ||
                 (rc = klat_gemm_load(path, &ph, &ks->gemm, err)) ||
                 (rc = add_file(ks, "gemm", base, path, err))))
        return rc;
    if (dec && ((rc = resolve(base, dec, path, sizeof path, err)) ||
                (rc = klat_attn_load(path, 0, &ph, &ks->decode, err)) ||
                (rc = add_file(ks, "decode", base, path, err))))
        return rc;
    if (pre && ((rc = resolve(base, pre, path, sizeof path, err)) ||
                (rc = klat_attn_load(path, 1, &ph, &ks->prefill, err)) ||
                (rc = add_file(ks, "prefill", base, path, err))))
        return rc;
    const cJSON *moe = cJSON_GetObjectItemCaseSensitive(root, "moe");
    if (moe && (rc = load_moe(ks, moe, what, base, &ph, err)))
        return rc;
    return TAM_OK;
}

static void digest(kset_t *ks)
{
    sha256_t s;
    sha256_init(&s);
    for (int i = 0; i < ks->n_files; i++) {
        const kset_file_t *f = &ks->files[i];
        sha256_update(&s, f->role, strlen(f->role));
        sha256_update(&s, "\t", 1);
        sha256_update(&s, f->name, strlen(f->name));
        sha256_update(&s, "\t", 1);
        sha256_update(&s, f->sha256, 64);
        sha256_update(&s, "\n", 1);
    }
    sha256_final_hex(&s, ks->sha256);
}

int kset_load(const char *data, const char *spec, const char *mfu_dir, const char *gemm_mfu,
              const hw_t *hw, kset_t **out, char *err)
{
    *out = NULL;
    const char *json = NULL;
    char *txt = NULL, base[1024];
    for (size_t i = 0; i < NBUILTIN; i++)
        if (strcmp(spec, builtin[i].name) == 0)
            json = builtin[i].json;
    int rc;
    if (json) {
        snprintf(base, sizeof base, "%s", data);
    } else {
        if (!strchr(spec, '/') && !strstr(spec, ".json"))
            return tam_fail(err, TAM_EFIELD, "kernels '%s': not a built-in set (%s, %s) and not "
                            "a manifest path", spec, kset_builtin_names[0], kset_builtin_names[1]);
        if ((rc = tam_read_file(spec, &txt, NULL, err)))
            return rc;
        json = txt;
        const char *slash = strrchr(spec, '/');
        snprintf(base, sizeof base, "%.*s", slash ? (int)(slash - spec) : 1, slash ? spec : ".");
    }
    cJSON *root;
    if ((rc = json_parse_object(json, spec, "a kernel-set manifest object", &root, err))) {
        free(txt);
        return rc;
    }
    kset_t *ks = calloc(1, sizeof *ks);
    if (!ks)
        rc = tam_fail(err, TAM_ENOMEM, "out of memory");
    else
        rc = from_manifest(ks, root, spec, base, mfu_dir, gemm_mfu, hw, err);
    cJSON_Delete(root);
    free(txt);
    if (rc) {
        kset_free(ks);
        return rc;
    }
    digest(ks);
    snprintf(ks->spec, sizeof ks->spec, "%s", spec);
    *out = ks;
    return TAM_OK;
}

int kset_bind(const kset_t *ks, econf_t *c, char *err)
{
    if (strcmp(c->kernels, ks->name) != 0 && strcmp(c->kernels, ks->spec) != 0)
        return tam_fail(err, TAM_EFIELD, "configuration '%s' asks for kernels '%s' but the set "
                        "loaded is '%s'", c->name, c->kernels, ks->name);
    if (c->kernels_sha256[0] && strcmp(c->kernels_sha256, ks->sha256) != 0)
        return tam_fail(err, TAM_EFIELD, "configuration '%s' was stored over kernel set '%s' "
                        "with digest %.16s..., but its files now give %.16s...: the measurements "
                        "changed", c->name, ks->name, c->kernels_sha256, ks->sha256);
    snprintf(c->kernels_sha256, sizeof c->kernels_sha256, "%s", ks->sha256);
    return TAM_OK;
}

const kset_moe_t *kset_moe_for(const kset_t *ks, int hidden, int intermediate, int experts,
                               int topk)
{
    for (int i = 0; i < ks->n_moe; i++) {
        const kset_moe_t *m = &ks->moe[i];
        if (m->hidden == hidden && m->intermediate == intermediate && m->experts == experts &&
            m->topk == topk)
            return m;
    }
    return NULL;
}
