/* engine/hw.c - hardware profiles (JSON) and the built-in H100 SXM profile. */
#include "hw.h"
#include "jsonutil.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hw_h100_sxm(hw_t *hw)
{
    memset(hw, 0, sizeof *hw);
    snprintf(hw->name, sizeof hw->name, "H100 SXM 80GB");
    hw->peak_flops = 989.5e12; /* dense bf16: the datasheet's 1979 is with sparsity */
    hw->hbm_bw = 3.35e12;
    hw->mem_bytes = 80.0 * 1024 * 1024 * 1024;
    hw->nvlink_bw = 900e9;
}

static int num(const cJSON *root, const char *key, int required, double *out, const char *what,
               char *err)
{
    return json_posnum(root, key, required, out, what, err);
}

int hw_parse(const char *json, const char *what, hw_t *hw, char *err)
{
    memset(hw, 0, sizeof *hw);
    cJSON *root;
    int rc = json_parse_object(json, what, "an object", &root, err);
    if (rc)
        return rc;
    if ((rc = json_check_members(root, what, NULL, "", err)) ||
        (rc = num(root, "peak_flops_dense_bf16", 1, &hw->peak_flops, what, err)) ||
        (rc = num(root, "hbm_bandwidth", 1, &hw->hbm_bw, what, err)) ||
        (rc = num(root, "memory_bytes", 1, &hw->mem_bytes, what, err)) ||
        (rc = num(root, "nvlink_bandwidth", 1, &hw->nvlink_bw, what, err)) ||
        (rc = num(root, "bw_sequential", 0, &hw->bw_seq, what, err)) ||
        (rc = num(root, "bw_paged_kv", 0, &hw->bw_kv, what, err))) {
        cJSON_Delete(root);
        return rc;
    }
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "name");
    snprintf(hw->name, sizeof hw->name, "%s", cJSON_IsString(n) ? n->valuestring : what);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "measured");
    if (cJSON_IsString(ms))
        snprintf(hw->measured, sizeof hw->measured, "%s", ms->valuestring);
    cJSON_Delete(root);
    return TAM_OK;
}

int hw_load(const char *path, hw_t *hw, char *err)
{
    char *txt;
    int rc = tam_read_file(path, &txt, NULL, err);
    if (rc)
        return rc;
    rc = hw_parse(txt, path, hw, err);
    free(txt);
    return rc;
}
