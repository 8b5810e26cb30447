/*
 * gemm_scalar.c - portable quantized GEMM over the packed layout (see gemm.h): the fallback on
 * CPUs without AVX-512 VNNI, and EV_ISA=scalar. Also defines the packing and the
 * requantization table (ev_gemm_epi_requant) every variant shares.
 */
#include "backends/cpu/gemm.h"

#include "core/quant.h"

#include <stdlib.h>
#include <string.h>

/* rq64, per group of 16 channels (16 g + j), 7 vectors of 8 int64, lane i = channel 2i (even)
 * or 2i + 1 (odd): M0 of the odd channels (vpmuldq reads the low half of each 64-bit lane), the
 * addend A of the even / odd channels, the addend for a negative product (A_neg) of the even /
 * odd channels, the shift 31 + e of the even / odd channels. requant_avx512.h says why
 * (p + A) >> (31 + e) is TFLite's double rounding. */
static void fill_rq64(int64_t *q, const int32_t *m0, const int32_t *rs, int np) {
    for (int g = 0; g < np / 16; g++, q += 56)
        for (int i = 0; i < 8; i++)
            for (int odd = 0; odd < 2; odd++) {
                int c = 16 * g + 2 * i + odd, e = rs[c];
                int64_t a = (1ll << 30) + (e > 0 ? 1ll << (30 + e) : 0);
                if (odd) q[i] = m0[c];
                q[8 + 8 * odd + i] = a;
                q[24 + 8 * odd + i] = e > 0 ? a - (1ll << 31) : a;
                q[40 + 8 * odd + i] = 31 + e;
            }
}

int ev_gemm_epi_requant(ev_gemm_epi *ep, int32_t **table, const int32_t *mult, const int *shift,
                        int n, int np) {
    EV_CPU_ASSERT(np % 16 == 0 && np >= n);
    size_t words = (size_t)np * 4, bytes = ((words * sizeof(int32_t) + 63) & ~(size_t)63) +
                                            (size_t)np / 16 * 56 * sizeof(int64_t);
    int32_t *t = aligned_alloc(64, bytes);
    *table = t;
    if (!t) return -1;
    memset(t, 0, bytes);
    int32_t *m0 = t, *ls = t + np, *rs = t + 2 * (size_t)np, *rm = t + 3 * (size_t)np;
    int64_t *q = (int64_t *)((char *)t + ((words * sizeof(int32_t) + 63) & ~(size_t)63));
    int any_lshift = 0;
    for (int c = 0; c < n; c++) {
        m0[c] = mult[c];
        ls[c] = shift[c] > 0 ? shift[c] : 0;
        rs[c] = shift[c] > 0 ? 0 : -shift[c];
        rm[c] = (int32_t)((1ll << rs[c]) - 1);
        if (ls[c]) any_lshift = 1;
    }
    fill_rq64(q, m0, rs, np);
    ep->mult = m0;
    ep->lshift = ls;
    ep->rshift = rs;
    ep->rmask = rm;
    ep->any_lshift = any_lshift;
    ep->rq64 = q;
    return 0;
}

size_t ev_gemm_packed_size(int N, int Kp) {
    size_t nb = ((size_t)N + 15) / 16;
    return nb * 16 * (size_t)Kp;
}

void ev_gemm_pack(const int8_t *w, int N, int K, int Kp, void *outp) {
    EV_CPU_ASSERT(Kp % 4 == 0 && Kp >= K);
    int8_t *out = outp;
    int nb = (N + 15) / 16;
    memset(out, 0, ev_gemm_packed_size(N, Kp));
    for (int b = 0; b < nb; b++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < 16; j++) {
                int n = b * 16 + j;
                if (n >= N) break;
                out[(size_t)b * 16 * Kp + (size_t)(k / 4) * 64 + j * 4 + (k % 4)] =
                    w[(size_t)n * K + k];
            }
}

void ev_gemm_scalar(int M, int N, int Kp, const uint8_t *A, size_t lda, const void *Bpv,
                    const int32_t *rowsum, const ev_gemm_epi *ep, uint8_t *C, size_t ldc,
                    void *scratch) {
    (void)scratch;
    EV_GEMM_ASSERT_ARGS(M, N, Kp, A, lda, Bpv, rowsum, ep, C, ldc, 0);
    const int8_t *Bp = Bpv;
    for (int m = 0; m < M; m++) {
        const uint8_t *a = A + (size_t)m * lda;
        uint8_t *c = C + (size_t)m * ldc;
        for (int n0 = 0; n0 < N; n0 += 16) {
            /* one block of 16 channels: walk its k groups in packed order */
            const int8_t *b = Bp + (size_t)(n0 / 16) * 16 * Kp;
            int32_t acc[16] = {0};
            for (int k = 0; k < Kp; k += 4, b += 64) {
                const int32_t a0 = a[k], a1 = a[k + 1], a2 = a[k + 2], a3 = a[k + 3];
                for (int j = 0; j < 16; j++)
                    acc[j] += a0 * b[4 * j] + a1 * b[4 * j + 1] + a2 * b[4 * j + 2] +
                              a3 * b[4 * j + 3];
            }
            for (int j = 0; j < 16 && n0 + j < N; j++) {
                int n = n0 + j;
                int32_t v = acc[j] + ep->bias[n] + (ep->delta ? ep->delta[n] * rowsum[m] : 0);
                int shift = ep->lshift[n] - ep->rshift[n];
                v = (ep->round_half_up
                         ? ev_mul_by_quantized_multiplier_up(v, ep->mult[n], shift)
                         : ev_mul_by_quantized_multiplier(v, ep->mult[n], shift)) +
                    ep->out_zp;
                v = v < ep->act_min ? ep->act_min : v > ep->act_max ? ep->act_max : v;
                c[n] = ep->out_i8 ? (uint8_t)(int8_t)v : (uint8_t)v;
            }
        }
    }
}
