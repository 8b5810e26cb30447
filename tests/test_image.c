/*
 * test_image.c - the media layer: decoding (JPEG/PNG/BMP, against Pillow-derived golden values),
 * Pillow-identical NEAREST resize, BILINEAR resize, saving, error paths and pose drawing.
 *
 * Extend: add a static void test_<name>(void) and an EV_RUN line in main. Files the test writes
 * go in g_tmpdir through tmp_path(), which records them for removal at exit. Tests that read
 * /work/shared call EV_REQUIRE_FILE first.
 */
#include "edgevision.h"
#include "ev_test.h"

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Temp files                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static char g_tmpdir[256];
static char g_tmpfiles[64][320];
static int g_ntmp;

static const char *tmp_path(const char *name) {
    if (g_ntmp >= 64) {
        fprintf(stderr, "too many temp files\n");
        exit(1);
    }
    snprintf(g_tmpfiles[g_ntmp], sizeof g_tmpfiles[0], "%s/%s", g_tmpdir, name);
    return g_tmpfiles[g_ntmp++];
}

static void tmp_cleanup(void) {
    char buf[400];
    for (int i = 0; i < g_ntmp; i++) {
        unlink(g_tmpfiles[i]);
        size_t n = strlen(g_tmpfiles[i]);
        if (n + 5 > sizeof buf) continue;
        memcpy(buf, g_tmpfiles[i], n);
        memcpy(buf + n, ".tmp", 5);
        unlink(buf);
    }
    if (g_tmpdir[0]) rmdir(g_tmpdir);
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return fclose(f) == 0 && w == n;
}

/* CRC-32 as PNG chunks use it (bitwise, for building hand-made headers). */
static uint32_t png_crc(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static unsigned long long byte_sum(const uint8_t *p, size_t n) {
    unsigned long long s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Writers used to make fixtures (independent of the library's own writers)                   */
/* ------------------------------------------------------------------------------------------ */

/* Writes a PNG with libpng's low-level API: rows are packed as the PNG stores them. */
static int write_png_raw(const char *path, int w, int h, int depth, int ctype,
                         const uint8_t *data, size_t rowbytes, const png_color *pal, int npal,
                         const uint8_t *trns, int ntrns, int interlace) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return 0;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    png_bytep rows[64];
    for (int y = 0; y < h && y < 64; y++) rows[y] = (png_bytep)(data + (size_t)y * rowbytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0;
}

/* Writes a JPEG with libjpeg: components 1 (gray) or 4 (CMYK, Adobe marker written). */
static int write_jpeg_raw(const char *path, int w, int h, int comps, const uint8_t *data) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = (JSAMPROW)(data + (size_t)c.next_scanline * (size_t)w * (size_t)comps);
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    int ok = c.err->num_warnings == 0;
    jpeg_destroy_compress(&c);
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Decoding real data                                                                         */
/* ------------------------------------------------------------------------------------------ */

static void test_jpeg_couple(void) {
    char path[512];
    ev_test_path(path, sizeof path, "data/images/test_couple.jpg");
    EV_REQUIRE_FILE(path);
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(path, &img));
    if (!img) return;
    CHECK_EQ_INT(ev_image_width(img), 1920);
    CHECK_EQ_INT(ev_image_height(img), 1278);
    CHECK_EQ_INT(byte_sum(ev_image_pixels(img), (size_t)1920 * 1278 * 3), 1526317223LL);
    ev_image_free(img);
}

static void test_nearest_golden(void) {
    char path[512], gpath[512];
    ev_test_path(path, sizeof path, "data/images/test_couple.jpg");
    ev_test_path(gpath, sizeof gpath, "data/golden/posenet_353_481/input_353_481_rgb_u8.raw");
    EV_REQUIRE_FILE(path);
    EV_REQUIRE_FILE(gpath);
    size_t glen = 0;
    unsigned char *golden = ev_test_read(gpath, &glen);
    CHECK(golden != NULL);
    CHECK_EQ_INT(glen, 509379);
    ev_image *img = NULL, *small = NULL;
    CHECK_OK(ev_image_load(path, &img));
    CHECK_OK(ev_image_resize(img, 481, 353, EV_RESIZE_NEAREST, &small));
    if (small && golden && glen == 509379) {
        const uint8_t *p = ev_image_pixels(small);
        CHECK_EQ_INT(ev_image_width(small), 481);
        CHECK_EQ_INT(ev_image_height(small), 353);
        size_t first_diff = glen;
        for (size_t i = 0; i < glen; i++)
            if (p[i] != golden[i]) {
                first_diff = i;
                break;
            }
        CHECK_MSG(first_diff == glen, "first differing byte at %zu", first_diff);
        CHECK_EQ_INT(byte_sum(p, glen), 105629700LL);
        CHECK_EQ_INT(p[0], 142);
        CHECK_EQ_INT(p[1], 151);
        CHECK_EQ_INT(p[2], 146);
        size_t o = ((size_t)176 * 481 + 240) * 3;
        CHECK_EQ_INT(p[o], 225);
        CHECK_EQ_INT(p[o + 1], 224);
        CHECK_EQ_INT(p[o + 2], 220);
    }
    ev_image_free(small);
    ev_image_free(img);
    free(golden);
}

static void test_bmp_png_real(void) {
    static const struct {
        const char *rel;
        int w, h;
    } cases[] = {
        {"data/images/cat.bmp", 512, 341},
        {"data/images/grace_hopper.bmp", 512, 600},
        {"data/images/squat.bmp", 500, 610},
        {"data/images/image1.png", 384, 640},
        {"data/images/image2.jpeg", 399, 640},
    };
    char path[512];
    ev_test_path(path, sizeof path, cases[0].rel);
    EV_REQUIRE_FILE(path);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ev_test_path(path, sizeof path, cases[c].rel);
        ev_image *img = NULL;
        CHECK_OK(ev_image_load(path, &img));
        if (!img) continue;
        CHECK_EQ_INT(ev_image_width(img), cases[c].w);
        CHECK_EQ_INT(ev_image_height(img), cases[c].h);
        /* Plausible content: not flat, neither all black nor all white. */
        size_t n = (size_t)cases[c].w * (size_t)cases[c].h * 3;
        double mean = (double)byte_sum(ev_image_pixels(img), n) / (double)n;
        CHECK_MSG(mean > 20 && mean < 235, "%s mean %.1f", cases[c].rel, mean);
        ev_image_free(img);
    }

    /* BMP bottom-up rows: the top-left pixel of stb's output is the last row in the file. */
    ev_test_path(path, sizeof path, "data/images/squat.bmp");
    size_t len = 0;
    unsigned char *raw = ev_test_read(path, &len);
    ev_image *img = NULL;
    CHECK_OK(ev_image_load(path, &img));
    if (raw && img && len == 915054) { /* 24-bit, offset 54, rows of 1500 bytes, bottom-up */
        const uint8_t *p = ev_image_pixels(img);
        const unsigned char *last_row = raw + 54 + (size_t)609 * 1500;
        CHECK_EQ_INT(p[0], last_row[2]); /* BGR in the file */
        CHECK_EQ_INT(p[1], last_row[1]);
        CHECK_EQ_INT(p[2], last_row[0]);
        const unsigned char *first_row = raw + 54;
        size_t o = (size_t)609 * 500 * 3 + 3 * 7;
        CHECK_EQ_INT(p[o], first_row[3 * 7 + 2]);
        CHECK_EQ_INT(p[o + 1], first_row[3 * 7 + 1]);
        CHECK_EQ_INT(p[o + 2], first_row[3 * 7]);
    }
    ev_image_free(img);
    free(raw);
}

static void test_save_roundtrip(void) {
    char path[512];
    ev_test_path(path, sizeof path, "data/images/image1.png");
    EV_REQUIRE_FILE(path);
    ev_image *img = NULL, *back = NULL, *jb = NULL;
    CHECK_OK(ev_image_load(path, &img));
    if (!img) return;
    const char *out = tmp_path("roundtrip.png");
    CHECK_OK(ev_image_save(img, out));
    char tmpname[400];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", out);
    CHECK(!ev_test_exists(tmpname));
    CHECK_OK(ev_image_load(out, &back));
    if (back) {
        CHECK_EQ_INT(ev_image_width(back), ev_image_width(img));
        CHECK_EQ_INT(ev_image_height(back), ev_image_height(img));
        CHECK(memcmp(ev_image_pixels(back), ev_image_pixels(img), (size_t)384 * 640 * 3) == 0);
    }
    /* JPEG: lossy at quality 92, so compare the mean absolute error. */
    const char *jout = tmp_path("roundtrip.JPG");
    CHECK_OK(ev_image_save(img, jout));
    CHECK_OK(ev_image_load(jout, &jb));
    if (jb) {
        CHECK_EQ_INT(ev_image_width(jb), 384);
        CHECK_EQ_INT(ev_image_height(jb), 640);
        const uint8_t *a = ev_image_pixels(img), *b = ev_image_pixels(jb);
        size_t n = (size_t)384 * 640 * 3;
        double mae = 0;
        for (size_t i = 0; i < n; i++) mae += abs((int)a[i] - (int)b[i]);
        mae /= (double)n;
        CHECK_MSG(mae < 3.0, "JPEG round trip mean abs error %.3f", mae);
    }
    ev_image_free(jb);
    ev_image_free(back);
    ev_image_free(img);
}

/* ------------------------------------------------------------------------------------------ */
/* Fixture PNGs and JPEGs                                                                     */
/* ------------------------------------------------------------------------------------------ */

static ev_image *load_ok(const char *path) {
    ev_image *img = NULL;
    ev_status st = ev_image_load(path, &img);
    CHECK_MSG(st == EV_OK, "%s: %s: %s", path, ev_status_string(st), ev_last_error());
    return img;
}

static int px_is(const ev_image *img, int x, int y, int r, int g, int b) {
    const uint8_t *p = ev_image_pixels(img) + ((size_t)y * (size_t)ev_image_width(img) + x) * 3;
    if (p[0] == r && p[1] == g && p[2] == b) return 1;
    fprintf(stderr, "  pixel (%d,%d) = [%d,%d,%d], want [%d,%d,%d]\n", x, y, p[0], p[1], p[2], r,
            g, b);
    return 0;
}

static void test_png_variants(void) {
    /* 8-bit gray 4x3: value = 20*y + x. */
    uint8_t gray[12];
    for (int i = 0; i < 12; i++) gray[i] = (uint8_t)(20 * (i / 4) + i % 4);
    const char *p = tmp_path("gray.png");
    CHECK(write_png_raw(p, 4, 3, 8, PNG_COLOR_TYPE_GRAY, gray, 4, NULL, 0, NULL, 0, 0));
    ev_image *img = load_ok(p);
    if (img) {
        CHECK_EQ_INT(ev_image_width(img), 4);
        CHECK_EQ_INT(ev_image_height(img), 3);
        CHECK(px_is(img, 0, 0, 0, 0, 0));
        CHECK(px_is(img, 3, 2, 43, 43, 43));
        CHECK(px_is(img, 1, 1, 21, 21, 21));
        ev_image_free(img);
    }

    /* 1-bit gray 8x1: 0b10110000 -> 255 0 255 255 0 0 0 0. */
    uint8_t bits[1] = {0xB0};
    p = tmp_path("gray1.png");
    CHECK(write_png_raw(p, 8, 1, 1, PNG_COLOR_TYPE_GRAY, bits, 1, NULL, 0, NULL, 0, 0));
    img = load_ok(p);
    if (img) {
        CHECK(px_is(img, 0, 0, 255, 255, 255));
        CHECK(px_is(img, 1, 0, 0, 0, 0));
        CHECK(px_is(img, 3, 0, 255, 255, 255));
        CHECK(px_is(img, 7, 0, 0, 0, 0));
        ev_image_free(img);
    }

    /* Palette (4-bit indices) with a tRNS entry: colours come from the palette, alpha dropped. */
    png_color pal[3] = {{10, 20, 30}, {200, 100, 50}, {1, 2, 3}};
    uint8_t trns[3] = {255, 0, 128};
    uint8_t idx[2 * 2] = {0x01, 0x20, 0x12, 0x00}; /* rows of 3 px, 4 bits each: 0 1 2 | 1 2 0 */
    p = tmp_path("palette.png");
    CHECK(write_png_raw(p, 3, 2, 4, PNG_COLOR_TYPE_PALETTE, idx, 2, pal, 3, trns, 3, 0));
    img = load_ok(p);
    if (img) {
        CHECK(px_is(img, 0, 0, 10, 20, 30));
        CHECK(px_is(img, 1, 0, 200, 100, 50)); /* fully transparent entry: colour kept */
        CHECK(px_is(img, 2, 0, 1, 2, 3));
        CHECK(px_is(img, 0, 1, 200, 100, 50));
        CHECK(px_is(img, 2, 1, 10, 20, 30));
        ev_image_free(img);
    }

    /* RGBA: alpha dropped without compositing (a fully transparent pixel keeps its colour). */
    uint8_t rgba[2 * 4] = {250, 5, 60, 0, 7, 8, 9, 128};
    p = tmp_path("rgba.png");
    CHECK(write_png_raw(p, 2, 1, 8, PNG_COLOR_TYPE_RGB_ALPHA, rgba, 8, NULL, 0, NULL, 0, 0));
    img = load_ok(p);
    if (img) {
        CHECK(px_is(img, 0, 0, 250, 5, 60));
        CHECK(px_is(img, 1, 0, 7, 8, 9));
        ev_image_free(img);
    }

    /* Gray + alpha. */
    uint8_t ga[4] = {77, 0, 200, 255};
    p = tmp_path("graya.png");
    CHECK(write_png_raw(p, 2, 1, 8, PNG_COLOR_TYPE_GRAY_ALPHA, ga, 4, NULL, 0, NULL, 0, 0));
    img = load_ok(p);
    if (img) {
        CHECK(px_is(img, 0, 0, 77, 77, 77));
        CHECK(px_is(img, 1, 0, 200, 200, 200));
        ev_image_free(img);
    }

    /* 16-bit RGB, big-endian samples: the high byte is kept (0x12ff -> 0x12). */
    uint8_t rgb16[2 * 6] = {0x12, 0xff, 0x34, 0x00, 0xab, 0x80, 0xff, 0xff, 0x00, 0x01, 0x7f, 0xfe};
    p = tmp_path("rgb16.png");
    CHECK(write_png_raw(p, 2, 1, 16, PNG_COLOR_TYPE_RGB, rgb16, 12, NULL, 0, NULL, 0, 0));
    img = load_ok(p);
    if (img) {
        CHECK(px_is(img, 0, 0, 0x12, 0x34, 0xab));
        CHECK(px_is(img, 1, 0, 0xff, 0x00, 0x7f));
        ev_image_free(img);
    }

    /* Interlaced RGB 9x9, value pattern per pixel. */
    uint8_t il[9 * 9 * 3];
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 9; x++) {
            il[(y * 9 + x) * 3] = (uint8_t)(x * 25);
            il[(y * 9 + x) * 3 + 1] = (uint8_t)(y * 25);
            il[(y * 9 + x) * 3 + 2] = (uint8_t)(x + y);
        }
    p = tmp_path("interlaced.png");
    CHECK(write_png_raw(p, 9, 9, 8, PNG_COLOR_TYPE_RGB, il, 27, NULL, 0, NULL, 0, 1));
    img = load_ok(p);
    if (img) {
        CHECK(memcmp(ev_image_pixels(img), il, sizeof il) == 0);
        ev_image_free(img);
    }
}

static void test_jpeg_variants(void) {
    /* Grayscale: two flat 8x8-aligned halves, decoded to replicated RGB. */
    uint8_t g[16 * 16];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) g[y * 16 + x] = x < 8 ? 60 : 180;
    const char *p = tmp_path("gray.jpg");
    CHECK(write_jpeg_raw(p, 16, 16, 1, g));
    ev_image *img = load_ok(p);
    if (img) {
        CHECK_EQ_INT(ev_image_width(img), 16);
        CHECK_EQ_INT(ev_image_height(img), 16);
        const uint8_t *q = ev_image_pixels(img);
        int maxerr = 0, replicated = 1;
        for (int i = 0; i < 256; i++) {
            int want = (i % 16) < 8 ? 60 : 180;
            int e = abs((int)q[3 * i] - want);
            if (e > maxerr) maxerr = e;
            if (q[3 * i] != q[3 * i + 1] || q[3 * i] != q[3 * i + 2]) replicated = 0;
        }
        CHECK_MSG(maxerr <= 3, "gray JPEG max error %d", maxerr);
        CHECK(replicated);
        ev_image_free(img);
    }

    /* CMYK, stored Adobe-inverted: (c',m',y',k') = (255, 0, 128, 200) means C=0, M=255,
     * Y=127, K=55; Pillow: nk = 200, R = 200 - 0 = 200, G = 200 - 200 = 0,
     * B = 200 - round(127*200/255) = 100. */
    uint8_t cmyk[16 * 16 * 4];
    for (int i = 0; i < 256; i++) {
        cmyk[4 * i] = 255;
        cmyk[4 * i + 1] = 0;
        cmyk[4 * i + 2] = 128;
        cmyk[4 * i + 3] = 200;
    }
    p = tmp_path("cmyk.jpg");
    CHECK(write_jpeg_raw(p, 16, 16, 4, cmyk));
    img = load_ok(p);
    if (img) {
        const uint8_t *q = ev_image_pixels(img);
        int maxerr = 0;
        for (int i = 0; i < 256; i++) {
            int e0 = abs(q[3 * i] - 200), e1 = abs(q[3 * i + 1] - 0), e2 = abs(q[3 * i + 2] - 100);
            int e = e0 > e1 ? e0 : e1;
            if (e2 > e) e = e2;
            if (e > maxerr) maxerr = e;
        }
        CHECK_MSG(maxerr <= 3, "CMYK JPEG max error %d (pixel 0 = %d,%d,%d)", maxerr, q[0], q[1],
                  q[2]);
        ev_image_free(img);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Resizing                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Pillow ImagingScaleAffine, written out independently. */
static int ref_nearest(int in, int out, int i) {
    double step = (double)in / (double)out, acc = step / 2.0;
    for (int k = 0; k < i; k++) acc = acc + step;
    return (int)acc;
}

static void test_nearest_indices(void) {
    /* Images whose pixels encode their own coordinates (x, y < 4096). */
    static const int sizes[][4] = {
        /* in_w, in_h, out_w, out_h */
        {1920, 1278, 481, 353}, {640, 480, 257, 193}, {7, 5, 20, 13},
        {100, 3, 33, 7},        {1, 1, 5, 4},         {5, 9, 1, 1},
        {4000, 11, 3, 11},
    };
    int closed_form_differs = 0;
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        int iw = sizes[c][0], ih = sizes[c][1], ow = sizes[c][2], oh = sizes[c][3];
        uint8_t *buf = malloc((size_t)iw * ih * 3);
        for (int y = 0; y < ih; y++)
            for (int x = 0; x < iw; x++) {
                uint8_t *q = buf + ((size_t)y * iw + x) * 3;
                q[0] = (uint8_t)(x & 255);
                q[1] = (uint8_t)(y & 255);
                q[2] = (uint8_t)((x >> 8) | ((y >> 8) << 4));
            }
        ev_image *src = NULL, *dst = NULL;
        CHECK_OK(ev_image_create(iw, ih, buf, &src));
        CHECK_OK(ev_image_resize(src, ow, oh, EV_RESIZE_NEAREST, &dst));
        if (dst) {
            const uint8_t *d = ev_image_pixels(dst);
            int bad = 0;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    const uint8_t *q = d + ((size_t)y * ow + x) * 3;
                    int sx = q[0] | ((q[2] & 15) << 8), sy = q[1] | ((q[2] >> 4) << 8);
                    if (sx != ref_nearest(iw, ow, x) || sy != ref_nearest(ih, oh, y)) bad++;
                }
            CHECK_MSG(bad == 0, "%dx%d -> %dx%d: %d pixels from the wrong source", iw, ih, ow, oh,
                      bad);
        }
        for (int i = 0; i < ow; i++)
            if ((int)floor((i + 0.5) * ((double)iw / ow)) != ref_nearest(iw, ow, i))
                closed_form_differs++;
        for (int i = 0; i < oh; i++)
            if ((int)floor((i + 0.5) * ((double)ih / oh)) != ref_nearest(ih, oh, i))
                closed_form_differs++;
        ev_image_free(dst);
        ev_image_free(src);
        free(buf);
    }
    /* 1278 -> 353 and 640 -> 257 each have one row where the closed form is off by one. */
    CHECK_MSG(closed_form_differs >= 2, "closed form differs at %d indices",
              closed_form_differs);
    /* Identity size is a copy. */
    uint8_t px[2 * 2 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    ev_image *a = NULL, *b = NULL;
    CHECK_OK(ev_image_create(2, 2, px, &a));
    CHECK_OK(ev_image_resize(a, 2, 2, EV_RESIZE_NEAREST, &b));
    if (b) CHECK(memcmp(ev_image_pixels(b), px, sizeof px) == 0);
    ev_image_free(b);
    ev_image_free(a);
}

static void test_bilinear(void) {
    /* 2x1 [0, 255] -> 4x1: source x = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1):
     * 0, 63.75 -> 63, 191.25 -> 191, 255 (truncation, not rounding). */
    uint8_t two[6] = {0, 0, 0, 255, 255, 255};
    ev_image *a = NULL, *b = NULL;
    CHECK_OK(ev_image_create(2, 1, two, &a));
    CHECK_OK(ev_image_resize(a, 4, 1, EV_RESIZE_BILINEAR, &b));
    if (b) {
        const uint8_t *p = ev_image_pixels(b);
        CHECK_EQ_INT(p[0], 0);
        CHECK_EQ_INT(p[3], 63);
        CHECK_EQ_INT(p[6], 191);
        CHECK_EQ_INT(p[9], 255);
        CHECK_EQ_INT(p[4], 63);
    }
    ev_image_free(b);
    ev_image_free(a);

    /* 4x4 -> 2x2 samples at 0.5 and 2.5: averages of neighbours (no antialias). Values
     * v(x,y) = 10x + 40y: at (0.5,0.5) 25, (2.5,0.5) 45, (0.5,2.5) 105, (2.5,2.5) 125. */
    uint8_t g[4 * 4 * 3];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            for (int c = 0; c < 3; c++) g[(y * 4 + x) * 3 + c] = (uint8_t)(10 * x + 40 * y + c);
    CHECK_OK(ev_image_create(4, 4, g, &a));
    CHECK_OK(ev_image_resize(a, 2, 2, EV_RESIZE_BILINEAR, &b));
    if (b) {
        const uint8_t *p = ev_image_pixels(b);
        CHECK_EQ_INT(p[0], 25);
        CHECK_EQ_INT(p[1], 26);
        CHECK_EQ_INT(p[3], 45);
        CHECK_EQ_INT(p[6], 105);
        CHECK_EQ_INT(p[9], 125);
        CHECK_EQ_INT(p[11], 127);
    }
    ev_image_free(b);
    ev_image_free(a);

    /* A flat image stays exactly flat at any scale (no 254.999 -> 254). */
    uint8_t flat[7 * 5 * 3];
    memset(flat, 255, sizeof flat);
    CHECK_OK(ev_image_create(7, 5, flat, &a));
    CHECK_OK(ev_image_resize(a, 23, 3, EV_RESIZE_BILINEAR, &b));
    if (b) {
        const uint8_t *p = ev_image_pixels(b);
        int allw = 1;
        for (int i = 0; i < 23 * 3 * 3; i++) allw &= p[i] == 255;
        CHECK(allw);
    }
    ev_image_free(b);
    ev_image_free(a);
}

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void expect_load_fail(const char *path, ev_status want, const char *what) {
    ev_image *img = (ev_image *)(uintptr_t)1; /* must be reset to NULL */
    ev_clear_error();
    ev_status st = ev_image_load(path, &img);
    CHECK_MSG(st == want, "%s: got %s (%s), want %s", what, ev_status_string(st), ev_last_error(),
              ev_status_string(want));
    CHECK_MSG(img == NULL, "%s: out not NULL on failure", what);
    CHECK_MSG(ev_last_error()[0] != '\0', "%s: empty error message", what);
    CHECK_MSG(strstr(ev_last_error(), path) != NULL, "%s: message does not name the path: %s",
              what, ev_last_error());
    if (st != EV_OK) fprintf(stderr, "  (%s: %s)\n", what, ev_last_error());
    if (st == EV_OK && img != (ev_image *)(uintptr_t)1) ev_image_free(img);
}

static void test_errors_synthetic(void) {
    expect_load_fail(tmp_path("does-not-exist.png"), EV_ERR_IO, "missing file");
    CHECK(strstr(ev_last_error(), "No such file") != NULL);
    expect_load_fail(g_tmpdir, EV_ERR_IO, "directory");

    const char *p = tmp_path("empty.jpg");
    CHECK(write_bytes(p, "", 0));
    expect_load_fail(p, EV_ERR_FORMAT, "empty file");

    uint8_t rnd[4096];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof rnd; i++) {
        s = s * 1103515245u + 12345u;
        rnd[i] = (uint8_t)(s >> 16);
    }
    rnd[0] = 0x42; /* make sure it is not accidentally a known magic */
    rnd[1] = 0x00;
    p = tmp_path("random.jpg");
    CHECK(write_bytes(p, rnd, sizeof rnd));
    expect_load_fail(p, EV_ERR_FORMAT, "random bytes");

    /* JPEG magic followed by garbage. */
    rnd[0] = 0xFF;
    rnd[1] = 0xD8;
    rnd[2] = 0xFF;
    rnd[3] = 0x01;
    p = tmp_path("garbage_after_soi.bin");
    CHECK(write_bytes(p, rnd, sizeof rnd));
    expect_load_fail(p, EV_ERR_FORMAT, "JPEG magic + garbage");

    /* PNG signature only. */
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    p = tmp_path("sig_only.png");
    CHECK(write_bytes(p, sig, 8));
    expect_load_fail(p, EV_ERR_FORMAT, "PNG signature only");

    /* PNG claiming 70000 x 1 pixels (valid CRC): refused before any allocation. */
    uint8_t big[8 + 25];
    memcpy(big, sig, 8);
    uint8_t ihdr[17] = {'I', 'H', 'D', 'R', 0, 1, 0x11, 0x70, 0, 0, 0, 1, 8, 2, 0, 0, 0};
    big[8] = 0, big[9] = 0, big[10] = 0, big[11] = 13;
    memcpy(big + 12, ihdr, 17);
    uint32_t crc = png_crc(ihdr, 17);
    big[29] = (uint8_t)(crc >> 24), big[30] = (uint8_t)(crc >> 16), big[31] = (uint8_t)(crc >> 8),
    big[32] = (uint8_t)crc;
    p = tmp_path("huge.png");
    CHECK(write_bytes(p, big, sizeof big));
    expect_load_fail(p, EV_ERR_FORMAT, "PNG 70000 wide");
    CHECK(strstr(ev_last_error(), "exceeds") != NULL);

    /* BMP header claiming 100000 x 100000. */
    uint8_t bmp[54] = {'B', 'M'};
    bmp[10] = 54;
    bmp[14] = 40;
    uint32_t dim = 100000;
    memcpy(bmp + 18, &dim, 4); /* little-endian host assumed (x86/ARM) */
    memcpy(bmp + 22, &dim, 4);
    bmp[26] = 1;
    bmp[28] = 24;
    p = tmp_path("huge.bmp");
    CHECK(write_bytes(p, bmp, sizeof bmp));
    expect_load_fail(p, EV_ERR_FORMAT, "BMP 100000 x 100000");

    /* A valid small PNG cut in half. */
    uint8_t rgb[32 * 32 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 7 + (i >> 5));
    p = tmp_path("whole.png");
    CHECK(write_png_raw(p, 32, 32, 8, PNG_COLOR_TYPE_RGB, rgb, 96, NULL, 0, NULL, 0, 0));
    size_t len = 0;
    unsigned char *whole = ev_test_read(p, &len);
    CHECK(whole != NULL && len > 100);
    if (whole) {
        const char *t = tmp_path("truncated.png");
        CHECK(write_bytes(t, whole, len / 2));
        expect_load_fail(t, EV_ERR_FORMAT, "truncated PNG");
        /* Missing only the IEND chunk (last 12 bytes) is also a truncation. */
        t = tmp_path("no_iend.png");
        CHECK(write_bytes(t, whole, len - 12));
        expect_load_fail(t, EV_ERR_FORMAT, "PNG without IEND");
        free(whole);
    }

    /* Bad arguments. */
    ev_image *img = NULL;
    CHECK_EQ_INT(ev_image_load(NULL, &img), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_image_create(0, 5, rgb, &img), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_image_create(70000, 1, rgb, &img), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_image_create(2, 2, NULL, &img), EV_ERR_INVALID_ARG);
    CHECK(img == NULL);
    CHECK_OK(ev_image_create(4, 4, rgb, &img));
    ev_image *r = NULL;
    CHECK_EQ_INT(ev_image_resize(img, 0, 4, EV_RESIZE_NEAREST, &r), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_image_resize(img, 4, 4, (ev_resize_mode)7, &r), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_image_resize(NULL, 4, 4, EV_RESIZE_NEAREST, &r), EV_ERR_INVALID_ARG);
    CHECK(r == NULL);
    ev_clear_error();
    CHECK_EQ_INT(ev_image_save(img, tmp_path("out.gif")), EV_ERR_INVALID_ARG);
    CHECK(ev_last_error()[0] != '\0');
    CHECK_EQ_INT(ev_image_save(img, tmp_path("noext")), EV_ERR_INVALID_ARG);
    char nodir[400];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/x.png", g_tmpdir);
    CHECK_EQ_INT(ev_image_save(img, nodir), EV_ERR_IO);
    CHECK(!ev_test_exists(nodir));
    CHECK_EQ_INT(ev_image_width(NULL), 0);
    CHECK(ev_image_pixels(NULL) == NULL);
    ev_image_free(img);
    ev_image_free(NULL);
}

static void test_errors_truncated_jpeg(void) {
    char path[512];
    ev_test_path(path, sizeof path, "data/images/test_couple.jpg");
    EV_REQUIRE_FILE(path);
    size_t len = 0;
    unsigned char *whole = ev_test_read(path, &len);
    CHECK(whole != NULL);
    if (!whole) return;
    const char *t = tmp_path("half.jpg"); /* progressive: the first half holds early scans */
    CHECK(write_bytes(t, whole, len / 2));
    expect_load_fail(t, EV_ERR_FORMAT, "truncated progressive JPEG");
    CHECK(strstr(ev_last_error(), "JPEG") != NULL);
    free(whole);

    /* A baseline JPEG (our own writer) cut in the middle of the scan. */
    ev_test_path(path, sizeof path, "data/images/image2.jpeg");
    whole = ev_test_read(path, &len);
    if (whole) {
        t = tmp_path("half_baseline.jpg");
        CHECK(write_bytes(t, whole, len / 2));
        expect_load_fail(t, EV_ERR_FORMAT, "truncated baseline JPEG");
        free(whole);
    }

    /* Truncated BMP: stb would pad with zeros; we refuse. */
    ev_test_path(path, sizeof path, "data/images/cat.bmp");
    whole = ev_test_read(path, &len);
    if (whole) {
        t = tmp_path("half.bmp");
        CHECK(write_bytes(t, whole, len / 2));
        expect_load_fail(t, EV_ERR_FORMAT, "truncated BMP");
        free(whole);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Drawing                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static ev_pose pose_at(float x0, float y0, float score) {
    ev_pose p;
    memset(&p, 0, sizeof p);
    p.score = score;
    for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
        p.keypoints[k].x = x0 + (float)(k % 4) * 6.0f;
        p.keypoints[k].y = y0 + (float)(k / 4) * 6.0f;
        p.keypoints[k].score = score;
    }
    return p;
}

static size_t count_changed(const ev_image *img, const uint8_t *ref, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ev_image_pixels(img)[i] != ref[i];
    return c;
}

static void test_draw(void) {
    enum { W = 120, H = 80 };
    static uint8_t base[W * H * 3];
    for (size_t i = 0; i < sizeof base; i++) base[i] = (uint8_t)(i % 7);
    ev_image *img = NULL;
    CHECK_OK(ev_image_create(W, H, base, &img));
    if (!img) return;

    /* One visible pose: pixels at and around each keypoint change; far corners do not. */
    ev_pose p = pose_at(30.0f, 20.0f, 0.9f);
    p.keypoints[16].score = 0.1f; /* below min_score: not drawn */
    p.keypoints[16].x = 100.0f;
    p.keypoints[16].y = 70.0f;
    CHECK_OK(ev_pose_draw(img, &p, 1, 0.5f));
    const uint8_t *px = ev_image_pixels(img);
    for (int k = 0; k < 16; k++) {
        int x = (int)p.keypoints[k].x, y = (int)p.keypoints[k].y;
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++) {
                size_t o = ((size_t)(y + dy) * W + (size_t)(x + dx)) * 3;
                CHECK_MSG(memcmp(px + o, base + o, 3) != 0, "keypoint %d (+%d,+%d) not drawn", k,
                          dx, dy);
            }
    }
    size_t o16 = ((size_t)70 * W + 100) * 3;
    CHECK(memcmp(px + o16, base + o16, 3) == 0);
    CHECK(memcmp(px, base, 3) == 0);
    size_t olast = ((size_t)(H - 1) * W + (W - 1)) * 3;
    CHECK(memcmp(px + olast, base + olast, 3) == 0);
    /* A skeleton edge (5-6: (36,26)-(42,26)) covers its midpoint. */
    size_t omid = ((size_t)26 * W + 39) * 3;
    CHECK(memcmp(px + omid, base + omid, 3) != 0);
    size_t changed_one = count_changed(img, base, sizeof base);
    CHECK(changed_one > 17 * 9);

    /* Two poses get different colours. */
    ev_pose two[2] = {pose_at(10.0f, 10.0f, 1.0f), pose_at(80.0f, 40.0f, 1.0f)};
    ev_image *img2 = NULL;
    CHECK_OK(ev_image_create(W, H, base, &img2));
    CHECK_OK(ev_pose_draw(img2, two, 2, 0.5f));
    if (img2) {
        const uint8_t *a = ev_image_pixels(img2) + ((size_t)10 * W + 10) * 3;
        const uint8_t *b = ev_image_pixels(img2) + ((size_t)40 * W + 80) * 3;
        CHECK(memcmp(a, b, 3) != 0);
    }
    ev_image_free(img2);

    /* NaN, infinite and far-away coordinates: nothing changes, nothing crashes. */
    ev_image_free(img);
    img = NULL;
    CHECK_OK(ev_image_create(W, H, base, &img));
    ev_pose bad[4];
    bad[0] = pose_at(NAN, NAN, 1.0f);
    bad[1] = pose_at(-1e6f, -1e6f, 1.0f);
    bad[2] = pose_at(1e9f, 5.0f, 1.0f);
    bad[3] = pose_at(10.0f, 10.0f, NAN); /* NaN scores: never visible */
    bad[1].keypoints[3].x = INFINITY;
    bad[2].keypoints[0].y = -INFINITY;
    CHECK_OK(ev_pose_draw(img, bad, 4, 0.5f));
    CHECK_EQ_INT(count_changed(img, base, sizeof base), 0);

    /* Huge finite coordinates spanning the image: draws (clipped), never out of bounds. */
    ev_pose span = pose_at(0.0f, 0.0f, 1.0f);
    span.keypoints[5].x = -3e38f;
    span.keypoints[5].y = 40.0f;
    span.keypoints[6].x = 3e38f;
    span.keypoints[6].y = 40.0f;
    span.keypoints[0].x = -5.0f; /* keypoints partly off the edges */
    span.keypoints[0].y = -2.0f;
    span.keypoints[1].x = (float)W + 1.0f;
    span.keypoints[1].y = (float)H - 1.0f;
    CHECK_OK(ev_pose_draw(img, &span, 1, 0.5f));
    CHECK(count_changed(img, base, sizeof base) > 0);
    CHECK_OK(ev_pose_draw(img, NULL, 0, 0.5f));
    CHECK_EQ_INT(ev_pose_draw(NULL, &span, 1, 0.5f), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_pose_draw(img, NULL, 1, 0.5f), EV_ERR_INVALID_ARG);
    CHECK_EQ_INT(ev_pose_draw(img, &span, -1, 0.5f), EV_ERR_INVALID_ARG);

    /* 1x1 image: every primitive clips to a single pixel. */
    uint8_t one[3] = {0, 0, 0};
    ev_image *tiny = NULL;
    CHECK_OK(ev_image_create(1, 1, one, &tiny));
    ev_pose at0 = pose_at(0.0f, 0.0f, 1.0f);
    CHECK_OK(ev_pose_draw(tiny, &at0, 1, 0.0f));
    if (tiny) CHECK(ev_image_pixels(tiny)[0] != 0 || ev_image_pixels(tiny)[1] != 0);
    ev_image_free(tiny);
    ev_image_free(img);
}

int main(void) {
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s", "/tmp/ev_test_image_XXXXXX");
    if (!mkdtemp(g_tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    EV_RUN(test_jpeg_couple);
    EV_RUN(test_nearest_golden);
    EV_RUN(test_nearest_indices);
    EV_RUN(test_bilinear);
    EV_RUN(test_bmp_png_real);
    EV_RUN(test_save_roundtrip);
    EV_RUN(test_png_variants);
    EV_RUN(test_jpeg_variants);
    EV_RUN(test_errors_synthetic);
    EV_RUN(test_errors_truncated_jpeg);
    EV_RUN(test_draw);
    tmp_cleanup();
    return ev_test_finish();
}
