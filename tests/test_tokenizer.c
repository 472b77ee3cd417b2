/* test_tokenizer.c - Check suite for tokenizer/: goldens for ASCII, accented
 * (NFC and NFD), CJK and emoji text, exact vocabularies and ids, round trips,
 * BOM and CRLF handling, every kind of invalid UTF-8, the byte tokenizer, the
 * boundary token, vocabulary validation and the streaming UTF-8 repair.
 * Expected code points and UTF-8 bytes are from the Unicode charts (checked
 * once with Python's str.encode / ord). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tokenizer/tokenizer.h"

/* Prepares raw bytes as the programs do; fails the test on error. */
static unsigned char *prepare(const char *raw, size_t len, TokKind kind,
                              int normalize, size_t *out_len, TextNotes *notes)
{
    unsigned char *text = NULL;
    Error err = {{0}};
    TextNotes local;
    int rc = tok_prepare_text(&text, out_len, notes ? notes : &local,
                              (const unsigned char *)raw, len, kind, normalize,
                              TOK_INVALID_ERROR, "test.txt", &err);
    ck_assert_msg(rc == 0, "tok_prepare_text failed: %s", err.msg);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(text[*out_len], 0);
    return text;
}

/* Builds a tokenizer from raw text (prepared first); fails the test on error. */
static void build(Tokenizer *tok, const char *raw, TokKind kind, int boundary,
                  int normalize)
{
    size_t n;
    unsigned char *text = prepare(raw, strlen(raw), kind, normalize, &n, NULL);
    Error err = {{0}};
    ck_assert_msg(tok_build(tok, kind, boundary, text, n, &err) == 0,
                  "tok_build failed: %s", err.msg);
    free(text);
}

static void assert_vocab(const Tokenizer *tok, const int32_t *expect, int32_t n)
{
    ck_assert_int_eq(tok->vocab_size, n);
    for (int32_t i = 0; i < n; i++)
        ck_assert_msg(tok->vocab[i] == expect[i], "vocab[%d] = %d, expected %d",
                      i, tok->vocab[i], expect[i]);
    /* The lookup is the inverse of the vocabulary. */
    for (int32_t i = 0; i < n; i++)
        if (expect[i] != TOK_BOUNDARY_CP)
            ck_assert_int_eq(tok_id(tok, expect[i]), i);
}

/* Encodes s (already prepared) and compares with the expected ids. */
static void assert_encode(const Tokenizer *tok, const char *s, const int32_t *expect,
                          size_t n_expect)
{
    size_t len = strlen(s), n = 0;
    int32_t *ids = calloc(len + 1, sizeof *ids);
    Error err = {{0}};
    ck_assert_msg(tok_encode(tok, ids, &n, (const unsigned char *)s, len, "t",
                             &err) == 0, "tok_encode failed: %s", err.msg);
    ck_assert_uint_eq(n, n_expect);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(ids[i] == expect[i], "id %zu is %d, expected %d", i, ids[i],
                      expect[i]);
    free(ids);
}

/* decode(encode(s)) must give back exactly the bytes of s. */
static void assert_round_trip(const Tokenizer *tok, const char *s)
{
    size_t len = strlen(s), n = 0;
    int32_t *ids = calloc(len + 1, sizeof *ids);
    unsigned char *back = calloc(4 * len + 1, 1);
    Error err = {{0}};
    ck_assert_msg(tok_encode(tok, ids, &n, (const unsigned char *)s, len, "t",
                             &err) == 0, "tok_encode failed: %s", err.msg);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += (size_t)tok_decode(tok, ids[i], back + m);
    ck_assert_uint_eq(m, len);
    ck_assert_mem_eq(back, s, len);
    free(ids);
    free(back);
}

#define COUNT(a) (sizeof(a) / sizeof *(a))

START_TEST(test_ascii_golden)
{
    Tokenizer tok = {0};
    build(&tok, "hello world\n", TOK_CHAR, 0, 1);
    /* Distinct characters sorted by code point. */
    const int32_t vocab[] = {'\n', ' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w'};
    assert_vocab(&tok, vocab, COUNT(vocab));
    const int32_t ids[] = {4, 3, 5, 5, 6, 1, 8, 6, 7, 5, 2, 0};
    assert_encode(&tok, "hello world\n", ids, COUNT(ids));
    assert_round_trip(&tok, "hello world\n");
    assert_round_trip(&tok, "droll\nword");
    ck_assert_int_eq(tok.kind, TOK_CHAR);
    ck_assert_int_eq(tok.has_boundary, 0);
    ck_assert_int_eq(tok_id(&tok, 'z'), -1);
    ck_assert_int_eq(tok_id(&tok, -5), -1);
    ck_assert_int_eq(tok_id(&tok, 0x10FFFF), -1);
    tok_free(&tok);
}
END_TEST

START_TEST(test_accents_nfc_golden)
{
    /* "café naïve" in NFC: é U+00E9 = C3 A9, ï U+00EF = C3 AF. */
    const char *s = "caf\xC3\xA9 na\xC3\xAFve";
    Tokenizer tok = {0};
    TextNotes notes;
    size_t n;
    unsigned char *text = prepare(s, strlen(s), TOK_CHAR, 1, &n, &notes);
    /* Already NFC: unchanged. */
    ck_assert_uint_eq(n, strlen(s));
    ck_assert_mem_eq(text, s, n);
    ck_assert_int_eq(notes.normalized, 0);
    free(text);
    build(&tok, s, TOK_CHAR, 0, 1);
    const int32_t vocab[] = {' ', 'a', 'c', 'e', 'f', 'n', 'v', 0xE9, 0xEF};
    assert_vocab(&tok, vocab, COUNT(vocab));
    const int32_t ids[] = {2, 1, 4, 7, 0, 5, 1, 8, 6, 3};
    assert_encode(&tok, s, ids, COUNT(ids));
    assert_round_trip(&tok, s);
    unsigned char out[4];
    ck_assert_int_eq(tok_decode(&tok, 7, out), 2);
    ck_assert_mem_eq(out, "\xC3\xA9", 2);
    tok_free(&tok);
}
END_TEST

START_TEST(test_accents_nfd)
{
    /* "cafe" + U+0301 COMBINING ACUTE ACCENT (CC 81) is the NFD of "café". */
    const char *nfd = "cafe\xCC\x81";
    TextNotes notes;
    size_t n;
    unsigned char *text = prepare(nfd, strlen(nfd), TOK_CHAR, 1, &n, &notes);
    /* Normalized to NFC: the single code point U+00E9. */
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_eq(text, "caf\xC3\xA9", 5);
    ck_assert_int_eq(notes.normalized, 1);
    free(text);
    Tokenizer tok = {0};
    build(&tok, nfd, TOK_CHAR, 0, 1);
    const int32_t vocab_nfc[] = {'a', 'c', 'f', 0xE9};
    assert_vocab(&tok, vocab_nfc, COUNT(vocab_nfc));
    tok_free(&tok);

    /* Without normalization the text stays NFD: e and U+0301 are two tokens. */
    text = prepare(nfd, strlen(nfd), TOK_CHAR, 0, &n, &notes);
    ck_assert_uint_eq(n, strlen(nfd));
    ck_assert_mem_eq(text, nfd, n);
    ck_assert_int_eq(notes.normalized, 0);
    free(text);
    build(&tok, nfd, TOK_CHAR, 0, 0);
    const int32_t vocab_nfd[] = {'a', 'c', 'e', 'f', 0x301};
    assert_vocab(&tok, vocab_nfd, COUNT(vocab_nfd));
    const int32_t ids[] = {1, 0, 3, 2, 4};
    assert_encode(&tok, nfd, ids, COUNT(ids));
    assert_round_trip(&tok, nfd);
    tok_free(&tok);

    /* NFC and NFD of the same words give the same prepared text. */
    const char *nfc2 = "\xC3\xA9t\xC3\xA9\n\xC3\xA0";       /* été\nà */
    const char *nfd2 = "e\xCC\x81te\xCC\x81\na\xCC\x80";     /* e´te´\na` */
    size_t n1, n2;
    unsigned char *t1 = prepare(nfc2, strlen(nfc2), TOK_CHAR, 1, &n1, NULL);
    unsigned char *t2 = prepare(nfd2, strlen(nfd2), TOK_CHAR, 1, &n2, NULL);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(t1, t2, n1);
    free(t1);
    free(t2);
}
END_TEST

START_TEST(test_nfc_large_text)
{
    /* More than one normalization piece (pieces are about 1 MiB, cut after
     * a newline): 15000 lines of 50 NFD "e" + U+0301 (150 bytes + '\n'),
     * then one 1.2 MB line with no newline at all. Every e + U+0301 must
     * become C3 A9, wherever the piece boundaries fall. */
    enum { LINES = 15000, PER = 50, LONG = 400000 };
    size_t raw_len = (size_t)LINES * (PER * 3 + 1) + (size_t)LONG * 3;
    char *raw = malloc(raw_len);
    char *expect = malloc(raw_len);
    ck_assert(raw && expect);
    size_t r = 0, e = 0;
    for (int l = 0; l < LINES; l++) {
        for (int i = 0; i < PER; i++) {
            memcpy(raw + r, "e\xCC\x81", 3);
            memcpy(expect + e, "\xC3\xA9", 2);
            r += 3;
            e += 2;
        }
        raw[r++] = '\n';
        expect[e++] = '\n';
    }
    for (int i = 0; i < LONG; i++) {
        memcpy(raw + r, "e\xCC\x81", 3);
        memcpy(expect + e, "\xC3\xA9", 2);
        r += 3;
        e += 2;
    }
    ck_assert_uint_eq(r, raw_len);
    TextNotes notes;
    size_t n;
    unsigned char *text = prepare(raw, raw_len, TOK_CHAR, 1, &n, &notes);
    ck_assert_uint_eq(n, e);
    ck_assert(memcmp(text, expect, e) == 0);
    ck_assert_int_eq(notes.normalized, 1);
    free(text);
    free(raw);
    free(expect);
}
END_TEST

START_TEST(test_cjk_golden)
{
    /* 日 U+65E5 = E6 97 A5, 本 U+672C = E6 9C AC, 語 U+8A9E = E8 AA 9E. */
    const char *s = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
    Tokenizer tok = {0};
    build(&tok, s, TOK_CHAR, 0, 1);
    const int32_t vocab[] = {0x65E5, 0x672C, 0x8A9E};
    assert_vocab(&tok, vocab, COUNT(vocab));
    const int32_t ids[] = {0, 1, 2};
    assert_encode(&tok, s, ids, COUNT(ids));
    /* 語日本 */
    const int32_t ids2[] = {2, 0, 1};
    assert_encode(&tok, "\xE8\xAA\x9E\xE6\x97\xA5\xE6\x9C\xAC", ids2, COUNT(ids2));
    assert_round_trip(&tok, s);
    unsigned char out[4];
    ck_assert_int_eq(tok_decode(&tok, 2, out), 3);
    ck_assert_mem_eq(out, "\xE8\xAA\x9E", 3);
    tok_free(&tok);
}
END_TEST

START_TEST(test_emoji_golden)
{
    /* 😀 U+1F600 = F0 9F 98 80, 🎉 U+1F389 = F0 9F 8E 89 (4-byte sequences). */
    const char *s = "\xF0\x9F\x98\x80" "a" "\xF0\x9F\x8E\x89";
    Tokenizer tok = {0};
    build(&tok, s, TOK_CHAR, 0, 1);
    const int32_t vocab[] = {'a', 0x1F389, 0x1F600};
    assert_vocab(&tok, vocab, COUNT(vocab));
    const int32_t ids[] = {2, 0, 1};
    assert_encode(&tok, s, ids, COUNT(ids));
    assert_round_trip(&tok, s);
    unsigned char out[4];
    ck_assert_int_eq(tok_decode(&tok, 2, out), 4);
    ck_assert_mem_eq(out, "\xF0\x9F\x98\x80", 4);
    tok_free(&tok);
}
END_TEST

START_TEST(test_mixed_round_trip)
{
    const char *s = "Grüße, 世界! \xF0\x9F\x98\x80\ttab\nline two \xE2\x82\xAC 5";
    Tokenizer tok = {0};
    build(&tok, s, TOK_CHAR, 0, 1);
    /* Strictly increasing vocabulary. */
    for (int32_t i = 1; i < tok.vocab_size; i++)
        ck_assert_int_lt(tok.vocab[i - 1], tok.vocab[i]);
    assert_round_trip(&tok, s);
    assert_round_trip(&tok, "\xE4\xB8\x96 Gr\xC3\xBC\xC3\x9F" "e");
    tok_free(&tok);
}
END_TEST

START_TEST(test_bom_and_crlf)
{
    /* BOM, two CRLF pairs, a lone CR kept, and a U+FEFF not at the start kept. */
    const char raw[] = "\xEF\xBB\xBF" "a\r\nb\r\n\rc\xEF\xBB\xBF";
    const char expect[] = "a\nb\n\rc\xEF\xBB\xBF";
    for (int kind = TOK_CHAR; kind <= TOK_BYTE; kind++) {
        TextNotes notes;
        size_t n;
        unsigned char *text = prepare(raw, sizeof raw - 1, (TokKind)kind, 1, &n,
                                      &notes);
        ck_assert_uint_eq(n, sizeof expect - 1);
        ck_assert_mem_eq(text, expect, n);
        ck_assert_int_eq(notes.had_bom, 1);
        ck_assert_uint_eq(notes.crlf, 2);
        free(text);
    }
    /* No BOM, a CR at the very end stays. */
    TextNotes notes;
    size_t n;
    unsigned char *text = prepare("x\r", 2, TOK_CHAR, 1, &n, &notes);
    ck_assert_uint_eq(n, 2);
    ck_assert_mem_eq(text, "x\r", 2);
    ck_assert_int_eq(notes.had_bom, 0);
    ck_assert_uint_eq(notes.crlf, 0);
    free(text);
    /* Empty input is fine. */
    text = prepare("", 0, TOK_CHAR, 1, &n, &notes);
    ck_assert_uint_eq(n, 0);
    free(text);
}
END_TEST

/* Every invalid sequence, placed after "a" "é" "\n" "日" (7 bytes: 1 + 2 +
 * 1 + 3) so the bad byte is at byte offset 7 (not character offset 4) on
 * line 2, and followed by valid text. */
START_TEST(test_invalid_utf8)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *what;
        int at_end;   /* the sequence ends the input (nothing appended) */
    } cases[] = {
        {"\x80", 1, "lone continuation byte", 0},
        {"\xBF", 1, "lone continuation byte BF", 0},
        {"\xE6\x97", 2, "truncated 3-byte sequence at end", 1},
        {"\xF0\x9F\x98", 3, "truncated 4-byte sequence at end", 1},
        {"\xC3", 1, "truncated 2-byte sequence at end", 1},
        {"\xE6\x97" "x", 3, "truncated 3-byte sequence before ASCII", 0},
        {"\xC0\x80", 2, "overlong C0 80", 0},
        {"\xC1\xBF", 2, "overlong C1 BF", 0},
        {"\xE0\x80\x80", 3, "overlong E0 80 80", 0},
        {"\xE0\x9F\xBF", 3, "overlong E0 9F BF", 0},
        {"\xF0\x80\x80\x80", 4, "overlong F0 80 80 80", 0},
        {"\xF0\x8F\xBF\xBF", 4, "overlong F0 8F BF BF", 0},
        {"\xED\xA0\x80", 3, "surrogate U+D800", 0},
        {"\xED\xBF\xBF", 3, "surrogate U+DFFF", 0},
        {"\xF5\x80\x80\x80", 4, "F5 lead byte", 0},
        {"\xF8\x88\x80\x80\x80", 5, "5-byte form", 0},
        {"\xFF", 1, "FF byte", 0},
        {"\xFE", 1, "FE byte", 0},
        {"\xF4\x90\x80\x80", 4, "above U+10FFFF", 0},
    };
    const char prefix[] = "a\xC3\xA9\n\xE6\x97\xA5";
    for (size_t c = 0; c < COUNT(cases); c++) {
        char raw[64];
        size_t len = 0;
        memcpy(raw, prefix, sizeof prefix - 1);
        len += sizeof prefix - 1;
        memcpy(raw + len, cases[c].bytes, cases[c].len);
        len += cases[c].len;
        if (!cases[c].at_end) {
            memcpy(raw + len, "ok\n", 3);
            len += 3;
        }
        for (int normalize = 0; normalize <= 1; normalize++) {
            unsigned char *text = (unsigned char *)"unset";
            size_t n = 77;
            TextNotes notes;
            Error err = {{0}};
            int rc = tok_prepare_text(&text, &n, &notes, (const unsigned char *)raw,
                                      len, TOK_CHAR, normalize, TOK_INVALID_ERROR,
                                      "bad.txt", &err);
            ck_assert_msg(rc == -1, "%s accepted as UTF-8", cases[c].what);
            ck_assert_ptr_null(text);
            ck_assert_msg(strstr(err.msg, "bad.txt") != NULL, "%s: %s",
                          cases[c].what, err.msg);
            ck_assert_msg(strstr(err.msg, "line 2,") != NULL, "%s: %s",
                          cases[c].what, err.msg);
            ck_assert_msg(strstr(err.msg, "byte offset 7 ") != NULL, "%s: %s",
                          cases[c].what, err.msg);
            char byte[16];
            snprintf(byte, sizeof byte, "0x%02X", (unsigned char)cases[c].bytes[0]);
            ck_assert_msg(strstr(err.msg, byte) != NULL, "%s: %s", cases[c].what,
                          err.msg);
        }
        /* The byte tokenizer accepts the same bytes unchanged. */
        size_t n;
        unsigned char *text = prepare(raw, len, TOK_BYTE, 1, &n, NULL);
        ck_assert_uint_eq(n, len);
        ck_assert_mem_eq(text, raw, len);
        free(text);
    }
    /* The first line: offset 0, line 1. */
    unsigned char *text;
    size_t n;
    TextNotes notes;
    Error err = {{0}};
    ck_assert_int_eq(tok_prepare_text(&text, &n, &notes, (const unsigned char *)"\x80",
                                      1, TOK_CHAR, 1, TOK_INVALID_ERROR, "f", &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 1, byte offset 0 "));
    /* The largest valid code point U+10FFFF (F4 8F BF BF) and U+FFFF pass. */
    text = prepare("\xF4\x8F\xBF\xBF\xEF\xBF\xBF", 7, TOK_CHAR, 0, &n, NULL);
    ck_assert_uint_eq(n, 7);
    free(text);
}
END_TEST

START_TEST(test_byte_tokenizer)
{
    /* Any bytes, including invalid UTF-8 and NUL, give the 256-entry vocab. */
    const unsigned char raw[] = {0xFF, 0x00, 'a', 0x80, 0xC0};
    Tokenizer tok = {0};
    Error err = {{0}};
    ck_assert_int_eq(tok_build(&tok, TOK_BYTE, 0, raw, sizeof raw, &err), 0);
    ck_assert_int_eq(tok.vocab_size, 256);
    for (int i = 0; i < 256; i++) {
        ck_assert_int_eq(tok.vocab[i], i);
        ck_assert_int_eq(tok_id(&tok, i), i);
    }
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    int32_t ids[256];
    size_t n = 0;
    ck_assert_int_eq(tok_encode(&tok, ids, &n, all, 256, "t", &err), 0);
    ck_assert_uint_eq(n, 256);
    for (int i = 0; i < 256; i++) {
        ck_assert_int_eq(ids[i], 255 - i);
        unsigned char out[4];
        ck_assert_int_eq(tok_decode(&tok, ids[i], out), 1);
        ck_assert_uint_eq(out[0], all[i]);
    }
    tok_free(&tok);

    /* With the boundary: 257 entries, id 0 the boundary, byte b at id b + 1. */
    ck_assert_int_eq(tok_build(&tok, TOK_BYTE, 1, raw, sizeof raw, &err), 0);
    ck_assert_int_eq(tok.vocab_size, 257);
    ck_assert_int_eq(tok.vocab[0], TOK_BOUNDARY_CP);
    for (int i = 0; i < 256; i++)
        ck_assert_int_eq(tok_id(&tok, i), i + 1);
    unsigned char out[4];
    ck_assert_int_eq(tok_decode(&tok, 0, out), 0);
    ck_assert_int_eq(tok_decode(&tok, 1, out), 1);
    ck_assert_uint_eq(out[0], 0);
    tok_free(&tok);
}
END_TEST

START_TEST(test_boundary_mode)
{
    Tokenizer tok = {0};
    build(&tok, "ab\nba\n\nc\n", TOK_CHAR, 1, 1);
    const int32_t vocab[] = {TOK_BOUNDARY_CP, 'a', 'b', 'c'};
    assert_vocab(&tok, vocab, COUNT(vocab));
    ck_assert_int_eq(tok.has_boundary, 1);
    ck_assert_int_eq(tok_id(&tok, '\n'), -1);
    unsigned char out[4] = {0};
    ck_assert_int_eq(tok_decode(&tok, 0, out), 0);
    ck_assert_int_eq(tok_decode(&tok, 3, out), 1);
    ck_assert_uint_eq(out[0], 'c');
    /* Out-of-range ids decode to nothing. */
    ck_assert_int_eq(tok_decode(&tok, 4, out), 0);
    ck_assert_int_eq(tok_decode(&tok, -1, out), 0);
    const int32_t ids[] = {3, 1, 2};
    assert_encode(&tok, "cab", ids, COUNT(ids));
    /* A newline is not encodable in boundary mode; it is named as U+000A. */
    int32_t buf[4];
    size_t n;
    Error err = {{0}};
    ck_assert_int_eq(tok_encode(&tok, buf, &n, (const unsigned char *)"a\nb", 3,
                                "lines.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "U+000A"));
    tok_free(&tok);

    /* Only newlines: nothing to build a vocabulary from. */
    ck_assert_int_eq(tok_build(&tok, TOK_CHAR, 1, (const unsigned char *)"\n\n", 2,
                               &err), -1);
    ck_assert_int_eq(tok_build(&tok, TOK_CHAR, 0, (const unsigned char *)"", 0,
                               &err), -1);
}
END_TEST

static int count_substr(const char *s, const char *sub)
{
    int n = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
        n++;
    return n;
}

START_TEST(test_encode_missing)
{
    Tokenizer tok = {0};
    build(&tok, "abc", TOK_CHAR, 0, 1);
    int32_t ids[64];
    size_t n;
    Error err = {{0}};
    const char *s = "abxcyx\xC3\xA9";
    ck_assert_int_eq(tok_encode(&tok, ids, &n, (const unsigned char *)s, strlen(s),
                                "val.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "val.txt"));
    ck_assert_ptr_nonnull(strstr(err.msg, "'x' U+0078"));
    ck_assert_ptr_nonnull(strstr(err.msg, "'y' U+0079"));
    ck_assert_ptr_nonnull(strstr(err.msg, "'\xC3\xA9' U+00E9"));
    /* Each missing character is listed once. */
    ck_assert_int_eq(count_substr(err.msg, "U+0078"), 1);
    ck_assert_ptr_null(strstr(err.msg, "..."));

    /* More than ten missing: ten listed, then "...". */
    const char *many = "defghijklmnop";
    ck_assert_int_eq(tok_encode(&tok, ids, &n, (const unsigned char *)many,
                                strlen(many), "v", &err), -1);
    ck_assert_int_eq(count_substr(err.msg, "U+00"), 10);
    ck_assert_ptr_nonnull(strstr(err.msg, "'m' U+006D"));
    ck_assert_ptr_null(strstr(err.msg, "U+006E"));
    ck_assert_ptr_nonnull(strstr(err.msg, "..."));

    /* tok_check_known: the same list over a whole text, no ids written. */
    ck_assert_int_eq(tok_check_known(&tok, (const unsigned char *)s, strlen(s),
                                     "all.txt", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "all.txt: characters not in the model's "
                                 "vocabulary: 'x' U+0078, 'y' U+0079, '\xC3\xA9' U+00E9"));
    ck_assert_int_eq(tok_check_known(&tok, (const unsigned char *)"cab", 3, "ok", &err), 0);
    /* A newline is missing from a stream vocabulary without one... */
    ck_assert_int_eq(tok_check_known(&tok, (const unsigned char *)"a\nb", 3, "nl", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "U+000A"));
    tok_free(&tok);
    /* ...but only separates items when there is a boundary token. */
    build(&tok, "ab\nc", TOK_CHAR, 1, 1);
    ck_assert_int_eq(tok_check_known(&tok, (const unsigned char *)"a\nb\nc\n", 6, "l",
                                     &err), 0);
    tok_free(&tok);
}
END_TEST

/* The fast paths for runs of ASCII (eight bytes at a time in the UTF-8
 * check, whole runs between '\r's, tight loops in the vocabulary scan and
 * the encoder) give what the byte-by-byte definitions give, at every
 * position a run can end. */
START_TEST(test_long_ascii_runs)
{
    /* An invalid byte after p ASCII bytes (a '\n' at byte 3 when p > 3):
     * byte offset p, line 2 past the newline. */
    for (size_t p = 0; p <= 40; p++) {
        char raw[64];
        memset(raw, 'x', p);
        if (p > 3)
            raw[3] = '\n';
        memcpy(raw + p, "\xFFok", 3);
        unsigned char *text = NULL;
        size_t n;
        TextNotes notes;
        Error err = {{0}};
        ck_assert_int_eq(tok_prepare_text(&text, &n, &notes, (unsigned char *)raw,
                                          p + 3, TOK_CHAR, 1, TOK_INVALID_ERROR,
                                          "t.txt", &err), -1);
        char want[64];
        snprintf(want, sizeof want, "line %d, byte offset %zu ", p > 3 ? 2 : 1, p);
        ck_assert_msg(strstr(err.msg, want) != NULL, "p %zu: %s", p, err.msg);
    }
    /* CRLF and lone CRs between long runs: 20 x "ab\r\n" + "\r" + 10 x "c"
     * + "\r\n\r" becomes 20 x "ab\n" + "\r" + 10 x "c" + "\n\r", 21 CRLFs. */
    char raw[128], want[128];
    size_t rl = 0, wl = 0;
    for (int i = 0; i < 20; i++) {
        memcpy(raw + rl, "ab\r\n", 4), rl += 4;
        memcpy(want + wl, "ab\n", 3), wl += 3;
    }
    raw[rl++] = '\r', want[wl++] = '\r';
    memset(raw + rl, 'c', 10), rl += 10;
    memset(want + wl, 'c', 10), wl += 10;
    memcpy(raw + rl, "\r\n\r", 3), rl += 3;
    memcpy(want + wl, "\n\r", 2), wl += 2;
    size_t n;
    TextNotes notes;
    unsigned char *text = prepare(raw, rl, TOK_CHAR, 1, &n, &notes);
    ck_assert_uint_eq(n, wl);
    ck_assert_mem_eq(text, want, wl);
    ck_assert_uint_eq(notes.crlf, 21);
    free(text);
    /* Vocabulary and ids of 50 x "ab" + "é" + 30 x "b" + "z" + "a":
     * a 0, b 1, z 2, é 3 (code point order); 133 ids. */
    char s[160];
    size_t sl = 0;
    for (int i = 0; i < 50; i++)
        s[sl++] = 'a', s[sl++] = 'b';
    s[sl++] = '\xC3', s[sl++] = '\xA9';
    memset(s + sl, 'b', 30), sl += 30;
    s[sl++] = 'z', s[sl++] = 'a', s[sl] = 0;
    Tokenizer tok = {0};
    build(&tok, s, TOK_CHAR, 0, 1);
    const int32_t vocab[] = {'a', 'b', 'z', 0xE9};
    assert_vocab(&tok, vocab, 4);
    int32_t ids[133];
    for (int i = 0; i < 100; i++)
        ids[i] = i % 2;
    ids[100] = 3;
    for (int i = 101; i < 131; i++)
        ids[i] = 1;
    ids[131] = 2, ids[132] = 0;
    assert_encode(&tok, s, ids, 133);
    tok_free(&tok);
    /* A character missing from the vocabulary inside a long known run. */
    build(&tok, "ab\xC3\xA9", TOK_CHAR, 0, 1);
    int32_t out[160];
    Error err = {{0}};
    ck_assert_int_eq(tok_encode(&tok, out, &n, (unsigned char *)s, sl, "v.txt", &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "'z' U+007A"));
    ck_assert_int_eq(count_substr(err.msg, "U+00"), 1);
    tok_free(&tok);
}
END_TEST

START_TEST(test_from_vocab)
{
    Tokenizer tok = {0};
    Error err = {{0}};
    const int32_t good[] = {TOK_BOUNDARY_CP, '\t', 'a', 0xE9, 0x1F600};
    ck_assert_int_eq(tok_from_vocab(&tok, TOK_CHAR, good, 5, &err), 0);
    ck_assert_int_eq(tok.has_boundary, 1);
    ck_assert_int_eq(tok.vocab_size, 5);
    ck_assert_int_eq(tok_id(&tok, 'a'), 2);
    ck_assert_int_eq(tok_id(&tok, 0x1F600), 4);
    ck_assert_int_eq(tok_id(&tok, 'b'), -1);
    tok_free(&tok);
    const int32_t nob[] = {'a', 'b'};
    ck_assert_int_eq(tok_from_vocab(&tok, TOK_CHAR, nob, 2, &err), 0);
    ck_assert_int_eq(tok.has_boundary, 0);
    tok_free(&tok);

    static const struct {
        TokKind kind;
        int32_t v[4];
        int32_t n;
        const char *what;
    } bad[] = {
        {TOK_CHAR, {'b', 'a'}, 2, "unsorted"},
        {TOK_CHAR, {'a', 'a'}, 2, "duplicate"},
        {TOK_CHAR, {TOK_BOUNDARY_CP, 'a', 'c', 'b'}, 4, "unsorted after boundary"},
        {TOK_CHAR, {'a', TOK_BOUNDARY_CP}, 2, "boundary not first"},
        {TOK_CHAR, {TOK_BOUNDARY_CP, TOK_BOUNDARY_CP}, 2, "two boundaries"},
        {TOK_CHAR, {'a', 0xD800}, 2, "surrogate D800"},
        {TOK_CHAR, {'a', 0xDFFF}, 2, "surrogate DFFF"},
        {TOK_CHAR, {'a', 0x110000}, 2, "above U+10FFFF"},
        {TOK_CHAR, {-7}, 1, "negative"},
        {TOK_BYTE, {0, 256}, 2, "byte 256"},
        {TOK_CHAR, {'a'}, 0, "empty"},
        {(TokKind)7, {'a'}, 1, "unknown kind"},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        err.msg[0] = '\0';
        ck_assert_msg(tok_from_vocab(&tok, bad[i].kind, bad[i].v, bad[i].n, &err)
                      == -1, "tok_from_vocab accepted %s", bad[i].what);
        ck_assert_msg(err.msg[0] != '\0', "no message for %s", bad[i].what);
        tok_free(&tok);
    }
}
END_TEST

/* Pushes n bytes through a fresh stream, then flushes; returns the output. */
static size_t stream_all(const unsigned char *in, size_t n, unsigned char *out)
{
    Utf8Stream s = {0};
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char buf[8];
        int k = utf8_stream_push(&s, in[i], buf);
        ck_assert(k >= 0 && k <= 8);
        memcpy(out + m, buf, (size_t)k);
        m += (size_t)k;
    }
    unsigned char buf[4];
    int k = utf8_stream_flush(&s, buf);
    ck_assert(k >= 0 && k <= 4);
    memcpy(out + m, buf, (size_t)k);
    return m + (size_t)k;
}

#define FFFD "\xEF\xBF\xBD"

START_TEST(test_utf8_stream)
{
    unsigned char out[128];
    /* Valid text of every length passes through byte for byte. */
    const char *valid = "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF"
                        "\xED\x9F\xBF\xEE\x80\x80z";
    size_t n = stream_all((const unsigned char *)valid, strlen(valid), out);
    ck_assert_uint_eq(n, strlen(valid));
    ck_assert_mem_eq(out, valid, n);

    /* A multi-byte character is held back until complete. */
    Utf8Stream s = {0};
    unsigned char buf[8];
    ck_assert_int_eq(utf8_stream_push(&s, 0xF0, buf), 0);
    ck_assert_int_eq(utf8_stream_push(&s, 0x9F, buf), 0);
    ck_assert_int_eq(utf8_stream_push(&s, 0x98, buf), 0);
    ck_assert_int_eq(utf8_stream_push(&s, 0x80, buf), 4);
    ck_assert_mem_eq(buf, "\xF0\x9F\x98\x80", 4);
    ck_assert_int_eq(utf8_stream_flush(&s, buf), 0);

    static const struct {
        const char *in, *out;
        const char *what;
    } cases[] = {
        {"\x80", FFFD, "lone continuation"},
        {"a\xBFz", "a" FFFD "z", "continuation between ASCII"},
        {"\xC0\x80", FFFD FFFD, "overlong C0 80: two bad bytes"},
        {"\xFF", FFFD, "FF"},
        {"\xF5\x80", FFFD FFFD, "F5 lead"},
        {"\xE6\x97" "x", FFFD "x", "truncated then ASCII"},
        {"\xE6\x97\xE6\x97\xA5", FFFD "\xE6\x97\xA5", "truncated then valid"},
        {"\xE0\x80\x80", FFFD FFFD FFFD, "overlong E0 80 80"},
        {"\xED\xA0\x80", FFFD FFFD FFFD, "surrogate"},
        {"\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD, "above U+10FFFF"},
        {"\xE6\x97", FFFD, "incomplete at flush"},
        {"\xF0\x9F\x98", FFFD, "incomplete 4-byte at flush"},
        {"ab\xC3", "ab" FFFD, "incomplete 2-byte at flush"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        n = stream_all((const unsigned char *)cases[i].in, strlen(cases[i].in), out);
        ck_assert_msg(n == strlen(cases[i].out) &&
                      memcmp(out, cases[i].out, n) == 0,
                      "utf8 stream, %s: wrong output (%zu bytes)", cases[i].what, n);
    }

    /* Every byte sequence comes out as valid UTF-8 (checked by the tokenizer's
     * own validator on the output of random bytes). */
    unsigned char in[4096], big[4096 * 3 + 4];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof in; i++) {
        x = x * 1103515245u + 12345u;
        in[i] = (unsigned char)(x >> 16);
    }
    n = stream_all(in, sizeof in, big);
    unsigned char *text;
    size_t tn;
    TextNotes notes;
    Error err = {{0}};
    ck_assert_msg(tok_prepare_text(&text, &tn, &notes, big, n, TOK_CHAR, 0,
                                   TOK_INVALID_ERROR, "s", &err) == 0,
                  "stream output invalid: %s", err.msg);
    free(text);
}
END_TEST

/* prepare() with --invalid replace. */
static unsigned char *prepare_replace(const char *raw, size_t len, int normalize,
                                      size_t *out_len, TextNotes *notes)
{
    unsigned char *text = NULL;
    Error err = {{0}};
    int rc = tok_prepare_text(&text, out_len, notes, (const unsigned char *)raw,
                              len, TOK_CHAR, normalize, TOK_INVALID_REPLACE,
                              "test.txt", &err);
    ck_assert_msg(rc == 0, "tok_prepare_text (replace) failed: %s", err.msg);
    ck_assert_uint_eq(text[*out_len], 0);
    return text;
}

#define FFFD "\xEF\xBF\xBD"

/* --invalid replace: one U+FFFD per maximal ill-formed subpart, as in the
 * Unicode Standard's example (chapter 3, "U+FFFD Substitution of Maximal
 * Subparts") and Python's errors="replace"; the default stays strict. */
START_TEST(test_invalid_replace)
{
    static const struct {
        const char *in, *out;
        size_t replaced, first, line;
    } cases[] = {
        /* The standard's example: F1 80 80 (truncated), E1 80 (truncated),
         * C2 (truncated), 80 and 80 BF (stray continuation bytes). */
        {"a\xF1\x80\x80\xE1\x80\xC2" "b\x80" "c\x80\xBF" "d",
         "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d", 6, 1, 1},
        {"ok\n\x80", "ok\n" FFFD, 1, 3, 2},
        {"\xE6\x97", FFFD, 1, 0, 1},                      /* truncated at end */
        {"\xE6\x97\xE6\x97\xA5", FFFD "\xE6\x97\xA5", 1, 0, 1},
        {"x\xC0\x80y", "x" FFFD FFFD "y", 2, 1, 1},         /* overlong NUL */
        {"\xE0\x80\xAF", FFFD FFFD FFFD, 3, 0, 1},         /* overlong '/' */
        {"\xED\xA0\x80", FFFD FFFD FFFD, 3, 0, 1},         /* surrogate */
        {"\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD, 4, 0, 1}, /* > U+10FFFF */
        {"\xF0\x9F\x98" "x", FFFD "x", 1, 0, 1},
        {"\xFF\xFE", FFFD FFFD, 2, 0, 1},                   /* UTF-16 BOM */
        {"caf\xE9 ok", "caf" FFFD " ok", 1, 3, 1},           /* Latin-1 */
        {"fine \xC3\xA9", "fine \xC3\xA9", 0, 0, 0},         /* nothing to do */
    };
    for (size_t c = 0; c < COUNT(cases); c++) {
        size_t len = strlen(cases[c].in), n;
        TextNotes notes;
        unsigned char *text = prepare_replace(cases[c].in, len, 0, &n, &notes);
        ck_assert_msg(n == strlen(cases[c].out) && memcmp(text, cases[c].out, n) == 0,
                      "case %zu: wrong replacement", c);
        ck_assert_uint_eq(notes.replaced, cases[c].replaced);
        ck_assert_uint_eq(notes.first_replaced, cases[c].first);
        ck_assert_uint_eq(notes.first_replaced_line, cases[c].line);
        free(text);
        /* The default refuses the same bytes. */
        if (cases[c].replaced) {
            Error err = {{0}};
            unsigned char *t = NULL;
            ck_assert_int_eq(tok_prepare_text(&t, &n, &notes,
                                              (const unsigned char *)cases[c].in, len,
                                              TOK_CHAR, 0, TOK_INVALID_ERROR, "f",
                                              &err), -1);
            ck_assert_ptr_null(t);
        }
    }
    /* Replacement comes before the BOM, CRLF and NFC steps: a BOM is still
     * dropped, CRLF read as LF, and e + U+0301 composed. */
    const char raw[] = "\xEF\xBB\xBF" "e\xCC\x81\xFF\r\n";
    size_t n;
    TextNotes notes;
    unsigned char *text = prepare_replace(raw, sizeof raw - 1, 1, &n, &notes);
    const char expect[] = "\xC3\xA9" FFFD "\n";
    ck_assert_uint_eq(n, sizeof expect - 1);
    ck_assert_mem_eq(text, expect, n);
    ck_assert_int_eq(notes.had_bom, 1);
    ck_assert_uint_eq(notes.crlf, 1);
    ck_assert_int_eq(notes.normalized, 1);
    ck_assert_uint_eq(notes.replaced, 1);
    ck_assert_uint_eq(notes.first_replaced, 6);
    free(text);
    /* The byte tokenizer ignores the mode: bytes pass unchanged. */
    Error err = {{0}};
    ck_assert_int_eq(tok_prepare_text(&text, &n, &notes, (const unsigned char *)"a\xFF",
                                      2, TOK_BYTE, 1, TOK_INVALID_REPLACE, "f", &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_mem_eq(text, "a\xFF", 2);
    ck_assert_uint_eq(notes.replaced, 0);
    free(text);
}
END_TEST

/* Two independent implementations of the same rule must agree: replacing
 * random bytes in tok_prepare_text gives what the sampler's Utf8Stream
 * prints for them. */
START_TEST(test_invalid_replace_matches_stream)
{
    unsigned char in[8192], expect[8192 * 3 + 4];
    uint32_t x = 777;
    for (size_t i = 0; i < sizeof in; i++) {
        x = x * 1103515245u + 12345u;
        in[i] = (unsigned char)(x >> 16);
        if (in[i] == '\r')
            in[i] = 'r'; /* no CRLF rewriting */
    }
    in[0] = 'a'; /* no BOM */
    size_t n_expect = stream_all(in, sizeof in, expect);
    size_t n;
    TextNotes notes;
    unsigned char *text = prepare_replace((const char *)in, sizeof in, 0, &n, &notes);
    ck_assert_uint_gt(notes.replaced, 100);
    ck_assert_uint_eq(n, n_expect);
    ck_assert_mem_eq(text, expect, n);
    /* And the result is valid: the tokenizer builds from it. */
    Tokenizer tok;
    Error err = {{0}};
    ck_assert_msg(tok_build(&tok, TOK_CHAR, 0, text, n, &err) == 0, "%s", err.msg);
    ck_assert_int_ge(tok_id(&tok, 0xFFFD), 0);
    tok_free(&tok);
    free(text);
}
END_TEST

static Suite *tokenizer_suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("goldens");
    tcase_add_test(tc, test_ascii_golden);
    tcase_add_test(tc, test_accents_nfc_golden);
    tcase_add_test(tc, test_accents_nfd);
    tcase_add_test(tc, test_nfc_large_text);
    tcase_add_test(tc, test_cjk_golden);
    tcase_add_test(tc, test_emoji_golden);
    tcase_add_test(tc, test_mixed_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("text");
    tcase_add_test(tc, test_bom_and_crlf);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_invalid_replace);
    tcase_add_test(tc, test_invalid_replace_matches_stream);
    suite_add_tcase(s, tc);
    tc = tcase_create("vocabulary");
    tcase_add_test(tc, test_byte_tokenizer);
    tcase_add_test(tc, test_boundary_mode);
    tcase_add_test(tc, test_encode_missing);
    tcase_add_test(tc, test_long_ascii_runs);
    tcase_add_test(tc, test_from_vocab);
    suite_add_tcase(s, tc);
    tc = tcase_create("stream");
    tcase_add_test(tc, test_utf8_stream);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tokenizer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
