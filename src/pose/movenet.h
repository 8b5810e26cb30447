/*
 * movenet.h - MoveNet SinglePose (Lightning 192, Thunder 256) inside the pose pipeline
 * (posenet.c creates and runs it through the same ev_posenet handle; movenet.c does the
 * model-specific parts).
 *
 * Extend: MoveNet MultiPose ([1,6,56] output) would get its own signature check and decoder here.
 */
#ifndef EV_POSE_MOVENET_H
#define EV_POSE_MOVENET_H

#include "core/graph.h"

/* 1 when `g` has MoveNet SinglePose's signature: one 1xHxWx3 input and one float32 output
 * [1,1,17,3] (y, x, score per keypoint, normalised to the input). */
int ev_movenet_match(const ev_graph *g);

/* EV_OK when the input type is one this pipeline feeds (uint8 or int32 raw pixels, float32
 * 0..255), else EV_ERR_UNSUPPORTED naming it. */
ev_status ev_movenet_check_input(const ev_graph *g, const char *model_path);

/* Writes the model input (dtype `dt`, n = w*h*3 values) from raw RGB bytes. */
void ev_movenet_fill_input(ev_dtype dt, const uint8_t *rgb, size_t n, void *dst);

/* The pose from the [1,1,17,3] output: keypoints in input pixels (x * in_w, y * in_h), scores
 * as the model gives them, pose score the mean keypoint score. */
void ev_movenet_decode(const float *out, int in_w, int in_h, ev_pose *pose);

#endif
