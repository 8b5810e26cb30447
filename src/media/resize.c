/*
 * resize.c - ev_image_resize: NEAREST (Pillow-identical) and BILINEAR (half-pixel, truncating).
 *
 * EV_RESIZE_NEAREST reproduces Pillow 9.4 Image.resize(size, NEAREST), which goes through
 * ImagingScaleAffine: per axis, with s = (double)in / out, a double accumulator starts at s * 0.5
 * and source index i is (int)v before v += s. The accumulation order matters: the closed form
 * floor((i + 0.5) * s) differs by one on some rows (see tests/test_image.c). Indices are clamped
 * to [0, in-1] as a guard (Pillow would fill with zeros; it cannot happen for in, out >= 1).
 *
 * EV_RESIZE_BILINEAR: source coordinate (i + 0.5) * in / out - 0.5 in double, clamped to
 * [0, in-1]; i0 = floor, i1 = min(i0 + 1, in - 1), w = coordinate - i0. Per channel
 *   top = p00 + wx * (p01 - p00), bottom = p10 + wx * (p11 - p10), v = top + wy * (bottom - top)
 * and v is truncated toward zero to uint8 (not rounded). No antialiasing when downscaling. The
 * lerp form keeps flat regions exact (a constant image stays constant).
 *
 * Extend: add a mode to ev_resize_mode in edgevision.h, a case in ev_image_resize and a function
 * here with the same (src, dst) contract; document its exact arithmetic.
 */
#include "media/image.h"

#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pillow ImagingScaleAffine source indices for one axis. */
static void nearest_indices(int in, int out, int *idx) {
    double s = (double)in / (double)out;
    double v = s * 0.5;
    for (int i = 0; i < out; i++) {
        int k = v < 0.0 ? -1 : (int)v;
        idx[i] = k < 0 ? 0 : k >= in ? in - 1 : k;
        v += s;
    }
}

static void resize_nearest(const ev_image *src, ev_image *dst, int *xi, int *yi) {
    nearest_indices(src->width, dst->width, xi);
    nearest_indices(src->height, dst->height, yi);
    for (int y = 0; y < dst->height; y++) {
        const uint8_t *srow = src->pixels + (size_t)yi[y] * (size_t)src->width * 3;
        uint8_t *drow = dst->pixels + (size_t)y * (size_t)dst->width * 3;
        for (int x = 0; x < dst->width; x++) {
            const uint8_t *p = srow + (size_t)xi[x] * 3;
            drow[3 * x] = p[0];
            drow[3 * x + 1] = p[1];
            drow[3 * x + 2] = p[2];
        }
    }
}

/* Half-pixel-centre taps for one axis. */
static void bilinear_taps(int in, int out, int *i0, int *i1, double *w) {
    double s = (double)in / (double)out;
    for (int i = 0; i < out; i++) {
        double c = ((double)i + 0.5) * s - 0.5;
        if (c < 0.0) c = 0.0;
        if (c > (double)(in - 1)) c = (double)(in - 1);
        int k = (int)floor(c);
        if (k > in - 1) k = in - 1;
        i0[i] = k;
        i1[i] = k + 1 < in ? k + 1 : in - 1;
        w[i] = c - (double)k;
    }
}

static void resize_bilinear(const ev_image *src, ev_image *dst, int *x0, int *x1, double *wx,
                            int *y0, int *y1, double *wy) {
    bilinear_taps(src->width, dst->width, x0, x1, wx);
    bilinear_taps(src->height, dst->height, y0, y1, wy);
    size_t sstride = (size_t)src->width * 3;
    for (int y = 0; y < dst->height; y++) {
        const uint8_t *r0 = src->pixels + (size_t)y0[y] * sstride;
        const uint8_t *r1 = src->pixels + (size_t)y1[y] * sstride;
        uint8_t *drow = dst->pixels + (size_t)y * (size_t)dst->width * 3;
        double fy = wy[y];
        for (int x = 0; x < dst->width; x++) {
            size_t a = (size_t)x0[x] * 3, b = (size_t)x1[x] * 3;
            double fx = wx[x];
            for (int c = 0; c < 3; c++) {
                double top = r0[a + c] + fx * ((double)r0[b + c] - r0[a + c]);
                double bot = r1[a + c] + fx * ((double)r1[b + c] - r1[a + c]);
                double v = top + fy * (bot - top);
                if (v < 0.0) v = 0.0;
                if (v > 255.0) v = 255.0;
                drow[3 * x + c] = (uint8_t)v; /* truncation, by specification */
            }
        }
    }
}

ev_status ev_image_resize(const ev_image *src, int width, int height, ev_resize_mode mode,
                          ev_image **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_resize: out is NULL");
    *out = NULL;
    if (!src || !src->pixels) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_resize: src is NULL");
    if (mode != EV_RESIZE_NEAREST && mode != EV_RESIZE_BILINEAR)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_resize: unknown mode %d", (int)mode);
    if (width < 1 || height < 1 || width > EV_IMAGE_MAX_DIM || height > EV_IMAGE_MAX_DIM)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_resize: target size %dx%d out of range "
                       "[1, %d]", width, height, EV_IMAGE_MAX_DIM);
    ev_image *dst;
    EV_TRY(ev_image_alloc(width, height, &dst));
    /* One scratch block for the per-axis tables. */
    size_t ni = 2 * ((size_t)width + (size_t)height);
    size_t nd = (size_t)width + (size_t)height;
    int *ix = malloc(ni * sizeof *ix);
    double *wd = malloc(nd * sizeof *wd);
    if (!ix || !wd) {
        free(ix);
        free(wd);
        ev_image_free(dst);
        return EV_FAIL(EV_ERR_NO_MEMORY, "ev_image_resize: out of memory for %dx%d tables",
                       width, height);
    }
    if (mode == EV_RESIZE_NEAREST) {
        resize_nearest(src, dst, ix, ix + width);
    } else {
        int *x0 = ix, *x1 = ix + width, *y0 = ix + 2 * (size_t)width, *y1 = y0 + height;
        resize_bilinear(src, dst, x0, x1, wd, y0, y1, wd + width);
    }
    free(ix);
    free(wd);
    *out = dst;
    return EV_OK;
}
