/*
 * movenet.c - MoveNet SinglePose (Google's Lightning/Thunder TFLite models) in the pose
 * pipeline: signature check, input filling and decoding of the [1,1,17,3] output.
 *
 * The model does its own decoding (heatmap argmax, offsets, GATHER_ND) in-graph; its output per
 * keypoint k (COCO order, NOSE ... RIGHT_ANKLE, the labels PoseNet uses) is (y, x, score) with y
 * and x normalised to [0, 1] over the model input. Keypoints are returned in model-input pixels
 * (x * width, y * height, as Google's examples scale them); the pose score is the mean of the 17
 * keypoint scores (Google's single-pose examples do not define one; this is also how the tfjs
 * single-pose PoseNet decoder scores a pose).
 *
 * Preprocessing (in posenet.c, shared with PoseNet): a plain resize of the whole image to the
 * input size (Pillow NEAREST), the raw RGB bytes as input. Google's notebook resizes with padding
 * to keep the aspect ratio (tf.image.resize_with_pad); a plain resize keeps the one-scale-per-
 * axis mapping back to the image that PoseNet's coordinates use, at the cost of stretching
 * non-square images. The uint8 input is raw pixels (the graph CASTs and normalises itself).
 *
 * Extend: another input convention is a case in ev_movenet_fill_input; MultiPose is a new
 * signature and decoder.
 */
#include "pose/movenet.h"

#include "core/status.h"

#include <string.h>

int ev_movenet_match(const ev_graph *g) {
    if (g->num_inputs != 1 || g->num_outputs != 1) return 0;
    const ev_tensor *in = &g->tensors[g->inputs[0]], *out = &g->tensors[g->outputs[0]];
    return in->ndim == 4 && in->dims[0] == 1 && in->dims[3] == 3 && out->dtype == EV_DTYPE_F32 &&
           out->ndim == 4 && out->dims[0] == 1 && out->dims[1] == 1 &&
           out->dims[2] == EV_NUM_KEYPOINTS && out->dims[3] == 3;
}

ev_status ev_movenet_check_input(const ev_graph *g, const char *model_path) {
    const ev_tensor *in = &g->tensors[g->inputs[0]];
    if ((in->dtype == EV_DTYPE_U8 && in->quant.count == 0) || in->dtype == EV_DTYPE_I32 ||
        in->dtype == EV_DTYPE_F32)
        return EV_OK;
    return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: MoveNet input of type %s%s (raw pixels as uint8, "
                   "int32 or float32 are supported)", model_path, ev_dtype_name(in->dtype),
                   in->quant.count ? " (quantized)" : "");
}

void ev_movenet_fill_input(ev_dtype dt, const uint8_t *rgb, size_t n, void *dst) {
    switch (dt) {
    case EV_DTYPE_U8: memcpy(dst, rgb, n); break;
    case EV_DTYPE_I32:
        for (size_t i = 0; i < n; i++) ((int32_t *)dst)[i] = rgb[i];
        break;
    default:
        for (size_t i = 0; i < n; i++) ((float *)dst)[i] = (float)rgb[i];
        break;
    }
}

void ev_movenet_decode(const float *out, int in_w, int in_h, ev_pose *pose) {
    float total = 0.0f;
    for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
        pose->keypoints[k].y = out[k * 3 + 0] * (float)in_h;
        pose->keypoints[k].x = out[k * 3 + 1] * (float)in_w;
        pose->keypoints[k].score = out[k * 3 + 2];
        total += out[k * 3 + 2];
    }
    pose->score = total / (float)EV_NUM_KEYPOINTS;
}
