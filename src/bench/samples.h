/*
 * samples.h - timing samples of the benchmark's stages, one array per stage, with memory bounded
 * for long runs (soak tests, --loop on a camera) and resident from the start. Past `limit` frames the arrays become a uniform
 * reservoir (Vitter's algorithm R, seeded; the same slot for every stage so a frame's stages stay
 * together) from which percentiles are estimated, while count, min, max, mean and standard
 * deviation stay exact through running (Welford) sums over every frame.
 */
#ifndef EV_BENCH_SAMPLES_H
#define EV_BENCH_SAMPLES_H

#include "bench/runner.h"
#include "util/rng.h"

#include <stddef.h>
#include <stdint.h>

#define SAMPLE_CAP 16384

typedef struct samples {
    double *v[EV_STAGE_COUNT];
    size_t n, cap, limit; /* stored (at most limit), allocated, reservoir size               */
    size_t seen;          /* every frame measured                                             */
    double mean[EV_STAGE_COUNT], m2[EV_STAGE_COUNT], min[EV_STAGE_COUNT], max[EV_STAGE_COUNT];
    ev_rng rng;           /* chooses the reservoir slot past the limit                        */
} samples;

/* Allocates (and touches) `limit` samples per stage (0: SAMPLE_CAP). */
ev_status samples_init(samples *s, size_t limit);
ev_status samples_push(samples *s, const double *t); /* t: one value per stage */
ev_status samples_stats(const samples *s, int stage, ev_stats *out);
void samples_free(samples *s);

#endif
