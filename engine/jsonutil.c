/* engine/jsonutil.c - see jsonutil.h. */
#include "jsonutil.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cJSON *json_duplicate_key(const cJSON *obj)
{
    /* Quadratic, but configuration objects have tens of keys, and the fuzzed
    ** worst case (a few thousand) still takes milliseconds. */
    for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next)
        for (const cJSON *jt = it->next; jt; jt = jt->next)
            if (it->string && jt->string && strcmp(it->string, jt->string) == 0)
                return jt;
    return NULL;
}

void json_show_value(const cJSON *v, char *buf, size_t cap)
{
    if (cJSON_IsNumber(v)) {
        snprintf(buf, cap, "%.15g", v->valuedouble);
        return;
    }
    char *t = cJSON_PrintUnformatted(v);
    snprintf(buf, cap, "%s", t ? t : "?");
    free(t);
}

int json_posint(const cJSON *obj, const char *key, int required, int dflt, double max, int *out,
                const char *what, char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return tam_fail(err, TAM_EFIELD, "%s: missing field '%s'", what, key);
        *out = dflt;
        return TAM_OK;
    }
    /* floor before any cast: a huge value must not reach (int) */
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
        v->valuedouble > max) {
        char shown[128];
        json_show_value(v, shown, sizeof shown);
        return tam_fail(err, TAM_EFIELD, "%s: field '%s': %s is not a positive integer", what,
                        key, shown);
    }
    *out = (int)v->valuedouble;
    return TAM_OK;
}
