/*
 * dwconv.h - state of the cpu backend's depthwise convolution, shared by its row kernels
 * (dwconv.c portable, dwconv_avx512.c / dwconv_vnni.c on x86, dwconv_neon.c on ARM), and the
 * signature those kernels have in the config table (config.c).
 *
 * A row kernel computes one output row of one image. Its config line names it, the op data types
 * it serves, the weight layout it reads (a pack function from the int32 (w - w_zp) table, or
 * none: it reads s->w), its channels per step and its largest kernel height (taller kernels take
 * the next entry that allows them, down to the portable one, which has no limit).
 */
#ifndef EV_BACKENDS_CPU_DWCONV_H
#define EV_BACKENDS_CPU_DWCONV_H

#include "backends/conv_desc.h"
#include "backends/cpu/cpu.h"
#include "backends/cpu/gemm.h"

typedef struct cpu_dw {
    ev_conv_desc d;
    int Cp;            /* channels padded to 16 */
    int in_i8;
    int32_t *w;        /* [k_h * k_w][Cp] (w - w_zp) */
    const void *wp;    /* the weights as the row kernel reads them: its entry's pack of w, or w */
    void *wp_own;      /* wp when packed (freed with the state) */
    int32_t *bias;     /* [Cp] */
    int32_t *requant;  /* epi's mult/lshift/rshift/rmask (ev_gemm_epi_requant) */
    ev_gemm_epi epi;
    ev_dw_row_fn row;  /* its config line's kernel */
    int band;          /* output rows per task (dwconv.c's run)                            */
    const uint8_t *in;
    uint8_t *out;
} cpu_dw;

/* Weight layouts (ev_dw_pack_fn, cpu.h): from w ([taps][Cp] int32) into packed_size(taps, Cp)
 * bytes. Layouts in dwconv.c, for any row kernel to name: int32 lanes holding the value's low 16 bits
 * (vpmaddwd / vpdpwssd operands), and plain int16 (NEON vmlal_s16). */
size_t ev_dw_pack_lo16_size(int taps, int Cp);
void ev_dw_pack_lo16(const int32_t *w, int taps, int Cp, void *out);
size_t ev_dw_pack_i16_size(int taps, int Cp);
void ev_dw_pack_i16(const int32_t *w, int taps, int Cp, void *out);

/* Row kernels: img points at the image's input, out_row at the row's output. */
void ev_dw_row_scalar(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
void ev_dw_row_avx2(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
void ev_dw_row_avx512(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
void ev_dw_row_vnni(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
void ev_dw_row_neon(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);

/* Preconditions of every row kernel, asserted in debug builds (EV_CPU_CHECKS, gemm.h): depth multiplier 1, Cp a multiple
 * of 16 covering the channels (vector loads of weights and bias stay inside), a row in range,
 * and at most max_kh kernel rows (the kernel's own limit, 0 for none). */
#define EV_DW_ASSERT_ARGS(s, img, oy, out_row, max_kh)                                          \
    do {                                                                                         \
        EV_CPU_ASSERT((s) && (img) && (out_row) && (s)->wp && (s)->bias && (s)->epi.mult);       \
        EV_CPU_ASSERT((s)->d.in_c == (s)->d.out_c);                                              \
        EV_CPU_ASSERT((s)->Cp % 16 == 0 && (s)->Cp >= (s)->d.out_c);                             \
        EV_CPU_ASSERT((oy) >= 0 && (oy) < (s)->d.out_h);                                         \
        EV_CPU_ASSERT((max_kh) == 0 || (s)->d.k_h <= (max_kh));                                  \
    } while (0)

/* Kernel rows the SIMD row kernels handle (their row-pointer tables). */
#define EV_DW_SIMD_MAX_KH 16

#endif
