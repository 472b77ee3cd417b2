/* main.c - the tinychar command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int train_main(int argc, char **argv);
int sample_main(int argc, char **argv);
int eval_main(int argc, char **argv);
int info_main(int argc, char **argv);
int plot_main(int argc, char **argv);
int gradcheck_main(int argc, char **argv);
int lr_find_main(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tinychar COMMAND [options]\n\n"
            "A tiny character-level language model: an MLP over the last few\n"
            "characters, trained with hand-written backpropagation.\n\n"
            "commands:\n"
            "  train FILE      train a model on a text file\n"
            "  sample CKPT     generate text from a checkpoint\n"
            "  eval CKPT FILE  loss of a checkpoint on a text file\n"
            "  info CKPT       describe a checkpoint\n"
            "  plot RUN_DIR    draw loss.svg and embedding.svg of a training run\n"
            "  gradcheck       check backpropagation against finite differences\n"
            "  lr-find FILE    sweep the learning rate and suggest one\n\n"
            "Run 'tinychar COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return cli_fail(EXIT_USAGE, "no command given");
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("tinychar %s\n", TINYCHAR_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "train") == 0)
        return train_main(argc - 1, argv + 1);
    if (strcmp(cmd, "sample") == 0)
        return sample_main(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0)
        return eval_main(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return info_main(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return plot_main(argc - 1, argv + 1);
    if (strcmp(cmd, "gradcheck") == 0)
        return gradcheck_main(argc - 1, argv + 1);
    if (strcmp(cmd, "lr-find") == 0)
        return lr_find_main(argc - 1, argv + 1);
    return cli_fail(EXIT_USAGE, "unknown command '%s' (see 'tinychar --help')", cmd);
}
