/* tokenizer.h - UTF-8 text <-> token ids.
 * Two kinds: TOK_CHAR maps each Unicode code point of the training text to an
 * id (vocabulary sorted by code point); TOK_BYTE maps each of the 256 byte
 * values to an id and accepts any file. Optionally id 0 is a boundary token
 * that separates items (lines mode). Knows nothing of models or batches. */
#ifndef TINYCHAR_TOKENIZER_H
#define TINYCHAR_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

typedef enum { TOK_CHAR = 0, TOK_BYTE = 1 } TokKind;

/* The vocabulary entry of the boundary token (it has no code point). */
#define TOK_BOUNDARY_CP (-1)

/* What tok_prepare_text does with invalid UTF-8 (TOK_CHAR only). */
typedef enum {
    TOK_INVALID_ERROR = 0,   /* refuse the text, naming the first bad byte */
    TOK_INVALID_REPLACE = 1  /* replace each bad sequence with U+FFFD */
} TokInvalid;

/* What tok_prepare_text changed, so the program can report it once. */
typedef struct {
    int had_bom;          /* a leading U+FEFF was dropped */
    size_t crlf;          /* number of CRLF pairs read as LF */
    int normalized;       /* NFC changed the text */
    size_t replaced;      /* TOK_INVALID_REPLACE: invalid sequences replaced */
    size_t first_replaced;      /* byte offset of the first one in the input */
    size_t first_replaced_line; /* and its 1-based line */
} TextNotes;

/* Turns raw file bytes into the text the tokenizer reads:
 *  - TOK_CHAR: checks the bytes are valid UTF-8 (else an error naming `name`,
 *    the line and the byte offset of the first bad sequence; with
 *    TOK_INVALID_REPLACE each maximal ill-formed subsequence, as Unicode
 *    defines it in chapter 3 "U+FFFD substitution", becomes one U+FFFD
 *    instead, counted in notes), drops a leading
 *    byte order mark, reads CRLF as LF, and (if normalize) puts the text in
 *    Unicode Normalization Form C, so "e" + combining acute and the single
 *    character "é" become the same token.
 *  - TOK_BYTE: drops a leading BOM and reads CRLF as LF; any bytes accepted
 *    (`invalid` is ignored).
 * *out is a new NUL-terminated buffer of *out_len bytes. */
int tok_prepare_text(unsigned char **out, size_t *out_len, TextNotes *notes,
                     const unsigned char *raw, size_t len, TokKind kind,
                     int normalize, TokInvalid invalid, const char *name,
                     Error *err);

typedef struct {
    TokKind kind;
    int has_boundary;     /* id 0 is the boundary token */
    int32_t vocab_size;   /* V, the boundary token included */
    int32_t *vocab;       /* (V) id -> code point (or byte), TOK_BOUNDARY_CP for 0 */
    int32_t *id_of;       /* (max_cp + 1) code point -> id, or -1 if absent */
    int32_t max_cp;
} Tokenizer;

/* Builds the vocabulary from prepared text: every distinct code point (TOK_CHAR)
 * or all 256 bytes (TOK_BYTE). With has_boundary, id 0 is the boundary token
 * and '\n' is not a vocabulary character, since newlines separate items. */
int tok_build(Tokenizer *tok, TokKind kind, int has_boundary,
              const unsigned char *text, size_t len, Error *err);

/* Rebuilds a tokenizer from a stored vocabulary (as written in a checkpoint),
 * checking it is sorted, unique and made of valid code points. */
int tok_from_vocab(Tokenizer *tok, TokKind kind, const int32_t *vocab,
                   int32_t vocab_size, Error *err);

void tok_free(Tokenizer *tok);

/* Id of one code point (or byte), or -1 if it is not in the vocabulary. */
static inline int32_t tok_id(const Tokenizer *tok, int32_t cp)
{
    return (cp >= 0 && cp <= tok->max_cp) ? tok->id_of[cp] : -1;
}

/* Encodes prepared text into ids (ids needs room for len entries; *n_ids is
 * set to the number written). A character missing from the vocabulary is an
 * error that lists the missing characters (up to 10) and names `name`. */
int tok_encode(const Tokenizer *tok, int32_t *ids, size_t *n_ids,
               const unsigned char *text, size_t len, const char *name,
               Error *err);

/* Checks that every character of a whole prepared text is in the vocabulary,
 * with tok_encode's error (up to 10 missing characters listed) if not. With a
 * boundary token '\n' is skipped: newlines separate items. For callers that
 * encode piece by piece and want the error to list the whole text's misses. */
int tok_check_known(const Tokenizer *tok, const unsigned char *text, size_t len,
                    const char *name, Error *err);

/* Writes the UTF-8 bytes of one id into out (up to 4 bytes) and returns how
 * many; the boundary token decodes to no bytes. */
int tok_decode(const Tokenizer *tok, int32_t id, unsigned char out[4]);

/* Writes a printable description of code point cp ("'é' U+00E9") into buf. */
void tok_describe(int32_t cp, TokKind kind, char *buf, size_t size);

/* Holds back bytes until they form complete UTF-8 characters, so the output of
 * a byte-level model is always valid UTF-8: a byte that cannot start or
 * continue a valid sequence becomes U+FFFD. */
typedef struct {
    unsigned char pending[4];
    int n_pending;
    int need;   /* total length of the pending sequence */
} Utf8Stream;

/* Feeds one byte; writes the bytes that are now safe to print into out
 * (up to 8) and returns their count. */
int utf8_stream_push(Utf8Stream *s, unsigned char byte, unsigned char out[8]);
/* Ends the stream: an incomplete sequence left over becomes U+FFFD. */
int utf8_stream_flush(Utf8Stream *s, unsigned char out[4]);

#endif
