/*
 * pose_eval.h - a PoseNet model's COCO keypoint accuracy on an annotated image folder
 * (pose_eval.c): used by `edgevision eval-pose` and by `edgevision bench` to put accuracy beside
 * speed.
 */
#ifndef EV_BENCH_POSE_EVAL_H
#define EV_BENCH_POSE_EVAL_H

#include "edgevision.h"

/* Called after each image with its index, count and file name. */
typedef void (*ev_pose_eval_progress)(void *user, int done, int total, const char *file);

/* Runs `net` on every image of `annotations` (found as images_dir/file_name), adds the poses as
 * predictions (image pixels: x_img = x_in * W_img / W_in, likewise y; detection score = pose
 * score) and computes the statistics. When `predictions` is not NULL, *predictions receives the
 * predictions in COCO's result format (a malloc'd JSON array text). */
ev_status ev_pose_eval_coco(ev_posenet *net, const char *annotations, const char *images_dir,
                            ev_coco_stats *stats, char **predictions,
                            ev_pose_eval_progress progress, void *user);

#endif
