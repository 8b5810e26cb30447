/*
 * dwconv.h - state of the cpu backend's depthwise convolution, shared by its ISA variants
 * (dwconv.c portable, dwconv_avx512.c / dwconv_vnni.c on x86, dwconv_neon.c on ARM).
 */
#ifndef EV_BACKENDS_CPU_DWCONV_H
#define EV_BACKENDS_CPU_DWCONV_H

#include "backends/conv_desc.h"
#include "backends/cpu/gemm.h"

typedef struct cpu_dw {
    ev_conv_desc d;
    int Cp;            /* channels padded to 16 */
    int in_i8;
    int32_t *w;        /* [k_h * k_w][Cp] (w - w_zp) */
    int32_t *w16;      /* the same, low 16 bits only (for vpmaddwd) */
    int16_t *wi16;     /* [k_h * k_w][Cp] (w - w_zp) as int16 (NEON vmlal_s16), ARM only */
    int32_t *bias;     /* [Cp] */
    int32_t *requant;  /* epi's mult/lshift/rshift/rmask (ev_gemm_epi_requant) */
    ev_gemm_epi epi;
    void (*row)(const struct cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
    const uint8_t *in;
    uint8_t *out;
} cpu_dw;

/* One output row of one image: img points at the image's input, out_row at the row's output. */
void ev_dw_row_scalar(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
void ev_dw_row_avx2(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
void ev_dw_row_avx512(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
void ev_dw_row_vnni(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);
void ev_dw_row_neon(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);

#endif
