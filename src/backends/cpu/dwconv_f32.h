/*
 * dwconv_f32.h - state of the cpu backend's float32 DEPTHWISE_CONV_2D (dwconv_f32.c), shared
 * by its row kernels (dwconv_f32.c portable, dwconv_f32_avx2.c, dwconv_f32_avx512.c,
 * dwconv_f32_neon.c), whose signature is ev_f32_dw_row_fn (cpu.h) and whose lines are config.c's
 * k_dw_f32.
 *
 * A row kernel computes one output row of one image: for every output pixel and channel,
 *     clamp( sum over the taps inside the image of x * w  +  bias, min, max )
 * (padded taps contribute nothing, as in the reference). Weights are packed at prepare for the
 * row's cr (channels per step) in blocks, one per cr channels, each block
 *     cr biases, then k_h * k_w taps of cr weights (tap-major: the vector a kernel loads per tap),
 * zero past the op's channels, so a kernel reads one contiguous block per channel step and never
 * reads weights out of bounds. Input and output are read and written only inside the tensor: a
 * channel tail shorter than cr is loaded and stored partially.
 *
 * Extend: a row kernel for another ISA or tile is one file with an ev_f32_dw_row_fn and one line
 * in config.c's k_dw_f32 (its cr, its max_kh); dwconv_f32.c packs for whatever cr the line says.
 * dwconv_f32_row.inc is the SIMD row written once over a small vector vocabulary: an ISA defines
 * the vocabulary and includes it.
 */
#ifndef EV_BACKENDS_CPU_DWCONV_F32_H
#define EV_BACKENDS_CPU_DWCONV_F32_H

#include "backends/conv_desc.h"
#include "backends/cpu/cpu.h"

typedef struct cpu_dw_f32 {
    ev_conv_desc d;         /* the op: geometry, d.f_min / d.f_max the fused clamp            */
    int cr;                 /* channels per step of the row kernel (its config line)          */
    int Cp;                 /* channels padded to cr                                          */
    float *w;               /* Cp / cr blocks of cr + k_h * k_w * cr floats (above)           */
    size_t block;           /* floats per block: cr * (1 + k_h * k_w)                         */
    float min, max;         /* the clamp (d.f_min, d.f_max)                                   */
    ev_f32_dw_row_fn row;   /* its config line's kernel                                       */
    const float *in;        /* the run's tensors                                              */
    float *out;
    /* the absorbed 1x1 conv (fusion.c; pw_out_t >= 0): its weights packed for the session's
     * float GEMM line, its clamp, and per-thread bands of depthwise output rows */
    int pw_out_t, pw_n;     /* its output tensor, its output channels (the GEMM's N)          */
    const ev_cpu_f32_gemm_entry *gemm;
    float *pw_packed;
    ev_f32_epi pw_ep;
    int fbands;             /* bands per image of a fused run                                 */
    float *band;            /* [threads][band_stride]: a band's depthwise rows (out_w * C each)*/
    size_t band_stride;     /* floats per thread, a multiple of 16 (64-byte aligned)          */
    int threads;
    /* the residual ADD the absorbed 1x1 absorbs in turn (fusion.c; res_t >= 0): its other
     * operand, added in the GEMM's epilogue, whose clamp is then the ADD's; pw_out_t is then the
     * ADD's output */
    int res_t;
    const float *res;       /* the run's residual (fused runs)                                 */
} cpu_dw_f32;

/* The packed block of the channels starting at c (a multiple of s->cr): its biases; its weights
 * follow at + s->cr. */
static inline const float *ev_dw_f32_block(const cpu_dw_f32 *s, int c) {
    return s->w + (size_t)(c / s->cr) * s->block;
}

/* Channels per step of the NEON row (aarch64: 32 vector registers; armv7: 16). */
#if defined(__aarch64__)
#define EV_DW_F32_NEON_CR 8
#else
#define EV_DW_F32_NEON_CR 4
#endif

/* Row kernels: img points at the image's input (in_h x in_w x C), out_row at the output row. */
void ev_f32_dw_row_scalar(const cpu_dw_f32 *s, const float *img, int oy, float *out_row);
void ev_f32_dw_row_avx2(const cpu_dw_f32 *s, const float *img, int oy, float *out_row);
void ev_f32_dw_row_avx512(const cpu_dw_f32 *s, const float *img, int oy, float *out_row);
void ev_f32_dw_row_neon(const cpu_dw_f32 *s, const float *img, int oy, float *out_row);

/* Preconditions of every row kernel, asserted in debug builds (EV_CPU_CHECKS): depth
 * multiplier 1, the packing matches the kernel's cr, a row in range, at most max_kh kernel rows
 * (the kernel's limit, 0 for none). */
#define EV_DW_F32_ASSERT_ARGS(s, img, oy, out_row, cr_, max_kh)                                  \
    do {                                                                                         \
        EV_CPU_ASSERT((s) && (img) && (out_row) && (s)->w);                                      \
        EV_CPU_ASSERT((s)->d.in_c == (s)->d.out_c && (s)->cr == (cr_));                          \
        EV_CPU_ASSERT((s)->Cp % (s)->cr == 0 && (s)->Cp >= (s)->d.out_c);                        \
        EV_CPU_ASSERT((oy) >= 0 && (oy) < (s)->d.out_h);                                         \
        EV_CPU_ASSERT((max_kh) == 0 || (s)->d.k_h <= (max_kh));                                  \
    } while (0)

#endif
