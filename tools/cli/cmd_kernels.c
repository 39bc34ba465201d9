/* tools/cli/cmd_kernels.c - `tam kernels`: what a kernel data set is made of. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char kernels_usage[] =
    "usage: tam kernels [--set SET] [--data DIR] [--format text|md]\n"
    "Load a kernel data set and print what identifies it: its name, description,\n"
    "digest (the SHA-256 of the lines \"role<TAB>file<TAB>sha256\" of every file it\n"
    "read, in load order) and each file with its SHA-256 (as sha256sum prints it).\n"
    "Every row of every table is checked on load (physics of its declared dtype).\n"
    "  --set     proposal-h100 (default: the TAM proposal's tables, mfu/h100; GEMM\n"
    "            = FP8), h100-sxm-bf16 (measured bf16 vLLM 0.24 kernels) or the\n"
    "            path of a manifest JSON (format: engine/kset.c)\n"
    "  --data    data directory (default $DATA, else the one found at build time)\n"
    "  --format  text (default) or md (a markdown table, as FINDINGS.md shows it)\n";

int cmd_kernels(int argc, char **argv)
{
    static const struct option opts[] = {
        {"set", required_argument, 0, 's'},    {"data", required_argument, 0, 'D'},
        {"format", required_argument, 0, 'F'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    inputs_t e;
    inputs_init(&e);
    const char *set = ECONF_DEFAULT_KERNELS, *fmt = "text";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "s:D:F:h", opts, NULL)) != -1) {
        switch (o) {
        case 's': set = optarg; break;
        case 'D': e.data = optarg; break;
        case 'F': fmt = optarg; break;
        case 'h': fputs(kernels_usage, stdout); return 0;
        default: fputs(kernels_usage, stderr); return 2;
        }
    }
    int md = strcmp(fmt, "md") == 0;
    if (optind < argc || (!md && strcmp(fmt, "text"))) {
        fputs(kernels_usage, stderr);
        return 2;
    }
    char err[TAM_ERRLEN];
    hw_t hw;
    hw_h100_sxm(&hw);
    kset_t *ks;
    if (kset_load(e.data, set, NULL, NULL, &hw, &ks, err)) {
        fprintf(stderr, "tam kernels: %s\n", err);
        return 1;
    }
    if (md) {
        printf("Kernel set **%s** (digest `%s`): %s\n\n", ks->name, ks->sha256, ks->description);
        printf("| role | file (under the data directory) | sha256 |\n|---|---|---|\n");
        for (int i = 0; i < ks->n_files; i++)
            printf("| %s | `%s` | `%s` |\n", ks->files[i].role, ks->files[i].name,
                   ks->files[i].sha256);
    } else {
        printf("name         %s\ndescription  %s\ndigest       %s\nfiles        %d\n", ks->name,
               ks->description, ks->sha256, ks->n_files);
        for (int i = 0; i < ks->n_files; i++)
            printf("  %-12s %s  %s\n", ks->files[i].role, ks->files[i].sha256, ks->files[i].name);
    }
    kset_free(ks);
    return 0;
}
