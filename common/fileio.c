/* fileio.c - POSIX file reading and atomic replacement. */
#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read(const char *path, unsigned char **data, size_t *len, Error *err)
{
    *data = NULL;
    *len = 0;
    /* O_NONBLOCK so that opening a FIFO with no writer cannot hang; it is
     * refused below as not a regular file anyway. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return err_set(err, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return err_set(err, "cannot stat '%s': %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return err_set(err, "'%s' is a directory, not a file", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, "'%s' is not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if ((off_t)size != st.st_size || size == SIZE_MAX) {
        close(fd);
        return err_set(err, "'%s' is too large to read (%lld bytes)", path,
                       (long long)st.st_size);
    }
    unsigned char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return err_set(err, "out of memory reading '%s' (%zu bytes)", path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return err_set(err, "cannot read '%s': %s", path, strerror(e));
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return err_set(err, "'%s' changed size while being read", path);
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return 0;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0)
            n = 1; /* the root directory */
        if (n >= sizeof dir)
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int file_write_atomic(const char *path, const void *data, size_t len, Error *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return err_set(err, "path too long: '%s'", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return err_set(err, "cannot create '%s': %s", tmp, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    int e = errno;
    ok = ok && fflush(f) == 0;
    if (ok)
        e = errno;
    ok = ok && fsync(fileno(f)) == 0;
    if (!ok)
        e = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return err_set(err, "cannot write '%s': %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return err_set(err, "cannot rename '%s' to '%s': %s", tmp, path,
                       strerror(e));
    }
    sync_parent_dir(path);
    return 0;
}

int file_mkdirs(const char *path, Error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return err_set(err, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_set(err, "cannot create directory '%s': %s", buf,
                           strerror(errno));
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(err, "'%s' exists and is not a directory", path);
    return 0;
}

int file_lock(const char *path, int *fd, Error *err)
{
    *fd = open(path, O_RDWR | O_CREAT, 0666);
    if (*fd < 0)
        return err_set(err, "cannot create lock file '%s': %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return err_set(err, "another tinychar is training into this directory "
                           "(it holds '%s'); use another --out", path);
        return err_set(err, "cannot lock '%s': %s", path, strerror(e));
    }
    return 0;
}

void file_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the descriptor releases the flock */
}
