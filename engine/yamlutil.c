/* engine/yamlutil.c - typed look-ups in a YAML document (libyaml), with
** file:line:column errors.
**
** Invariants: the document is loaded once and read only; a yu_doc_t owns its
** yaml_document_t exactly when d->loaded is 1 (yu_free resets it, so a second
** yu_free is harmless).  Paths are walked segment by segment so that a missing
** key is reported at the line of the mapping that lacks it.  Nothing here
** prints or exits.
*/
#include "yamlutil.h"

#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int yu_load(yu_doc_t *d, const char *path, char *err)
{
    memset(d, 0, sizeof *d);
    snprintf(d->file, sizeof d->file, "%s", path);
    char *buf = NULL;
    size_t len = 0;
    int rc = tam_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        free(buf);
        return tam_fail(err, TAM_ENOMEM, "%s: cannot initialise the YAML parser", path);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&p, &d->doc)) {
        rc = tam_fail(err, TAM_EPARSE, "%s:%lu:%lu: YAML syntax error: %s%s%s", path,
                      (unsigned long)p.problem_mark.line + 1,
                      (unsigned long)p.problem_mark.column + 1,
                      p.problem ? p.problem : "unknown problem",
                      p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        free(buf);
        return rc;
    }
    yaml_parser_delete(&p);
    free(buf);
    d->loaded = 1;
    if (!yaml_document_get_root_node(&d->doc)) {
        yu_free(d);
        return tam_fail(err, TAM_EPARSE, "%s:1: empty YAML document", path);
    }
    return TAM_OK;
}

void yu_free(yu_doc_t *d)
{
    if (d && d->loaded) {
        yaml_document_delete(&d->doc);
        d->loaded = 0;
    }
}

static int scalar_is(const yaml_node_t *n, const char *s, size_t len)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
           memcmp(n->data.scalar.value, s, len) == 0;
}

/* Walk `path`.  Returns the node or NULL; on NULL, *stop is the last node
** reached and *stop_len the length of the path prefix that reached it. */
static yaml_node_t *walk(yu_doc_t *d, const char *path, yaml_node_t **stop, size_t *stop_len)
{
    yaml_node_t *n = d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
    const char *s = path;
    *stop = n;
    *stop_len = 0;
    while (n && *s) {
        if (*s == '.')
            s++;
        if (*s == '[') {
            char *end;
            long i = strtol(s + 1, &end, 10);
            if (*end != ']' || n->type != YAML_SEQUENCE_NODE || i < 0 ||
                i >= n->data.sequence.items.top - n->data.sequence.items.start)
                return NULL;
            n = yaml_document_get_node(&d->doc, n->data.sequence.items.start[i]);
            s = end + 1;
        } else {
            size_t k = strcspn(s, ".[");
            if (n->type != YAML_MAPPING_NODE)
                return NULL;
            yaml_node_t *found = NULL;
            for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
                yaml_node_t *key = yaml_document_get_node(&d->doc, pr->key);
                if (scalar_is(key, s, k)) {
                    found = yaml_document_get_node(&d->doc, pr->value);
                    break;
                }
            }
            if (!found)
                return NULL;
            n = found;
            s += k;
        }
        *stop = n;
        *stop_len = (size_t)(s - path);
    }
    return n;
}

yaml_node_t *yu_find(yu_doc_t *d, const char *path)
{
    yaml_node_t *stop;
    size_t len;
    return walk(d, path, &stop, &len);
}

static unsigned long line_of(const yaml_node_t *n) { return n ? (unsigned long)n->start_mark.line + 1 : 0; }
static unsigned long col_of(const yaml_node_t *n) { return n ? (unsigned long)n->start_mark.column + 1 : 0; }

/* The required node at path, or an error naming where the path stopped. */
static int need(yu_doc_t *d, const char *path, yaml_node_t **out, char *err)
{
    yaml_node_t *stop;
    size_t len;
    yaml_node_t *n = walk(d, path, &stop, &len);
    if (!n && len == 0)
        return tam_fail(err, TAM_EFIELD, "%s:%lu: %s: missing (no such key at the top level)",
                        d->file, line_of(stop), path);
    if (!n)
        return tam_fail(err, TAM_EFIELD, "%s:%lu: %s: missing (the path ends after '%.*s')",
                        d->file, line_of(stop), path, (int)len, path);
    *out = n;
    return TAM_OK;
}

/* Copy a scalar's text (truncated) for messages. */
static const char *show(const yaml_node_t *n, char *buf, size_t cap)
{
    if (n->type != YAML_SCALAR_NODE)
        snprintf(buf, cap, "%s", n->type == YAML_MAPPING_NODE ? "a mapping" : "a sequence");
    else
        snprintf(buf, cap, "'%.*s'", (int)(n->data.scalar.length < 60 ? n->data.scalar.length : 60),
                 (const char *)n->data.scalar.value);
    return buf;
}

/* A plain scalar holding a finite decimal number. */
static int scalar_num(const yaml_node_t *n, double *out)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    size_t len = n->data.scalar.length;
    if (len == 0 || len > 63)
        return 0;
    char tmp[64];
    memcpy(tmp, n->data.scalar.value, len);
    tmp[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)tmp[i]) && !strchr("+-.eE", tmp[i]))
            return 0;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (*end || end == tmp || errno || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int yu_num(yu_doc_t *d, const char *path, double lo, double hi, double *out, char *err)
{
    yaml_node_t *n = NULL;
    int rc = need(d, path, &n, err);
    if (rc)
        return rc;
    char b[80];
    double v;
    if (!scalar_num(n, &v))
        return tam_fail(err, TAM_EFIELD, "%s:%lu:%lu: %s: expected a number, got %s", d->file,
                        line_of(n), col_of(n), path, show(n, b, sizeof b));
    if (v < lo || v > hi)
        return tam_fail(err, TAM_EFIELD, "%s:%lu:%lu: %s: %g is out of range [%g, %g]", d->file,
                        line_of(n), col_of(n), path, v, lo, hi);
    *out = v;
    return TAM_OK;
}

int yu_int(yu_doc_t *d, const char *path, long lo, long hi, int *out, char *err)
{
    yaml_node_t *n = NULL;
    int rc = need(d, path, &n, err);
    if (rc)
        return rc;
    char b[80];
    double v;
    if (!scalar_num(n, &v) || v != floor(v))
        return tam_fail(err, TAM_EFIELD, "%s:%lu:%lu: %s: expected an integer, got %s", d->file,
                        line_of(n), col_of(n), path, show(n, b, sizeof b));
    if (v < (double)lo || v > (double)hi)
        return tam_fail(err, TAM_EFIELD, "%s:%lu:%lu: %s: %.15g is out of range [%ld, %ld]", d->file,
                        line_of(n), col_of(n), path, v, lo, hi);
    *out = (int)v;
    return TAM_OK;
}

int yu_bool(yu_doc_t *d, const char *path, int *out, char *err)
{
    yaml_node_t *n = NULL;
    int rc = need(d, path, &n, err);
    if (rc)
        return rc;
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        static const char *t[] = {"true", "True", "TRUE"}, *f[] = {"false", "False", "FALSE"};
        for (int i = 0; i < 3; i++) {
            if (scalar_is(n, t[i], strlen(t[i]))) {
                *out = 1;
                return TAM_OK;
            }
            if (scalar_is(n, f[i], strlen(f[i]))) {
                *out = 0;
                return TAM_OK;
            }
        }
    }
    char b[80];
    return tam_fail(err, TAM_EFIELD, "%s:%lu:%lu: %s: expected true or false, got %s", d->file,
                    line_of(n), col_of(n), path, show(n, b, sizeof b));
}

int yu_str(yu_doc_t *d, const char *path, char *buf, size_t cap, char *err)
{
    yaml_node_t *n = NULL;
    int rc = need(d, path, &n, err);
    if (rc)
        return rc;
    char b[80];
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
        return tam_fail(err, TAM_EFIELD, "%s:%lu:%lu: %s: expected a non-empty string, got %s",
                        d->file, line_of(n), col_of(n), path,
                        n->type == YAML_SCALAR_NODE ? "''" : show(n, b, sizeof b));
    if (n->data.scalar.length >= cap)
        return tam_fail(err, TAM_EFIELD, "%s:%lu:%lu: %s: string longer than %zu characters",
                        d->file, line_of(n), col_of(n), path, cap - 1);
    memcpy(buf, n->data.scalar.value, n->data.scalar.length);
    buf[n->data.scalar.length] = '\0';
    return TAM_OK;
}

int yu_seq_len(yu_doc_t *d, const char *path, int *len, char *err)
{
    yaml_node_t *n = NULL;
    int rc = need(d, path, &n, err);
    if (rc)
        return rc;
    char b[80];
    if (n->type != YAML_SEQUENCE_NODE)
        return tam_fail(err, TAM_EFIELD, "%s:%lu:%lu: %s: expected a sequence, got %s", d->file,
                        line_of(n), col_of(n), path, show(n, b, sizeof b));
    *len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    return TAM_OK;
}
