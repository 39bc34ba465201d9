/* engine/jsonutil.c - see jsonutil.h. */
#include "jsonutil.h"

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
