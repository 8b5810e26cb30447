/*
 * threadpool.c - see threadpool.h. One job at a time: the caller publishes (fn, ctx, n) under a
 * new generation number; workers claim task indices from an atomic counter; the caller works
 * too and then waits until every claimed task has finished.
 */
#include "core/threadpool.h"

#include "core/status.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define SPIN_ITERS 20000

struct ev_threadpool {
    int threads; /* including the caller */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    atomic_uint generation;
    atomic_uint_fast64_t next; /* (generation << 32) | next task index to claim */
    atomic_int done;           /* tasks of the current job finished */
    atomic_int n;
    ev_task_fn fn;
    void *ctx;
    int stop;
};

typedef struct {
    ev_threadpool *pool;
    int index;
} worker_arg;

/* Claims tasks of job `gen` only: a worker that wakes late cannot take a newer job's tasks
 * (the claim is a compare-and-swap on the generation-tagged counter), and the caller does not
 * start a new job before every claimed task of this one has finished. */
static void work(ev_threadpool *p, unsigned gen, int thread) {
    for (;;) {
        uint64_t cur = atomic_load_explicit(&p->next, memory_order_acquire);
        if ((unsigned)(cur >> 32) != gen) return;
        int i = (int)(cur & 0xffffffffu);
        if (i >= atomic_load_explicit(&p->n, memory_order_relaxed)) return;
        if (!atomic_compare_exchange_weak_explicit(&p->next, &cur, cur + 1, memory_order_acq_rel,
                                                   memory_order_relaxed))
            continue;
        p->fn(p->ctx, i, thread);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
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
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               spins < SPIN_ITERS)
            spins++;
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
    free(p);
}

int ev_threadpool_threads(const ev_threadpool *p) { return p ? p->threads : 1; }

void ev_threadpool_run(ev_threadpool *p, ev_task_fn fn, void *ctx, int n) {
    if (n <= 0) return;
    if (!p || p->threads == 1 || n == 1) {
        for (int i = 0; i < n; i++) fn(ctx, i, 0);
        return;
    }
    unsigned gen = atomic_load_explicit(&p->generation, memory_order_relaxed) + 1;
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->n, n, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->next, (uint64_t)gen << 32, memory_order_release);
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->generation, gen, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p, gen, 0);
    while (atomic_load_explicit(&p->done, memory_order_acquire) < n) {
    }
}
