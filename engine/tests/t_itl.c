/* engine/tests/t_itl.c - trace.itl.csv reader and gap classification (itl.c).
**
** The fixture engine/tests/fixtures/itl/good.itl.csv (columns in another
** order than the corpus's, an extra column, requests out of order), with
** output_tokens 4, 3, 2 for requests 0, 1, 2 (chunks 6, 3, 4: requests 0
** and 2 carry a role chunk and a final chunk, request 1 none).  By hand,
** times in us, slack s = 1000:
**
**   token times  r0: 1000 11000 21000 51000    (framing gaps 0 and 0)
**                r1: 51020 61000 81000
**                r2: 80995 93000               (framing gaps 5 and 4)
**   firsts 1000, 51020, 80995; lasts 51000, 81000, 93000
**
**   gap (a, e]        ms      prefills in (a+s, e+s]   batch at e: first<=e+s, last>=e-s
**   r0 (1000,11000]   10.000  none      -> decode      r0            1
**   r0 (11000,21000]  10.000  none      -> decode      r0            1
**   r0 (21000,51000]  30.000  r1 51020  -> mixed       r0 r1         2
**   r1 (51020,61000]   9.980  none      -> decode      r1 (r0 done)  1
**   r1 (61000,81000]  20.000  r2 80995  -> mixed       r1 r2         2
**   r2 (80995,93000]  12.005  none      -> decode      r2 (r1 done)  1
**
**   decode: 9.980 10.000 10.000 12.005 -> median (rank ceil(0.5*4) = 2) 10.000,
**           p90 (rank ceil(0.9*4) = 4) 12.005
**   mixed:  20.000 30.000 -> median (rank 1) 20.000, p90 (rank 2) 30.000
*/
#include "itl.h"

#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GOOD "engine/tests/fixtures/itl/good.itl.csv"

static char tmpdir[256];
static int n_tmp;

/* Write text to a fresh temporary file; returns its path (static buffer). */
static const char *tmp_csv(const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/case%d.itl.csv", tmpdir, ++n_tmp);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static void t_read_good(void)
{
    char err[TAM_ERRLEN] = "";
    itl_t *x = NULL;
    int rc = itl_load(GOOD, &x, err);
    CHECK(rc == TAM_OK && x, "load: %s", err);
    if (!x)
        return;
    CHECK(x->n_req == 3 && x->n_rows == 13, "n_req %d rows %ld", x->n_req, x->n_rows);
    CHECK(x->req[0].request_id == 0 && x->req[0].n == 6, "r0");
    CHECK(x->req[1].request_id == 1 && x->req[1].n == 3, "r1");
    CHECK(x->req[2].request_id == 2 && x->req[2].n == 4, "r2");
    CHECK(x->req[1].t_us[0] == 51020 && x->req[1].t_us[2] == 81000, "r1 times");
    CHECK(x->req[2].t_us[3] == 93004 && x->req[2].line0 == 8, "r2 last %lld line0 %lu",
          x->req[2].t_us[3], x->req[2].line0);
    CHECK(itl_find(x, 2) == &x->req[2] && itl_find(x, 7) == NULL, "find");
    itl_free(x);
}

static void t_classify(void)
{
    char err[TAM_ERRLEN] = "";
    itl_t *x = NULL;
    if (itl_load(GOOD, &x, err) != TAM_OK) {
        CHECK(0, "load: %s", err);
        return;
    }
    int out[3] = {4, 3, 2};
    itl_gap_t *g = NULL;
    int n = 0;
    itl_class_stats_t st;
    int rc = itl_classify(x, out, ITL_SLACK_S, &g, &n, &st, err);
    CHECK(rc == TAM_OK && n == 6, "rc %d n %d: %s", rc, n, err);
    CHECK(st.n_used == 3 && st.n_framed == 2 && st.n_skipped == 0, "used %d framed %d skipped %d",
          st.n_used, st.n_framed, st.n_skipped);
    CHECK_NEAR(st.framing_max_s, 5e-6, 1e-9);
    CHECK_NEAR(st.min_first_s, 1000e-6, 1e-12);
    CHECK_NEAR(st.max_last_s, 93000e-6, 1e-12);
    static const struct {
        int id, token;
        double ms;
        int batch, pre;
    } want[6] = {{0, 0, 10.0, 1, 0}, {0, 1, 10.0, 1, 0}, {0, 2, 30.0, 2, 1},
                 {1, 0, 9.98, 1, 0}, {1, 1, 20.0, 2, 1}, {2, 0, 12.005, 1, 0}};
    itl_vw_t dec[6], mix[6];
    int nd = 0, nm = 0;
    for (int i = 0; i < n && i < 6; i++) {
        CHECK(g[i].request_id == want[i].id && g[i].token == want[i].token, "gap %d: r%d t%d", i,
              g[i].request_id, g[i].token);
        CHECK_NEAR(1e3 * g[i].gap_s, want[i].ms, 1e-9);
        CHECK(g[i].batch == want[i].batch, "gap %d batch %d want %d", i, g[i].batch, want[i].batch);
        CHECK(g[i].n_prefill == want[i].pre, "gap %d prefills %d want %d", i, g[i].n_prefill,
              want[i].pre);
        itl_vw_t p = {1e3 * g[i].gap_s, 1};
        if (g[i].n_prefill)
            mix[nm++] = p;
        else
            dec[nd++] = p;
    }
    CHECK(nd == 4 && nm == 2, "decode %d mixed %d", nd, nm);
    CHECK_NEAR(itl_quantile(dec, nd, 0.5), 10.0, 1e-12);
    CHECK_NEAR(itl_quantile(dec, nd, 0.9), 12.005, 1e-12);
    CHECK_NEAR(itl_quantile(mix, nm, 0.5), 20.0, 1e-12);
    CHECK_NEAR(itl_quantile(mix, nm, 0.9), 30.0, 1e-12);
    free(g);

    /* a wrong output length: request 0 neither 6 nor 6 - 2 tokens -> skipped,
    ** and with it its gaps and its place in others' batches */
    int out2[3] = {5, 3, 0};
    rc = itl_classify(x, out2, ITL_SLACK_S, &g, &n, &st, err);
    CHECK(rc == TAM_OK && n == 2 && st.n_used == 1 && st.n_skipped == 2 && st.n_framed == 0,
          "rc %d n %d used %d skipped %d", rc, n, st.n_used, st.n_skipped);
    CHECK(n == 2 && g[0].batch == 1 && g[0].n_prefill == 0 && g[1].n_prefill == 0, "alone");
    free(g);
    itl_free(x);
}

static void t_quantile(void)
{
    itl_vw_t p[4] = {{4, 1}, {1, 1}, {3, 1}, {2, 1}};
    CHECK(itl_quantile(p, 4, 0.5) == 2, "lower median");
    CHECK(p[0].v == 1 && p[3].v == 4, "sorted in place");
    CHECK(itl_quantile(p, 4, 0.0) == 1 && itl_quantile(p, 4, 1.0) == 4, "ends");
    itl_vw_t w[3] = {{10, 1}, {20, 3}, {30, 1}}; /* weight 3 of 5 sits on 20 */
    CHECK(itl_quantile(w, 3, 0.5) == 20 && itl_quantile(w, 3, 0.9) == 30 &&
          itl_quantile(w, 3, 0.2) == 10, "weighted");
    CHECK(isnan(itl_quantile(w, 0, 0.5)), "empty");
    itl_vw_t z[1] = {{5, 0}};
    CHECK(isnan(itl_quantile(z, 1, 0.5)), "zero weight");
}

/* A bad file: load fails, *out is NULL and the message holds `want`. */
static void bad(const char *text, const char *want)
{
    char err[TAM_ERRLEN] = "";
    itl_t *x = (itl_t *)1;
    const char *path = tmp_csv(text);
    char full[600];
    snprintf(full, sizeof full, "%s%s", path, want);
    int rc = itl_load(path, &x, err);
    CHECK(rc != TAM_OK && x == NULL, "accepted: %s", want);
    CHECK(strstr(err, full) != NULL, "message '%s' lacks '%s'", err, full);
}

static void t_bad(void)
{
    static const char hdr[] = "request_id,chunk_index,timestamp_us\n";
    char b[512];
    snprintf(b, sizeof b, "%s0,0,100\n0,1,200,7\n", hdr);
    bad(b, ":3: 4 fields, the header has 3");
    snprintf(b, sizeof b, "%s0,0,100\n0,1,2e5\n", hdr);
    bad(b, ":3: column timestamp_us: expected an integer, got '2e5'");
    snprintf(b, sizeof b, "%s0,x,100\n", hdr);
    bad(b, ":2: column chunk_index: expected an integer, got 'x'");
    snprintf(b, sizeof b, "%s-1,0,100\n", hdr);
    bad(b, ":2: column request_id: -1 is out of range");
    bad("request_id,timestamp_us\n0,100\n", ":1: missing column chunk_index");
    bad("request_id,chunk_index,chunk_index,timestamp_us\n", ":1: column chunk_index appears twice");
    /* non-monotone within a request, rows out of order: named at the later chunk's line */
    snprintf(b, sizeof b, "%s0,1,150\n1,0,10\n0,0,200\n", hdr);
    bad(b, ":2: column timestamp_us: request_id 0 chunk 1 at 150 us is earlier than chunk 0 at "
           "200 us (line 4)");
    snprintf(b, sizeof b, "%s0,0,100\n0,2,300\n", hdr);
    bad(b, ":3: column chunk_index: request_id 0 has chunk 2 but no chunk 1");
    snprintf(b, sizeof b, "%s0,0,100\n0,0,100\n", hdr);
    bad(b, ":3: column chunk_index: request_id 0 chunk 0 appears twice (also line 2)");
    snprintf(b, sizeof b, "%s0,0,\"1\"00\n", hdr);
    bad(b, ":2: text after the closing quote of field 3");
    bad("", ": empty file (no header)");
    bad(hdr, ": no data rows");
    char err[TAM_ERRLEN] = "";
    itl_t *x = (itl_t *)1;
    CHECK(itl_load("engine/tests/fixtures/itl/absent.csv", &x, err) == TAM_EIO && x == NULL &&
              strstr(err, "absent.csv"), "missing file: %s", err);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/t_itl.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("not ok - mkdtemp\n");
        return 1;
    }
    RUN(t_read_good);
    RUN(t_classify);
    RUN(t_quantile);
    RUN(t_bad);
    for (int i = 1; i <= n_tmp; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/case%d.itl.csv", tmpdir, i);
        unlink(p);
    }
    rmdir(tmpdir);
    TEST_REPORT("t_itl");
}
