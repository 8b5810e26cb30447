/*
 * fsutil.h - small file-system helpers of the training tools: atomic whole-file writes
 * (PATH.tmp written, flushed, renamed), mkdir -p, path joining, reading a whole file and a
 * growable string buffer for building text outputs (CSV, TSV, SVG, Markdown).
 */
#ifndef EV_TRAIN_FSUTIL_H
#define EV_TRAIN_FSUTIL_H

#include "edgevision.h"

#include <stdarg.h>

ev_status ev_tr_write_atomic(const char *path, const void *data, size_t len);
/* Creates `dir` and its parents (mode 0777 minus umask); EV_ERR_IO naming the failing part. */
ev_status ev_tr_mkdirs(const char *dir);
/* "a/b" into a malloc'd string; NULL when out of memory. */
char *ev_tr_join(const char *a, const char *b);
/* Reads a whole file into a NUL-terminated malloc'd buffer. */
ev_status ev_tr_read_file(const char *path, char **data, size_t *len);
int ev_tr_is_dir(const char *path);
int ev_tr_is_file(const char *path);
/* Seconds from a monotonic clock. */
double ev_tr_now(void);

typedef struct ev_sbuf {
    char *s;
    size_t len, cap;
    int oom;
} ev_sbuf;
void ev_sbuf_printf(ev_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ev_sbuf_free(ev_sbuf *b);
/* Writes the buffer atomically to `path` (EV_ERR_NO_MEMORY when an append failed). */
ev_status ev_sbuf_save(const ev_sbuf *b, const char *path);

#endif
