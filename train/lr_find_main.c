/* lr_find_main.c - `tinychar lr-find FILE`: the learning-rate finder. Trains
 * a fresh model for --steps steps (AdamW, clipping, no warmup) while the
 * learning rate grows exponentially from --start-lr to --end-lr, records the
 * batch loss and its smoothed value at each step, and writes DIR/lr-find.csv
 * and DIR/lr-find.svg. The schedule, smoothing and suggestion are in
 * model/optim.c, the chart in plot/plot.c. It saves no checkpoint. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/cli.h"
#include "../common/fileio.h"
#include "../common/mem.h"
#include "../data/data.h"
#include "../model/model.h"
#include "../model/optim.h"
#include "../plot/plot.h"

/* The weight of the past in the smoothed loss (fastai uses the same). */
#define SMOOTH_BETA 0.98
/* Stop once the smoothed loss is this many times the best so far. */
#define BLOWUP 4.0

int lr_find_main(int argc, char **argv)
{
    int mode = 0, batch = 256, threads = 0, quiet = 0;
    uint64_t steps = 300, seed = 1337;
    double start_lr = 1e-5, end_lr = 1;
    const char *out_dir = NULL;
    ModelConfig cfg = {.context = 8, .embed = 24, .hidden = 256, .layers = 2};
    Opt opts[] = {
        {"--mode", OPT_CHOICE, &mode, 0, 0, "stream|lines", "MODE",
         "stream: one continuous text (default); lines: one item per line", 0},
        {"--context", OPT_INT, &cfg.context, 1, MODEL_MAX_CONTEXT, NULL, "T",
         "characters of context (default 8)", 0},
        {"--embed", OPT_INT, &cfg.embed, 1, MODEL_MAX_EMBED, NULL, "E",
         "embedding size per character (default 24)", 0},
        {"--hidden", OPT_INT, &cfg.hidden, 1, MODEL_MAX_HIDDEN, NULL, "H",
         "units per hidden layer (default 256)", 0},
        {"--layers", OPT_INT, &cfg.layers, 1, MODEL_MAX_LAYERS, NULL, "L",
         "hidden layers (default 2)", 0},
        {"--batch", OPT_INT, &batch, 1, 1 << 20, NULL, "B",
         "examples per step (default 256)", 0},
        {"--steps", OPT_U64, &steps, 0, 0, NULL, "N",
         "steps over the learning-rate range (default 300)", 0},
        {"--start-lr", OPT_DOUBLE, &start_lr, 1e-12, 1e6, NULL, "RATE",
         "learning rate of the first step (default 1e-5)", 0},
        {"--end-lr", OPT_DOUBLE, &end_lr, 1e-12, 1e6, NULL, "RATE",
         "learning rate of the last step (default 1)", 0},
        {"--seed", OPT_U64, &seed, 0, 0, NULL, "S",
         "random seed for init and batches (default 1337)", 0},
        {"--threads", OPT_INT, &threads, 1, 1024, NULL, "N",
         "threads to use (default: all cores)", 0},
        {"--out", OPT_STRING, &out_dir, 0, 0, NULL, "DIR",
         "where lr-find.csv and lr-find.svg go (default runs/<file name>)", 0},
        {"--quiet", OPT_FLAG, &quiet, 0, 0, NULL, NULL,
         "print errors only (the suggestion still goes to stdout)", 0},
    };
    const Command cmd = {
        "lr-find", "FILE [options]",
        "Trains a fresh model on FILE for --steps steps while the learning rate\n"
        "grows exponentially from --start-lr to --end-lr, and writes\n"
        "DIR/lr-find.csv (step, lr, loss, smoothed) and DIR/lr-find.svg (loss\n"
        "against learning rate, log scale). Stops early once the smoothed loss\n"
        "exceeds 4 times its best. Prints the suggested learning rate on stdout:\n"
        "the one at the lowest smoothed loss, divided by 10.\n",
        "give one text FILE", 1, opts, (int)(sizeof opts / sizeof *opts)};
    const char *pos[1];
    int started = cli_begin(&cmd, argc, argv, pos);
    if (started >= 0)
        return started;
    Error err;
    if (steps < 2 || steps > 1000000)
        return cli_fail(EXIT_USAGE, "lr-find: --steps must be from 2 to 1000000");
    if (!(end_lr > start_lr))
        return cli_fail(EXIT_USAGE, "lr-find: --end-lr %g must be above --start-lr %g",
                        end_lr, start_lr);
    if (out_dir && strlen(out_dir) > 3000)
        return cli_fail(EXIT_USAGE, "lr-find: --out: path is too long");
    cli_set_threads(threads);

    const char *file = pos[0];
    unsigned char *text = NULL;
    size_t len = 0;
    Tokenizer tok = {0};
    Dataset data = {0};
    Model model = {0};
    Optimizer opt = {0};
    Activations acts = {0};
    int32_t *ctx = NULL, *targets = NULL;
    double *lr = NULL, *loss = NULL, *smoothed = NULL;
    char *svg = NULL, *csv = NULL;
    int code = EXIT_RUNTIME;

    /* Text, tokenizer and one dataset of every example (no validation). */
    if (cli_read_text(&text, &len, file, TOK_CHAR, 1, TOK_INVALID_ERROR, quiet, &err) != 0)
        goto done;
    Error terr;
    if (tok_build(&tok, TOK_CHAR, mode, text, len, &terr) != 0) {
        err_set(&err, "%s: %s", file, terr.msg);
        goto done;
    }
    if (data_build(&data, &tok, text, len, mode, cfg.context, file, &err) != 0)
        goto done;
    cfg.vocab = tok.vocab_size;
    if (model_config_check(&cfg, &err) != 0) {
        code = EXIT_USAGE;
        goto done;
    }
    /* AdamW as `train` uses it, with no warmup: the range is the schedule. */
    OptimConfig ocfg = {.kind = OPTIM_ADAMW, .lr = end_lr, .min_lr = start_lr,
                        .weight_decay = 0.1, .clip = 1.0, .beta1 = 0.9,
                        .beta2 = 0.999, .eps = 1e-8, .momentum = 0.9};
    if (model_init(&model, &cfg, &err) != 0 ||
        optim_init(&opt, &ocfg, model.n_params, &err) != 0 ||
        acts_init(&acts, &cfg, batch, 1, &err) != 0)
        goto done;
    ctx = mem_calloc((size_t)batch, (size_t)cfg.context * sizeof *ctx, "batch", &err);
    targets = mem_calloc((size_t)batch, sizeof *targets, "batch", &err);
    lr = mem_calloc(steps, sizeof *lr, "lr-find log", &err);
    loss = mem_calloc(steps, sizeof *loss, "lr-find log", &err);
    smoothed = mem_calloc(steps, sizeof *smoothed, "lr-find log", &err);
    if (!ctx || !targets || !lr || !loss || !smoothed)
        goto done;
    TensorInfo tensors[MODEL_MAX_TENSORS];
    int n_tensors = model_tensors(&cfg, tensors);
    Rng rng;
    rng_seed(&rng, seed);
    model_randomize(&model, &rng);

    char dir[4096];
    if (out_dir) {
        snprintf(dir, sizeof dir, "%s", out_dir);
    } else {
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        size_t stem = strcspn(base, ".");
        snprintf(dir, sizeof dir, "runs/%.*s", (int)(stem ? stem : strlen(base)), base);
    }
    if (file_mkdirs(dir, &err) != 0)
        goto done;
    if (!quiet)
        fprintf(stderr, "tinychar: lr-find on %s: %zu parameters, batch %d, "
                "%llu steps from lr %g to %g\n", file, model.n_params, batch,
                (unsigned long long)steps, start_lr, end_lr);

    /* The loop: the training step of `train`, with the learning rate of
     * the range instead of the schedule. */
    double avg = 0, best = INFINITY;
    size_t n = 0;
    const char *why = "reached --end-lr";
    for (uint64_t i = 0; i < steps; i++) {
        double rate = optim_lr_range(start_lr, end_lr, i, steps);
        data_batch(&data, &rng, batch, ctx, targets);
        double l = model_forward(&model, &acts, ctx, targets, batch);
        if (!isfinite(l)) {
            why = "the loss became non-finite";
            break;
        }
        model_zero_grad(&model);
        model_backward(&model, &acts, ctx, targets, batch);
        double norm = optim_grad_norm(model.grads, model.n_params);
        optim_step_scaled(&opt, model.params, model.grads,
                          optim_clip_scale(norm, ocfg.clip), tensors, n_tensors,
                          rate, i + 1);
        lr[n] = rate;
        loss[n] = l;
        smoothed[n] = optim_lr_smooth(&avg, SMOOTH_BETA, l, i);
        if (smoothed[n] < best)
            best = smoothed[n];
        n++;
        if (smoothed[n - 1] > BLOWUP * best) {
            why = "the smoothed loss passed 4 times its best";
            break;
        }
    }
    if (n < 2) {
        err_set(&err, "lr-find: the loss diverged at once (lr %g); try a lower "
                "--start-lr", start_lr);
        goto done;
    }
    double suggested = optim_lr_suggest(lr, smoothed, n);

    /* lr-find.csv: one line per step. */
    size_t cap = 64 + n * 96, clen = 0;
    csv = mem_calloc(cap, 1, "lr-find.csv", &err);
    if (!csv)
        goto done;
    clen += (size_t)snprintf(csv, cap, "step,lr,loss,smoothed\n");
    for (size_t i = 0; i < n; i++)
        clen += (size_t)snprintf(csv + clen, cap - clen, "%zu,%.6g,%.6f,%.6f\n",
                                 i + 1, lr[i], loss[i], smoothed[i]);
    char path[4200];
    snprintf(path, sizeof path, "%s/lr-find.csv", dir);
    if (file_write_atomic(path, csv, clen, &err) != 0)
        goto done;
    char title[4200];
    snprintf(title, sizeof title, "tinychar lr-find: %s", file);
    size_t svg_len;
    if (plot_lr_find_svg(&svg, &svg_len, lr, loss, smoothed, n, suggested, title,
                         &err) != 0)
        goto done;
    snprintf(path, sizeof path, "%s/lr-find.svg", dir);
    if (file_write_atomic(path, svg, svg_len, &err) != 0)
        goto done;
    if (!quiet)
        fprintf(stderr, "tinychar: %zu steps (%s); lowest smoothed loss %.4f; "
                "wrote %s/lr-find.csv and %s/lr-find.svg\n"
                "tinychar: suggested learning rate (lowest loss / 10): --lr %.2g\n",
                n, why, best, dir, dir, suggested);
    printf("%.2g\n", suggested);
    if (fflush(stdout) != 0) {
        err_set(&err, "cannot write to stdout");
        goto done;
    }
    code = EXIT_OK;
done:
    free(text);
    free(csv);
    free(svg);
    free(ctx);
    free(targets);
    free(lr);
    free(loss);
    free(smoothed);
    tok_free(&tok);
    data_free(&data);
    model_free(&model);
    optim_free(&opt);
    acts_free(&acts);
    if (code != EXIT_OK)
        return cli_fail(code, "%s", err.msg);
    return code;
}
