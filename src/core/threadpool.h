/*
 * threadpool.h - a persistent pool of worker threads for parallel-for over task indices.
 *
 * ev_threadpool_run(pool, fn, ctx, n) calls fn(ctx, i, thread) for every i in [0, n) across the
 * workers and the calling thread, and returns when all are done. `thread` in [0, threads) lets a
 * task use per-thread scratch memory. Workers spin briefly before sleeping, since inference ops
 * come in quick succession. A NULL pool runs everything on the caller.
 */
#ifndef EV_CORE_THREADPOOL_H
#define EV_CORE_THREADPOOL_H

#include "edgevision.h"

typedef struct ev_threadpool ev_threadpool;
typedef void (*ev_task_fn)(void *ctx, int task, int thread);

/* `threads` counts the caller: threads == 1 makes a pool with no workers. */
ev_status ev_threadpool_create(int threads, ev_threadpool **out);
void ev_threadpool_free(ev_threadpool *pool);
int ev_threadpool_threads(const ev_threadpool *pool);
void ev_threadpool_run(ev_threadpool *pool, ev_task_fn fn, void *ctx, int n);

#endif
