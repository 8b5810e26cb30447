/*
 * runner.h - one benchmark measurement: a PoseNet model on one backend, thread count and input,
 * timed stage by stage (runner.c), optionally again with decoding overlapped with inference
 * (pipeline.c).
 *
 * Stages of one run (frame): decode (read/decode the frame to RGB), preprocess (resize to the
 * model input), inference (model input to heads, the backbone ops), pose_decode (heads to poses:
 * the PosenetDecoderOp or the host decoder), draw and encode (when asked), end_to_end (all).
 *
 * The configuration, result and ev_bench_run are public (include/edgevision.h); this header
 * keeps what runner.c and pipeline.c share.
 *
 * Extend: a new stage is an enum value before EV_STAGE_COUNT (edgevision.h), a name in runner.c
 * and a timestamp in run_once(); results.c and the report pick it up by name.
 */
#ifndef EV_BENCH_RUNNER_H
#define EV_BENCH_RUNNER_H

#include "edgevision.h"

/* ---- shared between runner.c and pipeline.c ---- */


/* Runs the model on `resized` (model-sized RGB) and splits the time into inference and
 * pose_decode; poses are in model-input pixels. */
ev_status ev_bench_infer(ev_posenet *net, const ev_image *resized, ev_pose *poses, int max_poses,
                         int *num, double *inference_ms, double *pose_decode_ms);
/* The pipelined phase: `runs` frames (or max_secs) with decode and preprocess on a second
 * thread; writes fps_pipelined and pipelined_runs into out. */
ev_status ev_bench_pipelined(const ev_bench_config *cfg, ev_posenet *net, int runs,
                             ev_bench_result *out);

#endif
