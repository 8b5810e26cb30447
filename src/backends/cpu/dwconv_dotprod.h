/*
 * dwconv_dotprod.h - the depthwise row kernel on the armv8.2 dot product (dwconv_dotprod.c,
 * aarch64 only) and the weight layout its config line names.
 */
#ifndef EV_BACKENDS_CPU_DWCONV_DOTPROD_H
#define EV_BACKENDS_CPU_DWCONV_DOTPROD_H

#include "backends/cpu/dwconv.h"

/* Layout: ev_dw_pack_neon's first (so ev_dw_row_neon, which takes the shapes this kernel does
 * not, reads the same buffer), then the SDOT operands of 3x3 kernels (dwconv_dotprod.c). */
size_t ev_dw_pack_dot_size(int taps, int Cp);
void ev_dw_pack_dot(const int32_t *w, int taps, int Cp, void *out);
void ev_dw_row_dotprod(const cpu_dw *s, const uint8_t *img, int oy, uint8_t *out_row);

#endif
