/*
 * test_threadpool.c - ev_threadpool_run runs every task index exactly once, with a thread index
 * in range, for every task count (0, fewer tasks than threads, uneven splits, many) and thread
 * count; a slowed thread's range is finished by the others (stealing); thousands of quick jobs in
 * a row (the generation tag that keeps a late worker out of a newer job). Which thread runs a
 * task is scheduling, not correctness: the ranges' locality is measured by the benchmarks.
 */
#include "ev_test.h"

#include "core/threadpool.h"

#include <stdatomic.h>
#include <stdlib.h>

typedef struct job {
    atomic_int *count; /* [n] times each task ran */
    int n, threads;
    atomic_int bad_thread;
    int slow_thread; /* -1: none; else this thread spins in every task */
} job;

static void task(void *ctx, int i, int thread) {
    job *j = ctx;
    if (i < 0 || i >= j->n || thread < 0 || thread >= j->threads) {
        atomic_fetch_add(&j->bad_thread, 1);
        return;
    }
    atomic_fetch_add(&j->count[i], 1);
    if (thread == j->slow_thread) {
        volatile unsigned x = 0;
        for (int k = 0; k < 200000; k++) x += (unsigned)k;
    }
}

static void run_check(ev_threadpool *p, int threads, int n, int slow) {
    job j = {0};
    j.n = n;
    j.threads = threads;
    j.slow_thread = slow;
    j.count = calloc((size_t)(n ? n : 1), sizeof(atomic_int));
    ev_threadpool_run(p, task, &j, n);
    int once = 1;
    for (int i = 0; i < n; i++) once &= atomic_load(&j.count[i]) == 1;
    CHECK(once);
    CHECK_EQ_INT(atomic_load(&j.bad_thread), 0);
    free(j.count);
}

static void test_every_task_once(void) {
    static const int counts[] = {0, 1, 2, 3, 5, 7, 16, 17, 100, 1001, 65537};
    for (int threads = 1; threads <= 4; threads++) {
        ev_threadpool *p = NULL;
        CHECK_OK(ev_threadpool_create(threads, &p));
        CHECK_EQ_INT(ev_threadpool_threads(p), threads);
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
            run_check(p, threads, counts[c], -1);
        ev_threadpool_free(p);
    }
    run_check(NULL, 1, 50, -1); /* no pool: all on the caller */
}

static void test_slow_thread_is_helped(void) {
    /* thread 1 spins in each of its tasks: the others steal from the back of its range, and
     * every task still runs exactly once */
    for (int threads = 2; threads <= 3; threads++) {
        ev_threadpool *p = NULL;
        CHECK_OK(ev_threadpool_create(threads, &p));
        for (int rep = 0; rep < 5; rep++) run_check(p, threads, 64, 1);
        run_check(p, threads, 64, 0);
        ev_threadpool_free(p);
    }
}

static void test_many_quick_jobs(void) {
    ev_threadpool *p = NULL;
    CHECK_OK(ev_threadpool_create(2, &p));
    for (int rep = 0; rep < 20000; rep++) run_check(p, 2, 1 + rep % 4, -1);
    ev_threadpool_free(p);
}

int main(void) {
    EV_RUN(test_every_task_once);
    EV_RUN(test_slow_thread_is_helped);
    EV_RUN(test_many_quick_jobs);
    return ev_test_finish();
}
