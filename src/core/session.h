/*
 * session.h - the ev_session handle.
 */
#ifndef EV_CORE_SESSION_H
#define EV_CORE_SESSION_H

#include "backends/backend.h"
#include "core/graph.h"

typedef struct ev_prepared_op {
    const ev_kernel *kernel;
    void *state;
} ev_prepared_op;

struct ev_session {
    const ev_model *model;
    const ev_graph *graph;
    const ev_backend *backend;
    ev_session_options opts;
    ev_prepared_op *ops;
    void **data; /* per tensor: constant data or a place in the arena */
    uint8_t *arena;
    size_t arena_size, unplanned_size;
    struct ev_threadpool *pool;
    ev_op_callback cb;
    void *cb_user;
};

/* The activation-memory cap sessions enforce ($EV_MEMORY_CAP_MB, default 4 GiB). */
size_t ev_memory_cap(void);

#endif
