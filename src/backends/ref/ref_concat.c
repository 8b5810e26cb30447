/*
 * ref_concat.c - reference CONCATENATION for any dtype along any axis.
 *
 * Quantized inputs whose scale/zero point differ from the output's are requantised as TFLite's
 * ConcatenationWithScaling does: float scale = in_scale * (1/out_scale), bias = -in_zp * scale,
 * q = round_half_away(x * scale + bias) + out_zp, clamped to the type's range. The checks,
 * geometry and those parameters come from backends/concat_desc.c (shared with cuda).
 */
#include "backends/concat_desc.h"
#include "backends/ref/ref.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void release(void *state) {
    ev_concat_desc *s = state;
    if (!s) return;
    ev_concat_desc_release(s);
    free(s);
}

/* The checks and the geometry are backends/concat_desc.c's, shared with the cuda backend. */
static ev_status prepare(const ev_kernel_ctx *ctx, void **state) {
    ev_concat_desc *s = calloc(1, sizeof *s);
    if (!s) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_concat_desc_init(ctx, s);
    if (st != EV_OK) {
        release(s);
        return st;
    }
    *state = s;
    return EV_OK;
}

static ev_status run(const ev_kernel_ctx *ctx, void *state, void *const *data) {
    (void)ctx;
    const ev_concat_desc *s = state;
    uint8_t *out = data[s->out_t];
    for (size_t o = 0; o < s->outer; o++)
        for (int i = 0; i < s->n_in; i++) {
            const uint8_t *in = (const uint8_t *)data[s->in_t[i]] + o * s->chunk[i];
            if (!s->requant[i]) {
                memcpy(out, in, s->chunk[i]);
            } else if (s->dtype == EV_DTYPE_U8) {
                for (size_t j = 0; j < s->chunk[i]; j++) {
                    int32_t v = (int32_t)roundf((float)in[j] * s->scale[i] + s->bias[i]) + s->out_zp;
                    out[j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            } else {
                const int8_t *si = (const int8_t *)in;
                int8_t *so = (int8_t *)out;
                for (size_t j = 0; j < s->chunk[i]; j++) {
                    int32_t v = (int32_t)roundf((float)si[j] * s->scale[i] + s->bias[i]) + s->out_zp;
                    so[j] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
                }
            }
            out += s->chunk[i];
        }
    return EV_OK;
}

const ev_kernel ev_ref_concat_kernel = {"ref_concat", prepare, run, release};
