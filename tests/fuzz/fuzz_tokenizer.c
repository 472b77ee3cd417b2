/* fuzz_tokenizer.c - libFuzzer target for the UTF-8 path: tok_prepare_text,
 * tok_build, tok_encode, tok_decode, and the sampler's Utf8Stream. The first
 * byte picks the options (kind, normalize, --invalid, boundary token); the
 * rest is the file. Checks, beyond sanitizers: replace mode never refuses
 * text; prepared text builds a vocabulary that encodes it; decoding the ids
 * gives the text back; Utf8Stream output is always valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    TokKind kind = (data[0] & 1) ? TOK_BYTE : TOK_CHAR;
    int normalize = (data[0] >> 1) & 1;
    TokInvalid invalid = (data[0] >> 2) & 1 ? TOK_INVALID_REPLACE : TOK_INVALID_ERROR;
    int boundary = (data[0] >> 3) & 1;
    data++;
    size--;

    unsigned char *text;
    size_t len;
    TextNotes notes;
    Error err;
    int rc = tok_prepare_text(&text, &len, &notes, data, size, kind, normalize,
                              invalid, "fuzz.txt", &err);
    if (rc != 0 && (kind == TOK_BYTE || invalid == TOK_INVALID_REPLACE))
        abort(); /* these accept any bytes */
    if (rc == 0) {
        Tokenizer tok;
        if (tok_build(&tok, kind, boundary, text, len, &err) == 0) {
            int32_t *ids = malloc((len + 1) * sizeof *ids);
            unsigned char *back = malloc(len * 4 + 1);
            if (!ids || !back)
                abort();
            size_t n_ids, n_back = 0;
            if (tok_check_known(&tok, text, len, "fuzz.txt", &err) != 0)
                abort();
            /* With a boundary token '\n' is not in the vocabulary: encode
             * line by line, as data/ does. */
            size_t start = 0;
            for (size_t i = 0; i <= len; i++) {
                if (i < len && !(boundary && text[i] == '\n'))
                    continue;
                if (tok_encode(&tok, ids, &n_ids, text + start, i - start,
                               "fuzz.txt", &err) != 0)
                    abort();
                for (size_t k = 0; k < n_ids; k++) {
                    if (ids[k] < 0 || ids[k] >= tok.vocab_size)
                        abort();
                    n_back += (size_t)tok_decode(&tok, ids[k], back + n_back);
                }
                if (i < len)
                    back[n_back++] = '\n';
                start = i + 1;
            }
            if (n_back != len || memcmp(back, text, len) != 0)
                abort(); /* decode(encode(text)) != text */
            free(ids);
            free(back);
            tok_free(&tok);
        }
        free(text);
    }

    /* Whatever bytes a byte-level model emits, Utf8Stream prints valid UTF-8. */
    Utf8Stream st = {0};
    unsigned char *out = malloc(size * 8 + 8);
    if (!out)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += (size_t)utf8_stream_push(&st, data[i], out + n);
    n += (size_t)utf8_stream_flush(&st, out + n);
    if (tok_prepare_text(&text, &len, &notes, out, n, TOK_CHAR, 0, TOK_INVALID_ERROR,
                         "stream", &err) != 0)
        abort();
    free(text);
    free(out);
    return 0;
}
