/*
 * draw.c - drawing primitives on ev_image (media/draw.h): thick lines and filled discs, solid
 * colour, no antialiasing. Pose skeletons are drawn with these by src/pose/draw.c.
 *
 * Geometry: pixel (px, py) is the point (px, py) (integer coordinates are pixel centres, as in
 * OpenCV/Pillow drawing). A line of thickness t colours every pixel whose centre lies within
 * t / 2 of the segment (a capsule); a disc of radius r every pixel within r of its centre.
 * Non-finite coordinates are skipped; every shape is clipped in double precision before any
 * integer conversion, so negative, huge or NaN coordinates can never write out of bounds.
 *
 * Extend: new primitives take (img, geometry, colour), clip through clip_span() and write only
 * through put_px(); keep them free of any allocation (and of codec libraries: this file is part
 * of the core library).
 */
#include "media/draw.h"

#include <math.h>

static inline void put_px(ev_image *img, int x, int y, const uint8_t *rgb) {
    uint8_t *p = img->pixels + ((size_t)y * (size_t)img->width + (size_t)x) * 3;
    p[0] = rgb[0];
    p[1] = rgb[1];
    p[2] = rgb[2];
}

/* Clips the real interval [lo, hi] to integer pixels [0, n-1]; 0 when empty. */
static int clip_span(double lo, double hi, int n, int *ilo, int *ihi) {
    if (!(lo <= hi)) return 0; /* also rejects NaN */
    lo = ceil(lo);
    hi = floor(hi);
    if (hi < 0.0 || lo > (double)(n - 1) || lo > hi) return 0;
    *ilo = lo < 0.0 ? 0 : (int)lo;
    *ihi = hi > (double)(n - 1) ? n - 1 : (int)hi;
    return 1;
}

/* Fills every pixel within r of segment a-b (a disc when a == b). */
static void fill_capsule(ev_image *img, double ax, double ay, double bx, double by, double r,
                         const uint8_t *rgb) {
    if (!isfinite(ax) || !isfinite(ay) || !isfinite(bx) || !isfinite(by) || !(r > 0.0)) return;
    int ylo, yhi;
    if (!clip_span(fmin(ay, by) - r, fmax(ay, by) + r, img->height, &ylo, &yhi)) return;
    double dx = bx - ax, dy = by - ay;
    double len2 = dx * dx + dy * dy;
    double r2 = r * r;
    for (int py = ylo; py <= yhi; py++) {
        /* x extent of the part of the segment within r of this row, widened by r. */
        double t0 = 0.0, t1 = 1.0;
        if (dy != 0.0) {
            double ta = ((double)py - r - ay) / dy, tb = ((double)py + r - ay) / dy;
            if (ta > tb) {
                double s = ta;
                ta = tb;
                tb = s;
            }
            t0 = fmax(t0, ta);
            t1 = fmin(t1, tb);
            if (t0 > t1) continue;
        }
        double xa = ax + t0 * dx, xb = ax + t1 * dx;
        int xlo, xhi;
        if (!clip_span(fmin(xa, xb) - r, fmax(xa, xb) + r, img->width, &xlo, &xhi)) continue;
        for (int px = xlo; px <= xhi; px++) {
            double qx = (double)px - ax, qy = (double)py - ay;
            double t = len2 > 0.0 ? (qx * dx + qy * dy) / len2 : 0.0;
            if (t < 0.0) t = 0.0;
            if (t > 1.0) t = 1.0;
            double ex = qx - t * dx, ey = qy - t * dy;
            if (ex * ex + ey * ey <= r2) put_px(img, px, py, rgb);
        }
    }
}

void ev_draw_line(ev_image *img, double ax, double ay, double bx, double by, double thickness,
                  const uint8_t rgb[3]) {
    if (!img || !img->pixels) return;
    fill_capsule(img, ax, ay, bx, by, thickness * 0.5, rgb);
}

void ev_draw_disc(ev_image *img, double x, double y, double radius, const uint8_t rgb[3]) {
    if (!img || !img->pixels) return;
    fill_capsule(img, x, y, x, y, radius, rgb);
}
