/* sample.c - `tinychar sample CKPT`: generate text one character at a time.
 * Each step feeds the last T characters through the model (forward pass only,
 * batch of one, buffers reused), turns the logits into a distribution with the
 * sampler, draws the next character, prints it, and slides the context. */
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

int sample_main(int argc, char **argv)
{
    int num = -1, length = -1, top_k = 0, quiet = 0;
    double temperature = 1.0, top_p = 1.0;
    const char *prompt = "";
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
        {"--seed", OPT_U64, &seed, 0, 0, NULL, "S",
         "random seed (default: from the clock, printed on stderr)", 0},
        {"--quiet", OPT_FLAG, &quiet, 0, 0, NULL, NULL,
         "do not print the seed", 0},
    };
    int n_opts = (int)(sizeof opts / sizeof *opts);
    const char *pos[1];
    int n_pos, help, version;
    Error err;
    if (cli_parse(opts, n_opts, argc, argv, pos, 1, &n_pos, &help, &version, &err) != 0)
        return cli_fail(EXIT_USAGE, "sample: %s (see 'tinychar sample --help')", err.msg);
    if (help) {
        printf("usage: tinychar sample CKPT [options]\n\n"
               "Generates text from a checkpoint on stdout. Lines-mode models print one\n"
               "item per line; stream models print continuous text.\n\noptions:\n");
        cli_print_options(opts, n_opts);
        return EXIT_OK;
    }
    if (version) {
        printf("tinychar %s\n", TINYCHAR_VERSION);
        return EXIT_OK;
    }
    if (n_pos != 1)
        return cli_fail(EXIT_USAGE, "sample: give one checkpoint file "
                        "(see 'tinychar sample --help')");
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
    int code = EXIT_RUNTIME;
    if (cli_load_checkpoint(&ld, pos[0], &err) != 0)
        goto done;
    const Tokenizer *tok = &ld.tok;
    int lines = (int)ld.ck.st.lines, T = ld.model.cfg.context, V = ld.model.cfg.vocab;
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
                             "--prompt", &err) != 0) {
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
    if (!ctx || acts_init(&acts, &ld.model.cfg, 1, 0, &err) != 0 ||
        sampler_init(&sampler, &scfg, V, &err) != 0)
        goto done;
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
        /* The prompt is printed as is and slides into the context. */
        for (size_t i = 0; i < n_pids; i++) {
            unsigned char b[4];
            out_bytes(&out, b, tok_decode(tok, pids[i], b));
            memmove(ctx, ctx + 1, (size_t)(T - 1) * sizeof *ctx);
            ctx[T - 1] = pids[i];
        }
        for (int i = 0; i < length; i++) {
            model_forward(&ld.model, &acts, ctx, NULL, 1);
            int32_t id = sampler_pick(&sampler, acts.logits, &rng);
            if (lines && id == 0)
                break; /* the boundary token: this item is complete */
            unsigned char b[4];
            out_bytes(&out, b, tok_decode(tok, id, b));
            memmove(ctx, ctx + 1, (size_t)(T - 1) * sizeof *ctx);
            ctx[T - 1] = id;
        }
        out_end_item(&out, lines ? "\n" : (s + 1 < num ? "\n\n" : "\n"));
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        err_set(&err, "cannot write the samples to stdout");
        goto done;
    }
    code = EXIT_OK;
done:
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
