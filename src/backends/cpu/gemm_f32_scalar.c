/*
 * gemm_f32_scalar.c - the portable float GEMM (f32_gemm_1x8__scalar) and the float weight
 * packing every float GEMM reads (gemm_f32.h). One output row at a time, 8 channels per step, k
 * in order: the baseline every machine has, and the layout's executable definition.
 */
#include "backends/cpu/gemm_f32.h"

#include <string.h>

#define NR 8

size_t ev_f32_gemm_packed_size(int N, int K, int nr) {
    size_t blocks = (size_t)(N + nr - 1) / (size_t)nr;
    return blocks * (size_t)(K + 1) * (size_t)nr * sizeof(float);
}

void ev_f32_gemm_pack(const float *w, const float *bias, int N, int K, int nr, float *out) {
    for (int n0 = 0; n0 < N; n0 += nr) {
        float *blk = out + (size_t)(n0 / nr) * (size_t)(K + 1) * (size_t)nr;
        memset(blk, 0, (size_t)(K + 1) * (size_t)nr * sizeof(float));
        for (int j = 0; j < nr && n0 + j < N; j++) {
            blk[j] = bias ? bias[n0 + j] : 0.0f;
            const float *wr = w + (size_t)(n0 + j) * (size_t)K;
            for (int k = 0; k < K; k++) blk[(size_t)(k + 1) * (size_t)nr + (size_t)j] = wr[k];
        }
    }
}

void ev_f32_gemm_scalar(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                        const ev_f32_epi *ep, float *C, size_t ldc) {
    EV_F32_GEMM_ASSERT_ARGS(M, N, K, A, lda, Wp, ep, C, ldc);
    for (int n0 = 0; n0 < N; n0 += NR) {
        const float *blk = ev_f32_gemm_block(Wp, n0, K, NR);
        int nc = N - n0 < NR ? N - n0 : NR;
        for (int m = 0; m < M; m++) {
            float acc[NR];
            for (int j = 0; j < NR; j++) acc[j] = blk[j];
            const float *wk = blk + NR;
            const int taps = ep->taps > 1 ? ep->taps : 1, tk = K / taps;
            for (int t = 0; t < taps; t++) {
                const float *a = A + (size_t)m * lda + (taps > 1 ? ep->tap_off[t] : 0);
                for (int k = 0; k < tk; k++, wk += NR)
                    for (int j = 0; j < NR; j++) acc[j] += a[k] * wk[j];
            }
            float *c = C + (size_t)m * ldc + n0;
            const float *r = ep->residual ? ep->residual + (size_t)m * ep->ldr + n0 : NULL;
            for (int j = 0; j < nc; j++) {
                float v = acc[j] + (r ? r[j] : 0.0f);
                v = v < ep->min ? ep->min : v;
                c[j] = v > ep->max ? ep->max : v;
            }
        }
    }
}
