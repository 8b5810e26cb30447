/*
 * dwconv_vnni.c - depthwise row kernel for AVX-512 VNNI: vpdpwssd fuses the 16-bit multiply-add
 * with the accumulation; the body is dwconv_row.inc.
 */
#include "backends/cpu/dwconv.h"
#include "backends/cpu/requant_avx512.h"

#define DW_MAC(acc, x, w) _mm512_dpwssd_epi32((acc), (x), (w))
#define DW_ROW_FN ev_dw_row_vnni
#include "backends/cpu/dwconv_row.inc"
