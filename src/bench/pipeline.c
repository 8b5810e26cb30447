/*
 * pipeline.c - the pipelined phase of a benchmark: a decoder thread reads and resizes frame N+1
 * while the calling thread runs inference (and pose decoding, and drawing when asked) on frame
 * N. A bounded queue of QUEUE_CAP frames sits between them; the decoder blocks when it is full,
 * so memory stays bounded and the figure is the steady-state throughput of the two stages
 * overlapped: frames / wall time, from the first frame taken to the last one finished.
 *
 * The input is opened afresh (a video starts from its first frame again). Encoding is never
 * done here: the sequential phase writes the video once. An error on the decoder thread is
 * carried (message and status) to the calling thread, where ev_last_error() lives.
 *
 * Extend: more stages (a drawing/encoding thread) are more queues of the same kind.
 */
#include "bench/runner.h"

#include "bench/source.h"
#include "core/status.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_CAP 2

typedef struct item {
    ev_image *frame, *resized;
} item;

typedef struct pipe_ctx {
    ev_source *src;
    int mw, mh;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    item q[QUEUE_CAP];
    int head, count;
    int ended;  /* decoder finished (end of input or error) */
    int stop;   /* consumer asks the decoder to stop        */
    ev_status err;
    char msg[1024];
} pipe_ctx;

static void *decoder_main(void *arg) {
    pipe_ctx *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->count == QUEUE_CAP && !p->stop) pthread_cond_wait(&p->not_full, &p->mu);
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop) break;
        item it = {NULL, NULL};
        ev_status st = ev_source_next(p->src, &it.frame);
        if (st == EV_OK && it.frame)
            st = ev_image_resize(it.frame, p->mw, p->mh, EV_RESIZE_NEAREST, &it.resized);
        pthread_mutex_lock(&p->mu);
        if (st != EV_OK) {
            p->err = st;
            snprintf(p->msg, sizeof p->msg, "%s", ev_last_error());
        }
        if (st != EV_OK || !it.frame) {
            p->ended = 1;
            pthread_cond_signal(&p->not_empty);
            pthread_mutex_unlock(&p->mu);
            ev_image_free(it.frame);
            ev_image_free(it.resized);
            break;
        }
        p->q[(p->head + p->count) % QUEUE_CAP] = it;
        p->count++;
        pthread_cond_signal(&p->not_empty);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

/* Takes the next frame; 0 when the decoder has ended and the queue is empty. */
static int take(pipe_ctx *p, item *it) {
    pthread_mutex_lock(&p->mu);
    while (p->count == 0 && !p->ended) pthread_cond_wait(&p->not_empty, &p->mu);
    int got = p->count > 0;
    if (got) {
        *it = p->q[p->head];
        p->head = (p->head + 1) % QUEUE_CAP;
        p->count--;
        pthread_cond_signal(&p->not_full);
    }
    pthread_mutex_unlock(&p->mu);
    return got;
}

ev_status ev_bench_pipelined(const ev_bench_config *cfg, ev_posenet *net, int runs,
                             ev_bench_result *out) {
    pipe_ctx p;
    memset(&p, 0, sizeof p);
    ev_posenet_input_size(net, &p.mw, &p.mh);
    EV_TRY(ev_source_open(cfg->input, cfg->loop, &p.src));
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.not_empty, NULL);
    pthread_cond_init(&p.not_full, NULL);
    pthread_t th;
    ev_status st = EV_OK;
    if (pthread_create(&th, NULL, decoder_main, &p) != 0) {
        st = EV_FAIL(EV_ERR_INTERNAL, "pipelined mode: cannot start the decoder thread");
        goto out_nothread;
    }
    double start = ev_clock_ms(), elapsed = 0;
    int done = 0;
    item it;
    while (done < runs && take(&p, &it)) {
        ev_pose poses[EV_MAX_POSES];
        int num = 0;
        double inf, dec;
        st = ev_bench_infer(net, it.resized, poses, EV_MAX_POSES, &num, &inf, &dec);
        if (st == EV_OK && cfg->draw) {
            ev_poses_rescale(poses, num, p.mw, p.mh, ev_image_width(it.frame),
                             ev_image_height(it.frame));
            st = ev_pose_draw(it.frame, poses, num, 0.2f);
        }
        ev_image_free(it.frame);
        ev_image_free(it.resized);
        if (st != EV_OK) break;
        done++;
        elapsed = (ev_clock_ms() - start) / 1e3;
        if (cfg->progress) cfg->progress(cfg->user, "pipelined", done, elapsed);
        if (cfg->max_secs > 0 && elapsed >= cfg->max_secs) break;
    }
    pthread_mutex_lock(&p.mu);
    p.stop = 1;
    pthread_cond_signal(&p.not_full);
    pthread_mutex_unlock(&p.mu);
    pthread_join(th, NULL);
    while (p.count > 0) { /* frames decoded ahead and never used */
        ev_image_free(p.q[p.head].frame);
        ev_image_free(p.q[p.head].resized);
        p.head = (p.head + 1) % QUEUE_CAP;
        p.count--;
    }
    if (st == EV_OK && p.err != EV_OK && done == 0)
        st = EV_FAIL(p.err, "pipelined mode: %s", p.msg);
    if (st == EV_OK && done == 0)
        st = EV_FAIL(EV_ERR_IO, "pipelined mode: %s gave no frame", cfg->input);
    if (st == EV_OK) {
        out->pipelined_runs = done;
        out->fps_pipelined = (double)done / elapsed;
    }
out_nothread:
    pthread_cond_destroy(&p.not_full);
    pthread_cond_destroy(&p.not_empty);
    pthread_mutex_destroy(&p.mu);
    ev_source_free(p.src);
    return st;
}
