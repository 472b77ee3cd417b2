/* train.c - `tinychar train FILE`: the training loop. Parse flags, read the
 * text, build the tokenizer, datasets, model and optimizer, then repeat
 * (batch -> forward -> loss -> backward -> clip -> optimizer step), evaluating
 * and checkpointing every --eval-every steps. The maths lives in model/. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../common/fileio.h"
#include "../common/mem.h"
#include "../data/data.h"
#include "../model/ckpt.h"
#include "../model/model.h"
#include "../model/optim.h"
#include "../plot/plot_main.h"
#include "evaluate.h"

/* Examples used for each periodic train/val loss estimate. */
#define EVAL_EXAMPLES 20000

/* Set by the SIGINT handler, read by the loop between steps. A signal handler
 * can only communicate through a static object; this is the one mutable
 * global in tinychar. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "1:05" or "1:02:03" */
static void format_duration(char *buf, size_t size, double s)
{
    if (!(s >= 0) || s > 1e8)
        s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

/* The live progress line, drawn on stderr only when it is a terminal: one
 * line rewritten in place with \r (and "erase to end of line"), at most
 * every LIVE_PERIOD seconds; the permanent log lines clear it first. When
 * stderr is a pipe or a file, nothing of this is printed. */
#define LIVE_PERIOD 0.25

typedef struct {
    int on;           /* stderr is a terminal and not --quiet */
    int shown;        /* a live line is on screen */
    double last_draw; /* now_seconds() of the last redraw */
    double loss_sum;  /* batch losses since the last evaluation */
    uint64_t loss_n;
} Live;

static void live_clear(Live *l)
{
    if (l->shown) {
        fputs("\r\033[K", stderr);
        l->shown = 0;
    }
}

/* [#######.............]  35% step 1750/5000 | loss 2.1234 | val 2.2345 |
 * 41230 ex/s | 0:12 elapsed | eta 0:23 */
static void live_draw(Live *l, double frac, uint64_t step, uint64_t steps_total,
                      double last_val, double rate, double elapsed, double eta)
{
    enum { WIDTH = 20 };
    char bar[WIDTH + 1], el[32], et[32], val[32], stepbuf[64];
    if (!(frac >= 0))
        frac = 0;
    if (frac > 1)
        frac = 1;
    int filled = (int)(frac * WIDTH);
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    format_duration(el, sizeof el, elapsed);
    format_duration(et, sizeof et, eta);
    if (isfinite(last_val))
        snprintf(val, sizeof val, "%.4f", last_val);
    else
        snprintf(val, sizeof val, "-");
    if (steps_total)
        snprintf(stepbuf, sizeof stepbuf, "step %llu/%llu", (unsigned long long)step,
                 (unsigned long long)steps_total);
    else
        snprintf(stepbuf, sizeof stepbuf, "step %llu", (unsigned long long)step);
    fprintf(stderr, "\r[%s] %3.0f%% %s | loss %.4f | val %s | %.0f ex/s | "
            "%s elapsed | eta %s\033[K", bar, 100 * frac, stepbuf,
            l->loss_n ? l->loss_sum / (double)l->loss_n : NAN, val, rate, el, et);
    fflush(stderr);
    l->shown = 1;
}

typedef struct {
    const char *file, *val_file, *out_dir, *resume;
    int mode, tokenizer, no_normalize, invalid, quiet;
    double val_frac;
    ModelConfig cfg;
    int optimizer;
    OptimConfig opt;
    int batch, eval_every, threads;
    uint64_t steps, seed, stop_at;
    double time_budget;
} Args;

/* Everything the loop touches, so helpers take one pointer. */
typedef struct {
    Args *args;
    char out_dir[4096];
    Tokenizer tok;
    Dataset train, val;
    Model model;
    Optimizer opt;
    Activations acts;
    TensorInfo tensors[MODEL_MAX_TENSORS];
    int n_tensors;
    TrainState st;
    Rng rng;
    int32_t *ctx, *targets;
    FILE *metrics;
    int lock_fd;          /* holds DIR/lock while training, -1 if none */
    int have_checkpoint;  /* a checkpoint of this run exists to fall back on */
    int diverged;         /* stopped on a NaN or infinity: EXIT_DIVERGED */
} Run;

static void run_free(Run *r)
{
    tok_free(&r->tok);
    data_free(&r->train);
    data_free(&r->val);
    model_free(&r->model);
    optim_free(&r->opt);
    acts_free(&r->acts);
    free(r->ctx);
    free(r->targets);
    if (r->metrics)
        fclose(r->metrics);
    file_unlock(r->lock_fd);
}

/* MemAvailable from /proc/meminfo in bytes (what can be allocated without
 * swapping), else the physical memory size, else 0 when unknown. */
static double available_memory(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                fclose(f);
                return (double)kb * 1024.0;
            }
        fclose(f);
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* What the user still has when training must stop on a non-finite value. */
static const char *kept(const Run *r)
{
    return r->have_checkpoint ? "The last good checkpoint is kept."
                              : "No checkpoint was saved.";
}

/* Writes last.ckpt (and best.ckpt when `best`) from the current state, after
 * making sure it holds no NaN or infinity: a diverged model is never saved. */
static int save(Run *r, int best, Error *err)
{
    if (!all_finite(r->model.params, r->model.n_params) ||
        !all_finite(r->opt.m, r->opt.n) ||
        (r->opt.v && !all_finite(r->opt.v, r->opt.n))) {
        r->diverged = 1;
        return err_set(err, "training diverged by step %llu: parameters or "
                       "optimizer state became NaN or infinite; try a lower "
                       "--lr. %s", (unsigned long long)r->st.step, kept(r));
    }
    Checkpoint ck = {
        .cfg = r->model.cfg,
        .opt = r->opt.cfg,
        .st = r->st,
        .vocab = r->tok.vocab,
        .n_params = r->model.n_params,
        .params = r->model.params,
        .n_moments = r->opt.n_moments,
        .m = r->opt.m,
        .v = r->opt.v,
    };
    memcpy(ck.st.rng, r->rng.s, sizeof ck.st.rng);
    unsigned char *buf;
    size_t len;
    if (ckpt_encode(&ck, &buf, &len, err) != 0)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/last.ckpt", r->out_dir);
    int rc = file_write_atomic(path, buf, len, err);
    if (rc == 0 && best) {
        snprintf(path, sizeof path, "%s/best.ckpt", r->out_dir);
        rc = file_write_atomic(path, buf, len, err);
    }
    free(buf);
    if (rc == 0)
        r->have_checkpoint = 1;
    return rc;
}

/* Reads the text files and builds tokenizer and datasets, fresh or resumed. */
static int load_data(Run *r, const Checkpoint *resume, Error *err)
{
    Args *a = r->args;
    TokKind kind = resume ? (TokKind)resume->st.tokenizer : (TokKind)a->tokenizer;
    int normalize = resume ? (int)resume->st.normalize : !a->no_normalize;
    int lines = resume ? (int)resume->st.lines : a->mode;
    int T = resume ? resume->cfg.context : a->cfg.context;
    unsigned char *text = NULL, *vtext = NULL;
    size_t len = 0, vlen = 0;
    int rc = -1;
    TokInvalid invalid = (TokInvalid)a->invalid;
    if (cli_read_text(&text, &len, a->file, kind, normalize, invalid, a->quiet,
                      err) != 0) {
        if (kind == TOK_CHAR && strstr(err->msg, "invalid UTF-8"))
            snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg),
                     "; --invalid replace reads it with U+FFFD for each bad "
                     "sequence, --tokenizer byte accepts any file");
        goto done;
    }
    if (a->val_file && cli_read_text(&vtext, &vlen, a->val_file, kind, normalize,
                                     invalid, a->quiet, err) != 0)
        goto done;
    if (resume) {
        if (tok_from_vocab(&r->tok, kind, resume->vocab, resume->cfg.vocab, err) != 0)
            goto done;
    } else {
        /* The vocabulary covers the training and validation text both, so a
         * character that happens to occur only in validation is not an error. */
        unsigned char *all = text;
        size_t all_len = len;
        if (vtext) {
            all = mem_calloc(len + vlen + 2, 1, "vocabulary text", err);
            if (!all)
                goto done;
            memcpy(all, text, len);
            all[len] = '\n';
            memcpy(all + len + 1, vtext, vlen);
            all_len = len + 1 + vlen;
        }
        Error terr;
        rc = tok_build(&r->tok, kind, lines, all, all_len, &terr);
        if (all != text)
            free(all);
        if (rc != 0) {
            err_set(err, "%s: %s", a->file, terr.msg);
            goto done;
        }
        rc = -1;
    }
    if (vtext) {
        if (data_build(&r->train, &r->tok, text, len, lines, T, a->file, err) != 0 ||
            data_build(&r->val, &r->tok, vtext, vlen, lines, T, a->val_file, err) != 0)
            goto done;
    } else {
        double frac = resume ? resume->st.val_frac : a->val_frac;
        uint64_t seed = resume ? resume->st.seed : a->seed;
        if (data_build_split(&r->train, &r->val, &r->tok, text, len, lines, T,
                             frac, seed, a->file, err) != 0)
            goto done;
    }
    rc = 0;
done:
    free(text);
    free(vtext);
    return rc;
}

/* Train and val loss on their fixed evaluation examples. */
static void evaluate(Run *r, double *train_loss, double *val_loss)
{
    *train_loss = evaluate_loss(&r->model, &r->acts, &r->train, EVAL_EXAMPLES,
                                r->ctx, r->targets);
    *val_loss = evaluate_loss(&r->model, &r->acts, &r->val, EVAL_EXAMPLES,
                              r->ctx, r->targets);
}

int train_main(int argc, char **argv)
{
    Args a = {
        .mode = 0, .tokenizer = TOK_CHAR, .val_frac = 0.1,
        .cfg = {.context = 8, .embed = 24, .hidden = 256, .layers = 2},
        .opt = {.lr = 3e-3, .warmup = 100, .weight_decay = 0.1, .clip = 1.0,
                .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .momentum = 0.9},
        .batch = 256, .eval_every = 500, .steps = 5000, .seed = 1337,
    };
    Opt opts[] = {
        {"--mode", OPT_CHOICE, &a.mode, 0, 0, "stream|lines", "MODE",
         "stream: one continuous text (default); lines: one item per line", 0},
        {"--tokenizer", OPT_CHOICE, &a.tokenizer, 0, 0, "char|byte", "KIND",
         "char: Unicode characters (default); byte: the 256 byte values", 0},
        {"--no-normalize", OPT_FLAG, &a.no_normalize, 0, 0, NULL, NULL,
         "keep the text as is instead of Unicode NFC", 0},
        {"--invalid", OPT_CHOICE, &a.invalid, 0, 0, "error|replace", "MODE",
         "invalid UTF-8: error (default) or replace with U+FFFD", 0},
        {"--val-file", OPT_STRING, &a.val_file, 0, 0, NULL, "FILE",
         "validation text (default: hold out --val-frac of FILE)", 0},
        {"--val-frac", OPT_DOUBLE, &a.val_frac, 0, 0.9, NULL, "F",
         "fraction held out for validation (default 0.1)", 0},
        {"--context", OPT_INT, &a.cfg.context, 1, MODEL_MAX_CONTEXT, NULL, "T",
         "characters of context (default 8)", 0},
        {"--embed", OPT_INT, &a.cfg.embed, 1, MODEL_MAX_EMBED, NULL, "E",
         "embedding size per character (default 24)", 0},
        {"--hidden", OPT_INT, &a.cfg.hidden, 1, MODEL_MAX_HIDDEN, NULL, "H",
         "units per hidden layer (default 256)", 0},
        {"--layers", OPT_INT, &a.cfg.layers, 1, MODEL_MAX_LAYERS, NULL, "L",
         "hidden layers (default 2)", 0},
        {"--optimizer", OPT_CHOICE, &a.optimizer, 0, 0, "adamw|sgd", "NAME",
         "adamw (default) or sgd (with momentum)", 0},
        {"--lr", OPT_DOUBLE, &a.opt.lr, 1e-9, 1e6, NULL, "RATE",
         "peak learning rate (default 3e-3)", 0},
        {"--min-lr", OPT_DOUBLE, &a.opt.min_lr, 0, 1e6, NULL, "RATE",
         "learning rate at the end of the cosine decay (default lr/10)", 0},
        {"--warmup", OPT_U64, &a.opt.warmup, 0, 0, NULL, "N",
         "steps of linear learning-rate warmup (default 100)", 0},
        {"--weight-decay", OPT_DOUBLE, &a.opt.weight_decay, 0, 10, NULL, "WD",
         "weight decay on weight matrices (default 0.1)", 0},
        {"--clip", OPT_DOUBLE, &a.opt.clip, 0, 1e6, NULL, "NORM",
         "clip the global gradient norm to NORM, 0 = off (default 1)", 0},
        {"--momentum", OPT_DOUBLE, &a.opt.momentum, 0, 0.999999, NULL, "MU",
         "SGD momentum (default 0.9)", 0},
        {"--batch", OPT_INT, &a.batch, 1, 1 << 20, NULL, "B",
         "examples per step (default 256)", 0},
        {"--steps", OPT_U64, &a.steps, 0, 0, NULL, "N",
         "train for N steps (default 5000)", 0},
        {"--time", OPT_DOUBLE, &a.time_budget, 0.001, 1e7, NULL, "SECONDS",
         "train for this long instead; the schedule spans the time", 0},
        {"--eval-every", OPT_INT, &a.eval_every, 1, 1 << 30, NULL, "N",
         "evaluate and save every N steps (default 500)", 0},
        {"--seed", OPT_U64, &a.seed, 0, 0, NULL, "S",
         "random seed for init, split and batches (default 1337)", 0},
        {"--threads", OPT_INT, &a.threads, 1, 1024, NULL, "N",
         "threads to use (default: all cores)", 0},
        {"--out", OPT_STRING, &a.out_dir, 0, 0, NULL, "DIR",
         "run directory (default runs/<file name>)", 0},
        {"--resume", OPT_STRING, &a.resume, 0, 0, NULL, "CKPT",
         "continue the run saved in CKPT on FILE (the same file continues it exactly)", 0},
        {"--stop-at", OPT_U64, &a.stop_at, 1, 0, NULL, "STEP",
         "save last.ckpt and stop after STEP, as Ctrl-C would", 0},
        {"--quiet", OPT_FLAG, &a.quiet, 0, 0, NULL, NULL,
         "print errors only", 0},
    };
    int n_opts = (int)(sizeof opts / sizeof *opts);
    char about[600];
    snprintf(about, sizeof about,
             "Trains a character-level MLP language model on FILE. Writes DIR/last.ckpt\n"
             "at every evaluation, DIR/best.ckpt when the validation loss improves, and\n"
             "DIR/metrics.csv. Each evaluation uses up to %d examples.\n"
             "Give --steps or --time (default: --steps 5000). Ctrl-C saves last.ckpt.\n",
             EVAL_EXAMPLES);
    const Command cmd = {"train",
                         "FILE [options]\n"
                         "       tinychar train FILE --resume CKPT [--out DIR] [--val-file F]",
                         about,
                         "give one text FILE to train on", 1, opts, n_opts};
    const char *pos[1];
    int started = cli_begin(&cmd, argc, argv, pos);
    if (started >= 0)
        return started;
    Error err;
    a.file = pos[0];
    a.opt.kind = (OptimKind)a.optimizer;
    int steps_given = cli_opt(opts, n_opts, "--steps")->seen;
    int time_given = cli_opt(opts, n_opts, "--time")->seen;
    if (steps_given && time_given)
        return cli_fail(EXIT_USAGE, "train: give --steps or --time, not both");
    if (steps_given && a.steps == 0)
        return cli_fail(EXIT_USAGE, "train: --steps must be at least 1");
    if (time_given)
        a.steps = 0;
    if (cli_opt(opts, n_opts, "--val-frac")->seen && a.val_frac <= 0)
        return cli_fail(EXIT_USAGE, "train: --val-frac must be above 0 "
                        "(or use --val-file)");
    if (!cli_opt(opts, n_opts, "--min-lr")->seen)
        a.opt.min_lr = a.opt.lr / 10;
    if (a.opt.min_lr > a.opt.lr)
        return cli_fail(EXIT_USAGE, "train: --min-lr %g is above --lr %g",
                        a.opt.min_lr, a.opt.lr);
    if (cli_opt(opts, n_opts, "--stop-at")->seen && a.stop_at == 0)
        return cli_fail(EXIT_USAGE, "train: --stop-at must be at least 1");
    if (a.out_dir && strlen(a.out_dir) > 3000)
        return cli_fail(EXIT_USAGE, "train: --out: path is too long (%zu bytes, "
                        "at most 3000)", strlen(a.out_dir));
    if (a.resume) {
        /* What defines the run comes from the checkpoint. */
        const char *fixed[] = {"--mode", "--tokenizer", "--no-normalize",
                               "--val-frac", "--context", "--embed", "--hidden",
                               "--layers", "--optimizer", "--lr", "--min-lr",
                               "--warmup", "--weight-decay", "--clip",
                               "--momentum", "--batch", "--steps", "--time",
                               "--eval-every", "--seed"};
        for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++)
            if (cli_opt(opts, n_opts, fixed[k])->seen)
                return cli_fail(EXIT_USAGE, "train: %s cannot be changed when "
                                "resuming; it comes from the checkpoint", fixed[k]);
    }
    cli_set_threads(a.threads);

    Run r = {.args = &a, .lock_fd = -1};
    Loaded resumed = {0};
    int code = EXIT_RUNTIME;
    if (a.resume) {
        if (cli_load_checkpoint(&resumed, a.resume, &err) != 0)
            goto fail;
        if (resumed.ck.n_moments != (resumed.ck.opt.kind == OPTIM_ADAMW ? 2 : 1)) {
            err_set(&err, "%s: holds no optimizer state to resume from", a.resume);
            goto fail;
        }
        if (resumed.ck.st.val_from_file && !a.val_file) {
            err_set(&err, "%s was trained with --val-file; give it again to resume",
                    a.resume);
            code = EXIT_USAGE;
            goto fail;
        }
        if (!resumed.ck.st.val_from_file && a.val_file) {
            err_set(&err, "%s was trained without --val-file; resume without it",
                    a.resume);
            code = EXIT_USAGE;
            goto fail;
        }
        a.cfg = resumed.ck.cfg;
        a.opt = resumed.ck.opt;
        r.st = resumed.ck.st;
        memcpy(r.rng.s, r.st.rng, sizeof r.rng.s);
    }
    if (load_data(&r, a.resume ? &resumed.ck : NULL, &err) != 0)
        goto fail;

    /* Model, optimizer and the step's buffers, all allocated before the loop. */
    ModelConfig cfg = a.cfg;
    cfg.vocab = r.tok.vocab_size;
    int B = a.resume ? (int)r.st.batch : a.batch;
    if (model_config_check(&cfg, &err) != 0) {
        code = EXIT_USAGE;
        goto fail;
    }
    /* Refuse, before allocating, what cannot fit in the memory this machine
     * has available: the allocations would otherwise succeed lazily and the
     * kernel's OOM killer would end the run later, mid-step. */
    double need = model_memory_bytes(&cfg, B, 1, a.opt.kind == OPTIM_ADAMW ? 2 : 1);
    double avail = available_memory();
    if (avail > 0 && need > avail) {
        err_set(&err, "the model and a batch of %d need %.0f bytes (%.1f GiB) but "
                "this machine has %.0f bytes (%.1f GiB) available; use a smaller "
                "--hidden, --context, --embed or --batch", B, need, need / (1 << 30),
                avail, avail / (1 << 30));
        goto fail;
    }
    if (model_init(&r.model, &cfg, &err) != 0 ||
        optim_init(&r.opt, &a.opt, r.model.n_params, &err) != 0 ||
        acts_init(&r.acts, &cfg, B, 1, &err) != 0)
        goto fail;
    r.ctx = mem_calloc((size_t)B, (size_t)cfg.context * sizeof(int32_t), "batch", &err);
    r.targets = mem_calloc((size_t)B, sizeof(int32_t), "batch", &err);
    if (!r.ctx || !r.targets)
        goto fail;
    r.n_tensors = model_tensors(&cfg, r.tensors);
    if (a.resume) {
        memcpy(r.model.params, resumed.ck.params, r.model.n_params * sizeof(float));
        memcpy(r.opt.m, resumed.ck.m, r.model.n_params * sizeof(float));
        if (r.opt.v)
            memcpy(r.opt.v, resumed.ck.v, r.model.n_params * sizeof(float));
    } else {
        rng_seed(&r.rng, a.seed);
        model_randomize(&r.model, &r.rng);
        r.st = (TrainState){
            .tokenizer = (uint32_t)a.tokenizer, .lines = (uint32_t)a.mode,
            .normalize = (uint32_t)!a.no_normalize,
            .val_from_file = a.val_file != NULL, .batch = (uint32_t)B,
            .eval_every = (uint32_t)a.eval_every, .seed = a.seed,
            .steps_total = a.steps, .time_budget = a.steps ? 0 : a.time_budget,
            .val_frac = a.val_file ? 0 : a.val_frac,
            .best_val = INFINITY, .last_val = INFINITY,
        };
    }
    cli_loaded_free(&resumed);

    /* The run directory and its metrics log. */
    if (a.out_dir) {
        snprintf(r.out_dir, sizeof r.out_dir, "%s", a.out_dir);
    } else if (a.resume) {
        const char *slash = strrchr(a.resume, '/');
        if (slash)
            snprintf(r.out_dir, sizeof r.out_dir, "%.*s", (int)(slash - a.resume), a.resume);
        else
            snprintf(r.out_dir, sizeof r.out_dir, ".");
    } else {
        const char *base = strrchr(a.file, '/');
        base = base ? base + 1 : a.file;
        size_t stem = strcspn(base, ".");
        snprintf(r.out_dir, sizeof r.out_dir, "runs/%.*s", (int)(stem ? stem : strlen(base)), base);
    }
    if (file_mkdirs(r.out_dir, &err) != 0)
        goto fail;
    /* One training per run directory: a second one would interleave its
     * checkpoints and metrics with ours. */
    char lock_path[4200];
    snprintf(lock_path, sizeof lock_path, "%s/lock", r.out_dir);
    if (file_lock(lock_path, &r.lock_fd, &err) != 0)
        goto fail;
    char metrics_path[4200];
    snprintf(metrics_path, sizeof metrics_path, "%s/metrics.csv", r.out_dir);
    r.metrics = fopen(metrics_path, a.resume ? "a" : "w");
    if (!r.metrics) {
        err_set(&err, "cannot open '%s' for writing", metrics_path);
        goto fail;
    }
    if (!a.resume)
        fprintf(r.metrics, "step,time,train_loss,val_loss,lr\n");

    TrainState *st = &r.st;
    if (!a.quiet) {
        fprintf(stderr, "tinychar: %s: %zu training and %zu validation examples, "
                "vocabulary %d, %s mode\n", a.file, r.train.n_examples,
                r.val.n_examples, cfg.vocab, st->lines ? "lines" : "stream");
        fprintf(stderr, "tinychar: model: context %d, embed %d, hidden %d x %d, "
                "%zu parameters; %s, batch %d, ", cfg.context, cfg.embed,
                cfg.hidden, cfg.layers, r.model.n_params,
                a.opt.kind == OPTIM_ADAMW ? "adamw" : "sgd", B);
        if (st->steps_total)
            fprintf(stderr, "%llu steps\n", (unsigned long long)st->steps_total);
        else
            fprintf(stderr, "%g seconds\n", st->time_budget);
    }
    if (!a.resume && !a.quiet) {
        double tl, vl;
        evaluate(&r, &tl, &vl);
        fprintf(stderr, "step 0: train loss %.4f, val loss %.4f (ln V = %.4f for "
                "a uniform guess over V = %d)\n", tl, vl, log((double)cfg.vocab),
                cfg.vocab);
    }
    r.have_checkpoint = a.resume != NULL;
    int finished = st->steps_total ? st->step >= st->steps_total
                                   : st->elapsed >= st->time_budget;
    if (finished) {
        if (!a.quiet && st->steps_total)
            fprintf(stderr, "tinychar: already trained %llu of %llu steps\n",
                    (unsigned long long)st->step,
                    (unsigned long long)st->steps_total);
        else if (!a.quiet)
            fprintf(stderr, "tinychar: already trained %.0f of %.0f seconds\n",
                    st->elapsed, st->time_budget);
        run_free(&r);
        return EXIT_OK;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    /* SA_RESTART: a Ctrl-C that lands while a checkpoint is being written
     * must not turn that write() or fsync() into an error; the loop sees
     * the flag at the next step and saves then. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);

    double t_start = now_seconds();
    double elapsed_before = st->elapsed;
    double t_window = t_start;
    uint64_t step_window = st->step;
    int plot_warned = 0;
    Live live = {.on = !a.quiet && isatty(STDERR_FILENO), .last_draw = t_start};
    uint64_t step_start = st->step;
    for (;;) {
        double elapsed = elapsed_before + (now_seconds() - t_start);
        if (interrupted || (a.stop_at && st->step >= a.stop_at)) {
            live_clear(&live);
            if (st->time_budget > 0)
                st->elapsed = elapsed;
            if (save(&r, 0, &err) != 0)
                goto fail;
            if (!a.quiet)
                fprintf(stderr, "tinychar: %s at step %llu; saved %s/last.ckpt "
                        "(continue with --resume %s/last.ckpt)\n",
                        interrupted ? "interrupted" : "stopped",
                        (unsigned long long)st->step, r.out_dir, r.out_dir);
            run_free(&r);
            return interrupted ? EXIT_INTERRUPTED : EXIT_OK;
        }
        /* The learning-rate schedule: warmup, then cosine decay over the
         * rest of the steps, or of the time budget. */
        double progress = optim_progress(&a.opt, st->step, st->steps_total,
                                         elapsed, st->time_budget);
        double lr = optim_lr(&a.opt, st->step, progress);

        /* One training step. */
        data_batch(&r.train, &r.rng, B, r.ctx, r.targets);
        double loss = model_forward(&r.model, &r.acts, r.ctx, r.targets, B);
        if (!isfinite(loss)) {
            err_set(&err, "the loss became %s at step %llu with learning rate %.3g; "
                    "training diverged, try a lower --lr (e.g. %.1g). %s",
                    isnan(loss) ? "NaN" : "infinite", (unsigned long long)st->step,
                    lr, a.opt.lr / 10, kept(&r));
            r.diverged = 1;
            goto fail;
        }
        model_zero_grad(&r.model);
        model_backward(&r.model, &r.acts, r.ctx, r.targets, B);
        /* Clipping is folded into the update: the step reads each gradient
         * times the clip scale. */
        double norm = optim_grad_norm(r.model.grads, r.model.n_params);
        optim_step_scaled(&r.opt, r.model.params, r.model.grads,
                          optim_clip_scale(norm, a.opt.clip), r.tensors,
                          r.n_tensors, lr, st->step + 1);
        st->step++;
        live.loss_sum += loss;
        live.loss_n++;

        double t_step = now_seconds();
        elapsed = elapsed_before + (t_step - t_start);
        if (live.on && t_step - live.last_draw >= LIVE_PERIOD) {
            /* The running average of this stretch's batch losses, and speed
             * and ETA over this session's steps. */
            double rate = (double)(st->step - step_start) * B / (t_step - t_start);
            double frac = st->steps_total ? (double)st->step / (double)st->steps_total
                                          : elapsed / st->time_budget;
            double eta = st->steps_total
                             ? (double)(st->steps_total - st->step) * B / rate
                             : st->time_budget - elapsed;
            live_draw(&live, frac, st->step, st->steps_total, st->last_val, rate,
                      elapsed, eta);
            live.last_draw = t_step;
        }
        int last = st->steps_total ? st->step >= st->steps_total
                                   : elapsed >= st->time_budget;
        if (!last && st->step % (uint64_t)st->eval_every != 0)
            continue;

        /* Evaluate, log and checkpoint. */
        double tl, vl;
        live_clear(&live);
        live.loss_sum = 0;
        live.loss_n = 0;
        evaluate(&r, &tl, &vl);
        if (!isfinite(tl) || !isfinite(vl)) {
            err_set(&err, "the evaluation loss became non-finite at step %llu; "
                    "training diverged, try a lower --lr. %s",
                    (unsigned long long)st->step, kept(&r));
            r.diverged = 1;
            goto fail;
        }
        int best = vl < st->best_val;
        st->last_val = vl;
        if (best)
            st->best_val = vl;
        if (st->time_budget > 0)
            st->elapsed = elapsed_before + (now_seconds() - t_start);
        if (save(&r, best, &err) != 0)
            goto fail;
        fprintf(r.metrics, "%llu,%.3f,%.6f,%.6f,%.6g\n",
                (unsigned long long)st->step, elapsed, tl, vl, lr);
        if (fflush(r.metrics) != 0) {
            err_set(&err, "cannot write '%s'", metrics_path);
            goto fail;
        }
        plot_refresh_loss(r.out_dir, &plot_warned);
        double t_now = now_seconds();
        double rate = (double)(st->step - step_window) * B / (t_now - t_window);
        double eta = st->steps_total
                         ? (double)(st->steps_total - st->step) * B / rate
                         : st->time_budget - elapsed;
        t_window = t_now;
        step_window = st->step;
        if (!a.quiet) {
            char el[32], et[32];
            format_duration(el, sizeof el, elapsed);
            format_duration(et, sizeof et, eta);
            fprintf(stderr, "step %llu | lr %.2e | train %.4f | val %.4f%s | "
                    "%.0f ex/s | %s elapsed | eta %s\n",
                    (unsigned long long)st->step, lr, tl, vl, best ? " *" : "  ",
                    rate, el, et);
        }
        if (last)
            break;
    }
    if (!a.quiet)
        fprintf(stderr, "tinychar: done: best val loss %.4f; checkpoints in %s/\n",
                st->best_val, r.out_dir);
    if (fclose(r.metrics) != 0) {
        r.metrics = NULL;
        err_set(&err, "cannot write '%s'", metrics_path);
        goto fail;
    }
    r.metrics = NULL;
    run_free(&r);
    return EXIT_OK;
fail:
    if (!a.quiet && isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
    if (r.diverged)
        code = EXIT_DIVERGED;
    cli_loaded_free(&resumed);
    run_free(&r);
    return cli_fail(code, "%s", err.msg);
}
