/*
 * consumer.c - a program outside the project built against an installed edgevision tree
 * (tests/install/test_install.sh builds it twice: with pkg-config and with find_package). It
 * includes only <edgevision.h>, links only the installed library, and checks what every
 * consumer relies on: the version (header and library), the backends, an image round trip through the codec-free
 * calls, an error carrying its message, and (given a model path) a model loaded and run.
 *
 * Extend: a new check is one CHECK line; keep it to the public API.
 */
#include <edgevision.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c)                                                                                  \
    do {                                                                                          \
        if (!(c)) {                                                                               \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, #c, \
                    ev_last_error());                                                             \
            failures++;                                                                           \
        }                                                                                         \
    } while (0)

int main(int argc, char **argv) {
    printf("edgevision %s, backends:", EV_VERSION_STRING);
    int nb = 0;
    for (const char *const *b = ev_backend_names(); *b; b++, nb++) printf(" %s", *b);
    printf("\n");
    CHECK(nb >= 1 && strcmp(ev_backend_names()[0], "ref") == 0);
    CHECK(strcmp(ev_version(), EV_VERSION_STRING) == 0); /* the header and the library agree */

    /* a 4x2 image, resized to 2x1 (Pillow's nearest samples pixel centres: columns 1 and 3 of
     * row 1) */
    uint8_t rgb[4 * 2 * 3];
    for (int i = 0; i < (int)sizeof rgb; i++) rgb[i] = (uint8_t)(i * 7);
    ev_image *img = NULL, *small = NULL;
    CHECK(ev_image_create(4, 2, rgb, &img) == EV_OK);
    CHECK(ev_image_resize(img, 2, 1, EV_RESIZE_NEAREST, &small) == EV_OK);
    if (small) {
        CHECK(ev_image_width(small) == 2 && ev_image_height(small) == 1);
        CHECK(ev_image_pixels(small)[0] == rgb[15] && ev_image_pixels(small)[3] == rgb[21]);
    }
    ev_image_free(small);
    ev_image_free(img);

    ev_model *m = NULL;
    CHECK(ev_model_load("/nonexistent/model.tflite", &m) == EV_ERR_IO);
    CHECK(strstr(ev_last_error(), "/nonexistent/model.tflite") != NULL);
    ev_clear_error();

    if (argc > 1) { /* a model: load it, run it once on zeros */
        CHECK(ev_model_load(argv[1], &m) == EV_OK);
        ev_session *s = NULL;
        ev_session_options o;
        ev_session_options_init(&o);
        o.backend = "ref";
        if (m) CHECK(ev_session_create(m, &o, &s) == EV_OK);
        if (s) {
            ev_tensor_info in;
            CHECK(ev_model_input_info(m, 0, &in) == EV_OK);
            void *zeros = calloc(1, in.bytes);
            CHECK(zeros && ev_session_set_input(s, 0, zeros, in.bytes) == EV_OK);
            CHECK(ev_session_run(s) == EV_OK);
            const void *out = NULL;
            ev_tensor_info oi;
            CHECK(ev_session_output(s, 0, &out, &oi) == EV_OK && out && oi.bytes > 0);
            printf("%s: %d ops, output 0 '%s' (%zu bytes)\n", argv[1], ev_model_num_ops(m),
                   oi.name ? oi.name : "?", oi.bytes);
            free(zeros);
        }
        ev_session_free(s);
        ev_model_free(m);
    }
    printf(failures ? "consumer: %d failure(s)\n" : "consumer: ok\n", failures);
    return failures ? 1 : 0;
}
