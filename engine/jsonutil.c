/* engine/jsonutil.c - see jsonutil.h. */
#include "jsonutil.h"

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
