/* gradcheck_main.c - `tinychar gradcheck`: builds a small random model and
 * checks backpropagation against finite differences on every parameter
 * tensor (model/gradcheck.c), printing one table row per tensor. Exit 0 if
 * every tensor passes, 1 if any fails. */
#include <math.h>
#include <stdio.h>

#include "../cli/cli.h"
#include "../model/gradcheck.h"

int gradcheck_main(int argc, char **argv)
{
    ModelConfig cfg = {.context = 3, .embed = 4, .hidden = 5, .layers = 2, .vocab = 7};
    uint64_t seed = 1;
    Opt opts[] = {
        {"--context", OPT_INT, &cfg.context, 1, 64, NULL, "T",
         "characters of context (default 3)", 0},
        {"--embed", OPT_INT, &cfg.embed, 1, 64, NULL, "E",
         "embedding size per character (default 4)", 0},
        {"--hidden", OPT_INT, &cfg.hidden, 1, 512, NULL, "H",
         "units per hidden layer (default 5)", 0},
        {"--layers", OPT_INT, &cfg.layers, 1, MODEL_MAX_LAYERS, NULL, "L",
         "hidden layers (default 2)", 0},
        {"--vocab", OPT_INT, &cfg.vocab, 2, 1000, NULL, "V",
         "vocabulary size (default 7)", 0},
        {"--seed", OPT_U64, &seed, 0, 0, NULL, "S",
         "random seed for the parameters and the batch (default 1)", 0},
    };
    char about[600];
    snprintf(about, sizeof about,
             "Checks backpropagation: builds a small random model and a random batch\n"
             "of %d examples, computes the gradient of the loss with the backward\n"
             "pass, and compares it, parameter by parameter, with the central\n"
             "difference (loss(p + h) - loss(p - h)) / 2h, h = %g. Tensors larger\n"
             "than %d entries are checked on a random sample of that many. Prints\n"
             "one row per parameter tensor; exits 0 if all pass, 1 if any fails.\n",
             GRADCHECK_BATCH, GRADCHECK_EPS, GRADCHECK_MAX_ENTRIES);
    const Command cmd = {"gradcheck", "[options]", about, "takes no file arguments",
                         0, opts, (int)(sizeof opts / sizeof *opts)};
    const char *pos[1];
    int started = cli_begin(&cmd, argc, argv, pos);
    if (started >= 0)
        return started;
    Error err;
    /* Thousands of tiny forward passes: one thread is fastest. */
    cli_set_threads(1);
    GradcheckCase c = {0};
    if (gradcheck_case_init(&c, &cfg, seed, &err) != 0)
        return cli_fail(EXIT_RUNTIME, "gradcheck: %s", err.msg);
    GradcheckRow rows[MODEL_MAX_TENSORS];
    int n = gradcheck_case_run(&c, rows);
    printf("model: context %d, embed %d, hidden %d x %d, vocabulary %d; %zu "
           "parameters\nbatch of %d random examples, loss %.4f (ln V = %.4f)\n"
           "relative error = |analytic - numeric| / max(|analytic|, |numeric|, %g);"
           " pass if <= %g\n\n", cfg.context, cfg.embed, cfg.hidden, cfg.layers,
           cfg.vocab, c.model.n_params, GRADCHECK_BATCH, c.loss, log((double)cfg.vocab),
           GRADCHECK_FLOOR, GRADCHECK_TOL);
    printf("%-16s %-11s %8s %14s %11s  %s\n", "tensor", "shape", "checked",
           "max rel error", "max |grad|", "result");
    int failed = 0;
    for (int i = 0; i < n; i++) {
        const GradcheckRow *r = &rows[i];
        char shape[32];
        if (r->cols == 1)
            snprintf(shape, sizeof shape, "%zu", r->rows);
        else
            snprintf(shape, sizeof shape, "%zu x %zu", r->rows, r->cols);
        const char *why = r->pass ? "pass"
                          : r->max_grad <= GRADCHECK_MIN_GRAD ? "FAIL (all zero)"
                                                              : "FAIL";
        printf("%-16s %-11s %8zu %14.2e %11.2e  %s\n", r->name, shape, r->checked,
               r->max_rel_err, r->max_grad, why);
        failed += !r->pass;
    }
    size_t n_params = c.model.n_params;
    gradcheck_case_free(&c);
    if (failed)
        return cli_fail(EXIT_RUNTIME, "gradcheck: %d of %d tensors FAIL: the "
                        "backward pass disagrees with finite differences", failed, n);
    printf("\nall %d tensors pass (%zu parameters)\n", n, n_params);
    return EXIT_OK;
}
