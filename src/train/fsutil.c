/*
 * fsutil.c - see fsutil.h. Every failure names the path and the system's reason.
 */
#include "train/fsutil.h"

#include "core/fileio.h"

#include "core/status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

ev_status ev_tr_write_atomic(const char *path, const void *data, size_t len) {
    return ev_write_file_atomic(path, data, len);
}

ev_status ev_tr_mkdirs(const char *dir) {
    if (!dir || !*dir) return EV_FAIL(EV_ERR_INVALID_ARG, "empty directory name");
    char *p = strdup(dir);
    if (!p) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c == '/' || c == '\0') {
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                ev_status st = EV_FAIL(EV_ERR_IO, "cannot create directory %s: %s", p,
                                       strerror(errno));
                free(p);
                return st;
            }
            if (!ev_tr_is_dir(p)) {
                ev_status st = EV_FAIL(EV_ERR_IO, "%s exists and is not a directory", p);
                free(p);
                return st;
            }
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    return EV_OK;
}

/* With b == NULL: a ".tmp" suffix (used for atomic writes). */
char *ev_tr_join(const char *a, const char *b) {
    size_t n = strlen(a) + (b ? strlen(b) : 4) + 2;
    char *s = malloc(n);
    if (!s) return NULL;
    if (!b) snprintf(s, n, "%s.tmp", a);
    else if (!*a) snprintf(s, n, "%s", b);
    else snprintf(s, n, "%s%s%s", a, a[strlen(a) - 1] == '/' ? "" : "/", b);
    return s;
}

ev_status ev_tr_read_file(const char *path, char **data, size_t *len) {
    *data = NULL;
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return EV_FAIL(EV_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap) break;
        char *nb = realloc(b, cap * 2);
        if (!nb) free(b);
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory reading %s", path);
    if (bad) {
        free(b);
        return EV_FAIL(EV_ERR_IO, "error reading %s", path);
    }
    b[n] = '\0';
    *data = b;
    if (len) *len = n;
    return EV_OK;
}

int ev_tr_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ev_tr_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

double ev_tr_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ev_sbuf_printf(ev_sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int k = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && (size_t)k < room) {
            b->len += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)k + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

void ev_sbuf_free(ev_sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

ev_status ev_sbuf_save(const ev_sbuf *b, const char *path) {
    if (b->oom) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory building %s", path);
    return ev_tr_write_atomic(path, b->s ? b->s : "", b->len);
}
