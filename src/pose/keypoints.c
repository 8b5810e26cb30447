/*
 * keypoints.c - the 17 COCO keypoints (PoseNet order), the skeleton drawn over them, and moving
 * keypoints between the model input and the image (ev_poses_rescale, the one place that does).
 * Extend: other per-keypoint geometry (flips, crops) goes here too.
 */
#include "edgevision.h"

static const char *const k_labels[EV_NUM_KEYPOINTS] = {
    "NOSE",           "LEFT_EYE",    "RIGHT_EYE",  "LEFT_EAR",    "RIGHT_EAR",   "LEFT_SHOULDER",
    "RIGHT_SHOULDER", "LEFT_ELBOW",  "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_HIP",
    "RIGHT_HIP",      "LEFT_KNEE",   "RIGHT_KNEE", "LEFT_ANKLE",  "RIGHT_ANKLE",
};

const char *ev_keypoint_label(int k) {
    return k >= 0 && k < EV_NUM_KEYPOINTS ? k_labels[k] : 0;
}

/* Coral pose_camera.py EDGES: tfjs' 12 connected pairs plus the 7 face edges. */
static const int k_edges[][2] = {
    {11, 5},  {7, 5},  {7, 9},  {11, 13}, {13, 15}, {12, 6}, {8, 6}, {8, 10}, {12, 14}, {14, 16},
    {5, 6},   {11, 12}, {0, 1},  {0, 2},   {0, 3},   {0, 4},  {3, 1}, {4, 2},  {1, 2},
};

int ev_skeleton_edges(const int (**pairs)[2]) {
    if (pairs) *pairs = k_edges;
    return (int)(sizeof k_edges / sizeof k_edges[0]);
}

void ev_poses_rescale(ev_pose *poses, int num_poses, int from_w, int from_h, int to_w, int to_h) {
    if (!poses || from_w <= 0 || from_h <= 0) return;
    float sx = (float)to_w / (float)from_w, sy = (float)to_h / (float)from_h;
    for (int p = 0; p < num_poses; p++)
        for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
            poses[p].keypoints[k].x *= sx;
            poses[p].keypoints[k].y *= sy;
        }
}
