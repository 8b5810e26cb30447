/*
 * dwconv_f32_avx512.c - float32 depthwise row kernel for AVX-512 F, f32_dwconv_row_16c__avx512skx:
 * 16 channels per step (one zmm: a whole cache line of each pixel), fused multiply-adds. The row
 * is dwconv_f32_row.inc; here is its vocabulary. Channel tails use masked loads and stores,
 * which touch nothing outside the tensor.
 *
 * Extend: 32 channels per step is DW_NV 2 (and the line's cr in config.c).
 */
#include "backends/cpu/dwconv_f32.h"

#include <immintrin.h>

#define DW_V __m512
#define DW_L 16
#define DW_NV 1
#define DW_LOAD(p) _mm512_loadu_ps(p)
#define DW_STORE(p, v) _mm512_storeu_ps((p), (v))
#define DW_LOADN(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), (p))
#define DW_STOREN(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#define DW_FMA(a, x, w) _mm512_fmadd_ps((x), (w), (a))
#define DW_MUL(x, w) _mm512_mul_ps((x), (w))
#define DW_ADD(a, b) _mm512_add_ps((a), (b))
#define DW_DUP(f) _mm512_set1_ps(f)
#define DW_CLAMP(v, lo, hi) _mm512_min_ps((hi), _mm512_max_ps((lo), (v)))
#define DW_ROW_FN ev_f32_dw_row_avx512
#include "backends/cpu/dwconv_f32_row.inc"
