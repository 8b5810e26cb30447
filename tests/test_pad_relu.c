/*
 * test_pad_relu.c - PAD, RELU and RELU6 on the reference backend against direct computation:
 * random shapes and paddings (float32 pads with 0.0, uint8 with the zero point), clamps.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "graph_builder.h"
#include "util.h"

static ev_test_rng g_rng = {12345};

static void test_pad(void) {
    for (int it = 0; it < 60; it++) {
        int nd = 1 + (int)(ev_test_rng_next(&g_rng) % 4), quant = it % 2;
        int in_dims[4], out_dims[4];
        int32_t pads[8];
        size_t n_in = 1, n_out = 1;
        for (int d = 0; d < nd; d++) {
            in_dims[d] = 1 + (int)(ev_test_rng_next(&g_rng) % 5);
            pads[2 * d] = (int32_t)(ev_test_rng_next(&g_rng) % 3);
            pads[2 * d + 1] = (int32_t)(ev_test_rng_next(&g_rng) % 3);
            out_dims[d] = in_dims[d] + pads[2 * d] + pads[2 * d + 1];
            n_in *= (size_t)in_dims[d];
            n_out *= (size_t)out_dims[d];
        }
        ev_dtype dt = quant ? EV_DTYPE_U8 : EV_DTYPE_F32;
        int32_t zp = 77;
        int pd[2] = {nd, 2};
        gb b;
        gb_init(&b);
        int ti = gb_tensor_q(&b, "in", dt, nd, in_dims, NULL, quant ? 0.1f : 0.0f, zp);
        int tp = gb_tensor(&b, "pads", EV_DTYPE_I32, 2, pd, pads, sizeof(int32_t) * 2 * nd, 0,
                           NULL, NULL, 0);
        int to = gb_tensor_q(&b, "out", dt, nd, out_dims, NULL, quant ? 0.1f : 0.0f, zp);
        int ins[2] = {ti, tp};
        gb_op(&b, EV_OP_PAD, "PAD", 34, 2, ins, 1, &to);
        gb_inputs(&b, 1, &ti);
        gb_outputs(&b, 1, &to);
        ev_model *m = NULL;
        CHECK_OK(gb_finish(&b, &m));
        size_t es = quant ? 1 : 4;
        unsigned char *in = malloc(n_in * es);
        for (size_t i = 0; i < n_in * es; i++) in[i] = (unsigned char)(ev_test_rng_next(&g_rng) % 251);
        if (!quant)
            for (size_t i = 0; i < n_in; i++)
                ((float *)in)[i] = (float)(ev_test_rng_next(&g_rng) % 1000) - 500.0f;
        ev_session *s = NULL;
        const void *out = NULL;
        size_t in_bytes = n_in * es;
        if (m) CHECK_OK(ev_test_run(m, NULL, 1, (const void *const[]){in}, &in_bytes, &s, &out, NULL));
        if (!s) {
            free(in);
            ev_model_free(m);
            continue;
        }
        int bad = 0;
        for (size_t o = 0; o < n_out; o++) {
            /* unravel o, map back to the input */
            size_t rem = o, idx = 0, stride = 1;
            int inside = 1;
            int coord[4];
            for (int d = nd - 1; d >= 0; d--) {
                coord[d] = (int)(rem % (size_t)out_dims[d]);
                rem /= (size_t)out_dims[d];
            }
            for (int d = nd - 1; d >= 0; d--) {
                int c = coord[d] - pads[2 * d];
                if (c < 0 || c >= in_dims[d]) inside = 0;
                idx += (size_t)(c < 0 ? 0 : c) * stride;
                stride *= (size_t)in_dims[d];
            }
            if (quant) {
                int want = inside ? in[idx] : zp;
                bad += ((const unsigned char *)out)[o] != want;
            } else {
                float want = inside ? ((float *)in)[idx] : 0.0f;
                bad += ((const float *)out)[o] != want;
            }
        }
        CHECK_MSG(bad == 0, "case %d: %d wrong elements", it, bad);
        free(in);
        ev_session_free(s);
        ev_model_free(m);
    }
}

static void test_relu(void) {
    for (int six = 0; six < 2; six++)
        for (int quant = 0; quant < 2; quant++) {
            int dims[2] = {7, 13};
            gb b;
            gb_init(&b);
            ev_dtype dt = quant ? EV_DTYPE_U8 : EV_DTYPE_F32;
            float sc = 0.05f;
            int32_t zp = 100;
            int ti = gb_tensor_q(&b, "in", dt, 2, dims, NULL, quant ? sc : 0.0f, zp);
            int to = gb_tensor_q(&b, "out", dt, 2, dims, NULL, quant ? sc : 0.0f, zp);
            gb_op(&b, six ? EV_OP_RELU6 : EV_OP_RELU, six ? "RELU6" : "RELU", six ? 21 : 19, 1,
                  &ti, 1, &to);
            gb_inputs(&b, 1, &ti);
            gb_outputs(&b, 1, &to);
            ev_model *m = NULL;
            CHECK_OK(gb_finish(&b, &m));
            float fin[91];
            unsigned char qin[91];
            for (int i = 0; i < 91; i++) {
                fin[i] = ((float)(ev_test_rng_next(&g_rng) % 2000) - 1000.0f) / 100.0f;
                qin[i] = (unsigned char)(ev_test_rng_next(&g_rng) % 256);
            }
            ev_session *s = NULL;
            const void *out = NULL;
            const void *in = quant ? (void *)qin : (void *)fin;
            size_t in_bytes = quant ? 91 : sizeof fin;
            if (m) CHECK_OK(ev_test_run(m, NULL, 1, &in, &in_bytes, &s, &out, NULL));
            if (!s) {
                ev_model_free(m);
                continue;
            }
            for (int i = 0; i < 91; i++) {
                if (quant) {
                    double real = (qin[i] - zp) * (double)sc;
                    double want_real = real < 0 ? 0 : (six && real > 6 ? 6 : real);
                    int want = (int)lround(want_real / sc) + zp;
                    CHECK_NEAR(((const unsigned char *)out)[i], want, 0.0);
                } else {
                    float v = fin[i], want = v < 0 ? 0 : (six && v > 6 ? 6 : v);
                    CHECK_NEAR(((const float *)out)[i], want, 0.0);
                }
            }
            ev_session_free(s);
            ev_model_free(m);
        }
}

int main(void) {
    EV_RUN(test_pad);
    EV_RUN(test_relu);
    return ev_test_finish();
}
