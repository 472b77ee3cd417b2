/* eval.c - `tinychar eval CKPT FILE`: the model's mean loss on a text, in
 * nats and bits per character, and its perplexity. Forward passes only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../cli/cli.h"
#include "../common/mem.h"
#include "../data/data.h"
#include "evaluate.h"

int eval_main(int argc, char **argv)
{
    int json = 0, threads = 0, invalid = TOK_INVALID_ERROR;
    Opt opts[] = {
        {"--json", OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object", 0},
        {"--invalid", OPT_CHOICE, &invalid, 0, 0, "error|replace", "MODE",
         "invalid UTF-8 in FILE: error (default) or replace with U+FFFD", 0},
        {"--threads", OPT_INT, &threads, 1, 1024, NULL, "N",
         "threads to use (default: all cores)", 0},
    };
    const Command cmd = {
        "eval", "CKPT FILE [options]",
        "Prints the model's mean loss over every character of FILE: nats and\n"
        "bits per character, perplexity, and the number of characters scored.\n"
        "FILE is read in the checkpoint's mode (stream or lines).\n",
        "give a checkpoint and a text file", 2, opts,
        (int)(sizeof opts / sizeof *opts)};
    const char *pos[2];
    int code = cli_begin(&cmd, argc, argv, pos);
    if (code >= 0)
        return code;
    Error err;
    cli_set_threads(threads);

    Loaded ld = {0};
    Dataset ds = {0};
    Activations acts = {0};
    unsigned char *text = NULL;
    int32_t *ctx = NULL, *targets = NULL;
    size_t len;
    code = EXIT_RUNTIME;
    const int B = 256;
    if (cli_load_checkpoint(&ld, pos[0], &err) != 0 ||
        cli_read_text(&text, &len, pos[1], (TokKind)ld.ck.st.tokenizer,
                      (int)ld.ck.st.normalize, (TokInvalid)invalid, json, &err) != 0 ||
        data_build(&ds, &ld.tok, text, len, (int)ld.ck.st.lines,
                   ld.ck.cfg.context, pos[1], &err) != 0 ||
        acts_init(&acts, &ld.model.cfg, B, 0, &err) != 0)
        goto done;
    ctx = mem_calloc((size_t)B * ld.model.cfg.context, sizeof *ctx, "batch", &err);
    targets = mem_calloc(B, sizeof *targets, "batch", &err);
    if (!ctx || !targets)
        goto done;
    double loss = evaluate_loss(&ld.model, &acts, &ds, 0, ctx, targets);
    double bits = loss / log(2.0);
    double ppl = exp(loss);
    if (json)
        printf("{\"loss_nats\": %.9g, \"bits_per_char\": %.9g, \"perplexity\": %.9g, "
               "\"characters\": %zu}\n", loss, bits, ppl, ds.n_examples);
    else
        printf("loss %.4f nats/char | %.4f bits/char | perplexity %.3f | %zu characters\n",
               loss, bits, ppl, ds.n_examples);
    code = EXIT_OK;
done:
    free(text);
    free(ctx);
    free(targets);
    acts_free(&acts);
    data_free(&ds);
    cli_loaded_free(&ld);
    if (code != EXIT_OK)
        return cli_fail(code, "%s", err.msg);
    return code;
}
