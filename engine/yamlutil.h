/* engine/yamlutil.h - typed look-ups in a YAML file, with file:line errors.
**
** A thin layer over libyaml's document API (yaml_parser_load): the whole
** first document is loaded once and values are found by a dotted path with
** sequence indices, e.g. "load.stages[1].rate".  Every failure writes one
** line into err naming the file, the line:column of the node (or of the
** nearest existing parent when a key is missing), the path, and the bad text.
** Scalars are typed strictly: a number must be a plain (unquoted) scalar that
** parses completely, decimal only, and is finite; a boolean is true/false.
*/
#ifndef TAM_YAMLUTIL_H
#define TAM_YAMLUTIL_H

#include <stddef.h>
#include <yaml.h>

typedef struct {
    yaml_document_t doc;
    int loaded;
    char file[512];
} yu_doc_t;

/* Parse the first document of `path`; an empty file is an error.
** On failure nothing needs freeing; on success call yu_free. */
int yu_load(yu_doc_t *d, const char *path, char *err);
void yu_free(yu_doc_t *d);

/* The node at `path` ("" = the root), or NULL when any step is absent. */
yaml_node_t *yu_find(yu_doc_t *d, const char *path);

/* Required values.  lo/hi bound the accepted range (inclusive). */
int yu_int(yu_doc_t *d, const char *path, long lo, long hi, int *out, char *err);
int yu_num(yu_doc_t *d, const char *path, double lo, double hi, double *out, char *err);
int yu_bool(yu_doc_t *d, const char *path, int *out, char *err);
int yu_str(yu_doc_t *d, const char *path, char *buf, size_t n, char *err);
/* The path must name a sequence; *n = its length. */
int yu_seq_len(yu_doc_t *d, const char *path, int *n, char *err);

#endif
