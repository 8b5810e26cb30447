/*
 * test_quantize.c - post-training int8 quantization (src/quant/) and the TFLite writer.
 *
 *   - a small float graph using every op the quantizer handles (conv + relu6, depthwise, add,
 *     pool, pad, mean, fully connected, logistic) quantized on synthetic images: the int8 result
 *     dequantized is close to the float result, identical on "ref" and "cpu", and identical after
 *     a save/load round trip through the TFLite writer (per-channel scales included);
 *   - PoseNet 0.50 float quantized on the shared images (data/images, data/coco) at 353x481:
 *     runs on "ref" and "cpu" with identical heads, and finds the same two poses as its float
 *     self on test_couple.jpg, keypoints scoring above 0.5 in both within 8 px.
 */
#include "core/graph_builder.h"
#include "edgevision.h"
#include "ev_test.h"
#include "util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

/* input 1x9x9x3 -> conv 3x3/2 (8, relu6) -> depthwise 3x3 (8) -> add(conv, dw) -> pad ->
 * avgpool 2x2 -> mean(1,2) -> fc (5) -> logistic */
static ev_model *small_float_model(void) {
    gb b;
    gb_init(&b);
    float w1[8 * 3 * 3 * 3], b1[8], w2[1 * 3 * 3 * 8], b2[8], w3[5 * 8], b3[5];
    ev_test_rng_fill(&(ev_test_rng){1}, w1, sizeof w1 / 4, EV_DTYPE_F32, -0.5f, 0.5f);
    ev_test_rng_fill(&(ev_test_rng){2}, b1, 8, EV_DTYPE_F32, -0.2f, 0.2f);
    ev_test_rng_fill(&(ev_test_rng){3}, w2, sizeof w2 / 4, EV_DTYPE_F32, -0.5f, 0.5f);
    ev_test_rng_fill(&(ev_test_rng){4}, b2, 8, EV_DTYPE_F32, -0.2f, 0.2f);
    ev_test_rng_fill(&(ev_test_rng){5}, w3, sizeof w3 / 4, EV_DTYPE_F32, -1.0f, 1.0f);
    ev_test_rng_fill(&(ev_test_rng){6}, b3, 5, EV_DTYPE_F32, -0.3f, 0.3f);
    int x = gb_tensor_q(&b, "x", EV_DTYPE_F32, 4, (int[]){1, 9, 9, 3}, NULL, 0, 0);
    int tw1 = gb_tensor_q(&b, "w1", EV_DTYPE_F32, 4, (int[]){8, 3, 3, 3}, w1, 0, 0);
    int tb1 = gb_tensor_q(&b, "b1", EV_DTYPE_F32, 1, (int[]){8}, b1, 0, 0);
    int c1 = gb_tensor_q(&b, "c1", EV_DTYPE_F32, 4, (int[]){1, 5, 5, 8}, NULL, 0, 0);
    int tw2 = gb_tensor_q(&b, "w2", EV_DTYPE_F32, 4, (int[]){1, 3, 3, 8}, w2, 0, 0);
    int tb2 = gb_tensor_q(&b, "b2", EV_DTYPE_F32, 1, (int[]){8}, b2, 0, 0);
    int c2 = gb_tensor_q(&b, "c2", EV_DTYPE_F32, 4, (int[]){1, 5, 5, 8}, NULL, 0, 0);
    int s = gb_tensor_q(&b, "sum", EV_DTYPE_F32, 4, (int[]){1, 5, 5, 8}, NULL, 0, 0);
    int32_t pads[8] = {0, 0, 1, 0, 1, 0, 0, 0};
    int tp = gb_tensor_q(&b, "pads", EV_DTYPE_I32, 2, (int[]){4, 2}, pads, 0, 0);
    int pd = gb_tensor_q(&b, "padded", EV_DTYPE_F32, 4, (int[]){1, 6, 6, 8}, NULL, 0, 0);
    int pl = gb_tensor_q(&b, "pool", EV_DTYPE_F32, 4, (int[]){1, 3, 3, 8}, NULL, 0, 0);
    int32_t axes[2] = {1, 2};
    int ta = gb_tensor_q(&b, "axes", EV_DTYPE_I32, 1, (int[]){2}, axes, 0, 0);
    int mn = gb_tensor_q(&b, "mean", EV_DTYPE_F32, 2, (int[]){1, 8}, NULL, 0, 0);
    int tw3 = gb_tensor_q(&b, "w3", EV_DTYPE_F32, 2, (int[]){5, 8}, w3, 0, 0);
    int tb3 = gb_tensor_q(&b, "b3", EV_DTYPE_F32, 1, (int[]){5}, b3, 0, 0);
    int fc = gb_tensor_q(&b, "fc", EV_DTYPE_F32, 2, (int[]){1, 5}, NULL, 0, 0);
    int y = gb_tensor_q(&b, "y", EV_DTYPE_F32, 2, (int[]){1, 5}, NULL, 0, 0);
    ev_conv_params p1 = {EV_PAD_SAME, 2, 2, 1, 1, 1, EV_ACT_RELU6};
    ev_conv_params p2 = {EV_PAD_SAME, 1, 1, 1, 1, 1, EV_ACT_NONE};
    gb_op_conv(&b, EV_OP_CONV_2D, x, tw1, tb1, c1, p1);
    gb_op_conv(&b, EV_OP_DEPTHWISE_CONV_2D, c1, tw2, tb2, c2, p2);
    gb_op(&b, EV_OP_ADD, "ADD", 0, 2, (int[]){c1, c2}, 1, &s);
    gb_op(&b, EV_OP_PAD, "PAD", 34, 2, (int[]){s, tp}, 1, &pd);
    int po = gb_op(&b, EV_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D", 1, 1, &pd, 1, &pl);
    if (po >= 0) b.g.ops[po].p.pool = (ev_pool_params){EV_PAD_VALID, 2, 2, 2, 2, EV_ACT_NONE};
    gb_op(&b, EV_OP_MEAN, "MEAN", 40, 2, (int[]){pl, ta}, 1, &mn);
    gb_op(&b, EV_OP_FULLY_CONNECTED, "FULLY_CONNECTED", 9, 3, (int[]){mn, tw3, tb3}, 1, &fc);
    gb_op(&b, EV_OP_LOGISTIC, "LOGISTIC", 14, 1, &fc, 1, &y);
    gb_inputs(&b, 1, &x);
    gb_outputs(&b, 1, &y);
    ev_model *m = NULL;
    if (gb_finish(&b, &m) != EV_OK) fprintf(stderr, "graph: %s\n", b.msg);
    return m;
}

/* Runs `m` on `backend` with input bytes `in`; copies output 0 (as floats) into y[n]. */
static void run_to_float(const ev_model *m, const char *backend, const void *in, size_t in_bytes,
                         float *y, int n, void *raw, size_t *raw_bytes) {
    ev_run_opts o = {.backend = backend};
    ev_session *s = NULL;
    const void *d;
    ev_tensor_info ti;
    CHECK_OK(ev_test_run(m, &o, 1, &in, &in_bytes, &s, &d, &ti));
    if (!s) return;
    for (int i = 0; i < n; i++)
        y[i] = ti.dtype == EV_DTYPE_F32 ? ((const float *)d)[i]
                                        : ((float)((const int8_t *)d)[i] - (float)ti.zero_point) *
                                              ti.scale;
    if (raw) {
        memcpy(raw, d, ti.bytes);
        *raw_bytes = ti.bytes;
    }
    ev_session_free(s);
}

static void test_small_graph(void) {
    ev_model *fm = small_float_model();
    CHECK(fm != NULL);
    if (!fm) return;
    ev_image *imgs[6];
    uint8_t px[20 * 14 * 3];
    for (int i = 0; i < 6; i++) {
        for (size_t k = 0; k < sizeof px; k++) px[k] = (uint8_t)((k * 37 + (size_t)i * 101) % 256);
        CHECK_OK(ev_image_create(20, 14, px, &imgs[i]));
    }
    ev_model *qm = NULL;
    CHECK_OK(ev_quantize_model(fm, (const ev_image *const *)imgs, 6, NULL, &qm));
    /* the per-channel variant and an argument error too */
    ev_quantize_options qo;
    ev_quantize_options_init(&qo);
    qo.per_channel = 0;
    ev_model *qpt = NULL;
    CHECK_OK(ev_quantize_model(fm, (const ev_image *const *)imgs, 6, &qo, &qpt));
    ev_model_free(qpt);
    ev_model *none = NULL;
    CHECK_EQ_INT(ev_quantize_model(fm, NULL, 0, NULL, &none), EV_ERR_INVALID_ARG);
    if (qm) {
        ev_tensor_info ii;
        CHECK_OK(ev_model_input_info(qm, 0, &ii));
        CHECK_EQ_INT(ii.dtype, EV_DTYPE_I8);
        /* an input like the calibration images: the float and the int8 one */
        ev_image *r = NULL;
        CHECK_OK(ev_image_resize(imgs[2], 9, 9, EV_RESIZE_NEAREST, &r));
        float xf[9 * 9 * 3];
        int8_t xq[9 * 9 * 3];
        for (int k = 0; k < 243; k++) {
            xf[k] = (float)ev_image_pixels(r)[k] / 127.5f - 1.0f;
            long q = lroundf(xf[k] / ii.scale) + ii.zero_point;
            xq[k] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        }
        ev_image_free(r);
        float yf[5], yr[5], yc[5], yt[5];
        int8_t raw_r[5], raw_c[5], raw_t[5];
        size_t nb = 0;
        run_to_float(fm, "ref", xf, sizeof xf, yf, 5, NULL, NULL);
        run_to_float(qm, "ref", xq, sizeof xq, yr, 5, raw_r, &nb);
        run_to_float(qm, "cpu", xq, sizeof xq, yc, 5, raw_c, &nb);
        CHECK(memcmp(raw_r, raw_c, 5) == 0);
        const char *tmp = "test_quantize_small.tflite";
        CHECK_OK(ev_model_save_tflite(qm, tmp));
        ev_model *back = NULL;
        CHECK_OK(ev_model_load(tmp, &back));
        if (back) {
            run_to_float(back, "ref", xq, sizeof xq, yt, 5, raw_t, &nb);
            CHECK(memcmp(raw_r, raw_t, 5) == 0);
        }
        ev_model_free(back);
        remove(tmp);
        for (int k = 0; k < 5; k++) {
            fprintf(stderr, "  y[%d]: float %.5f int8 %.5f\n", k, (double)yf[k], (double)yr[k]);
            CHECK_NEAR(yr[k], yf[k], 0.03);
        }
    }
    ev_model_free(qm);
    for (int i = 0; i < 6; i++) ev_image_free(imgs[i]);
    ev_model_free(fm);
}

/* ---- PoseNet 0.50 -------------------------------------------------------------------------- */

static int load_dir(const char *dir, ev_image **imgs, int n, int cap) {
    DIR *d = opendir(dir);
    if (!d) return n;
    char *names[64];
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && k < 64) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || (strcmp(dot, ".jpg") && strcmp(dot, ".jpeg") && strcmp(dot, ".png") &&
                     strcmp(dot, ".bmp")))
            continue;
        names[k] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        sprintf(names[k], "%s/%s", dir, e->d_name);
        k++;
    }
    closedir(d);
    for (int i = 0; i < k; i++) {
        if (n < cap && ev_image_load(names[i], &imgs[n]) == EV_OK) n++;
        free(names[i]);
    }
    return n;
}

static void test_posenet_quantized(void) {
    char fp[512], ip[512], dimg[512], dcoco[512];
    ev_test_path(fp, sizeof fp, "models/posenet/posenet_mobilenet_v1_050_float.pb");
    ev_test_path(ip, sizeof ip, "data/images/test_couple.jpg");
    ev_test_path(dimg, sizeof dimg, "data/images");
    ev_test_path(dcoco, sizeof dcoco, "data/coco");
    EV_REQUIRE_FILE(fp);
    EV_REQUIRE_FILE(ip);
    ev_image *imgs[32];
    int n = load_dir(dimg, imgs, 0, 32);
    n = load_dir(dcoco, imgs, n, 32);
    CHECK(n >= 4);
    ev_model *fm = NULL, *qm = NULL;
    CHECK_OK(ev_model_load_with_input(fp, 353, 481, &fm));
    if (fm) CHECK_OK(ev_quantize_model(fm, (const ev_image *const *)imgs, n, NULL, &qm));
    const char *qpath = "test_quantize_posenet_050_int8.tflite";
    if (qm) CHECK_OK(ev_model_save_tflite(qm, qpath));
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(ip, &img));
    ev_pose fpose[10], qpose[10], cpose[10];
    int nf = 0, nq = 0, nc = 0;
    ev_posenet *fnet = NULL, *qnet = NULL, *cnet = NULL;
    ev_posenet_options o;
    ev_posenet_options_init(&o);
    CHECK_OK(ev_posenet_create_with_input(fp, 353, 481, &o, &fnet));
    CHECK_OK(ev_posenet_create(qpath, &o, &qnet));
    o.session.backend = "cpu";
    CHECK_OK(ev_posenet_create(qpath, &o, &cnet));
    if (img && fnet && qnet && cnet) {
        CHECK_OK(ev_posenet_run(fnet, img, fpose, 10, &nf));
        CHECK_OK(ev_posenet_run(qnet, img, qpose, 10, &nq));
        CHECK_OK(ev_posenet_run(cnet, img, cpose, 10, &nc));
        /* cpu and ref: the same heads, so the same poses */
        for (int i = 0; i < 4; i++) {
            const void *a, *b;
            ev_tensor_info ia, ib;
            CHECK_OK(ev_session_output(ev_posenet_session(qnet), i, &a, &ia));
            CHECK_OK(ev_session_output(ev_posenet_session(cnet), i, &b, &ib));
            CHECK_EQ_INT(ia.dtype, EV_DTYPE_I8);
            CHECK(ia.bytes == ib.bytes && memcmp(a, b, ia.bytes) == 0);
        }
        CHECK_EQ_INT(nq, nc);
        CHECK(nc == nq && memcmp(qpose, cpose, sizeof(ev_pose) * (size_t)nq) == 0);
        CHECK_EQ_INT(nf, 2);
        CHECK_EQ_INT(nq, 2);
        int used[10] = {0};
        for (int i = 0; i < nf && i < 2; i++) {
            int best = -1, bn = 0;
            float bmax = 1e9f;
            for (int j = 0; j < nq; j++) {
                float mx = 0;
                int cnt = 0;
                for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
                    const ev_keypoint *a = &fpose[i].keypoints[k], *b = &qpose[j].keypoints[k];
                    if (a->score > 0.5f && b->score > 0.5f) {
                        float dd = hypotf(a->x - b->x, a->y - b->y);
                        if (dd > mx) mx = dd;
                        cnt++;
                    }
                }
                if (!used[j] && cnt > 0 && mx < bmax) best = j, bmax = mx, bn = cnt;
            }
            CHECK_MSG(best >= 0, "float pose %d has no int8 counterpart", i);
            if (best < 0) continue;
            used[best] = 1;
            fprintf(stderr, "  float pose %d (score %.3f) vs int8 pose %d (score %.3f): %d "
                    "keypoints above 0.5 in both, max %.2f px\n", i, (double)fpose[i].score, best,
                    (double)qpose[best].score, bn, (double)bmax);
            CHECK_MSG(bn >= 10, "pose %d: %d keypoints", i, bn);
            CHECK_MSG(bmax < 8.0f, "pose %d: max %.2f px", i, (double)bmax);
        }
    }
    ev_posenet_free(fnet);
    ev_posenet_free(qnet);
    ev_posenet_free(cnet);
    ev_image_free(img);
    remove(qpath);
    ev_model_free(qm);
    ev_model_free(fm);
    for (int i = 0; i < n; i++) ev_image_free(imgs[i]);
}

int main(void) {
    EV_RUN(test_small_graph);
    EV_RUN(test_posenet_quantized);
    return ev_test_finish();
}
