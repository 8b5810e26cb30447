/*
 * f32_ops_avx512.c - the float32 elementwise / pooling microkernels (f32_ops.inc) on AVX-512F,
 * sixteen lanes, with f32_exp.h's vector expf for LOGISTIC. No FMA is used, so every op but
 * LOGISTIC stays bit-identical to ref.
 *
 * Extend: nothing here; a kernel is added once in f32_ops.inc.
 */
#include "backends/cpu/cpu.h"

#include <immintrin.h>

#define V __m512
#define VN 16
#define VLD(p) _mm512_loadu_ps(p)
#define VST(p, v) _mm512_storeu_ps((p), (v))
#define VSET(x) _mm512_set1_ps(x)
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define VMIN(a, b) _mm512_min_ps((a), (b))
#define VSEL_LT(x, c, a, b) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), (c), _CMP_LT_OQ), (b), (a))
#define VSEL_GT(x, c, a, b) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), (c), _CMP_GT_OQ), (b), (a))
#define VPOW2(n)                                                                                  \
    _mm512_castsi512_ps(_mm512_slli_epi32(                                                        \
        _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))
#include "backends/cpu/f32_exp.h"
#define VEXP(x) f32_vexp(x)
#define F32_ISA EV_ISA_AVX512
#define F32_SUFFIX avx512

#include "backends/cpu/f32_ops.inc"
