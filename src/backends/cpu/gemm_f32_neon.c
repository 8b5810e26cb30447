/*
 * gemm_f32_neon.c - the float GEMM with NEON (gemm_f32.h's contract), f32_gemm_<mr>x8__neon:
 *   aarch64: an 8x8 tile, 8 rows x 8 channels in 16 accumulators; per group of 4 k, one q
 *            register of A per row (8) and two of weights, vfmaq_laneq_f32 taking each k's A
 *            value from its lane: 26 of the 32 vector registers.
 *   armv7:   a 4x8 tile (8 accumulators, 4 A, 2 weights: 14 of the 16 q registers) with
 *            vmlaq_lane_f32, which rounds the product before the add, as -mfpu=neon (how
 *            CMakeLists.txt compiles *_neon.c on armv7) has no fused multiply-add; vfmaq_lane_f32
 *            when the compiler has FMA (__ARM_FEATURE_FMA: -mfpu=neon-vfpv4).
 * Each output starts from its bias and adds its K products in k order (the scalar kernel's
 * order: armv7 without FMA is bit-exact with it). Remainders: rows past M (M % mr) read the
 * last row again and are not stored; channels past N are zero in the packed weights and are
 * not stored; residual and output are read and written only for the N channels (a channel tail
 * goes through a small buffer). Epilogue: + residual, then the clamp (a NaN stays NaN).
 *
 * Extend: another tile is EV_F32_GEMM_NEON_MR (cpu.h, which names the config line's tile) and
 * the accumulators below; a 16-channel tile would need its own packing width (the line's nr).
 */
#include "backends/cpu/cpu.h"
#include "backends/cpu/gemm_f32.h"

#include <arm_neon.h>
#include <string.h>

#define MR EV_F32_GEMM_NEON_MR
#define NR 8

#if defined(__aarch64__)
#define FMA_LANE(acc, w, a, l) vfmaq_laneq_f32((acc), (w), (a), (l))
#define FMA_DUP(acc, w, s) vfmaq_n_f32((acc), (w), (s))
#elif defined(__ARM_FEATURE_FMA)
#define FMA_LANE(acc, w, a, l)                                                                   \
    ((l) < 2 ? vfmaq_lane_f32((acc), (w), vget_low_f32(a), (l) & 1)                              \
             : vfmaq_lane_f32((acc), (w), vget_high_f32(a), (l) & 1))
#define FMA_DUP(acc, w, s) vfmaq_f32((acc), (w), vdupq_n_f32(s))
#else
#define FMA_LANE(acc, w, a, l)                                                                   \
    ((l) < 2 ? vmlaq_lane_f32((acc), (w), vget_low_f32(a), (l) & 1)                              \
             : vmlaq_lane_f32((acc), (w), vget_high_f32(a), (l) & 1))
#define FMA_DUP(acc, w, s) vmlaq_f32((acc), (w), vdupq_n_f32(s))
#endif

/* Output row: acc + residual, clamped, the first nc channels stored. */
static inline void store_row(float32x4_t lo, float32x4_t hi, const float *r, float32x4_t vmin,
                             float32x4_t vmax, int nc, float *c) {
    if (nc == NR) {
        if (r) lo = vaddq_f32(lo, vld1q_f32(r)), hi = vaddq_f32(hi, vld1q_f32(r + 4));
        vst1q_f32(c, vminq_f32(vmax, vmaxq_f32(vmin, lo)));
        vst1q_f32(c + 4, vminq_f32(vmax, vmaxq_f32(vmin, hi)));
        return;
    }
    float t[NR] = {0};
    if (r) {
        memcpy(t, r, (size_t)nc * sizeof(float));
        lo = vaddq_f32(lo, vld1q_f32(t)), hi = vaddq_f32(hi, vld1q_f32(t + 4));
    }
    vst1q_f32(t, vminq_f32(vmax, vmaxq_f32(vmin, lo)));
    vst1q_f32(t + 4, vminq_f32(vmax, vmaxq_f32(vmin, hi)));
    memcpy(c, t, (size_t)nc * sizeof(float));
}

void ev_f32_gemm_neon(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                      const ev_f32_epi *ep, float *C, size_t ldc) {
    EV_F32_GEMM_ASSERT_ARGS(M, N, K, A, lda, Wp, ep, C, ldc);
    const float32x4_t vmin = vdupq_n_f32(ep->min), vmax = vdupq_n_f32(ep->max);
    for (int n0 = 0; n0 < N; n0 += NR) {
        const float *blk = ev_f32_gemm_block(Wp, n0, K, NR);
        const int nc = N - n0 < NR ? N - n0 : NR;
        for (int m0 = 0; m0 < M; m0 += MR) {
            const int mr = M - m0 < MR ? M - m0 : MR;
            const float *a[MR];
            float32x4_t lo[MR], hi[MR];
            const float32x4_t b0 = vld1q_f32(blk), b1 = vld1q_f32(blk + 4);
#pragma GCC unroll 8
            for (int i = 0; i < MR; i++) {
                a[i] = A + (size_t)(m0 + (i < mr ? i : mr - 1)) * lda;
                lo[i] = b0, hi[i] = b1;
            }
            const float *w = blk + NR;
            int k = 0;
            for (; k + 4 <= K; k += 4, w += 4 * NR) {
                float32x4_t av[MR];
#pragma GCC unroll 8
                for (int i = 0; i < MR; i++) av[i] = vld1q_f32(a[i] + k);
#define KSTEP(l)                                                                                 \
    do {                                                                                         \
        const float32x4_t w0 = vld1q_f32(w + (l) * NR), w1 = vld1q_f32(w + (l) * NR + 4);        \
        _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++) {                                   \
            lo[i] = FMA_LANE(lo[i], w0, av[i], l);                                               \
            hi[i] = FMA_LANE(hi[i], w1, av[i], l);                                               \
        }                                                                                        \
    } while (0)
                KSTEP(0);
                KSTEP(1);
                KSTEP(2);
                KSTEP(3);
#undef KSTEP
            }
            for (; k < K; k++, w += NR) {
                const float32x4_t w0 = vld1q_f32(w), w1 = vld1q_f32(w + 4);
#pragma GCC unroll 8
                for (int i = 0; i < MR; i++) {
                    lo[i] = FMA_DUP(lo[i], w0, a[i][k]);
                    hi[i] = FMA_DUP(hi[i], w1, a[i][k]);
                }
            }
            for (int i = 0; i < mr; i++) {
                const float *r =
                    ep->residual ? ep->residual + (size_t)(m0 + i) * ep->ldr + n0 : NULL;
                store_row(lo[i], hi[i], r, vmin, vmax, nc, C + (size_t)(m0 + i) * ldc + n0);
            }
        }
    }
}
