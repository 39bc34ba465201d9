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

#endif
