/* info.c - `tinychar info CKPT`: what a checkpoint holds: the model config,
 * parameter count, vocabulary, and how far training got. Reads only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../cli/cli.h"

/* Prints up to `max` vocabulary characters, escaping the unprintable. When
 * json, as a JSON string body. */
static void print_vocab_preview(const Tokenizer *tok, int max, int json)
{
    int shown = 0;
    for (int32_t i = 0; i < tok->vocab_size && shown < max; i++) {
        int32_t cp = tok->vocab[i];
        if (cp == TOK_BOUNDARY_CP)
            continue;
        shown++;
        unsigned char b[4];
        int n = tok_decode(tok, i, b);
        if (tok->kind == TOK_BYTE && cp >= 0x80) {
            printf("\\x%02X", (unsigned)cp);
        } else if (cp == '\n') {
            fputs("\\n", stdout);
        } else if (cp == '\t') {
            fputs("\\t", stdout);
        } else if (cp == '"' && json) {
            fputs("\\\"", stdout);
        } else if (cp == '\\') {
            fputs("\\\\", stdout);
        } else if (cp < 0x20 || cp == 0x7F) {
            printf(json ? "\\u%04x" : "\\x%02X", (unsigned)cp);
        } else {
            fwrite(b, 1, (size_t)n, stdout);
        }
    }
}

int info_main(int argc, char **argv)
{
    int json = 0;
    Opt opts[] = {
        {"--json", OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object", 0},
    };
    const Command cmd = {
        "info", "CKPT [options]",
        "Describes a checkpoint: model config, parameter count, vocabulary,\n"
        "training steps and best validation loss.\n",
        "give one checkpoint file", 1, opts, (int)(sizeof opts / sizeof *opts)};
    const char *pos[1];
    int code = cli_begin(&cmd, argc, argv, pos);
    if (code >= 0)
        return code;
    Error err;
    Loaded ld = {0};
    if (cli_load_checkpoint(&ld, pos[0], &err) != 0)
        return cli_fail(EXIT_RUNTIME, "%s", err.msg);
    const ModelConfig *c = &ld.model.cfg;
    const TrainState *s = &ld.ck.st;
    const char *tokname = s->tokenizer == TOK_BYTE ? "byte" : "char";
    const char *mode = s->lines ? "lines" : "stream";
    const char *optname = ld.ck.opt.kind == OPTIM_ADAMW ? "adamw" : "sgd";
    int preview = 80;
    if (json) {
        printf("{\"context\": %d, \"embed\": %d, \"hidden\": %d, \"layers\": %d, "
               "\"vocab\": %d, \"parameters\": %zu, \"tokenizer\": \"%s\", "
               "\"mode\": \"%s\", \"normalize\": %s, \"optimizer\": \"%s\", "
               "\"batch\": %u, \"steps\": %llu, ",
               c->context, c->embed, c->hidden, c->layers, c->vocab,
               ld.model.n_params, tokname, mode, s->normalize ? "true" : "false",
               optname, s->batch, (unsigned long long)s->step);
        if (isfinite(s->best_val))
            printf("\"best_val_loss\": %.9g, ", s->best_val);
        else
            printf("\"best_val_loss\": null, ");
        printf("\"vocab_preview\": \"");
        print_vocab_preview(&ld.tok, preview, 1);
        printf("\"}\n");
    } else {
        printf("checkpoint   %s\n", pos[0]);
        printf("model        context %d, embed %d, hidden %d x %d layer%s\n",
               c->context, c->embed, c->hidden, c->layers, c->layers > 1 ? "s" : "");
        printf("parameters   %zu\n", ld.model.n_params);
        printf("tokenizer    %s, %s mode%s\n", tokname, mode,
               s->tokenizer == TOK_CHAR ? (s->normalize ? ", NFC" : ", not normalized") : "");
        printf("vocabulary   %d%s: ", c->vocab, s->lines ? " (with the boundary token)" : "");
        print_vocab_preview(&ld.tok, preview, 0);
        printf("%s\n", c->vocab - (int)s->lines > preview ? " ..." : "");
        printf("training     %llu steps", (unsigned long long)s->step);
        if (s->steps_total)
            printf(" of %llu", (unsigned long long)s->steps_total);
        else
            printf(", %.0f of %.0f seconds", s->elapsed, s->time_budget);
        printf(", %s lr %g, batch %u, seed %llu\n", optname, ld.ck.opt.lr,
               s->batch, (unsigned long long)s->seed);
        if (isfinite(s->best_val))
            printf("best val     %.4f nats/char (%.4f bits/char)\n", s->best_val,
                   s->best_val / log(2.0));
        else
            printf("best val     none yet\n");
    }
    cli_loaded_free(&ld);
    return EXIT_OK;
}
