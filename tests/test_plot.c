/* test_plot.c - Check suite for plot/: XML escaping, metrics.csv parsing,
 * that both charts are well-formed XML (checked by a small XML checker
 * written here) holding one point per row or per label, and PCA against
 * matrices whose principal directions and variances are known by
 * construction. tests/e2e.sh parses the SVGs of a real run with Python's
 * xml.etree as an independent check. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/rng.h"
#include "../model/optim.h"
#include "../plot/pca.h"
#include "../plot/plot.h"
#include "../plot/svg.h"

/* ---- a small XML well-formedness checker ----------------------------------
 * Enough of XML 1.0 for what we write: a prolog, comments, elements with
 * quoted attributes (no duplicates), character data with the five entities
 * and numeric references, one root element, properly nested tags. Returns 0,
 * or -1 with the reason and byte offset in why. */

static int is_name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static int is_name_char(int c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int entity_len(const char *p)
{
    static const char *const names[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strncmp(p, names[i], strlen(names[i])) == 0)
            return (int)strlen(names[i]);
    if (p[1] == '#') {
        int i = 2, hex = p[2] == 'x';
        i += hex;
        int start = i;
        while ((p[i] >= '0' && p[i] <= '9') ||
               (hex && ((p[i] >= 'a' && p[i] <= 'f') || (p[i] >= 'A' && p[i] <= 'F'))))
            i++;
        if (i > start && p[i] == ';')
            return i + 1;
    }
    return 0;
}

static int xml_check(const char *doc, char *why, size_t why_size)
{
    const char *p = doc;
    char stack[64][32];
    int depth = 0, roots = 0;
#define BAD(msg)                                                              \
    do {                                                                      \
        snprintf(why, why_size, "%s at byte %ld", msg, (long)(p - doc));      \
        return -1;                                                            \
    } while (0)
    if (strncmp(p, "<?xml", 5) == 0) {
        const char *e = strstr(p, "?>");
        if (!e)
            BAD("unterminated prolog");
        p = e + 2;
    }
    while (*p) {
        if (*p != '<') {
            if (*p == '&') {
                int n = entity_len(p);
                if (!n)
                    BAD("bad entity");
                p += n;
                continue;
            }
            if (depth == 0 && *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
                BAD("text outside the root element");
            if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
                BAD("control character");
            p++;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p + 4, "-->");
            if (!e)
                BAD("unterminated comment");
            p = e + 3;
            continue;
        }
        int closing = p[1] == '/';
        p += 1 + closing;
        if (!is_name_start((unsigned char)*p))
            BAD("bad tag name");
        char name[32];
        size_t n = 0;
        while (is_name_char((unsigned char)*p) && n < sizeof name - 1)
            name[n++] = *p++;
        name[n] = '\0';
        if (closing) {
            while (*p == ' ')
                p++;
            if (*p != '>')
                BAD("bad closing tag");
            if (depth == 0 || strcmp(stack[depth - 1], name) != 0)
                BAD("mismatched closing tag");
            depth--;
            p++;
            continue;
        }
        char attrs[32][32];
        int n_attrs = 0;
        for (;;) {
            int space = 0;
            while (*p == ' ' || *p == '\n' || *p == '\t') {
                p++;
                space = 1;
            }
            if (*p == '>' || (p[0] == '/' && p[1] == '>'))
                break;
            if (!space || !is_name_start((unsigned char)*p))
                BAD("bad attribute");
            char an[32];
            size_t k = 0;
            while (is_name_char((unsigned char)*p) && k < sizeof an - 1)
                an[k++] = *p++;
            an[k] = '\0';
            for (int i = 0; i < n_attrs; i++)
                if (strcmp(attrs[i], an) == 0)
                    BAD("duplicate attribute");
            if (n_attrs < 32)
                strcpy(attrs[n_attrs++], an);
            if (*p++ != '=')
                BAD("attribute without =");
            char q = *p++;
            if (q != '"' && q != '\'')
                BAD("unquoted attribute");
            while (*p && *p != q) {
                if (*p == '<')
                    BAD("< in an attribute value");
                if (*p == '&') {
                    int m = entity_len(p);
                    if (!m)
                        BAD("bad entity in an attribute");
                    p += m;
                } else {
                    p++;
                }
            }
            if (*p++ != q)
                BAD("unterminated attribute");
        }
        int self = *p == '/';
        p += self ? 2 : 1;
        if (depth == 0 && ++roots > 1)
            BAD("a second root element");
        if (!self) {
            if (depth == 64)
                BAD("too deep");
            strcpy(stack[depth++], name);
        }
    }
    if (depth != 0)
        BAD("unclosed element");
    if (roots != 1)
        BAD("no root element");
#undef BAD
    return 0;
}

static void assert_well_formed(const char *svg)
{
    char why[128];
    ck_assert_msg(xml_check(svg, why, sizeof why) == 0, "not well-formed: %s", why);
}

static int count(const char *hay, const char *needle)
{
    int c = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        c++;
    return c;
}

/* Number of x,y pairs in the points attribute of <polyline class="cls">. */
static int polyline_points(const char *svg, const char *cls)
{
    char key[64];
    snprintf(key, sizeof key, "<polyline class=\"%s\"", cls);
    const char *p = strstr(svg, key);
    if (!p)
        return -1;
    p = strstr(p, "points=\"");
    ck_assert_ptr_nonnull(p);
    p += 8;
    int n = 0;
    for (; *p && *p != '"'; p++)
        n += *p == ',';
    return n;
}

/* ---- the checker itself must be able to say no --------------------------- */

START_TEST(test_checker_rejects)
{
    const char *bad[] = {
        "<svg><g></svg>", "<svg>a < b</svg>", "<svg>&nope;</svg>",
        "<svg a=\"1\" a=\"2\"/>", "<svg a=1/>", "<svg/><svg/>", "text<svg/>",
        "<svg><g></g>", "<svg x=\"<\"/>",
    };
    char why[128];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(xml_check(bad[i], why, sizeof why) != 0, "accepted %s", bad[i]);
    ck_assert_int_eq(xml_check("<?xml version=\"1.0\"?>\n<svg a='1'><g b=\"&amp;&#39;\">"
                               "x &lt; y</g><!-- c --></svg>\n", why, sizeof why), 0);
}
END_TEST

/* ---- escaping ------------------------------------------------------------- */

START_TEST(test_escape)
{
    Svg s = {0};
    /* 0x01 is not an XML character, 0xFF not UTF-8, U+FFFF not a character;
     * é and 😀 pass through. */
    svg_escape(&s, "a<b>&\"'\x01\xFF\xEF\xBF\xBF \xC3\xA9\xF0\x9F\x98\x80");
    char *out;
    size_t len;
    Error err;
    ck_assert_int_eq(svg_finish(&s, &out, &len, &err), 0);
    const char *want = "a&lt;b&gt;&amp;&quot;&#39;\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                       " \xC3\xA9\xF0\x9F\x98\x80";
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(len, strlen(want));
    free(out);
    /* A truncated sequence, an overlong one, a surrogate and a code point
     * above U+10FFFF become one U+FFFD each. */
    Svg t = {0};
    svg_escape(&t, "\xC3|\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80");
    ck_assert_int_eq(svg_finish(&t, &out, &len, &err), 0);
    ck_assert_int_eq(count(out, "\xEF\xBF\xBD"), 4);
    ck_assert_int_eq(count(out, "|"), 3);
    free(out);
}
END_TEST

/* ---- metrics.csv ---------------------------------------------------------- */

START_TEST(test_metrics_parse)
{
    const char *csv = "step,time,train_loss,val_loss,lr\n"
                      "500,1.5,2.5,2.6,0.003\n"
                      "1000,3.0,2.25,2.375,0.002\r\n"
                      "\n"
                      "1500,4.5,2.0,2.125,1e-4\n";
    Metrics m = {0};
    Error err;
    ck_assert_int_eq(plot_metrics_parse(&m, csv, strlen(csv), "m.csv", &err), 0);
    ck_assert_uint_eq(m.n, 3);
    ck_assert_double_eq(m.step[2], 1500);
    ck_assert_double_eq(m.train[1], 2.25);
    ck_assert_double_eq(m.val[1], 2.375);
    plot_metrics_free(&m);

    /* Columns found by name, in any order; a header alone is zero rows. */
    const char *swapped = "val_loss,step,train_loss\n1.5,7,1.25\n";
    ck_assert_int_eq(plot_metrics_parse(&m, swapped, strlen(swapped), "m", &err), 0);
    ck_assert_uint_eq(m.n, 1);
    ck_assert_double_eq(m.step[0], 7);
    ck_assert_double_eq(m.val[0], 1.5);
    ck_assert_double_eq(m.train[0], 1.25);
    plot_metrics_free(&m);
    const char *header = "step,time,train_loss,val_loss,lr\n";
    ck_assert_int_eq(plot_metrics_parse(&m, header, strlen(header), "m", &err), 0);
    ck_assert_uint_eq(m.n, 0);
    plot_metrics_free(&m);

    /* Errors name the file and the line. */
    const char *bad = "step,time,train_loss,val_loss,lr\n1,0,2,2,0\n2,0,x,2,0\n";
    ck_assert_int_eq(plot_metrics_parse(&m, bad, strlen(bad), "run/metrics.csv", &err), -1);
    ck_assert_msg(strstr(err.msg, "run/metrics.csv: line 3"), "%s", err.msg);
    const char *nan = "step,train_loss,val_loss\n1,nan,2\n";
    ck_assert_int_eq(plot_metrics_parse(&m, nan, strlen(nan), "m", &err), -1);
    const char *short_row = "step,train_loss,val_loss\n1,2\n";
    ck_assert_int_eq(plot_metrics_parse(&m, short_row, strlen(short_row), "m", &err), -1);
    const char *noheader = "1,2,3\n";
    ck_assert_int_eq(plot_metrics_parse(&m, noheader, strlen(noheader), "m", &err), -1);
    ck_assert_int_eq(plot_metrics_parse(&m, "", 0, "m", &err), -1);
}
END_TEST

/* ---- the loss chart ------------------------------------------------------- */

START_TEST(test_loss_svg)
{
    enum { N = 37 };
    double step[N], train[N], val[N];
    for (int i = 0; i < N; i++) {
        step[i] = 500.0 * (i + 1);
        train[i] = 2.0 + exp(-0.1 * i);
        val[i] = 2.05 + exp(-0.1 * i);
    }
    Metrics m = {N, step, train, val};
    char *svg;
    size_t len;
    Error err;
    /* A title with markup in it must come out escaped. */
    ck_assert_int_eq(plot_loss_svg(&svg, &len, &m, "runs/<a&b>", &err), 0);
    ck_assert_uint_eq(strlen(svg), len);
    assert_well_formed(svg);
    ck_assert_int_eq(polyline_points(svg, "train"), N);
    ck_assert_int_eq(polyline_points(svg, "val"), N);
    ck_assert_int_eq(count(svg, "<circle class=\"train\""), N);
    ck_assert_int_eq(count(svg, "<circle class=\"val\""), N);
    ck_assert_ptr_nonnull(strstr(svg, "runs/&lt;a&amp;b&gt;"));
    /* Axis labels, a legend naming the best val loss (the last one here). */
    ck_assert_ptr_nonnull(strstr(svg, ">step</text>"));
    ck_assert_ptr_nonnull(strstr(svg, "loss (nats per character)"));
    char best[64];
    snprintf(best, sizeof best, "best %.4f at step %.0f", val[N - 1], step[N - 1]);
    ck_assert_msg(strstr(svg, best) != NULL, "legend lacks '%s'", best);
    free(svg);

    /* One row, all values equal: a degenerate range still draws. */
    Metrics one = {1, step, train, train};
    ck_assert_int_eq(plot_loss_svg(&svg, &len, &one, "one", &err), 0);
    assert_well_formed(svg);
    ck_assert_int_eq(polyline_points(svg, "val"), 1);
    ck_assert_ptr_null(strstr(svg, "nan"));
    ck_assert_ptr_null(strstr(svg, "inf"));
    free(svg);

    /* No rows yet: empty axes and a note, still valid XML. */
    Metrics none = {0};
    ck_assert_int_eq(plot_loss_svg(&svg, &len, &none, "none", &err), 0);
    assert_well_formed(svg);
    ck_assert_int_eq(polyline_points(svg, "train"), -1);
    ck_assert_ptr_nonnull(strstr(svg, "no evaluation"));
    free(svg);
}
END_TEST

/* ---- the scatter chart ---------------------------------------------------- */

START_TEST(test_scatter_svg)
{
    enum { N = 6 };
    const double xy[2 * N] = {0, 0, 1, 0.5, -1, 2, 3, -1, 0.5, 0.25, -2, -2};
    const char *labels[N] = {"<b>", "a", "&", "\"", "\xC3\xA9", "\xE2\x90\xA3"};
    const PlotKind kinds[N] = {PLOT_SPECIAL, PLOT_VOWEL, PLOT_OTHER, PLOT_OTHER,
                               PLOT_VOWEL, PLOT_SPECIAL};
    char *svg;
    size_t len;
    Error err;
    ck_assert_int_eq(plot_scatter_svg(&svg, &len, xy, labels, kinds, N, "emb",
                                      "PC1", "PC2", &err), 0);
    assert_well_formed(svg);
    ck_assert_int_eq(count(svg, "<g class=\"point\""), N);
    ck_assert_int_eq(count(svg, "</title><circle cx="), N);
    ck_assert_ptr_nonnull(strstr(svg, ">&lt;b&gt;</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">&amp;</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">&quot;</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">\xC3\xA9</text>"));
    ck_assert_ptr_nonnull(strstr(svg, "vowel"));
    free(svg);

    /* All points in one place, and a single point, still draw. */
    const double same[4] = {1, 1, 1, 1};
    ck_assert_int_eq(plot_scatter_svg(&svg, &len, same, labels, NULL, 2, "t", "x",
                                      "y", &err), 0);
    assert_well_formed(svg);
    ck_assert_int_eq(count(svg, "<g class=\"point\""), 2);
    ck_assert_ptr_null(strstr(svg, "nan"));
    free(svg);
    const double bad[2] = {NAN, 0};
    ck_assert_int_eq(plot_scatter_svg(&svg, &len, bad, labels, NULL, 1, "t", "x",
                                      "y", &err), -1);
}
END_TEST

/* ---- PCA ------------------------------------------------------------------ */

/* Points +-3 u1 and +-1 u2 in 4-D, with u1 = (1,2,3,0)/sqrt(14) and
 * u2 = (3,0,-1,1)/sqrt(11) orthogonal unit vectors. The mean is 0 and
 *   C = (1/4)(2 * 9 u1 u1^T + 2 * 1 u2 u2^T) = 4.5 u1 u1^T + 0.5 u2 u2^T,
 * so the principal directions are u1 then u2 (each with its largest
 * component positive, as the sign convention wants), the variances 4.5 and
 * 0.5, the total 5, and +3 u1 projects to (3, 0). */
START_TEST(test_pca_known)
{
    double u1[4] = {1, 2, 3, 0}, u2[4] = {3, 0, -1, 1};
    for (int i = 0; i < 4; i++) {
        u1[i] /= sqrt(14.0);
        u2[i] /= sqrt(11.0);
    }
    /* Shifted by an offset, which centring must remove. */
    const double off[4] = {10, -5, 0.5, 2};
    float x[4 * 4];
    const double coef[4][2] = {{3, 0}, {-3, 0}, {0, 1}, {0, -1}};
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 4; j++)
            x[r * 4 + j] = (float)(off[j] + coef[r][0] * u1[j] + coef[r][1] * u2[j]);
    double proj[4 * 2], dirs[2 * 4], var[2], total;
    Error err;
    ck_assert_int_eq(pca(proj, dirs, var, &total, x, 4, 4, 2, &err), 0);
    /* The inputs are floats, so agreement is to float precision. */
    for (int j = 0; j < 4; j++) {
        ck_assert_double_eq_tol(dirs[j], u1[j], 1e-5);
        ck_assert_double_eq_tol(dirs[4 + j], u2[j], 1e-5);
    }
    ck_assert_double_eq_tol(var[0], 4.5, 1e-5);
    ck_assert_double_eq_tol(var[1], 0.5, 1e-5);
    ck_assert_double_eq_tol(total, 5.0, 1e-5);
    for (int r = 0; r < 4; r++) {
        ck_assert_double_eq_tol(proj[r * 2], coef[r][0], 1e-5);
        ck_assert_double_eq_tol(proj[r * 2 + 1], coef[r][1], 1e-5);
    }
}
END_TEST

/* Random data: the directions are orthonormal eigenvectors of the covariance
 * computed here (C v = lambda v), the first eigenvalue is no smaller than
 * the second, and no random direction has more variance than the first. */
START_TEST(test_pca_random)
{
    enum { N = 27, D = 5 };
    Rng rng;
    rng_seed(&rng, 7);
    float x[N * D];
    for (int r = 0; r < N; r++)
        for (int j = 0; j < D; j++)
            x[r * D + j] = (float)(rng_normal(&rng) * (1.0 + j));
    double proj[N * 2], dirs[2 * D], var[2], total;
    Error err;
    ck_assert_int_eq(pca(proj, dirs, var, &total, x, N, D, 2, &err), 0);
    double mean[D] = {0}, c[D][D] = {{0}};
    for (int r = 0; r < N; r++)
        for (int j = 0; j < D; j++)
            mean[j] += x[r * D + j] / (double)N;
    for (int r = 0; r < N; r++)
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                c[i][j] += (x[r * D + i] - mean[i]) * (x[r * D + j] - mean[j]) / N;
    double trace = 0;
    for (int i = 0; i < D; i++)
        trace += c[i][i];
    ck_assert_double_eq_tol(total, trace, 1e-9 * trace);
    for (int k = 0; k < 2; k++) {
        const double *v = dirs + k * D;
        double nrm = 0;
        for (int i = 0; i < D; i++) {
            double cv = 0;
            for (int j = 0; j < D; j++)
                cv += c[i][j] * v[j];
            ck_assert_double_eq_tol(cv, var[k] * v[i], 1e-7 * trace);
            nrm += v[i] * v[i];
        }
        ck_assert_double_eq_tol(nrm, 1.0, 1e-12);
    }
    double dot = 0;
    for (int i = 0; i < D; i++)
        dot += dirs[i] * dirs[D + i];
    ck_assert_double_eq_tol(dot, 0.0, 1e-9);
    ck_assert(var[0] >= var[1] && var[1] > 0);
    for (int t = 0; t < 200; t++) {
        double u[D], nu = 0, q = 0;
        for (int i = 0; i < D; i++) {
            u[i] = rng_normal(&rng);
            nu += u[i] * u[i];
        }
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                q += u[i] * c[i][j] * u[j] / nu;
        ck_assert(q <= var[0] * (1 + 1e-9));
    }
    /* The projections are the centred rows dotted with the directions. */
    for (int r = 0; r < N; r++) {
        double p0 = 0;
        for (int j = 0; j < D; j++)
            p0 += (x[r * D + j] - mean[j]) * dirs[j];
        ck_assert_double_eq_tol(proj[r * 2], p0, 1e-9);
    }
}
END_TEST

/* Points on one line: one direction holds all the variance; the second
 * coordinate of every projection is (to rounding) zero. One point, or d = 1,
 * are fine too; bad sizes are refused. */
START_TEST(test_pca_degenerate)
{
    float x[5 * 3];
    for (int r = 0; r < 5; r++)
        for (int j = 0; j < 3; j++)
            x[r * 3 + j] = (float)((r - 2) * (j + 1));
    double proj[5 * 2], var[2], total;
    Error err;
    ck_assert_int_eq(pca(proj, NULL, var, &total, x, 5, 3, 2, &err), 0);
    ck_assert_double_eq_tol(var[0], total, 1e-9 * total);
    ck_assert_double_eq_tol(var[1], 0.0, 1e-9 * total);
    for (int r = 0; r < 5; r++)
        ck_assert_double_eq_tol(proj[r * 2 + 1], 0.0, 1e-6);
    ck_assert_double_eq_tol(fabs(proj[0]), 2 * sqrt(14.0), 1e-5);
    double p1[1];
    ck_assert_int_eq(pca(p1, NULL, var, &total, x, 1, 3, 1, &err), 0);
    ck_assert_double_eq(p1[0], 0.0);
    ck_assert_int_eq(pca(proj, NULL, NULL, NULL, x, 5, 1, 1, &err), 0);
    ck_assert_int_eq(pca(proj, NULL, NULL, NULL, x, 5, 1, 2, &err), -1);
    ck_assert_int_eq(pca(proj, NULL, NULL, NULL, x, 0, 3, 1, &err), -1);
}
END_TEST

/* ---- the learning-rate finder: range, smoothing, suggestion, chart -------- */

START_TEST(test_lr_find)
{
    /* lr(i) = start (end/start)^(i/(n-1)): the ends exactly, the middle at
     * the geometric mean. */
    ck_assert_double_eq_tol(optim_lr_range(1e-5, 1, 0, 5), 1e-5, 1e-18);
    ck_assert_double_eq_tol(optim_lr_range(1e-5, 1, 4, 5), 1, 1e-12);
    ck_assert_double_eq_tol(optim_lr_range(1e-4, 1, 2, 5), 1e-2, 1e-14);
    /* Bias correction: a constant loss smooths to itself from step 0. */
    double avg = 0;
    for (uint64_t i = 0; i < 5; i++)
        ck_assert_double_eq_tol(optim_lr_smooth(&avg, 0.98, 2.5, i), 2.5, 1e-12);
    enum { N = 7 };
    double lr[N], loss[N], sm[N] = {3.0, 2.9, 2.5, 2.2, 2.4, 3.5, 9.0};
    for (int i = 0; i < N; i++) {
        lr[i] = optim_lr_range(1e-5, 1, (uint64_t)i, N);
        loss[i] = sm[i] + (i % 2 ? 0.1 : -0.1);
    }
    ck_assert_double_eq_tol(optim_lr_suggest(lr, sm, N), lr[3] / 10, 1e-15);
    char *svg;
    size_t len;
    Error err;
    ck_assert_int_eq(plot_lr_find_svg(&svg, &len, lr, loss, sm, N, lr[3] / 10,
                                      "lr <find>", &err), 0);
    assert_well_formed(svg);
    ck_assert_int_eq(polyline_points(svg, "loss"), N);
    ck_assert_int_eq(polyline_points(svg, "smoothed"), N);
    ck_assert_int_eq(count(svg, "class=\"suggested\""), 1);
    /* Decade ticks from 1e-5 to 1e0 on the log axis. */
    ck_assert_ptr_nonnull(strstr(svg, ">1e-5</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">1e0</text>"));
    ck_assert_ptr_nonnull(strstr(svg, "lr &lt;find&gt;"));
    free(svg);
    lr[2] = 0;
    ck_assert_int_eq(plot_lr_find_svg(&svg, &len, lr, loss, sm, N, 0, "t", &err), -1);
}
END_TEST

static Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("svg");
    tcase_add_test(tc, test_checker_rejects);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_metrics_parse);
    tcase_add_test(tc, test_loss_svg);
    tcase_add_test(tc, test_scatter_svg);
    tcase_add_test(tc, test_lr_find);
    suite_add_tcase(s, tc);
    tc = tcase_create("pca");
    tcase_add_test(tc, test_pca_known);
    tcase_add_test(tc, test_pca_random);
    tcase_add_test(tc, test_pca_degenerate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plot_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
