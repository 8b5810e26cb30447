/*
 * feature_cache.c - the feature cache file (format in features.h): written atomically
 * (util/file.h: PATH.tmp renamed), so an interrupted write never leaves a half file that looks
 * valid; read back only when every key and the exact size match.
 */
#include "train/features.h"

#include "core/status.h"
#include "util/file.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "EVFCACHE"
#define VERSION 1u
#define PREP_LEN 256
#define HEADER_BYTES (8 + 4 + 4 + 8 + 40 + 40 + PREP_LEN)

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void header(uint8_t *h, const char *model, const char *key, const char *prep, size_t n,
                   int dim) {
    memset(h, 0, HEADER_BYTES);
    memcpy(h, MAGIC, 8);
    put32(h + 8, VERSION);
    put32(h + 12, (uint32_t)dim);
    put64(h + 16, (uint64_t)n);
    memcpy(h + 24, model, 40);
    memcpy(h + 64, key, 40);
    snprintf((char *)h + 104, PREP_LEN, "%s", prep);
}

ev_status ev_cache_save(const char *path, const char *model, const char *key, const char *prep,
                        const ev_dataset *ds, int dim, const float *feat) {
    if (strlen(prep) >= PREP_LEN)
        return EV_FAIL(EV_ERR_INVALID_ARG, "preprocessing string too long for the cache");
    ev_atomic_file a;
    ev_status st = ev_atomic_begin(&a, path);
    if (st != EV_OK) {
        ev_error_prefix("feature cache");
        return st;
    }
    FILE *f = a.f;
    uint8_t h[HEADER_BYTES];
    header(h, model, key, prep, ds->n, dim);
    int bad = fwrite(h, 1, sizeof h, f) != sizeof h;
    for (size_t i = 0; i < ds->n && !bad; i++) {
        uint8_t ok = (uint8_t)ds->items[i].ok;
        bad = fwrite(&ok, 1, 1, f) != 1;
    }
    /* float32 rows as stored in memory: this file is for the machine that wrote it (x86/ARM,
     * little-endian), checked by the magic and size on load. */
    if (!bad && ds->n) bad = fwrite(feat, sizeof(float) * (size_t)dim, ds->n, f) != ds->n;
    if (bad) {
        int err = errno;
        ev_atomic_abort(&a);
        return EV_FAIL(EV_ERR_IO, "cannot write feature cache %s: %s", path, strerror(err));
    }
    st = ev_atomic_commit(&a);
    if (st != EV_OK) {
        ev_error_prefix("feature cache");
        return st;
    }
    /* Sidecar for people; the cache itself does not depend on it. */
    ev_sbuf b = {0};
    ev_sbuf_printf(&b, "index\tpath\tsha1\tok\n");
    for (size_t i = 0; i < ds->n; i++)
        ev_sbuf_printf(&b, "%zu\t%s\t%s\t%d\n", i, ds->items[i].path,
                       ds->items[i].ok ? ds->items[i].sha1 : "-", ds->items[i].ok);
    char *side = malloc(strlen(path) + 5);
    st = side ? EV_OK : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    if (side) {
        sprintf(side, "%s.tsv", path);
        st = ev_sbuf_save(&b, side);
    }
    free(side);
    ev_sbuf_free(&b);
    return st;
}

ev_status ev_cache_load(const char *path, const char *model, const char *key, const char *prep,
                        size_t n, int dim, uint8_t *ok, float *feat, int *found, char *why,
                        size_t why_len) {
    *found = 0;
    snprintf(why, why_len, "no cache file");
    FILE *f = fopen(path, "rb");
    if (!f) return EV_OK;
    uint8_t h[HEADER_BYTES], want[HEADER_BYTES];
    header(want, model, key, prep, n, dim);
    if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, MAGIC, 8) != 0 ||
        get32(h + 8) != VERSION)
        snprintf(why, why_len, "not a feature cache of this version");
    else if (memcmp(h + 24, want + 24, 40) != 0)
        snprintf(why, why_len, "the backbone changed (model sha1 %.40s, cache has %.40s)", model,
                 (const char *)h + 24);
    else if (memcmp(h + 104, want + 104, PREP_LEN) != 0)
        snprintf(why, why_len, "the preprocessing changed (%s; cache has %.255s)", prep,
                 (const char *)h + 104);
    else if (memcmp(h + 64, want + 64, 40) != 0 || get64(h + 16) != (uint64_t)n)
        snprintf(why, why_len, "the image list changed (%zu images, key %.40s; cache has %llu, "
                 "key %.40s)", n, key, (unsigned long long)get64(h + 16), (const char *)h + 64);
    else if (get32(h + 12) != (uint32_t)dim)
        snprintf(why, why_len, "the feature size changed (%d; cache has %u)", dim, get32(h + 12));
    else if ((n && fread(ok, 1, n, f) != n) ||
             (n && fread(feat, sizeof(float) * (size_t)dim, n, f) != n) || fgetc(f) != EOF)
        snprintf(why, why_len, "the file is truncated or has trailing bytes");
    else
        *found = 1;
    fclose(f);
    return EV_OK;
}
