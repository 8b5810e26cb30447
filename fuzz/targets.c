/*
 * targets.c - the fuzz target bodies (see targets.h).
 *
 * tflite:  ev_model_load_memory, then a session on the reference backend with a small memory
 *          cap; a model whose work is small enough is also run once (zeros in).
 * flexbuf: FlexBuffer map lookups of the keys custom ops read.
 * image:   ev_image_decode (JPEG, PNG, BMP), then both resize modes on what decodes.
 */
#include "targets.h"

#include "edgevision.h"
#include "formats/flexbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_failure(ev_status st, const char *what) {
    if (st == EV_OK) return;
    const char *msg = ev_last_error();
    if (!msg || !*msg) {
        fprintf(stderr, "fuzz: %s failed (%s) without a message\n", what, ev_status_string(st));
        abort();
    }
    if (st == EV_ERR_INTERNAL) {
        fprintf(stderr, "fuzz: %s: internal error: %s\n", what, msg);
        abort();
    }
}

int ev_fuzz_tflite(const uint8_t *data, size_t size) {
    static int once;
    if (!once) {
        setenv("EV_MEMORY_CAP_MB", "64", 1);
        once = 1;
    }
    ev_clear_error();
    ev_model *m = NULL;
    ev_status st = ev_model_load_memory(data, size, "fuzz.tflite", &m);
    check_failure(st, "model load");
    if (st != EV_OK) return 0;
    ev_session *s = NULL;
    ev_clear_error();
    st = ev_session_create(m, NULL, &s);
    check_failure(st, "session create");
    if (st == EV_OK) {
        size_t planned = 0, unplanned = 0;
        ev_session_memory(s, &planned, &unplanned);
        ev_tensor_info in;
        /* Run only small graphs: the fuzzer wants many executions per second. */
        if (planned < (1u << 20) && ev_model_num_ops(m) < 64 &&
            ev_model_input_info(m, 0, &in) == EV_OK && in.bytes < (1u << 20)) {
            void *zeros = calloc(1, in.bytes ? in.bytes : 1);
            if (zeros && ev_session_set_input(s, 0, zeros, in.bytes) == EV_OK) {
                ev_clear_error();
                check_failure(ev_session_run(s), "run");
            }
            free(zeros);
        }
    }
    ev_session_free(s);
    ev_model_free(m);
    return 0;
}

int ev_fuzz_flexbuf(const uint8_t *data, size_t size) {
    static const char *const keys[] = {"max_detections", "score_threshold", "stride",
                                       "nms_radius", "", "x"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        flex_value v;
        ev_clear_error();
        ev_status st = flex_map_lookup(data, size, keys[i], &v);
        check_failure(st, "flexbuffer lookup");
        if (st == EV_OK) (void)flex_as_double(&v, 0);
    }
    return 0;
}

int ev_fuzz_image(const uint8_t *data, size_t size) {
    ev_image *img = NULL;
    ev_clear_error();
    ev_status st = ev_image_decode(data, size, "fuzz-image", &img);
    check_failure(st, "image decode");
    if (st != EV_OK) return 0;
    if ((size_t)ev_image_width(img) * (size_t)ev_image_height(img) > (1u << 24)) {
        ev_image_free(img);
        return 0;
    }
    for (int mode = 0; mode < 2; mode++) {
        ev_image *r = NULL;
        ev_clear_error();
        st = ev_image_resize(img, 17, 9, (ev_resize_mode)mode, &r);
        check_failure(st, "resize");
        ev_image_free(r);
    }
    ev_image_free(img);
    return 0;
}

const ev_fuzz_target k_fuzz_targets[] = {
    {"tflite", ev_fuzz_tflite},
    {"flexbuf", ev_fuzz_flexbuf},
    {"image", ev_fuzz_image},
};
const int k_num_fuzz_targets = (int)(sizeof k_fuzz_targets / sizeof k_fuzz_targets[0]);
