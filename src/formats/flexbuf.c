/*
 * flexbuf.c - bounds-checked FlexBuffer map lookup (see flexbuf.h).
 *
 * Layout (flatbuffers/flexbuffers.h): the last byte is the root's byte width, the byte before it
 * the root's packed type (type << 2 | log2 bit width); the root value sits before those. A map at
 * position m with element width w stores: keys-vector offset at m-3w, keys width at m-2w, size at
 * m-w, values at m + i*w, then one packed-type byte per value.
 */
#include "formats/flexbuf.h"

#include "core/status.h"

#include <string.h>

enum {
    FT_NULL = 0, FT_INT = 1, FT_UINT = 2, FT_FLOAT = 3, FT_KEY = 4, FT_STRING = 5,
    FT_INDIRECT_INT = 6, FT_INDIRECT_UINT = 7, FT_INDIRECT_FLOAT = 8, FT_MAP = 9,
    FT_BOOL = 26,
};

typedef struct {
    const uint8_t *p;
    size_t n;
    int bad;
} flex_rd;

static int in_range(flex_rd *r, uint64_t at, uint64_t size) {
    if (at > r->n || size > r->n - at) r->bad = 1;
    return !r->bad;
}

static uint64_t rd_uint(flex_rd *r, uint64_t at, unsigned w) {
    if (!(w == 1 || w == 2 || w == 4 || w == 8) || !in_range(r, at, w)) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++) v |= (uint64_t)r->p[at + i] << (8 * i);
    return v;
}

static int64_t rd_int(flex_rd *r, uint64_t at, unsigned w) {
    uint64_t u = rd_uint(r, at, w);
    if (w < 8 && (u >> (8 * w - 1)) & 1) u |= ~0ull << (8 * w);
    return (int64_t)u;
}

static double rd_float(flex_rd *r, uint64_t at, unsigned w) {
    if (w == 4) {
        uint32_t u = (uint32_t)rd_uint(r, at, 4);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    if (w == 8) {
        uint64_t u = rd_uint(r, at, 8);
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    r->bad = 1;
    return 0;
}

/* Position `at` minus the offset stored there with width w. */
static uint64_t rd_back(flex_rd *r, uint64_t at, unsigned w) {
    uint64_t off = rd_uint(r, at, w);
    if (r->bad || off > at) {
        r->bad = 1;
        return 0;
    }
    return at - off;
}

ev_status flex_map_lookup(const uint8_t *buf, size_t n, const char *key, flex_value *value) {
    flex_rd r = {buf, n, 0};
    memset(value, 0, sizeof *value);
    if (!buf || n < 3) return EV_FAIL(EV_ERR_FORMAT, "custom options: FlexBuffer of %zu bytes", n);
    unsigned root_w = buf[n - 1];
    uint8_t root_t = buf[n - 2];
    if (root_w == 0 || root_w > 8 || n < 2 + (size_t)root_w)
        return EV_FAIL(EV_ERR_FORMAT, "custom options: bad FlexBuffer root width %u", root_w);
    uint64_t root_at = n - 2 - root_w;
    if ((root_t >> 2) != FT_MAP)
        return EV_FAIL(EV_ERR_FORMAT, "custom options: FlexBuffer root is type %u, not a map",
                       root_t >> 2);
    unsigned w = 1u << (root_t & 3);
    uint64_t m = rd_back(&r, root_at, root_w);
    if (r.bad || m < 3ull * w) return EV_FAIL(EV_ERR_FORMAT, "custom options: bad map offset");
    uint64_t size = rd_uint(&r, m - w, w);
    uint64_t keys = rd_back(&r, m - 3ull * w, w);
    unsigned kw = (unsigned)rd_uint(&r, m - 2ull * w, w);
    if (r.bad || size > n || !in_range(&r, m, size * w + size))
        return EV_FAIL(EV_ERR_FORMAT, "custom options: map of %llu entries overruns the buffer",
                       (unsigned long long)size);
    size_t klen = strlen(key);
    for (uint64_t i = 0; i < size; i++) {
        uint64_t kp = rd_back(&r, keys + i * kw, kw);
        if (r.bad) break;
        if (!in_range(&r, kp, klen + 1)) {
            r.bad = 0; /* a shorter key near the end: compare what fits */
            if (kp >= n) {
                r.bad = 1;
                break;
            }
            continue;
        }
        if (memcmp(buf + kp, key, klen) != 0 || buf[kp + klen] != '\0') continue;
        uint8_t pt = buf[m + size * w + i];
        unsigned type = pt >> 2, cw = 1u << (pt & 3);
        uint64_t at = m + i * w;
        switch (type) {
        case FT_INT: value->kind = FLEX_INT; value->i = rd_int(&r, at, w); break;
        case FT_UINT: value->kind = FLEX_UINT; value->u = rd_uint(&r, at, w); break;
        case FT_FLOAT: value->kind = FLEX_FLOAT; value->f = rd_float(&r, at, w); break;
        case FT_BOOL: value->kind = FLEX_BOOL; value->i = rd_uint(&r, at, w) != 0; break;
        case FT_INDIRECT_INT:
            value->kind = FLEX_INT;
            value->i = rd_int(&r, rd_back(&r, at, w), cw);
            break;
        case FT_INDIRECT_UINT:
            value->kind = FLEX_UINT;
            value->u = rd_uint(&r, rd_back(&r, at, w), cw);
            break;
        case FT_INDIRECT_FLOAT:
            value->kind = FLEX_FLOAT;
            value->f = rd_float(&r, rd_back(&r, at, w), cw);
            break;
        default: value->kind = FLEX_OTHER; break;
        }
        break;
    }
    if (r.bad) return EV_FAIL(EV_ERR_FORMAT, "custom options: FlexBuffer map is corrupt");
    return EV_OK;
}

double flex_as_double(const flex_value *v, double def) {
    switch (v->kind) {
    case FLEX_INT:
    case FLEX_BOOL: return (double)v->i;
    case FLEX_UINT: return (double)v->u;
    case FLEX_FLOAT: return v->f;
    default: return def;
    }
}
