/*
 * sha1.c - SHA-1 as FIPS 180-4 specifies it (see sha1.h). Checked in tests against the
 * standard vectors ("abc", the empty string, the 448-bit message).
 */
#include "util/sha1.h"

#include "core/status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint32_t rol(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void block(ev_sha1 *s, const uint8_t *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999u;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1u;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDCu;
        else f = b ^ c ^ d, k = 0xCA62C1D6u;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

void ev_sha1_init(ev_sha1 *s) {
    static const uint32_t h0[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                   0xC3D2E1F0u};
    memcpy(s->h, h0, sizeof h0);
    s->len = 0;
    s->fill = 0;
}

void ev_sha1_update(ev_sha1 *s, const void *data, size_t n) {
    const uint8_t *p = data;
    s->len += n;
    while (n) {
        size_t k = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->buf + s->fill, p, k);
        s->fill += k, p += k, n -= k;
        if (s->fill == 64) {
            block(s, s->buf);
            s->fill = 0;
        }
    }
}

void ev_sha1_final_hex(ev_sha1 *s, char hex[41]) {
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80, zero = 0, len[8];
    ev_sha1_update(s, &pad, 1);
    while (s->fill != 56) ev_sha1_update(s, &zero, 1);
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
    ev_sha1_update(s, len, 8);
    for (int i = 0; i < 5; i++) snprintf(hex + 8 * i, 9, "%08x", s->h[i]);
    hex[40] = '\0';
}

void ev_sha1_hex(const void *data, size_t n, char hex[41]) {
    ev_sha1 s;
    ev_sha1_init(&s);
    ev_sha1_update(&s, data, n);
    ev_sha1_final_hex(&s, hex);
}

ev_status ev_sha1_file(const char *path, char hex[41]) {
    FILE *f = fopen(path, "rb");
    if (!f) return EV_FAIL(EV_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    ev_sha1 s;
    ev_sha1_init(&s);
    uint8_t buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) ev_sha1_update(&s, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad) return EV_FAIL(EV_ERR_IO, "error reading %s", path);
    ev_sha1_final_hex(&s, hex);
    return EV_OK;
}
