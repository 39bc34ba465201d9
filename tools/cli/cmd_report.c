/* tools/cli/cmd_report.c - `tam report`: a hypothesis's pre-registered criteria: PASS/FAIL lines.
** Options and printing only; the work is the harness's (tools/harness/harness.h). */
#include "cli.h"
#include "harness.h"
#include "hopts.h"

#include <math.h>
#include <stdio.h>

static const char report_usage[] =
    "usage: tam report --criteria experiments/Hn/criteria.json [--db FILE]\n"
    "Evaluate each pre-registered criterion (one SQL query -> one number) against\n"
    "its threshold; store the result in table `criteria` and print one line each:\n"
    "  ID  VALUE OP THRESHOLD  PASS|FAIL  text\n"
    "then the verdict (Confirmed / Partially confirmed / Refuted / Inconclusive)\n"
    "from the primary criteria.  Exit status 0 whatever the verdict.\n";

static void print_criterion(void *ctx, const criterion_result_t *r)
{
    (void)ctx;
    printf("%-14s %10.3f %-2s %-8g %-4s %s%s\n", r->id, r->value, r->op, r->threshold,
           isnan(r->value) ? "N/A" : r->pass ? "PASS" : "FAIL", r->text,
           r->primary ? "" : "  [supplementary]");
}

int cmd_report(int argc, char **argv)
{
    hopts_t o;
    int r = hopts_parse(argc, argv, &o, report_usage);
    if (r >= 0)
        return r;
    if (!o.criteria) {
        fputs(report_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN];
    store_t *s = NULL;
    criteria_t c = {0};
    criteria_verdict_t v;
    /* the store is opened only once the criteria are known to be readable */
    int rc = criteria_load(o.criteria, &c, err) || store_open(o.db, &s, err) ||
             criteria_eval(s, &c, print_criterion, NULL, &v, err);
    if (rc)
        fprintf(stderr, "tam report: %s\n", err);
    else
        printf("%s verdict: %s (%d of %d primary criteria pass)\n", c.hyp, v.verdict, v.n_pass,
               v.n_primary);
    criteria_free(&c);
    store_close(s);
    return rc;
}
