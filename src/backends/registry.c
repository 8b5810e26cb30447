/*
 * registry.c - the backends compiled into this build, and op-level error messages.
 */
#include "backends/backend.h"
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const ev_backend ev_backend_ref;
extern const ev_backend ev_backend_cpu;
#ifdef EV_HAVE_CUDA
extern const ev_backend ev_backend_cuda; /* src/backends/cuda: only in builds with a CUDA compiler */
#endif

static const ev_backend *const k_backends[] = {&ev_backend_ref, &ev_backend_cpu,
#ifdef EV_HAVE_CUDA
                                               &ev_backend_cuda,
#endif
};
static const char *const k_names[] = {"ref", "cpu",
#ifdef EV_HAVE_CUDA
                                      "cuda",
#endif
                                      NULL};

const char *const *ev_backend_names(void) { return k_names; }

const ev_backend *ev_backend_find(const char *name) {
    for (size_t i = 0; i < sizeof k_backends / sizeof k_backends[0]; i++)
        if (strcmp(k_backends[i]->name, name) == 0) return k_backends[i];
    return NULL;
}

ev_status ev_op_fail(const ev_kernel_ctx *ctx, ev_status status, const char *backend,
                     const char *file, int line, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const ev_op *op = &ctx->graph->ops[ctx->op_index];
    return ev_set_error(status, file, line, "op %d (%s) on backend %s: %s", ctx->op_index,
                        op->name, backend, msg);
}
