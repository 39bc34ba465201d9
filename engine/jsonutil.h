/* engine/jsonutil.h - checks on parsed cJSON objects shared by the readers.
**
** cJSON keeps every member of an object, duplicates included, and its
** look-ups return the first; Python's json module (which wrote or will read
** most of these files) keeps the last.  A key given twice therefore means two
** different things to two programs, so the configuration readers refuse it.
*/
#ifndef TAM_JSONUTIL_H
#define TAM_JSONUTIL_H

#include <cJSON.h>
#include <stddef.h>

/* The second occurrence of the first key that appears twice among obj's
** direct members, or NULL when all keys are distinct. */
const cJSON *json_duplicate_key(const cJSON *obj);

/* A rejected value as the user wrote it, for an error message: a number with
** %.15g (so an overflowed 1e999 shows as inf, where cJSON would print null),
** anything else as compact JSON. */
void json_show_value(const cJSON *v, char *buf, size_t cap);

#endif
