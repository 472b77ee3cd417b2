/* fuzz_flags.c - libFuzzer target for the flag parser: cli_parse over an
 * option table like train's (every option type), with argv made from the
 * input split at NUL bytes. Checks, beyond sanitizers: the result is 0 or -1,
 * an error message is a terminated string, and every accepted value lies in
 * its option's range (nothing clamped, no NaN). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/cli.h"

enum { MAX_ARGS = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = "train";
    for (size_t at = 0; at <= size && argc < MAX_ARGS;) {
        argv[argc++] = copy + at;
        at += strlen(copy + at) + 1;
    }
    argv[argc] = NULL;

    int mode = -1, hidden = -1, flag = 0;
    uint64_t steps = 7;
    double lr = -1, frac = -1;
    const char *out = NULL;
    Opt opts[] = {
        {"--mode", OPT_CHOICE, &mode, 0, 0, "stream|lines", "MODE", "", 0},
        {"--hidden", OPT_INT, &hidden, 1, 65536, NULL, "H", "", 0},
        {"--steps", OPT_U64, &steps, 0, 0, NULL, "N", "", 0},
        {"--lr", OPT_DOUBLE, &lr, 1e-9, 1e6, NULL, "RATE", "", 0},
        {"--val-frac", OPT_DOUBLE, &frac, 0, 0.9, NULL, "F", "", 0},
        {"--out", OPT_STRING, &out, 0, 0, NULL, "DIR", "", 0},
        {"--quiet", OPT_FLAG, &flag, 0, 0, NULL, NULL, "", 0},
    };
    int n_opts = (int)(sizeof opts / sizeof *opts);
    const char *pos[2];
    int n_pos, help, version;
    Error err;
    int rc = cli_parse(opts, n_opts, argc, argv, pos, 2, &n_pos, &help, &version, &err);
    if (rc == 0) {
        if (n_pos < 0 || n_pos > 2)
            abort();
        if (opts[0].seen && (mode < 0 || mode > 1))
            abort();
        if (opts[1].seen && (hidden < 1 || hidden > 65536))
            abort();
        if (opts[3].seen && !(lr >= 1e-9 && lr <= 1e6))
            abort();
        if (opts[4].seen && !(frac >= 0 && frac <= 0.9))
            abort();
        if (opts[5].seen && (!out || !*out))
            abort();
        if (opts[6].seen != flag)
            abort();
        for (int k = 0; k < n_opts; k++)
            if (opts[k].seen != 0 && opts[k].seen != 1)
                abort();
    } else if (rc != -1 || memchr(err.msg, '\0', sizeof err.msg) == NULL) {
        abort();
    }
    free(copy);
    return 0;
}
