/* cli.h - what every subcommand shares: reporting errors the tinychar way,
 * reading a text file into prepared text, and loading a checkpoint file into
 * a model and tokenizer. Programs only; library folders never include this. */
#ifndef TINYCHAR_CLI_H
#define TINYCHAR_CLI_H

#include <stddef.h>

#include "../common/error.h"
#include "../model/ckpt.h"
#include "../model/model.h"
#include "../tokenizer/tokenizer.h"

#define TINYCHAR_VERSION "0.1.0"

/* Exit codes (documented in the README). */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,     /* I/O failure, bad data, bad checkpoint */
    EXIT_USAGE = 2,       /* bad command line */
    EXIT_DIVERGED = 3,    /* training hit a NaN or infinity; nothing bad saved */
    EXIT_INTERRUPTED = 130 /* Ctrl-C: last.ckpt saved, then stopped */
};

/* Prints "tinychar: <message>" on stderr and returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fetches the value of the flag at argv[*i] (the next argument) into *value,
 * advancing *i; a missing value is an error naming the flag. */
int cli_value(const char **value, int argc, char **argv, int *i, Error *err);

/* Reads path and prepares it for the tokenizer (see tok_prepare_text). An
 * empty file is an error. Unless quiet, says once on stderr what was cleaned
 * (BOM dropped, CRLF read as LF, NFC changes, invalid UTF-8 replaced). */
int cli_read_text(unsigned char **text, size_t *len, const char *path,
                  TokKind kind, int normalize, TokInvalid invalid, int quiet,
                  Error *err);

/* A checkpoint file turned into something usable. */
typedef struct {
    Checkpoint ck;
    Model model;
    Tokenizer tok;
} Loaded;

/* Reads, validates and unpacks a checkpoint file. Loaded must be zeroed. */
int cli_load_checkpoint(Loaded *ld, const char *path, Error *err);
void cli_loaded_free(Loaded *ld);

/* Sets the OpenMP thread count (no-op in a serial build). */
void cli_set_threads(int threads);


/* A table-driven command line: each subcommand lists its options once, and the
 * same table parses argv and prints --help, so they cannot disagree. */
typedef enum { OPT_INT, OPT_U64, OPT_DOUBLE, OPT_STRING, OPT_FLAG, OPT_CHOICE } OptType;

typedef struct {
    const char *name;     /* "--lr" */
    OptType type;
    void *dest;           /* int, uint64_t, double, const char *, int (flag, choice index) */
    double min, max;      /* OPT_INT and OPT_DOUBLE: accepted range */
    const char *choices;  /* OPT_CHOICE: "stream|lines" */
    const char *meta;     /* "RATE" in "--lr RATE" */
    const char *help;     /* one line */
    int seen;             /* set by cli_parse when given */
} Opt;

/* Parses argv[1..]: options from the table (each at most once), `--help`,
 * `--version`, and up to max_pos positional arguments. Returns 0, or -1 with a
 * usage message in err. *help / *version report those two flags. */
int cli_parse(Opt *opts, int n_opts, int argc, char **argv, const char **pos,
              int max_pos, int *n_pos, int *help, int *version, Error *err);

/* A subcommand's command line, described once. */
typedef struct {
    const char *name;      /* "eval" */
    const char *usage;     /* what follows the name: "CKPT FILE [options]" */
    const char *about;     /* the --help paragraph, ending in a newline */
    const char *operands;  /* said when the positional count is wrong:
                            * "give a checkpoint and a text file" */
    int n_pos;             /* exact number of positional arguments */
    Opt *opts;
    int n_opts;
} Command;

/* The start every subcommand shares: parses argv into cmd's options and pos
 * (room for n_pos), answers --help and --version, and checks the number of
 * positional arguments. Returns -1 when the command should go on, or the
 * exit code to return at once (EXIT_OK after --help or --version, EXIT_USAGE
 * after printing what is wrong). */
int cli_begin(const Command *cmd, int argc, char **argv, const char **pos);

/* Prints "  --name META   help" lines for the table. */
void cli_print_options(const Opt *opts, int n_opts);

/* The Opt with this name (it must be in the table). */
Opt *cli_opt(Opt *opts, int n_opts, const char *name);

#endif
