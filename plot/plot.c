/* plot.c - metrics.csv parsing, the loss chart and the scatter chart, drawn
 * as SVG with svg.h. Layout is fixed (a page of about 860 x 600 pixels);
 * ticks fall on round numbers (1, 2 or 5 times a power of ten). */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "svg.h"

/* ---- metrics.csv ---------------------------------------------------------- */

/* Index of column `want` in the comma-separated header [h, end), or -1. */
static int column_of(const char *h, const char *end, const char *want)
{
    size_t wl = strlen(want);
    for (int col = 0; h <= end; col++) {
        const char *comma = memchr(h, ',', (size_t)(end - h));
        const char *stop = comma ? comma : end;
        const char *a = h, *b = stop;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        if ((size_t)(b - a) == wl && memcmp(a, want, wl) == 0)
            return col;
        if (!comma)
            break;
        h = comma + 1;
    }
    return -1;
}

/* Parses field `col` of the line [p, end) as a finite double. */
static int field(double *out, const char *p, const char *end, int col)
{
    for (int c = 0; c < col; c++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (!comma)
            return -1;
        p = comma + 1;
    }
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;
    char buf[64];
    size_t n = (size_t)(stop - p);
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *e;
    double v = strtod(buf, &e);
    if (*e != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int plot_metrics_parse(Metrics *m, const char *text, size_t len,
                       const char *name, Error *err)
{
    memset(m, 0, sizeof *m);
    const char *end = text + len;
    const char *nl = memchr(text, '\n', len);
    const char *hend = nl ? nl : end;
    int cs = column_of(text, hend, "step");
    int ct = column_of(text, hend, "train_loss");
    int cv = column_of(text, hend, "val_loss");
    if (len == 0 || cs < 0 || ct < 0 || cv < 0)
        return err_set(err, "%s: line 1 is not a metrics header naming the "
                       "columns step, train_loss and val_loss", name);
    size_t rows = 0;
    for (const char *p = text; p < end; p++)
        rows += *p == '\n';
    m->step = mem_calloc(rows + 1, sizeof(double), "metrics", err);
    m->train = mem_calloc(rows + 1, sizeof(double), "metrics", err);
    m->val = mem_calloc(rows + 1, sizeof(double), "metrics", err);
    if (!m->step || !m->train || !m->val) {
        plot_metrics_free(m);
        return -1;
    }
    size_t line = 1;
    for (const char *p = nl ? nl + 1 : end; p < end;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        line++;
        if (e > p && !(e - p == 1 && *p == '\r')) {
            size_t i = m->n;
            if (field(&m->step[i], p, e, cs) != 0 ||
                field(&m->train[i], p, e, ct) != 0 ||
                field(&m->val[i], p, e, cv) != 0) {
                plot_metrics_free(m);
                return err_set(err, "%s: line %zu: expected finite numbers in the "
                               "step, train_loss and val_loss columns", name, line);
            }
            m->n++;
        }
        p = e + 1;
    }
    return 0;
}

void plot_metrics_free(Metrics *m)
{
    free(m->step);
    free(m->train);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/* ---- axes --------------------------------------------------------------- */

/* A linear axis: data values [lo, hi] drawn on pixels [p0, p1] (p1 < p0 for
 * a y axis, whose pixels grow downwards); ticks every `tick` units. */
typedef struct {
    double lo, hi, tick;
    double p0, p1;
    int decimals;   /* digits after the point in the tick labels */
    int log10;      /* values are log10 of the data; labels read 1e-3 */
} Axis;

/* 1, 2 or 5 times a power of ten, near span / target. */
static double nice_tick(double span, int target)
{
    double raw = span / target;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

/* Sets ticks for [lo, hi]; when `expand`, widens the range to whole ticks. */
static void axis_init(Axis *a, double lo, double hi, int target, int expand,
                      double p0, double p1)
{
    if (!(hi > lo)) {
        double pad = fabs(lo) > 1e-9 ? fabs(lo) * 0.1 : 0.5;
        lo -= pad;
        hi += pad;
    }
    a->tick = nice_tick(hi - lo, target);
    if (expand) {
        lo = floor(lo / a->tick + 1e-9) * a->tick;
        hi = ceil(hi / a->tick - 1e-9) * a->tick;
    }
    a->lo = lo;
    a->hi = hi;
    a->p0 = p0;
    a->p1 = p1;
    int d = (int)-floor(log10(a->tick) + 1e-9);
    a->decimals = d > 0 ? d : 0;
    a->log10 = 0;
}

static double axis_px(const Axis *a, double v)
{
    return a->p0 + (v - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

/* Plot area, in pixels. */
typedef struct {
    double left, top, right, bottom;
} Box;

static void doc_begin(Svg *s, int w, int h, const char *title)
{
    svg_printf(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, "
               "sans-serif\">\n<title>", w, h, w, h);
    svg_escape(s, title);
    svg_printf(s, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n"
               "<text x=\"%d\" y=\"30\" font-size=\"17\" text-anchor=\"middle\">",
               w, h, w / 2);
    svg_escape(s, title);
    svg_printf(s, "</text>\n");
}

/* Grid lines, ticks, tick labels, the frame and the axis labels. */
static void draw_axes(Svg *s, const Box *b, const Axis *x, const Axis *y,
                      const char *xlabel, const char *ylabel)
{
    svg_printf(s, "<g class=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n");
    double x0 = ceil(x->lo / x->tick - 1e-9) * x->tick;
    for (int i = 0; i < 1000; i++) {
        double v = x0 + i * x->tick;
        if (v > x->hi + 1e-9 * x->tick)
            break;
        double px = axis_px(x, v);
        svg_printf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                   px, b->top, px, b->bottom);
    }
    double y0 = ceil(y->lo / y->tick - 1e-9) * y->tick;
    for (int i = 0; i < 1000; i++) {
        double v = y0 + i * y->tick;
        if (v > y->hi + 1e-9 * y->tick)
            break;
        double py = axis_px(y, v);
        svg_printf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                   b->left, py, b->right, py);
    }
    svg_printf(s, "</g>\n<g class=\"axes\" font-size=\"13\" fill=\"#333\">\n"
               "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"none\" stroke=\"#333\"/>\n", b->left, b->top,
               b->right - b->left, b->bottom - b->top);
    for (int i = 0; i < 1000; i++) {
        double v = x0 + i * x->tick;
        if (v > x->hi + 1e-9 * x->tick)
            break;
        double px = axis_px(x, v);
        svg_printf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#333\"/>\n", px, b->bottom, px, b->bottom + 5);
        if (x->log10)
            svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">1e%d</text>\n",
                       px, b->bottom + 20, (int)lround(v));
        else
            svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>\n",
                       px, b->bottom + 20, x->decimals, fabs(v) < 1e-9 * x->tick ? 0.0 : v);
    }
    for (int i = 0; i < 1000; i++) {
        double v = y0 + i * y->tick;
        if (v > y->hi + 1e-9 * y->tick)
            break;
        double py = axis_px(y, v);
        svg_printf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#333\"/>\n", b->left - 5, py, b->left, py);
        svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
                   b->left - 8, py + 4.5, y->decimals, fabs(v) < 1e-9 * y->tick ? 0.0 : v);
    }
    svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\">",
               (b->left + b->right) / 2, b->bottom + 45);
    svg_escape(s, xlabel);
    svg_printf(s, "</text>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" "
               "text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">",
               b->left - 58, (b->top + b->bottom) / 2, b->left - 58,
               (b->top + b->bottom) / 2);
    svg_escape(s, ylabel);
    svg_printf(s, "</text>\n</g>\n");
}

/* ---- the loss chart ------------------------------------------------------ */

#define TRAIN_COLOR "#1f77b4"
#define VAL_COLOR "#d62728"

static void draw_series(Svg *s, const char *cls, const char *color,
                        const double *xs, const double *ys, size_t n,
                        const Axis *x, const Axis *y)
{
    svg_printf(s, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" "
               "stroke-width=\"2\" stroke-linejoin=\"round\" points=\"", cls, color);
    for (size_t i = 0; i < n; i++)
        svg_printf(s, "%s%.1f,%.1f", i ? " " : "", axis_px(x, xs[i]), axis_px(y, ys[i]));
    svg_printf(s, "\"/>\n<g fill=\"%s\">\n", color);
    double r = n > 100 ? 1.5 : 3.0;
    for (size_t i = 0; i < n; i++)
        svg_printf(s, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>\n",
                   cls, axis_px(x, xs[i]), axis_px(y, ys[i]), r);
    svg_printf(s, "</g>\n");
}

int plot_loss_svg(char **svg, size_t *len, const Metrics *m, const char *title,
                  Error *err)
{
    const int W = 860, H = 580;
    Box b = {90, 55, W - 30, H - 75};
    double xmax = 1, ylo = 0, yhi = 1;
    if (m->n > 0) {
        ylo = yhi = m->train[0];
        for (size_t i = 0; i < m->n; i++) {
            xmax = fmax(xmax, m->step[i]);
            ylo = fmin(ylo, fmin(m->train[i], m->val[i]));
            yhi = fmax(yhi, fmax(m->train[i], m->val[i]));
        }
    }
    Axis x, y;
    axis_init(&x, 0, xmax, 8, 1, b.left, b.right);
    axis_init(&y, ylo, yhi, 7, 1, b.bottom, b.top);
    Svg s = {0};
    doc_begin(&s, W, H, title);
    draw_axes(&s, &b, &x, &y, "step", "loss (nats per character)");
    if (m->n == 0) {
        svg_printf(&s, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"15\" fill=\"#666\" "
                   "text-anchor=\"middle\">no evaluation logged yet</text>\n",
                   (b.left + b.right) / 2, (b.top + b.bottom) / 2);
        svg_printf(&s, "</svg>\n");
        return svg_finish(&s, svg, len, err);
    }
    draw_series(&s, "train", TRAIN_COLOR, m->step, m->train, m->n, &x, &y);
    draw_series(&s, "val", VAL_COLOR, m->step, m->val, m->n, &x, &y);
    size_t best = 0;
    for (size_t i = 1; i < m->n; i++)
        if (m->val[i] < m->val[best])
            best = i;
    /* The legend, in the top right corner of the plot area. */
    double lx = b.right - 290, ly = b.top + 12;
    svg_printf(&s, "<g class=\"legend\" font-size=\"13\">\n"
               "<rect x=\"%.1f\" y=\"%.1f\" width=\"278\" height=\"54\" fill=\"white\" "
               "fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n", lx, ly);
    svg_printf(&s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2\"/>\n<text x=\"%.1f\" y=\"%.1f\">train loss (last %.4f)</text>\n",
               lx + 10, ly + 18, lx + 40, ly + 18, TRAIN_COLOR, lx + 48, ly + 22.5,
               m->train[m->n - 1]);
    svg_printf(&s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2\"/>\n<text x=\"%.1f\" y=\"%.1f\">val loss (best %.4f at "
               "step %.0f)</text>\n</g>\n",
               lx + 10, ly + 38, lx + 40, ly + 38, VAL_COLOR, lx + 48, ly + 42.5,
               m->val[best], m->step[best]);
    svg_printf(&s, "</svg>\n");
    return svg_finish(&s, svg, len, err);
}

/* ---- the learning-rate finder chart ------------------------------------- */

#define RAW_COLOR "#9ecae1"

int plot_lr_find_svg(char **svg, size_t *len, const double *lr,
                     const double *loss, const double *smoothed, size_t n,
                     double suggested, const char *title, Error *err)
{
    const int W = 860, H = 580;
    Box b = {90, 55, W - 30, H - 75};
    if (n == 0)
        return err_set(err, "lr-find chart: no steps to draw");
    /* x: log10 of the learning rate, ticks on whole decades. y: up to the
     * highest smoothed loss (batch losses above it are clipped, so one wild
     * batch does not flatten the curve). */
    double *lx = mem_calloc(n, sizeof *lx, "lr-find chart", err);
    double *rawy = mem_calloc(n, sizeof *rawy, "lr-find chart", err);
    if (!lx || !rawy) {
        free(lx);
        free(rawy);
        return -1;
    }
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!(lr[i] > 0) || !isfinite(loss[i]) || !isfinite(smoothed[i])) {
            free(lx);
            free(rawy);
            return err_set(err, "lr-find chart: step %zu has a non-positive "
                           "learning rate or a non-finite loss", i);
        }
        lx[i] = log10(lr[i]);
        xlo = fmin(xlo, lx[i]);
        xhi = fmax(xhi, lx[i]);
        ylo = fmin(ylo, fmin(smoothed[i], loss[i]));
        yhi = fmax(yhi, smoothed[i]);
    }
    for (size_t i = 0; i < n; i++)
        rawy[i] = fmin(loss[i], yhi);
    Axis x, y;
    x.lo = floor(xlo + 1e-9);
    x.hi = fmax(ceil(xhi - 1e-9), x.lo + 1);
    x.tick = x.hi - x.lo > 10 ? 2 : 1;
    x.p0 = b.left;
    x.p1 = b.right;
    x.decimals = 0;
    x.log10 = 1;
    axis_init(&y, ylo, yhi, 7, 1, b.bottom, b.top);
    Svg s = {0};
    doc_begin(&s, W, H, title);
    draw_axes(&s, &b, &x, &y, "learning rate (log scale)", "loss (nats per character)");
    svg_printf(&s, "<polyline class=\"loss\" fill=\"none\" stroke=\"%s\" "
               "stroke-width=\"1\" points=\"", RAW_COLOR);
    for (size_t i = 0; i < n; i++)
        svg_printf(&s, "%s%.1f,%.1f", i ? " " : "", axis_px(&x, lx[i]), axis_px(&y, rawy[i]));
    svg_printf(&s, "\"/>\n<polyline class=\"smoothed\" fill=\"none\" stroke=\"%s\" "
               "stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"", TRAIN_COLOR);
    for (size_t i = 0; i < n; i++)
        svg_printf(&s, "%s%.1f,%.1f", i ? " " : "", axis_px(&x, lx[i]),
                   axis_px(&y, smoothed[i]));
    svg_printf(&s, "\"/>\n");
    if (suggested > 0 && isfinite(suggested)) {
        double px = axis_px(&x, log10(suggested));
        svg_printf(&s, "<line class=\"suggested\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                   "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" "
                   "stroke-dasharray=\"6 4\"/>\n", px, b.top, px, b.bottom, VAL_COLOR);
    }
    /* The legend, in the top left corner (the curve rises on the right). */
    double gx = b.left + 12, gy = b.top + 12;
    svg_printf(&s, "<g class=\"legend\" font-size=\"13\">\n"
               "<rect x=\"%.1f\" y=\"%.1f\" width=\"290\" height=\"74\" fill=\"white\" "
               "fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n", gx, gy);
    svg_printf(&s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"1\"/>\n<text x=\"%.1f\" y=\"%.1f\">batch loss</text>\n",
               gx + 10, gy + 18, gx + 40, gy + 18, RAW_COLOR, gx + 48, gy + 22.5);
    svg_printf(&s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2.5\"/>\n<text x=\"%.1f\" y=\"%.1f\">smoothed loss</text>\n",
               gx + 10, gy + 38, gx + 40, gy + 38, TRAIN_COLOR, gx + 48, gy + 42.5);
    svg_printf(&s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n<text x=\"%.1f\" "
               "y=\"%.1f\">suggested learning rate %.2g</text>\n</g>\n",
               gx + 10, gy + 58, gx + 40, gy + 58, VAL_COLOR, gx + 48, gy + 62.5, suggested);
    svg_printf(&s, "</svg>\n");
    free(lx);
    free(rawy);
    return svg_finish(&s, svg, len, err);
}

/* ---- the scatter chart --------------------------------------------------- */

static const char *const KIND_COLOR[3] = {"#1f4e9c", "#d62728", "#2ca02c"};
static const char *const KIND_NAME[3] = {"other", "vowel", "boundary / special"};

int plot_scatter_svg(char **svg, size_t *len, const double *xy,
                     const char *const *labels, const PlotKind *kinds, int n,
                     const char *title, const char *xlabel, const char *ylabel,
                     Error *err)
{
    const int W = 860, H = 620;
    Box b = {90, 55, W - 30, H - 75};
    double xlo = 0, xhi = 0, ylo = 0, yhi = 0;
    for (int i = 0; i < n; i++) {
        double px = xy[2 * i], py = xy[2 * i + 1];
        if (!isfinite(px) || !isfinite(py))
            return err_set(err, "point %d of the scatter plot is not finite", i);
        xlo = i ? fmin(xlo, px) : px;
        xhi = i ? fmax(xhi, px) : px;
        ylo = i ? fmin(ylo, py) : py;
        yhi = i ? fmax(yhi, py) : py;
    }
    /* The same pixels per unit on both axes: fit the larger span, then widen
     * the other range around its centre to the same scale. Labels stick out
     * to the right and above their point, hence the margin. */
    double xspan = fmax(xhi - xlo, 1e-9), yspan = fmax(yhi - ylo, 1e-9);
    double aw = b.right - b.left, ah = b.bottom - b.top;
    double scale = fmin((aw - 60) / xspan, (ah - 60) / yspan);
    double xc = (xlo + xhi) / 2, yc = (ylo + yhi) / 2;
    Axis x, y;
    axis_init(&x, xc - aw / 2 / scale, xc + aw / 2 / scale, 8, 0, b.left, b.right);
    axis_init(&y, yc - ah / 2 / scale, yc + ah / 2 / scale, 7, 0, b.bottom, b.top);
    Svg s = {0};
    doc_begin(&s, W, H, title);
    draw_axes(&s, &b, &x, &y, xlabel, ylabel);
    svg_printf(&s, "<g class=\"points\" font-size=\"16\">\n");
    int used[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        int k = kinds ? (int)kinds[i] : 0;
        if (k < 0 || k > 2)
            k = 0;
        used[k] = 1;
        double px = axis_px(&x, xy[2 * i]), py = axis_px(&y, xy[2 * i + 1]);
        svg_printf(&s, "<g class=\"point\" fill=\"%s\"><title>", KIND_COLOR[k]);
        svg_escape(&s, labels[i]);
        svg_printf(&s, "</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\">", px, py, px + 5, py - 5);
        svg_escape(&s, labels[i]);
        svg_printf(&s, "</text></g>\n");
    }
    svg_printf(&s, "</g>\n");
    int n_used = used[0] + used[1] + used[2];
    if (kinds && n_used > 1) {
        double lx = b.left + 10, ly = b.top + 10;
        svg_printf(&s, "<g class=\"legend\" font-size=\"13\">\n<rect x=\"%.1f\" "
                   "y=\"%.1f\" width=\"170\" height=\"%d\" fill=\"white\" "
                   "fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n", lx, ly, 8 + 20 * n_used);
        int row = 0;
        for (int k = 0; k < 3; k++) {
            if (!used[k])
                continue;
            double ry = ly + 18 + 20 * row++;
            svg_printf(&s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", lx + 14, ry - 4,
                       KIND_COLOR[k], lx + 26, ry, KIND_NAME[k]);
        }
        svg_printf(&s, "</g>\n");
    }
    svg_printf(&s, "</svg>\n");
    return svg_finish(&s, svg, len, err);
}
