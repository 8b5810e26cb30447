/*
 * test_samples.c - the benchmark's bounded sample store: below the limit every statistic equals
 * the exact one; past it, memory stays at the limit, count/min/max/mean/std stay exact, and the
 * reservoir's percentiles stay close to the exact ones (uniform sampling).
 */
#include "ev_test.h"

#include "bench/samples.h"
#include "edgevision.h"
#include "util.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_bounded(void) {
    const size_t N = 200000, LIMIT = 4096;
    samples s;
    CHECK_OK(samples_init(&s, LIMIT));
    double *all = malloc(N * sizeof *all);
    ev_test_rng r = {88172645463325252ull};
    double sum = 0;
    for (size_t i = 0; i < N; i++) {
        uint64_t x = ev_test_rng_next(&r);
        double v = 10.0 + (double)(x % 100000) / 1000.0 + (i % 7 == 0 ? 50.0 : 0.0);
        all[i] = v;
        sum += v;
        double t[EV_STAGE_COUNT];
        for (int k = 0; k < EV_STAGE_COUNT; k++) t[k] = v + k;
        if (samples_push(&s, t) != EV_OK) CHECK(0);
    }
    CHECK_EQ_INT(s.n, LIMIT);
    CHECK(s.cap <= LIMIT);
    ev_stats st;
    CHECK_OK(samples_stats(&s, 0, &st));
    double mean = sum / (double)N, ss = 0;
    for (size_t i = 0; i < N; i++) ss += (all[i] - mean) * (all[i] - mean);
    qsort(all, N, sizeof *all, cmp);
    CHECK_EQ_INT(st.count, N);
    CHECK_NEAR(st.mean, mean, 1e-9 * mean);
    CHECK_NEAR(st.std, sqrt(ss / (double)(N - 1)), 1e-7);
    CHECK_NEAR(st.min, all[0], 0);
    CHECK_NEAR(st.max, all[N - 1], 0);
    /* a 4096-sample reservoir: percentiles within a few percent of the value range */
    double range = all[N - 1] - all[0];
    CHECK_NEAR(st.p50, ev_percentile_sorted(all, N, 50), 0.03 * range);
    CHECK_NEAR(st.p90, ev_percentile_sorted(all, N, 90), 0.03 * range);
    ev_stats st3;
    CHECK_OK(samples_stats(&s, 3, &st3));
    CHECK_NEAR(st3.mean, mean + 3, 1e-9 * mean);
    samples_free(&s);
    free(all);
}

static void test_exact_below_limit(void) {
    samples s;
    CHECK_OK(samples_init(&s, 0));
    double vals[5] = {3, 1, 4, 1, 5};
    for (int i = 0; i < 5; i++) {
        double t[EV_STAGE_COUNT] = {0};
        t[0] = vals[i];
        CHECK_OK(samples_push(&s, t));
    }
    ev_stats a, b;
    CHECK_OK(samples_stats(&s, 0, &a));
    CHECK_OK(ev_stats_compute(vals, 5, &b));
    CHECK(a.count == b.count && a.min == b.min && a.max == b.max && a.mean == b.mean &&
          a.std == b.std && a.p50 == b.p50 && a.p90 == b.p90 && a.p99 == b.p99);
    samples_free(&s);
}

int main(void) {
    EV_RUN(test_bounded);
    EV_RUN(test_exact_below_limit);
    return ev_test_finish();
}
