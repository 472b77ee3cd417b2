/* plot_main.c - `tinychar plot RUN_DIR`: draws RUN_DIR/loss.svg from
 * metrics.csv, and RUN_DIR/embedding.svg from the embedding table of
 * best.ckpt (else last.ckpt) projected to 2-D by PCA, one labelled point per
 * vocabulary entry. Reads and writes files; the drawing is plot.c, the maths
 * pca.c. */
#define _POSIX_C_SOURCE 200809L
#include "plot_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../common/fileio.h"
#include "../common/mem.h"
#include "pca.h"
#include "plot.h"

#define PATH_MAX_LEN 4200

int plot_write_loss(const char *run_dir, Error *err)
{
    char path[PATH_MAX_LEN];
    if ((size_t)snprintf(path, sizeof path, "%s/metrics.csv", run_dir) >= sizeof path)
        return err_set(err, "run directory path is too long");
    unsigned char *text;
    size_t len;
    if (file_read(path, &text, &len, err) != 0)
        return -1;
    Metrics m = {0};
    int rc = plot_metrics_parse(&m, (const char *)text, len, path, err);
    free(text);
    if (rc != 0)
        return -1;
    char title[PATH_MAX_LEN + 64];
    snprintf(title, sizeof title, "tinychar loss: %s", run_dir);
    char *svg;
    size_t svg_len;
    rc = plot_loss_svg(&svg, &svg_len, &m, title, err);
    plot_metrics_free(&m);
    if (rc != 0)
        return -1;
    snprintf(path, sizeof path, "%s/loss.svg", run_dir);
    rc = file_write_atomic(path, svg, svg_len, err);
    free(svg);
    return rc;
}

void plot_refresh_loss(const char *run_dir, int *warned)
{
    Error err;
    if (plot_write_loss(run_dir, &err) != 0 && !*warned) {
        *warned = 1;
        fprintf(stderr, "tinychar: warning: cannot redraw %s/loss.svg (%s); "
                "training goes on, and this is said only once\n", run_dir, err.msg);
    }
}

/* A visible label for vocabulary entry id (at most 15 bytes of UTF-8) and the
 * colour class of its point. */
static PlotKind token_label(char out[16], const Tokenizer *tok, int32_t id)
{
    int32_t cp = tok->vocab[id];
    if (cp == TOK_BOUNDARY_CP) {
        snprintf(out, 16, "<b>");   /* escaped when written */
        return PLOT_SPECIAL;
    }
    if (tok->kind == TOK_BYTE && cp >= 0x80) {
        snprintf(out, 16, "x%02X", (unsigned)cp);
        return PLOT_OTHER;
    }
    switch (cp) {
    case ' ': snprintf(out, 16, "\xE2\x90\xA3"); return PLOT_SPECIAL;  /* U+2423 */
    case '\n': snprintf(out, 16, "\\n"); return PLOT_SPECIAL;
    case '\t': snprintf(out, 16, "\\t"); return PLOT_SPECIAL;
    default: break;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF) {
        snprintf(out, 16, "U+%04X", (unsigned)cp);
        return PLOT_SPECIAL;
    }
    unsigned char b[4];
    int n = tok_decode(tok, id, b);
    memcpy(out, b, (size_t)n);
    out[n] = '\0';
    return cp < 0x80 && strchr("aeiouAEIOU", (int)cp) ? PLOT_VOWEL : PLOT_OTHER;
}

/* Draws the embedding table of ckpt_path into out_path. */
static int write_embedding(const char *ckpt_path, const char *out_path,
                           double *share, Error *err)
{
    Loaded ld = {0};
    double *xy = NULL;
    char *labels = NULL, *svg = NULL;
    const char **label_ptrs = NULL;
    PlotKind *kinds = NULL;
    int rc = -1;
    if (cli_load_checkpoint(&ld, ckpt_path, err) != 0)
        return -1;
    int V = ld.model.cfg.vocab, E = ld.model.cfg.embed;
    int k = E >= 2 ? 2 : 1;
    double var[2] = {0, 0}, total = 0;
    double *pk = mem_calloc((size_t)V, (size_t)k * sizeof(double), "PCA", err);
    xy = mem_calloc((size_t)V, 2 * sizeof(double), "plot", err);
    labels = mem_calloc((size_t)V, 16, "plot labels", err);
    label_ptrs = mem_calloc((size_t)V, sizeof *label_ptrs, "plot labels", err);
    kinds = mem_calloc((size_t)V, sizeof *kinds, "plot labels", err);
    if (!pk || !xy || !labels || !label_ptrs || !kinds)
        goto done;
    /* The rows of the (V, E) embedding table are the points. */
    if (pca(pk, NULL, var, &total, ld.model.p.emb, V, E, k, err) != 0)
        goto done;
    for (int i = 0; i < V; i++) {
        xy[2 * i] = pk[(size_t)i * k];
        xy[2 * i + 1] = k == 2 ? pk[(size_t)i * k + 1] : 0.0;
        kinds[i] = token_label(labels + 16 * (size_t)i, &ld.tok, i);
        label_ptrs[i] = labels + 16 * (size_t)i;
    }
    for (int j = 0; j < 2; j++)
        share[j] = total > 0 ? 100.0 * var[j] / total : 0.0;
    char title[PATH_MAX_LEN + 64], xl[64], yl[80];
    snprintf(title, sizeof title, "tinychar embeddings: %s (PCA to 2-D)", ckpt_path);
    snprintf(xl, sizeof xl, "PC1 (%.1f%% of the variance)", share[0]);
    if (k == 2)
        snprintf(yl, sizeof yl, "PC2 (%.1f%% of the variance)", share[1]);
    else
        snprintf(yl, sizeof yl, "(embedding size 1: no second component)");
    size_t svg_len;
    if (plot_scatter_svg(&svg, &svg_len, xy, label_ptrs, kinds, V, title, xl, yl,
                         err) != 0 ||
        file_write_atomic(out_path, svg, svg_len, err) != 0)
        goto done;
    rc = 0;
done:
    free(pk);
    free(xy);
    free(labels);
    free(label_ptrs);
    free(kinds);
    free(svg);
    cli_loaded_free(&ld);
    return rc;
}

int plot_main(int argc, char **argv)
{
    const char *ckpt = NULL;
    int quiet = 0;
    Opt opts[] = {
        {"--checkpoint", OPT_STRING, &ckpt, 0, 0, NULL, "CKPT",
         "draw the embeddings of CKPT (default RUN_DIR/best.ckpt, else last.ckpt)", 0},
        {"--quiet", OPT_FLAG, &quiet, 0, 0, NULL, NULL, "print errors only", 0},
    };
    const Command cmd = {
        "plot", "RUN_DIR [options]",
        "Draws two SVG images into the run directory of a training:\n"
        "  loss.svg       train and val loss against step, from metrics.csv\n"
        "                 (training also redraws it at every evaluation)\n"
        "  embedding.svg  each character's embedding projected to 2-D by PCA,\n"
        "                 from best.ckpt (else last.ckpt)\n"
        "Open them in a web browser.\n",
        "give one run directory", 1, opts, (int)(sizeof opts / sizeof *opts)};
    const char *pos[1];
    int started = cli_begin(&cmd, argc, argv, pos);
    if (started >= 0)
        return started;
    Error err;
    const char *dir = pos[0];
    if (strlen(dir) > 3000)
        return cli_fail(EXIT_USAGE, "plot: RUN_DIR: path is too long (%zu bytes, "
                        "at most 3000)", strlen(dir));
    /* Both images are attempted; either failing makes the exit status 1. */
    int code = EXIT_OK;
    if (plot_write_loss(dir, &err) != 0) {
        cli_fail(EXIT_RUNTIME, "%s", err.msg);
        code = EXIT_RUNTIME;
    } else if (!quiet) {
        fprintf(stderr, "tinychar: wrote %s/loss.svg\n", dir);
    }
    char path[PATH_MAX_LEN], out[PATH_MAX_LEN];
    if (!ckpt) {
        snprintf(path, sizeof path, "%s/best.ckpt", dir);
        if (access(path, F_OK) != 0)
            snprintf(path, sizeof path, "%s/last.ckpt", dir);
        ckpt = path;
    }
    snprintf(out, sizeof out, "%s/embedding.svg", dir);
    double share[2] = {0, 0};
    if (write_embedding(ckpt, out, share, &err) != 0) {
        cli_fail(EXIT_RUNTIME, "%s", err.msg);
        code = EXIT_RUNTIME;
    } else if (!quiet) {
        fprintf(stderr, "tinychar: wrote %s (embeddings of %s; the two axes hold "
                "%.0f%% and %.0f%% of their variance)\n", out, ckpt, share[0], share[1]);
    }
    return code;
}
