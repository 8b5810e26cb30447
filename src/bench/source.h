/*
 * source.h - where benchmark frames come from: one image, a folder of images, a video file or a
 * camera, behind one "next frame" call (source.c).
 *
 * Images and folders cycle forever (every call decodes the next file again, so "decode" is
 * measured on every run); a video ends at its last frame unless opened with loop = 1 (then it
 * rewinds); a camera never ends.
 *
 * Extend: a new kind is an enum value, a branch in ev_source_open and one in ev_source_next.
 */
#ifndef EV_BENCH_SOURCE_H
#define EV_BENCH_SOURCE_H

#include "edgevision.h"

typedef enum ev_source_kind {
    EV_SOURCE_IMAGE,
    EV_SOURCE_FOLDER,
    EV_SOURCE_VIDEO,
    EV_SOURCE_CAMERA,
} ev_source_kind;

typedef struct ev_source ev_source;

ev_status ev_source_open(const char *path, int loop, ev_source **out);
/* The next frame (a new image the caller frees); *img = NULL when the source has ended. */
ev_status ev_source_next(ev_source *src, ev_image **img);
ev_source_kind ev_source_get_kind(const ev_source *src);
/* "image", "folder", "video", "camera" */
const char *ev_source_kind_name(ev_source_kind kind);
/* Frames per second a video declares (0 for images or when unknown). */
double ev_source_fps(const ev_source *src);
/* Frames delivered so far. */
long ev_source_delivered(const ev_source *src);
void ev_source_free(ev_source *src);

#endif
