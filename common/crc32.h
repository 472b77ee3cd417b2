/* crc32.h - the CRC-32 used by zlib, PNG and Python's zlib.crc32
 * (polynomial 0xEDB88320, reflected, init and final xor 0xFFFFFFFF), so any
 * other program can check a tinychar checkpoint with a standard library. */
#ifndef TINYCHAR_CRC32_H
#define TINYCHAR_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc = 0, feed the bytes in any number of pieces. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
