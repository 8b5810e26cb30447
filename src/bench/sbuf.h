/*
 * sbuf.h - a growable string for the report and SVG writers: printf-style appends, a sticky
 * out-of-memory flag checked once at the end (sb.oom), and XML escaping.
 */
#ifndef EV_BENCH_SBUF_H
#define EV_BENCH_SBUF_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ev_sbuf {
    char *s;
    size_t len, cap;
    int oom;
} ev_sbuf;

static inline void ev_sbuf_printf(ev_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void ev_sbuf_printf(ev_sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* Appends `text` with & < > " ' escaped for XML. */
static inline void ev_sbuf_xml(ev_sbuf *b, const char *text) {
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&': ev_sbuf_printf(b, "&amp;"); break;
        case '<': ev_sbuf_printf(b, "&lt;"); break;
        case '>': ev_sbuf_printf(b, "&gt;"); break;
        case '"': ev_sbuf_printf(b, "&quot;"); break;
        case '\'': ev_sbuf_printf(b, "&apos;"); break;
        default: ev_sbuf_printf(b, "%c", *p);
        }
    }
}

/* Appends `text` with the characters that break a Markdown table cell escaped. */
static inline void ev_sbuf_md(ev_sbuf *b, const char *text) {
    for (const char *p = text; *p; p++) {
        if (*p == '|') ev_sbuf_printf(b, "\\|");
        else if (*p == '\n') ev_sbuf_printf(b, " ");
        else ev_sbuf_printf(b, "%c", *p);
    }
}

#endif
