/* fastmath.h - e^x and tanh in float, written so that the compiler can
 * vectorize the loops that call them (libm's expf and tanhf are a function
 * call per element). Shared by the layers (layers.c) and the first layer's
 * table, which applies tanh as it sums each row (table.c). */
#ifndef TINYCHAR_FASTMATH_H
#define TINYCHAR_FASTMATH_H

#include <math.h>
#include <stdint.h>

/* e^z for z in [-87, 20], in float, written so the compiler can vectorize
 * it (libm's expf is a function call per element): Cephes' expf, relative
 * error about 1e-7. z = n ln2 + r with |r| <= ln2/2, exp(r) by a degree-6
 * polynomial, times 2^n built in the exponent bits (2^-126 .. 2^29 over
 * that range, all normal floats). */
static inline float exp_fast(float z)
{
    /* n = round(z / ln 2), by the add-and-subtract-2^23 trick. */
    float n = (z * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    /* r = z - n ln2, with ln2 split in two parts so r is exact enough. */
    float r = (z - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r +
                  8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
                1.6666665459e-1f) * r + 5.0000001201e-1f) * (r * r) + r + 1.0f;
    union { int32_t i; float f; } two_n = {.i = ((int32_t)n + 127) << 23};
    return p * two_n.f;
}

/* tanh in float, written so the compiler can vectorize it (libm's tanhf is a
 * function call per element and was a quarter of the training time). The
 * method and coefficients are those of Cephes' tanhf, relative error about
 * 1e-7 (tests/test_model.c checks it against double-precision tanh):
 *   |x| < 0.625:  tanh x = x + x^3 P(x^2), an odd minimax polynomial
 *   otherwise:    tanh x = sign(x) (1 - 2 / (exp(2|x|) + 1))
 * 2|x| is capped at 20, where tanh is 1 to float precision. Both branches
 * are computed and one selected, which keeps the loop free of branches. */
static inline float tanh_fast(float x)
{
    float ax = fabsf(x);
    float s = x * x;
    float small = ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s -
                     5.37397155531e-2f) * s + 1.33314422036e-1f) * s -
                   3.33332819422e-1f) * s * x + x;
    float e = exp_fast(2.0f * ax < 20.0f ? 2.0f * ax : 20.0f);
    float big = copysignf(1.0f - 2.0f / (e + 1.0f), x);
    /* Written so that NaN (for which every comparison is false) takes the
     * polynomial branch and stays NaN, rather than becoming +-1. */
    return ax >= 0.625f ? big : small;
}

#endif
