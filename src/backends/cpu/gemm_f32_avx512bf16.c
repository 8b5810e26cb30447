/*
 * gemm_f32_avx512bf16.c - the opt-in bfloat16 float GEMM (f32_gemm_14x32__avx512bf16: session
 * option float_modes & EV_FLOAT_BF16 on CPUs with AVX512_BF16; never the default): products of
 * bfloat16-rounded activations and weights, summed in float32 by vdpbf16ps (two products per
 * float lane per instruction: twice the multiply rate of vfmadd231ps).
 *
 * Same contract as every float GEMM (gemm_f32.h: C = clamp(A W + bias (+ R))), its own weight
 * layout: per block of 32 channels, 32 float biases, then ceil(K/2) rows of 32 (k, k+1) pairs of
 * bfloat16 (low half k), rounded to nearest even once at pack time (zero past K and N). The
 * activations are rounded the same way (vcvtne2ps2bf16), KC of k at a time for a tile of 14 rows,
 * into a stack buffer reused across every 32-channel block of N; sums of a K longer than KC go
 * through C between chunks (raw), and the epilogue (residual, clamp) runs on the last chunk.
 *
 * Accuracy: each product carries the rounding of two 8-bit significands (relative 2^-8 each), the
 * sums are float32: tests/test_f32_bf16.c states its tolerance.
 *
 * Extend: an AMX-BF16 tile GEMM would be another line with this signature and layout.
 */
#include "backends/cpu/gemm_f32.h"

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define NR 32
#define MR 14
#define KC 1024 /* k per converted chunk (even) */

/* Float to bfloat16, round to nearest even (as vcvtne2ps2bf16 does for normal numbers). */
static uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu)) return (uint16_t)(u >> 16 | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

size_t ev_f32_gemm_bf16_block_floats(int K, int nr) {
    return (size_t)nr * (size_t)(1 + (K + 1) / 2);
}

size_t ev_f32_gemm_bf16_packed_size(int N, int K, int nr) {
    size_t blocks = (size_t)(N + nr - 1) / (size_t)nr;
    return blocks * ev_f32_gemm_bf16_block_floats(K, nr) * sizeof(float);
}

void ev_f32_gemm_bf16_pack(const float *w, const float *bias, int N, int K, int nr, float *out) {
    const int kp = (K + 1) / 2;
    for (int n0 = 0; n0 < N; n0 += nr) {
        float *blk = out + (size_t)(n0 / nr) * ev_f32_gemm_bf16_block_floats(K, nr);
        memset(blk, 0, ev_f32_gemm_bf16_block_floats(K, nr) * sizeof(float));
        uint16_t *pairs = (uint16_t *)(blk + nr);
        for (int j = 0; j < nr && n0 + j < N; j++) {
            blk[j] = bias ? bias[n0 + j] : 0.0f;
            const float *wr = w + (size_t)(n0 + j) * (size_t)K;
            for (int k = 0; k < K; k++)
                pairs[((size_t)(k / 2) * nr + j) * 2 + (k & 1)] = to_bf16(wr[k]);
        }
        (void)kp;
    }
}

/* Rounds rows [0, rows) of A, k in [k0, k0 + kc), into buf (rows of KC bfloat16; the pair past
 * an odd kc is zero). */
static inline void convert_rows(int rows, const float *A, size_t lda, int k0, int kc,
                                uint16_t *buf) {
    for (int r = 0; r < rows; r++) {
        const float *a = A + (size_t)r * lda + k0;
        uint16_t *o = buf + (size_t)r * KC;
        int k = 0;
        for (; k + 32 <= kc; k += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(a + k));
            _mm512_storeu_si512((void *)(o + k), (__m512i)v);
        }
        if (k < kc) {
            int left = kc - k;
            __mmask16 lo = (__mmask16)(left >= 16 ? 0xffff : (1u << left) - 1);
            __mmask16 hi = (__mmask16)(left > 16 ? (1u << (left - 16)) - 1 : 0);
            __m512 vl = _mm512_maskz_loadu_ps(lo, a + k);
            __m512 vh = _mm512_maskz_loadu_ps(hi, a + k + 16);
            __m512bh v = _mm512_cvtne2ps_pbh(vh, vl);
            /* whole pairs: up to the even length above kc, zeros included */
            int keep = (left + 1) & ~1;
            __mmask32 m = keep >= 32 ? 0xffffffffu : (__mmask32)((1u << keep) - 1);
            _mm512_mask_storeu_epi16(o + k, m, (__m512i)v);
        }
    }
}

/* One tile: `rows` rows x one 32-channel block, pairs [p0, p0 + np) of the chunk in buf. */
static inline __attribute__((always_inline)) void tile(
    const int rows, const uint16_t *buf, const uint32_t *wp, int np, const float *bias, int first,
    int last, const ev_f32_epi *ep, float *C, size_t ldc, int m0, int n0, __mmask16 m_lo,
    __mmask16 m_hi) {
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int r = 0; r < MR; r++) {
        if (r >= rows) break;
        if (first) {
            acc[r][0] = _mm512_loadu_ps(bias);
            acc[r][1] = _mm512_loadu_ps(bias + 16);
        } else {
            float *c = C + (size_t)r * ldc;
            acc[r][0] = _mm512_maskz_loadu_ps(m_lo, c);
            acc[r][1] = _mm512_maskz_loadu_ps(m_hi, c + 16);
        }
    }
    const uint32_t *a32 = (const uint32_t *)buf;
    for (int p = 0; p < np; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(wp + (size_t)p * NR));
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(wp + (size_t)p * NR + 16));
#pragma GCC unroll 14
        for (int r = 0; r < MR; r++) {
            if (r >= rows) break;
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)a32[(size_t)r * (KC / 2) + p]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, b1);
        }
    }
    const __m512 lo = _mm512_set1_ps(ep->min), hi = _mm512_set1_ps(ep->max);
#pragma GCC unroll 14
    for (int r = 0; r < MR; r++) {
        if (r >= rows) break;
        float *c = C + (size_t)r * ldc;
        __m512 v0 = acc[r][0], v1 = acc[r][1];
        if (last) {
            if (ep->residual) {
                const float *res = ep->residual + (size_t)(m0 + r) * ep->ldr + n0;
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m_lo, res));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m_hi, res + 16));
            }
            v0 = _mm512_min_ps(_mm512_max_ps(v0, lo), hi);
            v1 = _mm512_min_ps(_mm512_max_ps(v1, lo), hi);
        }
        _mm512_mask_storeu_ps(c, m_lo, v0);
        _mm512_mask_storeu_ps(c + 16, m_hi, v1);
    }
}

/* Row tiles of 14, then the remainder in tiles of 8, 4, 2 and 1 (at most four more passes over
 * the weight block): five specialisations of tile() instead of fourteen, which keeps the file's
 * compile time sane under sanitizers (clang with ASan + UBSan took minutes per specialisation). */
#define TILE(R)                                                                                  \
    tile(R, buf + (size_t)(r0 - m0) * KC, wp, np, blk, first, last, ep, C + (size_t)r0 * ldc + n0,\
         ldc, r0, n0, m_lo, m_hi)

void ev_f32_gemm_bf16_avx512(int M, int N, int K, const float *A, size_t lda, const float *Wp,
                             const ev_f32_epi *ep, float *C, size_t ldc) {
    EV_F32_GEMM_ASSERT_ARGS(M, N, K, A, lda, Wp, ep, C, ldc);
    uint16_t buf[MR * KC] __attribute__((aligned(64)));
    const size_t bstride = ev_f32_gemm_bf16_block_floats(K, NR);
    for (int m0 = 0; m0 < M; m0 += MR) {
        const int rows = M - m0 < MR ? M - m0 : MR;
        for (int k0 = 0; k0 < K; k0 += KC) {
            const int kc = K - k0 < KC ? K - k0 : KC;
            const int first = k0 == 0, last = k0 + kc >= K;
            const int np = (kc + 1) / 2;
            convert_rows(rows, A + (size_t)m0 * lda, lda, k0, kc, buf);
            for (int n0 = 0; n0 < N; n0 += NR) {
                const float *blk = Wp + (size_t)(n0 / NR) * bstride;
                const uint32_t *wp = (const uint32_t *)(blk + NR) + (size_t)(k0 / 2) * NR;
                const int nc = N - n0 < NR ? N - n0 : NR;
                const __mmask16 m_lo = (__mmask16)(nc >= 16 ? 0xffff : (1u << nc) - 1);
                const __mmask16 m_hi = (__mmask16)(nc >= 32 ? 0xffff : nc > 16 ? (1u << (nc - 16)) - 1 : 0);
                int r0 = m0, left = rows;
                if (left == MR) {
                    TILE(MR);
                    continue;
                }
                if (left >= 8) TILE(8), r0 += 8, left -= 8;
                if (left >= 4) TILE(4), r0 += 4, left -= 4;
                if (left >= 2) TILE(2), r0 += 2, left -= 2;
                if (left >= 1) TILE(1);
            }
        }
    }
}
