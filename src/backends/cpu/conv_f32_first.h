/*
 * conv_f32_first.h - the direct float first-layer convolution (conv_f32_first.c): a CONV_2D over
 * an input of 1-4 channels (RGB images: ResNet50's 7x7/2 stem, MobileNet's 3x3/2 conv0), whose
 * im2col rows (K = kh * kw * cin: 27, 147) would cost about as much as the GEMM on them. The op
 * keeps, per thread, the kh input rows an output row needs, zero-padded left and right, and a
 * row kernel computes one whole output row from them: every output channel's weights stay in
 * L1 (at most kh * kw * 4 * 64 floats per channel block), each input value is broadcast once per
 * register tile of output pixels.
 *
 * A row kernel, one file per ISA (conv_f32_first_avx512.c, conv_f32_first_avx2.c), listed in
 * config.c's k_first_f32 table as f32_conv_first_<mr>x<nb>__<isa> (tile: mr output pixels x nb
 * channels at most):
 *   out[p][n] = clamp( bias[n] + sum_{ky, q} rows[ky][p * ps + q] * W[ky][q][n], min, max )
 * for pixels p < n_px, channels n < N, q < kwc (= kw * cin: (kx, c) in OHWI order). Weights are
 * packed by ev_f32_gemm_pack with nr = the line's nb (blocks of nb channels: nb biases, then K
 * rows of nb weights, zero past N), so the k order is the GEMM's and the reference's (ky, kx, c).
 * A kernel may read each rows[ky] up to (n_px + EV_F32_FIRST_SLACK_PX) * ps + kwc floats (its
 * last register tile is computed whole and stored only up to n_px); the op sizes its rows so.
 *
 * Extend: another ISA is a file with ev_f32_first_fn's signature and a line in config.c (an ISA
 * without one runs the im2col + GEMM path); a wider input (in_c > 4) would need nothing here
 * but a larger EV_F32_FIRST_MAX_CIN, and is better served by the GEMM.
 */
#ifndef EV_BACKENDS_CPU_CONV_F32_FIRST_H
#define EV_BACKENDS_CPU_CONV_F32_FIRST_H

#include <stddef.h>

#define EV_F32_FIRST_MAX_CIN 4   /* input channels the op takes                          */
#define EV_F32_FIRST_MAX_KH 11   /* kernel rows the op takes                             */
#define EV_F32_FIRST_SLACK_PX 32 /* pixels a kernel may read past n_px (> every line's mr) */

typedef struct ev_f32_first_row {
    const float *rows[EV_F32_FIRST_MAX_KH]; /* tap row ky, at output pixel 0's first tap      */
    int k_h;                                /* tap rows                                        */
    int kwc;                                /* floats per tap row: kw * cin                    */
    int ps;                                 /* floats between output pixels: stride_w * cin    */
    int n_px, N;                            /* output pixels, output channels                  */
    float min, max;                         /* activation clamp                                */
} ev_f32_first_row;

/* One output row: n_px pixels of N channels, `N` floats apart, into out. */
typedef void (*ev_f32_first_fn)(const ev_f32_first_row *r, const float *Wp, float *out);

void ev_f32_conv_first_avx512(const ev_f32_first_row *r, const float *Wp, float *out);
void ev_f32_conv_first_avx2(const ev_f32_first_row *r, const float *Wp, float *out);

#endif
