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

/* The second occurrence of the first key that appears twice among obj's
** direct members, or NULL when all keys are distinct. */
const cJSON *json_duplicate_key(const cJSON *obj);

#endif
