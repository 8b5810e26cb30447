/*
 * backend.h - the private backend interface: one vtable per backend (ref, cpu, cuda, ...).
 *
 * A session asks the backend to prepare every op once (validate types/shapes, precompute
 * multipliers, pack weights) and then runs the prepared ops in graph order. Tensor memory is
 * owned by the session: `data[t]` points at tensor t (constants into the model file,
 * activations into the planned arena).
 *
 * Custom ops that are not arithmetic kernels (PosenetDecoderOp) run on the host through the same
 * kernel signature, from the table in custom_ops.c, whatever the backend.
 *
 * To add a backend: a folder src/backends/<name>/ defining `const ev_backend ev_backend_<name>`,
 * and an entry in registry.c. Bump EV_BACKEND_ABI when this struct changes.
 */
#ifndef EV_BACKENDS_BACKEND_H
#define EV_BACKENDS_BACKEND_H

#include "core/graph.h"

#define EV_BACKEND_ABI 1

struct ev_threadpool;

typedef struct ev_kernel_ctx {
    const ev_graph *graph;
    const ev_session_options *opts;
    int op_index;
    struct ev_threadpool *pool; /* the session's workers (NULL: run on the caller)            */
} ev_kernel_ctx;

typedef struct ev_kernel {
    /* Validates the op and builds its state. EV_ERR_UNSUPPORTED (naming op, index, backend and
     * the reason) when this kernel cannot run it. */
    ev_status (*prepare)(const ev_kernel_ctx *ctx, void **state);
    ev_status (*run)(const ev_kernel_ctx *ctx, void *state, void *const *data);
    void (*release)(void *state);
} ev_kernel;

typedef struct ev_backend {
    int abi;
    const char *name;
    const char *description;
    /* The kernel for op `ctx->op_index`, or NULL when the backend has none for its type. */
    const ev_kernel *(*kernel_for)(const ev_kernel_ctx *ctx);
} ev_backend;

const ev_backend *ev_backend_find(const char *name);

/* Host kernel for a custom op code, or NULL. */
const ev_kernel *ev_custom_kernel(const char *custom_code);

/* Error helper for kernels: "op 3 (CONV_2D) on backend ref: <reason>". */
#define EV_OP_FAIL(ctx, status, backend, ...)                                                     \
    ev_op_fail((ctx), (status), (backend), __FILE__, __LINE__, __VA_ARGS__)
ev_status ev_op_fail(const ev_kernel_ctx *ctx, ev_status status, const char *backend,
                     const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
