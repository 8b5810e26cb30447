/*
 * draw.h - drawing primitives on ev_image (draw.c): solid thick lines and filled discs, clipped
 * to the image, never allocating. Part of the core library (no codec needed); overlays such as
 * pose skeletons (src/pose/draw.c) are built on them.
 *
 * Extend: a new primitive takes (img, geometry in pixel-centre coordinates, rgb) and is declared
 * here.
 */
#ifndef EV_MEDIA_DRAW_H
#define EV_MEDIA_DRAW_H

#include "media/image.h"

/* Colours every pixel whose centre lies within thickness / 2 of the segment a-b (a capsule).
 * Non-finite coordinates or a thickness <= 0 draw nothing. */
void ev_draw_line(ev_image *img, double ax, double ay, double bx, double by, double thickness,
                  const uint8_t rgb[3]);
/* Colours every pixel whose centre lies within `radius` of (x, y). */
void ev_draw_disc(ev_image *img, double x, double y, double radius, const uint8_t rgb[3]);

#endif
