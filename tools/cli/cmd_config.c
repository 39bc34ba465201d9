/* tools/cli/cmd_config.c - `tam config`: canonical form and hash of a configuration. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"kernels", required_argument, 0, 'K'},
                                         {"data", required_argument, 0, 'D'},
                                         {"unbound", no_argument, 0, 'u'},
                                         {"preset", required_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    inputs_t e;
    inputs_init(&e);
    int o, unbound = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (o == 'c')
            e.config = optarg;
        else if (o == 'K')
            e.kernels = optarg;
        else if (o == 'D')
            e.data = optarg;
        else if (o == 'u')
            unbound = 1;
        else if (o == 'P')
            e.preset = optarg;
        else {
            printf("usage: tam config [--config FILE | --preset NAME] [--kernels SET] [--data DIR]\n"
                   "                  [--unbound]\n"
                   "Print the canonical JSON (every key, sorted; the baseline for keys the\n"
                   "file omits; with neither option, the baseline itself) and its hash, the\n"
                   "id stored with every prediction.  The\n"
                   "configuration is bound to its kernel set first (kernels_sha256 = the\n"
                   "digest of the set's files under --data, default $DATA or the build's),\n"
                   "as `tam run` stores it; --unbound prints it as the file gives it.\n");
            if (o == 'h')
                inputs_preset_help(stdout);
            return o == 'h' ? 0 : 2;
        }
    }
    econf_t c;
    char err[TAM_ERRLEN];
    if (inputs_config(&e, &c, err)) {
        fprintf(stderr, "tam config: %s\n", err);
        return 1;
    }
    if (!unbound) {
        hw_t hw;
        kset_t *ks;
        hw_h100_sxm(&hw);
        if (inputs_kset(&e, &hw, &c, &ks, err)) {
            fprintf(stderr, "tam config: %s\n", err);
            return 1;
        }
        kset_free(ks);
    }
    char buf[2048], h[17];
    econf_canonical(&c, buf, sizeof buf);
    econf_hash(&c, h);
    printf("{\"name\":\"%s\",\"hash\":\"%s\",\"config\":%s}\n", c.name, h, buf);
    return 0;
}
