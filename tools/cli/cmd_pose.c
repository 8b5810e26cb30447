/*
 * cmd_pose.c - `edgevision pose`: PoseNet on images and videos; poses as a table, CSV or JSON;
 * skeletons drawn over the image, or into an annotated video (--draw out.mp4).
 *
 * A video input (by extension: .mp4 .avi .mkv .webm ...; or a camera /dev/videoN) gives one
 * result per frame, named "PATH#N" (N from 0) in the image column; frames decoded before damage
 * in a broken file are kept and the damage is reported.
 *
 * Every input is processed even when one fails (its error goes to stderr and the exit status is
 * 1); results of the others are still written. Output files are written through a temporary
 * file and renamed, so a failure never leaves a half-written result.
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON } out_format;

typedef struct image_result {
    const char *path;
    char *owned; /* frame label "video#N", owned */
    int frame;   /* frame index, -1 for an image */
    int ok;
    int width, height;
    int num;
    ev_pose poses[EV_MAX_POSES];
} image_result;

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision pose --model M.tflite [options] IMAGE...\n"
            "\n"
            "Estimates human poses (17 COCO keypoints per person) with a PoseNet model.\n"
            "\n"
            "options:\n"
            "  --model FILE          PoseNet .tflite model (required)\n"
            "  --backend NAME        auto (default: the fastest backend of this build that runs\n"
            "                        every op here: cuda, else cpu, else ref), cpu, ref, cuda\n"
            "  --threads N           worker threads (default: the machine's online cores)\n"
            "  --format FMT          table (default), csv or json\n"
            "  --output FILE         write results to FILE instead of stdout\n"
            "  --coords SPACE        image (default: original-image pixels) or input (model-input\n"
            "                        pixels)\n"
            "  --draw FILE           draw keypoints and skeletons over the image into FILE (.png or\n"
            "                        .jpg); with several images, FILE is a directory\n"
            "  --decoder NAME        auto (default), multi (Coral multi-person) or single (tfjs\n"
            "                        single-pose)\n"
            "  --decoder-fix         use libcoral's fixed edge>=16 rule instead of the shipped\n"
            "                        decoder's legacy edge>16 (default legacy, matching Coral's\n"
            "                        published references)\n"
            "  --max-poses N         at most N poses per image (default: the model's, 10)\n"
            "  --score-threshold S   minimum pose score (default: the model's, 0.2)\n"
            "  --nms-radius PX       non-maximum suppression radius, raw-head models (default 10)\n"
            "  --min-keypoint-score S  keypoints drawn above this score (default 0.2)\n"
            "  --max-frames N        at most N frames of each video (default: all)\n"
            "  --input-size HxW      input size for free-size models (TensorFlow .pb, e.g.\n"
            "                        353x481: (size - 1) a multiple of the output stride)\n"
            "\n"
            "Videos (.mp4 .avi .mkv .webm ..., cameras /dev/videoN) give one result per frame,\n"
            "named VIDEO#N; --draw out.mp4 writes the video with skeletons drawn.\n"
            "\n"
            "CSV columns: pose_id,pose_score,keypoint_label,keypoint_score,keypoint_x,keypoint_y\n"
            "(with several images, or a video, an 'image' column comes first).\n");
}

static void write_table(FILE *f, const image_result *r, int nres, const char *coords) {
    for (int i = 0; i < nres; i++) {
        if (!r[i].ok) continue;
        fprintf(f, "%s: %dx%d, %d pose%s (coordinates: %s pixels)\n", r[i].path, r[i].width,
                r[i].height, r[i].num, r[i].num == 1 ? "" : "s", coords);
        for (int p = 0; p < r[i].num; p++) {
            fprintf(f, "  pose %d  score %.3f\n", p, (double)r[i].poses[p].score);
            fprintf(f, "    %-15s %6s %9s %9s\n", "keypoint", "score", "x", "y");
            for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
                const ev_keypoint *kp = &r[i].poses[p].keypoints[k];
                fprintf(f, "    %-15s %6.3f %9.2f %9.2f\n", ev_keypoint_label(k),
                        (double)kp->score, (double)kp->x, (double)kp->y);
            }
        }
    }
}

static void write_csv(FILE *f, const image_result *r, int nres, int multi) {
    fprintf(f, "%spose_id,pose_score,keypoint_label,keypoint_score,keypoint_x,keypoint_y\n",
            multi ? "image," : "");
    for (int i = 0; i < nres; i++) {
        if (!r[i].ok) continue;
        for (int p = 0; p < r[i].num; p++)
            for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
                const ev_keypoint *kp = &r[i].poses[p].keypoints[k];
                if (multi) fprintf(f, "%s,", r[i].path);
                fprintf(f, "%d,%.9g,%s,%.9g,%.9g,%.9g\n", p, (double)r[i].poses[p].score,
                        ev_keypoint_label(k), (double)kp->score, (double)kp->x, (double)kp->y);
            }
    }
}

static int write_json(FILE *f, const image_result *r, int nres, const char *model,
                      const char *coords, int in_w, int in_h) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return -1;
    cJSON_AddStringToObject(root, "model", model);
    cJSON_AddNumberToObject(root, "input_width", in_w);
    cJSON_AddNumberToObject(root, "input_height", in_h);
    cJSON_AddStringToObject(root, "coords", coords);
    cJSON *imgs = cJSON_AddArrayToObject(root, "images");
    for (int i = 0; i < nres; i++) {
        if (!r[i].ok) continue;
        cJSON *im = cJSON_CreateObject();
        cJSON_AddItemToArray(imgs, im);
        cJSON_AddStringToObject(im, "image", r[i].path);
        if (r[i].frame >= 0) cJSON_AddNumberToObject(im, "frame", r[i].frame);
        cJSON_AddNumberToObject(im, "width", r[i].width);
        cJSON_AddNumberToObject(im, "height", r[i].height);
        cJSON *poses = cJSON_AddArrayToObject(im, "poses");
        for (int p = 0; p < r[i].num; p++) {
            cJSON *po = cJSON_CreateObject();
            cJSON_AddItemToArray(poses, po);
            cJSON_AddNumberToObject(po, "score", r[i].poses[p].score);
            cJSON *kps = cJSON_AddArrayToObject(po, "keypoints");
            for (int k = 0; k < EV_NUM_KEYPOINTS; k++) {
                const ev_keypoint *kp = &r[i].poses[p].keypoints[k];
                cJSON *o = cJSON_CreateObject();
                cJSON_AddItemToArray(kps, o);
                cJSON_AddStringToObject(o, "label", ev_keypoint_label(k));
                cJSON_AddNumberToObject(o, "score", kp->score);
                cJSON_AddNumberToObject(o, "x", kp->x);
                cJSON_AddNumberToObject(o, "y", kp->y);
            }
        }
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s) return -1;
    fprintf(f, "%s\n", s);
    cJSON_free(s);
    return 0;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Draws poses (image coordinates) over the original image and saves it. */
static int draw_result(const image_result *r, ev_image *img, const char *draw, int many,
                       float min_kp) {
    char path[4096];
    if (many) {
        char stem[1024];
        snprintf(stem, sizeof stem, "%s", base_name(r->path));
        char *dot = strrchr(stem, '.');
        if (dot) *dot = '\0';
        snprintf(path, sizeof path, "%s/%s_pose.png", draw, stem);
    } else {
        snprintf(path, sizeof path, "%s", draw);
    }
    ev_status st = ev_pose_draw(img, r->poses, r->num, min_kp);
    if (st == EV_OK) st = ev_image_save(img, path);
    if (st != EV_OK) {
        cli_error("pose", st, "drawing");
        return 1;
    }
    return 0;
}

/* Results of every image and frame, in input order. */
typedef struct results {
    image_result *v;
    int n, cap;
} results;

/* A zeroed slot at the end of `rs`, or NULL (message printed) when out of memory. */
static image_result *results_next(results *rs) {
    if (rs->n == rs->cap) {
        int cap = rs->cap ? rs->cap * 2 : 8;
        image_result *v = realloc(rs->v, sizeof *v * (size_t)cap);
        if (!v) {
            fprintf(stderr, "edgevision pose: error: out of memory\n");
            return NULL;
        }
        rs->v = v;
        rs->cap = cap;
    }
    image_result *r = &rs->v[rs->n++];
    memset(r, 0, sizeof *r);
    return r;
}

typedef struct video_job {
    ev_posenet *net;
    const char *path, *draw;
    int many; /* several inputs: --draw is a directory */
    float min_kp;
    int max_poses, max_frames, input_coords, in_w, in_h;
} video_job;

/* Every frame of a video (up to max_frames): one result per frame, drawn into a video when
 * asked. Returns the number of failures (0 or 1). */
static int run_video(const video_job *j, results *rs) {
    ev_video *v = NULL;
    ev_video_writer *w = NULL;
    ev_status st = ev_video_open(j->path, &v);
    if (st != EV_OK) {
        cli_error("pose", st, "reading the video");
        return 1;
    }
    char out[4096];
    if (j->draw && j->many) {
        char stem[1024];
        snprintf(stem, sizeof stem, "%s", base_name(j->path));
        char *dot = strrchr(stem, '.');
        if (dot) *dot = '\0';
        snprintf(out, sizeof out, "%s/%s_pose.mp4", j->draw, stem);
    } else if (j->draw) {
        snprintf(out, sizeof out, "%s", j->draw);
    }
    int failed = 0, damaged = 0;
    for (int f = 0; !j->max_frames || f < j->max_frames; f++) {
        ev_image *img = NULL;
        st = ev_video_read(v, &img);
        if (st != EV_OK) { /* the frames before stay: results, and the annotated video */
            cli_error("pose", st, "reading the video");
            damaged = 1;
            break;
        }
        if (!img) break;
        image_result *r = results_next(rs);
        if (!r) {
            ev_image_free(img);
            failed = 1;
            break;
        }
        size_t n = strlen(j->path) + 24;
        r->owned = malloc(n);
        if (r->owned) snprintf(r->owned, n, "%s#%d", j->path, f);
        r->path = r->owned ? r->owned : j->path;
        r->frame = f;
        st = ev_posenet_run(j->net, img, r->poses, j->max_poses, &r->num);
        if (st == EV_OK) {
            r->ok = 1;
            r->width = ev_image_width(img);
            r->height = ev_image_height(img);
            image_result drawn = *r;
            ev_poses_rescale(drawn.poses, drawn.num, j->in_w, j->in_h, drawn.width,
                             drawn.height);
            if (!j->input_coords) {
                memcpy(r->poses, drawn.poses, sizeof r->poses);
            }
            if (j->draw) {
                double fps = ev_video_fps(v);
                st = ev_pose_draw(img, drawn.poses, drawn.num, j->min_kp);
                if (st == EV_OK && !w)
                    st = ev_video_writer_open(out, r->width, r->height, fps > 0 ? fps : 25, &w);
                if (st == EV_OK) st = ev_video_writer_write(w, img);
            }
        }
        ev_image_free(img);
        if (st != EV_OK) {
            cli_error("pose", st, r->path);
            failed = 1;
            break;
        }
    }
    if (w) {
        st = failed ? EV_OK : ev_video_writer_close(w);
        if (failed) ev_video_writer_abort(w);
        if (st != EV_OK) {
            cli_error("pose", st, "writing the annotated video");
            failed = 1;
        }
    }
    ev_video_free(v);
    return failed || damaged;
}

int cmd_pose(int argc, char **argv) {
    enum { O_MODEL = 1000, O_BACKEND, O_THREADS, O_FORMAT, O_OUTPUT, O_COORDS, O_DRAW, O_DECODER,
           O_FIX, O_MAXP, O_THR, O_NMS, O_MINKP, O_MAXF, O_HELP, O_INSIZE };
    static const struct option longopts[] = {
        {"model", required_argument, 0, O_MODEL},   {"backend", required_argument, 0, O_BACKEND},
        {"threads", required_argument, 0, O_THREADS}, {"format", required_argument, 0, O_FORMAT},
        {"output", required_argument, 0, O_OUTPUT}, {"coords", required_argument, 0, O_COORDS},
        {"draw", required_argument, 0, O_DRAW},     {"decoder", required_argument, 0, O_DECODER},
        {"decoder-fix", no_argument, 0, O_FIX},     {"max-poses", required_argument, 0, O_MAXP},
        {"score-threshold", required_argument, 0, O_THR},
        {"nms-radius", required_argument, 0, O_NMS},
        {"min-keypoint-score", required_argument, 0, O_MINKP},
        {"max-frames", required_argument, 0, O_MAXF},
        {"input-size", required_argument, 0, O_INSIZE},
        {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0}};
    const char *model = NULL, *output = NULL, *draw = NULL;
    out_format fmt = FMT_TABLE;
    int input_coords = 0, max_poses = 10, max_frames = 0, size_h = 0, size_w = 0;
    float min_kp = 0.2f;
    ev_posenet_options po;
    ev_posenet_options_init(&po);
    po.session.backend = "auto";
    po.session.threads = cli_default_threads();
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_BACKEND: po.session.backend = optarg; break;
        case O_THREADS:
            if (cli_parse_int("pose", "--threads", optarg, 1, 256, &po.session.threads)) return 2;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "table") == 0) fmt = FMT_TABLE;
            else if (strcmp(optarg, "csv") == 0) fmt = FMT_CSV;
            else if (strcmp(optarg, "json") == 0) fmt = FMT_JSON;
            else {
                fprintf(stderr, "edgevision pose: error: --format takes table, csv or json, got "
                        "'%s'\n", optarg);
                return 2;
            }
            break;
        case O_OUTPUT: output = optarg; break;
        case O_COORDS:
            if (strcmp(optarg, "image") == 0) input_coords = 0;
            else if (strcmp(optarg, "input") == 0) input_coords = 1;
            else {
                fprintf(stderr, "edgevision pose: error: --coords takes image or input, got "
                        "'%s'\n", optarg);
                return 2;
            }
            break;
        case O_DRAW: draw = optarg; break;
        case O_DECODER:
            if (strcmp(optarg, "auto") == 0) po.decoder = EV_DECODER_AUTO;
            else if (strcmp(optarg, "multi") == 0) po.decoder = EV_DECODER_MULTI;
            else if (strcmp(optarg, "single") == 0) po.decoder = EV_DECODER_SINGLE;
            else {
                fprintf(stderr, "edgevision pose: error: --decoder takes auto, multi or single, "
                        "got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_FIX: po.legacy_edge16 = 0; break;
        case O_MAXP:
            if (cli_parse_int("pose", "--max-poses", optarg, 1, EV_MAX_POSES, &max_poses)) return 2;
            po.max_detections = max_poses;
            break;
        case O_THR:
            if (cli_parse_float("pose", "--score-threshold", optarg, 0, 1, &po.score_threshold))
                return 2;
            break;
        case O_NMS:
            if (cli_parse_float("pose", "--nms-radius", optarg, 0, 1e6f, &po.nms_radius)) return 2;
            break;
        case O_MINKP:
            if (cli_parse_float("pose", "--min-keypoint-score", optarg, 0, 1, &min_kp)) return 2;
            break;
        case O_MAXF:
            if (cli_parse_int("pose", "--max-frames", optarg, 1, 1 << 30, &max_frames)) return 2;
            break;
        case O_INSIZE: { /* free-size models (TensorFlow .pb): HxW */
            char extra;
            if (sscanf(optarg, "%dx%d%c", &size_h, &size_w, &extra) != 2 || size_h < 1 ||
                size_w < 1 || size_h > 65536 || size_w > 65536) {
                fprintf(stderr, "edgevision pose: error: --input-size takes HxW (e.g. 353x481), "
                        "got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "edgevision pose: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    int nimg = argc - optind;
    if (!model || nimg < 1) {
        fprintf(stderr, "edgevision pose: error: %s\n",
                !model ? "--model is required" : "no input image given");
        usage(stderr);
        return 2;
    }
    int any_video = 0;
    for (int i = 0; i < nimg; i++) any_video |= ev_video_path_is_video(argv[optind + i]);
    if (draw && nimg > 1) {
        struct stat st;
        if (stat(draw, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "edgevision pose: error: with %d images, --draw takes an existing "
                    "directory ('%s' is not one)\n", nimg, draw);
            return 2;
        }
    } else if (draw && any_video && !ev_video_path_is_video(draw)) {
        fprintf(stderr, "edgevision pose: error: for a video, --draw takes a video file name "
                "(.mp4 .mkv .avi .webm), got '%s'\n", draw);
        return 2;
    }
    ev_posenet *net = NULL;
    ev_status st = ev_posenet_create_with_input(model, size_h, size_w, &po, &net);
    if (st != EV_OK) {
        cli_error("pose", st, "loading the model");
        return 1;
    }
    cli_print_backend(ev_posenet_session(net));
    int in_w, in_h;
    ev_posenet_input_size(net, &in_w, &in_h);
    results rs = {0};
    int failures = 0;
    for (int i = 0; i < nimg; i++) {
        const char *path = argv[optind + i];
        if (ev_video_path_is_video(path)) {
            video_job job = {net, path, draw, nimg > 1, min_kp, max_poses, max_frames,
                             input_coords, in_w, in_h};
            failures += run_video(&job, &rs);
            continue;
        }
        image_result *r = results_next(&rs);
        if (!r) {
            failures++;
            break;
        }
        r->path = path;
        r->frame = -1;
        ev_image *img = NULL;
        st = ev_image_load(r->path, &img);
        const char *what = "reading the image";
        if (st == EV_OK) {
            what = r->path;
            st = ev_posenet_run(net, img, r->poses, max_poses, &r->num);
        }
        if (st != EV_OK) {
            cli_error("pose", st, what);
            failures++;
            ev_image_free(img);
            continue;
        }
        r->ok = 1;
        r->width = ev_image_width(img);
        r->height = ev_image_height(img);
        image_result drawn = *r;
        ev_poses_rescale(drawn.poses, drawn.num, in_w, in_h, drawn.width, drawn.height);
        if (!input_coords) *r = drawn;
        if (draw && draw_result(&drawn, img, draw, nimg > 1, min_kp)) failures++;
        ev_image_free(img);
    }
    image_result *res = rs.v;
    int nres = rs.n;
    cli_out out;
    int rc = failures ? 1 : 0;
    if (cli_out_open(&out, output) != 0) {
        rc = 1;
    } else {
        const char *coords = input_coords ? "input" : "image";
        if (fmt == FMT_TABLE) write_table(out.f, res, nres, coords);
        else if (fmt == FMT_CSV) write_csv(out.f, res, nres, nimg > 1 || any_video);
        else if (write_json(out.f, res, nres, model, coords, in_w, in_h) != 0) rc = 1;
        if (cli_out_close(&out, 1) != 0) rc = 1;
    }
    for (int i = 0; i < nres; i++) free(res[i].owned);
    free(res);
    ev_posenet_free(net);
    return rc;
}
