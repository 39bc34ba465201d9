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

/* {====== parsing a file; typed, path-named field access ====== */

int json_parse_file(const char *path, cJSON **out, char *err)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = tam_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    if (strlen(buf) != len) {
        free(buf);
        return tam_fail(err, TAM_EPARSE, "%s: contains a NUL byte: not a JSON text", path);
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(buf, &end, 1);
    if (!j) {
        /* end points at the first byte cJSON could not accept. */
        unsigned long line = 1, col = 1;
        if (!end || end < buf || end > buf + len)
            end = buf + len;
        for (const char *p = buf; p < end; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        rc = tam_fail(err, TAM_EPARSE, "%s:%lu:%lu: JSON syntax error%s near '%.20s'", path, line,
                      col, end >= buf + len ? " (unexpected end of file: truncated?)" : "", end);
        free(buf);
        return rc;
    }
    free(buf);
    *out = j;
    return TAM_OK;
}

cJSON *json_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The value as short JSON text for messages. */
static const char *json_show_short(const cJSON *item, char *buf, size_t cap)
{
    if (cJSON_IsNumber(item) && !isfinite(item->valuedouble)) {
        /* cJSON reads 1e999 as inf and would print it as "null" */
        snprintf(buf, cap, "%g", item->valuedouble);
        return buf;
    }
    char *s = cJSON_PrintUnformatted(item);
    if (!s) {
        snprintf(buf, cap, "?");
        return buf;
    }
    if (strlen(s) > 60)
        snprintf(buf, cap, "%.57s...", s);
    else
        snprintf(buf, cap, "%s", s);
    cJSON_free(s);
    return buf;
}

#define JSON_PATH(prefix, key) (prefix) && *(prefix) ? (prefix) : "", (prefix) && *(prefix) ? "." : "", (key)

static int json_missing(const char *file, const char *prefix, const char *key, char *err)
{
    return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: missing", file, JSON_PATH(prefix, key));
}

int json_num(const char *file, const char *prefix, const char *key, const cJSON *item,
             double *out, char *err)
{
    if (!item)
        return json_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected a number, got %s", file,
                        JSON_PATH(prefix, key), json_show_short(item, b, sizeof b));
    *out = item->valuedouble;
    return TAM_OK;
}

int json_int(const char *file, const char *prefix, const char *key, const cJSON *item,
             long lo, long hi, int *out, char *err)
{
    if (!item)
        return json_missing(file, prefix, key, err);
    char b[80];
    double v = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!isfinite(v) || v != floor(v))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected an integer, got %s", file,
                        JSON_PATH(prefix, key), json_show_short(item, b, sizeof b));
    if (v < (double)lo || v > (double)hi)
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: %.15g is out of range [%ld, %ld]", file,
                        JSON_PATH(prefix, key), v, lo, hi);
    *out = (int)v;
    return TAM_OK;
}

int json_bool(const char *file, const char *prefix, const char *key, const cJSON *item,
              int *out, char *err)
{
    if (!item)
        return json_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsBool(item))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected true or false, got %s", file,
                        JSON_PATH(prefix, key), json_show_short(item, b, sizeof b));
    *out = cJSON_IsTrue(item) ? 1 : 0;
    return TAM_OK;
}

int json_array(const char *file, const char *prefix, const char *key, const cJSON *item,
               int *n, char *err)
{
    if (!item)
        return json_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsArray(item))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected an array, got %s", file,
                        JSON_PATH(prefix, key), json_show_short(item, b, sizeof b));
    *n = cJSON_GetArraySize(item);
    return TAM_OK;
}

int json_object(const char *file, const char *prefix, const char *key, const cJSON *item,
                char *err)
{
    if (!item)
        return json_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsObject(item))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected an object, got %s", file,
                        JSON_PATH(prefix, key), json_show_short(item, b, sizeof b));
    return TAM_OK;
}

/* }====== */

/* {====== strict files: no key twice, anywhere ====== */

const cJSON *json_duplicate_key_deep(const cJSON *root)
{
    if (!root)
        return NULL;
    const cJSON *dup = cJSON_IsObject(root) ? json_duplicate_key(root) : NULL;
    for (const cJSON *it = root->child; it && !dup; it = it->next)
        dup = json_duplicate_key_deep(it);
    return dup;
}

int json_parse_file_strict(const char *path, cJSON **out, char *err)
{
    int rc = json_parse_file(path, out, err);
    if (rc)
        return rc;
    const cJSON *dup = json_duplicate_key_deep(*out);
    if (dup) {
        rc = tam_fail(err, TAM_EFIELD, "%s: field '%s' given twice", path, dup->string);
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

int json_str(const char *file, const char *prefix, const char *key, const cJSON *item,
             const char **out, char *err)
{
    if (!item)
        return json_missing(file, prefix, key, err);
    char b[80];
    if (!cJSON_IsString(item))
        return tam_fail(err, TAM_EFIELD, "%s: %s%s%s: expected a string, got %s", file,
                        JSON_PATH(prefix, key), json_show_short(item, b, sizeof b));
    *out = item->valuestring;
    return TAM_OK;
}

/* }====== */
