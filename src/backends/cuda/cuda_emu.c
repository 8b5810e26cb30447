/*
 * cuda_emu.c - host emulation of the cuda backend's kernels: every "thread" of a launch run in
 * turn on the host through the same per-thread functions (cuda_math.h) the device kernels call.
 * Used when emulation is switched on (ev_cuda_set_emulation, for tests on machines without a
 * GPU): it checks the arithmetic, packing and memory residency logic, not the launch geometry.
 */
#include "backends/cuda/cuda_kernels.h"

void ev_cu_emu_conv(const ev_cu_conv *p, const void *in, void *out) {
    long long n = ev_cu_conv_tiles(p);
    for (long long t = 0; t < n; t++) ev_cu_conv_tile(p, in, out, t);
}

void ev_cu_emu_dw(const ev_cu_dw *p, const void *in, void *out) {
    for (long long e = 0; e < p->total; e++) ev_cu_dw_point(p, in, out, e);
}

void ev_cu_emu_convf(const ev_cu_convf *p, const void *in, void *out) {
    for (long long e = 0; e < p->total; e++) ev_cu_convf_point(p, in, out, e);
}

void ev_cu_emu_concat_q(const ev_cu_concat_q *p, const void *in, void *out) {
    for (long long e = 0; e < p->outer * p->chunk; e++) ev_cu_concat_q_point(p, in, out, e);
}
