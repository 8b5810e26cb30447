/*
 * cuda_kernels.h - the launchers of cuda_kernels.cu (device) and cuda_emu.c (host emulation),
 * callable from C. Launchers enqueue on `stream` (a cudaStream_t) and return a cudaError_t as
 * int (0: cudaSuccess); the emulated ones run at once and return 0.
 */
#ifndef EV_BACKENDS_CUDA_KERNELS_H
#define EV_BACKENDS_CUDA_KERNELS_H

#include "backends/cuda/cuda_math.h"

#ifdef __cplusplus
extern "C" {
#endif

int ev_cu_launch_conv(const ev_cu_conv *p, const void *in, void *out, void *stream);
int ev_cu_launch_dw(const ev_cu_dw *p, const void *in, void *out, void *stream);
int ev_cu_launch_convf(const ev_cu_convf *p, const void *in, void *out, void *stream);
int ev_cu_launch_concat_q(const ev_cu_concat_q *p, const void *in, void *out, void *stream);

void ev_cu_emu_conv(const ev_cu_conv *p, const void *in, void *out);
void ev_cu_emu_dw(const ev_cu_dw *p, const void *in, void *out);
void ev_cu_emu_convf(const ev_cu_convf *p, const void *in, void *out);
void ev_cu_emu_concat_q(const ev_cu_concat_q *p, const void *in, void *out);

#ifdef __cplusplus
}
#endif

#endif
