/*
 * sbuf.h - the one growable string buffer (sbuf.c) for text outputs: CSV, TSV, JSON, Markdown,
 * SVG. Appends are printf-style; an allocation failure sets a sticky `oom` flag that the caller
 * checks once at the end (ev_sbuf_save does it for you), so building code needs no error paths.
 *
 *   ev_sbuf b = {0};
 *   ev_sbuf_printf(&b, "%d,%s\n", i, name);
 *   st = ev_sbuf_save(&b, path);   // atomic write; EV_ERR_NO_MEMORY when an append failed
 *   ev_sbuf_free(&b);
 *
 * Extend: escapers for a text format live with that format (XML: util/svg.h ev_svg_escape);
 * add one here only when several formats share it.
 */
#ifndef EV_UTIL_SBUF_H
#define EV_UTIL_SBUF_H

#include "edgevision.h"

#include <stddef.h>

typedef struct ev_sbuf {
    char *s; /* NUL-terminated once anything was appended; NULL before */
    size_t len, cap;
    int oom;
} ev_sbuf;

#if defined(__GNUC__)
void ev_sbuf_printf(ev_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#else
void ev_sbuf_printf(ev_sbuf *b, const char *fmt, ...);
#endif
/* Appends `text` with the characters that break a Markdown table cell escaped ('|', newline). */
void ev_sbuf_md(ev_sbuf *b, const char *text);
void ev_sbuf_free(ev_sbuf *b);
/* Writes the buffer atomically to `path` (EV_ERR_NO_MEMORY when an append failed). */
ev_status ev_sbuf_save(const ev_sbuf *b, const char *path);

#endif
