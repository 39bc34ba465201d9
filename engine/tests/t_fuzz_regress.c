/* engine/tests/t_fuzz_regress.c - replay the fuzzers' inputs through the
** normal entry points, without libFuzzer.
**
** For every target of tests/fuzz/fz_harness.h (the same harness the fuzzers
** run, so an input means here exactly what it meant to the fuzzer):
**   - tests/fuzz/regressions/<target>/<name>: inputs that once crashed, hung,
**     leaked or hit UB.  Each must now meet the contract (status TAM_OK or
**     negative, a message on failure, nothing leaked -- the ASan build checks
**     that) and must be listed in tests/fuzz/regressions/EXPECT with the
**     status and a piece of the message the user gets;
**   - tests/fuzz/bad-inputs/<target>/<name>: the bad inputs of the table in
**     BAD-INPUTS.md, checked the same way against bad-inputs/EXPECT;
**   - tests/fuzz/corpus/<target>/<name>: the seed corpus.  A seed whose name
**     starts with "bad" must fail with a message; every other seed must load;
**   - the data directory's own files a parser reads (model configs, the
**     TraceV2 YAML, the hardware datasheet), seeds too, read in place.
** FZ_VERBOSE=1 prints each input's status and message.
*/
#include <stdarg.h>

static int fz_bugs;
static void fz_test_bug(const char *what, const char *file, int line);
#define FZ_ON_BUG(what) fz_test_bug(what, __FILE__, __LINE__)

#include "../../tests/fuzz/fz_harness.h"

#include "check.h"

#define REG_DIR "tests/fuzz/regressions"
#define BAD_DIR "tests/fuzz/bad-inputs"
#define CORPUS_DIR "tests/fuzz/corpus"

static void fz_test_bug(const char *what, const char *file, int line)
{
    fz_bugs++;
    printf("# invariant broken: %s (%s:%d)\n", what, file, line);
}

/* ---- <dir>/EXPECT ------------------------------------------------------- */

typedef struct {
    char key[256];   /* target/name */
    int rc;
    char want[256];  /* substring of the message ("" on success) */
    int used;
} expect_t;

static expect_t *expects;
static int n_expects;

/* Lines: "target/name<TAB>status<TAB>message piece"; '#' starts a comment. */
static void load_expects(const char *top)
{
    char *buf, err[TAM_ERRLEN], path[512];
    snprintf(path, sizeof path, "%s/EXPECT", top);
    if (tam_read_file(path, &buf, NULL, err) != TAM_OK) {
        CHECK(0, "%s", err);
        return;
    }
    int cap = 0;
    char *save = NULL;
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#' || l[0] == '\0')
            continue;
        char *t1 = strchr(l, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        CHECK(t1 && t2, "EXPECT: malformed line '%s'", l);
        if (!t1 || !t2)
            continue;
        *t1 = *t2 = '\0';
        if (n_expects == cap) {
            cap = cap ? 2 * cap : 64;
            expect_t *ne = realloc(expects, (size_t)cap * sizeof *ne);
            if (!ne)
                abort();
            expects = ne;
        }
        expect_t *e = &expects[n_expects++];
        snprintf(e->key, sizeof e->key, "%s", l);
        e->rc = atoi(t1 + 1);
        snprintf(e->want, sizeof e->want, "%s", t2 + 1);
        e->used = 0;
    }
    free(buf);
}

static expect_t *find_expect(const char *key)
{
    for (int i = 0; i < n_expects; i++)
        if (strcmp(expects[i].key, key) == 0)
            return &expects[i];
    return NULL;
}

/* ---- one folder of inputs ---------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted and NULL-terminated (NULL if no dir): its regular
** files, or its folders when dirs. */
static char **list_files(const char *dir, int dirs, int *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    int cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(p, &st) != 0 ||
            !(dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
            continue;
        if (*n + 1 >= cap) {
            cap = cap ? 2 * cap : 16;
            char **nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv)
                abort();
            v = nv;
        }
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (v) {
        qsort(v, (size_t)*n, sizeof *v, cmp_name);
        v[*n] = NULL;
    }
    return v;
}

static int verbose;

/* Run one file through target ti and check the contract.  regress: the
** file must have an EXPECT line under `key`; otherwise it is a seed, which
** must load when good and fail with a message when not. */
static void run_file(int ti, const char *path, const char *key, int regress, int good,
                     const char *top)
{
    char err[TAM_ERRLEN], rerr[TAM_ERRLEN];
    char *buf;
    size_t len;
    if (tam_read_file(path, &buf, &len, rerr) != TAM_OK) {
        CHECK(0, "%s", rerr);
        return;
    }
    int bugs = fz_bugs;
    int rc = fz_one(ti, (const uint8_t *)buf, len, err);
    free(buf);
    if (verbose)
        printf("# %-40s %d %s\n", key, rc, rc ? err : "");
    CHECK(fz_bugs == bugs, "%s: a result breaks an invariant", key);
    CHECK(rc <= 0, "%s: status %d", key, rc);
    CHECK(rc == 0 || err[0], "%s: status %d without a message", key, rc);
    if (regress) {
        expect_t *e = find_expect(key);
        CHECK(e != NULL, "%s: not listed in %s/EXPECT (got %d: %s)", key, top, rc,
              rc ? err : "ok");
        if (e) {
            e->used = 1;
            CHECK(rc == e->rc, "%s: status %d, EXPECT says %d (%s)", key, rc, e->rc, err);
            CHECK(rc == 0 || strstr(err, e->want), "%s: message '%s' lacks '%s'", key, err,
                  e->want);
        }
    } else if (!good) {
        CHECK(rc < 0, "%s: a bad seed loads", key);
    } else {
        CHECK(rc == 0, "%s: a good seed fails: %s", key, err);
    }
}

/* Run every file of top/<target> through target ti.  regress = 1: every
** file has an EXPECT line; 0: corpus seeds, bad when the name starts with
** "bad".  Returns the number of inputs. */
static int run_dir(int ti, const char *top, int regress)
{
    const fz_target_t *t = &fz_targets[ti];
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", top, t->name);
    int n;
    char **names = list_files(dir, 0, &n);
    for (int i = 0; i < n; i++) {
        char path[1024], key[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(key, sizeof key, "%s/%s", t->name, names[i]);
        run_file(ti, path, key, regress, strncmp(names[i], "bad", 3) != 0, top);
        free(names[i]);
    }
    free(names);
    return n;
}

static void run_expected(const char *top)
{
    load_expects(top);
    int total = 0;
    for (int i = 0; i < FZ_NTARGETS; i++)
        total += run_dir(i, top, 1);
    CHECK(total > 0, "no inputs found under %s (run from the repo root)", top);
    for (int i = 0; i < n_expects; i++)
        CHECK(expects[i].used, "%s/EXPECT lists %s but there is no such file", top,
              expects[i].key);
    free(expects);
    expects = NULL;
    n_expects = 0;
}

static void test_regressions(void)
{
    run_expected(REG_DIR);
}

static void test_bad_inputs(void)
{
    run_expected(BAD_DIR);
}

static void test_corpus(void)
{
    for (int i = 0; i < FZ_NTARGETS; i++) {
        int n = run_dir(i, CORPUS_DIR, 0);
        CHECK(n > 0, "target %s has no seed corpus", fz_targets[i].name);
    }
}

/* Seeds read from the data directory (DATA, default ../shared/data), never
** copied into the repository; tests/fuzz/run.sh seeds the fuzzers with the
** same files.  DATA/<dir>/<entry>[/<file>] for every entry of DATA/<dir>.
** The shared hardware datasheet is not an engine profile: refused. */
static const struct {
    const char *target, *dir, *file;
    int good;
} data_seeds[] = {
    {"model", "models", "config.json", 1},
    {"v2_yaml", "corpus/tracev2", "trace.yaml", 1},
    {"hw", "hardware", NULL, 0},
};

static void test_data_seeds(void)
{
    const char *data = getenv("DATA");
    if (!data || !*data)
        data = "../shared/data";
    for (size_t k = 0; k < sizeof data_seeds / sizeof data_seeds[0]; k++) {
        int ti = -1;
        for (int i = 0; i < FZ_NTARGETS; i++)
            if (strcmp(fz_targets[i].name, data_seeds[k].target) == 0)
                ti = i;
        CHECK(ti >= 0, "no fuzz target %s", data_seeds[k].target);
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", data, data_seeds[k].dir);
        int n;
        char **names = list_files(dir, data_seeds[k].file != NULL, &n);
        CHECK(n > 0, "no seeds for %s under %s", data_seeds[k].target, dir);
        for (int i = 0; i < n; i++) {
            char path[1600], key[512];
            if (data_seeds[k].file)
                snprintf(path, sizeof path, "%s/%s/%s", dir, names[i], data_seeds[k].file);
            else
                snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            snprintf(key, sizeof key, "%s <- DATA/%s/%s", data_seeds[k].target,
                     data_seeds[k].dir, names[i]);
            if (ti >= 0)
                run_file(ti, path, key, 0, data_seeds[k].good, data);
            free(names[i]);
        }
        free(names);
    }
}

int main(void)
{
    const char *v = getenv("FZ_VERBOSE");
    verbose = v && *v && *v != '0';
    RUN(test_corpus);
    RUN(test_data_seeds);
    RUN(test_regressions);
    RUN(test_bad_inputs);
    fz_release();
    TEST_REPORT("t_fuzz_regress");
}
