/* pca.c - PCA by power iteration with deflation, in double. Power iteration
 * (v <- C v / |C v|) converges to the eigenvector of the largest eigenvalue
 * at the rate lambda_2 / lambda_1; subtracting lambda v v^T from C (deflation)
 * then exposes the next one. Cost O(d^2) per iteration, fine for d <= 4096. */
#include "pca.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/rng.h"

#define PCA_MAX_ITERS 5000
#define PCA_TOL 1e-12

/* y = C v for the symmetric (d, d) matrix C. */
static void matvec(double *y, const double *c, const double *v, int d)
{
    for (int i = 0; i < d; i++) {
        double s = 0.0;
        for (int j = 0; j < d; j++)
            s += c[(size_t)i * d + j] * v[j];
        y[i] = s;
    }
}

static double norm(const double *v, int d)
{
    double s = 0.0;
    for (int i = 0; i < d; i++)
        s += v[i] * v[i];
    return sqrt(s);
}

/* Removes from v its components along the first m rows of dirs (unit,
 * orthogonal), then scales v to unit length; leaves v zero if nothing is left. */
static void orthonormalize(double *v, const double *dirs, int m, int d)
{
    for (int p = 0; p < m; p++) {
        const double *u = dirs + (size_t)p * d;
        double dot = 0.0;
        for (int i = 0; i < d; i++)
            dot += u[i] * v[i];
        for (int i = 0; i < d; i++)
            v[i] -= dot * u[i];
    }
    double nv = norm(v, d);
    if (nv > 0)
        for (int i = 0; i < d; i++)
            v[i] /= nv;
}

int pca(double *proj, double *dirs, double *var, double *total_var,
        const float *x, int n, int d, int k, Error *err)
{
    if (n < 1 || d < 1 || k < 1 || k > d)
        return err_set(err, "pca: bad sizes n %d, d %d, k %d", n, d, k);
    double *mean = mem_calloc((size_t)d, sizeof *mean, "PCA", err);
    double *c = mem_calloc((size_t)d * d, sizeof *c, "PCA covariance", err);
    double *v = mem_calloc((size_t)d, sizeof *v, "PCA", err);
    double *w = mem_calloc((size_t)d, sizeof *w, "PCA", err);
    double *dir = mem_calloc((size_t)k * d, sizeof *dir, "PCA", err);
    if (!mean || !c || !v || !w || !dir) {
        free(mean);
        free(c);
        free(v);
        free(w);
        free(dir);
        return -1;
    }
    for (int r = 0; r < n; r++)
        for (int j = 0; j < d; j++)
            mean[j] += x[(size_t)r * d + j];
    for (int j = 0; j < d; j++)
        mean[j] /= n;
    /* C = (1/n) sum_r (x_r - mean)(x_r - mean)^T, upper triangle mirrored. */
    for (int r = 0; r < n; r++) {
        const float *row = x + (size_t)r * d;
        for (int i = 0; i < d; i++) {
            double xi = row[i] - mean[i];
            for (int j = i; j < d; j++)
                c[(size_t)i * d + j] += xi * (row[j] - mean[j]);
        }
    }
    double trace = 0.0;
    for (int i = 0; i < d; i++) {
        for (int j = i; j < d; j++) {
            c[(size_t)i * d + j] /= n;
            c[(size_t)j * d + i] = c[(size_t)i * d + j];
        }
        trace += c[(size_t)i * d + i];
    }
    if (total_var)
        *total_var = trace;

    /* A fixed pseudo-random start: the same picture every time, and almost
     * surely not orthogonal to the eigenvector sought. */
    Rng rng;
    rng_seed(&rng, 12345);
    for (int comp = 0; comp < k; comp++) {
        for (int i = 0; i < d; i++)
            v[i] = rng_normal(&rng);
        orthonormalize(v, dir, comp, d);
        for (int it = 0; it < PCA_MAX_ITERS; it++) {
            matvec(w, c, v, d);
            /* Rounding leaves a trace of the directions already found in the
             * deflated C; keeping w orthogonal to them keeps the directions
             * orthogonal even when the rest of C is (nearly) zero. */
            orthonormalize(w, dir, comp, d);
            double nw = norm(w, d);
            /* C v = 0: v lies in the null space, eigenvalue 0; keep it. */
            if (!(nw > 0.5))
                break;
            double change = 0.0;
            for (int i = 0; i < d; i++)
                change += (w[i] - v[i]) * (w[i] - v[i]);
            memcpy(v, w, (size_t)d * sizeof *v);
            if (change < PCA_TOL * PCA_TOL)
                break;
        }
        /* Sign convention: the largest-magnitude component is positive. */
        int big = 0;
        for (int i = 1; i < d; i++)
            if (fabs(v[i]) > fabs(v[big]))
                big = i;
        if (v[big] < 0)
            for (int i = 0; i < d; i++)
                v[i] = -v[i];
        /* The Rayleigh quotient v^T C v is the eigenvalue (to rounding). */
        matvec(w, c, v, d);
        double lambda = 0.0;
        for (int i = 0; i < d; i++)
            lambda += v[i] * w[i];
        memcpy(dir + (size_t)comp * d, v, (size_t)d * sizeof *v);
        if (var)
            var[comp] = lambda;
        /* Deflation: C <- C - lambda v v^T removes this direction. */
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                c[(size_t)i * d + j] -= lambda * v[i] * v[j];
    }
    for (int r = 0; r < n; r++)
        for (int comp = 0; comp < k; comp++) {
            double s = 0.0;
            for (int j = 0; j < d; j++)
                s += (x[(size_t)r * d + j] - mean[j]) * dir[(size_t)comp * d + j];
            proj[(size_t)r * k + comp] = s;
        }
    if (dirs)
        memcpy(dirs, dir, (size_t)k * d * sizeof *dir);
    free(mean);
    free(c);
    free(v);
    free(w);
    free(dir);
    return 0;
}
