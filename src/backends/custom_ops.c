/*
 * custom_ops.c - host kernels for TFLite custom ops, shared by every backend.
 *
 * To add one: implement an ev_kernel (see backend.h) and list it by its custom code here, with
 * its shape function when files may leave its outputs unsized (ev_custom_shape_fn).
 */
#include "core/backend.h"

#include <string.h>

extern const ev_kernel ev_kernel_posenet_decoder;
ev_status ev_posenet_decoder_shapes(ev_graph *graph, int op_index);

static const struct {
    const char *code;
    const ev_kernel *kernel;
    ev_custom_shape_fn shapes;
} k_custom[] = {
    {"PosenetDecoderOp", &ev_kernel_posenet_decoder, ev_posenet_decoder_shapes},
};

const ev_kernel *ev_custom_kernel(const char *code) {
    for (size_t i = 0; i < sizeof k_custom / sizeof k_custom[0]; i++)
        if (code && strcmp(code, k_custom[i].code) == 0) return k_custom[i].kernel;
    return NULL;
}

ev_custom_shape_fn ev_custom_shapes(const char *code) {
    for (size_t i = 0; i < sizeof k_custom / sizeof k_custom[0]; i++)
        if (code && strcmp(code, k_custom[i].code) == 0) return k_custom[i].shapes;
    return NULL;
}
