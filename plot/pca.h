/* pca.h - principal component analysis of the rows of a small matrix, for
 * drawing an embedding table in 2-D: the directions along which the rows vary
 * most, found by power iteration on the covariance matrix. Meant for tables
 * of at most a few thousand columns; not a general eigensolver. */
#ifndef TINYCHAR_PCA_H
#define TINYCHAR_PCA_H

#include "../common/error.h"

/* Centres the n rows of x (n, d) on their mean and finds the top k principal
 * directions (1 <= k <= d):
 *   C = (1/n) sum_r (x_r - mean)(x_r - mean)^T      (d, d)
 *   dirs (k, d)   unit eigenvectors of C, largest eigenvalue first; each
 *                 one's largest-magnitude component is positive, so the
 *                 result does not depend on the start vector's sign
 *   var (k)       their eigenvalues: the variance along each direction
 *   *total_var    trace(C), the total variance (for "PC1 holds 40%")
 *   proj (n, k)   proj[r][j] = (x_r - mean) . dirs[j]
 * Any output but proj may be NULL. */
int pca(double *proj, double *dirs, double *var, double *total_var,
        const float *x, int n, int d, int k, Error *err);

#endif
