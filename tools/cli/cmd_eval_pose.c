/*
 * cmd_eval_pose.c - `edgevision eval-pose --model M --annotations A.json IMAGES_DIR`: COCO
 * keypoint AP/AR of a pose model (PoseNet, or MoveNet SinglePose: one pose per image) on annotated images, computed as pycocotools' COCOeval
 * (src/bench/coco_eval.c). Predictions are the model's poses in image pixels with the pose
 * score as detection score; --predictions writes them in COCO's result format for checking with
 * other tools, --json writes the figures.
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision eval-pose --model M.tflite --annotations A.json [options] IMAGES_DIR\n"
            "\n"
            "COCO keypoint AP/AR (OKS, COCO's per-keypoint sigmas, 10 thresholds .50:.05:.95,\n"
            "areas all/medium/large, 20 detections per image) of a pose model (PoseNet, or MoveNet\n"
            "SinglePose: one pose per image). Predictions:\n"
            "poses in image pixels, detection score = pose score.\n"
            "\n"
            "options:\n"
            "  --model FILE          PoseNet or MoveNet .tflite model (required)\n"
            "  --annotations FILE    COCO person keypoint annotations (required)\n"
            "  --backend NAME        ref (default) or another backend of this build\n"
            "  --threads N           worker threads (default 1)\n"
            "  --json FILE           write the figures as JSON\n"
            "  --predictions FILE    write the predictions in COCO's result format\n");
}

static void progress(void *user, int done, int total, const char *file) {
    if (!*(int *)user) return;
    fprintf(stderr, "\r  %d/%d %-40.40s", done, total, file);
    if (done == total) fprintf(stderr, "\r%60s\r", "");
}

static int write_json(const char *path, const char *model, const char *ann,
                      const ev_coco_stats *s) {
    cJSON *o = cJSON_CreateObject();
    static const char *const names[] = {"ap", "ap50", "ap75", "ap_medium", "ap_large",
                                        "ar", "ar50", "ar75", "ar_medium", "ar_large"};
    const double v[] = {s->ap, s->ap50, s->ap75, s->ap_medium, s->ap_large,
                        s->ar, s->ar50, s->ar75, s->ar_medium, s->ar_large};
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "annotations", ann);
    cJSON_AddStringToObject(o, "metric", "COCO keypoints (pycocotools COCOeval, maxDets 20)");
    for (int i = 0; i < 10; i++) cJSON_AddNumberToObject(o, names[i], v[i]);
    cJSON_AddNumberToObject(o, "images", s->num_images);
    cJSON_AddNumberToObject(o, "ground_truth", s->num_gt);
    cJSON_AddNumberToObject(o, "detections", s->num_dt);
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    if (!txt) return 1;
    ev_status st = ev_file_write_atomic(path, txt, strlen(txt));
    free(txt);
    if (st != EV_OK) {
        cli_error("eval-pose", st, "");
        return 1;
    }
    return 0;
}

int cmd_eval_pose(int argc, char **argv) {
    enum { O_MODEL = 1000, O_ANN, O_BACKEND, O_THREADS, O_JSON, O_PRED, O_HELP };
    static const struct option lo[] = {
        {"model", required_argument, 0, O_MODEL}, {"annotations", required_argument, 0, O_ANN},
        {"backend", required_argument, 0, O_BACKEND},
        {"threads", required_argument, 0, O_THREADS}, {"json", required_argument, 0, O_JSON},
        {"predictions", required_argument, 0, O_PRED}, {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0}};
    const char *model = NULL, *ann = NULL, *json = NULL, *pred = NULL;
    ev_posenet_options po;
    ev_posenet_options_init(&po);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_ANN: ann = optarg; break;
        case O_BACKEND: po.session.backend = optarg; break;
        case O_THREADS:
            if (cli_parse_int("eval-pose", "--threads", optarg, 1, 256, &po.session.threads))
                return 2;
            break;
        case O_JSON: json = optarg; break;
        case O_PRED: pred = optarg; break;
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "edgevision eval-pose: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (!model || !ann || argc - optind != 1) {
        fprintf(stderr, "edgevision eval-pose: error: %s\n",
                !model ? "--model is required" : !ann ? "--annotations is required"
                                                      : "give exactly one IMAGES_DIR");
        usage(stderr);
        return 2;
    }
    const char *dir = argv[optind];
    ev_posenet *net = NULL;
    ev_status st = ev_posenet_create(model, &po, &net);
    if (st != EV_OK) {
        cli_error("eval-pose", st, "loading the model");
        return 1;
    }
    ev_coco_stats s;
    char *predictions = NULL;
    int tty = isatty(2);
    st = ev_pose_eval_coco(net, ann, dir, &s, pred ? &predictions : NULL, progress, &tty);
    ev_posenet_free(net);
    if (st != EV_OK) {
        cli_error("eval-pose", st, "");
        return 1;
    }
    printf("COCO keypoint evaluation: %s\n%d images, %d ground-truth people, %d predictions\n",
           ann, s.num_images, s.num_gt, s.num_dt);
    const char *rows[] = {"Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ]",
                          "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets= 20 ]",
                          "Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets= 20 ]",
                          "Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets= 20 ]",
                          "Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets= 20 ]",
                          "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ]",
                          "Average Recall     (AR) @[ IoU=0.50      | area=   all | maxDets= 20 ]",
                          "Average Recall     (AR) @[ IoU=0.75      | area=   all | maxDets= 20 ]",
                          "Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets= 20 ]",
                          "Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets= 20 ]"};
    const double v[] = {s.ap, s.ap50, s.ap75, s.ap_medium, s.ap_large,
                        s.ar, s.ar50, s.ar75, s.ar_medium, s.ar_large};
    for (int i = 0; i < 10; i++) printf(" %s = %.3f\n", rows[i], v[i]);
    int rc = 0;
    if (json && write_json(json, model, ann, &s)) rc = 1;
    if (pred) {
        st = ev_file_write_atomic(pred, predictions, strlen(predictions));
        if (st != EV_OK) {
            cli_error("eval-pose", st, "");
            rc = 1;
        }
    }
    free(predictions);
    return rc;
}
