/*
 * cuda_kernels.cu - the cuda backend's device kernels, C style: each is a grid-stride loop over
 * the per-thread functions of cuda_math.h (the same functions cuda_emu.c runs on the host).
 * Parameters travel by value in kernel arguments; no shared memory, no templates.
 */
#include "backends/cuda/cuda_kernels.h"

#include <cuda_runtime.h>

#define EV_CU_BLOCK 256

static unsigned int grid_for(long long n) {
    long long b = (n + EV_CU_BLOCK - 1) / EV_CU_BLOCK;
    if (b < 1) b = 1;
    if (b > (1 << 20)) b = 1 << 20; /* the loops stride over the rest */
    return (unsigned int)b;
}

__global__ void __launch_bounds__(EV_CU_BLOCK) k_conv(ev_cu_conv p, const uint8_t *__restrict__ in,
                                                      uint8_t *__restrict__ out, long long n) {
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < n;
         t += (long long)gridDim.x * blockDim.x)
        ev_cu_conv_tile(&p, in, out, t);
}

__global__ void __launch_bounds__(EV_CU_BLOCK) k_dw(ev_cu_dw p, const uint8_t *__restrict__ in,
                                                    uint8_t *__restrict__ out) {
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < p.total;
         e += (long long)gridDim.x * blockDim.x)
        ev_cu_dw_point(&p, in, out, e);
}

__global__ void __launch_bounds__(EV_CU_BLOCK) k_convf(ev_cu_convf p, const float *__restrict__ in,
                                                       float *__restrict__ out) {
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < p.total;
         e += (long long)gridDim.x * blockDim.x)
        ev_cu_convf_point(&p, in, out, e);
}

__global__ void __launch_bounds__(EV_CU_BLOCK) k_concat_q(ev_cu_concat_q p, const uint8_t *__restrict__ in,
                                                          uint8_t *__restrict__ out) {
    long long n = p.outer * p.chunk;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n;
         e += (long long)gridDim.x * blockDim.x)
        ev_cu_concat_q_point(&p, in, out, e);
}

extern "C" int ev_cu_launch_conv(const ev_cu_conv *p, const void *in, void *out, void *stream) {
    long long n = ev_cu_conv_tiles(p);
    if (n <= 0) return 0;
    k_conv<<<grid_for(n), EV_CU_BLOCK, 0, (cudaStream_t)stream>>>(*p, (const uint8_t *)in,
                                                                  (uint8_t *)out, n);
    return (int)cudaGetLastError();
}

extern "C" int ev_cu_launch_dw(const ev_cu_dw *p, const void *in, void *out, void *stream) {
    if (p->total <= 0) return 0;
    k_dw<<<grid_for(p->total), EV_CU_BLOCK, 0, (cudaStream_t)stream>>>(*p, (const uint8_t *)in,
                                                                       (uint8_t *)out);
    return (int)cudaGetLastError();
}

extern "C" int ev_cu_launch_convf(const ev_cu_convf *p, const void *in, void *out, void *stream) {
    if (p->total <= 0) return 0;
    k_convf<<<grid_for(p->total), EV_CU_BLOCK, 0, (cudaStream_t)stream>>>(*p, (const float *)in,
                                                                          (float *)out);
    return (int)cudaGetLastError();
}

extern "C" int ev_cu_launch_concat_q(const ev_cu_concat_q *p, const void *in, void *out,
                                     void *stream) {
    long long n = p->outer * p->chunk;
    if (n <= 0) return 0;
    k_concat_q<<<grid_for(n), EV_CU_BLOCK, 0, (cudaStream_t)stream>>>(*p, (const uint8_t *)in,
                                                                      (uint8_t *)out);
    return (int)cudaGetLastError();
}
