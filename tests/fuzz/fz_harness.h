/* tests/fuzz/fz_harness.h - one harness per input parser, shared by the
** libFuzzer targets (tests/fuzz/fz_*.c) and the plain regression test
** (engine/tests/t_fuzz_regress.c), so a crash input replays through exactly
** the code that found it.
**
** Every target feeds one input to the engine's normal entry point:
**   - in-memory parsers (model_parse, econf_parse, hw_parse) get the input
**     as a NUL-terminated text;
**   - folder readers (mfu_load, trace_load, wl_load_csv) get a private copy
**     of a small fixture in a scratch folder (mkdtemp under $TMPDIR or /tmp)
**     in which the input replaces one file (a "slot").  A target with more
**     than one slot uses the input's first byte to choose: byte % nslots
**     (seed files start with '0', '1', '2', ...), the rest is the content.
**     Other slots are put back to the fixture's bytes before each run.
** A run returns the entry point's status.  The contract checked on every
** input: status is TAM_OK or negative, a failure always has a message and
** leaves nothing allocated (ASan's leak check), and a success gives a value
** that honours the documented invariants (checked below; a violation calls
** FZ_ON_BUG, which aborts in the fuzzers and is a test failure in the test).
**
** Paths: fixtures are read from $FZ_ROOT (default FZ_ROOT, default ".",
** i.e. the repository root, where tests run).
*/
#ifndef FZ_HARNESS_H
#define FZ_HARNESS_H

#include "common.h"
#include "econf.h"
#include "hw.h"
#include "mfu.h"
#include "model.h"
#include "trace.h"
#include "workload.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FZ_ROOT
#define FZ_ROOT "."
#endif

#ifndef FZ_ON_BUG
#define FZ_ON_BUG(what) (fprintf(stderr, "fuzz: invariant broken: %s (%s:%d)\n", what, __FILE__, \
                                 __LINE__),                                               \
                         abort())
#endif
#define FZ_REQUIRE(cond)                                                                      \
    do {                                                                                      \
        if (!(cond))                                                                          \
            FZ_ON_BUG(#cond);                                                                 \
    } while (0)

#define FZ_MAX_SLOTS 3

typedef struct fz_target fz_target_t;
struct fz_target {
    const char *name;
    const char *fixture;              /* folder under the root, or NULL */
    const char *copy[6];              /* files of it to copy (NULL: all, recursively) */
    const char *base;                 /* scratch subfolder (a trace's id) */
    const char *slot[FZ_MAX_SLOTS];   /* files the input replaces */
    const char *format;               /* trace format expected on success */
    int (*run)(const fz_target_t *t, const char *dir, const char *txt, size_t n, char *err);
};

/* ---- scratch files ----------------------------------------------------- */

static char fz_scratch[512];

typedef struct {
    char dir[768];
    char *orig[FZ_MAX_SLOTS];
    size_t orig_len[FZ_MAX_SLOTS];
    int dirty[FZ_MAX_SLOTS];
    int ready;
} fz_state_t;

static const char *fz_root(void)
{
    const char *r = getenv("FZ_ROOT");
    return r && *r ? r : FZ_ROOT;
}

static void fz_die(const char *what, const char *path)
{
    /* The harness itself cannot work (disk full, fixture missing): not an
    ** engine bug, but nothing useful can run either. */
    fprintf(stderr, "fuzz harness: %s: %s: %s\n", what, path, strerror(errno));
    abort();
}

static void fz_mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                fz_die("mkdir", tmp);
            *p = '/';
        }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        fz_die("mkdir", tmp);
}

static void fz_write(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fz_die("create", path);
    int bad = n && fwrite(d, 1, n, f) != n;
    if (fclose(f) != 0 || bad)
        fz_die("write", path);
}

static void fz_copy_file(const char *src, const char *dst)
{
    char *buf, err[TAM_ERRLEN];
    size_t n;
    if (tam_read_file(src, &buf, &n, err) != TAM_OK)
        fz_die("read", src);
    fz_write(dst, buf, n);
    free(buf);
}

static void fz_copy_tree(const char *src, const char *dst)
{
    fz_mkdirs(dst);
    DIR *d = opendir(src);
    if (!d)
        fz_die("opendir", src);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char s[1024], t[1024];
        struct stat st;
        snprintf(s, sizeof s, "%s/%s", src, e->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, e->d_name);
        if (stat(s, &st) != 0)
            fz_die("stat", s);
        if (S_ISDIR(st.st_mode))
            fz_copy_tree(s, t);
        else if (S_ISREG(st.st_mode))
            fz_copy_file(s, t);
    }
    closedir(d);
}

static void fz_rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char s[1024];
            snprintf(s, sizeof s, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(s, &st) == 0 && S_ISDIR(st.st_mode))
                fz_rm_tree(s);
            else
                unlink(s);
        }
        closedir(d);
    }
    rmdir(path);
}

static void fz_cleanup(void)
{
    if (fz_scratch[0])
        fz_rm_tree(fz_scratch);
    fz_scratch[0] = '\0';
}

static void fz_scratch_init(void)
{
    if (fz_scratch[0])
        return;
    const char *tmp = getenv("TMPDIR");
    snprintf(fz_scratch, sizeof fz_scratch, "%s/tamfz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fz_scratch))
        fz_die("mkdtemp", fz_scratch);
}

/* ---- invariants of successful results ---------------------------------- */

static void fz_check_workload(const workload_t *w)
{
    FZ_REQUIRE(w->n >= 1 && w->req && w->trace_idx);
    FZ_REQUIRE(w->max_inflight >= 0);
    for (int i = 0; i < w->n; i++) {
        const sim_req_t *s = &w->req[i];
        FZ_REQUIRE(isfinite(s->t_send) && s->t_send >= 0);
        FZ_REQUIRE(i == 0 || s->t_send >= w->req[i - 1].t_send);
        FZ_REQUIRE(s->prompt >= 1);
        FZ_REQUIRE(s->output >= 0);
        FZ_REQUIRE(s->prefix_tokens >= 0);
        FZ_REQUIRE(s->prefix_group >= -1);
    }
}

static void fz_check_trace(const fz_target_t *tg, trace_t *t)
{
    FZ_REQUIRE(strcmp(t->format, tg->format) == 0);
    FZ_REQUIRE(t->n_req >= 1 && t->n_points >= 1 && t->n_units >= 1);
    FZ_REQUIRE(t->tp >= 1 && t->kv_blocks >= 1 && t->block_size >= 1);
    FZ_REQUIRE(t->n_prefix_groups >= 0 && t->prefix_len >= 0);
    for (int i = 0; i < t->n_points; i++) {
        const trace_point_t *p = &t->points[i];
        FZ_REQUIRE(p->unit >= 0 && p->unit < t->n_units);
        FZ_REQUIRE(isfinite(p->rate) && p->rate >= 0);
        FZ_REQUIRE(p->max_concurrency >= 0);
    }
    for (int i = 0; i < t->n_req; i++) {
        const trace_req_t *r = &t->req[i];
        FZ_REQUIRE(r->point >= 0 && r->point < t->n_points);
        FZ_REQUIRE(isfinite(r->t_send) && r->t_send >= 0);
        FZ_REQUIRE(r->in_tokens >= 1 && r->out_tokens >= 0 && r->prefix_tokens >= 0);
        FZ_REQUIRE(r->prefix_group >= -1);
        FZ_REQUIRE(r->prefix_group < 0 || r->prefix_group < t->n_prefix_groups);
        if (r->ok)
            FZ_REQUIRE(isfinite(r->ttft) && isfinite(r->e2e) && r->ttft >= 0 && r->ttft <= r->e2e);
        if (i > 0) {
            const trace_req_t *q = &t->req[i - 1];
            int uq = t->points[q->point].unit, ur = t->points[r->point].unit;
            FZ_REQUIRE(uq < ur || (uq == ur && (q->t_send < r->t_send ||
                                                (q->t_send == r->t_send && q->index < r->index))));
        }
    }
    /* What the simulator is handed next: the prefix draw and each unit's
    ** workload.  A unit may legitimately be empty (an error), never broken. */
    trace_assign_prefix_groups(t, 42);
    for (int i = 0; i < t->n_req; i++)
        FZ_REQUIRE(t->req[i].prefix_group < t->n_prefix_groups);
    for (int u = 0; u < t->n_units; u++) {
        workload_t w;
        char err[TAM_ERRLEN] = "";
        int rc = wl_from_trace(t, u, 7, &w, err);
        FZ_REQUIRE(rc <= 0 && (rc == 0 || err[0]));
        if (rc == 0) {
            fz_check_workload(&w);
            wl_free(&w);
        }
    }
}

static void fz_check_src(const mfu_src_t *s, double v)
{
    FZ_REQUIRE(isfinite(v) && v > 0 && v <= 1);
    FZ_REQUIRE(s->n >= 1 && s->n <= 4 && s->table);
    double sum = 0;
    for (int i = 0; i < s->n; i++) {
        FZ_REQUIRE(s->line[i] >= 2);
        FZ_REQUIRE(s->weight[i] >= -1e-12 && s->weight[i] <= 1 + 1e-12);
        sum += s->weight[i];
    }
    FZ_REQUIRE(fabs(sum - 1) <= 1e-9);
}

/* ---- runners ----------------------------------------------------------- */

static int fz_run_model(const fz_target_t *t, const char *dir, const char *txt, size_t n, char *err)
{
    (void)t, (void)dir, (void)n;
    model_t m;
    int rc = model_parse(txt, "input", &m, err);
    if (rc == TAM_OK) {
        FZ_REQUIRE(m.L >= 1 && m.d >= 1 && m.H >= 1 && m.K >= 1 && m.hd >= 1 && m.F >= 1 && m.V >= 1);
        FZ_REQUIRE(m.K <= m.H && m.H % m.K == 0);
        FZ_REQUIRE(m.E >= 0 && m.topk >= 0 && m.topk <= m.E);
        FZ_REQUIRE(m.wbytes >= 1 && m.wbytes <= 4);
        FZ_REQUIRE(memchr(m.name, 0, sizeof m.name) && memchr(m.dtype, 0, sizeof m.dtype));
        double wb = model_weight_bytes(&m);
        FZ_REQUIRE(isfinite(wb) && wb > 0);
    }
    return rc;
}

static int fz_run_econf(const fz_target_t *t, const char *dir, const char *txt, size_t n, char *err)
{
    (void)t, (void)dir, (void)n;
    econf_t c, c2;
    int rc = econf_parse(txt, "input", &c, err);
    if (rc == TAM_OK) {
        /* the canonical form parses back to the same canonical form */
        char b1[4096], b2[4096], e2[TAM_ERRLEN], h[17];
        int n1 = econf_canonical(&c, b1, sizeof b1);
        FZ_REQUIRE(n1 > 0);
        FZ_REQUIRE(econf_parse(b1, "canonical", &c2, e2) == TAM_OK);
        int n2 = econf_canonical(&c2, b2, sizeof b2);
        FZ_REQUIRE(n1 == n2 && memcmp(b1, b2, (size_t)n1) == 0);
        econf_hash(&c, h);
        FZ_REQUIRE(strlen(h) == 16);
    }
    return rc;
}

/* A Tier 1 coefficient file merged over the baseline (tam simulate --coeffs). */
static int fz_run_econf_coeffs(const fz_target_t *t, const char *dir, const char *txt, size_t n,
                               char *err)
{
    (void)txt, (void)n;
    char path[1024], b1[4096], b2[4096], e2[TAM_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", dir, t->slot[0]);
    econf_t c, c2;
    econf_coeffs_meta_t cm;
    econf_baseline(&c);
    memset(&cm, 'x', sizeof cm);
    int rc = econf_load_coeffs(path, &c, &cm, err);
    if (rc == TAM_OK) {
        const char *bh = cm.base_hash;
        FZ_REQUIRE(memchr(bh, 0, sizeof cm.base_hash) && (bh[0] == 0 || strlen(bh) == 16));
        FZ_REQUIRE(memchr(cm.hardware_measured, 0, sizeof cm.hardware_measured));
        FZ_REQUIRE(memchr(cm.gemm_table, 0, sizeof cm.gemm_table));
        int n1 = econf_canonical(&c, b1, sizeof b1);
        FZ_REQUIRE(n1 > 0);
        FZ_REQUIRE(econf_parse(b1, "canonical", &c2, e2) == TAM_OK);
        int n2 = econf_canonical(&c2, b2, sizeof b2);
        FZ_REQUIRE(n1 == n2 && memcmp(b1, b2, (size_t)n1) == 0);
    }
    return rc;
}

static int fz_run_hw(const fz_target_t *t, const char *dir, const char *txt, size_t n, char *err)
{
    (void)t, (void)dir, (void)n;
    hw_t hw;
    int rc = hw_parse(txt, "input", &hw, err);
    if (rc == TAM_OK) {
        const double v[4] = {hw.peak_flops, hw.hbm_bw, hw.mem_bytes, hw.nvlink_bw};
        for (int i = 0; i < 4; i++)
            FZ_REQUIRE(isfinite(v[i]) && v[i] > 0);
        FZ_REQUIRE(isfinite(hw.bw_seq) && hw.bw_seq >= 0 && isfinite(hw.bw_kv) && hw.bw_kv >= 0);
    }
    return rc;
}

/* Load the folder, then ask every kind of lookup on and off the grid: each
** answer must be an MFU in (0, 1] served by real rows. */
static int fz_run_mfu(const fz_target_t *t, const char *dir, const char *txt, size_t n, char *err)
{
    (void)t, (void)txt, (void)n;
    mfu_db_t *db = NULL;
    int rc = mfu_load(dir, &db, err);
    if (rc != TAM_OK) {
        FZ_REQUIRE(db == NULL);
        return rc;
    }
    static const double q[] = {1, 3, 8, 100, 777, 4096, 1e6, 1e12};
    const int nq = (int)(sizeof q / sizeof q[0]);
    mfu_src_t s;
    for (int mode = 0; mode < 2; mode++)
        for (int i = 0; i < nq; i++)
            for (int j = 0; j < nq; j += 2)
                for (int k = 1; k < nq; k += 3) {
                    memset(&s, 0, sizeof s);
                    fz_check_src(&s, mfu_gemm(db, (mfu_mode_t)mode, q[i], q[j], q[k], &s));
                }
    static const int shape[][4] = {{4, 2, 64, 1}, {8, 8, 64, 2}, {32, 8, 128, 4}, {1, 1, 1, 1}};
    for (int h = 0; h < 4; h++) {
        mfu_attn_t a;
        char e2[TAM_ERRLEN];
        FZ_REQUIRE(mfu_select_attn(db, shape[h][0], shape[h][1], shape[h][2], shape[h][3], &a, e2) ==
                   TAM_OK);
        for (int mode = 0; mode < 2; mode++)
            for (int i = 0; i < nq; i++) {
                memset(&s, 0, sizeof s);
                fz_check_src(&s, mfu_prefill(&a, (mfu_mode_t)mode, q[i], &s));
                for (int j = 0; j < nq; j++) {
                    memset(&s, 0, sizeof s);
                    fz_check_src(&s, mfu_decode(&a, (mfu_mode_t)mode, q[i], q[j], &s));
                }
            }
    }
    mfu_free(db);
    return rc;
}

static int fz_run_trace(const fz_target_t *t, const char *dir, const char *txt, size_t n, char *err)
{
    (void)txt, (void)n;
    static trace_t sentinel;
    trace_t *tr = &sentinel; /* the reader must set it, NULL on failure */
    int rc = trace_load(dir, &tr, err);
    if (rc != TAM_OK) {
        FZ_REQUIRE(tr == NULL);
        return rc;
    }
    fz_check_trace(t, tr);
    trace_free(tr);
    return rc;
}

static int fz_run_workload(const fz_target_t *t, const char *dir, const char *txt, size_t n,
                           char *err)
{
    (void)txt, (void)n;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, t->slot[0]);
    workload_t w;
    memset(&w, 0, sizeof w);
    int rc = wl_load_csv(path, &w, err);
    if (rc != TAM_OK) {
        FZ_REQUIRE(w.req == NULL && w.trace_idx == NULL);
        return rc;
    }
    fz_check_workload(&w);
    wl_free(&w);
    return rc;
}

/* ---- the targets ------------------------------------------------------- */

#define FZ_MFU_FILES {"gemm/data.csv", "mha/decode/4-2-64-tp1.csv", "mha/prefill/4-2-64.csv", NULL}
#define FZ_FIX "engine/tests/fixtures/"

static const fz_target_t fz_targets[] = {
    {"model", NULL, {NULL}, NULL, {NULL}, NULL, fz_run_model},
    {"econf", NULL, {NULL}, NULL, {NULL}, NULL, fz_run_econf},
    {"econf_coeffs", NULL, {NULL}, "coeffs", {"coeffs.json"}, NULL, fz_run_econf_coeffs},
    {"hw", NULL, {NULL}, NULL, {NULL}, NULL, fz_run_hw},
    {"mfu_gemm", FZ_FIX "mfu/good", FZ_MFU_FILES, "mfu", {"gemm/data.csv"}, NULL, fz_run_mfu},
    {"mfu_decode", FZ_FIX "mfu/good", FZ_MFU_FILES, "mfu", {"mha/decode/4-2-64-tp1.csv"}, NULL,
     fz_run_mfu},
    {"mfu_prefill", FZ_FIX "mfu/good", FZ_MFU_FILES, "mfu", {"mha/prefill/4-2-64.csv"}, NULL,
     fz_run_mfu},
    {"guidellm", FZ_FIX "trace/glmini", {NULL}, "glmini", {"guidellm-results.json"}, "guidellm",
     fz_run_trace},
    {"gl_vllmlog", FZ_FIX "trace/glmini", {NULL}, "glmini", {"vllm.log"}, "guidellm",
     fz_run_trace},
    {"ip_replay", FZ_FIX "trace/ipmini", {NULL}, "ipmini",
     {"replay_data/ipmini.json", "replay_data/ipmini_ground_truth.json",
      "results/summary_lifecycle_metrics.json"},
     "inference-perf", fz_run_trace},
    {"ip_profile", FZ_FIX "trace/ipmini", {NULL}, "ipmini", {"profile.yaml", "exp-config.yaml"},
     "inference-perf", fz_run_trace},
    {"v2_csv", FZ_FIX "trace/v2mini", {NULL}, "v2mini", {"trace.csv", "requests.csv"}, "tracev2",
     fz_run_trace},
    {"v2_yaml", FZ_FIX "trace/v2mini", {NULL}, "v2mini", {"trace.yaml"}, "tracev2",
     fz_run_trace},
    {"v2_json", FZ_FIX "trace/v2mini", {NULL}, "v2mini", {"server_config.json", "summary.json"},
     "tracev2", fz_run_trace},
    {"workload_csv", NULL, {NULL}, "wl", {"workload.csv"}, NULL, fz_run_workload},
};
#define FZ_NTARGETS ((int)(sizeof fz_targets / sizeof fz_targets[0]))

static fz_state_t fz_states[FZ_NTARGETS];

static int fz_nslots(const fz_target_t *t)
{
    int n = 0;
    while (n < FZ_MAX_SLOTS && t->slot[n])
        n++;
    return n;
}

static int fz_find(const char *name)
{
    for (int i = 0; i < FZ_NTARGETS; i++)
        if (strcmp(fz_targets[i].name, name) == 0)
            return i;
    return -1;
}

/* Prepare target i's scratch folder (once). */
static void fz_prepare(int i)
{
    const fz_target_t *t = &fz_targets[i];
    fz_state_t *s = &fz_states[i];
    if (s->ready)
        return;
    fz_scratch_init();
    snprintf(s->dir, sizeof s->dir, "%s/%s", fz_scratch, t->name);
    if (t->base) {
        size_t l = strlen(s->dir);
        snprintf(s->dir + l, sizeof s->dir - l, "/%s", t->base);
    }
    fz_mkdirs(s->dir);
    if (t->fixture) {
        char src[1024];
        snprintf(src, sizeof src, "%s/%s", fz_root(), t->fixture);
        if (!t->copy[0]) {
            fz_copy_tree(src, s->dir);
        } else {
            for (int k = 0; k < 6 && t->copy[k]; k++) {
                char a[1280], b[1280];
                snprintf(a, sizeof a, "%s/%s", src, t->copy[k]);
                snprintf(b, sizeof b, "%s/%s", s->dir, t->copy[k]);
                char *slash = strrchr(b, '/');
                *slash = '\0';
                fz_mkdirs(b);
                *slash = '/';
                fz_copy_file(a, b);
            }
        }
    }
    for (int k = 0; k < fz_nslots(t); k++) {
        char p[1280], err[TAM_ERRLEN];
        snprintf(p, sizeof p, "%s/%s", s->dir, t->slot[k]);
        char *slash = strrchr(p, '/');
        *slash = '\0';
        fz_mkdirs(p);
        *slash = '/';
        if (tam_read_file(p, &s->orig[k], &s->orig_len[k], err) != TAM_OK) {
            s->orig[k] = NULL; /* no fixture file: the slot starts absent */
            s->orig_len[k] = 0;
        }
    }
    s->ready = 1;
}

static void fz_release(void)
{
    for (int i = 0; i < FZ_NTARGETS; i++) {
        for (int k = 0; k < FZ_MAX_SLOTS; k++)
            free(fz_states[i].orig[k]);
        memset(&fz_states[i], 0, sizeof fz_states[i]);
    }
    fz_cleanup();
}

/* Run one input through target i; returns the entry point's status. */
static int fz_one(int i, const uint8_t *d, size_t n, char *err)
{
    const fz_target_t *t = &fz_targets[i];
    fz_state_t *s = &fz_states[i];
    fz_prepare(i);
    int ns = fz_nslots(t), k = 0;
    if (ns > 1 && n > 0) {
        k = d[0] % ns;
        d++;
        n--;
    }
    char *txt = malloc(n + 1);
    if (!txt)
        fz_die("malloc", t->name);
    if (n)
        memcpy(txt, d, n);
    txt[n] = '\0';
    for (int j = 0; j < ns; j++) {
        char p[1280];
        snprintf(p, sizeof p, "%s/%s", s->dir, t->slot[j]);
        if (j == k) {
            fz_write(p, txt, n);
            s->dirty[j] = 1;
        } else if (s->dirty[j]) {
            if (s->orig[j])
                fz_write(p, s->orig[j], s->orig_len[j]);
            else
                unlink(p);
            s->dirty[j] = 0;
        }
    }
    err[0] = '\0';
    int rc = t->run(t, s->dir, txt, n, err);
    free(txt);
    return rc;
}

/* The contract every input must meet, whatever it holds. */
static void fz_contract(int rc, const char *err)
{
    FZ_REQUIRE(rc <= 0);
    FZ_REQUIRE(rc == 0 || (err[0] != '\0' && memchr(err, '\0', TAM_ERRLEN)));
}

/* fz_<name>.c is just FZ_MAIN("<name>"). */
#define FZ_MAIN(NAME)                                                                         \
    int LLVMFuzzerInitialize(int *argc, char ***argv);                                        \
    int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);                                   \
    static int fz_me = -1;                                                                    \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                         \
    {                                                                                         \
        (void)argc, (void)argv;                                                               \
        fz_me = fz_find(NAME);                                                                \
        if (fz_me < 0)                                                                        \
            abort();                                                                          \
        fz_prepare(fz_me);                                                                    \
        atexit(fz_release);                                                                   \
        return 0;                                                                             \
    }                                                                                         \
    int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)                                    \
    {                                                                                         \
        char err[TAM_ERRLEN];                                                                 \
        fz_contract(fz_one(fz_me, d, n, err), err);                                           \
        return 0;                                                                             \
    }

#endif
