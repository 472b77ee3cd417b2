/* test_sampler.c - Check suite for sample/sampler: temperature 0 (argmax),
 * the softmax at several temperatures against a reference computed here,
 * top-k and top-p cut-offs (ties to the lower id), and draws that are
 * deterministic for a seed and follow the distribution. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/rng.h"
#include "../sample/sampler.h"

#define COUNT(a) (sizeof(a) / sizeof *(a))

static void init(Sampler *s, double temperature, int top_k, double top_p, int vocab)
{
    SamplerConfig cfg = {.temperature = temperature, .top_k = top_k, .top_p = top_p};
    Error err = {{0}};
    ck_assert_msg(sampler_init(s, &cfg, vocab, &err) == 0, "%s", err.msg);
}

/* Expected distribution: softmax(logits / T) restricted to the ids in keep
 * (all if keep is NULL) and renormalized, computed directly:
 *   p_j = exp(l_j / T) / sum_{k kept} exp(l_k / T). */
static void reference(double *p, const float *logits, int v, double T,
                      const int *keep, int n_keep)
{
    int kept[64] = {0};
    for (int j = 0; j < v; j++)
        kept[j] = keep == NULL;
    for (int i = 0; i < n_keep; i++)
        kept[keep[i]] = 1;
    double sum = 0.0;
    for (int j = 0; j < v; j++) {
        p[j] = kept[j] ? exp((double)logits[j] / T) : 0.0;
        sum += p[j];
    }
    for (int j = 0; j < v; j++)
        p[j] /= sum;
}

static void assert_dist(const Sampler *s, const double *expect, double tol,
                        const char *what)
{
    double sum = 0.0;
    for (int j = 0; j < s->vocab; j++) {
        ck_assert_msg(fabs(s->probs[j] - expect[j]) <= tol,
                      "%s: p[%d] = %.12g, expected %.12g", what, j, s->probs[j],
                      expect[j]);
        if (expect[j] == 0.0)
            ck_assert_msg(s->probs[j] == 0.0, "%s: p[%d] should be exactly 0", what, j);
        sum += s->probs[j];
    }
    ck_assert_double_eq_tol(sum, 1.0, 1e-12);
}

/* Logits whose order is 2 > 4 > 0 > 3 > 1. At T = 1 the probabilities are
 * e^l / sum = 0.4963, 0.3010, 0.1108, 0.0672, 0.0247 in that order. */
static const float L5[5] = {0.5f, -1.0f, 2.0f, 0.0f, 1.5f};

START_TEST(test_temperature_zero)
{
    Sampler s;
    init(&s, 0.0, 0, 1.0, 5);
    sampler_distribution(&s, L5);
    const double onehot2[5] = {0, 0, 1, 0, 0};
    assert_dist(&s, onehot2, 0.0, "T=0");
    sampler_free(&s);
    /* Ties: the first largest wins. */
    const float tie[4] = {1.0f, 3.0f, 2.0f, 3.0f};
    init(&s, 0.0, 0, 1.0, 4);
    sampler_distribution(&s, tie);
    const double onehot1[4] = {0, 1, 0, 0};
    assert_dist(&s, onehot1, 0.0, "T=0 tie");
    Rng rng;
    rng_seed(&rng, 1);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(sampler_pick(&s, tie, &rng), 1);
    sampler_free(&s);
}
END_TEST

START_TEST(test_softmax_temperatures)
{
    const double temps[] = {1.0, 0.7, 2.0, 0.05};
    for (size_t t = 0; t < COUNT(temps); t++) {
        Sampler s;
        init(&s, temps[t], 0, 1.0, 5);
        sampler_distribution(&s, L5);
        double expect[5];
        reference(expect, L5, 5, temps[t], NULL, 0);
        assert_dist(&s, expect, 1e-12, "softmax");
        sampler_free(&s);
    }
    /* The T = 1 values by hand (e^0.5, e^-1, e^2, 1, e^1.5 over their sum
     * 14.887). */
    Sampler s;
    init(&s, 1.0, 0, 1.0, 5);
    sampler_distribution(&s, L5);
    ck_assert_double_eq_tol(s.probs[2], 0.49634, 1e-5);
    ck_assert_double_eq_tol(s.probs[1], 0.024712, 1e-5);
    sampler_free(&s);
    /* Huge logits stay finite: p0 = 1 / (1 + e^-1) = 0.7310585786. */
    const float big[3] = {1000.0f, 999.0f, -1000.0f};
    init(&s, 1.0, 0, 1.0, 3);
    sampler_distribution(&s, big);
    ck_assert_double_eq_tol(s.probs[0], 0.7310585786, 1e-9);
    ck_assert_double_eq_tol(s.probs[1], 1.0 - 0.7310585786, 1e-9);
    ck_assert(s.probs[2] >= 0.0 && s.probs[2] < 1e-300);
    sampler_free(&s);
}
END_TEST

START_TEST(test_top_k)
{
    Sampler s;
    /* k = 1: only the argmax. */
    init(&s, 1.0, 1, 1.0, 5);
    sampler_distribution(&s, L5);
    const double onehot2[5] = {0, 0, 1, 0, 0};
    assert_dist(&s, onehot2, 1e-15, "top-k 1");
    sampler_free(&s);
    /* k = 2 at T = 0.7: ids 2 and 4, renormalized. */
    init(&s, 0.7, 2, 1.0, 5);
    sampler_distribution(&s, L5);
    double expect[5];
    reference(expect, L5, 5, 0.7, (const int[]){2, 4}, 2);
    assert_dist(&s, expect, 1e-12, "top-k 2");
    sampler_free(&s);
    /* k = 3: ids 2, 4, 0. */
    init(&s, 1.0, 3, 1.0, 5);
    sampler_distribution(&s, L5);
    reference(expect, L5, 5, 1.0, (const int[]){2, 4, 0}, 3);
    assert_dist(&s, expect, 1e-12, "top-k 3");
    sampler_free(&s);
    /* k >= V and k = 0 change nothing. */
    const int ks[] = {5, 6, 100, 0};
    reference(expect, L5, 5, 1.0, NULL, 0);
    for (size_t i = 0; i < COUNT(ks); i++) {
        init(&s, 1.0, ks[i], 1.0, 5);
        sampler_distribution(&s, L5);
        assert_dist(&s, expect, 1e-12, "top-k >= V");
        sampler_free(&s);
    }
}
END_TEST

START_TEST(test_top_p)
{
    Sampler s;
    double expect[5];
    /* Tiny p: only the most likely id. */
    init(&s, 1.0, 0, 1e-9, 5);
    sampler_distribution(&s, L5);
    reference(expect, L5, 5, 1.0, (const int[]){2}, 1);
    assert_dist(&s, expect, 1e-15, "top-p tiny");
    sampler_free(&s);
    /* p = 1: unchanged. */
    init(&s, 1.0, 0, 1.0, 5);
    sampler_distribution(&s, L5);
    reference(expect, L5, 5, 1.0, NULL, 0);
    assert_dist(&s, expect, 1e-12, "top-p 1");
    sampler_free(&s);
    /* p = 0.7: 0.4963 < 0.7 <= 0.4963 + 0.3010, so ids 2 and 4. */
    init(&s, 1.0, 0, 0.7, 5);
    sampler_distribution(&s, L5);
    reference(expect, L5, 5, 1.0, (const int[]){2, 4}, 2);
    assert_dist(&s, expect, 1e-12, "top-p 0.7");
    sampler_free(&s);
    /* p = 0.85: 0.7974 < 0.85 <= 0.9081, so ids 2, 4 and 0. */
    init(&s, 1.0, 0, 0.85, 5);
    sampler_distribution(&s, L5);
    reference(expect, L5, 5, 1.0, (const int[]){2, 4, 0}, 3);
    assert_dist(&s, expect, 1e-12, "top-p 0.85");
    sampler_free(&s);

    /* Top-k then top-p: probabilities 0.4, 0.3, 0.2, 0.1 (logits ln p).
     * k = 3 leaves mass 0.9; p = 0.7 needs 0.63 of it: 0.4 < 0.63 <= 0.7,
     * so ids 0 and 1 remain, as 4/7 and 3/7. */
    const float lp[4] = {logf(0.4f), logf(0.3f), logf(0.2f), logf(0.1f)};
    init(&s, 1.0, 3, 0.7, 4);
    sampler_distribution(&s, lp);
    const double e47[4] = {4.0 / 7.0, 3.0 / 7.0, 0.0, 0.0};
    assert_dist(&s, e47, 1e-6, "top-k 3 + top-p 0.7");
    sampler_free(&s);
}
END_TEST

START_TEST(test_ties_at_cutoff)
{
    Sampler s;
    /* Two equal maxima, top-k 1: the lower id (1, not 2). */
    const float a[4] = {1.0f, 2.0f, 2.0f, 0.0f};
    init(&s, 1.0, 1, 1.0, 4);
    sampler_distribution(&s, a);
    const double ea[4] = {0, 1, 0, 0};
    assert_dist(&s, ea, 1e-15, "tie top-k 1");
    sampler_free(&s);
    /* Three equal runners-up, top-k 2: ids 0 and 1. */
    const float b[4] = {2.0f, 1.0f, 1.0f, 1.0f};
    init(&s, 1.0, 2, 1.0, 4);
    sampler_distribution(&s, b);
    double eb[4];
    reference(eb, b, 4, 1.0, (const int[]){0, 1}, 2);
    assert_dist(&s, eb, 1e-12, "tie top-k 2");
    sampler_free(&s);
    /* Uniform over 4, top-p 0.5: 0.25 + 0.25 reaches 0.5 with ids 0, 1. */
    const float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    init(&s, 1.0, 0, 0.5, 4);
    sampler_distribution(&s, c);
    const double ec[4] = {0.5, 0.5, 0, 0};
    assert_dist(&s, ec, 1e-15, "tie top-p 0.5");
    sampler_free(&s);
    /* Equal maxima at ids 1 and 3, tiny top-p: id 1. */
    const float d[4] = {0.0f, 1.0f, 0.0f, 1.0f};
    init(&s, 1.0, 0, 1e-6, 4);
    sampler_distribution(&s, d);
    const double ed[4] = {0, 1, 0, 0};
    assert_dist(&s, ed, 1e-15, "tie top-p tiny");
    sampler_free(&s);
}
END_TEST

START_TEST(test_pick)
{
    const float lp[4] = {logf(0.4f), logf(0.3f), logf(0.2f), logf(0.1f)};
    Sampler s;
    init(&s, 1.0, 0, 1.0, 4);
    /* The same seed gives the same choices. */
    Rng r1, r2;
    rng_seed(&r1, 99);
    rng_seed(&r2, 99);
    int32_t seq[200];
    int differs = 0;
    for (int i = 0; i < 200; i++) {
        seq[i] = sampler_pick(&s, lp, &r1);
        ck_assert_int_eq(sampler_pick(&s, lp, &r2), seq[i]);
        differs += i > 0 && seq[i] != seq[0];
    }
    ck_assert_int_gt(differs, 0);
    /* Frequencies follow 0.4, 0.3, 0.2, 0.1: with N = 200000 the sd of a
     * frequency is at most sqrt(0.25 / N) = 0.0011; allow 6 sd. */
    enum { N = 200000 };
    long count[4] = {0};
    Rng rng;
    rng_seed(&rng, 7);
    for (int i = 0; i < N; i++) {
        int32_t id = sampler_pick(&s, lp, &rng);
        ck_assert(id >= 0 && id < 4);
        count[id]++;
    }
    const double p[4] = {0.4, 0.3, 0.2, 0.1};
    for (int j = 0; j < 4; j++)
        ck_assert_msg(fabs((double)count[j] / N - p[j]) < 0.0066,
                      "id %d drawn with frequency %.4f, expected %.1f", j,
                      (double)count[j] / N, p[j]);
    sampler_free(&s);

    /* With top-k 2 the cut ids are never drawn; 4/7 and 3/7 for the rest. */
    init(&s, 1.0, 2, 1.0, 4);
    memset(count, 0, sizeof count);
    for (int i = 0; i < N; i++)
        count[sampler_pick(&s, lp, &rng)]++;
    ck_assert_int_eq(count[2], 0);
    ck_assert_int_eq(count[3], 0);
    ck_assert_double_eq_tol((double)count[0] / N, 4.0 / 7.0, 0.0066);
    sampler_free(&s);
}
END_TEST

static Suite *sampler_suite(void)
{
    Suite *s = suite_create("sampler");
    TCase *tc = tcase_create("sampler");
    tcase_add_test(tc, test_temperature_zero);
    tcase_add_test(tc, test_softmax_temperatures);
    tcase_add_test(tc, test_top_k);
    tcase_add_test(tc, test_top_p);
    tcase_add_test(tc, test_ties_at_cutoff);
    tcase_add_test(tc, test_pick);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sampler_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
