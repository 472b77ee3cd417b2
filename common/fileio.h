/* fileio.h - whole-file reads and crash-safe writes, for the programs.
 * Library folders (model/, tokenizer/, data/) never touch files; the programs
 * read bytes with file_read and hand them down, and save with file_write_atomic. */
#ifndef TINYCHAR_FILEIO_H
#define TINYCHAR_FILEIO_H

#include <stddef.h>

#include "error.h"

/* Reads the whole regular file at path into a new buffer (*data, *len; the
 * buffer has one extra NUL byte after the data). Directories, FIFOs, devices
 * and files that change size while being read are refused with a message. */
int file_read(const char *path, unsigned char **data, size_t *len, Error *err);

/* Writes len bytes to path so that path holds either its old content or all
 * of the new one, never a mix: write to "path.tmp", fflush, fsync, rename
 * over path, fsync the directory. On failure the temporary file is removed
 * and path is untouched. */
int file_write_atomic(const char *path, const void *data, size_t len, Error *err);

/* Takes an exclusive lock on the file at path (created if missing) and keeps
 * it until the process exits or file_unlock(*fd): the kernel drops it when
 * the process dies, so a crash never leaves a stale lock. Fails at once,
 * naming path, if another process holds it. */
int file_lock(const char *path, int *fd, Error *err);
void file_unlock(int fd);

/* Creates directory path (and its parents) if missing, like `mkdir -p`. */
int file_mkdirs(const char *path, Error *err);

#endif
