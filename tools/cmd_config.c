/* tools/cmd_config.c - `tam config`: canonical form and hash of a configuration. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *path = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (o == 'c')
            path = optarg;
        else {
            printf("usage: tam config [--config FILE]\n"
                   "Print the canonical JSON (every key, sorted; the baseline for keys the\n"
                   "file omits) and its FNV-1a 64 hash, the id stored with every prediction.\n");
            return o == 'h' ? 0 : 2;
        }
    }
    econf_t c;
    char err[TAM_ERRLEN];
    if (path) {
        if (econf_load(path, &c, err)) {
            fprintf(stderr, "tam config: %s\n", err);
            return 1;
        }
    } else {
        econf_baseline(&c);
    }
    char buf[2048], h[17];
    econf_canonical(&c, buf, sizeof buf);
    econf_hash(&c, h);
    printf("{\"name\":\"%s\",\"hash\":\"%s\",\"config\":%s}\n", c.name, h, buf);
    return 0;
}
