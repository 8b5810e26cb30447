/*
 * stats.c - summary statistics of timing samples: min, max, mean, sample standard deviation and
 * percentiles with numpy's default ("linear") interpolation.
 *
 *   percentile(p) = s[i] + (s[i+1] - s[i]) * f,  where (n - 1) * p / 100 = i + f, s ascending
 *   std = sqrt(sum (x - mean)^2 / (n - 1))        (0 for a single sample)
 *
 * The mean and variance use two passes over the data (no cancellation with large offsets).
 * Extend: another summary (trimmed mean, MAD) is another field of ev_stats filled here.
 */
#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double ev_percentile_sorted(const double *s, size_t n, double p) {
    if (!s || n == 0) return NAN;
    if (p <= 0) return s[0];
    if (p >= 100) return s[n - 1];
    double pos = (double)(n - 1) * p / 100.0;
    size_t i = (size_t)floor(pos);
    double f = pos - (double)i;
    if (i + 1 >= n) return s[n - 1];
    return s[i] + (s[i + 1] - s[i]) * f;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

ev_status ev_stats_compute(const double *samples, size_t n, ev_stats *out) {
    if (!out || (n && !samples)) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_stats_compute: NULL argument");
    memset(out, 0, sizeof *out);
    if (n == 0) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_stats_compute: no samples");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(samples[i]))
            return EV_FAIL(EV_ERR_INVALID_ARG, "ev_stats_compute: sample %zu is not finite", i);
    double *s = malloc(n * sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    memcpy(s, samples, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += s[i];
    double mean = sum / (double)n, ss = 0;
    for (size_t i = 0; i < n; i++) ss += (s[i] - mean) * (s[i] - mean);
    out->count = n;
    out->min = s[0];
    out->max = s[n - 1];
    out->mean = mean;
    out->std = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    out->p50 = ev_percentile_sorted(s, n, 50);
    out->p90 = ev_percentile_sorted(s, n, 90);
    out->p99 = ev_percentile_sorted(s, n, 99);
    free(s);
    return EV_OK;
}
