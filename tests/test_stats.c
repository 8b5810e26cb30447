/*
 * test_stats.c - ev_stats_compute and ev_percentile_sorted against values computed by hand.
 *
 *   {4, 1, 3, 2, 10} sorted {1, 2, 3, 4, 10}: mean 4, sum of squared deviations
 *   9 + 4 + 1 + 0 + 36 = 50, sample std sqrt(50 / 4) = 3.5355339; percentiles at rank
 *   (n-1) p / 100: p50 -> rank 2 -> 3; p90 -> rank 3.6 -> 4 + 0.6 * (10 - 4) = 7.6;
 *   p99 -> rank 3.96 -> 4 + 0.96 * 6 = 9.76.
 */
#include "ev_test.h"

#include "edgevision.h"

static void test_hand_computed(void) {
    const double x[] = {4, 1, 3, 2, 10};
    ev_stats s;
    CHECK_OK(ev_stats_compute(x, 5, &s));
    CHECK_EQ_INT(s.count, 5);
    CHECK_NEAR(s.min, 1, 0);
    CHECK_NEAR(s.max, 10, 0);
    CHECK_NEAR(s.mean, 4, 1e-12);
    CHECK_NEAR(s.std, 3.5355339059327378, 1e-12);
    CHECK_NEAR(s.p50, 3, 1e-12);
    CHECK_NEAR(s.p90, 7.6, 1e-12);
    CHECK_NEAR(s.p99, 9.76, 1e-12);
    /* the input is not reordered */
    CHECK(x[0] == 4 && x[4] == 10);
}

static void test_even_count_and_edges(void) {
    /* {10, 20, 30, 40}: p50 at rank 1.5 -> 25; p90 at 2.7 -> 37; p0 = min, p100 = max;
     * mean 25, sample std sqrt((225 + 25 + 25 + 225) / 3) = sqrt(500 / 3) */
    const double x[] = {40, 10, 30, 20};
    ev_stats s;
    CHECK_OK(ev_stats_compute(x, 4, &s));
    CHECK_NEAR(s.p50, 25, 1e-12);
    CHECK_NEAR(s.p90, 37, 1e-12);
    CHECK_NEAR(s.std, sqrt(500.0 / 3.0), 1e-12);
    const double sorted[] = {10, 20, 30, 40};
    CHECK_NEAR(ev_percentile_sorted(sorted, 4, 0), 10, 0);
    CHECK_NEAR(ev_percentile_sorted(sorted, 4, 100), 40, 0);
    CHECK_NEAR(ev_percentile_sorted(sorted, 4, 25), 17.5, 1e-12);
    /* one sample: every statistic is that sample, std 0 */
    const double one = 7.25;
    CHECK_OK(ev_stats_compute(&one, 1, &s));
    CHECK(s.min == 7.25 && s.max == 7.25 && s.mean == 7.25 && s.p50 == 7.25 && s.p99 == 7.25);
    CHECK_NEAR(s.std, 0, 0);
}

static void test_large_offset(void) {
    /* 1e9 + {1, 2, 3}: a one-pass variance would lose the digits; two passes give std 1 */
    const double x[] = {1e9 + 1, 1e9 + 2, 1e9 + 3};
    ev_stats s;
    CHECK_OK(ev_stats_compute(x, 3, &s));
    CHECK_NEAR(s.std, 1.0, 1e-9);
    CHECK_NEAR(s.mean, 1e9 + 2, 1e-6);
}

static void test_errors(void) {
    ev_stats s;
    const double bad[] = {1, NAN};
    CHECK_EQ_INT(ev_stats_compute(bad, 0, &s), EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "no samples") != NULL);
    CHECK_EQ_INT(ev_stats_compute(bad, 2, &s), EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "sample 1") != NULL);
}

int main(void) {
    EV_RUN(test_hand_computed);
    EV_RUN(test_even_count_and_edges);
    EV_RUN(test_large_offset);
    EV_RUN(test_errors);
    return ev_test_finish();
}
