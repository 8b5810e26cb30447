/*
 * make_seeds.c - writes small fuzzing seeds: the real files in ../shared are megabytes, which
 * makes each fuzzer execution slow (a 1.3 MB model or a 4 MB video: tens of executions a second).
 *   make_seeds tflite DIR   TFLite models of a few hundred bytes to a few KiB, every op type
 *   make_seeds video DIR    16x16 videos of 3 frames in each container the writer supports
 *   make_seeds image DIR    16x12 PNG and JPEG (the library's writer), a 4x3 24-bit BMP
 * Built with the fuzzers; scripts/fuzz.sh runs it into the corpus. (GraphDef seeds come from
 * test_tf_graphdef, which writes the graphs it builds when EV_WRITE_SEEDS names a folder.)
 */
#include "core/graph_builder.h"
#include "edgevision.h"

#include <stdio.h>
#include <string.h>

static int save(gb *b, int in, int out, const char *dir, const char *name) {
    gb_inputs(b, 1, &in);
    gb_outputs(b, 1, &out);
    ev_model *m = NULL;
    if (gb_finish(b, &m) != EV_OK) {
        fprintf(stderr, "make_seeds: %s: %s\n", name, b->msg);
        return 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    ev_status st = ev_model_save_tflite(m, path);
    if (st != EV_OK) fprintf(stderr, "make_seeds: %s: %s\n", name, ev_last_error());
    ev_model_free(m);
    return st != EV_OK;
}

/* Tiny videos: 16x16, 3 frames of a moving gradient, one file per container. */
static int video_seeds(const char *dir) {
    static const char *const exts[] = {"mp4", "mkv", "avi", "webm"};
    uint8_t rgb[16 * 16 * 3];
    int bad = 0;
    for (int e = 0; e < 4; e++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tiny.%s", dir, exts[e]);
        ev_video_writer *w = NULL;
        ev_status st = ev_video_writer_open(path, 16, 16, 5.0, &w);
        for (int f = 0; st == EV_OK && f < 3; f++) {
            for (int i = 0; i < 16 * 16 * 3; i++) rgb[i] = (uint8_t)(i * 5 + f * 40);
            ev_image *img = NULL;
            st = ev_image_create(16, 16, rgb, &img);
            if (st == EV_OK) st = ev_video_writer_write(w, img);
            ev_image_free(img);
        }
        if (st == EV_OK) {
            st = ev_video_writer_close(w);
        } else if (w) {
            ev_video_writer_abort(w);
        }
        if (st != EV_OK) {
            fprintf(stderr, "make_seeds: %s: %s\n", path, ev_last_error());
            bad++;
        }
    }
    return bad;
}

/* Tiny images: the decoders' libraries are not instrumented, so large images only cost time. */
static int image_seeds(const char *dir) {
    uint8_t rgb[16 * 12 * 3];
    for (int i = 0; i < 16 * 12 * 3; i++) rgb[i] = (uint8_t)(i * 7);
    ev_image *img = NULL;
    int bad = 0;
    if (ev_image_create(16, 12, rgb, &img) != EV_OK) return 1;
    static const char *const names[] = {"tiny.png", "tiny.jpg"};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (ev_image_save(img, path) != EV_OK) {
            fprintf(stderr, "make_seeds: %s: %s\n", path, ev_last_error());
            bad++;
        }
    }
    ev_image_free(img);
    /* BMP by hand: 4x3, 24 bits, bottom-up rows padded to 4 bytes (12 bytes a row). */
    uint8_t bmp[54 + 36] = {'B', 'M'};
    uint32_t fields[] = {sizeof bmp, 0, 54, 40, 4, 3};
    for (int i = 0; i < 6; i++)
        for (int b = 0; b < 4; b++) bmp[2 + 4 * i + b] = (uint8_t)(fields[i] >> (8 * b));
    bmp[26] = 1;  /* planes */
    bmp[28] = 24; /* bits per pixel */
    for (int i = 0; i < 36; i++) bmp[54 + i] = (uint8_t)(i * 11);
    char path[1024];
    snprintf(path, sizeof path, "%s/tiny.bmp", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bmp, 1, sizeof bmp, f) != sizeof bmp) bad++;
    if (f) fclose(f);
    return bad;
}

static int tflite_seeds(const char *dir) {
    int bad = 0;
    uint8_t w8[4 * 3 * 3 * 3];
    int32_t bias[8] = {1, -2, 3, -4, 5, -6, 7, -8};
    float wf[4 * 8];
    for (int i = 0; i < (int)sizeof w8; i++) w8[i] = (uint8_t)(i * 37);
    for (int i = 0; i < 32; i++) wf[i] = (float)(i % 7) * 0.25f - 0.5f;
    { /* uint8 conv 3x3 stride 2 SAME, ReLU6 */
        gb b;
        gb_init(&b);
        int in = gb_tensor_q(&b, "in", EV_DTYPE_U8, 4, (int[]){1, 9, 9, 3}, NULL, 0.0078125f, 128);
        int w = gb_tensor(&b, "w", EV_DTYPE_U8, 4, (int[]){4, 3, 3, 3}, w8, sizeof w8, 1,
                          (float[]){0.01f}, (int32_t[]){127}, 0);
        int bi = gb_tensor(&b, "b", EV_DTYPE_I32, 1, (int[]){4}, bias, 16, 0, NULL, NULL, 0);
        int out = gb_tensor_q(&b, "out", EV_DTYPE_U8, 4, (int[]){1, 5, 5, 4}, NULL, 0.0235f, 0);
        gb_op_conv(&b, EV_OP_CONV_2D, in, w, bi, out,
                   (ev_conv_params){EV_PAD_SAME, 2, 2, 1, 1, 1, EV_ACT_RELU6});
        bad += save(&b, in, out, dir, "conv_u8");
    }
    { /* int8 per-channel depthwise, depth multiplier 2, VALID */
        gb b;
        gb_init(&b);
        int in = gb_tensor_q(&b, "in", EV_DTYPE_I8, 4, (int[]){1, 5, 5, 2}, NULL, 0.02f, -3);
        int w = gb_tensor(&b, "w", EV_DTYPE_I8, 4, (int[]){1, 3, 3, 4}, w8, 36, 4,
                          (float[]){0.01f, 0.02f, 0.03f, 0.04f}, (int32_t[]){0, 0, 0, 0}, 3);
        int bi = gb_tensor(&b, "b", EV_DTYPE_I32, 1, (int[]){4}, bias, 16, 0, NULL, NULL, 0);
        int out = gb_tensor_q(&b, "out", EV_DTYPE_I8, 4, (int[]){1, 3, 3, 4}, NULL, 0.05f, 2);
        gb_op_conv(&b, EV_OP_DEPTHWISE_CONV_2D, in, w, bi, out,
                   (ev_conv_params){EV_PAD_VALID, 1, 1, 1, 1, 2, EV_ACT_NONE});
        bad += save(&b, in, out, dir, "dwconv_i8");
    }
    { /* float pool -> fully connected -> softmax */
        gb b;
        gb_init(&b);
        int in = gb_tensor_q(&b, "in", EV_DTYPE_F32, 4, (int[]){1, 4, 4, 8}, NULL, 0, 0);
        int pooled = gb_tensor_q(&b, "pooled", EV_DTYPE_F32, 4, (int[]){1, 1, 1, 8}, NULL, 0, 0);
        int flat = gb_tensor_q(&b, "flat", EV_DTYPE_F32, 2, (int[]){1, 8}, NULL, 0, 0);
        int w = gb_tensor(&b, "w", EV_DTYPE_F32, 2, (int[]){4, 8}, wf, sizeof wf, 0, NULL, NULL, 0);
        int logits = gb_tensor_q(&b, "logits", EV_DTYPE_F32, 2, (int[]){1, 4}, NULL, 0, 0);
        int probs = gb_tensor_q(&b, "probs", EV_DTYPE_F32, 2, (int[]){1, 4}, NULL, 0, 0);
        int p = gb_op(&b, EV_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D", 1, 1, &in, 1, &pooled);
        if (p >= 0) {
            b.g.ops[p].p.pool.filter_w = b.g.ops[p].p.pool.filter_h = 4;
            b.g.ops[p].p.pool.stride_w = b.g.ops[p].p.pool.stride_h = 1;
            b.g.ops[p].p.pool.padding = EV_PAD_VALID;
        }
        gb_op(&b, EV_OP_RESHAPE, "RESHAPE", 22, 1, &pooled, 1, &flat);
        gb_op(&b, EV_OP_FULLY_CONNECTED, "FULLY_CONNECTED", 9, 3, (int[]){flat, w, -1}, 1, &logits);
        int s = gb_op(&b, EV_OP_SOFTMAX, "SOFTMAX", 25, 1, &logits, 1, &probs);
        if (s >= 0) b.g.ops[s].p.softmax.beta = 1.0f;
        bad += save(&b, in, probs, dir, "pool_fc_softmax_f32");
    }
    { /* uint8 pad -> relu -> concat with itself */
        gb b;
        gb_init(&b);
        int in = gb_tensor_q(&b, "in", EV_DTYPE_U8, 4, (int[]){1, 2, 2, 2}, NULL, 0.1f, 10);
        int pads = gb_tensor(&b, "pads", EV_DTYPE_I32, 2, (int[]){4, 2},
                             (int32_t[]){0, 0, 1, 1, 1, 1, 0, 0}, 32, 0, NULL, NULL, 0);
        int padded = gb_tensor_q(&b, "padded", EV_DTYPE_U8, 4, (int[]){1, 4, 4, 2}, NULL, 0.1f, 10);
        int relu = gb_tensor_q(&b, "relu", EV_DTYPE_U8, 4, (int[]){1, 4, 4, 2}, NULL, 0.1f, 10);
        int cat = gb_tensor_q(&b, "cat", EV_DTYPE_U8, 4, (int[]){1, 4, 4, 4}, NULL, 0.1f, 10);
        gb_op(&b, EV_OP_PAD, "PAD", 34, 2, (int[]){in, pads}, 1, &padded);
        gb_op(&b, EV_OP_RELU, "RELU", 19, 1, &padded, 1, &relu);
        gb_op_concat(&b, 2, (int[]){relu, padded}, cat, 3, EV_ACT_NONE);
        bad += save(&b, in, cat, dir, "pad_relu_concat_u8");
    }
    return bad;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "tflite")) return tflite_seeds(argv[2]) ? 1 : 0;
    if (argc == 3 && !strcmp(argv[1], "video")) return video_seeds(argv[2]) ? 1 : 0;
    if (argc == 3 && !strcmp(argv[1], "image")) return image_seeds(argv[2]) ? 1 : 0;
    fprintf(stderr, "usage: make_seeds tflite|video|image DIR\n");
    return 2;
}
