/*
 * flatbuf.h - a bounds-checked FlatBuffers reader (tables, vectors, strings, scalars).
 *
 * Every access checks offsets and lengths against the buffer in 64-bit arithmetic. Errors are
 * sticky: the first out-of-bounds access records a message in the reader and every later access
 * returns a default (0, empty vector, invalid table) without touching memory. Callers check
 * fb_ok() at the points where a bad value could do harm (before allocating by a length, at the
 * end of a section). Lengths returned are already bounded by the buffer size.
 *
 * No library in Debian reads FlatBuffers from C with these guarantees (flatcc is not packaged),
 * and the TFLite schema needs only this small subset.
 */
#ifndef EV_FORMATS_FLATBUF_H
#define EV_FORMATS_FLATBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct fb_reader {
    const uint8_t *p;
    size_t n;
    int err;           /* sticky: nonzero after the first bad access                     */
    char msg[160];     /* what the first bad access was                                  */
} fb_reader;

typedef struct fb_table {
    uint64_t pos; /* table start                                                          */
    uint64_t vt;  /* vtable start                                                         */
    uint32_t vt_len;
    int valid;
} fb_table;

typedef struct fb_vec {
    uint64_t start; /* first element                                                      */
    uint32_t len;
} fb_vec;

static inline void fb_fail(fb_reader *r, const char *what, uint64_t at) {
    if (!r->err) {
        r->err = 1;
        size_t i = 0;
        for (; what[i] && i < sizeof r->msg - 40; i++) r->msg[i] = what[i];
        r->msg[i] = '\0';
        char tail[40];
        int k = 0;
        const char *s = " at byte ";
        while (*s) tail[k++] = *s++;
        char digits[24];
        int d = 0;
        do {
            digits[d++] = (char)('0' + at % 10);
            at /= 10;
        } while (at && d < 20);
        while (d) tail[k++] = digits[--d];
        tail[k] = '\0';
        memcpy(r->msg + i, tail, (size_t)k + 1);
    }
}

static inline int fb_ok(const fb_reader *r) { return !r->err; }

static inline int fb_in(fb_reader *r, uint64_t at, uint64_t size, const char *what) {
    if (r->err) return 0;
    if (at > r->n || size > r->n - at) {
        fb_fail(r, what, at);
        return 0;
    }
    return 1;
}

static inline uint32_t fb_rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint16_t fb_rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint64_t fb_rd_u64(const uint8_t *p) {
    return (uint64_t)fb_rd_u32(p) | (uint64_t)fb_rd_u32(p + 4) << 32;
}

static inline uint32_t fb_u32_at(fb_reader *r, uint64_t at) {
    return fb_in(r, at, 4, "truncated 32-bit value") ? fb_rd_u32(r->p + at) : 0;
}

/* The table that starts at `pos`. */
static inline fb_table fb_table_at(fb_reader *r, uint64_t pos) {
    fb_table t = {0, 0, 0, 0};
    if (!fb_in(r, pos, 4, "table outside the file")) return t;
    int32_t soff = (int32_t)fb_rd_u32(r->p + pos);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || !fb_in(r, (uint64_t)vt, 4, "vtable outside the file")) return t;
    uint32_t vt_len = fb_rd_u16(r->p + vt);
    uint32_t tb_len = fb_rd_u16(r->p + vt + 2);
    if (vt_len < 4 || (vt_len & 1)) {
        fb_fail(r, "bad vtable size", (uint64_t)vt);
        return t;
    }
    if (!fb_in(r, (uint64_t)vt, vt_len, "vtable runs past the end of the file")) return t;
    if (!fb_in(r, pos, tb_len ? tb_len : 4, "table runs past the end of the file")) return t;
    t.pos = pos;
    t.vt = (uint64_t)vt;
    t.vt_len = vt_len;
    t.valid = 1;
    return t;
}

/* Root table of the buffer. */
static inline fb_table fb_root(fb_reader *r) {
    uint32_t off = fb_u32_at(r, 0);
    return fb_table_at(r, off);
}

/* Absolute position of field `id`, or 0 when absent. Checks `size` bytes are readable. */
static inline uint64_t fb_field(fb_reader *r, const fb_table *t, int id, uint64_t size) {
    if (r->err || !t->valid) return 0;
    uint32_t o = 4u + 2u * (uint32_t)id;
    if (o + 2 > t->vt_len) return 0;
    uint32_t off = fb_rd_u16(r->p + t->vt + o);
    if (!off) return 0;
    if (!fb_in(r, t->pos + off, size, "field outside the file")) return 0;
    return t->pos + off;
}

static inline uint8_t fb_u8(fb_reader *r, const fb_table *t, int id, uint8_t def) {
    uint64_t at = fb_field(r, t, id, 1);
    return at ? r->p[at] : def;
}
static inline int8_t fb_i8(fb_reader *r, const fb_table *t, int id, int8_t def) {
    uint64_t at = fb_field(r, t, id, 1);
    return at ? (int8_t)r->p[at] : def;
}
static inline int32_t fb_i32(fb_reader *r, const fb_table *t, int id, int32_t def) {
    uint64_t at = fb_field(r, t, id, 4);
    return at ? (int32_t)fb_rd_u32(r->p + at) : def;
}
static inline uint32_t fb_u32(fb_reader *r, const fb_table *t, int id, uint32_t def) {
    uint64_t at = fb_field(r, t, id, 4);
    return at ? fb_rd_u32(r->p + at) : def;
}
static inline uint64_t fb_u64(fb_reader *r, const fb_table *t, int id, uint64_t def) {
    uint64_t at = fb_field(r, t, id, 8);
    return at ? fb_rd_u64(r->p + at) : def;
}
static inline float fb_f32(fb_reader *r, const fb_table *t, int id, float def) {
    uint64_t at = fb_field(r, t, id, 4);
    if (!at) return def;
    uint32_t u = fb_rd_u32(r->p + at);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Follows the uoffset stored at `at`. */
static inline uint64_t fb_deref(fb_reader *r, uint64_t at) {
    uint32_t off = fb_u32_at(r, at);
    return r->err ? 0 : at + off;
}

/* Sub-table in field `id` (invalid when absent). */
static inline fb_table fb_sub(fb_reader *r, const fb_table *t, int id) {
    fb_table none = {0, 0, 0, 0};
    uint64_t at = fb_field(r, t, id, 4);
    if (!at) return none;
    return fb_table_at(r, fb_deref(r, at));
}

/* Vector in field `id` with elements of `elem` bytes (len 0 when absent). */
static inline fb_vec fb_vector(fb_reader *r, const fb_table *t, int id, uint32_t elem) {
    fb_vec v = {0, 0};
    uint64_t at = fb_field(r, t, id, 4);
    if (!at) return v;
    uint64_t vp = fb_deref(r, at);
    uint32_t len = fb_u32_at(r, vp);
    if (!fb_in(r, vp + 4, (uint64_t)len * elem, "vector runs past the end of the file")) return v;
    v.start = vp + 4;
    v.len = len;
    return v;
}

/* Table element i of a vector of tables. */
static inline fb_table fb_vec_table(fb_reader *r, const fb_vec *v, uint32_t i) {
    fb_table none = {0, 0, 0, 0};
    if (i >= v->len) return none;
    return fb_table_at(r, fb_deref(r, v->start + 4ull * i));
}

static inline int32_t fb_vec_i32(fb_reader *r, const fb_vec *v, uint32_t i) {
    return i < v->len ? (int32_t)fb_u32_at(r, v->start + 4ull * i) : 0;
}
static inline float fb_vec_f32(fb_reader *r, const fb_vec *v, uint32_t i) {
    uint32_t u = i < v->len ? fb_u32_at(r, v->start + 4ull * i) : 0;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline int64_t fb_vec_i64(fb_reader *r, const fb_vec *v, uint32_t i) {
    if (i >= v->len || !fb_in(r, v->start + 8ull * i, 8, "truncated 64-bit value")) return 0;
    return (int64_t)fb_rd_u64(r->p + v->start + 8ull * i);
}

/* String in field `id`: pointer into the buffer and length (NULL when absent). */
static inline const char *fb_string(fb_reader *r, const fb_table *t, int id, uint32_t *len) {
    fb_vec v = fb_vector(r, t, id, 1);
    *len = v.len;
    if (!v.start) return NULL;
    return (const char *)r->p + v.start;
}

#endif
