/*
 * runner.c - ev_bench_run: load the model on the backend (init time), warm up (the first run's
 * inference is the first-inference time), then time runs stage by stage until the budget is
 * met: at least min_runs runs and min_secs seconds, at most max_secs seconds, or the input ends.
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
    ev_posenet *net;
    ev_source *src;
    ev_video_writer *writer;
    int enc_w, enc_h; /* the encoded video's size: the first frame's */
    int mw, mh;
    op_profile prof; /* cfg->profile */
} run_ctx;

/* One frame through every stage; *ended = 1 (and no times) when the input has ended. */
static ev_status run_once(run_ctx *c, double t[EV_STAGE_COUNT], int *ended, ev_bench_result *out) {
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

ev_status ev_bench_run(const ev_bench_config *cfg, ev_bench_result *out) {
    if (!cfg || !out || !cfg->model || !cfg->input)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_bench_run: NULL argument");
    memset(out, 0, sizeof *out);
    ev_bench_peak_rss_reset();
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    ev_posenet_options po;
    ev_posenet_options_init(&po);
    po.session.backend = cfg->backend;
    po.session.threads = cfg->threads;
    ev_status st;
    double t0 = ev_clock_ms();
    EV_TRY(ev_posenet_create(cfg->model, &po, &c.net));
    out->init_ms = ev_clock_ms() - t0;
    snprintf(out->backend_used, sizeof out->backend_used, "%s",
             ev_session_backend_name(ev_posenet_session(c.net)));
    ev_posenet_input_size(c.net, &c.mw, &c.mh);
    out->model_w = c.mw;
    out->model_h = c.mh;
    if (cfg->profile) EV_TRY_GOTO(st, op_profile_begin(&c.prof, ev_posenet_session(c.net)), done);
    EV_TRY_GOTO(st, ev_source_open(cfg->input, cfg->loop, &c.src), done);
    out->input_kind = ev_source_kind_name(ev_source_get_kind(c.src));
    EV_TRY_GOTO(st, measure(&c, out), done);
    if (c.writer) {
        ev_video_writer *w = c.writer;
        c.writer = NULL;
        EV_TRY_GOTO(st, ev_video_writer_close(w), done);
    }
    if (cfg->pipelined) EV_TRY_GOTO(st, ev_bench_pipelined(cfg, c.net, out->runs, out), done);
    out->peak_rss_mb = ev_bench_peak_rss_mb();
done:
    op_profile_end(&c.prof);
    if (st != EV_OK) ev_bench_result_release(out);
    ev_video_writer_abort(c.writer);
    ev_source_free(c.src);
    ev_posenet_free(c.net);
    return st;
}
