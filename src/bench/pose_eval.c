/*
 * pose_eval.c - ev_pose_eval_coco (see pose_eval.h): model -> poses in image pixels -> COCO
 * evaluation (coco_eval.c), optionally the predictions as COCO results JSON
 * ([{"image_id", "category_id": 1, "keypoints": [x, y, v]*17, "score"}], v = keypoint score),
 * so that they can be checked with pycocotools.
 */
#include "bench/pose_eval.h"

#include "core/status.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ev_status add_json(cJSON *arr, int64_t image_id, const ev_pose *p) {
    cJSON *o = cJSON_CreateObject(), *kp = NULL;
    if (!o || !cJSON_AddItemToArray(arr, o) ||
        !cJSON_AddNumberToObject(o, "image_id", (double)image_id) ||
        !cJSON_AddNumberToObject(o, "category_id", 1) ||
        !(kp = cJSON_AddArrayToObject(o, "keypoints")) ||
        !cJSON_AddNumberToObject(o, "score", p->score))
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
        const ev_keypoint *q = &p->keypoints[k];
        if (!cJSON_AddItemToArray(kp, cJSON_CreateNumber(q->x)) ||
            !cJSON_AddItemToArray(kp, cJSON_CreateNumber(q->y)) ||
            !cJSON_AddItemToArray(kp, cJSON_CreateNumber(q->score)))
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    return EV_OK;
}

ev_status ev_pose_eval_coco(ev_posenet *net, const char *annotations, const char *images_dir,
                            ev_coco_stats *stats, char **predictions,
                            ev_pose_eval_progress progress, void *user) {
    if (!net || !annotations || !images_dir || !stats)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_pose_eval_coco: NULL argument");
    if (predictions) *predictions = NULL;
    ev_coco_eval *ev = NULL;
    EV_TRY(ev_coco_eval_load(annotations, &ev));
    cJSON *arr = predictions ? cJSON_CreateArray() : NULL;
    ev_status st = EV_OK;
    if (predictions && !arr) st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    int in_w, in_h, n = ev_coco_eval_num_images(ev);
    ev_posenet_input_size(net, &in_w, &in_h);
    for (int i = 0; i < n && st == EV_OK; i++) {
        int64_t id;
        const char *file;
        char path[4096];
        ev_image *img = NULL;
        ev_pose poses[EV_MAX_POSES];
        int np = 0;
        ev_coco_eval_image(ev, i, &id, &file, NULL, NULL);
        snprintf(path, sizeof path, "%s/%s", images_dir, file);
        st = ev_image_load(path, &img);
        if (st == EV_OK) st = ev_posenet_run(net, img, poses, EV_MAX_POSES, &np);
        if (st != EV_OK) {
            ev_error_prefix("image %lld (%s)", (long long)id, path);
            ev_image_free(img);
            break;
        }
        ev_poses_rescale(poses, np, in_w, in_h, ev_image_width(img), ev_image_height(img));
        ev_image_free(img);
        st = ev_coco_eval_add(ev, id, poses, np);
        for (int p = 0; p < np && st == EV_OK && arr; p++) st = add_json(arr, id, &poses[p]);
        if (progress) progress(user, i + 1, n, file);
    }
    if (st == EV_OK) st = ev_coco_eval_compute(ev, stats);
    if (st == EV_OK && arr) {
        *predictions = cJSON_Print(arr);
        if (!*predictions) st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    cJSON_Delete(arr);
    ev_coco_eval_free(ev);
    return st;
}
