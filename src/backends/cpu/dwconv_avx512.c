/*
 * dwconv_avx512.c - depthwise row kernel for AVX-512 without VNNI (vpmaddwd + vpaddd); the body
 * is dwconv_row.inc.
 */
#include "backends/cpu/dwconv.h"
#include "backends/cpu/requant_avx512.h"

#define DW_MAC(acc, x, w) _mm512_add_epi32((acc), _mm512_madd_epi16((x), (w)))
#define DW_ROW_FN ev_dw_row_avx512
#include "backends/cpu/dwconv_row.inc"
