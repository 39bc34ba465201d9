/* tools/cli/hopts.c - see hopts.h. */
#include "hopts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct option hlong[] = {
    {"db", required_argument, 0, 'd'},       {"manifest", required_argument, 0, 'M'},
    {"grid", required_argument, 0, 'g'},     {"criteria", required_argument, 0, 'c'},
    {"only", required_argument, 0, 'x'},     {"data", required_argument, 0, 'D'},
    {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
    {"arm", required_argument, 0, 'a'},      {"seed", required_argument, 0, 's'},
    {"shards", required_argument, 0, 'S'},   {"format", required_argument, 0, 'F'},
    {"kernels", required_argument, 0, 'K'},  {0, 0, 0, 0}};

int hopts_parse(int argc, char **argv, hopts_t *o, const char *usage)
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

