/*
 * status.h - internal error reporting: every fallible function returns ev_status and, on failure,
 * records a precise message with the file and line that raised it (thread-local, read back through
 * ev_last_error()).
 *
 *   return EV_FAIL(EV_ERR_FORMAT, "%s: tensor %d: buffer %u out of range", path, t, b);
 *   EV_TRY(ev_tflite_parse(...));            // propagate a failure unchanged
 *   EV_ALLOC(ptr, n * sizeof *ptr);          // malloc or fail with EV_ERR_NO_MEMORY
 *
 * Messages read "what: detail [src/formats/tflite.c:123]". Add context on the way up with
 * ev_error_prefix("loading %s", path).
 */
#ifndef EV_CORE_STATUS_H
#define EV_CORE_STATUS_H

#include "edgevision.h"

#include <stdlib.h>

#if defined(__GNUC__)
#define EV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EV_PRINTF(a, b)
#endif

/* Records a message for `status` and returns `status`. */
ev_status ev_set_error(ev_status status, const char *file, int line, const char *fmt, ...)
    EV_PRINTF(4, 5);
/* Prepends "context: " to the current message. */
void ev_error_prefix(const char *fmt, ...) EV_PRINTF(1, 2);

#define EV_FAIL(status, ...) ev_set_error((status), __FILE__, __LINE__, __VA_ARGS__)

#define EV_TRY(call)                                                                              \
    do {                                                                                          \
        ev_status ev_try_s_ = (call);                                                             \
        if (ev_try_s_ != EV_OK) return ev_try_s_;                                                 \
    } while (0)

/* Like EV_TRY but jumps to a cleanup label with `st` set. */
#define EV_TRY_GOTO(st, call, label)                                                              \
    do {                                                                                          \
        (st) = (call);                                                                            \
        if ((st) != EV_OK) goto label;                                                            \
    } while (0)

#define EV_ALLOC(ptr, nbytes)                                                                     \
    do {                                                                                          \
        size_t ev_alloc_n_ = (nbytes);                                                            \
        (ptr) = calloc(1, ev_alloc_n_ ? ev_alloc_n_ : 1);                                         \
        if (!(ptr)) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory allocating %zu bytes",       \
                                   ev_alloc_n_);                                                  \
    } while (0)

#endif
