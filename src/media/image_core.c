/*
 * image_core.c - ev_image construction and accessors: the part of the image type that needs no
 * codec, so it belongs to the core library (pose and classify take images; resize.c and draw.c
 * work on them). Codecs (libjpeg, libpng, stb) are in image.c, in the media component.
 *
 * Extend: a helper that needs only libc goes here (declared in image.h); anything that links a
 * codec or FFmpeg goes in image.c or video*.c.
 */
#include "media/image.h"

#include "core/status.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Construction and accessors                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Most pixels an image may have: $EV_IMAGE_MAX_PIXELS, default EV_IMAGE_MAX_PIXELS. A few bytes
 * of a compressed file can declare gigapixels (a decompression bomb): refuse before allocating. */
uint64_t ev_image_max_pixels(void) {
    const char *s = getenv("EV_IMAGE_MAX_PIXELS");
    long long v = s && *s ? atoll(s) : 0;
    return v > 0 ? (uint64_t)v : (uint64_t)EV_IMAGE_MAX_PIXELS;
}

int ev_image_dims_ok(int width, int height) {
    return width >= 1 && height >= 1 && width <= EV_IMAGE_MAX_DIM && height <= EV_IMAGE_MAX_DIM &&
           (uint64_t)width * (uint64_t)height <= ev_image_max_pixels();
}

ev_status ev_image_wrap(int width, int height, uint8_t *pixels, ev_image **out) {
    if (!out || !pixels) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_wrap: NULL argument");
    if (!ev_image_dims_ok(width, height))
        return EV_FAIL(EV_ERR_INVALID_ARG, "image size %dx%d out of range [1, %d]", width,
                       height, EV_IMAGE_MAX_DIM);
    ev_image *img = malloc(sizeof *img);
    if (!img) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory allocating an image header");
    img->width = width;
    img->height = height;
    img->pixels = pixels;
    *out = img;
    return EV_OK;
}

ev_status ev_image_alloc(int width, int height, ev_image **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_alloc: out is NULL");
    *out = NULL;
    if (!ev_image_dims_ok(width, height))
        return EV_FAIL(EV_ERR_INVALID_ARG, "image size %dx%d out of range [1, %d]", width,
                       height, EV_IMAGE_MAX_DIM);
    size_t n = (size_t)width * (size_t)height * 3;
    uint8_t *px = calloc(n, 1);
    if (!px) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory allocating a %dx%d image", width,
                            height);
    ev_status st = ev_image_wrap(width, height, px, out);
    if (st != EV_OK) free(px);
    return st;
}

ev_status ev_image_create(int width, int height, const uint8_t *rgb, ev_image **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_create: out is NULL");
    *out = NULL;
    if (!rgb) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_create: rgb is NULL");
    EV_TRY(ev_image_alloc(width, height, out));
    memcpy((*out)->pixels, rgb, (size_t)width * (size_t)height * 3);
    return EV_OK;
}

void ev_image_free(ev_image *img) {
    if (!img) return;
    free(img->pixels);
    free(img);
}

int ev_image_width(const ev_image *img) { return img ? img->width : 0; }
int ev_image_height(const ev_image *img) { return img ? img->height : 0; }
const uint8_t *ev_image_pixels(const ev_image *img) { return img ? img->pixels : NULL; }
uint8_t *ev_image_pixels_mut(ev_image *img) { return img ? img->pixels : NULL; }
