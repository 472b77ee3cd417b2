/* sample.c - `tinychar sample CKPT`: generate text one character at a time.
 * Each step feeds the last T characters through the model (forward pass only,
 * batch of one, buffers reused), turns the logits into a distribution with the
 * sampler, draws the next character, prints it, and slides the context.
 * --stop ends a sample at a stop string; --novel compares each lines-mode
 * sample with the lines of the training file (a sorted table, binary search). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../common/mem.h"
#include "sampler.h"

/* Writes bytes of generated text, keeping the output valid UTF-8 for
 * byte-level models, and flushing per character when a person is watching. */
typedef struct {
    int byte_level;
    int live;
    Utf8Stream utf8;
} Output;

static void out_bytes(Output *o, const unsigned char *b, int n)
{
    if (!o->byte_level) {
        fwrite(b, 1, (size_t)n, stdout);
    } else {
        for (int i = 0; i < n; i++) {
            unsigned char safe[8];
            int k = utf8_stream_push(&o->utf8, b[i], safe);
            fwrite(safe, 1, (size_t)k, stdout);
        }
    }
    if (o->live)
        fflush(stdout);
}

static void out_end_item(Output *o, const char *sep)
{
    unsigned char rest[4];
    int k = utf8_stream_flush(&o->utf8, rest);
    fwrite(rest, 1, (size_t)k, stdout);
    fputs(sep, stdout);
    fflush(stdout);
}

/* One line of a text: a byte range. */
typedef struct {
    const unsigned char *p;
    size_t n;
} Line;

static int line_cmp(const void *a, const void *b)
{
    const Line *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    if (c != 0)
        return c;
    return (x->n > y->n) - (x->n < y->n);
}

/* The non-empty lines of text, sorted so a sample can be looked up with
 * bsearch. *lines points into text (keep it alive); free() *lines. */
static int novel_table(Line **lines, size_t *n, const unsigned char *text,
                       size_t len, Error *err)
{
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n';
    Line *l = mem_calloc(cap, sizeof *l, "--novel lines", err);
    if (!l)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        const unsigned char *nl = memchr(text + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - text) : len;
        if (e > i)
            l[k++] = (Line){text + i, e - i};
        i = e + 1;
    }
    qsort(l, k, sizeof *l, line_cmp);
    *lines = l;
    *n = k;
    return 0;
}

/* Appends n bytes to the growing buffer *buf (*len used, *cap allocated). */
static int buf_push(unsigned char **buf, size_t *len, size_t *cap,
                    const unsigned char *b, size_t n, Error *err)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < *len + n)
            c *= 2;
        unsigned char *nb = realloc(*buf, c);
        if (!nb)
            return err_set(err, "out of memory keeping a sample of %zu bytes", c);
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, b, n);
    *len += n;
    return 0;
}

int sample_main(int argc, char **argv)
{
    int num = -1, length = -1, top_k = 0, quiet = 0;
    double temperature = 1.0, top_p = 1.0;
    const char *prompt = "", *stop = NULL, *novel = NULL;
    uint64_t seed = 0;
    Opt opts[] = {
        {"--num", OPT_INT, &num, 0, 1000000000, NULL, "N",
         "number of samples (default: 20 for lines models, 1 for stream)", 0},
        {"--length", OPT_INT, &length, 0, 1000000000, NULL, "N",
         "characters per sample (stream, default 500) or the cap per line "
         "(lines, default 200)", 0},
        {"--prompt", OPT_STRING, &prompt, 0, 0, NULL, "TEXT",
         "start every sample with TEXT", 0},
        {"--temperature", OPT_DOUBLE, &temperature, 0, 100, NULL, "T",
         "below 1: safer, above 1: wilder, 0: always the likeliest (default 1)", 0},
        {"--top-k", OPT_INT, &top_k, 0, 0x7fffffff, NULL, "K",
         "draw only among the K likeliest characters; 0 = all (default)", 0},
        {"--top-p", OPT_DOUBLE, &top_p, 1e-9, 1, NULL, "P",
         "draw only among the likeliest characters holding mass P (default 1)", 0},
        {"--stop", OPT_STRING, &stop, 0, 0, NULL, "STRING",
         "end a sample once its generated text ends with STRING (printed)", 0},
        {"--novel", OPT_STRING, &novel, 0, 0, NULL, "FILE",
         "lines models: mark samples that are lines of FILE (the training "
         "text) with a tab and (copied); say how many are new", 0},
        {"--seed", OPT_U64, &seed, 0, 0, NULL, "S",
         "random seed (default: from the clock, printed on stderr)", 0},
        {"--quiet", OPT_FLAG, &quiet, 0, 0, NULL, NULL,
         "do not print the seed", 0},
    };
    int n_opts = (int)(sizeof opts / sizeof *opts);
    const Command cmd = {
        "sample", "CKPT [options]",
        "Generates text from a checkpoint on stdout. Lines-mode models print one\n"
        "item per line; stream models print continuous text.\n",
        "give one checkpoint file", 1, opts, n_opts};
    const char *pos[1];
    int started = cli_begin(&cmd, argc, argv, pos);
    if (started >= 0)
        return started;
    Error err;
    if (stop && !*stop)
        return cli_fail(EXIT_USAGE, "sample: --stop: give a non-empty string");
    int seed_given = cli_opt(opts, n_opts, "--seed")->seen;
    if (!seed_given) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    }
    /* One example at a time is too little work to share between threads. */
    cli_set_threads(1);

    Loaded ld = {0};
    Activations acts = {0};
    Sampler sampler = {0};
    unsigned char *ptext = NULL;
    int32_t *pids = NULL, *ctx = NULL;
    unsigned char *ntext = NULL, *item = NULL, *tail = NULL;
    size_t item_len = 0, item_cap = 0, n_lines = 0, n_copied = 0;
    Line *train_lines = NULL;
    int code = EXIT_RUNTIME;
    if (cli_load_checkpoint(&ld, pos[0], &err) != 0)
        goto done;
    const Tokenizer *tok = &ld.tok;
    int lines = (int)ld.ck.st.lines, T = ld.model.cfg.context, V = ld.model.cfg.vocab;
    if (novel && !lines) {
        err_set(&err, "sample: --novel needs a lines-mode model; %s is a stream "
                "model", pos[0]);
        code = EXIT_USAGE;
        goto done;
    }
    if (stop && lines && strchr(stop, '\n')) {
        err_set(&err, "sample: --stop: a lines-mode sample never holds a newline");
        code = EXIT_USAGE;
        goto done;
    }
    if (num < 0)
        num = lines ? 20 : 1;
    if (length < 0)
        length = lines ? 200 : 500;

    /* The prompt, cleaned and encoded like the training text. */
    size_t plen = 0, n_pids = 0;
    if (*prompt) {
        TextNotes notes;
        if (tok_prepare_text(&ptext, &plen, &notes, (const unsigned char *)prompt,
                             strlen(prompt), tok->kind, (int)ld.ck.st.normalize,
                             TOK_INVALID_ERROR, "--prompt", &err) != 0) {
            code = EXIT_USAGE;
            goto done;
        }
        if (lines && memchr(ptext, '\n', plen)) {
            err_set(&err, "--prompt: a lines-mode model's prompt cannot contain a newline");
            code = EXIT_USAGE;
            goto done;
        }
        pids = mem_calloc(plen + 1, sizeof *pids, "prompt", &err);
        if (!pids)
            goto done;
        if (tok_encode(tok, pids, &n_pids, ptext, plen, "--prompt", &err) != 0) {
            code = EXIT_USAGE;
            goto done;
        }
    }
    SamplerConfig scfg = {temperature, top_k, top_p};
    ctx = mem_calloc((size_t)T, sizeof *ctx, "context", &err);
    /* The weights are fixed from here on: acts_freeze builds the first
     * layer's per-character table once, so each character costs T row
     * additions instead of a (T*E, H) matrix-vector product. */
    if (!ctx || acts_init(&acts, &ld.model.cfg, 1, 0, &err) != 0 ||
        acts_freeze(&acts, &ld.model, &err) != 0 ||
        sampler_init(&sampler, &scfg, V, &err) != 0)
        goto done;
    /* The training lines, read like the training text was. */
    if (novel) {
        size_t nlen;
        if (cli_read_text(&ntext, &nlen, novel, tok->kind, (int)ld.ck.st.normalize,
                          TOK_INVALID_ERROR, 1, &err) != 0 ||
            novel_table(&train_lines, &n_lines, ntext, nlen, &err) != 0)
            goto done;
    }
    size_t stop_len = stop ? strlen(stop) : 0;
    /* The generated bytes of the current sample (prompt excluded), the last
     * stop_len of which are compared with the stop string. */
    size_t tail_len = 0;
    if (stop) {
        tail = mem_calloc(stop_len + 4, 1, "--stop", &err);
        if (!tail)
            goto done;
    }
    if (!seed_given && !quiet)
        fprintf(stderr, "tinychar: seed %llu\n", (unsigned long long)seed);

    /* Stream models never saw padding; a newline is the most natural "start of
     * text" context, so the window starts full of them (or of the first
     * character when the vocabulary has no newline). */
    int32_t pad = 0;
    if (!lines) {
        int32_t nl = tok_id(tok, '\n');
        pad = nl >= 0 ? nl : 0;
    }
    Rng rng;
    rng_seed(&rng, seed);
    Output out = {.byte_level = tok->kind == TOK_BYTE, .live = isatty(STDOUT_FILENO)};
    for (int s = 0; s < num; s++) {
        for (int j = 0; j < T; j++)
            ctx[j] = pad;
        item_len = 0;
        tail_len = 0;
        /* The prompt is printed as is and slides into the context. */
        for (size_t i = 0; i < n_pids; i++) {
            unsigned char b[4];
            int nb = tok_decode(tok, pids[i], b);
            out_bytes(&out, b, nb);
            if (novel && buf_push(&item, &item_len, &item_cap, b, (size_t)nb, &err) != 0)
                goto done;
            memmove(ctx, ctx + 1, (size_t)(T - 1) * sizeof *ctx);
            ctx[T - 1] = pids[i];
        }
        for (int i = 0; i < length; i++) {
            model_forward(&ld.model, &acts, ctx, NULL, 1);
            int32_t id = sampler_pick(&sampler, acts.logits, &rng);
            if (lines && id == 0)
                break; /* the boundary token: this item is complete */
            unsigned char b[4];
            int nb = tok_decode(tok, id, b);
            out_bytes(&out, b, nb);
            if (novel && buf_push(&item, &item_len, &item_cap, b, (size_t)nb, &err) != 0)
                goto done;
            memmove(ctx, ctx + 1, (size_t)(T - 1) * sizeof *ctx);
            ctx[T - 1] = id;
            if (stop) {
                /* Keep the last stop_len generated bytes (at most 4 more). */
                memcpy(tail + tail_len, b, (size_t)nb);
                tail_len += (size_t)nb;
                if (tail_len > stop_len) {
                    memmove(tail, tail + tail_len - stop_len, stop_len);
                    tail_len = stop_len;
                }
                if (tail_len == stop_len && memcmp(tail, stop, stop_len) == 0)
                    break;
            }
        }
        const char *sep = lines ? "\n" : (s + 1 < num ? "\n\n" : "\n");
        if (novel) {
            Line key = {item, item_len};
            int copied = item_len > 0 && bsearch(&key, train_lines, n_lines,
                                                 sizeof key, line_cmp) != NULL;
            n_copied += (size_t)copied;
            if (copied)
                sep = "\t(copied)\n";
        }
        out_end_item(&out, sep);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        err_set(&err, "cannot write the samples to stdout");
        goto done;
    }
    if (novel && num > 0)
        fprintf(stderr, "tinychar: %zu of %d samples are new (%.1f%%), the "
                "others are lines of %s\n", (size_t)num - n_copied, num,
                100.0 * (double)((size_t)num - n_copied) / num, novel);
    else if (novel)
        fprintf(stderr, "tinychar: 0 of 0 samples are new\n");
    code = EXIT_OK;
done:
    free(ntext);
    free(item);
    free(tail);
    free(train_lines);
    free(ptext);
    free(pids);
    free(ctx);
    acts_free(&acts);
    sampler_free(&sampler);
    cli_loaded_free(&ld);
    if (code != EXIT_OK)
        return cli_fail(code, "%s", err.msg);
    return code;
}
