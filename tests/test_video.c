/*
 * test_video.c - video input and output through FFmpeg (src/media/video.c, video_writer.c).
 *
 *   dance:      ../shared/data/video/dance.mp4 decodes to exactly 244 frames of 514x496 at
 *               25 fps; rewinding gives the first frame again, byte for byte.
 *   pose:       PoseNet on a decoded frame equals PoseNet on that frame saved as PNG and loaded.
 *   writer:     frames written to mp4/mkv/avi/webm read back with the same count and size and
 *               pixels close to the originals (lossy codecs: mean error bound).
 *   damage:     a cut mp4 returns the frames before the cut, then one error naming the frame;
 *               a cut dance.mp4 (index at the end) fails to open with a clear message; a
 *               missing camera, a missing file and a non-video each give their own error;
 *               frames over $EV_IMAGE_MAX_PIXELS are refused at open.
 */
#include "ev_test.h"

#include "edgevision.h"

#include <unistd.h>

#define MODEL_353 "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite"

static char g_tmp[256], g_dance[1024];

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void test_dance_decode(void) {
    EV_REQUIRE_FILE(g_dance);
    ev_video *v = NULL;
    CHECK_OK(ev_video_open(g_dance, &v));
    if (!v) return;
    CHECK_EQ_INT(ev_video_width(v), 514);
    CHECK_EQ_INT(ev_video_height(v), 496);
    CHECK_NEAR(ev_video_fps(v), 25.0, 1e-9);
    CHECK_EQ_INT(ev_video_frame_count(v), 244);
    CHECK_EQ_INT(ev_video_is_camera(v), 0);
    int frames = 0, sizes_ok = 1;
    ev_image *first = NULL, *img = NULL;
    ev_status st;
    while ((st = ev_video_read(v, &img)) == EV_OK && img) {
        if (ev_image_width(img) != 514 || ev_image_height(img) != 496) sizes_ok = 0;
        if (frames == 0) first = img;
        else ev_image_free(img);
        frames++;
    }
    CHECK_OK(st);
    CHECK_EQ_INT(frames, 244);
    CHECK(sizes_ok);
    CHECK_EQ_INT(ev_video_frames_read(v), 244);
    /* the end stays the end */
    CHECK_OK(ev_video_read(v, &img));
    CHECK(img == NULL);
    /* rewind: the same first frame, byte for byte; the video is not one still image */
    CHECK_OK(ev_video_rewind(v));
    ev_image *again = NULL, *second = NULL;
    CHECK_OK(ev_video_read(v, &again));
    for (int i = 0; i < 100; i++) {
        ev_image_free(second);
        second = NULL;
        CHECK_OK(ev_video_read(v, &second));
    }
    if (first && again && second) {
        size_t n = 514 * 496 * 3, diff = 0;
        CHECK(memcmp(ev_image_pixels(first), ev_image_pixels(again), n) == 0);
        for (size_t i = 0; i < n; i++) diff += ev_image_pixels(first)[i] != ev_image_pixels(second)[i];
        CHECK_MSG(diff > n / 100, "frame 100 differs from frame 0 in only %zu bytes", diff);
    }
    ev_image_free(first);
    ev_image_free(again);
    ev_image_free(second);
    ev_video_free(v);
}

static void test_pose_on_video_frame(void) {
    char model[1024];
    ev_test_path(model, sizeof model, MODEL_353);
    EV_REQUIRE_FILE(g_dance);
    EV_REQUIRE_FILE(model);
    ev_video *v = NULL;
    ev_image *frame = NULL, *loaded = NULL;
    CHECK_OK(ev_video_open(g_dance, &v));
    for (int i = 0; v && i <= 60; i++) {
        ev_image_free(frame);
        frame = NULL;
        CHECK_OK(ev_video_read(v, &frame));
    }
    ev_video_free(v);
    if (!frame) return;
    char png[512];
    snprintf(png, sizeof png, "%s/frame60.png", g_tmp);
    CHECK_OK(ev_image_save(frame, png));
    CHECK_OK(ev_image_load(png, &loaded));
    ev_posenet *net = NULL;
    CHECK_OK(ev_posenet_create(model, NULL, &net));
    ev_pose a[10], b[10];
    int na = -1, nb = -2;
    if (net && loaded) {
        CHECK_OK(ev_posenet_run(net, frame, a, 10, &na));
        CHECK_OK(ev_posenet_run(net, loaded, b, 10, &nb));
        CHECK_EQ_INT(na, nb);
        CHECK_MSG(na >= 1, "no pose found on the dancer (%d)", na);
        CHECK(na >= 0 && memcmp(a, b, sizeof(ev_pose) * (size_t)na) == 0);
        CHECK_MSG(na < 1 || a[0].score > 0.3f, "pose score %g", na > 0 ? (double)a[0].score : 0.0);
    }
    ev_posenet_free(net);
    ev_image_free(frame);
    ev_image_free(loaded);
}

/* A 128x96 test pattern that moves with `t`: gradients and a bright square. */
static ev_image *pattern(int t) {
    int w = 128, h = 96;
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            int in = x >= 10 + 6 * t && x < 40 + 6 * t && y >= 30 && y < 60;
            p[0] = in ? 250 : (uint8_t)(x * 2);
            p[1] = in ? 250 : (uint8_t)(y * 2);
            p[2] = in ? 250 : 96;
        }
    ev_image *img = NULL;
    ev_image_create(w, h, px, &img);
    free(px);
    return img;
}

/* Writes 12 pattern frames to `path`; returns 0 on success. */
static int write_pattern(const char *path) {
    ev_video_writer *w = NULL;
    ev_status st = ev_video_writer_open(path, 128, 96, 25.0, &w);
    CHECK_MSG(st == EV_OK, "%s: %s", path, ev_last_error());
    if (st != EV_OK) return 1;
    for (int t = 0; t < 12; t++) {
        ev_image *img = pattern(t);
        CHECK_OK(ev_video_writer_write(w, img));
        ev_image_free(img);
    }
    st = ev_video_writer_close(w);
    CHECK_MSG(st == EV_OK, "%s: %s", path, ev_last_error());
    return st != EV_OK;
}

static void test_writer_roundtrip(void) {
    static const char *const exts[] = {"mp4", "mkv", "avi", "webm"};
    for (int e = 0; e < 4; e++) {
        char path[512];
        snprintf(path, sizeof path, "%s/pattern.%s", g_tmp, exts[e]);
        if (write_pattern(path)) continue;
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        CHECK(!ev_test_exists(tmp));
        ev_video *v = NULL;
        CHECK_OK(ev_video_open(path, &v));
        if (!v) continue;
        int n = 0;
        double err = 0;
        ev_image *img = NULL;
        ev_status st;
        while ((st = ev_video_read(v, &img)) == EV_OK && img) {
            CHECK(ev_image_width(img) == 128 && ev_image_height(img) == 96);
            ev_image *ref = pattern(n);
            const uint8_t *p = ev_image_pixels(img), *q = ev_image_pixels(ref);
            for (size_t i = 0; i < 128 * 96 * 3; i++) err += abs((int)p[i] - (int)q[i]);
            ev_image_free(ref);
            ev_image_free(img);
            n++;
        }
        CHECK_MSG(st == EV_OK, "%s: %s", exts[e], ev_last_error());
        CHECK_MSG(n == 12, "%s: %d frames", exts[e], n);
        double mean = n ? err / (n * 128.0 * 96 * 3) : 999;
        CHECK_MSG(mean < 6.0, "%s: mean absolute error %.2f", exts[e], mean);
        ev_video_free(v);
    }
}

static void test_cut_mp4_keeps_frames(void) {
    char path[512], cut[512];
    snprintf(path, sizeof path, "%s/whole.mp4", g_tmp);
    snprintf(cut, sizeof cut, "%s/cut.mp4", g_tmp);
    if (write_pattern(path)) return;
    size_t n = 0;
    unsigned char *bytes = ev_test_read(path, &n);
    CHECK(bytes != NULL && n > 1000);
    if (!bytes) return;
    write_file(cut, bytes, n * 9 / 10); /* the first (I) frame is most of the file */
    free(bytes);
    ev_video *v = NULL;
    CHECK_OK(ev_video_open(cut, &v));
    if (!v) return;
    CHECK_EQ_INT(ev_video_frame_count(v), 12);
    int frames = 0;
    ev_image *img = NULL;
    ev_status st;
    while ((st = ev_video_read(v, &img)) == EV_OK && img) {
        ev_image_free(img);
        frames++;
    }
    CHECK_MSG(frames >= 1 && frames < 12, "%d frames before the cut", frames);
    CHECK_EQ_INT(st, EV_ERR_FORMAT);
    char want[64];
    snprintf(want, sizeof want, "after frame %d of 12", frames);
    CHECK_MSG(strstr(ev_last_error(), "truncated") && strstr(ev_last_error(), want) &&
                  strstr(ev_last_error(), "cut.mp4"),
              "message: %s", ev_last_error());
    CHECK_OK(ev_video_read(v, &img)); /* then the end */
    CHECK(img == NULL);
    ev_video_free(v);
}

static void test_errors(void) {
    ev_video *v = NULL;
    if (!ev_test_exists("/dev/video97")) {
        CHECK_EQ_INT(ev_video_open("/dev/video97", &v), EV_ERR_IO);
        CHECK_MSG(strstr(ev_last_error(), "camera /dev/video97: No such device"), "%s",
                  ev_last_error());
    }
    CHECK_EQ_INT(ev_video_open("/no/such/clip.mp4", &v), EV_ERR_IO);
    CHECK(strstr(ev_last_error(), "/no/such/clip.mp4") && strstr(ev_last_error(), "No such file"));
    char p[512];
    snprintf(p, sizeof p, "%s/hello.mp4", g_tmp);
    write_file(p, "hello, not a video", 18);
    CHECK_EQ_INT(ev_video_open(p, &v), EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "hello.mp4") != NULL);
    snprintf(p, sizeof p, "%s/empty.mkv", g_tmp);
    write_file(p, "", 0);
    CHECK_EQ_INT(ev_video_open(p, &v), EV_ERR_FORMAT);
    CHECK(strstr(ev_last_error(), "empty") != NULL);
    CHECK(v == NULL);
    /* frames over the pixel cap are refused at open, FFmpeg's decoders bounded by it too */
    snprintf(p, sizeof p, "%s/capped.avi", g_tmp);
    if (write_pattern(p) == 0) {
        setenv("EV_IMAGE_MAX_PIXELS", "10000", 1); /* the pattern is 128x96 = 12288 pixels */
        CHECK_EQ_INT(ev_video_open(p, &v), EV_ERR_NO_MEMORY);
        unsetenv("EV_IMAGE_MAX_PIXELS");
        CHECK_MSG(strstr(ev_last_error(), "128x96 exceed the pixel cap of 10000"), "%s",
                  ev_last_error());
        CHECK(v == NULL);
        CHECK_OK(ev_video_open(p, &v)); /* the default cap */
        ev_video_free(v);
        v = NULL;
    }
    CHECK_EQ_INT(ev_video_path_is_video("a/b.MP4"), 1);
    CHECK_EQ_INT(ev_video_path_is_video("/dev/video0"), 1);
    CHECK_EQ_INT(ev_video_path_is_video("a.mp4/b.png"), 0);
    ev_video_writer *w = NULL;
    snprintf(p, sizeof p, "%s/out.xyz", g_tmp);
    CHECK_EQ_INT(ev_video_writer_open(p, 64, 64, 25, &w), EV_ERR_UNSUPPORTED);
    CHECK(w == NULL);
}

static void test_cut_dance(void) {
    EV_REQUIRE_FILE(g_dance);
    size_t n = 0;
    unsigned char *bytes = ev_test_read(g_dance, &n);
    char cut[512];
    snprintf(cut, sizeof cut, "%s/dance_half.mp4", g_tmp);
    write_file(cut, bytes, n / 2);
    free(bytes);
    ev_video *v = NULL;
    /* dance.mp4 keeps its index (moov) at the end: half a file cannot even be opened */
    CHECK_EQ_INT(ev_video_open(cut, &v), EV_ERR_FORMAT);
    CHECK_MSG(strstr(ev_last_error(), "dance_half.mp4") && strstr(ev_last_error(), "moov"),
              "%s", ev_last_error());
    CHECK(v == NULL);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_video_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    ev_test_path(g_dance, sizeof g_dance, "data/video/dance.mp4");
    EV_RUN(test_dance_decode);
    EV_RUN(test_pose_on_video_frame);
    EV_RUN(test_writer_roundtrip);
    EV_RUN(test_cut_mp4_keeps_frames);
    EV_RUN(test_cut_dance);
    EV_RUN(test_errors);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
