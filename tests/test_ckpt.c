/* test_ckpt.c - Check suite for model/ckpt: a bit-exact encode/decode round
 * trip, the byte layout of a few header fields, and rejection of every
 * truncation, every single-bit flip, bad magic, future versions, forged sizes
 * and non-finite parameters. Each decode reads from a buffer of exactly the
 * given length, so AddressSanitizer catches any read past the end. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/crc32.h"
#include "../model/ckpt.h"
#include "../model/model.h"

/* A small model: T=2, E=3, H=4, L=1, V=5, so
 * n_params = V*E + (T*E*H + H) + V*H + V = 15 + 28 + 20 + 5 = 68, and with
 * AdamW's two moments the file is
 * 240 (header) + 4*5 (vocab) + 4*68*3 (params, m, v) + 4 (CRC) = 1080 bytes. */
enum { NP = 68, FILE_LEN = 1080 };

typedef struct {
    Checkpoint ck;
    int32_t vocab[5];
    float params[NP], m[NP], v[NP];
} Fixture;

static void fixture(Fixture *f)
{
    memset(f, 0, sizeof *f);
    const int32_t vocab[5] = {-1, 'a', 'b', 0xE9, 0x1F600};
    memcpy(f->vocab, vocab, sizeof vocab);
    for (int i = 0; i < NP; i++) {
        f->params[i] = (float)(i - 30) / 7.0f;
        f->m[i] = (float)i * 1e-3f;
        f->v[i] = (float)(i * i) * 1e-6f;
    }
    /* Values whose bits must survive exactly. */
    f->params[0] = -0.0f;
    f->params[1] = FLT_MAX;
    f->params[2] = -FLT_MIN;
    f->params[3] = 1e-45f; /* the smallest subnormal */
    f->params[4] = 0.1f;
    Checkpoint *ck = &f->ck;
    ck->cfg = (ModelConfig){.context = 2, .embed = 3, .hidden = 4, .layers = 1,
                            .vocab = 5};
    ck->opt = (OptimConfig){.kind = OPTIM_ADAMW, .lr = 3e-3, .min_lr = 3e-4,
                            .warmup = 123, .weight_decay = 0.01, .clip = 1.0,
                            .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                            .momentum = 0.0};
    ck->st = (TrainState){.tokenizer = 0, .lines = 1, .normalize = 1,
                          .val_from_file = 0, .batch = 32, .eval_every = 500,
                          .seed = 0x0123456789ABCDEFull, .step = 4567,
                          .steps_total = 10000, .time_budget = 0.0,
                          .elapsed = 12.5, .val_frac = 0.1, .best_val = INFINITY,
                          .last_val = 2.25,
                          .rng = {1, UINT64_MAX, 0x8000000000000000ull, 42}};
    ck->vocab = f->vocab;
    ck->n_params = NP;
    ck->params = f->params;
    ck->n_moments = 2;
    ck->m = f->m;
    ck->v = f->v;
}

static unsigned char *encode(const Checkpoint *ck, size_t *len)
{
    unsigned char *buf = NULL;
    Error err = {{0}};
    ck_assert_msg(ckpt_encode(ck, &buf, len, &err) == 0, "ckpt_encode: %s", err.msg);
    return buf;
}

/* Decodes from a fresh buffer of exactly len bytes (so ASan sees overreads). */
static int decode_exact(Checkpoint *out, const unsigned char *buf, size_t len,
                        Error *err)
{
    unsigned char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len)
        memcpy(copy, buf, len);
    int rc = ckpt_decode(out, copy, len, "x.ckpt", err);
    free(copy);
    return rc;
}

static void put_u32(unsigned char *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Recomputes the trailing CRC-32 so only the deliberate change is wrong. */
static void fix_crc(unsigned char *buf, size_t len)
{
    put_u32(buf + len - 4, crc32_update(0, buf, len - 4));
}

static int same_bits_f64(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

START_TEST(test_round_trip)
{
    Fixture f;
    fixture(&f);
    size_t len;
    unsigned char *buf = encode(&f.ck, &len);
    ck_assert_uint_eq(len, FILE_LEN);
    /* Layout spot checks: magic, version 1 little-endian, context at 12,
     * vocab at 28, the vocabulary right after the 240-byte header, and the
     * CRC-32 of everything before it in the last 4 bytes. */
    ck_assert_mem_eq(buf, "TINYCHAR", 8);
    ck_assert_uint_eq(get_u32(buf + 8), 1);
    ck_assert_uint_eq(get_u32(buf + 12), 2);
    ck_assert_uint_eq(get_u32(buf + 28), 5);
    ck_assert_uint_eq(get_u32(buf + 240), 0xFFFFFFFFu);
    ck_assert_uint_eq(get_u32(buf + 244), 'a');
    ck_assert_uint_eq(get_u32(buf + 256), 0x1F600);
    ck_assert_uint_eq(get_u32(buf + 260), 0x80000000u); /* params[0] = -0.0f */
    ck_assert_uint_eq(get_u32(buf + len - 4), crc32_update(0, buf, len - 4));

    Checkpoint d = {0};
    Error err = {{0}};
    ck_assert_msg(decode_exact(&d, buf, len, &err) == 0, "ckpt_decode: %s", err.msg);
    const Checkpoint *e = &f.ck;
    ck_assert_mem_eq(&d.cfg, &e->cfg, sizeof d.cfg);
    ck_assert_int_eq(d.opt.kind, e->opt.kind);
    ck_assert(same_bits_f64(d.opt.lr, e->opt.lr));
    ck_assert(same_bits_f64(d.opt.min_lr, e->opt.min_lr));
    ck_assert_uint_eq(d.opt.warmup, e->opt.warmup);
    ck_assert(same_bits_f64(d.opt.weight_decay, e->opt.weight_decay));
    ck_assert(same_bits_f64(d.opt.clip, e->opt.clip));
    ck_assert(same_bits_f64(d.opt.beta1, e->opt.beta1));
    ck_assert(same_bits_f64(d.opt.beta2, e->opt.beta2));
    ck_assert(same_bits_f64(d.opt.eps, e->opt.eps));
    ck_assert(same_bits_f64(d.opt.momentum, e->opt.momentum));
    ck_assert_uint_eq(d.st.tokenizer, e->st.tokenizer);
    ck_assert_uint_eq(d.st.lines, e->st.lines);
    ck_assert_uint_eq(d.st.normalize, e->st.normalize);
    ck_assert_uint_eq(d.st.val_from_file, e->st.val_from_file);
    ck_assert_uint_eq(d.st.batch, e->st.batch);
    ck_assert_uint_eq(d.st.eval_every, e->st.eval_every);
    ck_assert_uint_eq(d.st.seed, e->st.seed);
    ck_assert_uint_eq(d.st.step, e->st.step);
    ck_assert_uint_eq(d.st.steps_total, e->st.steps_total);
    ck_assert(same_bits_f64(d.st.time_budget, e->st.time_budget));
    ck_assert(same_bits_f64(d.st.elapsed, e->st.elapsed));
    ck_assert(same_bits_f64(d.st.val_frac, e->st.val_frac));
    ck_assert(same_bits_f64(d.st.best_val, e->st.best_val));
    ck_assert(same_bits_f64(d.st.last_val, e->st.last_val));
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(d.st.rng[i], e->st.rng[i]);
    ck_assert_uint_eq(d.n_params, NP);
    ck_assert_int_eq(d.n_moments, 2);
    ck_assert_mem_eq(d.vocab, f.vocab, sizeof f.vocab);
    ck_assert_mem_eq(d.params, f.params, sizeof f.params);
    ck_assert_mem_eq(d.m, f.m, sizeof f.m);
    ck_assert_mem_eq(d.v, f.v, sizeof f.v);

    /* Re-encoding the decoded checkpoint gives the same bytes. */
    size_t len2;
    unsigned char *buf2 = encode(&d, &len2);
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(buf2, buf, len);
    free(buf2);
    ckpt_free(&d);
    free(buf);

    /* SGD (one moment) and no moments at all. */
    for (int k = 0; k <= 1; k++) {
        fixture(&f);
        f.ck.opt.kind = OPTIM_SGD;
        f.ck.opt.momentum = 0.9;
        f.ck.n_moments = k;
        f.ck.v = NULL;
        if (k == 0)
            f.ck.m = NULL;
        buf = encode(&f.ck, &len);
        ck_assert_uint_eq(len, 240 + 20 + 4 * NP * (1 + (size_t)k) + 4);
        ck_assert_msg(decode_exact(&d, buf, len, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(d.n_moments, k);
        ck_assert_int_eq(d.opt.kind, OPTIM_SGD);
        ck_assert_mem_eq(d.params, f.params, sizeof f.params);
        if (k == 1)
            ck_assert_mem_eq(d.m, f.m, sizeof f.m);
        else
            ck_assert_ptr_null(d.m);
        ck_assert_ptr_null(d.v);
        ckpt_free(&d);
        free(buf);
    }
}
END_TEST

START_TEST(test_every_truncation)
{
    Fixture f;
    fixture(&f);
    size_t len;
    unsigned char *buf = encode(&f.ck, &len);
    for (size_t n = 0; n < len; n++) {
        Checkpoint d = {0};
        Error err = {{0}};
        ck_assert_msg(decode_exact(&d, buf, n, &err) == -1,
                      "a checkpoint cut to %zu of %zu bytes was accepted", n, len);
        ck_assert_msg(err.msg[0] != '\0', "no message for length %zu", n);
        ck_assert_ptr_null(d.params);
    }
    /* Once the header is complete, the message says truncated. */
    Checkpoint d = {0};
    Error err = {{0}};
    ck_assert_int_eq(decode_exact(&d, buf, len - 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
    /* A trailing byte is refused as well. */
    unsigned char *longer = calloc(len + 1, 1);
    memcpy(longer, buf, len);
    ck_assert_int_eq(decode_exact(&d, longer, len + 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "trailing"));
    free(longer);
    free(buf);
}
END_TEST

START_TEST(test_every_bit_flip)
{
    Fixture f;
    fixture(&f);
    size_t len;
    unsigned char *buf = encode(&f.ck, &len);
    /* Flip one bit of every byte (bit i mod 8 of byte i, so all bit positions
     * are used), header, body and CRC alike. */
    for (size_t i = 0; i < len; i++) {
        unsigned char bit = (unsigned char)(1u << (i % 8));
        buf[i] ^= bit;
        Checkpoint d = {0};
        Error err = {{0}};
        ck_assert_msg(decode_exact(&d, buf, len, &err) == -1,
                      "flipping bit %zu of byte %zu was not detected", i % 8, i);
        ck_assert_msg(err.msg[0] != '\0', "no message for byte %zu", i);
        buf[i] ^= bit;
    }
    /* Restored, it decodes again. */
    Checkpoint d = {0};
    Error err = {{0}};
    ck_assert_int_eq(decode_exact(&d, buf, len, &err), 0);
    ckpt_free(&d);
    free(buf);
}
END_TEST

/* Sets the u32 at off, fixes the CRC, and expects decode to fail with a
 * message containing `needle`. */
static void expect_field_error(const unsigned char *orig, size_t len, size_t off,
                               uint32_t value, const char *needle)
{
    unsigned char *buf = malloc(len);
    memcpy(buf, orig, len);
    put_u32(buf + off, value);
    fix_crc(buf, len);
    Checkpoint d = {0};
    Error err = {{0}};
    ck_assert_msg(decode_exact(&d, buf, len, &err) == -1,
                  "value %u at offset %zu accepted", value, off);
    ck_assert_msg(strstr(err.msg, needle) != NULL,
                  "value %u at offset %zu: message lacks '%s': %s", value, off,
                  needle, err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "x.ckpt"));
    free(buf);
}

START_TEST(test_bad_header_fields)
{
    Fixture f;
    fixture(&f);
    size_t len;
    unsigned char *buf = encode(&f.ck, &len);

    /* Wrong magic (the CRC fixed so only the magic is wrong). */
    unsigned char *bad = malloc(len);
    memcpy(bad, buf, len);
    bad[0] = 'X';
    fix_crc(bad, len);
    Checkpoint d = {0};
    Error err = {{0}};
    ck_assert_int_eq(decode_exact(&d, bad, len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "magic"));
    free(bad);

    /* A future version. */
    expect_field_error(buf, len, 8, 2, "version 2");
    expect_field_error(buf, len, 8, 0, "version 0");
    /* Forged sizes, each named. Offsets from the header layout. */
    expect_field_error(buf, len, 12, 0, "'context'");
    expect_field_error(buf, len, 12, 5000, "'context'");
    expect_field_error(buf, len, 16, 0, "'embed'");
    expect_field_error(buf, len, 20, 0xFFFFFFFFu, "'hidden'");
    expect_field_error(buf, len, 24, 9, "'layers'");
    expect_field_error(buf, len, 28, 0, "'vocab'");
    expect_field_error(buf, len, 28, 0x7FFFFFFFu, "'vocab'");
    expect_field_error(buf, len, 32, 2, "'tokenizer'");
    expect_field_error(buf, len, 36, 2, "'mode'");
    expect_field_error(buf, len, 40, 7, "'normalize'");
    expect_field_error(buf, len, 44, 2, "'optimizer'");
    expect_field_error(buf, len, 48, 0, "'batch'");
    expect_field_error(buf, len, 52, 0, "'eval_every'");
    expect_field_error(buf, len, 232, 3, "'n_moments'");
    expect_field_error(buf, len, 236, 2, "'val_from_file'");
    /* n_params (u64 at 224) disagreeing with the config. */
    expect_field_error(buf, len, 224, NP + 1, "'n_params'");
    expect_field_error(buf, len, 228, 1, "'n_params'");
    /* A config that is consistent in itself but describes a bigger file
     * (vocab 6 and n_params to match) is refused by length. */
    unsigned char *big = malloc(len);
    memcpy(big, buf, len);
    put_u32(big + 28, 6);
    put_u32(big + 224, NP + 3 + 4 + 1); /* one more embedding, output row, bias */
    fix_crc(big, len);
    ck_assert_int_eq(decode_exact(&d, big, len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
    /* And fewer moments than stored: trailing data. */
    memcpy(big, buf, len);
    put_u32(big + 232, 1);
    fix_crc(big, len);
    ck_assert_int_eq(decode_exact(&d, big, len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "trailing"));
    free(big);
    free(buf);
}
END_TEST

START_TEST(test_non_finite_values)
{
    Fixture f;
    fixture(&f);
    size_t len;
    unsigned char *buf = encode(&f.ck, &len);
    /* Parameters start after the header and the 5 vocabulary entries. */
    const size_t params_at = 240 + 4 * 5;
    const uint32_t bad_floats[] = {0x7FC00000u /* NaN */, 0xFFC00001u /* -NaN */,
                                   0x7F800000u /* +inf */, 0xFF800000u /* -inf */};
    for (size_t k = 0; k < sizeof bad_floats / sizeof *bad_floats; k++) {
        unsigned char *b = malloc(len);
        memcpy(b, buf, len);
        put_u32(b + params_at + 4 * 17, bad_floats[k]);
        fix_crc(b, len);
        Checkpoint d = {0};
        Error err = {{0}};
        ck_assert_msg(decode_exact(&d, b, len, &err) == -1,
                      "parameter bits 0x%08X accepted", bad_floats[k]);
        ck_assert_ptr_nonnull(strstr(err.msg, "NaN or infinity"));
        ck_assert_ptr_null(d.params);
        free(b);
    }
    /* A NaN training setting (lr, f64 at 96) is refused too. */
    unsigned char *b = malloc(len);
    memcpy(b, buf, len);
    const uint64_t nan_bits = 0x7FF8000000000000ull;
    for (int i = 0; i < 8; i++)
        b[96 + i] = (unsigned char)(nan_bits >> (8 * i));
    fix_crc(b, len);
    Checkpoint d = {0};
    Error err = {{0}};
    ck_assert_int_eq(decode_exact(&d, b, len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "invalid training setting"));
    /* And a negative one (val_frac, f64 at 168). */
    memcpy(b, buf, len);
    double neg = -0.5;
    uint64_t u;
    memcpy(&u, &neg, 8);
    for (int i = 0; i < 8; i++)
        b[168 + i] = (unsigned char)(u >> (8 * i));
    fix_crc(b, len);
    ck_assert_int_eq(decode_exact(&d, b, len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "invalid training setting"));
    free(b);
    free(buf);
}
END_TEST

START_TEST(test_from_real_model)
{
    /* A randomized model's parameters survive the trip bit for bit. */
    ModelConfig cfg = {.context = 3, .embed = 4, .hidden = 5, .layers = 2, .vocab = 7};
    Model m = {0};
    Error err = {{0}};
    ck_assert_int_eq(model_init(&m, &cfg, &err), 0);
    Rng rng;
    rng_seed(&rng, 3);
    model_randomize(&m, &rng);
    int32_t vocab[7] = {-1, 'a', 'b', 'c', 'd', 'e', 'f'};
    Checkpoint ck = {.cfg = cfg, .st = {.batch = 1, .eval_every = 1, .steps_total = 10},
                     .vocab = vocab, .n_params = m.n_params, .params = m.params};
    size_t len;
    unsigned char *buf = encode(&ck, &len);
    ck_assert_uint_eq(len, 240 + 4 * 7 + 4 * 165 + 4);
    Checkpoint d = {0};
    ck_assert_msg(decode_exact(&d, buf, len, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(d.n_params, m.n_params);
    ck_assert_mem_eq(d.params, m.params, m.n_params * sizeof(float));
    ckpt_free(&d);
    free(buf);
    model_free(&m);
}
END_TEST

static Suite *ckpt_suite(void)
{
    Suite *s = suite_create("ckpt");
    TCase *tc = tcase_create("ckpt");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_every_bit_flip);
    tcase_add_test(tc, test_bad_header_fields);
    tcase_add_test(tc, test_non_finite_values);
    tcase_add_test(tc, test_from_real_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ckpt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
