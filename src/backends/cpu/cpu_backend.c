/*
 * cpu_backend.c - the cpu backend object: fast kernels for the quantized convolutions that
 * dominate MobileNet-class models (conv.c, dwconv.c), and the reference kernels for everything
 * else (exact by construction, and cheap next to the convolutions).
 *
 * init builds, once per session, the kernel config (config.c) for the ISA path of the CPU,
 * capped by the session's `isa` option or $EV_ISA, into the context every kernel of the session
 * reads; supports() names the chosen line ("u8s8_gemm_6x64__avx512vnni") for
 * ev_session_kernel_name. Ops the fast kernels do not take run the reference kernels, and their
 * errors say "cpu (reference kernel)".
 */
#include "backends/cpu/cpu.h"
#include "backends/ref/ref.h"
#include "core/status.h"

#include <stdlib.h>

static int quantized_input(const ev_graph *g, const ev_op *op) {
    const ev_tensor *in = ev_op_input(g, op, 0);
    return in && (in->dtype == EV_DTYPE_U8 || in->dtype == EV_DTYPE_I8);
}

/* Float32 depthwise with depth multiplier 1 (input and filter channels equal): dwconv_f32.c. */
static int float_depthwise_m1(const ev_graph *g, const ev_op *op) {
    const ev_tensor *in = ev_op_input(g, op, 0), *w = ev_op_input(g, op, 1);
    return in && w && in->dtype == EV_DTYPE_F32 && in->ndim == 4 && w->ndim == 4 &&
           op->p.conv.depth_multiplier <= 1 && w->dims[3] == in->dims[3];
}

static ev_status init(const ev_graph *graph, const ev_backend_options *opts, void **context) {
    (void)graph;
    ev_cpu_ctx *c = calloc(1, sizeof *c);
    if (!c) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_cpu_config_init(ev_cpu_isa(opts ? opts->isa : NULL), &c->cfg);
    *context = c;
    return EV_OK;
}

static void cpu_free(void *context) { free(context); }

static void supports(void *context, const ev_graph *g, int i, ev_kernel_choice *choice) {
    const ev_cpu_config *cfg = &((const ev_cpu_ctx *)context)->cfg;
    const ev_op *op = &g->ops[i];
    if (op->type == EV_OP_CONV_2D && quantized_input(g, op)) {
        const ev_cpu_gemm_entry *k = ev_cpu_config_gemm(cfg, ev_op_input(g, op, 0)->dtype);
        if (k) {
            choice->kernel = &ev_cpu_conv_kernel;
            choice->name = k->name;
            return;
        }
    }
    if (op->type == EV_OP_DEPTHWISE_CONV_2D && quantized_input(g, op) &&
        op->p.conv.depth_multiplier <= 1) {
        const ev_tensor *w = ev_op_input(g, op, 1);
        int k_h = w && w->ndim == 4 ? w->dims[1] : 0;
        const ev_cpu_dw_entry *k = ev_cpu_config_dw(cfg, ev_op_input(g, op, 0)->dtype, k_h);
        if (k) {
            choice->kernel = &ev_cpu_dwconv_kernel;
            choice->name = k->name;
            return;
        }
    }
    if (op->type == EV_OP_DEPTHWISE_CONV_2D && float_depthwise_m1(g, op)) {
        const ev_cpu_f32_dw_entry *k = ev_cpu_config_f32_dw(cfg, ev_op_input(g, op, 1)->dims[1]);
        if (k) {
            choice->kernel = &ev_cpu_dwconv_f32_kernel;
            choice->name = k->name;
            return;
        }
    }
    choice->kernel = ev_ref_kernel_for(g, i);
    choice->reference = choice->kernel != NULL;
    choice->why = choice->kernel ? NULL : "no fast or reference kernel for this op type";
}

const ev_backend ev_backend_cpu = {
    .abi = EV_BACKEND_ABI,
    .name = "cpu",
    .description = "fast CPU kernels (AVX-512 VNNI / AVX-512 / AVX2 / NEON / scalar, chosen "
                   "once per session), bit-exact with ref",
    .init = init,
    .free = cpu_free,
    .supports = supports,
};
