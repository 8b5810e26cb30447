/*
 * sbuf.c - the growable string buffer (see sbuf.h). Extend: new append helpers go through
 * ev_sbuf_printf so the oom flag stays the only error channel.
 */
#include "util/sbuf.h"

#include "core/status.h"
#include "util/file.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void ev_sbuf_md(ev_sbuf *b, const char *text) {
    for (const char *p = text; p && *p; p++) {
        if (*p == '|') ev_sbuf_printf(b, "\\|");
        else if (*p == '\n') ev_sbuf_printf(b, " ");
        else ev_sbuf_printf(b, "%c", *p);
    }
}

void ev_sbuf_free(ev_sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

ev_status ev_sbuf_save(const ev_sbuf *b, const char *path) {
    if (b->oom) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory building %s", path);
    return ev_write_file_atomic(path, b->s ? b->s : "", b->len);
}
