/*
 * draw.c - ev_pose_draw: skeleton edges as thick lines and keypoints as filled discs, one palette
 * colour per pose, no antialiasing.
 *
 * Geometry: pixel (px, py) is the point (px, py) (integer coordinates are pixel centres, as in
 * OpenCV/Pillow drawing). A line of thickness t = max(2, width / 400) colours every pixel whose
 * centre lies within t / 2 of the segment (a capsule); a keypoint colours every pixel within
 * r = max(3, width / 200) of it. An edge is drawn only when both endpoints have score >=
 * min_score, a keypoint when its own score does. Non-finite coordinates or scores are skipped;
 * every shape is clipped in double precision before any integer conversion, so negative, huge
 * or NaN coordinates can never write out of bounds.
 *
 * Extend: new primitives take (img, geometry, colour), clip through clip_span() and write only
 * through put_px(); keep them free of any allocation.
 */
#include "media/image.h"

#include "core/status.h"

#include <math.h>

static const uint8_t k_palette[][3] = {
    {255, 64, 64},  {64, 200, 255}, {64, 255, 64},  {255, 200, 0},  {255, 64, 255},
    {0, 255, 200},  {255, 128, 0},  {160, 96, 255}, {200, 255, 96}, {255, 255, 255},
};
#define K_PALETTE_N ((int)(sizeof k_palette / sizeof k_palette[0]))

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

static int visible(const ev_keypoint *k, float min_score) {
    return isfinite(k->score) && k->score >= min_score && isfinite(k->x) && isfinite(k->y);
}

ev_status ev_pose_draw(ev_image *img, const ev_pose *poses, int num_poses, float min_score) {
    if (!img || !img->pixels) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_pose_draw: image is NULL");
    if (num_poses < 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_pose_draw: num_poses %d < 0", num_poses);
    if (num_poses > 0 && !poses)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_pose_draw: poses is NULL for %d poses",
                       num_poses);
    double thick = img->width / 400 > 2 ? (double)(img->width / 400) : 2.0;
    double radius = img->width / 200 > 3 ? (double)(img->width / 200) : 3.0;
    const int(*edges)[2] = 0;
    int nedges = ev_skeleton_edges(&edges);
    for (int p = 0; p < num_poses; p++) {
        const ev_pose *pose = &poses[p];
        const uint8_t *rgb = k_palette[p % K_PALETTE_N];
        for (int e = 0; e < nedges; e++) {
            int i = edges[e][0], j = edges[e][1];
            if (i < 0 || j < 0 || i >= EV_NUM_KEYPOINTS || j >= EV_NUM_KEYPOINTS) continue;
            const ev_keypoint *a = &pose->keypoints[i], *b = &pose->keypoints[j];
            if (!visible(a, min_score) || !visible(b, min_score)) continue;
            fill_capsule(img, a->x, a->y, b->x, b->y, thick * 0.5, rgb);
        }
        for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
            const ev_keypoint *kp = &pose->keypoints[k];
            if (!visible(kp, min_score)) continue;
            fill_capsule(img, kp->x, kp->y, kp->x, kp->y, radius, rgb);
        }
    }
    return EV_OK;
}
