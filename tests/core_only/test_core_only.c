/*
 * test_core_only.c - proves the core library (libedgevision_core.a) needs only libc, libm and
 * pthreads: CMakeLists.txt links this program with the whole core archive (--whole-archive, so
 * every core object is pulled in, used or not) and nothing else but libm and pthreads (cudart
 * when the cuda backend is built). Any core object that reached for libjpeg, libpng, FFmpeg,
 * protobuf-c, HDF5, matio or cJSON would fail the link. At run time it checks what a core-only
 * program can do: the format table reads TFLite, names the missing component for Keras weights
 * and TF graphs, and images, resizing and pose drawing work without codecs.
 *
 * Extend: when a feature moves into the core, exercise it here with its own CHECK lines.
 */
#include "edgevision.h"

#include <stdio.h>
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

int main(void) {
    ev_model *m = NULL;
    static const char text[] = "not a model at all";
    CHECK(ev_model_load_memory(text, sizeof text, "text", &m) == EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "not a model file this build reads") != NULL);

    static const unsigned char h5[16] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    CHECK(ev_model_load_memory(h5, sizeof h5, "w.h5", &m) == EV_ERR_UNSUPPORTED);
    CHECK(strstr(ev_last_error(), "edgevision_keras") != NULL);
    static const unsigned char pb[4] = {0x0a, 0x02, 0x00, 0x00};
    CHECK(ev_model_load_memory(pb, sizeof pb, "graph.pb", &m) == EV_ERR_UNSUPPORTED);
    CHECK(strstr(ev_last_error(), "edgevision_tf") != NULL);
    CHECK(m == NULL);

    const char *const *b = ev_backend_names();
    CHECK(b && b[0]);

    unsigned char rgb[32 * 24 * 3];
    memset(rgb, 0, sizeof rgb);
    ev_image *img = NULL, *small = NULL;
    CHECK(ev_image_create(32, 24, rgb, &img) == EV_OK);
    CHECK(ev_image_resize(img, 16, 12, EV_RESIZE_BILINEAR, &small) == EV_OK);
    ev_pose pose;
    memset(&pose, 0, sizeof pose);
    for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
        pose.keypoints[k].x = (float)(k % 5) * 6.0f + 2.0f;
        pose.keypoints[k].y = (float)(k / 5) * 6.0f + 2.0f;
        pose.keypoints[k].score = 1.0f;
    }
    CHECK(ev_pose_draw(img, &pose, 1, 0.5f) == EV_OK);
    int lit = 0;
    for (size_t i = 0; i < sizeof rgb; i++) lit += ev_image_pixels(img)[i] != 0;
    CHECK(lit > 0);
    ev_image_free(small);
    ev_image_free(img);

    if (failures) return 1;
    printf("core-only program: ok (backends:");
    for (; *b; b++) printf(" %s", *b);
    printf(")\n");
    return 0;
}
