/*
 * draw.c - ev_pose_draw: skeleton edges (ev_skeleton_edges) as thick lines and keypoints as
 * filled discs, one palette colour per pose, through media's drawing primitives (media/draw.h).
 *
 * Sizes: a line of thickness t = max(2, width / 400), a keypoint disc of radius
 * r = max(3, width / 200). An edge is drawn only when both endpoints have score >= min_score, a
 * keypoint when its own score does; non-finite coordinates or scores are skipped.
 *
 * Extend: another overlay (boxes, labels) is another function here over the primitives; a new
 * primitive belongs in src/media/draw.c.
 */
#include "media/draw.h"

#include "core/status.h"

#include <math.h>

static const uint8_t k_palette[][3] = {
    {255, 64, 64},  {64, 200, 255}, {64, 255, 64},  {255, 200, 0},  {255, 64, 255},
    {0, 255, 200},  {255, 128, 0},  {160, 96, 255}, {200, 255, 96}, {255, 255, 255},
};
#define K_PALETTE_N ((int)(sizeof k_palette / sizeof k_palette[0]))

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
            ev_draw_line(img, a->x, a->y, b->x, b->y, thick, rgb);
        }
        for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
            const ev_keypoint *kp = &pose->keypoints[k];
            if (!visible(kp, min_score)) continue;
            ev_draw_disc(img, kp->x, kp->y, radius, rgb);
        }
    }
    return EV_OK;
}
