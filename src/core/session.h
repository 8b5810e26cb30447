/*
 * session.h - the ev_session handle: a graph, its backend object and context, the prepared
 * ops, and the planned activation arena.
 */
#ifndef EV_CORE_SESSION_H
#define EV_CORE_SESSION_H

#include "core/backend.h"
#include "core/graph.h"

typedef struct ev_prepared_op {
    const ev_kernel *kernel;
    void *state;
    const char *kernel_name;  /* as the backend chose it                                     */
    const char *backend_name; /* for the kernel's messages (see ev_kernel_ctx)               */
    int reference;            /* a reference kernel on a faster backend                      */
    int absorbs;              /* a later op this one computes too when fused (0: none)       */
    int absorbed_by;          /* the earlier op that computes this one when fused (-1: none)  */
} ev_prepared_op;

struct ev_session {
    const ev_model *model;
    const ev_graph *graph;
    const ev_backend *backend;
    void *backend_ctx;        /* what backend->init returned                                 */
    char ref_name[48];        /* "<backend> (reference kernel)"                              */
    ev_session_options opts;
    ev_prepared_op *ops;
    void **data; /* per tensor: constant data or a place in the arena */
    uint8_t *arena;
    size_t arena_size, unplanned_size;
    struct ev_threadpool *pool;
    ev_op_callback cb;
    void *cb_user;
    double *op_times; /* profiling on: per op, [2*i] start (s from run start), [2*i+1] duration */
};

/* The activation-memory cap sessions enforce ($EV_MEMORY_CAP_MB, default 4 GiB). */
size_t ev_memory_cap(void);

#endif
