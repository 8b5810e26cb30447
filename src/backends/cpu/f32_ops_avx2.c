/*
 * f32_ops_avx2.c - the float32 elementwise / pooling microkernels (f32_ops.inc) on AVX2, eight
 * lanes, with f32_exp.h's vector expf for LOGISTIC. Compiled with -mavx2 -mfma (CMakeLists.txt);
 * no FMA is used, so every op but LOGISTIC stays bit-identical to ref.
 *
 * Extend: nothing here; a kernel is added once in f32_ops.inc.
 */
#include "backends/cpu/cpu.h"

#include <immintrin.h>

#define V __m256
#define VN 8
#define VLD(p) _mm256_loadu_ps(p)
#define VST(p, v) _mm256_storeu_ps((p), (v))
#define VSET(x) _mm256_set1_ps(x)
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VDIV(a, b) _mm256_div_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define VMIN(a, b) _mm256_min_ps((a), (b))
#define VSEL_LT(x, c, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), (c), _CMP_LT_OQ))
#define VSEL_GT(x, c, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), (c), _CMP_GT_OQ))
#define VPOW2(n)                                                                                  \
    _mm256_castsi256_ps(_mm256_slli_epi32(                                                        \
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))
#include "backends/cpu/f32_exp.h"
#define VEXP(x) f32_vexp(x)
#define F32_ISA EV_ISA_AVX2
#define F32_SUFFIX avx2

#include "backends/cpu/f32_ops.inc"
