/* tools/harness/harness.c - `tam ingest`, `tam run`, `tam report`.
**
** ingest: every manifest experiment's trace into the store, once; plus the
**         70/30 split tables for the canonical seed 42 and seeds 1..20.
** run:    each (arm, experiment, seed) of a grid is one run: simulated whole,
**         committed in one transaction; runs already 'ok' are skipped, so an
**         interrupted grid resumes where it stopped.
** report: each pre-registered criterion is one SQL query returning a number;
**         the comparison, PASS/FAIL and the value are stored and printed.
*/
#include "harness.h"

#include "inputs.h"
#include "econf.h"
#include "jsonutil.h"
#include "rng.h"
#include "runner.h"
#include "store.h"
#include "trace.h"

#include <cJSON.h>
#include <sqlite3.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int jstr(const cJSON *o, const char *k, char *out, size_t cap, const char *what, int i,
                char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v))
        return tam_fail(err, TAM_EFIELD, "%s: experiments[%d].%s: missing or not a string", what,
                        i, k);
    snprintf(out, cap, "%s", v->valuestring);
    return TAM_OK;
}

static int jint(const cJSON *o, const char *k, int *out, const char *what, int i, char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return tam_fail(err, TAM_EFIELD, "%s: experiments[%d].%s: missing or not an integer",
                        what, i, k);
    *out = (int)v->valuedouble;
    return TAM_OK;
}

int manifest_load(const char *path, manifest_t *m, char *err)
{
    memset(m, 0, sizeof *m);
    char *txt;
    int rc = tam_read_file(path, &txt, NULL, err);
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithOpts(txt, NULL, 1); /* 1: nothing may follow */
    free(txt);
    const cJSON *arr = root ? cJSON_GetObjectItemCaseSensitive(root, "experiments") : NULL;
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(root);
        return tam_fail(err, TAM_EPARSE, "%s: malformed JSON or no 'experiments' array", path);
    }
    const cJSON *dup = json_duplicate_key(root);
    for (const cJSON *x = arr->child; x && !dup; x = x->next)
        dup = cJSON_IsObject(x) ? json_duplicate_key(x) : NULL;
    if (dup) {
        rc = tam_fail(err, TAM_EFIELD, "%s: field '%s' given twice", path, dup->string);
        cJSON_Delete(root);
        return rc;
    }
    m->n = cJSON_GetArraySize(arr);
    m->e = calloc((size_t)(m->n ? m->n : 1), sizeof *m->e);
    int i = 0;
    for (const cJSON *x = arr->child; x; x = x->next, i++) {
        manifest_exp_t *e = &m->e[i];
        if ((rc = jint(x, "number", &e->number, path, i, err)) ||
            (rc = jstr(x, "id", e->id, sizeof e->id, path, i, err)) ||
            (rc = jstr(x, "path", e->path, sizeof e->path, path, i, err)) ||
            (rc = jstr(x, "model", e->model, sizeof e->model, path, i, err)) ||
            (rc = jstr(x, "family", e->family, sizeof e->family, path, i, err)) ||
            (rc = jstr(x, "attention", e->attention, sizeof e->attention, path, i, err)) ||
            (rc = jstr(x, "heavy", e->heavy, sizeof e->heavy, path, i, err)) ||
            (rc = jstr(x, "workload", e->workload, sizeof e->workload, path, i, err)) ||
            (rc = jint(x, "tp", &e->tp, path, i, err)))
            break;
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

/* {====== common options ====== */

typedef struct {
    const char *db, *manifest, *grid, *criteria, *only, *arm, *shards, *format;
    long long seed; /* -1 = every seed of the grid */
    inputs_t env;
    int quiet;
} hopts_t;

static const struct option hlong[] = {
    {"db", required_argument, 0, 'd'},       {"manifest", required_argument, 0, 'M'},
    {"grid", required_argument, 0, 'g'},     {"criteria", required_argument, 0, 'c'},
    {"only", required_argument, 0, 'x'},     {"data", required_argument, 0, 'D'},
    {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
    {"arm", required_argument, 0, 'a'},      {"seed", required_argument, 0, 's'},
    {"shards", required_argument, 0, 'S'},   {"format", required_argument, 0, 'F'},
    {"kernels", required_argument, 0, 'K'},  {0, 0, 0, 0}};

static int hparse(int argc, char **argv, hopts_t *o, const char *usage)
{
    memset(o, 0, sizeof *o);
    inputs_init(&o->env);
    o->db = "db/tam.db";
    o->manifest = "experiments/corpus.json";
    o->seed = -1;
    o->format = "sh";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:M:g:c:x:D:qh", hlong, NULL)) != -1) {
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'M': o->manifest = optarg; break;
        case 'g': o->grid = optarg; break;
        case 'c': o->criteria = optarg; break;
        case 'x': o->only = optarg; break;
        case 'D': o->env.data = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'a': o->arm = optarg; break;
        case 's': o->seed = strtoll(optarg, NULL, 10); break;
        case 'S': o->shards = optarg; break;
        case 'F': o->format = optarg; break;
        case 'K': o->env.kernels = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    return -1;
}

/* }====== */

#define SPLIT_SEEDS 20 /* plus the canonical 42 */

/* The split of every split seed, one held-out experiment per family. */
static int ingest_splits(store_t *s, const manifest_t *m, char *err)
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

static const char ingest_usage[] =
    "usage: tam ingest [--db FILE] [--manifest FILE] [--data DIR] [--only ID]\n"
    "Load each manifest experiment's measured requests into the store (once: an\n"
    "experiment already there is checked and skipped) and the 70/30 splits for\n"
    "split seeds 42 and 1..20.  Defaults: db/tam.db, experiments/corpus.json, $DATA.\n";

int cmd_ingest(int argc, char **argv)
{
    hopts_t o;
    int r = hparse(argc, argv, &o, ingest_usage);
    if (r >= 0)
        return r;
    char err[TAM_ERRLEN], path[1024];
    manifest_t m;
    store_t *s = NULL;
    if (manifest_load(o.manifest, &m, err) || store_open(o.db, &s, err)) {
        fprintf(stderr, "tam ingest: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < m.n && !rc; i++) {
        const manifest_exp_t *e = &m.e[i];
        if (o.only && strcmp(o.only, e->id))
            continue;
        int has = 0;
        if (store_has_experiment(s, e->id, &has, err)) {
            rc = 1;
            break;
        }
        if (has)
            continue;
        snprintf(path, sizeof path, "%s/%s", o.env.data, e->path);
        trace_t *t;
        if (trace_load(path, &t, err)) {
            rc = 1;
            break;
        }
        exp_meta_t meta = {e->id, e->number, e->family, e->attention, e->heavy, e->model, e->tp};
        if (store_ingest(s, &meta, t, err))
            rc = 1;
        else if (!o.quiet)
            fprintf(stderr, "ingest: %2d %s: %d requests, %d load points\n", e->number, e->id,
                    t->n_req, t->n_points);
        trace_free(t);
    }
    if (!rc && ingest_splits(s, &m, err))
        rc = 1;
    if (rc)
        fprintf(stderr, "tam ingest: %s\n", err);
    store_close(s);
    manifest_free(&m);
    return rc;
}

/* {====== run ====== */


/* {====== grids ====== */

/* A grid file, validated as a whole before anything runs: the hypothesis,
** and per arm its label, its engine configuration (strictly parsed, named
** after the label) and its seeds (the arm's own or the grid's). */
typedef struct {
    cJSON *root;
    const char *hyp;
    int narms;
    const char **label;
    const cJSON **seeds;
    econf_t *conf;
} grid_t;

static void grid_free(grid_t *g)
{
    cJSON_Delete(g->root);
    free(g->label);
    free(g->seeds);
    free(g->conf);
    memset(g, 0, sizeof *g);
}

static int grid_load(const char *path, grid_t *g, char *err)
{
    char *txt = NULL;
    memset(g, 0, sizeof *g);
    int rc = tam_read_file(path, &txt, NULL, err);
    if (rc)
        return rc;
    g->root = cJSON_ParseWithOpts(txt, NULL, 1);
    free(txt);
    if (!g->root)
        return tam_fail(err, TAM_EPARSE, "%s: malformed JSON", path);
    const cJSON *hyp = cJSON_GetObjectItemCaseSensitive(g->root, "hypothesis");
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(g->root, "arms");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(g->root, "seeds");
    if (!cJSON_IsString(hyp) || !cJSON_IsArray(arms) || !cJSON_IsArray(seeds) ||
        cJSON_GetArraySize(arms) < 1 || cJSON_GetArraySize(seeds) < 1) {
        rc = tam_fail(err, TAM_EFIELD, "%s: needs \"hypothesis\" (string), \"arms\" and "
                      "\"seeds\" (non-empty arrays)", path);
        goto fail;
    }
    const cJSON *dup = json_duplicate_key(g->root);
    for (const cJSON *x = arms->child; x && !dup; x = x->next)
        dup = cJSON_IsObject(x) ? json_duplicate_key(x) : NULL;
    if (dup) {
        rc = tam_fail(err, TAM_EFIELD, "%s: field '%s' given twice", path, dup->string);
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

/* --arm names one of the grid's arms (a typo would otherwise run nothing). */
static int grid_has_arm(const grid_t *g, const char *arm, const char *path, char *err)
{
    for (int a = 0; a < g->narms; a++)
        if (strcmp(g->label[a], arm) == 0)
            return TAM_OK;
    return tam_fail(err, TAM_EFIELD, "%s: --arm '%s': the grid has no arm of that label", path,
                    arm);
}

/* }====== */

static const char run_usage[] =
    "usage: tam run --grid experiments/Hn/grid.json [--db FILE] [--manifest FILE]\n"
    "               [--data DIR] [--kernels SET] [--only EXPERIMENT_ID] [--arm LABEL]\n"
    "               [--seed N] [--quiet]\n"
    "Run every (arm, experiment, seed) of the grid; each run is simulated whole and\n"
    "stored in one transaction (an interrupted run stays 'failed', never partial).\n"
    "Runs already stored as 'ok' for the same configuration hash are skipped.\n"
    "Grid: {\"hypothesis\": \"Hn\", \"seeds\": [...], \"arms\": [{\"label\": ..., \"config\":\n"
    "{...engine configuration keys...} and/or \"preset\": NAME (config's keys over the\n"
    "preset), \"seeds\": [...] (optional, overrides)}]}\n"
    "--kernels SET runs every arm over that kernel data set (proposal-h100, h100-sxm-bf16\n"
    "or a manifest path) instead of the one its configuration names; the set and the\n"
    "SHA-256 of its files are part of each stored configuration.\n"
    "Needs `tam ingest` first.  Progress (a line per run) goes to stderr when it is a\n"
    "terminal; otherwise, and with --quiet off, one closing line says what was done.\n";

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

int cmd_run(int argc, char **argv)
{
    hopts_t o;
    int r = hparse(argc, argv, &o, run_usage);
    if (r >= 0)
        return r;
    if (!o.grid) {
        fputs(run_usage, stderr);
        return 2;
    }
    /* A line per run for a person watching; a log gets the closing line. */
    int progress = !o.quiet && isatty(STDERR_FILENO), n_sim = 0, n_reused = 0;
    char err[TAM_ERRLEN], path[1024], rev[128];
    inputs_git_rev(rev, sizeof rev);
    manifest_t m = {0};
    store_t *s = NULL;
    ksets_t kss = {0};
    kset_t **aks = NULL; /* each arm's kernel set */
    int rc = 1;
    grid_t g = {0};
    long long *cid = NULL;
    hw_t hw;
    hw_h100_sxm(&hw);
    if (manifest_load(o.manifest, &m, err) || grid_load(o.grid, &g, err) ||
        (o.arm && grid_has_arm(&g, o.arm, o.grid, err)) || store_open(o.db, &s, err))
        goto out;
    int narms = g.narms, a;
    const char **label = g.label;
    const cJSON **aseeds = g.seeds;
    econf_t *conf = g.conf;
    cid = calloc((size_t)narms, sizeof *cid);
    aks = calloc((size_t)narms, sizeof *aks);
    if (!cid || !aks) {
        tam_fail(err, TAM_ENOMEM, "out of memory");
        goto out;
    }
    for (a = 0; a < narms; a++) {
        char canon[2048], h[17];
        if (o.env.kernels) {
            if (strlen(o.env.kernels) >= sizeof conf[a].kernels) {
                tam_fail(err, TAM_EFIELD, "--kernels '%s': longer than %zu characters",
                         o.env.kernels, sizeof conf[a].kernels - 1);
                goto out;
            }
            if (strcmp(conf[a].kernels, o.env.kernels))
                conf[a].kernels_sha256[0] = '\0';
            snprintf(conf[a].kernels, sizeof conf[a].kernels, "%s", o.env.kernels);
        }
        if (ksets_get(&kss, o.env.data, conf[a].kernels, &hw, &aks[a], err) ||
            kset_bind(aks[a], &conf[a], err))
            goto out;
        econf_canonical(&conf[a], canon, sizeof canon);
        econf_hash(&conf[a], h);
        if (store_config(s, label[a], canon, h, rev, &cid[a], err) ||
            store_arm(s, g.hyp, label[a], cid[a], err))
            goto out;
    }
    int total = 0, done = 0;
    for (int i = 0; i < m.n; i++)
        if (!o.only || !strcmp(o.only, m.e[i].id))
            for (a = 0; a < narms; a++)
                if (!o.arm || !strcmp(o.arm, label[a]))
                    for (const cJSON *sd = aseeds[a]->child; sd; sd = sd->next)
                        total += o.seed < 0 || (unsigned long long)o.seed ==
                                                   (unsigned long long)sd->valuedouble;
    rc = 0;
    for (int i = 0; i < m.n && !rc; i++) {
        const manifest_exp_t *e = &m.e[i];
        if (o.only && strcmp(o.only, e->id))
            continue;
        int has = 0;
        if (store_has_experiment(s, e->id, &has, err) || !has) {
            if (!has)
                tam_fail(err, TAM_EFIELD, "experiment %s is not in %s: run `tam ingest` first",
                         e->id, o.db);
            rc = 1;
            break;
        }
        trace_t *t = NULL;
        char mpath[1024];
        model_t md;
        snprintf(path, sizeof path, "%s/%s", o.env.data, e->path);
        snprintf(mpath, sizeof mpath, "%s/models/%s", o.env.data, e->model);
        if (model_load(mpath, &md, err) || trace_load(path, &t, err)) {
            rc = 1;
            break;
        }
        for (a = 0; a < narms && !rc; a++) {
            step_model_t *sm = NULL;
            if (step_model_new(&md, &hw, aks[a], e->tp, &conf[a], &sm, err)) {
                rc = 1;
                break;
            }
            if (o.arm && strcmp(o.arm, label[a]) != 0) {
                step_model_free(sm);
                continue;
            }
            for (const cJSON *sd = aseeds[a]->child; sd && !rc; sd = sd->next) {
                unsigned long long seed = (unsigned long long)sd->valuedouble;
                if (o.seed >= 0 && (unsigned long long)o.seed != seed)
                    continue;
                long long run_id = 0;
                done++;
                if (store_run_find_ok(s, cid[a], e->id, seed, &run_id, err)) {
                    rc = 1;
                    break;
                }
                if (run_id) {
                    n_reused++;
                    if (progress)
                        fprintf(stderr, "[%d/%d] %s %-10s #%-2d seed %-4llu: stored (run %lld)\n",
                                done, total, g.hyp, label[a], e->number, seed, run_id);
                    continue;
                }
                if (store_run_begin(s, cid[a], e->id, seed, g.hyp, label[a], &run_id,
                                    err)) {
                    rc = 1;
                    break;
                }
                pred_t *p = NULL;
                run_stats_t st;
                long long kept = 0;
                if (runner_simulate_trace(sm, t, seed, &p, &st, err) ||
                    store_run_commit(s, run_id, p, t->n_req, &st, &kept, err)) {
                    char why[TAM_ERRLEN];
                    snprintf(why, sizeof why, "%s", err);
                    store_run_fail(s, run_id, why, NULL);
                    rc = 1;
                } else if ((kept == run_id ? ++n_sim : ++n_reused) && kept != run_id && progress) {
                    fprintf(stderr, "[%d/%d] %s %-10s #%-2d seed %-4llu: stored meanwhile by "
                            "another process (run %lld); this copy dropped\n", done, total,
                            g.hyp, label[a], e->number, seed, kept);
                } else if (progress) {
                    fprintf(stderr, "[%d/%d] %s %-10s #%-2d seed %-4llu: %d req, %lld steps, "
                            "%.2f s\n", done, total, g.hyp, label[a], e->number, seed,
                            t->n_req, st.steps, st.wall_seconds);
                }
                free(p);
            }
            step_model_free(sm);
        }
        trace_free(t);
    }
out:
    if (rc)
        fprintf(stderr, "tam run: %s\n", err);
    else if (!o.quiet)
        fprintf(stderr, "tam run: %s: %d runs simulated and stored, %d already stored\n", g.hyp,
                n_sim, n_reused);
    free(cid);
    free(aks);
    grid_free(&g);
    ksets_free(&kss);
    store_close(s);
    manifest_free(&m);
    return rc;
}

/* }====== */

/* {====== report ====== */

static const char report_usage[] =
    "usage: tam report --criteria experiments/Hn/criteria.json [--db FILE]\n"
    "Evaluate each pre-registered criterion (one SQL query -> one number) against\n"
    "its threshold; store the result in table `criteria` and print one line each:\n"
    "  ID  VALUE OP THRESHOLD  PASS|FAIL  text\n"
    "then the verdict (Confirmed / Partially confirmed / Refuted / Inconclusive)\n"
    "from the primary criteria.  Exit status 0 whatever the verdict.\n";

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

int cmd_report(int argc, char **argv)
{
    hopts_t o;
    int r = hparse(argc, argv, &o, report_usage);
    if (r >= 0)
        return r;
    if (!o.criteria) {
        fputs(report_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN], *txt = NULL;
    store_t *s = NULL;
    cJSON *root = NULL;
    int rc = 1;
    if (tam_read_file(o.criteria, &txt, NULL, err))
        goto out;
    root = cJSON_ParseWithOpts(txt, NULL, 1); /* 1: nothing may follow */
    const cJSON *hyp = root ? cJSON_GetObjectItemCaseSensitive(root, "hypothesis") : NULL;
    const cJSON *arr = root ? cJSON_GetObjectItemCaseSensitive(root, "criteria") : NULL;
    if (!cJSON_IsString(hyp) || !cJSON_IsArray(arr)) {
        tam_fail(err, TAM_EFIELD, "%s: malformed JSON, or no \"hypothesis\" and \"criteria\" array",
                 o.criteria);
        goto out;
    }
    const cJSON *dup = json_duplicate_key(root);
    for (const cJSON *c = arr->child; c && !dup; c = c->next)
        dup = cJSON_IsObject(c) ? json_duplicate_key(c) : NULL;
    if (dup) {
        tam_fail(err, TAM_EFIELD, "%s: field '%s' given twice", o.criteria, dup->string);
        goto out;
    }
    if (store_open(o.db, &s, err)) /* only once the criteria are known to be readable */
        goto out;
    if (store_exec(s, "BEGIN IMMEDIATE", err))
        goto out;
    int npri = 0, npass = 0, nnan = 0, i = 0;
    rc = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
        const cJSON *sql = cJSON_GetObjectItemCaseSensitive(c, "sql");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "op");
        const cJSON *th = cJSON_GetObjectItemCaseSensitive(c, "threshold");
        const cJSON *pri = cJSON_GetObjectItemCaseSensitive(c, "primary");
        int ok = 0;
        if (!cJSON_IsString(id) || !cJSON_IsString(text) || !cJSON_IsString(sql) ||
            !cJSON_IsString(op) || !cJSON_IsNumber(th) ||
            cmp_op(op->valuestring, 0, 0, &ok) != 0) {
            tam_fail(err, TAM_EFIELD, "%s: criteria[%d] needs id, text, sql, op (>=,>,<=,<) and "
                     "a numeric threshold", o.criteria, i);
            rc = 1;
            break;
        }
        double v;
        if (store_scalar(s, sql->valuestring, &v, err)) {
            char e2[TAM_ERRLEN];
            memcpy(e2, err, sizeof e2);
            e2[200] = '\0'; /* leave room for the file and criterion names */
            tam_fail(err, TAM_EDB, "%.200s: criterion %.60s: %s", o.criteria, id->valuestring, e2);
            rc = 1;
            break;
        }
        int primary = !cJSON_IsFalse(pri);
        cmp_op(op->valuestring, v, th->valuedouble, &ok);
        if (isnan(v))
            ok = 0;
        npri += primary;
        npass += primary && ok;
        nnan += primary && isnan(v);
        printf("%-14s %10.3f %-2s %-8g %-4s %s%s\n", id->valuestring, v, op->valuestring,
               th->valuedouble, isnan(v) ? "N/A" : ok ? "PASS" : "FAIL", text->valuestring,
               primary ? "" : "  [supplementary]");
        char detail[1024];
        snprintf(detail, sizeof detail, "%s%s", text->valuestring,
                 primary ? "" : " [supplementary]");
        if (put_criterion(s, hyp->valuestring, id->valuestring, v, th->valuedouble,
                          op->valuestring, ok, detail, sql->valuestring, err))
            rc = 1;
        if (rc)
            break;
    }
    if (rc) {
        store_exec(s, "ROLLBACK", NULL);
        goto out;
    }
    const char *verdict = nnan ? "Inconclusive"
                          : npass == npri ? "Confirmed"
                          : npass > 0 ? "Partially confirmed" : "Refuted";
    if (put_criterion(s, hyp->valuestring, "verdict", npass, npri, ">=", npass == npri, verdict,
                      "", err) ||
        store_exec(s, "COMMIT", err)) {
        rc = 1;
        goto out;
    }
    printf("%s verdict: %s (%d of %d primary criteria pass)\n", hyp->valuestring, verdict, npass,
           npri);
out:
    if (rc)
        fprintf(stderr, "tam report: %s\n", err);
    cJSON_Delete(root);
    free(txt);
    store_close(s);
    return rc;
}

/* }====== */

/* {====== scale-out: jobs and merge ====== */

static const char jobs_usage[] =
    "usage: tam jobs --grid G --shards DIR [--format sh|make] [--manifest FILE] [--data DIR]\n"
    "Print one independent job per (arm, experiment, seed) of a grid.  Each job\n"
    "ingests its experiment into its own shard database DIR/<hyp>-<arm#>-<exp#>-<seed>.db\n"
    "and runs that one cell there, so jobs share nothing and run anywhere:\n"
    "  --format sh    one shell command per line: xargs -P, GNU parallel (--sshlogin),\n"
    "                 or a Slurm array (sed -n \"${SLURM_ARRAY_TASK_ID}p\" jobs | sh)\n"
    "  --format make  a makefile with one target per shard: make -j N -f jobs.mk\n"
    "Then `tam merge --db db/tam.db DIR/*.db` brings them back (idempotent).\n";

int cmd_jobs(int argc, char **argv)
{
    hopts_t o;
    int r = hparse(argc, argv, &o, jobs_usage);
    if (r >= 0)
        return r;
    int mk = o.format && strcmp(o.format, "make") == 0;
    if (!o.grid || !o.shards || (!mk && strcmp(o.format, "sh") != 0)) {
        fputs(jobs_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN];
    manifest_t m = {0};
    grid_t g = {0};
    int rc = 1;
    if (manifest_load(o.manifest, &m, err) || grid_load(o.grid, &g, err))
        goto out;
    if (mk)
        printf("# generated by tam jobs from %s: make -j N -f THIS\nTAM ?= bin/tam\nall:\n", o.grid);
    int njobs = 0;
    for (int a = 0; a < g.narms; a++) {
        for (int i = 0; i < m.n; i++) {
            if (o.only && strcmp(o.only, m.e[i].id))
                continue;
            for (const cJSON *sd = g.seeds[a]->child; sd; sd = sd->next) {
                char shard[1024];
                unsigned long long seed = (unsigned long long)sd->valuedouble;
                snprintf(shard, sizeof shard, "%s/%s-a%d-e%d-s%llu.db", o.shards, g.hyp,
                         a, m.e[i].number, seed);
                njobs++;
                /* One command; in a makefile the binary is $(TAM) and the
                ** shard is the target, $@. */
                const char *tam = mk ? "$(TAM)" : "bin/tam", *db = mk ? "$@" : shard;
                if (mk)
                    printf("all: %s\n%s:\n\t@", shard, shard);
                printf("mkdir -p %s && %s ingest --quiet --db %s --data %s --manifest %s "
                       "--only %s && %s run --quiet --db %s --data %s --manifest %s "
                       "--grid %s --only %s --arm '%s' --seed %llu\n",
                       o.shards, tam, db, o.env.data, o.manifest, m.e[i].id, tam, db, o.env.data,
                       o.manifest, o.grid, m.e[i].id, g.label[a], seed);
            }
        }
    }
    if (!o.quiet)
        fprintf(stderr, "tam jobs: %d jobs\n", njobs);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "tam jobs: %s\n", err);
    grid_free(&g);
    manifest_free(&m);
    return rc;
}

static const char merge_usage[] =
    "usage: tam merge [--db FILE] SHARD.db...\n"
    "Merge shard databases (from `tam jobs`) into the store, one transaction per\n"
    "shard: experiments (checked by content hash), configurations (by hash), arms,\n"
    "splits, sweeps and every 'ok' run not already stored for the same\n"
    "(configuration, experiment, seed), with all its predictions.  Merging the\n"
    "same shard twice changes nothing.\n";

int cmd_merge(int argc, char **argv)
{
    hopts_t o;
    int r = hparse(argc, argv, &o, merge_usage);
    if (r >= 0)
        return r;
    if (optind >= argc) {
        fputs(merge_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN];
    store_t *s = NULL;
    if (store_open(o.db, &s, err)) {
        fprintf(stderr, "tam merge: %s\n", err);
        return 1;
    }
    int rc = 0;
    long long runs = 0, preds = 0, skipped = 0;
    for (int i = optind; i < argc; i++) {
        store_merge_t ms;
        if (store_merge(s, argv[i], &ms, err)) {
            fprintf(stderr, "tam merge: %s\n", err);
            rc = 1;
            break;
        }
        runs += ms.runs;
        preds += ms.predictions;
        skipped += ms.skipped;
        if (!o.quiet)
            fprintf(stderr, "merge: %s: %d experiments, %d runs (%lld predictions) copied, %d "
                    "already present\n", argv[i], ms.experiments, ms.runs, ms.predictions,
                    ms.skipped);
    }
    if (!rc)
        printf("merged %d shard(s): %lld runs, %lld predictions copied; %lld runs already "
               "present\n", argc - optind, runs, preds, skipped);
    store_close(s);
    return rc;
}

/* }====== */
