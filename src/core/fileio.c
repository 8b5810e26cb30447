/*
 * fileio.c - whole-file writes that never leave a half-written result (see fileio.h): write to
 * "<path>.tmp", flush and fsync, rename over the target. On any failure the temporary file is
 * removed and the message names the path and the system's reason. Used by every module that
 * saves what a user produced (results, reports, run folders, models).
 */
#include "core/fileio.h"

#include "core/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ev_status ev_write_file_atomic(const char *path, const void *data, size_t len) {
    if (!path || (len && !data))
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_write_file_atomic: NULL argument");
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        ev_status st = EV_FAIL(EV_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    int bad = len && fwrite(data, 1, len, f) != len;
    int err = errno;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) bad = 1, err = errno;
    if (fclose(f) != 0) bad = 1, err = errno;
    if (!bad && rename(tmp, path) != 0) bad = 1, err = errno;
    ev_status st = EV_OK;
    if (bad) {
        remove(tmp);
        st = EV_FAIL(EV_ERR_IO, "cannot write %s: %s", path, strerror(err));
    }
    free(tmp);
    return st;
}

/* The public name (edgevision.h) of the same operation, for programs outside the library. */
ev_status ev_file_write_atomic(const char *path, const void *data, size_t size) {
    return ev_write_file_atomic(path, data, size);
}
