/*
 * threadpool.c - see threadpool.h. One job at a time: the caller publishes (fn, ctx, n) under a
 * new generation number; the caller and the workers run its tasks, then the caller waits until
 * every claimed task has finished.
 *
 * Which thread runs which task: the n indices are cut into one contiguous range per thread
 * (thread t owns [n t / T, n (t + 1) / T)), each thread runs its own range front to back, and a
 * thread whose range is empty steals from the back of the others'. When the threads keep pace,
 * thread t runs the same part of every op: a 1x1 convolution's pixel tiles and the depthwise rows
 * after it fall to the thread whose cache already holds them (PoseNet 353x481 int8 at 2 threads:
 * 4.9 -> 4.0 ms against one shared counter); a thread that is slowed (another process on its
 * core) loses its tail to the others.
 *
 * Each range is one 64-bit word, [generation:24][next:20][end:20], claimed by compare-and-swap:
 * a worker that wakes late cannot claim a newer job's tasks under an older job's function, and
 * owner (next++) and thief (end--) can never take the same index. Jobs of more than 2^20 - 1
 * tasks run as successive jobs of at most that many (index offset in `base`).
 *
 * Extend: a new claiming policy changes claim() only; tasks must stay independent of the thread
 * that runs them except through `thread`'s scratch.
 */
#include "core/threadpool.h"

#include "core/status.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* How long an idle worker spins before it sleeps on the condition variable: waking a sleeping
 * thread costs 35-70 us on a 2-vCPU VM (measured: a job published 1 ms / 20 ms after the last
 * one reached the worker after 34 / 72 us, 2 us while it spun), paid by the first op of every
 * inference when the caller spends more than the spin between runs (preprocessing, timing):
 * 20000 polls (~10 us) -> 0.5 ms: Keras ResNet50 2 threads 23.6-24.5 -> 23.3-23.9 ms, PoseNet
 * 0.50 float 353x481 4.0 -> 3.8-4.1 ms (`edgevision bench`, p50, four alternating pairs,
 * 2026-12-05).
 * A worker whose core someone else needs spins at most this long after each job, with PAUSE. */
#define SPIN_NS 500000
#define SPIN_CHECK 64 /* polls between clock reads */
#define IDX_BITS 20
#define IDX_MASK ((1u << IDX_BITS) - 1)
#define MAX_JOB ((int)IDX_MASK) /* tasks per published job */
#define GEN_MASK 0xffffffu

typedef struct range {
    _Alignas(64) atomic_uint_fast64_t w; /* [gen:24][next:20][end:20] */
} range;

struct ev_threadpool {
    int threads; /* including the caller */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    atomic_uint generation;
    range *ranges; /* [threads] */
    atomic_int done; /* tasks of the current job finished */
    ev_task_fn fn;
    void *ctx;
    int base; /* index offset of the current job (jobs larger than MAX_JOB) */
    int stop;
};

typedef struct {
    ev_threadpool *pool;
    int index;
} worker_arg;

/* A polite poll: tells the core it is a spin-wait loop (x86 PAUSE, ARM YIELD). */
static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield");
#endif
}

static uint64_t pack(unsigned gen, unsigned next, unsigned end) {
    return (uint64_t)(gen & GEN_MASK) << (2 * IDX_BITS) | (uint64_t)next << IDX_BITS | end;
}

/* Takes one task of job `gen` from range r: the front when `own`, else the back. -1: none left
 * (or the range belongs to another job). */
static int claim(range *r, unsigned gen, int own) {
    uint64_t cur = atomic_load_explicit(&r->w, memory_order_acquire);
    for (;;) {
        if ((unsigned)(cur >> (2 * IDX_BITS)) != (gen & GEN_MASK)) return -1;
        unsigned next = (unsigned)(cur >> IDX_BITS) & IDX_MASK, end = (unsigned)cur & IDX_MASK;
        if (next >= end) return -1;
        uint64_t want = own ? pack(gen, next + 1, end) : pack(gen, next, end - 1);
        if (atomic_compare_exchange_weak_explicit(&r->w, &cur, want, memory_order_acq_rel,
                                                  memory_order_acquire))
            return (int)(own ? next : end - 1);
    }
}

static void work(ev_threadpool *p, unsigned gen, int thread) {
    const int T = p->threads;
    for (int k = 0; k < T; k++) {
        int t = (thread + k) % T, i;
        while ((i = claim(&p->ranges[t], gen, k == 0)) >= 0) {
            p->fn(p->ctx, p->base + i, thread);
            atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
        }
    }
}

static void *worker_main(void *arg) {
    worker_arg *wa = arg;
    ev_threadpool *p = wa->pool;
    int thread = wa->index;
    free(wa);
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        const uint64_t until = ev_clock_ns() + SPIN_NS;
        int polls = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen) {
            spin_pause();
            if (++polls % SPIN_CHECK == 0 && ev_clock_ns() >= until) break;
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
                   !p->stop)
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (p->stop) return NULL;
        seen = g;
        work(p, g, thread);
    }
}

ev_status ev_threadpool_create(int threads, ev_threadpool **out) {
    *out = NULL;
    if (threads < 1) threads = 1;
    ev_threadpool *p = calloc(1, sizeof *p);
    if (!p) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    p->threads = threads;
    p->ranges = aligned_alloc(64, sizeof(range) * (size_t)threads);
    if (!p->ranges) {
        free(p);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    for (int t = 0; t < threads; t++) atomic_init(&p->ranges[t].w, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (threads > 1) {
        p->workers = calloc((size_t)threads - 1, sizeof(pthread_t));
        if (!p->workers) {
            ev_threadpool_free(p);
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        }
        for (int i = 0; i < threads - 1; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa) {
                p->threads = i + 1;
                ev_threadpool_free(p);
                return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            }
            wa->pool = p;
            wa->index = i + 1;
            if (pthread_create(&p->workers[i], NULL, worker_main, wa) != 0) {
                free(wa);
                p->threads = i + 1;
                ev_threadpool_free(p);
                return EV_FAIL(EV_ERR_INTERNAL, "cannot start worker thread %d", i + 1);
            }
        }
    }
    *out = p;
    return EV_OK;
}

void ev_threadpool_free(ev_threadpool *p) {
    if (!p) return;
    if (p->workers) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->threads - 1; i++) pthread_join(p->workers[i], NULL);
        free(p->workers);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    free(p->ranges);
    free(p);
}


static void run_job(ev_threadpool *p, ev_task_fn fn, void *ctx, int base, int n) {
    unsigned gen = atomic_load_explicit(&p->generation, memory_order_relaxed) + 1;
    const int T = p->threads;
    p->fn = fn;
    p->ctx = ctx;
    p->base = base;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    for (int t = 0; t < T; t++) {
        unsigned lo = (unsigned)((int64_t)n * t / T), hi = (unsigned)((int64_t)n * (t + 1) / T);
        atomic_store_explicit(&p->ranges[t].w, pack(gen, lo, hi), memory_order_release);
    }
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->generation, gen, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p, gen, 0);
    while (atomic_load_explicit(&p->done, memory_order_acquire) < n) {
    }
}

void ev_threadpool_run(ev_threadpool *p, ev_task_fn fn, void *ctx, int n) {
    if (n <= 0) return;
    if (!p || p->threads == 1 || n == 1) {
        for (int i = 0; i < n; i++) fn(ctx, i, 0);
        return;
    }
    for (int base = 0; base < n; base += MAX_JOB)
        run_job(p, fn, ctx, base, n - base < MAX_JOB ? n - base : MAX_JOB);
}

int ev_threadpool_threads(const ev_threadpool *p) { return p ? p->threads : 1; }
