/* test_data.c - Check suite for data/: every (context, target) example of
 * small stream and lines datasets listed by hand, the train/validation splits,
 * the too-little-data errors, batches, and the 16/32-bit id storage. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../data/data.h"
#include "../tokenizer/tokenizer.h"

#define COUNT(a) (sizeof(a) / sizeof *(a))

static void build_tok(Tokenizer *tok, const char *text, int boundary)
{
    Error err = {{0}};
    ck_assert_msg(tok_build(tok, TOK_CHAR, boundary, (const unsigned char *)text,
                            strlen(text), &err) == 0, "tok_build: %s", err.msg);
}

static void build_ds(Dataset *ds, const Tokenizer *tok, const char *text, int lines,
                     int T)
{
    Error err = {{0}};
    ck_assert_msg(data_build(ds, tok, (const unsigned char *)text, strlen(text),
                             lines, T, "d.txt", &err) == 0, "data_build: %s", err.msg);
}

static void assert_tokens(const Dataset *ds, const int32_t *expect, size_t n)
{
    ck_assert_uint_eq(ds->tokens.n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(tokens_get(&ds->tokens, i) == expect[i],
                      "token %zu is %d, expected %d", i, tokens_get(&ds->tokens, i),
                      expect[i]);
}

/* Example k must have context ctx[0..T) and the given target. */
static void assert_example(const Dataset *ds, size_t k, const int32_t *ctx,
                           int32_t target)
{
    int32_t got[16];
    for (int j = 0; j < 16; j++)
        got[j] = -99;
    int32_t t = data_example(ds, k, got);
    ck_assert_msg(t == target, "example %zu: target %d, expected %d", k, t, target);
    for (int j = 0; j < ds->context; j++)
        ck_assert_msg(got[j] == ctx[j], "example %zu: ctx[%d] = %d, expected %d", k,
                      j, got[j], ctx[j]);
    /* Nothing is written past the T context entries. */
    ck_assert_int_eq(got[ds->context], -99);
}

START_TEST(test_stream_examples)
{
    /* "banana!" with vocabulary {'!', 'a', 'b', 'n'} -> ids 0..3:
     *   b a n a n a !  =  2 1 3 1 3 1 0
     * T = 3: n_examples = 7 - 3 = 4; example k predicts position k + 3 from
     * positions k .. k+2. */
    Tokenizer tok = {0};
    build_tok(&tok, "banana!", 0);
    Dataset ds = {0};
    build_ds(&ds, &tok, "banana!", 0, 3);
    const int32_t ids[] = {2, 1, 3, 1, 3, 1, 0};
    assert_tokens(&ds, ids, COUNT(ids));
    ck_assert_int_eq(ds.lines, 0);
    ck_assert_int_eq(ds.context, 3);
    ck_assert_uint_eq(ds.n_examples, 4);
    assert_example(&ds, 0, (const int32_t[]){2, 1, 3}, 1);
    assert_example(&ds, 1, (const int32_t[]){1, 3, 1}, 3);
    assert_example(&ds, 2, (const int32_t[]){3, 1, 3}, 1);
    assert_example(&ds, 3, (const int32_t[]){1, 3, 1}, 0);
    data_free(&ds);

    /* In general: context = the previous T ids, target = the next one. */
    const char *text = "the quick brown fox jumps over the lazy dog\n";
    build_ds(&ds, &tok, "banana", 0, 1); /* freed below; checks T = 1 */
    ck_assert_uint_eq(ds.n_examples, 5);
    assert_example(&ds, 4, (const int32_t[]){3}, 1);
    data_free(&ds);
    tok_free(&tok);
    build_tok(&tok, text, 0);
    size_t n = strlen(text);
    for (int T = 1; T <= 8; T++) {
        build_ds(&ds, &tok, text, 0, T);
        ck_assert_uint_eq(ds.n_examples, n - (size_t)T);
        for (size_t k = 0; k < ds.n_examples; k++) {
            int32_t ctx[8];
            for (int j = 0; j < T; j++)
                ctx[j] = tok_id(&tok, (unsigned char)text[k + (size_t)j]);
            assert_example(&ds, k, ctx, tok_id(&tok, (unsigned char)text[k + (size_t)T]));
        }
        data_free(&ds);
    }
    tok_free(&tok);
}
END_TEST

START_TEST(test_stream_too_short)
{
    Tokenizer tok = {0};
    build_tok(&tok, "abc", 0);
    Dataset ds = {0};
    Error err = {{0}};
    /* 3 characters and T = 3 leave no example: need at least 4. */
    ck_assert_int_eq(data_build(&ds, &tok, (const unsigned char *)"abc", 3, 0, 3,
                                "short.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "short.txt"));
    ck_assert_ptr_nonnull(strstr(err.msg, "3 characters"));
    ck_assert_ptr_nonnull(strstr(err.msg, "at least 4"));
    ck_assert_uint_eq(ds.n_examples, 0);
    ck_assert_ptr_null(ds.tokens.ids16);
    /* T = 2 leaves exactly one. */
    build_ds(&ds, &tok, "abc", 0, 2);
    ck_assert_uint_eq(ds.n_examples, 1);
    assert_example(&ds, 0, (const int32_t[]){0, 1}, 2);
    data_free(&ds);
    /* A character not in the vocabulary is an error. */
    ck_assert_int_eq(data_build(&ds, &tok, (const unsigned char *)"abcd", 4, 0, 1,
                                "x.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "'d'"));
    tok_free(&tok);
}
END_TEST

/* Encoding stops at the first line (or 4 KB chunk) with an unknown character,
 * but the error lists the unknown characters of the whole text. */
START_TEST(test_missing_listed_for_whole_text)
{
    Tokenizer tok = {0};
    build_tok(&tok, "ab\ncd", 1);
    Dataset ds = {0}, val = {0};
    Error err = {{0}};
    const char *text = "ab\nXa\ncd\nbY\nZ\nab\nba\ncd\ndc\nab\naa\n";
    size_t len = strlen(text);
    ck_assert_int_eq(data_build(&ds, &tok, (const unsigned char *)text, len, 1, 2,
                                "l.txt", &err), -1);
    ck_assert_msg(strstr(err.msg, "'X' U+0058, 'Y' U+0059, 'Z' U+005A") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(data_build_split(&ds, &val, &tok, (const unsigned char *)text,
                                      len, 1, 2, 0.2, 1, "l.txt", &err), -1);
    ck_assert_msg(strstr(err.msg, "'X' U+0058, 'Y' U+0059, 'Z' U+005A") != NULL,
                  "%s", err.msg);
    tok_free(&tok);
    /* Stream mode: unknown characters 5000 bytes apart, in different chunks. */
    build_tok(&tok, "ab", 0);
    char *big = malloc(10001);
    ck_assert_ptr_nonnull(big);
    for (int i = 0; i < 10000; i++)
        big[i] = "ab"[i % 2];
    big[10] = 'X';
    big[5000] = 'Y';
    big[9990] = 'Z';
    big[10000] = '\0';
    ck_assert_int_eq(data_build(&ds, &tok, (const unsigned char *)big, 10000, 0, 3,
                                "s.txt", &err), -1);
    ck_assert_msg(strstr(err.msg, "'X' U+0058, 'Y' U+0059, 'Z' U+005A") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(data_build_split(&ds, &val, &tok, (const unsigned char *)big,
                                      10000, 0, 3, 0.1, 1, "s.txt", &err), -1);
    ck_assert_msg(strstr(err.msg, "'X' U+0058, 'Y' U+0059, 'Z' U+005A") != NULL,
                  "%s", err.msg);
    free(big);
    tok_free(&tok);
}
END_TEST

START_TEST(test_lines_examples)
{
    /* "ab\nc\n", T = 3. Vocabulary {boundary, a, b, c} -> a=1 b=2 c=3, and the
     * layout is  0 a b 0 c 0  =  0 1 2 0 3 0. Example k predicts position
     * k + 1; its context is the 3 ids before, with everything before the
     * item's own leading boundary read as the boundary:
     *   k=0: [0 0 0] -> a(1)     k=1: [0 0 1] -> b(2)    k=2: [0 1 2] -> 0
     *   k=3: [0 0 0] -> c(3)     k=4: [0 0 3] -> 0
     * (k=3 does not see "ab": items never see each other.) */
    Tokenizer tok = {0};
    build_tok(&tok, "ab\nc\n", 1);
    Dataset ds = {0};
    build_ds(&ds, &tok, "ab\nc\n", 1, 3);
    const int32_t ids[] = {0, 1, 2, 0, 3, 0};
    assert_tokens(&ds, ids, COUNT(ids));
    ck_assert_int_eq(ds.lines, 1);
    ck_assert_uint_eq(ds.n_items, 2);
    ck_assert_uint_eq(ds.n_examples, 5);
    assert_example(&ds, 0, (const int32_t[]){0, 0, 0}, 1);
    assert_example(&ds, 1, (const int32_t[]){0, 0, 1}, 2);
    assert_example(&ds, 2, (const int32_t[]){0, 1, 2}, 0);
    assert_example(&ds, 3, (const int32_t[]){0, 0, 0}, 3);
    assert_example(&ds, 4, (const int32_t[]){0, 0, 3}, 0);
    data_free(&ds);

    /* Empty lines (leading, repeated, trailing) are skipped: same dataset. */
    build_ds(&ds, &tok, "\n\nab\n\n\nc\n\n", 1, 3);
    assert_tokens(&ds, ids, COUNT(ids));
    ck_assert_uint_eq(ds.n_items, 2);
    ck_assert_uint_eq(ds.n_examples, 5);
    data_free(&ds);
    /* A last line without '\n' is an item too. */
    build_ds(&ds, &tok, "ab\nc", 1, 3);
    assert_tokens(&ds, ids, COUNT(ids));
    data_free(&ds);

    /* A line longer than T: "abca\nb", T = 2:  0 1 2 3 1 0 2 0
     *   k=0: [0 0] -> 1   k=1: [0 1] -> 2   k=2: [1 2] -> 3   k=3: [2 3] -> 1
     *   k=4: [3 1] -> 0   k=5: [0 0] -> 2   k=6: [0 2] -> 0 */
    build_ds(&ds, &tok, "abca\nb", 1, 2);
    const int32_t ids2[] = {0, 1, 2, 3, 1, 0, 2, 0};
    assert_tokens(&ds, ids2, COUNT(ids2));
    ck_assert_uint_eq(ds.n_examples, 7);
    ck_assert_uint_eq(ds.n_items, 2);
    assert_example(&ds, 0, (const int32_t[]){0, 0}, 1);
    assert_example(&ds, 1, (const int32_t[]){0, 1}, 2);
    assert_example(&ds, 2, (const int32_t[]){1, 2}, 3);
    assert_example(&ds, 3, (const int32_t[]){2, 3}, 1);
    assert_example(&ds, 4, (const int32_t[]){3, 1}, 0);
    assert_example(&ds, 5, (const int32_t[]){0, 0}, 2);
    assert_example(&ds, 6, (const int32_t[]){0, 2}, 0);
    data_free(&ds);

    /* No non-empty lines is an error; so is a tokenizer without boundary. */
    Error err = {{0}};
    ck_assert_int_eq(data_build(&ds, &tok, (const unsigned char *)"\n\n", 2, 1, 3,
                                "empty.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty.txt"));
    tok_free(&tok);
    build_tok(&tok, "ab\nc\n", 0);
    ck_assert_int_eq(data_build(&ds, &tok, (const unsigned char *)"ab\nc\n", 5, 1, 3,
                                "d.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "boundary"));
    tok_free(&tok);
}
END_TEST

START_TEST(test_stream_split)
{
    /* 20 distinct letters a..t -> ids 0..19. val_frac 0.25 holds out the last
     * floor(0.25 * 20) = 5 characters: train ids 0..14, val ids 15..19. */
    const char *text = "abcdefghijklmnopqrst";
    Tokenizer tok = {0};
    build_tok(&tok, text, 0);
    Dataset tr = {0}, va = {0};
    Error err = {{0}};
    ck_assert_msg(data_build_split(&tr, &va, &tok, (const unsigned char *)text, 20, 0,
                                   3, 0.25, 1, "s.txt", &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(tr.tokens.n, 15);
    ck_assert_uint_eq(va.tokens.n, 5);
    for (int i = 0; i < 15; i++)
        ck_assert_int_eq(tokens_get(&tr.tokens, (size_t)i), i);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tokens_get(&va.tokens, (size_t)i), 15 + i);
    ck_assert_uint_eq(tr.n_examples, 12);
    ck_assert_uint_eq(va.n_examples, 2);
    assert_example(&tr, 11, (const int32_t[]){11, 12, 13}, 14);
    assert_example(&va, 0, (const int32_t[]){15, 16, 17}, 18);
    assert_example(&va, 1, (const int32_t[]){16, 17, 18}, 19);
    data_free(&tr);
    data_free(&va);

    /* Too little: 0.1 of 20 leaves 2 for validation, and T = 3 needs 4. */
    ck_assert_int_eq(data_build_split(&tr, &va, &tok, (const unsigned char *)text, 20,
                                      0, 3, 0.1, 1, "s.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "s.txt"));
    ck_assert_ptr_nonnull(strstr(err.msg, "validation 2"));
    ck_assert_ptr_nonnull(strstr(err.msg, "at least 4"));
    /* ... or for training: 0.9 leaves 2 for training. */
    ck_assert_int_eq(data_build_split(&tr, &va, &tok, (const unsigned char *)text, 20,
                                      0, 3, 0.9, 1, "s.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "training would get 2"));
    ck_assert_ptr_null(tr.tokens.ids16);
    ck_assert_ptr_null(va.tokens.ids16);
    tok_free(&tok);
}
END_TEST

/* The items of a lines dataset: the single id between consecutive boundaries
 * (each test line is one character). Returns how many. */
static size_t single_char_items(const Dataset *ds, int32_t *items)
{
    size_t n = 0;
    ck_assert_int_eq(tokens_get(&ds->tokens, 0), 0);
    for (size_t i = 1; i < ds->tokens.n; i += 2) {
        ck_assert_int_ne(tokens_get(&ds->tokens, i), 0);
        ck_assert_int_eq(tokens_get(&ds->tokens, i + 1), 0);
        items[n++] = tokens_get(&ds->tokens, i);
    }
    ck_assert_uint_eq(n, ds->n_items);
    return n;
}

/* Splits the 20 one-letter lines a..t (ids 1..20) with seed; checks the sets
 * are disjoint, cover every line, keep file order, and have 5 and 15 items.
 * Writes which ids went to validation into is_val[1..20]. */
static void split_lines(const Tokenizer *tok, uint64_t seed, int is_val[21])
{
    const char *text = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\nq\nr\ns\nt\n";
    Dataset tr = {0}, va = {0};
    Error err = {{0}};
    ck_assert_msg(data_build_split(&tr, &va, tok, (const unsigned char *)text,
                                   strlen(text), 1, 3, 0.25, seed, "l.txt", &err) == 0,
                  "%s", err.msg);
    int32_t ti[32], vi[32];
    size_t nt = single_char_items(&tr, ti), nv = single_char_items(&va, vi);
    /* round(0.25 * 20) = 5 validation lines. */
    ck_assert_uint_eq(nv, 5);
    ck_assert_uint_eq(nt, 15);
    int seen[21] = {0};
    for (size_t i = 0; i < nt; i++) {
        if (i > 0)
            ck_assert_int_lt(ti[i - 1], ti[i]);
        seen[ti[i]]++;
    }
    for (int i = 0; i < 21; i++)
        is_val[i] = 0;
    for (size_t i = 0; i < nv; i++) {
        if (i > 0)
            ck_assert_int_lt(vi[i - 1], vi[i]);
        seen[vi[i]]++;
        is_val[vi[i]] = 1;
    }
    for (int id = 1; id <= 20; id++)
        ck_assert_msg(seen[id] == 1, "line %d is in %d sets", id, seen[id]);
    ck_assert_uint_eq(tr.n_examples, 2 * 15);
    ck_assert_uint_eq(va.n_examples, 2 * 5);
    data_free(&tr);
    data_free(&va);
}

START_TEST(test_lines_split)
{
    Tokenizer tok = {0};
    build_tok(&tok, "abcdefghijklmnopqrst", 1);
    int a[21], b[21], c[21];
    split_lines(&tok, 42, a);
    split_lines(&tok, 42, b);
    ck_assert_mem_eq(a, b, sizeof a);
    /* Other seeds give other splits; over several seeds at least one differs,
     * and the held-out lines are not simply the last ones. */
    int any_differs = 0, any_not_tail = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        split_lines(&tok, seed, c);
        any_differs |= memcmp(a, c, sizeof a) != 0;
        for (int id = 1; id <= 15; id++)
            any_not_tail |= c[id];
    }
    ck_assert(any_differs);
    ck_assert(any_not_tail);

    /* Too few lines: 0.1 of 3 rounds to 0 validation lines; 0.5 of 1 takes
     * the only line. 0.5 of 2 leaves one each and works. */
    Dataset tr = {0}, va = {0};
    Error err = {{0}};
    ck_assert_int_eq(data_build_split(&tr, &va, &tok, (const unsigned char *)"a\nb\nc\n",
                                      6, 1, 3, 0.1, 1, "l.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "3 non-empty lines"));
    ck_assert_int_eq(data_build_split(&tr, &va, &tok, (const unsigned char *)"a\n\n",
                                      3, 1, 3, 0.5, 1, "l.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "1 non-empty lines"));
    ck_assert_int_eq(data_build_split(&tr, &va, &tok, (const unsigned char *)"a\nb\n",
                                      4, 1, 3, 0.5, 1, "l.txt", &err), 0);
    ck_assert_uint_eq(tr.n_items, 1);
    ck_assert_uint_eq(va.n_items, 1);
    data_free(&tr);
    data_free(&va);
    /* The validation count is rounded to nearest: 0.36 * 10 = 3.6 -> 4. */
    const char *ten = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
    ck_assert_int_eq(data_build_split(&tr, &va, &tok, (const unsigned char *)ten,
                                      strlen(ten), 1, 3, 0.36, 1, "l.txt", &err), 0);
    ck_assert_uint_eq(va.n_items, 4);
    ck_assert_uint_eq(tr.n_items, 6);
    data_free(&tr);
    data_free(&va);
    tok_free(&tok);
}
END_TEST

START_TEST(test_batch_matches_examples)
{
    /* Every row of a batch must be one of the dataset's examples, with its
     * own target; over many batches every example is drawn. */
    Tokenizer tok = {0};
    build_tok(&tok, "ab\nca\nbca\n", 1);
    Dataset ds = {0};
    build_ds(&ds, &tok, "ab\nca\nbca\n", 1, 2);
    /* 0 a b 0 c a 0 b c a 0: 11 ids, 10 examples. */
    ck_assert_uint_eq(ds.n_examples, 10);
    size_t ne = ds.n_examples;
    int32_t all_ctx[10][2], all_tgt[10];
    for (size_t k = 0; k < ne; k++)
        all_tgt[k] = data_example(&ds, k, all_ctx[k]);
    Rng rng;
    rng_seed(&rng, 5);
    enum { B = 16 };
    int32_t ctx[B * 2], tgt[B];
    int hit[10] = {0};
    for (int it = 0; it < 50; it++) {
        for (int i = 0; i < B * 2; i++)
            ctx[i] = -1;
        data_batch(&ds, &rng, B, ctx, tgt);
        for (int b = 0; b < B; b++) {
            int found = 0;
            for (size_t k = 0; k < ne; k++)
                if (all_tgt[k] == tgt[b] && all_ctx[k][0] == ctx[2 * b] &&
                    all_ctx[k][1] == ctx[2 * b + 1]) {
                    found = 1;
                    hit[k] = 1;
                }
            ck_assert_msg(found, "batch row %d (%d %d -> %d) is no example", b,
                          ctx[2 * b], ctx[2 * b + 1], tgt[b]);
        }
    }
    for (size_t k = 0; k < ne; k++)
        ck_assert_msg(hit[k], "example %zu never drawn in 800 rows", k);

    /* The same seed gives the same batch. */
    Rng r1, r2;
    rng_seed(&r1, 9);
    rng_seed(&r2, 9);
    int32_t c1[B * 2], t1[B], c2[B * 2], t2[B];
    data_batch(&ds, &r1, B, c1, t1);
    data_batch(&ds, &r2, B, c2, t2);
    ck_assert_mem_eq(c1, c2, sizeof c1);
    ck_assert_mem_eq(t1, t2, sizeof t1);
    data_free(&ds);
    tok_free(&tok);
}
END_TEST

START_TEST(test_storage_width)
{
    /* A small vocabulary stores ids in 16 bits. */
    Tokenizer tok = {0};
    build_tok(&tok, "abc", 0);
    Dataset ds = {0};
    build_ds(&ds, &tok, "abcabc", 0, 2);
    ck_assert_ptr_nonnull(ds.tokens.ids16);
    ck_assert_ptr_null(ds.tokens.ids32);
    data_free(&ds);
    tok_free(&tok);

    /* A vocabulary of 70000 code points (0..U+D7FF, then from U+E000 on,
     * skipping the surrogates) needs 32 bits. U+11000 has id
     * 0xD800 + (0x11000 - 0xE000) = 55296 + 12288 = 67584 > 65535. */
    enum { NV = 70000 };
    int32_t *vocab = malloc(NV * sizeof *vocab);
    ck_assert_ptr_nonnull(vocab);
    for (int32_t i = 0, cp = 0; i < NV; i++, cp++) {
        if (cp == 0xD800)
            cp = 0xE000;
        vocab[i] = cp;
    }
    Error err = {{0}};
    ck_assert_int_eq(tok_from_vocab(&tok, TOK_CHAR, vocab, NV, &err), 0);
    free(vocab);
    ck_assert_int_eq(tok_id(&tok, 0x11000), 67584);
    /* "a" U+11000 "b" U+11000, U+11000 = F0 91 80 80. */
    const char *text = "a\xF0\x91\x80\x80" "b\xF0\x91\x80\x80";
    build_ds(&ds, &tok, text, 0, 2);
    ck_assert_ptr_null(ds.tokens.ids16);
    ck_assert_ptr_nonnull(ds.tokens.ids32);
    const int32_t ids[] = {'a', 67584, 'b', 67584};
    assert_tokens(&ds, ids, COUNT(ids));
    ck_assert_uint_eq(ds.n_examples, 2);
    assert_example(&ds, 0, (const int32_t[]){'a', 67584}, 'b');
    assert_example(&ds, 1, (const int32_t[]){67584, 'b'}, 67584);
    data_free(&ds);
    tok_free(&tok);
}
END_TEST

static Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("stream");
    tcase_add_test(tc, test_stream_examples);
    tcase_add_test(tc, test_stream_too_short);
    tcase_add_test(tc, test_missing_listed_for_whole_text);
    tcase_add_test(tc, test_stream_split);
    suite_add_tcase(s, tc);
    tc = tcase_create("lines");
    tcase_add_test(tc, test_lines_examples);
    tcase_add_test(tc, test_lines_split);
    suite_add_tcase(s, tc);
    tc = tcase_create("batches");
    tcase_add_test(tc, test_batch_matches_examples);
    tcase_add_test(tc, test_storage_width);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(data_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
