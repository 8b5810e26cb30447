/*
 * runner.c - ev_bench_run: load the model on the backend (init time), warm up (the first run's
 * inference is the first-inference time), then time runs stage by stage until the budget is
 * met: at least min_runs runs and min_secs seconds, at most max_secs seconds, or the input ends.
 *
 * Any model: a pose model (is_pose_model: PoseNet, MoveNet SinglePose) runs through ev_posenet
 * with the pose stages (MoveNet: pose_decode is reading the keypoints off its output); any
 * other model runs through a plain session, its image input prepared by ev_model_image_input
 * (the classifier's preprocessing), or every input filled once with seeded random values when
 * the input is "random".
 *
 * Inference and pose decoding are told apart with the session's per-op callback: the time the
 * last backbone op finished splits ev_posenet_run_input in two (the PosenetDecoderOp, or the
 * host decoder of raw-head models, is what comes after). The callback costs one clock read per
 * op. Clocks are CLOCK_MONOTONIC (util/clock.h). Peak RSS is reset before the model is loaded.
 *
 * Extend: a stage is timed by taking a timestamp around it in run_once() and storing the
 * difference in its sample array.
 */
#include "bench/runner.h"
#include "bench/samples.h"

#include "bench/environment.h"
#include "bench/profile.h"
#include "bench/source.h"
#include "core/status.h"
#include "util/clock.h"
#include "util/rng.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


static const char *const k_stage_names[EV_STAGE_COUNT] = {
    "decode", "preprocess", "inference", "pose_decode", "draw", "encode", "end_to_end"};

const char *ev_bench_stage_name(int s) {
    return s >= 0 && s < EV_STAGE_COUNT ? k_stage_names[s] : NULL;
}

typedef struct op_clock {
    double last_backbone;
} op_clock;

static int on_op(void *user, int index, const char *name, const ev_tensor_info *o, const void *d) {
    (void)index, (void)o, (void)d;
    if (!name || strcmp(name, "PosenetDecoderOp") != 0)
        ((op_clock *)user)->last_backbone = ev_clock_ms();
    return 0;
}

ev_status ev_bench_infer(ev_posenet *net, const ev_image *resized, ev_pose *poses, int max_poses,
                         int *num, double *inference_ms, double *pose_decode_ms) {
    op_clock c = {0};
    ev_session *s = ev_posenet_session(net);
    ev_session_set_op_callback(s, on_op, &c);
    double t0 = ev_clock_ms();
    ev_status st = ev_posenet_run_input(net, ev_image_pixels(resized), poses, max_poses, num);
    double t1 = ev_clock_ms();
    ev_session_set_op_callback(s, NULL, NULL);
    if (c.last_backbone <= 0) c.last_backbone = t1;
    *inference_ms = c.last_backbone - t0;
    *pose_decode_ms = t1 - c.last_backbone;
    return st;
}

typedef struct run_ctx {
    const ev_bench_config *cfg;
    ev_posenet *net;    /* pose models                                                     */
    ev_model *model;    /* other models: the model, its session and input buffers          */
    ev_session *session;
    int num_inputs;
    void **in_buf;
    size_t *in_bytes;
    int random;         /* input "random": in_buf filled once                              */
    ev_source *src;
    ev_video_writer *writer;
    int enc_w, enc_h; /* the encoded video's size: the first frame's */
    int mw, mh;
    op_profile prof; /* cfg->profile */
} run_ctx;

/* One run of a model that is not a pose model: decode (an image/frame; nothing for random
 * input), preprocess (image to input tensor, copied into the session), inference. */
static ev_status run_once_model(run_ctx *c, double t[EV_STAGE_COUNT], int *ended,
                                ev_bench_result *out) {
    ev_image *img = NULL;
    ev_status st = EV_OK;
    memset(t, 0, sizeof(double) * EV_STAGE_COUNT);
    *ended = 0;
    double t0 = ev_clock_ms();
    if (!c->random) {
        st = ev_source_next(c->src, &img);
        if (st != EV_OK) {
            *ended = 2;
            return st;
        }
        if (!img) {
            *ended = 1;
            return EV_OK;
        }
        if (!out->frame_w) {
            out->frame_w = ev_image_width(img);
            out->frame_h = ev_image_height(img);
        }
    }
    double t1 = ev_clock_ms();
    if (img)
        EV_TRY_GOTO(st, ev_model_image_input(c->model, img, EV_RESIZE_BILINEAR, c->in_buf[0],
                                             c->in_bytes[0]), done);
    for (int i = 0; i < c->num_inputs; i++)
        EV_TRY_GOTO(st, ev_session_set_input(c->session, i, c->in_buf[i], c->in_bytes[i]), done);
    double t2 = ev_clock_ms();
    EV_TRY_GOTO(st, ev_session_run(c->session), done);
    double t3 = ev_clock_ms();
    t[EV_STAGE_DECODE] = t1 - t0;
    t[EV_STAGE_PREPROCESS] = t2 - t1;
    t[EV_STAGE_INFERENCE] = t3 - t2;
    t[EV_STAGE_END_TO_END] = t3 - t0;
done:
    ev_image_free(img);
    return st;
}

/* One frame through every stage; *ended = 1 (and no times) when the input has ended. */
static ev_status run_once(run_ctx *c, double t[EV_STAGE_COUNT], int *ended, ev_bench_result *out) {
    if (!c->net) return run_once_model(c, t, ended, out);
    ev_image *img = NULL, *resized = NULL;
    ev_pose poses[EV_MAX_POSES];
    int num = 0;
    ev_status st;
    memset(t, 0, sizeof(double) * EV_STAGE_COUNT);
    *ended = 0;
    double t0 = ev_clock_ms();
    st = ev_source_next(c->src, &img);
    if (st != EV_OK) {
        *ended = 2; /* the input failed: the caller decides whether earlier runs stand */
        return st;
    }
    if (!img) {
        *ended = 1;
        return EV_OK;
    }
    double t1 = ev_clock_ms();
    if (!out->frame_w) {
        out->frame_w = ev_image_width(img);
        out->frame_h = ev_image_height(img);
    }
    EV_TRY_GOTO(st, ev_image_resize(img, c->mw, c->mh, EV_RESIZE_NEAREST, &resized), done);
    double t2 = ev_clock_ms();
    EV_TRY_GOTO(st, ev_bench_infer(c->net, resized, poses, EV_MAX_POSES, &num,
                                   &t[EV_STAGE_INFERENCE], &t[EV_STAGE_POSE_DECODE]), done);
    double t3 = ev_clock_ms(), t4 = t3, t5 = t3;
    if (c->cfg->draw || c->cfg->encode) {
        ev_poses_rescale(poses, num, c->mw, c->mh, ev_image_width(img), ev_image_height(img));
        EV_TRY_GOTO(st, ev_pose_draw(img, poses, num, 0.2f), done);
        t4 = t5 = ev_clock_ms();
    }
    if (c->cfg->encode) {
        if (!c->writer) {
            double fps = ev_source_fps(c->src);
            EV_TRY_GOTO(st, ev_video_writer_open(c->cfg->encode, ev_image_width(img),
                                                 ev_image_height(img), fps > 0 ? fps : 25.0,
                                                 &c->writer), done);
            c->enc_w = ev_image_width(img);
            c->enc_h = ev_image_height(img);
            t4 = ev_clock_ms(); /* opening the file is not a per-frame cost */
        }
        if (ev_image_width(img) != c->enc_w || ev_image_height(img) != c->enc_h) {
            /* a folder of images of several sizes: frames take the video's size */
            ev_image *fit = NULL;
            EV_TRY_GOTO(st, ev_image_resize(img, c->enc_w, c->enc_h, EV_RESIZE_BILINEAR, &fit),
                        done);
            ev_image_free(img);
            img = fit;
        }
        EV_TRY_GOTO(st, ev_video_writer_write(c->writer, img), done);
        t5 = ev_clock_ms();
    }
    t[EV_STAGE_DECODE] = t1 - t0;
    t[EV_STAGE_PREPROCESS] = t2 - t1;
    t[EV_STAGE_DRAW] = t4 - t3;
    t[EV_STAGE_ENCODE] = t5 - t4;
    t[EV_STAGE_END_TO_END] = t5 - t0;
done:
    ev_image_free(resized);
    ev_image_free(img);
    return st;
}

static ev_status measure(run_ctx *c, ev_bench_result *out) {
    const ev_bench_config *cfg = c->cfg;
    double t[EV_STAGE_COUNT];
    int ended = 0;
    for (int w = 0; w < cfg->warmup_runs; w++) {
        EV_TRY(run_once(c, t, &ended, out));
        if (ended) break;
        if (w == 0) out->first_inference_ms = t[EV_STAGE_INFERENCE];
        out->warmup_runs++;
        if (cfg->progress) cfg->progress(cfg->user, "warmup", w + 1, 0.0);
    }
    samples s;
    ev_status st0 = samples_init(&s, SAMPLE_CAP);
    if (st0 != EV_OK) return st0;
    ev_status st = EV_OK;
    double start = ev_clock_ms(), elapsed = 0;
    out->stopped_by = "budget met";
    while (!ended) {
        st = run_once(c, t, &ended, out);
        if (st != EV_OK && ended == 2 && s.seen > 0) { /* damaged input: keep the runs before */
            snprintf(out->note, sizeof out->note, "%s", ev_last_error());
            out->stopped_by = "input damaged";
            st = EV_OK;
            break;
        }
        if (st != EV_OK) goto done;
        if (ended) {
            out->stopped_by = "input ended";
            break;
        }
        if (s.seen == 0 && out->warmup_runs == 0) out->first_inference_ms = t[EV_STAGE_INFERENCE];
        EV_TRY_GOTO(st, samples_push(&s, t), done);
        if (cfg->profile) op_profile_add(&c->prof);
        elapsed = (ev_clock_ms() - start) / 1e3;
        if (cfg->progress) cfg->progress(cfg->user, "measure", (int)s.seen, elapsed);
        if (s.seen >= (size_t)cfg->min_runs && elapsed >= cfg->min_secs) break;
        if (cfg->max_secs > 0 && elapsed >= cfg->max_secs) {
            out->stopped_by = "max-secs";
            break;
        }
    }
    out->elapsed_s = elapsed;
    out->runs = (int)s.seen;
    if (s.seen == 0) {
        st = EV_FAIL(EV_ERR_IO, "%s: the input gave no frame to measure (after %d warmup runs)",
                     cfg->input, out->warmup_runs);
        goto done;
    }
    for (int i = 0; i < EV_STAGE_COUNT; i++) {
        if (!c->net && i == EV_STAGE_POSE_DECODE) continue;
        if ((i == EV_STAGE_DRAW && !cfg->draw && !cfg->encode) ||
            (i == EV_STAGE_ENCODE && !cfg->encode))
            continue;
        EV_TRY_GOTO(st, samples_stats(&s, i, &out->stages[i]), done);
        out->has_stage[i] = 1;
    }
    out->fps = 1000.0 / out->stages[EV_STAGE_END_TO_END].mean;
    out->fps_inference = 1000.0 / out->stages[EV_STAGE_INFERENCE].mean;
    if (cfg->profile) {
        st = op_profile_finish(&c->prof, out);
        op_profile_end(&c->prof);
    }
done:
    samples_free(&s);
    return st;
}

/* A pose model ev_posenet runs: a PosenetDecoderOp, the float graphs' "heatmap" output,
 * outputs with 17 (heatmap) and 34 (offsets) channels (the raw-head Coral models), or MoveNet
 * SinglePose (one 1xHxWx3 input, one float32 [1,1,17,3] output: src/pose/movenet.c's
 * ev_movenet_match, here through the public API). */
static int is_pose_model(const ev_model *m) {
    ev_tensor_info ti, to;
    if (ev_model_num_inputs(m) == 1 && ev_model_num_outputs(m) == 1 &&
        ev_model_input_info(m, 0, &ti) == EV_OK && ev_model_output_info(m, 0, &to) == EV_OK &&
        ti.ndim == 4 && ti.dims[0] == 1 && ti.dims[3] == 3 && to.dtype == EV_DTYPE_F32 &&
        to.ndim == 4 && to.dims[0] == 1 && to.dims[1] == 1 && to.dims[2] == 17 && to.dims[3] == 3)
        return 1;
    for (int i = 0; i < ev_model_num_ops(m); i++) {
        const char *n = ev_model_op_name(m, i);
        if (n && strcmp(n, "PosenetDecoderOp") == 0) return 1;
    }
    int heat = 0, off = 0;
    for (int i = 0; i < ev_model_num_outputs(m); i++) {
        ev_tensor_info t;
        if (ev_model_output_info(m, i, &t) != EV_OK) continue;
        if (t.name && strcmp(t.name, "heatmap") == 0) return 1;
        if (t.ndim == 4 && t.dims[3] == 17) heat = 1;
        if (t.ndim == 4 && t.dims[3] == 34) off = 1;
    }
    return heat && off;
}

static ev_status load_model(const ev_bench_config *cfg, ev_model **m) {
    if (cfg->input_h > 0 || cfg->input_w > 0)
        return ev_model_load_with_input(cfg->model, cfg->input_h, cfg->input_w, m);
    return ev_model_load(cfg->model, m);
}

/* Input buffers of a model that is not a pose model; random values when c->random. */
static ev_status prepare_inputs(run_ctx *c) {
    c->num_inputs = ev_model_num_inputs(c->model);
    c->in_buf = calloc((size_t)c->num_inputs + 1, sizeof *c->in_buf);
    c->in_bytes = calloc((size_t)c->num_inputs + 1, sizeof *c->in_bytes);
    if (!c->in_buf || !c->in_bytes) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_rng rng;
    ev_rng_seed(&rng, c->cfg->seed);
    for (int i = 0; i < c->num_inputs; i++) {
        ev_tensor_info t;
        EV_TRY(ev_model_input_info(c->model, i, &t));
        c->in_bytes[i] = t.bytes;
        c->in_buf[i] = calloc(t.bytes + 1, 1);
        if (!c->in_buf[i])
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for input %d (%zu bytes)", i, t.bytes);
        if (!c->random) continue;
        size_t n = t.bytes / (ev_dtype_size(t.dtype) ? ev_dtype_size(t.dtype) : 1);
        if (t.dtype == EV_DTYPE_F32) {
            float *f = c->in_buf[i];
            for (size_t k = 0; k < n; k++) f[k] = ev_rng_float(&rng) * 2.0f - 1.0f;
        } else if (t.dtype == EV_DTYPE_U8 || t.dtype == EV_DTYPE_I8) {
            uint8_t *b = c->in_buf[i];
            for (size_t k = 0; k < n; k++) b[k] = (uint8_t)(ev_rng_next(&rng) >> 56);
        } /* integer inputs (indices, sizes) stay 0 */
    }
    return EV_OK;
}

ev_status ev_bench_run(const ev_bench_config *cfg, ev_bench_result *out) {
    if (!cfg || !out || !cfg->model || !cfg->input)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_bench_run: NULL argument");
    memset(out, 0, sizeof *out);
    ev_bench_peak_rss_reset();
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    ev_status st;
    double t0 = ev_clock_ms();
    EV_TRY(load_model(cfg, &c.model));
    ev_session_options so;
    ev_session_options_init(&so);
    so.backend = cfg->backend;
    so.threads = cfg->threads;
    ev_session *session = NULL;
    c.random = strcmp(cfg->input, "random") == 0;
    if (is_pose_model(c.model) && !c.random) {
        ev_model_free(c.model);
        c.model = NULL;
        ev_posenet_options po;
        ev_posenet_options_init(&po);
        po.session = so;
        t0 = ev_clock_ms();
        EV_TRY(ev_posenet_create_with_input(cfg->model, cfg->input_h, cfg->input_w, &po, &c.net));
        out->init_ms = ev_clock_ms() - t0;
        ev_posenet_input_size(c.net, &c.mw, &c.mh);
        session = ev_posenet_session(c.net);
    } else {
        if (cfg->draw || cfg->encode) {
            st = EV_FAIL(EV_ERR_INVALID_ARG, "%s: --draw and --encode need a pose model%s",
                         cfg->model, c.random ? " and an image input" : "");
            goto done;
        }
        EV_TRY_GOTO(st, ev_session_create(c.model, &so, &c.session), done);
        out->init_ms = ev_clock_ms() - t0;
        EV_TRY_GOTO(st, prepare_inputs(&c), done);
        ev_tensor_info in;
        EV_TRY_GOTO(st, ev_model_input_info(c.model, 0, &in), done);
        if (in.ndim == 4) {
            c.mh = in.dims[1];
            c.mw = in.dims[2];
        }
        if (!c.random && !(in.ndim == 4 && in.dims[0] == 1 && in.dims[3] == 3)) {
            char sh[64] = "";
            for (int d = 0, k = 0; d < in.ndim && k < 60; d++)
                k += snprintf(sh + k, sizeof sh - (size_t)k, d ? "x%d" : "%d", in.dims[d]);
            st = EV_FAIL(EV_ERR_SHAPE, "%s: input 0 '%s' is %s, not an image (1xHxWx3): use the "
                         "input 'random'", cfg->model, in.name ? in.name : "?", sh);
            goto done;
        }
        session = c.session;
    }
    snprintf(out->backend_used, sizeof out->backend_used, "%s", ev_session_backend_name(session));
    out->model_w = c.mw;
    out->model_h = c.mh;
    if (cfg->profile) EV_TRY_GOTO(st, op_profile_begin(&c.prof, session), done);
    if (c.random) {
        out->input_kind = "random";
    } else {
        EV_TRY_GOTO(st, ev_source_open(cfg->input, cfg->loop, &c.src), done);
        out->input_kind = ev_source_kind_name(ev_source_get_kind(c.src));
    }
    EV_TRY_GOTO(st, measure(&c, out), done);
    if (c.writer) {
        ev_video_writer *w = c.writer;
        c.writer = NULL;
        EV_TRY_GOTO(st, ev_video_writer_close(w), done);
    }
    if (cfg->pipelined && c.net)
        EV_TRY_GOTO(st, ev_bench_pipelined(cfg, c.net, out->runs, out), done);
    else if (cfg->pipelined && !out->note[0])
        snprintf(out->note, sizeof out->note, "pipelined phase skipped: pose models only");
    out->peak_rss_mb = ev_bench_peak_rss_mb();
done:
    op_profile_end(&c.prof);
    if (st != EV_OK) ev_bench_result_release(out);
    ev_video_writer_abort(c.writer);
    ev_source_free(c.src);
    ev_posenet_free(c.net);
    ev_session_free(c.session);
    for (int i = 0; c.in_buf && i < c.num_inputs; i++) free(c.in_buf[i]);
    free(c.in_buf);
    free(c.in_bytes);
    ev_model_free(c.model);
    return st;
}
