/* cli.c - shared program plumbing: error output, flag values, loading files. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../common/fileio.h"
#include "../common/flags.h"

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tinychar: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_value(const char **value, int argc, char **argv, int *i, Error *err)
{
    if (*i + 1 >= argc)
        return err_set(err, "%s needs a value", argv[*i]);
    *i += 1;
    *value = argv[*i];
    return 0;
}

int cli_read_text(unsigned char **text, size_t *len, const char *path,
                  TokKind kind, int normalize, TokInvalid invalid, int quiet,
                  Error *err)
{
    unsigned char *raw;
    size_t raw_len;
    if (file_read(path, &raw, &raw_len, err) != 0)
        return -1;
    if (raw_len == 0) {
        free(raw);
        return err_set(err, "'%s' is empty", path);
    }
    TextNotes notes;
    int rc = tok_prepare_text(text, len, &notes, raw, raw_len, kind, normalize,
                              invalid, path, err);
    free(raw);
    if (rc != 0)
        return -1;
    if (!quiet) {
        if (notes.had_bom)
            fprintf(stderr, "tinychar: %s: dropped the byte order mark at the start\n", path);
        if (notes.crlf)
            fprintf(stderr, "tinychar: %s: read %zu CRLF line endings as LF\n", path,
                    notes.crlf);
        if (notes.replaced)
            fprintf(stderr, "tinychar: %s: replaced %zu invalid UTF-8 sequence%s "
                    "with U+FFFD (the first at line %zu, byte offset %zu)\n", path,
                    notes.replaced, notes.replaced == 1 ? "" : "s",
                    notes.first_replaced_line, notes.first_replaced);
        if (notes.normalized)
            fprintf(stderr, "tinychar: %s: normalized the text to Unicode NFC "
                    "(use --no-normalize to keep it as is)\n", path);
    }
    if (*len == 0) {
        free(*text);
        *text = NULL;
        return err_set(err, "'%s' has no text once its byte order mark is dropped", path);
    }
    return 0;
}

int cli_load_checkpoint(Loaded *ld, const char *path, Error *err)
{
    memset(ld, 0, sizeof *ld);
    unsigned char *buf;
    size_t len;
    if (file_read(path, &buf, &len, err) != 0)
        return -1;
    int rc = ckpt_decode(&ld->ck, buf, len, path, err);
    free(buf);
    if (rc != 0)
        return -1;
    Error terr;
    if (tok_from_vocab(&ld->tok, (TokKind)ld->ck.st.tokenizer, ld->ck.vocab,
                       ld->ck.cfg.vocab, &terr) != 0) {
        cli_loaded_free(ld);
        return err_set(err, "%s: checkpoint vocabulary: %s", path, terr.msg);
    }
    int lines = (int)ld->ck.st.lines;
    if (ld->tok.has_boundary != lines) {
        cli_loaded_free(ld);
        return err_set(err, "%s: checkpoint vocabulary %s a boundary token but "
                       "its mode is %s", path, lines ? "lacks" : "has",
                       lines ? "lines" : "stream");
    }
    if (model_init(&ld->model, &ld->ck.cfg, err) != 0) {
        cli_loaded_free(ld);
        return -1;
    }
    memcpy(ld->model.params, ld->ck.params, ld->model.n_params * sizeof(float));
    return 0;
}

void cli_loaded_free(Loaded *ld)
{
    ckpt_free(&ld->ck);
    model_free(&ld->model);
    tok_free(&ld->tok);
}

void cli_set_threads(int threads)
{
#ifdef _OPENMP
    if (threads > 0)
        omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

static int parse_one(Opt *o, const char *v, Error *err)
{
    switch (o->type) {
    case OPT_INT: {
        long x;
        if (flag_long(o->name, v, (long)o->min, (long)o->max, &x, err) != 0)
            return -1;
        *(int *)o->dest = (int)x;
        return 0;
    }
    case OPT_U64:
        return flag_u64(o->name, v, (uint64_t *)o->dest, err);
    case OPT_DOUBLE:
        return flag_double(o->name, v, o->min, o->max, (double *)o->dest, err);
    case OPT_STRING:
        if (*v == '\0')
            return err_set(err, "%s needs a non-empty value", o->name);
        *(const char **)o->dest = v;
        return 0;
    case OPT_CHOICE: {
        const char *c = o->choices;
        for (int idx = 0; *c; idx++) {
            size_t n = strcspn(c, "|");
            if (strlen(v) == n && strncmp(c, v, n) == 0) {
                *(int *)o->dest = idx;
                return 0;
            }
            c += n + (c[n] == '|');
        }
        return err_set(err, "%s: '%s' is not one of %s", o->name, v, o->choices);
    }
    case OPT_FLAG:
        break;
    }
    return err_set(err, "%s: internal option type error", o->name);
}

int cli_parse(Opt *opts, int n_opts, int argc, char **argv, const char **pos,
              int max_pos, int *n_pos, int *help, int *version, Error *err)
{
    *n_pos = 0;
    *help = 0;
    *version = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = 1;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            *version = 1;
            continue;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (*n_pos >= max_pos)
                return err_set(err, "unexpected argument '%s'", a);
            pos[(*n_pos)++] = a;
            continue;
        }
        Opt *o = NULL;
        for (int k = 0; k < n_opts && !o; k++)
            if (strcmp(opts[k].name, a) == 0)
                o = &opts[k];
        if (!o)
            return err_set(err, "unknown option '%s'", a);
        if (o->seen)
            return err_set(err, "%s given twice", a);
        o->seen = 1;
        if (o->type == OPT_FLAG) {
            *(int *)o->dest = 1;
            continue;
        }
        const char *v = NULL;
        if (cli_value(&v, argc, argv, &i, err) != 0 || parse_one(o, v, err) != 0)
            return -1;
    }
    return 0;
}

int cli_begin(const Command *cmd, int argc, char **argv, const char **pos)
{
    int n_pos, help, version;
    Error err;
    if (cli_parse(cmd->opts, cmd->n_opts, argc, argv, pos, cmd->n_pos, &n_pos,
                  &help, &version, &err) != 0)
        return cli_fail(EXIT_USAGE, "%s: %s (see 'tinychar %s --help')",
                        cmd->name, err.msg, cmd->name);
    if (help) {
        printf("usage: tinychar %s %s\n\n%s\noptions:\n", cmd->name, cmd->usage,
               cmd->about);
        cli_print_options(cmd->opts, cmd->n_opts);
        return EXIT_OK;
    }
    if (version) {
        printf("tinychar %s\n", TINYCHAR_VERSION);
        return EXIT_OK;
    }
    if (n_pos != cmd->n_pos)
        return cli_fail(EXIT_USAGE, "%s: %s (see 'tinychar %s --help')",
                        cmd->name, cmd->operands, cmd->name);
    return -1;
}

void cli_print_options(const Opt *opts, int n_opts)
{
    for (int k = 0; k < n_opts; k++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", opts[k].name,
                 opts[k].meta ? " " : "", opts[k].meta ? opts[k].meta : "");
        printf("  %-22s %s\n", left, opts[k].help);
    }
    printf("  %-22s %s\n", "--help", "show this help and exit");
    printf("  %-22s %s\n", "--version", "show the version and exit");
}

Opt *cli_opt(Opt *opts, int n_opts, const char *name)
{
    for (int k = 0; k < n_opts; k++)
        if (strcmp(opts[k].name, name) == 0)
            return &opts[k];
    return NULL;
}
