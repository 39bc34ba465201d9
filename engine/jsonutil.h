/* engine/jsonutil.h - checks on parsed cJSON objects shared by the readers.
**
** cJSON keeps every member of an object, duplicates included, and its
** look-ups return the first; Python's json module (which wrote or will read
** most of these files) keeps the last.  A key given twice therefore means two
** different things to two programs, so the configuration readers refuse it.
*/
#ifndef TAM_JSONUTIL_H
#define TAM_JSONUTIL_H

#include "common.h"

#include <cJSON.h>
#include <stddef.h>

/* The second occurrence of the first key that appears twice among obj's
** direct members, or NULL when all keys are distinct. */
const cJSON *json_duplicate_key(const cJSON *obj);

/* A rejected value as the user wrote it, for an error message: a number with
** %.15g (so an overflowed 1e999 shows as inf, where cJSON would print null),
** anything else as compact JSON. */
void json_show_value(const cJSON *v, char *buf, size_t cap);

/* obj's member key as a whole number in [1, max] into *out.  An absent or
** null member is an error when required ("<what>: missing field '<key>'"),
** else *out = dflt; any other value that is not such a number is an error
** showing it ("<what>: field '<key>': <value> is not a positive integer"). */
int json_posint(const cJSON *obj, const char *key, int required, int dflt, double max, int *out,
                const char *what, char *err);

/* {====== parsing a file; typed, path-named field access ======
** The getter set every reader uses: the trace readers, and through them the
** harness.  Errors name the file and the key path ("prefix.key") with the
** offending value. */

/* Parse path; a syntax error (or trailing garbage) names line:column. */
int json_parse_file(const char *path, cJSON **out, char *err);
/* Object member (case-sensitive); NULL if obj is not an object or lacks it. */
cJSON *json_get(const cJSON *obj, const char *key);
/* Required typed values.  item is what json_get returned (NULL = missing);
** file and "prefix.key" name the place in errors, with the bad value. */
int json_num(const char *file, const char *prefix, const char *key, const cJSON *item,
             double *out, char *err);
int json_int(const char *file, const char *prefix, const char *key, const cJSON *item,
             long lo, long hi, int *out, char *err);
int json_bool(const char *file, const char *prefix, const char *key, const cJSON *item,
              int *out, char *err);
/* Required array (*n = its size) / required object. */
int json_array(const char *file, const char *prefix, const char *key, const cJSON *item,
               int *n, char *err);
int json_object(const char *file, const char *prefix, const char *key, const cJSON *item,
                char *err);
/* Required string (*out points into the tree). */
int json_str(const char *file, const char *prefix, const char *key, const cJSON *item,
             const char **out, char *err);
/* }====== */

/* {====== strict files: no key twice, anywhere ======
** For the files people write by hand (the harness's manifest, grids and
** criteria): json_parse_file (nothing may follow the value; a syntax error
** names line:column), and then no object at any depth may give a key twice
** ("<path>: field '<key>' given twice"). */
int json_parse_file_strict(const char *path, cJSON **out, char *err);
/* The second occurrence of the first key given twice in any object of the
** tree (depth first, document order), or NULL. */
const cJSON *json_duplicate_key_deep(const cJSON *root);
/* }====== */

#endif
