/*
 * status.c - status strings, the thread-local last-error message and the library's version.
 */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EV_ERROR_CAP 1024

/* Messages longer than the buffer are cut on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static _Thread_local char g_error[EV_ERROR_CAP];

const char *ev_status_string(ev_status status) {
    switch (status) {
    case EV_OK: return "success";
    case EV_ERR_INVALID_ARG: return "invalid argument";
    case EV_ERR_IO: return "I/O error";
    case EV_ERR_FORMAT: return "malformed or truncated file";
    case EV_ERR_UNSUPPORTED: return "unsupported";
    case EV_ERR_NO_MEMORY: return "out of memory";
    case EV_ERR_SHAPE: return "shape or type mismatch";
    case EV_ERR_NEEDS_DEVICE: return "needs a device that is not present";
    case EV_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *ev_version(void) { return EV_VERSION_STRING; }

const char *ev_last_error(void) { return g_error; }

void ev_clear_error(void) { g_error[0] = '\0'; }

ev_status ev_set_error(ev_status status, const char *file, int line, const char *fmt, ...) {
    char msg[EV_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *base = strstr(file, "src/");
    snprintf(g_error, sizeof g_error, "%s [%s:%d]", msg, base ? base : file, line);
    return status;
}

void ev_error_prefix(const char *fmt, ...) {
    char prefix[EV_ERROR_CAP];
    char old[EV_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_error, sizeof old);
    snprintf(g_error, sizeof g_error, "%s: %s", prefix, old);
}
