/*
 * image.h - private definition of ev_image (8-bit RGB, row-major HWC, no padding) and the helpers
 * the media layer shares between image_core.c (construction, core library), image.c (codecs,
 * media component), resize.c and draw.c.
 *
 * Extend: keep the layout fixed (other modules index pixels[(y * width + x) * 3 + c] directly);
 * add new shared helpers here with an ev_image_ prefix and define them in image_core.c
 * (image.c when they need a codec).
 */
#ifndef EV_MEDIA_IMAGE_H
#define EV_MEDIA_IMAGE_H

#include "edgevision.h"

#include <stddef.h>
#include <stdint.h>

/* Largest width or height any loader or constructor accepts. */
#define EV_IMAGE_MAX_DIM 65535
/* Default limit on width * height (about 134 megapixels); $EV_IMAGE_MAX_PIXELS overrides. */
#define EV_IMAGE_MAX_PIXELS (1ull << 27)

/* The pixel cap in force: $EV_IMAGE_MAX_PIXELS, else EV_IMAGE_MAX_PIXELS. Images and video frames
 * that declare more are refused before anything is allocated for them. */
uint64_t ev_image_max_pixels(void);

/* 1 when width x height is a valid image size: each in [1, EV_IMAGE_MAX_DIM], and the pixel
 * count within ev_image_max_pixels(). */
int ev_image_dims_ok(int width, int height);

struct ev_image {
    int width, height;
    uint8_t *pixels; /* RGB HWC, width * height * 3 bytes */
};

/* Allocates a zero-filled width x height image. Fails with EV_ERR_INVALID_ARG on dimensions
 * outside [1, EV_IMAGE_MAX_DIM] and EV_ERR_NO_MEMORY when allocation fails. */
ev_status ev_image_alloc(int width, int height, ev_image **out);

/* Wraps an already allocated buffer (malloc'd, width*height*3 bytes) without copying; on success
 * the image owns `pixels`, on failure the caller still does. Dimensions must be valid. */
ev_status ev_image_wrap(int width, int height, uint8_t *pixels, ev_image **out);

#endif
