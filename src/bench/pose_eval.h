/*
 * pose_eval.h - a PoseNet model's COCO keypoint accuracy on an annotated image folder
 * (pose_eval.c): used by `edgevision eval-pose` and by `edgevision bench` to put accuracy beside
 * speed. ev_pose_eval_coco is public (include/edgevision.h).
 */
#ifndef EV_BENCH_POSE_EVAL_H
#define EV_BENCH_POSE_EVAL_H

#include "edgevision.h"

#endif
