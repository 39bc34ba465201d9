/* tools/harness/tier1_cv.c - Tier 1 cross-validation: each manifest
** experiment as the one calibration trace, and the 10/4 family splits; the
** overfitting guard and the staleness flag per held-out experiment.  Also
** loading the experiments a calibration reads.  See tools/harness/tier1.h. */
#include "tier1.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cv_eval(cctx_t *cx, cv_row_t *r, char *err)
{
    cmet_t tm[MAXE];
    int rc;
    for (int k = 0; k < r->ntrain; k++)
        if ((rc = tier1_params_metrics(cx, &r->par, r->train[k], &tm[k], err)))
            return rc;
    cparams_t none;
    memset(&none, 0, sizeof none);
    for (int k = 0; k < r->nheld; k++) {
        if ((rc = tier1_params_metrics(cx, &r->par, r->held[k], &r->hm[k], err)) ||
            (rc = tier1_params_metrics(cx, &none, r->held[k], &r->bm[k], err)))
            return rc;
        r->stale[k] = calib_stale(r->hm[k].e2e);
    }
    r->train_m = tier1_metrics_mean(tm, r->ntrain);
    r->held_mean = tier1_metrics_mean(r->hm, r->nheld);
    r->base_mean = tier1_metrics_mean(r->bm, r->nheld);
    r->train_j = r->train_m.j;
    r->val_j = r->held_mean.j;
    r->reject = r->method != M_BASE && calib_guard_reject(r->train_j, r->val_j);
    r->guarded_mean = r->reject ? r->base_mean : r->held_mean;
    return TAM_OK;
}

/* One calibration (train set -> every method), rows appended at *nrows. */
static int cv_one(cctx_t *cx, int protocol, int choice, const int *train, int ntrain,
                  const int *held, int nheld, cv_row_t *rows, int *nrows, char *err)
{
    cparams_t insim;
    memset(&insim, 0, sizeof insim);
    for (int m = 0; m < N_METHODS; m++) {
        cv_row_t *r = &rows[(*nrows)++];
        memset(r, 0, sizeof *r);
        r->protocol = protocol;
        r->choice = choice;
        r->method = m;
        r->ntrain = ntrain;
        memcpy(r->train, train, (size_t)ntrain * sizeof *train);
        r->nheld = nheld;
        memcpy(r->held, held, (size_t)nheld * sizeof *held);
        int rc = tier1_fit_method(cx, m, train, ntrain, &insim, &r->par, err);
        if (rc)
            return rc;
        if (m == M_INSIM)
            insim = r->par;
        if ((rc = cv_eval(cx, r, err)))
            return rc;
    }
    return TAM_OK;
}


/* Run both protocols; rows (allocated here, caller frees) in the order:
** single-trace choices 1..n x methods, then split seeds 42, 1..20 x methods. */
int tier1_cv_run(cctx_t *cx, const manifest_t *man, int nsplits, cv_row_t **rows_out,
                  int *nrows_out, char *err)
{
    int n = cx->n, cap = (n + nsplits + 1) * N_METHODS;
    cv_row_t *rows = calloc((size_t)cap, sizeof *rows);
    if (!rows)
        return tam_fail(err, TAM_ENOMEM, "out of memory");
    int nr = 0, rc = TAM_OK;
    for (int e = 0; e < n && rc == TAM_OK; e++) {
        int held[MAXE], nh = 0;
        for (int k = 0; k < n; k++)
            if (k != e)
                held[nh++] = k;
        rc = cv_one(cx, P_SINGLE, cx->x[e].number, &e, 1, held, nh, rows, &nr, err);
        if (!cx->quiet)
            fprintf(stderr, "calibrate: single-trace %2d/%d (#%d) done, %lld simulations, "
                    "%.1f s simulated wall\n", e + 1, n, cx->x[e].number, cx->n_sims,
                    cx->sim_wall);
    }
    for (int s = 0; s <= nsplits && rc == TAM_OK; s++) {
        unsigned long long seed = s == 0 ? 42 : (unsigned long long)s;
        int hf[32], nhf;
        if ((rc = split_draw(man, seed, hf, &nhf, err)))
            break;
        int train[MAXE], nt = 0, held[MAXE], nh = 0;
        for (int k = 0; k < n; k++) {
            int h = 0;
            for (int f = 0; f < nhf; f++)
                h |= hf[f] == k;
            if (h)
                held[nh++] = k;
            else
                train[nt++] = k;
        }
        rc = cv_one(cx, P_SPLIT, (int)seed, train, nt, held, nh, rows, &nr, err);
        if (!cx->quiet)
            fprintf(stderr, "calibrate: split seed %llu done, %lld simulations, %.1f s "
                    "simulated wall\n", seed, cx->n_sims, cx->sim_wall);
    }
    if (rc) {
        free(rows);
        return rc;
    }
    *rows_out = rows;
    *nrows_out = nr;
    return TAM_OK;
}

int tier1_load_single(cctx_t *cx, const char *dir, const char *model, const char *data,
                       char *err)
{
    cexp_t *x = &cx->x[0];
    int rc = trace_load(dir, &x->t, err);
    if (rc)
        return rc;
    snprintf(x->label, sizeof x->label, "%s", dir);
    x->tp = x->t->tp > 0 ? x->t->tp : 1;
    if ((rc = tier1_cexp_measured(x, err)))
        return rc;
    if (x->n_ok < MIN_REQUESTS)
        return tam_fail(err, TAM_EFIELD, "%s: %d successful requests (of %d); one-trace "
                        "calibration needs at least %d", dir, x->n_ok, x->t->n_req,
                        MIN_REQUESTS);
    char mpath[1024];
    if (model) {
        inputs_t e;
        inputs_init(&e);
        e.data = data;
        if (inputs_model_path(&e, model, mpath, sizeof mpath))
            return tam_fail(err, TAM_EFIELD, "--model: path too long");
    } else if (runner_model_dir(data, x->t->model_id, mpath, sizeof mpath)) {
        return tam_fail(err, TAM_EFIELD, "%s: no config for model '%s' under %s/models; pass "
                        "--model", dir, x->t->model_id, data);
    }
    return model_load(mpath, &x->m, err);
}

int tier1_load_manifest(cctx_t *cx, const manifest_t *man, const char *data, char *err)
{
    for (int i = 0; i < man->n; i++) {
        cexp_t *x = &cx->x[i];
        const manifest_exp_t *me = &man->e[i];
        int rc = manifest_exp_load(me, data, &x->m, &x->t, err);
        if (rc)
            return rc;
        snprintf(x->label, sizeof x->label, "%s", me->id);
        snprintf(x->family, sizeof x->family, "%s", me->family);
        x->number = me->number;
        x->tp = me->tp;
        if ((rc = tier1_cexp_measured(x, err)))
            return rc;
        cx->n = i + 1;
    }
    return TAM_OK;
}

void tier1_free(cctx_t *cx, int nx)
{
    for (int i = 0; i < cx->n_cache; i++) {
        tier1_cpred_free(&cx->cache[i]->p);
        free(cx->cache[i]);
    }
    free(cx->cache);
    if (cx->x) {
        for (int i = 0; i < nx; i++)
            tier1_cexp_free(&cx->x[i]);
        free(cx->x);
    }
    memset(cx, 0, sizeof *cx);
}
