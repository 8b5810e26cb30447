/*
 * posenet_decoder.h - private helpers shared by the PoseNet decoders (posenet_decoder.c) and the
 * PosenetDecoderOp graph-op wrapper. The decoders themselves are public (edgevision.h:
 * ev_posenet_decode_multi / ev_posenet_decode_single).
 *
 * To extend: add declarations here only for things another src/ file needs; keep the decoder's
 * internals (heap, sampler) static in posenet_decoder.c.
 */
#ifndef EV_POSE_POSENET_DECODER_H
#define EV_POSE_POSENET_DECODER_H

#include "edgevision.h"

#include <stddef.h>
#include <stdint.h>

/* Number of channels of each head, as the decoders expect them ([H][W][C]). */
#define EV_POSENET_HEAT_CHANNELS 17
#define EV_POSENET_OFFSET_CHANNELS 34
#define EV_POSENET_DISP_CHANNELS 64

/* Dequantizes a uint8 head: out[i] = ((float)q[i] - (float)zero_point) * scale, in float32.
 * With the head's own scale this gives logits (heatmap) or pixels (offsets, displacements),
 * the units ev_posenet_decode_multi takes. `q` and `out` must not overlap. */
void ev_posenet_dequantize(const uint8_t *q, size_t n, float scale, int zero_point, float *out);

#endif
