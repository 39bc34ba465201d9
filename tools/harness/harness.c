/* tools/harness/harness.c - the hypothesis harness's library: the corpus
** manifest and its splits, grid files, ingesting experiments, running a grid
** into the store, evaluating pre-registered criteria.  No option parsing and
** no printing: `tam ingest`, `run`, `report`, `jobs` and `merge`
** (tools/cli/cmd_*.c) call these and print what they report.
**
** ingest: every manifest experiment's trace into the store, once; plus the
**         70/30 split tables for the canonical seed 42 and seeds 1..20.
** run:    each (arm, experiment, seed) of a grid is one run: simulated whole,
**         committed in one transaction; runs already 'ok' are skipped, so an
**         interrupted grid resumes where it stopped.
** report: each pre-registered criterion is one SQL query returning a number;
**         the comparison, PASS/FAIL and the value are stored.
*/
#include "harness.h"

#include "inputs.h"
#include "econf.h"
#include "jsonutil.h"
#include "rng.h"
#include "runner.h"
#include "trace.h"

#include <sqlite3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {====== the manifest and its splits ====== */

int manifest_load(const char *path, manifest_t *m, char *err)
{
    memset(m, 0, sizeof *m);
    cJSON *root;
    int rc = json_parse_file_strict(path, &root, err), n = 0;
    const cJSON *arr = rc ? NULL : json_get(root, "experiments");
    if (rc || (rc = json_array(path, "", "experiments", arr, &n, err))) {
        cJSON_Delete(root);
        return rc;
    }
    m->n = n;
    m->e = calloc((size_t)(m->n ? m->n : 1), sizeof *m->e);
    if (!m->e) {
        cJSON_Delete(root);
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    }
    int i = 0;
    for (const cJSON *x = arr->child; x && !rc; x = x->next, i++) {
        manifest_exp_t *e = &m->e[i];
        const struct {
            const char *key;
            char *out;
            size_t cap;
        } str[] = {{"id", e->id, sizeof e->id},
                   {"path", e->path, sizeof e->path},
                   {"model", e->model, sizeof e->model},
                   {"family", e->family, sizeof e->family},
                   {"attention", e->attention, sizeof e->attention},
                   {"heavy", e->heavy, sizeof e->heavy},
                   {"workload", e->workload, sizeof e->workload}};
        char pre[48];
        snprintf(pre, sizeof pre, "experiments[%d]", i);
        if ((rc = json_object(path, "", pre, x, err)) ||
            (rc = json_int(path, pre, "number", json_get(x, "number"), 0, 1000000, &e->number,
                           err)))
            break;
        for (size_t k = 0; k < sizeof str / sizeof str[0] && !rc; k++) {
            const char *s = NULL;
            if (!(rc = json_str(path, pre, str[k].key, json_get(x, str[k].key), &s, err)) &&
                strlen(s) >= str[k].cap)
                rc = tam_fail(err, TAM_EFIELD, "%s: %s.%s: longer than %zu characters", path, pre,
                              str[k].key, str[k].cap - 1);
            if (!rc)
                snprintf(str[k].out, str[k].cap, "%s", s);
        }
        if (!rc)
            rc = json_int(path, pre, "tp", json_get(x, "tp"), 1, 4096, &e->tp, err);
    }
    cJSON_Delete(root);
    if (rc)
        manifest_free(m);
    return rc;
}

void manifest_free(manifest_t *m)
{
    free(m->e);
    memset(m, 0, sizeof *m);
}

int manifest_exp_load(const manifest_exp_t *e, const char *data, model_t *m, trace_t **t,
                      char *err)
{
    char path[1200];
    *t = NULL;
    snprintf(path, sizeof path, "%s/models/%s", data, e->model);
    int rc = model_load(path, m, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/%s", data, e->path);
    return trace_load(path, t, err);
}

int split_draw(const manifest_t *m, unsigned long long seed, int *held, int *nheld, char *err)
{
    /* Families in first-appearance order of the manifest: a fixed order, so
    ** the draw depends only on the seed and the manifest. */
    const char *fam[32];
    int nf = 0;
    for (int i = 0; i < m->n; i++) {
        int seen = 0;
        for (int f = 0; f < nf; f++)
            seen |= strcmp(fam[f], m->e[i].family) == 0;
        if (!seen) {
            if (nf == 32)
                return tam_fail(err, TAM_EFIELD, "too many families");
            fam[nf++] = m->e[i].family;
        }
    }
    pcg32_t r;
    rng_seed(&r, seed, 7);
    for (int f = 0; f < nf; f++) {
        int members[64], k = 0;
        for (int i = 0; i < m->n && k < 64; i++)
            if (strcmp(m->e[i].family, fam[f]) == 0)
                members[k++] = i;
        held[f] = members[rng_bounded(&r, (uint32_t)k)];
    }
    *nheld = nf;
    return TAM_OK;
}


#define SPLIT_SEEDS 20 /* plus the canonical 42 */

int harness_ingest_splits(store_t *s, const manifest_t *m, char *err)
{
    size_t cap = m->n > 0 ? (size_t)m->n : 1;
    const char **ids = malloc(cap * sizeof *ids);
    int *role = malloc(cap * sizeof *role);
    int rc = ids && role ? TAM_OK : tam_fail(err, TAM_ENOMEM, "out of memory");
    for (int i = 0; ids && i < m->n; i++)
        ids[i] = m->e[i].id;
    for (int k = 0; k <= SPLIT_SEEDS && rc == TAM_OK; k++) {
        unsigned long long seed = k == 0 ? 42 : (unsigned long long)k;
        int held[32], nh;
        if ((rc = split_draw(m, seed, held, &nh, err)))
            break;
        for (int i = 0; i < m->n; i++) {
            role[i] = 0;
            for (int f = 0; f < nh; f++)
                role[i] |= held[f] == i;
        }
        rc = store_split(s, seed, m->n, (const char *const *)ids, role, err);
    }
    free(ids);
    free(role);
    return rc;
}

int harness_ingest(store_t *s, const char *data, const manifest_exp_t *e, int *n_req,
                   int *n_points, char *err)
{
    *n_req = *n_points = -1;
    int has = 0, rc = store_has_experiment(s, e->id, &has, err);
    if (rc || has)
        return rc;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", data, e->path);
    trace_t *t;
    if ((rc = trace_load(path, &t, err)))
        return rc;
    exp_meta_t meta = {e->id, e->number, e->family, e->attention, e->heavy, e->model, e->tp};
    if ((rc = store_ingest(s, &meta, t, err)) == TAM_OK) {
        *n_req = t->n_req;
        *n_points = t->n_points;
    }
    trace_free(t);
    return rc;
}

/* }====== */

/* {====== grids ====== */

void grid_free(grid_t *g)
{
    cJSON_Delete(g->root);
    free(g->label);
    free(g->seeds);
    free(g->conf);
    memset(g, 0, sizeof *g);
}

int grid_load(const char *path, grid_t *g, char *err)
{
    memset(g, 0, sizeof *g);
    int rc = json_parse_file_strict(path, &g->root, err);
    if (rc)
        return rc;
    const cJSON *hyp = cJSON_GetObjectItemCaseSensitive(g->root, "hypothesis");
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(g->root, "arms");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(g->root, "seeds");
    if (!cJSON_IsString(hyp) || !cJSON_IsArray(arms) || !cJSON_IsArray(seeds) ||
        cJSON_GetArraySize(arms) < 1 || cJSON_GetArraySize(seeds) < 1) {
        rc = tam_fail(err, TAM_EFIELD, "%s: needs \"hypothesis\" (string), \"arms\" and "
                      "\"seeds\" (non-empty arrays)", path);
        goto fail;
    }
    g->hyp = hyp->valuestring;
    g->narms = cJSON_GetArraySize(arms);
    g->label = calloc((size_t)g->narms, sizeof *g->label);
    g->seeds = calloc((size_t)g->narms, sizeof *g->seeds);
    g->conf = calloc((size_t)g->narms, sizeof *g->conf);
    if (!g->label || !g->seeds || !g->conf) {
        rc = tam_fail(err, TAM_ENOMEM, "out of memory");
        goto fail;
    }
    int a = 0;
    for (const cJSON *x = arms->child; x; x = x->next, a++) {
        const cJSON *lb = cJSON_GetObjectItemCaseSensitive(x, "label");
        const cJSON *cf = cJSON_GetObjectItemCaseSensitive(x, "config");
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(x, "preset");
        const cJSON *as = cJSON_GetObjectItemCaseSensitive(x, "seeds");
        if (!cJSON_IsString(lb) || (cf && !cJSON_IsObject(cf)) || (ps && !cJSON_IsString(ps)) ||
            !(cf || ps)) {
            rc = tam_fail(err, TAM_EFIELD, "%s: arms[%d] needs \"label\" and \"config\" {}, "
                          "\"preset\" (a shipped preset's name) or both (the config's keys "
                          "over the preset)", path, a);
            goto fail;
        }
        for (int b = 0; b < a; b++)
            if (strcmp(g->label[b], lb->valuestring) == 0) {
                rc = tam_fail(err, TAM_EFIELD, "%s: arms[%d]: label '%s' used twice", path, a,
                              lb->valuestring);
                goto fail;
            }
        if (as && (!cJSON_IsArray(as) || cJSON_GetArraySize(as) < 1)) {
            rc = tam_fail(err, TAM_EFIELD, "%s: arms[%d].seeds must be a non-empty array", path,
                          a);
            goto fail;
        }
        g->label[a] = lb->valuestring;
        g->seeds[a] = as ? as : seeds;
        for (const cJSON *sd = g->seeds[a]->child; sd; sd = sd->next)
            if (!cJSON_IsNumber(sd) || sd->valuedouble < 0 || sd->valuedouble > 9.0e15 ||
                sd->valuedouble != floor(sd->valuedouble)) {
                rc = tam_fail(err, TAM_EFIELD, "%s: arms[%d]: seeds must be non-negative "
                              "integers", path, a);
                goto fail;
            }
        if (ps) {
            char what[300];
            snprintf(what, sizeof what, "%s: arms[%d].preset", path, a);
            if ((rc = inputs_preset(ps->valuestring, what, &g->conf[a], err)))
                goto fail;
        }
        if (cf) { /* over the baseline, or over the preset when one is named */
            char *cj = cJSON_PrintUnformatted(cf), what[256];
            snprintf(what, sizeof what, "%s: arms[%d].config", path, a);
            rc = !cj ? tam_fail(err, TAM_ENOMEM, "out of memory")
                 : ps ? econf_merge_json(cj, what, &g->conf[a], err)
                      : econf_parse(cj, what, &g->conf[a], err);
            free(cj);
            if (rc)
                goto fail;
        }
        snprintf(g->conf[a].name, sizeof g->conf[a].name, "%s", g->label[a]);
    }
    return TAM_OK;
fail:
    grid_free(g);
    return rc;
}

int grid_has_arm(const grid_t *g, const char *arm, const char *path, char *err)
{
    for (int a = 0; a < g->narms; a++)
        if (strcmp(g->label[a], arm) == 0)
            return TAM_OK;
    return tam_fail(err, TAM_EFIELD, "%s: --arm '%s': the grid has no arm of that label", path,
                    arm);
}

/* }====== */

/* {====== running a grid ====== */

/* The kernel sets a grid's arms use, each loaded once. */
#define MAX_KSETS 8
typedef struct {
    int n;
    kset_t *ks[MAX_KSETS];
} ksets_t;

static int ksets_get(ksets_t *k, const char *data, const char *spec, const hw_t *hw,
                     kset_t **out, char *err)
{
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->ks[i]->spec, spec) || !strcmp(k->ks[i]->name, spec)) {
            *out = k->ks[i];
            return TAM_OK;
        }
    if (k->n == MAX_KSETS)
        return tam_fail(err, TAM_EFIELD, "a grid may use at most %d kernel sets", MAX_KSETS);
    int rc = kset_load(data, spec, NULL, NULL, hw, &k->ks[k->n], err);
    if (rc == TAM_OK)
        *out = k->ks[k->n++];
    return rc;
}

static void ksets_free(ksets_t *k)
{
    for (int i = 0; i < k->n; i++)
        kset_free(k->ks[i]);
    k->n = 0;
}

/* Register every arm's configuration (with its kernel set, loaded once and
** bound to it) and the arm itself in the store: cid[a], ks[a]. */
static int run_prepare(store_t *s, grid_t *g, const harness_run_t *r, const hw_t *hw,
                       ksets_t *kss, long long *cid, kset_t **aks, char *err)
{
    char rev[128];
    inputs_git_rev(rev, sizeof rev);
    econf_t *conf = g->conf;
    for (int a = 0; a < g->narms; a++) {
        char canon[2048], h[17];
        if (r->kernels) {
            if (strlen(r->kernels) >= sizeof conf[a].kernels)
                return tam_fail(err, TAM_EFIELD, "--kernels '%s': longer than %zu characters",
                                r->kernels, sizeof conf[a].kernels - 1);
            if (strcmp(conf[a].kernels, r->kernels))
                conf[a].kernels_sha256[0] = '\0';
            snprintf(conf[a].kernels, sizeof conf[a].kernels, "%s", r->kernels);
        }
        int rc;
        if ((rc = ksets_get(kss, r->data, conf[a].kernels, hw, &aks[a], err)) ||
            (rc = kset_bind(aks[a], &conf[a], err)))
            return rc;
        econf_canonical(&conf[a], canon, sizeof canon);
        econf_hash(&conf[a], h);
        if ((rc = store_config(s, g->label[a], canon, h, rev, &cid[a], err)) ||
            (rc = store_arm(s, g->hyp, g->label[a], cid[a], err)))
            return rc;
    }
    return TAM_OK;
}

/* Whether run r selects seed sd of an arm. */
static int seed_selected(const harness_run_t *r, const cJSON *sd)
{
    return r->seed < 0 || (unsigned long long)r->seed == (unsigned long long)sd->valuedouble;
}

/* One (arm, experiment, seed) cell: reuse the stored run or simulate and
** store it; c says which, for the caller's progress report. */
static int run_cell(store_t *s, const step_model_t *sm, trace_t *t, long long cid,
                    const char *hyp, const manifest_exp_t *e, harness_cell_t *c, char *err)
{
    long long run_id = 0;
    int rc = store_run_find_ok(s, cid, e->id, c->seed, &run_id, err);
    if (rc)
        return rc;
    c->run_id = run_id;
    if (run_id) {
        c->what = HARNESS_CELL_STORED;
        c->n_reused++;
        return TAM_OK;
    }
    if ((rc = store_run_begin(s, cid, e->id, c->seed, hyp, c->label, &run_id, err)))
        return rc;
    pred_t *p = NULL;
    run_stats_t st;
    long long kept = 0;
    if ((rc = runner_simulate_trace(sm, t, c->seed, &p, &st, err)) ||
        (rc = store_run_commit(s, run_id, p, t->n_req, &st, &kept, err))) {
        char why[TAM_ERRLEN];
        snprintf(why, sizeof why, "%s", err);
        store_run_fail(s, run_id, why, NULL);
    } else {
        c->what = kept == run_id ? HARNESS_CELL_SIMULATED : HARNESS_CELL_DROPPED;
        *(kept == run_id ? &c->n_sim : &c->n_reused) += 1;
        c->run_id = kept;
        c->steps = st.steps;
        c->wall_seconds = st.wall_seconds;
    }
    free(p);
    return rc;
}

/* Every selected (arm, seed) of one experiment. */
static int run_experiment(store_t *s, const grid_t *g, const harness_run_t *r, const hw_t *hw,
                          kset_t **aks, const long long *cid, const manifest_exp_t *e,
                          harness_cell_t *c, char *err)
{
    int has = 0, rc = store_has_experiment(s, e->id, &has, err);
    if (rc || !has)
        return rc ? rc : tam_fail(err, TAM_EFIELD, "experiment %s is not in %s: run `tam ingest` "
                                  "first", e->id, r->db);
    trace_t *t = NULL;
    model_t md;
    if ((rc = manifest_exp_load(e, r->data, &md, &t, err)))
        return rc;
    c->number = e->number;
    c->n_req = t->n_req;
    for (int a = 0; a < g->narms && !rc; a++) {
        step_model_t *sm = NULL;
        if ((rc = step_model_new(&md, hw, aks[a], e->tp, &g->conf[a], &sm, err)))
            break;
        c->label = g->label[a];
        for (const cJSON *sd = g->seeds[a]->child; sd && !rc; sd = sd->next) {
            if ((r->arm && strcmp(r->arm, g->label[a]) != 0) || !seed_selected(r, sd))
                continue;
            c->seed = (unsigned long long)sd->valuedouble;
            c->done++;
            if ((rc = run_cell(s, sm, t, cid[a], g->hyp, e, c, err)) == TAM_OK && r->progress)
                r->progress(r->ctx, c);
        }
        step_model_free(sm);
    }
    trace_free(t);
    return rc;
}

int harness_run_grid(store_t *s, const manifest_t *m, grid_t *g, const harness_run_t *r,
                     int *n_sim, int *n_reused, char *err)
{
    *n_sim = *n_reused = 0;
    ksets_t kss = {0};
    hw_t hw;
    hw_h100_sxm(&hw);
    long long *cid = calloc((size_t)g->narms, sizeof *cid);
    kset_t **aks = calloc((size_t)g->narms, sizeof *aks); /* each arm's kernel set */
    int rc = cid && aks ? run_prepare(s, g, r, &hw, &kss, cid, aks, err)
                        : tam_fail(err, TAM_ENOMEM, "out of memory");
    harness_cell_t c = {.hyp = g->hyp};
    for (int i = 0; i < m->n; i++)
        if (!r->only || !strcmp(r->only, m->e[i].id))
            for (int a = 0; a < g->narms; a++)
                if (!r->arm || !strcmp(r->arm, g->label[a]))
                    for (const cJSON *sd = g->seeds[a]->child; sd; sd = sd->next)
                        c.total += seed_selected(r, sd);
    for (int i = 0; i < m->n && !rc; i++) {
        if (r->only && strcmp(r->only, m->e[i].id))
            continue;
        rc = run_experiment(s, g, r, &hw, aks, cid, &m->e[i], &c, err);
    }
    *n_sim = c.n_sim;
    *n_reused = c.n_reused;
    free(cid);
    free(aks);
    ksets_free(&kss);
    return rc;
}

/* }====== */

/* {====== criteria ====== */

static int cmp_op(const char *op, double v, double th, int *ok)
{
    if (!strcmp(op, ">="))
        *ok = v >= th;
    else if (!strcmp(op, ">"))
        *ok = v > th;
    else if (!strcmp(op, "<="))
        *ok = v <= th;
    else if (!strcmp(op, "<"))
        *ok = v < th;
    else
        return -1;
    return 0;
}

static int put_criterion(store_t *s, const char *hyp, const char *id, double v, double th,
                         const char *op, int pass, const char *detail, const char *sql, char *err)
{
    sqlite3 *h = store_handle(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, "INSERT OR REPLACE INTO criteria(hypothesis, criterion, "
                                "split_seed, value, threshold, op, pass, detail, query) "
                                "VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, hyp, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
        if (isnan(v))
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_double(st, 3, v);
        sqlite3_bind_double(st, 4, th);
        sqlite3_bind_text(st, 5, op, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 6, pass);
        sqlite3_bind_text(st, 7, detail, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, sql, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    if (rc != SQLITE_OK)
        tam_fail(err, TAM_EDB, "storing criterion %s: %s", id, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? TAM_OK : TAM_EDB;
}

int criteria_load(const char *path, criteria_t *c, char *err)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    int rc = json_parse_file_strict(path, &c->root, err);
    if (rc)
        return rc;
    const cJSON *hyp = json_get(c->root, "hypothesis");
    c->list = json_get(c->root, "criteria");
    if (!cJSON_IsString(hyp) || !cJSON_IsArray(c->list)) {
        criteria_free(c);
        return tam_fail(err, TAM_EFIELD, "%s: no \"hypothesis\" string and \"criteria\" array",
                        path);
    }
    c->hyp = hyp->valuestring;
    int i = 0, ok;
    for (const cJSON *x = c->list->child; x; x = x->next, i++) {
        const cJSON *op = json_get(x, "op");
        if (!cJSON_IsString(json_get(x, "id")) || !cJSON_IsString(json_get(x, "text")) ||
            !cJSON_IsString(json_get(x, "sql")) || !cJSON_IsString(op) ||
            !cJSON_IsNumber(json_get(x, "threshold")) || cmp_op(op->valuestring, 0, 0, &ok)) {
            criteria_free(c);
            return tam_fail(err, TAM_EFIELD, "%s: criteria[%d] needs id, text, sql, op (>=,>,<=,<) "
                            "and a numeric threshold", path, i);
        }
    }
    return TAM_OK;
}

void criteria_free(criteria_t *c)
{
    cJSON_Delete(c->root);
    memset(c, 0, sizeof *c);
}

/* One criterion: its query's value against its threshold, stored. */
static int eval_one(store_t *s, const criteria_t *c, const cJSON *x, criterion_result_t *r,
                    char *err)
{
    const cJSON *sql = json_get(x, "sql"), *pri = json_get(x, "primary");
    r->id = json_get(x, "id")->valuestring;
    r->text = json_get(x, "text")->valuestring;
    r->op = json_get(x, "op")->valuestring;
    r->threshold = json_get(x, "threshold")->valuedouble;
    r->primary = !cJSON_IsFalse(pri);
    if (store_scalar(s, sql->valuestring, &r->value, err)) {
        char e2[TAM_ERRLEN];
        memcpy(e2, err, sizeof e2);
        e2[200] = '\0'; /* leave room for the file and criterion names */
        return tam_fail(err, TAM_EDB, "%.200s: criterion %.60s: %s", c->path, r->id, e2);
    }
    cmp_op(r->op, r->value, r->threshold, &r->pass);
    if (isnan(r->value))
        r->pass = 0;
    char detail[1024];
    snprintf(detail, sizeof detail, "%s%s", r->text, r->primary ? "" : " [supplementary]");
    return put_criterion(s, c->hyp, r->id, r->value, r->threshold, r->op, r->pass, detail,
                         sql->valuestring, err);
}

int criteria_eval(store_t *s, const criteria_t *c, harness_criterion_fn cb, void *ctx,
                  criteria_verdict_t *v, char *err)
{
    memset(v, 0, sizeof *v);
    int rc = store_exec(s, "BEGIN IMMEDIATE", err);
    for (const cJSON *x = c->list->child; x && !rc; x = x->next) {
        criterion_result_t r;
        if ((rc = eval_one(s, c, x, &r, err)))
            break;
        v->n_primary += r.primary;
        v->n_pass += r.primary && r.pass;
        v->n_nan += r.primary && isnan(r.value);
        if (cb)
            cb(ctx, &r);
    }
    if (rc) {
        store_exec(s, "ROLLBACK", NULL);
        return rc;
    }
    v->verdict = v->n_nan ? "Inconclusive"
                 : v->n_pass == v->n_primary ? "Confirmed"
                 : v->n_pass > 0 ? "Partially confirmed" : "Refuted";
    if ((rc = put_criterion(s, c->hyp, "verdict", v->n_pass, v->n_primary, ">=",
                            v->n_pass == v->n_primary, v->verdict, "", err)) ||
        (rc = store_exec(s, "COMMIT", err)))
        store_exec(s, "ROLLBACK", NULL);
    return rc;
}

/* }====== */
