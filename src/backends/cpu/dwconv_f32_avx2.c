/*
 * dwconv_f32_avx2.c - float32 depthwise row kernel for AVX2 + FMA, f32_dwconv_row_16c__avx2:
 * 16 channels per step (two ymm: a whole cache line of each pixel), fused multiply-adds. The
 * row is dwconv_f32_row.inc; here is its vocabulary. Channel tails use vmaskmovps, which reads
 * and writes nothing outside the tensor.
 *
 * Extend: another width is DW_NV (and the line's cr in config.c).
 */
#include "backends/cpu/dwconv_f32.h"

#include <immintrin.h>

/* vmaskmovps masks: lanes below n set (n in 0..8). */
static inline __m256i mask_n(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define DW_V __m256
#define DW_L 8
#define DW_NV 2
#define DW_LOAD(p) _mm256_loadu_ps(p)
#define DW_STORE(p, v) _mm256_storeu_ps((p), (v))
#define DW_LOADN(p, n) _mm256_maskload_ps((p), mask_n(n))
#define DW_STOREN(p, v, n) _mm256_maskstore_ps((p), mask_n(n), (v))
#define DW_FMA(a, x, w) _mm256_fmadd_ps((x), (w), (a))
#define DW_MUL(x, w) _mm256_mul_ps((x), (w))
#define DW_ADD(a, b) _mm256_add_ps((a), (b))
#define DW_DUP(f) _mm256_set1_ps(f)
#define DW_CLAMP(v, lo, hi) _mm256_min_ps((hi), _mm256_max_ps((lo), (v)))
#define DW_ROW_FN ev_f32_dw_row_avx2
#include "backends/cpu/dwconv_f32_row.inc"
