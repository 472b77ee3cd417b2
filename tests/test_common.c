/* test_common.c - Check suite for common/: CRC-32 against its published check
 * value and its bitwise definition, the RNG against reference outputs and
 * basic statistics, overflow-checked sizes, strict flag parsing, and the file
 * helpers on a temporary directory. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/crc32.h"
#include "../common/error.h"
#include "../common/fileio.h"
#include "../common/flags.h"
#include "../common/mem.h"
#include "../common/rng.h"

/* ---- crc32 --------------------------------------------------------------- */

/* The CRC-32 definition, one bit at a time: reflected polynomial 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF. No table, so it checks the table. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

START_TEST(test_crc32_check_value)
{
    /* The published check value of CRC-32/ISO-HDLC (zlib, PNG). */
    ck_assert_uint_eq(crc32_update(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(crc32_update(0, "", 0), 0u);
    /* Fed in pieces, the CRC continues: "1234" then "56789". */
    uint32_t c = crc32_update(0, "1234", 4);
    ck_assert_uint_eq(crc32_update(c, "56789", 5), 0xCBF43926u);
}
END_TEST

START_TEST(test_crc32_table_matches_definition)
{
    /* A one-byte message b starts from crc = 0xFFFFFFFF, so it reads table
     * entry 0xFF ^ b: the 256 one-byte messages use every table entry once. */
    for (int b = 0; b < 256; b++) {
        unsigned char byte = (unsigned char)b;
        ck_assert_msg(crc32_update(0, &byte, 1) == crc32_bitwise(&byte, 1),
                      "crc32 of byte 0x%02X differs from the bitwise definition", b);
    }
    /* A longer message mixes every entry with a running state. */
    unsigned char buf[1000];
    Rng rng;
    rng_seed(&rng, 7);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)rng_u64(&rng);
    ck_assert_uint_eq(crc32_update(0, buf, sizeof buf),
                      crc32_bitwise(buf, sizeof buf));
}
END_TEST

/* ---- rng ----------------------------------------------------------------- */

START_TEST(test_rng_reference_values)
{
    /* splitmix64 from seed 0 gives the published first outputs
     * 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F,
     * 0xF88BB8A8724C81EC; they are the xoshiro state. The next three numbers
     * are xoshiro256** outputs from that state, computed once in Python by a
     * transcription of the reference C code (prng.di.unimi.it):
     *   result = rotl(s1 * 5, 7) * 9; t = s1 << 17; s2 ^= s0; s3 ^= s1;
     *   s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)   (all mod 2^64). */
    Rng rng;
    rng_seed(&rng, 0);
    ck_assert_uint_eq(rng.s[0], 0xE220A8397B1DCDAFull);
    ck_assert_uint_eq(rng.s[1], 0x6E789E6AA1B965F4ull);
    ck_assert_uint_eq(rng.s[2], 0x06C45D188009454Full);
    ck_assert_uint_eq(rng.s[3], 0xF88BB8A8724C81ECull);
    ck_assert_uint_eq(rng_u64(&rng), 0x99EC5F36CB75F2B4ull);
    ck_assert_uint_eq(rng_u64(&rng), 0xBF6E1F784956452Aull);
    ck_assert_uint_eq(rng_u64(&rng), 0x1A5F849D4933E6E0ull);
    rng_seed(&rng, 42);
    ck_assert_uint_eq(rng_u64(&rng), 0x15780B2E0C2EC716ull);
    ck_assert_uint_eq(rng_u64(&rng), 0x6104D9866D113A7Eull);
}
END_TEST

START_TEST(test_rng_determinism)
{
    Rng a, b, c;
    rng_seed(&a, 12345);
    rng_seed(&b, 12345);
    rng_seed(&c, 12346);
    int differs = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_u64(&a), y = rng_u64(&b), z = rng_u64(&c);
        ck_assert_uint_eq(x, y);
        differs += x != z;
    }
    /* A neighbouring seed gives an unrelated stream. */
    ck_assert_int_gt(differs, 990);

    /* Seed 0 gives a usable, non-zero state and a varying stream (an all-zero
     * xoshiro state would output 0 forever). */
    Rng z;
    rng_seed(&z, 0);
    ck_assert(z.s[0] | z.s[1] | z.s[2] | z.s[3]);
    uint64_t first = rng_u64(&z);
    int changed = 0;
    for (int i = 0; i < 100; i++)
        changed += rng_u64(&z) != first;
    ck_assert_int_eq(changed, 100);
}
END_TEST

START_TEST(test_rng_below_bounds)
{
    Rng rng;
    rng_seed(&rng, 1);
    const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, (1ull << 63) + 1, UINT64_MAX};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++)
        for (int i = 0; i < 2000; i++) {
            uint64_t x = rng_below(&rng, ns[k]);
            ck_assert_msg(x < ns[k], "rng_below(%llu) gave %llu",
                          (unsigned long long)ns[k], (unsigned long long)x);
        }
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(rng_below(&rng, 1), 0);
    /* Uniform over {0, 1, 2}: each count is Binomial(30000, 1/3), mean 10000,
     * sd sqrt(30000 * 1/3 * 2/3) = 81.6; allow 6 sd. */
    long count[3] = {0};
    for (int i = 0; i < 30000; i++)
        count[rng_below(&rng, 3)]++;
    for (int v = 0; v < 3; v++)
        ck_assert_msg(labs(count[v] - 10000) < 490, "value %d drawn %ld times", v,
                      count[v]);
}
END_TEST

START_TEST(test_rng_uniform_range_and_mean)
{
    Rng rng;
    rng_seed(&rng, 2);
    const int n = 200000;
    double sum = 0.0, lo = 1.0, hi = 0.0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&rng);
        ck_assert(u >= 0.0 && u < 1.0);
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    /* Mean 1/2, sd of the mean sqrt(1/12 / n) = 0.00065; allow 6 sd. */
    ck_assert_double_eq_tol(sum / n, 0.5, 0.004);
    /* The draws cover the interval. */
    ck_assert_double_lt(lo, 0.001);
    ck_assert_double_gt(hi, 0.999);
}
END_TEST

START_TEST(test_rng_normal_moments)
{
    Rng rng;
    rng_seed(&rng, 3);
    const int n = 200000;
    double sum = 0.0, sum2 = 0.0;
    long within1 = 0;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(&rng);
        ck_assert(isfinite(x));
        sum += x;
        sum2 += x * x;
        within1 += fabs(x) < 1.0;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    /* sd of the mean 1/sqrt(n) = 0.0022, of the variance sqrt(2/n) = 0.0032,
     * of the fraction in (-1, 1) (0.6827) sqrt(0.68*0.32/n) = 0.001; 6 sd. */
    ck_assert_double_eq_tol(mean, 0.0, 0.014);
    ck_assert_double_eq_tol(var, 1.0, 0.02);
    ck_assert_double_eq_tol((double)within1 / n, 0.682689, 0.006);
}
END_TEST

/* ---- mem ----------------------------------------------------------------- */

START_TEST(test_mem_overflow)
{
    Error err = {{0}};
    size_t out = 123;
    ck_assert_int_eq(mem_mul(&out, 6, 7, "x", &err), 0);
    ck_assert_uint_eq(out, 42);
    ck_assert_int_eq(mem_mul(&out, 0, SIZE_MAX, "x", &err), 0);
    ck_assert_uint_eq(out, 0);
    ck_assert_int_eq(mem_mul(&out, SIZE_MAX, 1, "x", &err), 0);
    ck_assert_uint_eq(out, SIZE_MAX);
    ck_assert_int_eq(mem_mul(&out, SIZE_MAX / 3, 3, "x", &err), 0);
    ck_assert_uint_eq(out, SIZE_MAX / 3 * 3);

    ck_assert_int_eq(mem_mul(&out, SIZE_MAX / 2 + 1, 2, "the widget", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "the widget"));
    ck_assert_int_eq(mem_mul(&out, (size_t)1 << (sizeof(size_t) * 4),
                             (size_t)1 << (sizeof(size_t) * 4), "x", &err), -1);
    ck_assert_int_eq(mem_mul(&out, 3, SIZE_MAX / 3 + 1, "x", &err), -1);

    ck_assert_int_eq(mem_add(&out, SIZE_MAX - 1, 1, "x", &err), 0);
    ck_assert_uint_eq(out, SIZE_MAX);
    ck_assert_int_eq(mem_add(&out, SIZE_MAX, 1, "the sum", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "the sum"));
    ck_assert_int_eq(mem_add(&out, 1, SIZE_MAX, "x", &err), -1);

    /* mem_calloc refuses an overflowing product instead of a small buffer. */
    ck_assert_ptr_null(mem_calloc(SIZE_MAX / 2 + 1, 2, "huge", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "huge"));
    void *p = mem_calloc(0, 4, "empty", &err);
    ck_assert_ptr_nonnull(p);
    free(p);
    unsigned char *q = mem_calloc(5, 3, "zeroed", &err);
    ck_assert_ptr_nonnull(q);
    for (int i = 0; i < 15; i++)
        ck_assert_uint_eq(q[i], 0);
    free(q);
}
END_TEST

START_TEST(test_mem_aligned)
{
    Error err = {{0}};
    /* 64-byte aligned, zeroed, for sizes that are not multiples of 64. */
    for (size_t n = 0; n < 40; n += 13) {
        float *a = mem_calloc_aligned(n, sizeof(float), "aligned", &err);
        ck_assert_ptr_nonnull(a);
        ck_assert_uint_eq((uintptr_t)a % 64, 0);
        for (size_t i = 0; i < n; i++)
            ck_assert(a[i] == 0.0f);
        free(a);
    }
    ck_assert_ptr_null(mem_calloc_aligned(SIZE_MAX / 2 + 1, 2, "huge", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "huge"));

    /* k arrays in one block at (skew + i) KiB within a page, zeroed, not
     * overlapping: fill each with its own value and read them all back.
     * Sizes below, at and just past a page. */
    const size_t sizes[] = {1, 1000, 1024, 1025, 5000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        for (int skew = 0; skew <= 2; skew++) {
            float *arr[2] = {NULL, NULL};
            void *block = mem_float_arrays(arr, 2, n, skew, "arrays", &err);
            ck_assert_ptr_nonnull(block);
            for (int i = 0; i < 2; i++) {
                ck_assert_uint_eq((uintptr_t)arr[i] % 4096,
                                  (uintptr_t)(skew + i) * 1024);
                for (size_t j = 0; j < n; j++)
                    ck_assert(arr[i][j] == 0.0f);
            }
            for (size_t j = 0; j < n; j++) {
                arr[0][j] = 1.0f;
                arr[1][j] = 2.0f;
            }
            for (size_t j = 0; j < n; j++)
                ck_assert(arr[0][j] == 1.0f && arr[1][j] == 2.0f);
            free(block);
        }
    }
    float *one[1];
    ck_assert_ptr_null(mem_float_arrays(one, 1, SIZE_MAX / 2, 0, "moments", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "moments"));
}
END_TEST

/* ---- flags --------------------------------------------------------------- */

START_TEST(test_flag_long)
{
    Error err = {{0}};
    long v = 0;
    ck_assert_int_eq(flag_long("--n", "42", 0, 100, &v, &err), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(flag_long("--n", "-7", -10, 10, &v, &err), 0);
    ck_assert_int_eq(v, -7);
    ck_assert_int_eq(flag_long("--n", "0", 0, 0, &v, &err), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(flag_long("--n", "100", 0, 100, &v, &err), 0);
    ck_assert_int_eq(v, 100);

    const char *bad[] = {"", "12x", " 5", "5 ", "1e30", "x", "-", "1.5",
                         "101", "-1", "99999999999999999999999",
                         "-99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 555;
        err.msg[0] = '\0';
        ck_assert_msg(flag_long("--steps", bad[i], 0, 100, &v, &err) == -1,
                      "flag_long accepted '%s'", bad[i]);
        ck_assert_int_eq(v, 555); /* no clamped value is written */
        ck_assert_msg(strstr(err.msg, "--steps") != NULL,
                      "message for '%s' does not name the flag: %s", bad[i], err.msg);
    }
    /* The out-of-range message gives the accepted range. */
    flag_long("--steps", "101", 0, 100, &v, &err);
    ck_assert_ptr_nonnull(strstr(err.msg, "0 to 100"));
}
END_TEST

START_TEST(test_flag_double)
{
    Error err = {{0}};
    double v = 0;
    ck_assert_int_eq(flag_double("--lr", "0.5", 0, 1, &v, &err), 0);
    ck_assert_double_eq(v, 0.5);
    ck_assert_int_eq(flag_double("--lr", "1e-3", 0, 1, &v, &err), 0);
    ck_assert_double_eq(v, 0.001);
    ck_assert_int_eq(flag_double("--lr", "-2.25", -3, 3, &v, &err), 0);
    ck_assert_double_eq(v, -2.25);
    ck_assert_int_eq(flag_double("--lr", "1", 0, 1, &v, &err), 0);
    ck_assert_double_eq(v, 1.0);

    /* Range wide enough that only non-numbers and non-finite values fail. */
    const char *bad_any[] = {"", "12x", " 5", "5 ", "x", "nan", "NaN", "-nan",
                             "inf", "-inf", "infinity", "1e999", "-1e999"};
    for (size_t i = 0; i < sizeof bad_any / sizeof *bad_any; i++) {
        v = 555;
        ck_assert_msg(flag_double("--lr", bad_any[i], -1e300, 1e300, &v, &err) == -1,
                      "flag_double accepted '%s'", bad_any[i]);
        ck_assert_double_eq(v, 555);
        ck_assert_ptr_nonnull(strstr(err.msg, "--lr"));
    }
    const char *bad_range[] = {"1e30", "1.0001", "-0.5", "2"};
    for (size_t i = 0; i < sizeof bad_range / sizeof *bad_range; i++) {
        ck_assert_msg(flag_double("--lr", bad_range[i], 0, 1, &v, &err) == -1,
                      "flag_double accepted '%s' outside [0, 1]", bad_range[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
    }
}
END_TEST

START_TEST(test_flag_u64)
{
    Error err = {{0}};
    uint64_t v = 0;
    ck_assert_int_eq(flag_u64("--seed", "0", &v, &err), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(flag_u64("--seed", "1234", &v, &err), 0);
    ck_assert_uint_eq(v, 1234);
    ck_assert_int_eq(flag_u64("--seed", "18446744073709551615", &v, &err), 0);
    ck_assert_uint_eq(v, UINT64_MAX);

    const char *bad[] = {"", "12x", " 5", "5 ", "1e30", "-1", "+1", "x",
                         "18446744073709551616", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 555;
        ck_assert_msg(flag_u64("--seed", bad[i], &v, &err) == -1,
                      "flag_u64 accepted '%s'", bad[i]);
        ck_assert_uint_eq(v, 555);
        ck_assert_ptr_nonnull(strstr(err.msg, "--seed"));
    }
}
END_TEST

/* ---- fileio -------------------------------------------------------------- */

static char tmpdir[256];

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/tinychar-test-XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_plain(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_file_read)
{
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/a.bin", tmpdir);
    /* Binary content with an embedded NUL. */
    const unsigned char content[] = {'h', 'i', 0, 0xFF, '\n', 'x'};
    write_plain(path, content, sizeof content);
    unsigned char *data = NULL;
    size_t len = 99;
    Error err = {{0}};
    ck_assert_int_eq(file_read(path, &data, &len, &err), 0);
    ck_assert_uint_eq(len, sizeof content);
    ck_assert_mem_eq(data, content, sizeof content);
    ck_assert_uint_eq(data[len], 0); /* the promised extra NUL */
    free(data);

    /* An empty file reads as zero bytes. */
    char empty[512];
    snprintf(empty, sizeof empty, "%s/empty", tmpdir);
    write_plain(empty, "", 0);
    ck_assert_int_eq(file_read(empty, &data, &len, &err), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(data[0], 0);
    free(data);

    /* A directory is refused, by name. */
    ck_assert_int_eq(file_read(tmpdir, &data, &len, &err), -1);
    ck_assert_ptr_null(data);
    ck_assert_ptr_nonnull(strstr(err.msg, "directory"));
    ck_assert_ptr_nonnull(strstr(err.msg, tmpdir));

    /* A missing file is an error naming the path. */
    char missing[512];
    snprintf(missing, sizeof missing, "%s/no-such-file", tmpdir);
    ck_assert_int_eq(file_read(missing, &data, &len, &err), -1);
    ck_assert_ptr_null(data);
    ck_assert_ptr_nonnull(strstr(err.msg, missing));

    unlink(path);
    unlink(empty);
    ck_assert_int_eq(rmdir(tmpdir), 0);
}
END_TEST

START_TEST(test_file_write_atomic)
{
    make_tmpdir();
    char path[512], tmp[520];
    snprintf(path, sizeof path, "%s/out.ckpt", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    Error err = {{0}};
    unsigned char *data;
    size_t len;

    ck_assert_int_eq(file_write_atomic(path, "a much longer old content", 25, &err), 0);
    ck_assert_int_eq(file_write_atomic(path, "new", 3, &err), 0);
    ck_assert_int_eq(file_read(path, &data, &len, &err), 0);
    /* Replaced, not overwritten in place: no tail of the old content. */
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(data, "new", 3);
    free(data);
    struct stat st;
    ck_assert_int_eq(stat(tmp, &st), -1);
    ck_assert_int_eq(errno, ENOENT);

    /* A path in a missing directory fails and leaves nothing behind. */
    char bad[512];
    snprintf(bad, sizeof bad, "%s/missing-dir/x", tmpdir);
    ck_assert_int_eq(file_write_atomic(bad, "x", 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing-dir"));
    ck_assert_int_eq(stat(bad, &st), -1);

    /* file_mkdirs creates nested directories and accepts existing ones. */
    char nested[512];
    snprintf(nested, sizeof nested, "%s/d1/d2", tmpdir);
    ck_assert_int_eq(file_mkdirs(nested, &err), 0);
    ck_assert_int_eq(file_mkdirs(nested, &err), 0);
    ck_assert_int_eq(stat(nested, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    /* A regular file in the way is an error. */
    ck_assert_int_eq(file_mkdirs(path, &err), -1);

    rmdir(nested);
    snprintf(nested, sizeof nested, "%s/d1", tmpdir);
    rmdir(nested);
    unlink(path);
    ck_assert_int_eq(rmdir(tmpdir), 0);
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("crc32");
    tcase_add_test(tc, test_crc32_check_value);
    tcase_add_test(tc, test_crc32_table_matches_definition);
    suite_add_tcase(s, tc);
    tc = tcase_create("rng");
    tcase_add_test(tc, test_rng_reference_values);
    tcase_add_test(tc, test_rng_determinism);
    tcase_add_test(tc, test_rng_below_bounds);
    tcase_add_test(tc, test_rng_uniform_range_and_mean);
    tcase_add_test(tc, test_rng_normal_moments);
    suite_add_tcase(s, tc);
    tc = tcase_create("mem");
    tcase_add_test(tc, test_mem_overflow);
    tcase_add_test(tc, test_mem_aligned);
    suite_add_tcase(s, tc);
    tc = tcase_create("flags");
    tcase_add_test(tc, test_flag_long);
    tcase_add_test(tc, test_flag_double);
    tcase_add_test(tc, test_flag_u64);
    suite_add_tcase(s, tc);
    tc = tcase_create("fileio");
    tcase_add_test(tc, test_file_read);
    tcase_add_test(tc, test_file_write_atomic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(common_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
