/*
 * posenet_decoder.h - private helpers shared by the PoseNet decoders (posenet_decoder.c) and the
 * PosenetDecoderOp graph-op wrapper. The decoders themselves are public (edgevision.h:
 * ev_posenet_decode_multi / ev_posenet_decode_single).
 *
 * To extend: add declarations here only for things another src/ file needs; keep the decoder's
 * internals (heap, sampler) static in posenet_decoder.c. Heads are dequantized only through
 * ev_posenet_dequantize_head.
 */
#ifndef EV_POSE_POSENET_DECODER_H
#define EV_POSE_POSENET_DECODER_H

#include "core/graph.h"
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

/* The one head dequantization for every PoseNet path (the pipeline's heads, the graph op, the
 * single-pose rescoring): elements [first, first + n) of a head of type `dtype` (data: its
 * buffer) as float32 into out[0..n). float32 heads are copied; uint8 and int8 ones become
 * ((float)q - (float)zero_point) * scale with the tensor's per-tensor parameters. */
void ev_posenet_dequantize_head(ev_dtype dtype, float scale, int32_t zero_point,
                                const void *data, size_t first, size_t n, float *out);

#endif
