/*
 * sha1.h - SHA-1 (FIPS 180-4) for content keys: image hashes in manifests, model hashes in the
 * feature cache and saved models. Not for security. Streaming: init, update..., final.
 * Extend: another digest output (raw bytes) is another final_* function in sha1.c.
 */
#ifndef EV_UTIL_SHA1_H
#define EV_UTIL_SHA1_H

#include "edgevision.h"

typedef struct ev_sha1 {
    uint32_t h[5];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
} ev_sha1;

void ev_sha1_init(ev_sha1 *s);
void ev_sha1_update(ev_sha1 *s, const void *data, size_t n);
/* Writes the digest as 40 lowercase hex digits and a NUL into hex[41]. */
void ev_sha1_final_hex(ev_sha1 *s, char hex[41]);
void ev_sha1_hex(const void *data, size_t n, char hex[41]);
/* SHA-1 of a whole file; EV_ERR_IO naming the path when it cannot be read. */
ev_status ev_sha1_file(const char *path, char hex[41]);

#endif
