/*
 * clock.h - the one clock for measuring durations: CLOCK_MONOTONIC (never jumps with the wall
 * clock), read in seconds or milliseconds. Timings, progress rates and benchmark stages all use
 * it, so figures from different modules compare. Extend: another unit is another one-line
 * inline over ev_clock_ns; do not call clock_gettime elsewhere.
 */
#ifndef EV_UTIL_CLOCK_H
#define EV_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds since an arbitrary fixed point. */
static inline uint64_t ev_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double ev_clock_s(void) { return (double)ev_clock_ns() * 1e-9; }
static inline double ev_clock_ms(void) { return (double)ev_clock_ns() * 1e-6; }

#endif
