/* plot.h - the charts tinychar draws, as SVG text in memory: the training
 * and validation loss against the step (from the bytes of a metrics.csv), and
 * a labelled 2-D scatter plot (the character embeddings after PCA, pca.h).
 * No file I/O here and no dependency: the programs read metrics.csv and write
 * the images (plot_main.c). Each chart is one self-contained SVG document. */
#ifndef TINYCHAR_PLOT_H
#define TINYCHAR_PLOT_H

#include <stddef.h>

#include "../common/error.h"

/* The rows of a metrics.csv: one per evaluation. */
typedef struct {
    size_t n;
    double *step;    /* (n) */
    double *train;   /* (n) training loss, nats per character */
    double *val;     /* (n) validation loss */
} Metrics;

/* Parses the text of a metrics.csv: a header line naming the columns (at
 * least step, train_loss and val_loss, in any order, others ignored), then one
 * line of comma-separated numbers per evaluation. A header alone gives n = 0.
 * A malformed line or a non-finite number is an error naming `name` and the
 * line. Metrics must be zeroed. */
int plot_metrics_parse(Metrics *m, const char *text, size_t len,
                       const char *name, Error *err);
void plot_metrics_free(Metrics *m);

/* Line chart of train and val loss against step, with axes, ticks, grid,
 * axis labels and a legend that names the best val loss. Each series is a
 * <polyline class="train|val"> with one point per row, plus one <circle
 * class="train|val"> marker per row. title: shown on top (escaped). With
 * n = 0, empty axes that say no evaluation was logged yet. *svg: new buffer
 * of *len bytes (free() it). */
int plot_loss_svg(char **svg, size_t *len, const Metrics *m, const char *title,
                  Error *err);

/* The learning-rate finder's chart: loss against learning rate, the x axis
 * on a log scale with ticks on whole decades. The batch losses (n) are a thin
 * <polyline class="loss">, the smoothed losses (n) a thick one of class
 * "smoothed", each with one point per step; lr (n) must be positive. A dashed
 * <line class="suggested"> marks `suggested` (drawn if positive). */
int plot_lr_find_svg(char **svg, size_t *len, const double *lr,
                     const double *loss, const double *smoothed, size_t n,
                     double suggested, const char *title, Error *err);

/* How a point of a scatter plot is coloured (and named in the legend). */
typedef enum { PLOT_OTHER = 0, PLOT_VOWEL = 1, PLOT_SPECIAL = 2 } PlotKind;

/* Scatter plot of n labelled points xy (n, 2), both axes on the same scale
 * so distances in the picture are distances in the data. Each point is a
 * <g class="point"> holding a <circle>, its label as <text> (escaped), and a
 * <title> tooltip. kinds (n) or NULL picks colours; xlabel and ylabel name
 * the axes. */
int plot_scatter_svg(char **svg, size_t *len, const double *xy,
                     const char *const *labels, const PlotKind *kinds, int n,
                     const char *title, const char *xlabel, const char *ylabel,
                     Error *err);

#endif
