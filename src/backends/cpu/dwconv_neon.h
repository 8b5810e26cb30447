/*
 * dwconv_neon.h - the weight layout of the NEON depthwise row kernel (dwconv_neon.c), which its
 * config lines name and the dot-product row (dwconv_dotprod.c) extends.
 */
#ifndef EV_BACKENDS_CPU_DWCONV_NEON_H
#define EV_BACKENDS_CPU_DWCONV_NEON_H

#include "backends/cpu/dwconv.h"

/* ev_dw_pack_i16's table first, then a 16-byte header, the weights as int8 (used for the groups
 * of 8 channels whose w - w_zp all lie in [-127, 127]), a flag byte per 8 channels and the int8
 * weights' sum per channel (dwconv_neon.c). */
size_t ev_dw_pack_neon_size(int taps, int Cp);
void ev_dw_pack_neon(const int32_t *w, int taps, int Cp, void *out);

#endif
