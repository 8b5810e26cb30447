/*
 * registry.c - the backends compiled into this build (ABI-checked when looked up), and op-level
 * error messages.
 */
#include "core/backend.h"
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

ev_status ev_backend_get(const char *name, const ev_backend **out) {
    *out = NULL;
    for (size_t i = 0; name && i < sizeof k_backends / sizeof k_backends[0]; i++) {
        const ev_backend *b = k_backends[i];
        if (strcmp(b->name, name) != 0) continue;
        if (b->abi != EV_BACKEND_ABI || !b->supports)
            return EV_FAIL(EV_ERR_INTERNAL, "backend %s was built for backend ABI %d, this "
                           "library has ABI %d", b->name, b->abi, EV_BACKEND_ABI);
        *out = b;
        return EV_OK;
    }
    char names[128] = "";
    for (const char *const *n = k_names; *n; n++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "",
                 *n);
    return EV_FAIL(EV_ERR_INVALID_ARG, "unknown backend '%s' (this build has: %s)",
                   name ? name : "(null)", names);
}

ev_status ev_op_fail(const ev_kernel_ctx *ctx, ev_status status, const char *file, int line,
                     const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const ev_op *op = &ctx->graph->ops[ctx->op_index];
    return ev_set_error(status, file, line, "op %d (%s) on backend %s: %s", ctx->op_index,
                        op->name, ctx->backend_name ? ctx->backend_name : "?", msg);
}
