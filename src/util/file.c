/*
 * file.c - whole-file reads and atomic writes (see file.h). Every failure names the path and
 * the system's reason. Extend: keep all temp-file-and-rename logic here.
 */
#include "util/file.h"

#include "core/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ev_status ev_read_file_max(const char *path, size_t max_bytes, uint8_t **data, size_t *size) {
    *data = NULL;
    *size = 0;
    if (!path || !*path) return EV_FAIL(EV_ERR_INVALID_ARG, "no file name given");
    FILE *f = fopen(path, "rb");
    if (!f) return EV_FAIL(EV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        int e = errno;
        fclose(f);
        return EV_FAIL(EV_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        fclose(f);
        return EV_FAIL(EV_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < 0 || (unsigned long long)sb.st_size > max_bytes) {
        fclose(f);
        return EV_FAIL(EV_ERR_FORMAT, "%s: file of %lld bytes is too large (limit %zu)", path,
                       (long long)sb.st_size, max_bytes);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return EV_FAIL(EV_ERR_NO_MEMORY, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    int err = ferror(f);
    int e = errno;
    fclose(f);
    if (got != n || err) {
        free(buf);
        if (err) return EV_FAIL(EV_ERR_IO, "%s: read error: %s", path, strerror(e));
        return EV_FAIL(EV_ERR_IO, "%s: file shrank while reading (%zu of %zu bytes)", path, got,
                       n);
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return EV_OK;
}

static void release(ev_atomic_file *a) {
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

ev_status ev_atomic_begin_path(ev_atomic_file *a, const char *path) {
    memset(a, 0, sizeof *a);
    if (!path || !*path) return EV_FAIL(EV_ERR_INVALID_ARG, "no file name given");
    size_t n = strlen(path) + 5;
    a->path = strdup(path);
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) {
        release(a);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(a->tmp, n, "%s.tmp", path);
    return EV_OK;
}

ev_status ev_atomic_begin(ev_atomic_file *a, const char *path) {
    EV_TRY(ev_atomic_begin_path(a, path));
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        int e = errno;
        ev_status st = EV_FAIL(EV_ERR_IO, "cannot write %s: %s", a->tmp, strerror(e));
        release(a);
        errno = e;
        return st;
    }
    return EV_OK;
}

/* fsync of a file written by someone else (ev_atomic_begin_path). */
static int sync_path(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

ev_status ev_atomic_commit(ev_atomic_file *a) {
    if (!a || !a->tmp) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_atomic_commit: nothing begun");
    int bad = 0, err = 0;
    if (a->f) {
        if (ferror(a->f)) bad = 1, err = errno ? errno : EIO;
        if (fflush(a->f) != 0 || fsync(fileno(a->f)) != 0) bad = 1, err = errno;
        if (fclose(a->f) != 0 && !bad) bad = 1, err = errno;
        a->f = NULL;
    } else if (sync_path(a->tmp) != 0) {
        bad = 1, err = errno;
    }
    if (!bad && rename(a->tmp, a->path) != 0) bad = 1, err = errno;
    ev_status st = EV_OK;
    if (bad) {
        unlink(a->tmp);
        st = EV_FAIL(EV_ERR_IO, "cannot write %s: %s", a->path, strerror(err));
    }
    release(a);
    return st;
}

void ev_atomic_abort(ev_atomic_file *a) {
    if (!a) return;
    if (a->f) fclose(a->f);
    if (a->tmp) unlink(a->tmp);
    release(a);
}

ev_status ev_write_file_atomic(const char *path, const void *data, size_t len) {
    if (!path || (len && !data))
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_write_file_atomic: NULL argument");
    ev_atomic_file a;
    EV_TRY(ev_atomic_begin(&a, path));
    if (len && fwrite(data, 1, len, a.f) != len) {
        int e = errno;
        ev_atomic_abort(&a);
        return EV_FAIL(EV_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    return ev_atomic_commit(&a);
}

/* ---- the public names (edgevision.h), for programs outside the library ------------------- */

struct ev_file_writer {
    ev_atomic_file a;
};

ev_status ev_file_write_atomic(const char *path, const void *data, size_t size) {
    return ev_write_file_atomic(path, data, size);
}

ev_status ev_file_writer_open(const char *path, ev_file_writer **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_file_writer_open: out is NULL");
    *out = NULL;
    ev_file_writer *w = calloc(1, sizeof *w);
    if (!w) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_atomic_begin(&w->a, path);
    if (st != EV_OK) {
        free(w);
        return st;
    }
    *out = w;
    return EV_OK;
}

FILE *ev_file_writer_stream(ev_file_writer *w) { return w ? w->a.f : NULL; }

ev_status ev_file_writer_commit(ev_file_writer *w) {
    if (!w) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_file_writer_commit: NULL writer");
    ev_status st = ev_atomic_commit(&w->a);
    free(w);
    return st;
}

void ev_file_writer_abort(ev_file_writer *w) {
    if (!w) return;
    ev_atomic_abort(&w->a);
    free(w);
}
