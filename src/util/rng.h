/*
 * rng.h - the one random generator of the library: xoshiro256** seeded through splitmix64.
 * Every random choice (training splits, shuffles, initial weights, dropout masks; the
 * benchmark's sample reservoir) draws from an ev_rng. Training saves its state in checkpoints,
 * so a run is bit-reproducible and resumable. Extend: a new distribution is another inline
 * over ev_rng_next here; never a second generator.
 */
#ifndef EV_UTIL_RNG_H
#define EV_UTIL_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ev_rng {
    uint64_t s[4];
} ev_rng;

static inline uint64_t ev_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void ev_rng_seed(ev_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = ev_splitmix64(&seed);
}

static inline uint64_t ev_rng_next(ev_rng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, 1) with 24 bits (exactly representable as float). */
static inline float ev_rng_float(ev_rng *r) { return (float)(ev_rng_next(r) >> 40) * 0x1p-24f; }

/* Uniform integer in [0, n), n >= 1, without modulo bias. */
static inline uint64_t ev_rng_below(ev_rng *r, uint64_t n) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = ev_rng_next(r);
    while (x >= lim);
    return x % n;
}

/* Fisher-Yates shuffle of n ints. */
static inline void ev_rng_shuffle(ev_rng *r, int *a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ev_rng_below(r, i);
        int t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

#endif
