/*
 * file.h - whole-file I/O for every module (file.c): reading a regular file into memory, and
 * writing a file atomically, so readers see either the old file or the new one, never a
 * half-written one.
 *
 *   uint8_t *d; size_t n;
 *   EV_TRY(ev_read_file(path, &d, &n));              // d[n] == '\0', free(d)
 *   EV_TRY(ev_write_file_atomic(path, bytes, len));  // one buffer
 *
 *   ev_atomic_file a;                                // a stream: PATH.tmp in the same folder
 *   EV_TRY(ev_atomic_begin(&a, path));
 *   fprintf(a.f, ...);
 *   st = ok ? ev_atomic_commit(&a) : (ev_atomic_abort(&a), st);
 *
 * ev_atomic_commit flushes, fsyncs and renames PATH.tmp over PATH; ev_atomic_abort (and any
 * failed commit) unlinks PATH.tmp. file.c is the one place in the code base that renames a file.
 * Extend: a new kind of writer (a library that opens the path itself) takes a path-only begin
 * (ev_atomic_begin_path) and writes to a.tmp; do not add another temp-and-rename elsewhere.
 */
#ifndef EV_UTIL_FILE_H
#define EV_UTIL_FILE_H

#include "edgevision.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Largest file ev_read_file accepts (2 GiB): model files, datasets' text files. */
#define EV_FILE_MAX_BYTES ((size_t)2 << 30)

/* Reads the regular file `path` whole into a malloc'd buffer with one NUL byte after the data
 * (not counted in *size). Files over `max_bytes` fail with EV_ERR_FORMAT; a missing, unreadable
 * or non-regular file with EV_ERR_IO naming the path and the reason. */
ev_status ev_read_file_max(const char *path, size_t max_bytes, uint8_t **data, size_t *size);

static inline ev_status ev_read_file(const char *path, uint8_t **data, size_t *size) {
    return ev_read_file_max(path, EV_FILE_MAX_BYTES, data, size);
}

/* The same as text: *text is NUL-terminated; len may be NULL. */
static inline ev_status ev_read_text(const char *path, char **text, size_t *len) {
    uint8_t *d = NULL;
    size_t n = 0;
    ev_status st = ev_read_file_max(path, EV_FILE_MAX_BYTES, &d, &n);
    *text = (char *)d;
    if (len) *len = n;
    return st;
}

typedef struct ev_atomic_file {
    FILE *f;    /* the temporary file's stream ("wb"); NULL after ev_atomic_begin_path */
    char *path; /* the target */
    char *tmp;  /* PATH.tmp, beside the target */
} ev_atomic_file;

/* Opens PATH.tmp for writing; on failure *a is empty, nothing is left on disk and errno keeps
 * the system's reason (callers that print their own message use it). */
ev_status ev_atomic_begin(ev_atomic_file *a, const char *path);
/* Only names PATH.tmp (a->f stays NULL) for writers that open the file themselves. */
ev_status ev_atomic_begin_path(ev_atomic_file *a, const char *path);
/* Flushes, fsyncs and closes PATH.tmp and renames it over PATH. On failure PATH.tmp is removed
 * and PATH is untouched. Either way *a is released. */
ev_status ev_atomic_commit(ev_atomic_file *a);
/* Closes and removes PATH.tmp and releases *a; safe on an empty or released *a. */
void ev_atomic_abort(ev_atomic_file *a);

/* Writes `len` bytes to `path` atomically (begin, write, commit). */
ev_status ev_write_file_atomic(const char *path, const void *data, size_t len);

#endif
