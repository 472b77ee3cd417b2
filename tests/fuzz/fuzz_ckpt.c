/* fuzz_ckpt.c - libFuzzer target for the checkpoint loader: ckpt_decode, then
 * tok_from_vocab on what it accepted, as `tinychar info/sample/eval` do. The
 * first input byte picks the mode: odd = the rest is a whole file; even = the
 * rest is a checkpoint without its CRC-32, appended here, so mutations get
 * past the checksum to every field check behind it. An accepted checkpoint
 * must encode back to the same bytes. Built by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/crc32.h"
#include "../../model/ckpt.h"
#include "../../tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int raw = data[0] & 1;
    data++;
    size--;
    unsigned char *buf = malloc(size + 4);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    size_t len = size;
    if (!raw) {
        uint32_t crc = crc32_update(0, buf, size);
        for (int i = 0; i < 4; i++)
            buf[size + i] = (unsigned char)(crc >> (8 * i));
        len = size + 4;
    }
    Checkpoint ck;
    Error err;
    if (ckpt_decode(&ck, buf, len, "fuzz.ckpt", &err) == 0) {
        Tokenizer tok;
        if (tok_from_vocab(&tok, (TokKind)ck.st.tokenizer, ck.vocab, ck.cfg.vocab,
                           &err) == 0) {
            unsigned char out[4];
            for (int32_t id = 0; id < tok.vocab_size; id++)
                (void)tok_decode(&tok, id, out);
            tok_free(&tok);
        }
        /* Decoding then encoding is the identity on an accepted file. */
        unsigned char *again;
        size_t again_len;
        if (ckpt_encode(&ck, &again, &again_len, &err) != 0)
            abort();
        if (again_len != len || memcmp(again, buf, len) != 0)
            abort();
        free(again);
        ckpt_free(&ck);
    } else if (memchr(err.msg, '\0', sizeof err.msg) == NULL) {
        abort(); /* the message must be a terminated string */
    }
    free(buf);
    return 0;
}
