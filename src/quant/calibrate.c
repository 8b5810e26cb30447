/*
 * calibrate.c - activation ranges of a float model over calibration images, for quantize.c.
 *
 * Each image is resized to the model input with Pillow NEAREST (what ev_posenet_run does), mapped
 * to p / 127.5 - 1 and run; the per-op callback (ev_session_set_op_callback) sees every op's
 * output while it is still in the arena and folds it into a running min/max. To calibrate with
 * percentiles instead, keep a histogram per tensor here and pick the range from it.
 */
#include "quant/quant_model.h"

#include "core/model.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ev_calib_release(ev_calib *c) {
    if (!c) return;
    free(c->min);
    free(c->max);
    free(c->seen);
    memset(c, 0, sizeof *c);
}

void ev_quant_params_int8(float mn, float mx, float *scale, int32_t *zero_point) {
    if (!(mn <= 0.0f)) mn = 0.0f;
    if (!(mx >= 0.0f)) mx = 0.0f;
    if (mx - mn < 1e-6f) mx = mn + 1e-6f;
    double s = ((double)mx - (double)mn) / 255.0;
    double z = -128.0 - (double)mn / s;
    long zp = lround(z);
    if (zp < -128) zp = -128;
    if (zp > 127) zp = 127;
    *scale = (float)s;
    *zero_point = (int32_t)zp;
}

static void fold(ev_calib *c, int t, const float *x, size_t n) {
    float mn = c->seen[t] ? c->min[t] : INFINITY, mx = c->seen[t] ? c->max[t] : -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    c->min[t] = mn;
    c->max[t] = mx;
    c->seen[t] = 1;
}

typedef struct cb_ctx {
    const ev_graph *g;
    ev_calib *c;
} cb_ctx;

static int on_op(void *user, int op_index, const char *op_name, const ev_tensor_info *out,
                 const void *data) {
    (void)op_name;
    cb_ctx *k = user;
    if (op_index < 0 || op_index >= k->g->num_ops || k->g->ops[op_index].num_outputs < 1) return 0;
    if (out->dtype != EV_DTYPE_F32) return 0;
    fold(k->c, k->g->ops[op_index].outputs[0], data, out->bytes / sizeof(float));
    return 0;
}

ev_status ev_calibrate(const ev_model *model, const ev_image *const *images, int n,
                       const char *backend, int threads, ev_calib *out) {
    memset(out, 0, sizeof *out);
    const ev_graph *g = &model->graph;
    if (n < 1 || !images)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: calibration needs at least one image", g->source);
    const ev_tensor *in = g->num_inputs == 1 ? &g->tensors[g->inputs[0]] : NULL;
    char sh[64];
    if (!in || in->dtype != EV_DTYPE_F32 || in->ndim != 4 || in->dims[0] != 1 || in->dims[3] != 3)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: calibration needs one float32 1xHxWx3 image input, "
                       "the model has %d input(s)%s%s", g->source, g->num_inputs,
                       in ? ", the first " : "", in ? ev_shape_str(in, sh, 64) : "");
    out->num_tensors = g->num_tensors;
    EV_ALLOC(out->min, sizeof(float) * (size_t)g->num_tensors);
    out->max = calloc((size_t)g->num_tensors, sizeof(float));
    out->seen = calloc((size_t)g->num_tensors, sizeof(int));
    if (!out->max || !out->seen) {
        ev_calib_release(out);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    int h = in->dims[1], w = in->dims[2];
    size_t px = (size_t)h * (size_t)w * 3;
    float *x = malloc(sizeof(float) * px);
    ev_session_options so;
    ev_session_options_init(&so);
    so.backend = backend ? backend : "ref";
    so.threads = threads > 0 ? threads : 1;
    ev_session *s = NULL;
    ev_status st = x ? ev_session_create(model, &so, &s)
                     : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    cb_ctx k = {g, out};
    if (st == EV_OK) ev_session_set_op_callback(s, on_op, &k);
    for (int i = 0; st == EV_OK && i < n; i++) {
        ev_image *r = NULL;
        if (!images[i]) {
            st = EV_FAIL(EV_ERR_INVALID_ARG, "calibration image %d is NULL", i);
            break;
        }
        st = ev_image_resize(images[i], w, h, EV_RESIZE_NEAREST, &r);
        if (st != EV_OK) break;
        const uint8_t *p = ev_image_pixels(r);
        for (size_t j = 0; j < px; j++) x[j] = (float)p[j] / 127.5f - 1.0f;
        ev_image_free(r);
        fold(out, g->inputs[0], x, px);
        st = ev_session_set_input(s, 0, x, sizeof(float) * px);
        if (st == EV_OK) st = ev_session_run(s);
        if (st != EV_OK) ev_error_prefix("calibration image %d", i);
        out->images++;
    }
    ev_session_free(s);
    free(x);
    if (st != EV_OK) ev_calib_release(out);
    return st;
}
