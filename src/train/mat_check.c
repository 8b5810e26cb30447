/*
 * mat_check.c - structural check of a MATLAB 5 .mat file before libmatio reads it.
 *
 * libmatio trusts the sizes a file declares: a 127-byte file read as MAT v4, or a compressed
 * variable whose array header declares 2^31 elements, makes it allocate gigabytes (found by the
 * `mat` fuzzer). Before Mat_Open we require the v5 header, walk the top-level data elements
 * checking each size against the file, inflate compressed elements (zlib) with a cap, and check
 * that each array's declared dimensions are backed by enough bytes (a product of dimensions
 * larger than the element's own byte count cannot be real). v7.3 files (HDF5) are refused with
 * a message. Anything else is EV_ERR_FORMAT naming the file and the byte offset.
 */
#include "train/mat_check.h"

#include "core/status.h"
#include "util/file.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MI_MATRIX 14
#define MI_COMPRESSED 15
#define MI_INT32 5
#define MAX_INFLATED (256u << 20)

typedef struct rd {
    const uint8_t *p;
    size_t n;
    int swap; /* big-endian file ("MI") */
} rd;

static uint32_t u32(const rd *r, size_t at) {
    const uint8_t *b = r->p + at;
    return r->swap ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
                   : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

/* Tag at `at`: type and byte count, small-element form included; returns header size or 0. */
static size_t tag(const rd *r, size_t at, uint32_t *type, uint32_t *bytes) {
    if (at + 8 > r->n) return 0;
    uint32_t t = u32(r, at);
    if (t >> 16) { /* small data element: bytes in the upper half, data in the tag */
        *type = t & 0xffff;
        *bytes = t >> 16;
        return 4;
    }
    *type = t;
    *bytes = u32(r, at + 4);
    return 8;
}

/* An miMATRIX element's payload [at, at + len): its dimensions must fit the bytes it has. */
static ev_status check_matrix(const char *path, const rd *r, size_t at, size_t len,
                              size_t where) {
    rd m = {r->p + at, len, r->swap};
    uint32_t type, bytes;
    size_t h = tag(&m, 0, &type, &bytes); /* array flags */
    if (!h || h + bytes + 8 > len) return EV_OK; /* empty matrix: nothing to allocate */
    size_t off = h + ((bytes + 7) & ~7u);
    h = tag(&m, off, &type, &bytes); /* dimensions */
    if (!h || type != MI_INT32 || bytes % 4 || off + h + bytes > len)
        return EV_FAIL(EV_ERR_FORMAT, "%s: corrupt .mat array header at byte %zu", path, where);
    double elems = 1;
    for (uint32_t i = 0; i < bytes / 4; i++) {
        int32_t d = (int32_t)u32(&m, off + h + 4 * i);
        if (d < 0) return EV_FAIL(EV_ERR_FORMAT, "%s: negative .mat dimension at byte %zu", path, where);
        elems *= (double)d;
    }
    if (elems > (double)len)
        return EV_FAIL(EV_ERR_FORMAT, "%s: .mat array at byte %zu declares %.0f elements in %zu "
                       "bytes (corrupt or hostile file)", path, where, elems, len);
    return EV_OK;
}

ev_status ev_mat_check(const char *path) {
    uint8_t *buf = NULL;
    size_t n = 0;
    EV_TRY(ev_read_file(path, &buf, &n));
    ev_status st = EV_OK;
    if (n < 128 || memcmp(buf, "MATLAB", 6) != 0) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: not a MATLAB 5 .mat file (%zu bytes, no 128-byte "
                     "'MATLAB 5.0 MAT-file' header)", path, n);
        goto done;
    }
    uint16_t ver = (uint16_t)(buf[124] | buf[125] << 8);
    if (buf[126] == 'I' && buf[127] == 'M') {
        if (ver == 0x0200) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: MATLAB 7.3 (HDF5) .mat files are not "
                         "supported; save with -v7", path);
            goto done;
        }
    } else if (!(buf[126] == 'M' && buf[127] == 'I')) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: .mat header has no endian indicator", path);
        goto done;
    }
    rd r = {buf, n, buf[126] == 'M'};
    size_t at = 128;
    while (at < n && st == EV_OK) {
        uint32_t type, bytes;
        size_t h = tag(&r, at, &type, &bytes);
        if (!h || bytes > n - at - h) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: .mat element at byte %zu declares %u bytes past the "
                         "end of the file (%zu bytes)", path, at, h ? bytes : 0, n);
            break;
        }
        if (type == MI_MATRIX) {
            st = check_matrix(path, &r, at + h, bytes, at);
        } else if (type == MI_COMPRESSED) {
            size_t cap = (size_t)bytes * 64 + 4096;
            if (cap > MAX_INFLATED) cap = MAX_INFLATED;
            uint8_t *out = malloc(cap);
            if (!out) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                break;
            }
            z_stream z;
            memset(&z, 0, sizeof z);
            size_t got = 0;
            if (inflateInit(&z) == Z_OK) {
                z.next_in = buf + at + h;
                z.avail_in = bytes;
                z.next_out = out;
                z.avail_out = (uInt)cap;
                int zr = inflate(&z, Z_FINISH);
                got = cap - z.avail_out;
                inflateEnd(&z);
                if (zr != Z_STREAM_END)
                    st = EV_FAIL(EV_ERR_FORMAT, "%s: compressed .mat element at byte %zu does not "
                                 "inflate within %zu bytes (corrupt, truncated or a bomb)", path,
                                 at, cap);
            } else {
                st = EV_FAIL(EV_ERR_FORMAT, "%s: zlib cannot start", path);
            }
            if (st == EV_OK) {
                rd in = {out, got, r.swap};
                uint32_t it, ib;
                size_t ih = tag(&in, 0, &it, &ib);
                if (!ih || ib > got - ih)
                    st = EV_FAIL(EV_ERR_FORMAT, "%s: compressed .mat element at byte %zu holds a "
                                 "truncated element", path, at);
                else if (it == MI_MATRIX)
                    st = check_matrix(path, &in, ih, ib, at);
            }
            free(out);
        }
        at += h + (h == 8 ? ((bytes + 7) & ~7u) : 4);
        if (type == MI_COMPRESSED && h == 8) at = at - ((bytes + 7) & ~7u) + bytes; /* no padding */
    }
done:
    free(buf);
    return st;
}
