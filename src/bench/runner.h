/*
 * runner.h - one benchmark measurement: a PoseNet model on one backend, thread count and input,
 * timed stage by stage (runner.c), optionally again with decoding overlapped with inference
 * (pipeline.c).
 *
 * Stages of one run (frame): decode (read/decode the frame to RGB), preprocess (resize to the
 * model input), inference (model input to heads, the backbone ops), pose_decode (heads to poses:
 * the PosenetDecoderOp or the host decoder), draw and encode (when asked), end_to_end (all).
 *
 * Extend: a new stage is an enum value before EV_STAGE_COUNT, a name in runner.c and a timestamp
 * in run_once(); results.c and the report pick it up by name.
 */
#ifndef EV_BENCH_RUNNER_H
#define EV_BENCH_RUNNER_H

#include "edgevision.h"

typedef enum ev_bench_stage {
    EV_STAGE_DECODE,
    EV_STAGE_PREPROCESS,
    EV_STAGE_INFERENCE,
    EV_STAGE_POSE_DECODE,
    EV_STAGE_DRAW,
    EV_STAGE_ENCODE,
    EV_STAGE_END_TO_END,
    EV_STAGE_COUNT
} ev_bench_stage;

/* "decode", "preprocess", "inference", "pose_decode", "draw", "encode", "end_to_end" */
const char *ev_bench_stage_name(int stage);

/* Called after every run: phase is "warmup", "measure" or "pipelined". */
typedef void (*ev_bench_progress)(void *user, const char *phase, int runs, double elapsed_s);

typedef struct ev_bench_config {
    const char *model, *backend, *input;
    int threads;
    int loop;            /* rewind videos at their end                                    */
    int warmup_runs;     /* runs before measuring (the first is timed as first inference)  */
    int min_runs;        /* measure until min_runs and min_secs are both met ...           */
    double min_secs;
    double max_secs;     /* ... or max_secs of measuring have passed                       */
    int draw;            /* draw skeletons over each frame (timed)                          */
    const char *encode;  /* encode the annotated frames into this video (timed; implies draw) */
    int pipelined;       /* then measure a decode || inference pipeline                    */
    ev_bench_progress progress;
    void *user;
} ev_bench_config;

typedef struct ev_bench_result {
    int model_w, model_h;      /* model input size                                          */
    int frame_w, frame_h;      /* size of the first frame                                   */
    const char *input_kind;    /* "image", "folder", "video", "camera"                     */
    double init_ms;            /* model load + session preparation                          */
    double first_inference_ms; /* inference stage of the very first run                     */
    int warmup_runs, runs;
    double elapsed_s;          /* wall time of the measured runs                            */
    const char *stopped_by;    /* "budget met", "max-secs", "input ended", "input damaged"  */
    char note[512];            /* why the input stopped early, when it did                  */
    ev_stats stages[EV_STAGE_COUNT];
    int has_stage[EV_STAGE_COUNT];
    double fps;                /* end to end: 1000 / mean end_to_end ms                     */
    double fps_inference;      /* 1000 / mean inference ms                                  */
    double fps_pipelined;      /* frames / wall time of the pipelined phase (0: not run)    */
    int pipelined_runs;
    double peak_rss_mb;
    int has_accuracy;
    ev_coco_stats accuracy;
} ev_bench_result;

/* Runs one measurement. Errors name the model, backend or input at fault. */
ev_status ev_bench_run(const ev_bench_config *cfg, ev_bench_result *out);

/* ---- shared between runner.c and pipeline.c (timings: util/clock.h ev_clock_ms) ---- */

/* Runs the model on `resized` (model-sized RGB) and splits the time into inference and
 * pose_decode; poses are in model-input pixels. */
ev_status ev_bench_infer(ev_posenet *net, const ev_image *resized, ev_pose *poses, int max_poses,
                         int *num, double *inference_ms, double *pose_decode_ms);
/* The pipelined phase: `runs` frames (or max_secs) with decode and preprocess on a second
 * thread; writes fps_pipelined and pipelined_runs into out. */
ev_status ev_bench_pipelined(const ev_bench_config *cfg, ev_posenet *net, int runs,
                             ev_bench_result *out);

#endif
