/* bench.c - `make bench`: tinychar's training, generation and tokenizing
 * speed next to the same model in plain PyTorch (bench/torch_bench.py), as
 * one table of medians over repeats in which C and PyTorch runs alternate.
 * Each C measurement is a fresh child process (this binary with --child), so
 * it reports its own peak RSS. Times, never judges: no thresholds. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../common/fileio.h"
#include "../common/mem.h"
#include "../data/data.h"
#include "../model/model.h"
#include "../model/optim.h"
#include "../sample/sampler.h"
#include "../tokenizer/tokenizer.h"
#include "peak.h"

#define MAX_REPEATS 15

/* One benchmark configuration: data, model shape, and how long to measure.
 * Counts give 1 to 2 seconds per measurement on a 2-core Icelake; the
 * quick mode divides them by QUICK_DIV. PyTorch runs at most torch_steps
 * steps and stops early past TORCH_MAX_SECONDS (its speed depends on the BLAS
 * it finds, 100x apart between the reference BLAS and OpenBLAS). */
typedef struct {
    const char *name;
    const char *file;      /* under the data directory */
    int lines;             /* 1: lines mode, 0: stream */
    int T, E, H, L, B;
    int c_steps;           /* timed C training steps (after warm-up) */
    int torch_steps;       /* timed PyTorch steps, at most */
    int gen_chars;         /* timed generated characters, C */
    int torch_gen_chars;   /* timed generated characters, PyTorch, at most */
    int direct;            /* 1: the first layer by matrix product even where
                            * the table route (model/table.h) is cheaper */
} Config;

static const Config CONFIGS[] = {
    {"S", "names.txt", 1, 3, 10, 200, 1, 32, 8000, 1000, 100000, 6000, 0},
    {"M", "names.txt", 1, 8, 24, 256, 1, 64, 2000, 700, 100000, 6000, 0},
    {"L", "tinyshakespeare.txt", 0, 32, 32, 1024, 1, 256, 40, 40, 6000, 2000, 0},
    {"XL", "tinyshakespeare.txt", 0, 64, 64, 2048, 1, 512, 5, 6, 600, 300, 0},
    /* XL with every product done as a plain matrix product: what the
     * kernel itself reaches against the FMA peak. */
    {"XLd", "tinyshakespeare.txt", 0, 64, 64, 2048, 1, 512, 3, 6, 0, 0, 1},
};
#define N_CONFIGS ((int)(sizeof CONFIGS / sizeof *CONFIGS))
#define QUICK_DIV 5
#define TORCH_MAX_SECONDS 4.0
/* Untimed warm-up before each timed run: a tenth of the timed work, at
 * least 2 steps (caches, page faults, OpenMP thread start). */
#define WARMUP(n) ((n) / 10 > 2 ? (n) / 10 : 2)

/* The tokenizer measurement: tinyshakespeare repeated to this many bytes. */
#define TOK_BYTES 100000000.0

/* ---- small helpers --------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux: ru_maxrss is in KiB */
}

static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

/* "key=value" in a reply line; NAN when absent. */
static double field(const char *line, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = line; (p = strstr(p, key)) != NULL; p += k)
        if ((p == line || p[-1] == ' ') && p[k] == '=')
            return strtod(p + k + 1, NULL);
    return NAN;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the finite values among n; NAN when there are none. */
static double median(const double *v, int n)
{
    double s[MAX_REPEATS];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            s[m++] = v[i];
    if (m == 0)
        return NAN;
    qsort(s, (size_t)m, sizeof *s, cmp_double);
    return m % 2 ? s[m / 2] : 0.5 * (s[m / 2 - 1] + s[m / 2]);
}

/* Whether the run takes the first layer by table (model/table.h). */
static int uses_table(const Config *c, int vocab)
{
    ModelConfig mc = {.context = c->T, .embed = c->E, .hidden = c->H,
                      .layers = c->L, .vocab = vocab};
    return !c->direct && model_table_pays(&mc, c->B);
}

/* FLOPs of the matrix products one training step actually does (2 per
 * multiply-add). A linear layer of IN inputs and OUT outputs does 3
 * (y = x W^T, dx = dy W, dW = dy^T x) of B*IN*OUT multiply-adds each. By
 * table, the first layer does 3 of rows*E*H instead (the table rows the
 * batch reads, their part of d W_0 and of d emb; rows is the mean over
 * the timed steps, at most T*V): fewer flops for the same step, so this
 * counts them and not the direct route's. Row additions, tanh, softmax
 * and the optimizer are not counted. */
static double step_flops(const Config *c, int vocab, double rows)
{
    double in = (double)c->T * c->E, H = c->H, B = c->B;
    double first = uses_table(c, vocab) ? rows * c->E * H : B * in * H;
    double macs = first + B * ((c->L - 1) * H * H + H * vocab);
    return 6.0 * macs;
}

/* ---- child: one C training + generation measurement ------------------- */

static int load_text(unsigned char **text, size_t *len, const char *path, Error *err)
{
    unsigned char *raw;
    size_t raw_len;
    if (file_read(path, &raw, &raw_len, err) != 0)
        return -1;
    TextNotes notes;
    int rc = tok_prepare_text(text, len, &notes, raw, raw_len, TOK_CHAR, 1,
                              TOK_INVALID_ERROR, path, err);
    free(raw);
    return rc;
}

/* Trains like train/train.c (AdamW with its defaults, clipping at 1) for
 * warmup + steps steps with `threads` threads, timing the last `steps`; then,
 * if gen_chars > 0, generates like sample/sample.c with one thread. Prints
 * one "ok key=value ..." line. */
static int child_train(const Config *c, const char *data_dir, int threads,
                       int steps, int gen_chars)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", data_dir, c->file);
    Error err = {{0}};
    unsigned char *text = NULL;
    size_t len = 0;
    Tokenizer tok = {0};
    Dataset ds = {0};
    Model m = {0};
    Optimizer opt = {0};
    Activations acts = {0}, gacts = {0};
    Sampler sampler = {0};
    int32_t *ctx = NULL, *targets = NULL;
    int rc = 1;
    if (load_text(&text, &len, path, &err) != 0 ||
        tok_build(&tok, TOK_CHAR, c->lines, text, len, &err) != 0 ||
        data_build(&ds, &tok, text, len, c->lines, c->T, path, &err) != 0)
        goto done;
    free(text);
    text = NULL;

    ModelConfig cfg = {.context = c->T, .embed = c->E, .hidden = c->H,
                       .layers = c->L, .vocab = tok.vocab_size};
    /* tinychar train's defaults. */
    OptimConfig ocfg = {.kind = OPTIM_ADAMW, .lr = 3e-3, .min_lr = 3e-4,
                        .warmup = 100, .weight_decay = 0.01, .clip = 1.0,
                        .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    if (model_init(&m, &cfg, &err) != 0 ||
        optim_init(&opt, &ocfg, m.n_params, &err) != 0 ||
        acts_init(&acts, &cfg, c->B, 1, &err) != 0 ||
        (c->direct && acts_use_table(&acts, &cfg, 0, &err) != 0))
        goto done;
    ctx = mem_calloc((size_t)c->B, (size_t)c->T * sizeof *ctx, "batch", &err);
    targets = mem_calloc((size_t)c->B, sizeof *targets, "batch", &err);
    if (!ctx || !targets)
        goto done;
    TensorInfo tensors[MODEL_MAX_TENSORS];
    int n_tensors = model_tensors(&cfg, tensors);
    Rng rng;
    rng_seed(&rng, 1337);
    model_randomize(&m, &rng);

    /* The training step of train/train.c, warm-up steps first. */
    set_threads(threads);
    int warmup = WARMUP(steps);
    uint64_t total = (uint64_t)(warmup + steps);
    double t0 = 0, loss = 0, rows = 0;
    for (uint64_t step = 0; step < total; step++) {
        if (step == (uint64_t)warmup)
            t0 = now();
        double lr = optim_lr(&ocfg, step, optim_progress(&ocfg, step, total, 0, 0));
        data_batch(&ds, &rng, c->B, ctx, targets);
        loss = model_forward(&m, &acts, ctx, targets, c->B);
        if (!isfinite(loss)) {
            err_set(&err, "%s: the loss became %g at step %llu", c->name, loss,
                    (unsigned long long)step);
            goto done;
        }
        model_zero_grad(&m);
        model_backward(&m, &acts, ctx, targets, c->B);
        /* The table rows this batch read (model/table.h): the flops. */
        for (int j = 0; acts.table && step >= (uint64_t)warmup && j < c->T; j++)
            rows += acts.table_rows.count[j];
        double norm = optim_grad_norm(m.grads, m.n_params);
        optim_step_scaled(&opt, m.params, m.grads, optim_clip_scale(norm, ocfg.clip),
                          tensors, n_tensors, lr, step + 1);
    }
    double train_s = now() - t0;

    /* Generation as sample/sample.c does it: one thread, batch of one,
     * temperature 1, no top-k/top-p; the boundary id ends a lines-mode item
     * and the next starts from padding. Every drawn id counts as a character. */
    double gen_s = 0;
    if (gen_chars > 0) {
        set_threads(1);
        SamplerConfig scfg = {1.0, 0, 1.0};
        if (acts_init(&gacts, &cfg, 1, 0, &err) != 0 ||
            acts_freeze(&gacts, &m, &err) != 0 ||
            sampler_init(&sampler, &scfg, cfg.vocab, &err) != 0)
            goto done;
        int32_t pad = 0;
        if (!c->lines) {
            int32_t nl = tok_id(&tok, '\n');
            pad = nl >= 0 ? nl : 0;
        }
        int32_t *gctx = ctx; /* (T), reusing the batch buffer */
        for (int j = 0; j < c->T; j++)
            gctx[j] = pad;
        int gwarm = WARMUP(gen_chars);
        for (int i = 0; i < gwarm + gen_chars; i++) {
            if (i == gwarm)
                t0 = now();
            model_forward(&m, &gacts, gctx, NULL, 1);
            int32_t id = sampler_pick(&sampler, gacts.logits, &rng);
            if (c->lines && id == 0) {
                for (int j = 0; j < c->T; j++)
                    gctx[j] = pad;
            } else {
                memmove(gctx, gctx + 1, (size_t)(c->T - 1) * sizeof *gctx);
                gctx[c->T - 1] = id;
            }
        }
        gen_s = now() - t0;
    }
    printf("ok vocab=%d params=%zu seconds=%.6f loss=%.4f gen_seconds=%.6f rss_mib=%.1f "
           "rows=%.2f\n", cfg.vocab, m.n_params, train_s, loss, gen_s, peak_rss_mib(),
           rows / steps);
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "bench: %s\n", err.msg);
    free(text);
    free(ctx);
    free(targets);
    sampler_free(&sampler);
    acts_free(&gacts);
    acts_free(&acts);
    optim_free(&opt);
    model_free(&m);
    data_free(&ds);
    tok_free(&tok);
    return rc;
}

/* ---- child: tokenizing ~100 MB, then a few training steps on it -------- */

/* tinyshakespeare repeated in memory to TOK_BYTES (the raw bytes a file
 * read would give), then timed: tok_prepare_text (UTF-8 check, NFC),
 * tok_build (vocabulary), data_build (16-bit ids), as `tinychar train` runs
 * them; the raw bytes are freed after preparing and the text after
 * data_build, as there. Then 3 training steps with train's default model
 * (T 8, E 24, H 512, B 256), so the peak RSS is that of training on it. */
static int child_tokenize(const char *data_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tinyshakespeare.txt", data_dir);
    Error err = {{0}};
    unsigned char *one = NULL, *raw = NULL, *text = NULL;
    size_t one_len, len;
    Tokenizer tok = {0};
    Dataset ds = {0};
    Model m = {0};
    Optimizer opt = {0};
    Activations acts = {0};
    int32_t *ctx = NULL, *targets = NULL;
    int rc = 1;
    if (file_read(path, &one, &one_len, &err) != 0)
        goto done;
    size_t copies = (size_t)ceil(TOK_BYTES / (double)one_len);
    size_t raw_len = copies * one_len;
    raw = malloc(raw_len + 1);
    if (!raw) {
        err_set(&err, "cannot allocate %zu bytes of text", raw_len + 1);
        goto done;
    }
    for (size_t i = 0; i < copies; i++)
        memcpy(raw + i * one_len, one, one_len);
    raw[raw_len] = 0;
    free(one);
    one = NULL;

    double t0 = now();
    TextNotes notes;
    if (tok_prepare_text(&text, &len, &notes, raw, raw_len, TOK_CHAR, 1,
                         TOK_INVALID_ERROR, "100 MB text", &err) != 0)
        goto done;
    free(raw);
    raw = NULL;
    double t1 = now();
    if (tok_build(&tok, TOK_CHAR, 0, text, len, &err) != 0)
        goto done;
    double t2 = now();
    if (data_build(&ds, &tok, text, len, 0, 8, "100 MB text", &err) != 0)
        goto done;
    double t3 = now();
    free(text);
    text = NULL;

    ModelConfig cfg = {.context = 8, .embed = 24, .hidden = 512, .layers = 1,
                       .vocab = tok.vocab_size};
    OptimConfig ocfg = {.kind = OPTIM_ADAMW, .lr = 3e-3, .min_lr = 3e-4,
                        .warmup = 100, .weight_decay = 0.01, .clip = 1.0,
                        .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    int B = 256;
    if (model_init(&m, &cfg, &err) != 0 ||
        optim_init(&opt, &ocfg, m.n_params, &err) != 0 ||
        acts_init(&acts, &cfg, B, 1, &err) != 0)
        goto done;
    ctx = mem_calloc((size_t)B, (size_t)cfg.context * sizeof *ctx, "batch", &err);
    targets = mem_calloc((size_t)B, sizeof *targets, "batch", &err);
    if (!ctx || !targets)
        goto done;
    TensorInfo tensors[MODEL_MAX_TENSORS];
    int n_tensors = model_tensors(&cfg, tensors);
    Rng rng;
    rng_seed(&rng, 1337);
    model_randomize(&m, &rng);
    for (uint64_t step = 0; step < 3; step++) {
        data_batch(&ds, &rng, B, ctx, targets);
        model_forward(&m, &acts, ctx, targets, B);
        model_zero_grad(&m);
        model_backward(&m, &acts, ctx, targets, B);
        optim_step_scaled(&opt, m.params, m.grads,
                          optim_clip_scale(optim_grad_norm(m.grads, m.n_params), 1.0),
                          tensors, n_tensors, 3e-3, step + 1);
    }
    printf("ok bytes=%zu prepare=%.6f vocab=%.6f data=%.6f id_bytes=%d rss_mib=%.1f\n",
           raw_len, t1 - t0, t2 - t1, t3 - t2, ds.tokens.ids16 ? 2 : 4, peak_rss_mib());
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "bench: %s\n", err.msg);
    free(one);
    free(raw);
    free(text);
    free(ctx);
    free(targets);
    acts_free(&acts);
    optim_free(&opt);
    model_free(&m);
    data_free(&ds);
    tok_free(&tok);
    return rc;
}

/* ---- the orchestrator: child processes and the PyTorch worker ---------- */

/* Runs this binary with argv, returns its one stdout line in `line`. */
static int run_child(const char *self, char *const argv[], char *line, size_t size)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execv(self, argv);
        fprintf(stderr, "bench: cannot run %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    line[0] = 0;
    if (f) {
        if (!fgets(line, (int)size, f))
            line[0] = 0;
        char rest[256];
        while (fgets(rest, sizeof rest, f))
            ;
        fclose(f);
    } else {
        close(fd[0]);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strncmp(line, "ok", 2) != 0)
        return -1;
    return 0;
}

typedef struct {
    pid_t pid;
    FILE *to, *from;
    int ok;
    char why[1024];
} Torch;

/* Starts `python script --serve` with OPENBLAS_CORETYPE and OMP_WAIT_POLICY
 * set in its environment only, and waits for its "ready". */
static void torch_start(Torch *t, const char *python, const char *script)
{
    memset(t, 0, sizeof *t);
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
        snprintf(t->why, sizeof t->why, "pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(t->why, sizeof t->why, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        /* Debian's OpenBLAS may not recognise a recent CPU and fall back to
         * old kernels; SkylakeX is the AVX-512 one (only where the CPU has
         * AVX-512). Idle OpenMP threads must not spin against OpenBLAS's.
         * A value the user set wins. */
#if defined(__x86_64__) || defined(__i386__)
        if (__builtin_cpu_supports("avx512f"))
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
#endif
        setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
        execl(python, python, script, "--serve", (char *)NULL);
        printf("error cannot run %s: %s\n", python, strerror(errno));
        fflush(stdout);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    t->pid = pid;
    t->to = fdopen(in[1], "w");
    t->from = fdopen(out[0], "r");
    char line[1024];
    if (!t->to || !t->from || !fgets(line, sizeof line, t->from)) {
        snprintf(t->why, sizeof t->why, "%s %s exited without answering", python, script);
        return;
    }
    line[strcspn(line, "\n")] = 0;
    if (strcmp(line, "ready") != 0) {
        snprintf(t->why, sizeof t->why, "%s", strncmp(line, "error ", 6) ? line : line + 6);
        return;
    }
    t->ok = 1;
}

/* Sends one command; the reply's last line ("ok ..." or "error ...") goes to
 * `line`, and, if `info` is set, the lines before it are printed. */
static int torch_cmd(Torch *t, const char *cmd, char *line, size_t size, int info)
{
    if (!t->ok)
        return -1;
    fprintf(t->to, "%s\n", cmd);
    fflush(t->to);
    for (;;) {
        if (!fgets(line, (int)size, t->from)) {
            snprintf(t->why, sizeof t->why, "the PyTorch process exited");
            t->ok = 0;
            return -1;
        }
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "info ", 5) == 0) {
            if (info)
                printf("  PyTorch %s\n", line + 5);
            continue;
        }
        return strncmp(line, "ok", 2) == 0 ? 0 : -1;
    }
}

static void torch_stop(Torch *t)
{
    if (t->to)
        fclose(t->to);
    if (t->from)
        fclose(t->from);
    if (t->pid > 0)
        while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    memset(t, 0, sizeof *t);
}

/* Per config and repeat: rates in examples or characters per second. */
typedef struct {
    int vocab;
    size_t params;
    double c1[MAX_REPEATS], c2[MAX_REPEATS];        /* training, 1 and 2 threads */
    double cgen[MAX_REPEATS];                       /* generation, C */
    double pt[MAX_REPEATS], ptgen[MAX_REPEATS];     /* PyTorch */
    double rtrain[MAX_REPEATS], rgen[MAX_REPEATS];  /* per-repeat ratios C / PyTorch */
    double rss;                                     /* MiB, max over the C runs */
    double rows;                                    /* table rows a step, mean */
    int pt_steps, pt_capped;                        /* PyTorch steps timed, cap hit */
} Result;

static void usage(void)
{
    fprintf(stderr,
            "usage: bench [--quick] [--repeats N] [--only S,M,...] [--data DIR]\n"
            "             [--python PATH] [--torch-script PATH] [--no-torch]\n"
            "Prints tinychar's training, generation and tokenizing speed, and the\n"
            "same model's in PyTorch when PATH (default /usr/bin/python3) has torch.\n");
}

static void print_cpu(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512], model[256] = "unknown CPU";
    if (f) {
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');
                if (colon) {
                    snprintf(model, sizeof model, "%s", colon + 2);
                    model[strcspn(model, "\n")] = 0;
                }
                break;
            }
        fclose(f);
    }
    printf("machine: %s, %ld online CPUs\n", model, sysconf(_SC_NPROCESSORS_ONLN));
    printf("tinychar build: %s%s, %s\n", __VERSION__[0] ? "gcc " : "", __VERSION__,
#ifdef _OPENMP
           "OpenMP"
#else
           "no OpenMP (2-thread runs skipped)"
#endif
    );
}

/* Whether `name` is in the comma-separated list (every name when NULL). */
static int selected(const char *list, const char *name)
{
    if (!list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p; p += strcspn(p, ","), p += *p == ',')
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0))
            return 1;
    return 0;
}

static void fmt_num(char *buf, size_t size, double x)
{
    if (!isfinite(x))
        snprintf(buf, size, "-");
    else if (x >= 1e7)
        snprintf(buf, size, "%.3gM", x / 1e6);
    else if (x >= 100)
        snprintf(buf, size, "%.0f", x);
    else if (x >= 10)
        snprintf(buf, size, "%.1f", x);
    else
        snprintf(buf, size, "%.2f", x);
}

static void fmt_ratio(char *buf, size_t size, double x)
{
    if (!isfinite(x))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, x >= 100 ? "%.0fx" : x >= 10 ? "%.1fx" : "%.2fx", x);
}

int main(int argc, char **argv)
{
    const char *data_dir = "../shared/data", *python = "/usr/bin/python3";
    const char *script = "bench/torch_bench.py";
    const char *only = NULL; /* comma-separated config names, or all */
    int quick = 0, repeats = 0, use_torch = 1;

    if (argc >= 2 && strcmp(argv[1], "--child") == 0) {
        /* bench --child train CONFIG THREADS STEPS GEN_CHARS DATA_DIR
         * bench --child tokenize DATA_DIR */
        if (argc == 8 && strcmp(argv[2], "train") == 0) {
            for (int i = 0; i < N_CONFIGS; i++)
                if (strcmp(argv[3], CONFIGS[i].name) == 0)
                    return child_train(&CONFIGS[i], argv[7], atoi(argv[4]),
                                       atoi(argv[5]), atoi(argv[6]));
        } else if (argc == 4 && strcmp(argv[2], "tokenize") == 0) {
            return child_tokenize(argv[3]);
        }
        fprintf(stderr, "bench: bad --child arguments\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            quick = 1;
        } else if (strcmp(a, "--no-torch") == 0) {
            use_torch = 0;
        } else if (i + 1 < argc && strcmp(a, "--repeats") == 0) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > MAX_REPEATS) {
                fprintf(stderr, "bench: --repeats takes 1 to %d\n", MAX_REPEATS);
                return 2;
            }
            repeats = (int)n;
        } else if (i + 1 < argc && strcmp(a, "--only") == 0) {
            only = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--data") == 0) {
            data_dir = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--python") == 0) {
            python = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--torch-script") == 0) {
            script = argv[++i];
        } else {
            usage();
            return 2;
        }
    }
    if (repeats == 0)
        repeats = quick ? 1 : 5;
    for (int i = 0; i < N_CONFIGS; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", data_dir, CONFIGS[i].file);
        if (access(path, R_OK) != 0) {
            fprintf(stderr, "bench: cannot read %s (give the corpus directory "
                    "with --data DIR): %s\n", path, strerror(errno));
            return 1;
        }
    }
    /* A PyTorch process that dies must not kill the bench through SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    char self[4096];
    ssize_t n_self = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n_self > 0)
        self[n_self] = 0;
    else
        snprintf(self, sizeof self, "%s", argv[0]);
    double t_begin = now();

    print_cpu();
    /* The peak is measured before and after the runs; the best counts. */
    double peak_s = quick ? 0.2 : 0.5;
    int peak_trials = quick ? 3 : 5;
    double peak1 = peak_gflops(1, peak_s, peak_trials);
    double peak2 = peak_gflops(2, peak_s, peak_trials);

    Torch torch = {0};
    if (use_torch) {
        torch_start(&torch, python, script);
        char line[1024];
        if (torch.ok && torch_cmd(&torch, "info", line, sizeof line, 1) != 0) {
            snprintf(torch.why, sizeof torch.why, "%s", line);
            torch.ok = 0;
        }
        if (!torch.ok) {
            printf("PyTorch: not measured (%s)\n", torch.why);
            torch_stop(&torch);
        }
    } else {
        printf("PyTorch: not measured (--no-torch)\n");
    }
    fflush(stdout);

    Result res[N_CONFIGS];
    memset(res, 0, sizeof res);
    double tok_mbs[MAX_REPEATS], tok_rss = 0;
    char tok_line[1024] = "";
    for (int c = 0; c < N_CONFIGS; c++)
        for (int r = 0; r < MAX_REPEATS; r++)
            res[c].c1[r] = res[c].c2[r] = res[c].cgen[r] = res[c].pt[r] =
                res[c].ptgen[r] = res[c].rtrain[r] = res[c].rgen[r] = NAN;
    for (int r = 0; r < MAX_REPEATS; r++)
        tok_mbs[r] = NAN;

    for (int rep = 0; rep < repeats; rep++) {
        fprintf(stderr, "bench: repeat %d/%d:", rep + 1, repeats);
        for (int c = 0; c < N_CONFIGS; c++) {
            const Config *cf = &CONFIGS[c];
            Result *rs = &res[c];
            if (!selected(only, cf->name))
                continue;
            int steps = quick ? (cf->c_steps / QUICK_DIV > 2 ? cf->c_steps / QUICK_DIV : 2)
                              : cf->c_steps;
            int gen = quick ? cf->gen_chars / QUICK_DIV : cf->gen_chars;
            fprintf(stderr, " %s", cf->name);
            /* C, 1 thread, then generation in the same process. */
            char a_steps[32], a_gen[32], line[1024];
            snprintf(a_steps, sizeof a_steps, "%d", steps);
            snprintf(a_gen, sizeof a_gen, "%d", gen);
            char *argv1[] = {self, "--child", "train", (char *)cf->name, "1", a_steps,
                             a_gen, (char *)data_dir, NULL};
            if (run_child(self, argv1, line, sizeof line) != 0) {
                fprintf(stderr, "\nbench: the C run of %s failed: %s\n", cf->name, line);
                return 1;
            }
            rs->vocab = (int)field(line, "vocab");
            rs->params = (size_t)field(line, "params");
            rs->c1[rep] = steps * (double)cf->B / field(line, "seconds");
            rs->cgen[rep] = gen / field(line, "gen_seconds");
            rs->rss = fmax(rs->rss, field(line, "rss_mib"));
            rs->rows += field(line, "rows") / repeats;
#ifdef _OPENMP
            /* C, 2 threads. */
            char *argv2[] = {self, "--child", "train", (char *)cf->name, "2", a_steps,
                             "0", (char *)data_dir, NULL};
            if (run_child(self, argv2, line, sizeof line) != 0) {
                fprintf(stderr, "\nbench: the C run of %s failed: %s\n", cf->name, line);
                return 1;
            }
            rs->c2[rep] = steps * (double)cf->B / field(line, "seconds");
            rs->rss = fmax(rs->rss, field(line, "rss_mib"));
#endif
            if (!torch.ok)
                continue;
            /* PyTorch, 2 threads: training, then generation. */
            int pt_steps = quick ? (cf->torch_steps / QUICK_DIV > 2
                                        ? cf->torch_steps / QUICK_DIV : 2)
                                 : cf->torch_steps;
            char cmd[4300];
            snprintf(cmd, sizeof cmd, "train %s/%s %s %d %d %d %d %d %d %d %.1f",
                     data_dir, cf->file, cf->lines ? "lines" : "stream", cf->T, cf->E,
                     cf->H, cf->L, cf->B, WARMUP(pt_steps), pt_steps, TORCH_MAX_SECONDS);
            if (torch_cmd(&torch, cmd, line, sizeof line, 0) != 0) {
                fprintf(stderr, "\nbench: PyTorch failed on %s: %s\n", cf->name, line);
                torch.ok = 0;
                continue;
            }
            if ((int)field(line, "vocab") != rs->vocab)
                fprintf(stderr, "\nbench: %s: PyTorch's vocabulary is %d, tinychar's "
                        "%d\n", cf->name, (int)field(line, "vocab"), rs->vocab);
            int done_steps = (int)field(line, "steps");
            rs->pt[rep] = done_steps * (double)cf->B / field(line, "seconds");
            rs->pt_steps = done_steps;
            rs->pt_capped |= done_steps < pt_steps;
            rs->rtrain[rep] = (isfinite(rs->c2[rep]) ? rs->c2[rep] : rs->c1[rep]) /
                              rs->pt[rep];
            if (cf->torch_gen_chars == 0)
                continue;
            int pt_gen = quick ? cf->torch_gen_chars / QUICK_DIV : cf->torch_gen_chars;
            snprintf(cmd, sizeof cmd, "gen %s/%s %s %d %d %d %d %d %d %.1f", data_dir,
                     cf->file, cf->lines ? "lines" : "stream", cf->T, cf->E, cf->H, cf->L,
                     WARMUP(pt_gen), pt_gen, TORCH_MAX_SECONDS);
            if (torch_cmd(&torch, cmd, line, sizeof line, 0) != 0) {
                fprintf(stderr, "\nbench: PyTorch failed on %s: %s\n", cf->name, line);
                torch.ok = 0;
                continue;
            }
            rs->ptgen[rep] = field(line, "chars") / field(line, "seconds");
            rs->rgen[rep] = rs->cgen[rep] / rs->ptgen[rep];
        }
        if (!selected(only, "tok")) {
            fprintf(stderr, "\n");
            continue;
        }
        fprintf(stderr, " tokenize");
        char *argvt[] = {self, "--child", "tokenize", (char *)data_dir, NULL};
        if (run_child(self, argvt, tok_line, sizeof tok_line) != 0) {
            fprintf(stderr, "\nbench: the tokenizing run failed: %s\n", tok_line);
            return 1;
        }
        tok_mbs[rep] = field(tok_line, "bytes") * 1e-6 /
                       (field(tok_line, "prepare") + field(tok_line, "vocab") +
                        field(tok_line, "data"));
        tok_rss = fmax(tok_rss, field(tok_line, "rss_mib"));
        fprintf(stderr, "\n");
    }
    torch_stop(&torch);
    peak1 = fmax(peak1, peak_gflops(1, peak_s, peak_trials));
    peak2 = fmax(peak2, peak_gflops(2, peak_s, peak_trials));
    printf("FP32 peak (%s FMA loop, best of %d before and %d after): %.1f GFLOP/s "
           "on 1 thread, %.1f on 2\n", peak_isa(), peak_trials, peak_trials, peak1, peak2);

    /* The table. */
    printf("\n%-3s %3s %9s | %10s %10s %6s | %7s %7s %6s | %10s %7s | %9s %9s %7s | %7s\n",
           "", "V", "params", "train ex/s", "", "", "GFLOP/s", "", "% peak",
           "PyTorch", "ratio", "gen ch/s", "PyTorch", "ratio", "peak");
    printf("%-3s %3s %9s | %10s %10s %6s | %7s %7s %6s | %10s %7s | %9s %9s %7s | %7s\n",
           "", "", "", "1 thread", "2 threads", "2T/1T", "1T", "2T", "2T",
           "ex/s 2T", "tc/pt", "1 thread", "batch 1", "tc/pt", "RSS MiB");
    for (int c = 0; c < N_CONFIGS; c++) {
        const Config *cf = &CONFIGS[c];
        Result *rs = &res[c];
        if (!selected(only, cf->name))
            continue;
        double c1 = median(rs->c1, repeats), c2 = median(rs->c2, repeats);
        double fl = step_flops(cf, rs->vocab, rs->rows) / cf->B * 1e-9; /* GFLOP per example */
        char s[14][32];
        fmt_num(s[0], 32, c1);
        fmt_num(s[1], 32, c2);
        fmt_ratio(s[2], 32, c2 / c1);
        fmt_num(s[3], 32, c1 * fl);
        fmt_num(s[4], 32, c2 * fl);
        snprintf(s[5], 32, isfinite(c2) && peak2 > 0 ? "%.0f%%" : "-",
                 100 * c2 * fl / peak2);
        fmt_num(s[6], 32, median(rs->pt, repeats));
        fmt_ratio(s[7], 32, median(rs->rtrain, repeats));
        fmt_num(s[8], 32, median(rs->cgen, repeats));
        fmt_num(s[9], 32, median(rs->ptgen, repeats));
        fmt_ratio(s[10], 32, median(rs->rgen, repeats));
        char name[8];
        snprintf(name, sizeof name, "%s%s", cf->name, uses_table(cf, rs->vocab) ? "*" : "");
        printf("%-3s %3d %9zu | %10s %10s %6s | %7s %7s %6s | %10s %7s | %9s %9s %7s | %7.0f\n",
               name, rs->vocab, rs->params, s[0], s[1], s[2], s[3], s[4], s[5], s[6],
               s[7], s[8], s[9], s[10], rs->rss);
    }
    double prep = field(tok_line, "prepare"), voc = field(tok_line, "vocab");
    double dat = field(tok_line, "data");
    if (selected(only, "tok"))
        printf("\ntokenizing: %.0f MB/s (median of %d) on tinyshakespeare repeated to "
           "%.0f MB: prepare (UTF-8 check, NFC) %.2f s, vocabulary %.2f s, "
           "%d-byte ids %.2f s (last run); peak RSS %.0f MiB including 3 training "
           "steps (T 8, E 24, H 512, B 256) on it\n",
           median(tok_mbs, repeats), repeats, field(tok_line, "bytes") * 1e-6, prep, voc,
           (int)field(tok_line, "id_bytes"), dat, tok_rss);
    printf("\nconfigs (1 hidden layer, AdamW, clip 1): ");
    for (int c = 0; c < N_CONFIGS; c++)
        printf("%s%s %s T %d E %d H %d B %d%s", c ? "; " : "", CONFIGS[c].name,
               CONFIGS[c].lines ? "names lines" : "tinyshakespeare stream",
               CONFIGS[c].T, CONFIGS[c].E, CONFIGS[c].H, CONFIGS[c].B,
               CONFIGS[c].direct ? " with the first layer as a matrix product (no table)" : "");
    printf(".\nmedians of %d repeat%s, C and PyTorch runs alternating; tc/pt ratios "
           "are medians of per-repeat ratios: training tinychar 2 threads%s / PyTorch "
           "2 threads, generation tinychar 1 thread / PyTorch 2 threads.\n",
           repeats, repeats == 1 ? "" : "s",
#ifdef _OPENMP
           ""
#else
           " (1 here: no OpenMP)"
#endif
    );
    printf("GFLOP/s counts the matrix products a step does: 3 per linear layer (y = x W^T, "
           "dx = dy W, dW = dy^T x) of 2*B*IN*OUT flops each, i.e. 6*B*(T*E*H + H*V) "
           "per step; %% peak is of the 2-thread FMA peak. * marks the first layer by "
           "table (model/table.h, where 2V <= B): its 3 products are of 2*R*E*H flops "
           "each instead, R the table rows the batch reads (at most T*V");
    const char *sep = "; mean a step: ";
    for (int c = 0; c < N_CONFIGS; c++)
        if (selected(only, CONFIGS[c].name) && uses_table(&CONFIGS[c], res[c].vocab)) {
            printf("%s%s %.0f of %d", sep, CONFIGS[c].name, res[c].rows,
                   CONFIGS[c].T * res[c].vocab);
            sep = ", ";
        }
    printf("), the same step with fewer flops, and only those are counted.\n");
    printf("generation: characters (every drawn id, boundary included) per second at "
           "batch 1, temperature 1; tinychar on 1 thread as `tinychar sample`, "
           "PyTorch with torch.no_grad, softmax + multinomial, 2 threads.\n");
    printf("peak RSS: ru_maxrss of each C process (max over the runs of a config).\n");
    for (int c = 0; c < N_CONFIGS; c++)
        if (res[c].pt_capped)
            printf("note: PyTorch %s stopped after %d timed steps (%.0f s cap); "
                   "slow BLAS?\n", CONFIGS[c].name, res[c].pt_steps, TORCH_MAX_SECONDS);
    printf("total bench time %.0f s\n", now() - t_begin);
    return 0;
}
