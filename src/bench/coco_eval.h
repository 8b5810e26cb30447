/*
 * coco_eval.h - private pieces of the COCO keypoint evaluation (coco_eval.c), exposed for tests.
 */
#ifndef EV_BENCH_COCO_EVAL_H
#define EV_BENCH_COCO_EVAL_H

#include "edgevision.h"

/* COCO's per-keypoint OKS sigmas (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
 * ankles), as pycocotools: {.26,.25,...,.89} / 10. */
extern const double ev_coco_sigmas[EV_NUM_KEYPOINTS];

/* Object keypoint similarity of a detection (x, y per keypoint) with a ground truth (x, y, v
 * per keypoint, its bbox x,y,w,h and area), exactly as pycocotools' computeOks: over the
 * labelled keypoints (v > 0) when there are any, else distances to the box enlarged by its size
 * on every side. */
double ev_coco_oks(const double gt_xyv[3 * EV_NUM_KEYPOINTS], const double gt_bbox[4],
                   double gt_area, const double dt_xy[2 * EV_NUM_KEYPOINTS]);

#endif
