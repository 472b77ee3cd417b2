/* test_gradcheck.c - Check suite for model/gradcheck: the check passes on
 * the real backward pass at several sizes, and it can fail: an analytic
 * gradient off by 5% in one entry, or zeroed, fails that tensor and only
 * that one. The parameters are unchanged after the check. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../model/gradcheck.h"

static void init(GradcheckCase *c, ModelConfig cfg, uint64_t seed)
{
    Error err = {{0}};
    ck_assert_msg(gradcheck_case_init(c, &cfg, seed, &err) == 0, "%s", err.msg);
}

START_TEST(test_backprop_passes)
{
    /* Distinct, non-square sizes; one and three layers; a sampled tensor. */
    const ModelConfig cfgs[] = {
        {.context = 3, .embed = 4, .hidden = 5, .layers = 2, .vocab = 7},
        {.context = 2, .embed = 3, .hidden = 6, .layers = 1, .vocab = 5},
        {.context = 4, .embed = 5, .hidden = 70, .layers = 3, .vocab = 11},
    };
    for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++) {
        GradcheckCase c = {0};
        init(&c, cfgs[k], 1 + k);
        float *before = malloc(c.model.n_params * sizeof *before);
        ck_assert_ptr_nonnull(before);
        memcpy(before, c.model.params, c.model.n_params * sizeof *before);
        GradcheckRow rows[MODEL_MAX_TENSORS];
        int n = gradcheck_case_run(&c, rows);
        ck_assert_int_eq(n, 2 * cfgs[k].layers + 3);
        for (int i = 0; i < n; i++) {
            ck_assert_msg(rows[i].pass, "config %zu, %s: max rel error %g, max grad %g",
                          k, rows[i].name, rows[i].max_rel_err, rows[i].max_grad);
            size_t size = rows[i].rows * rows[i].cols;
            ck_assert_uint_eq(rows[i].checked, size <= GRADCHECK_MAX_ENTRIES
                                                   ? size : GRADCHECK_MAX_ENTRIES);
        }
        ck_assert_str_eq(rows[0].name, "embedding");
        ck_assert_uint_eq(rows[0].rows, (size_t)cfgs[k].vocab);
        ck_assert_uint_eq(rows[0].cols, (size_t)cfgs[k].embed);
        ck_assert(memcmp(before, c.model.params, c.model.n_params * sizeof *before) == 0);
        free(before);
        gradcheck_case_free(&c);
    }
}
END_TEST

/* Tampering with the analytic gradient of one tensor must fail exactly it. */
static void tamper_check(int zero)
{
    const ModelConfig cfg = {.context = 3, .embed = 4, .hidden = 5, .layers = 2, .vocab = 7};
    TensorInfo t[MODEL_MAX_TENSORS];
    int nt = model_tensors(&cfg, t);
    for (int victim = 0; victim < nt; victim++) {
        GradcheckCase c = {0};
        init(&c, cfg, 3);
        float *g = c.analytic + t[victim].offset;
        size_t n = t[victim].rows * t[victim].cols;
        if (zero) {
            memset(g, 0, n * sizeof *g);
        } else {
            /* The entry with the largest gradient, 5% off. */
            size_t big = 0;
            for (size_t j = 1; j < n; j++)
                if (fabsf(g[j]) > fabsf(g[big]))
                    big = j;
            g[big] *= 1.05f;
        }
        GradcheckRow rows[MODEL_MAX_TENSORS];
        gradcheck_case_run(&c, rows);
        for (int i = 0; i < nt; i++)
            ck_assert_msg(rows[i].pass == (i != victim), "%s %s: pass %d (rel %g)",
                          zero ? "zeroed" : "5% off", rows[i].name, rows[i].pass,
                          rows[i].max_rel_err);
        gradcheck_case_free(&c);
    }
}

START_TEST(test_wrong_gradient_fails)
{
    tamper_check(0);
}
END_TEST

START_TEST(test_zero_gradient_fails)
{
    tamper_check(1);
}
END_TEST

START_TEST(test_bad_config)
{
    GradcheckCase c = {0};
    Error err = {{0}};
    ModelConfig one = {.context = 3, .embed = 4, .hidden = 5, .layers = 2, .vocab = 1};
    ck_assert_int_eq(gradcheck_case_init(&c, &one, 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "vocabulary"));
    ModelConfig zero = {.context = 0, .embed = 4, .hidden = 5, .layers = 2, .vocab = 7};
    ck_assert_int_eq(gradcheck_case_init(&c, &zero, 1, &err), -1);
    gradcheck_case_free(&c);
}
END_TEST

int main(void)
{
#ifdef _OPENMP
    /* Thousands of tiny forward passes: one thread avoids a scheduler slice
     * per parallel region on a busy machine. OMP_NUM_THREADS still wins. */
    if (!getenv("OMP_NUM_THREADS"))
        omp_set_num_threads(1);
#endif
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_backprop_passes);
    tcase_add_test(tc, test_wrong_gradient_fails);
    tcase_add_test(tc, test_zero_gradient_fails);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
