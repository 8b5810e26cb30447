/*
 * cmd_quantize.c - `edgevision quantize`: post-training int8 quantization of a float model
 * (TensorFlow .pb or float TFLite), calibrated on a folder of images, written as TFLite.
 *
 * The library does the work (ev_model_load_with_input, ev_quantize_model, ev_model_save_tflite);
 * this file parses options and lists the calibration folder (.jpg .jpeg .png .bmp, sorted by
 * name so runs are reproducible).
 */
#include "cli.h"


#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision quantize --model F.pb --calibration DIR --output Q.tflite [options]\n"
            "\n"
            "Post-training int8 quantization: per-channel int8 weights, int32 biases, int8\n"
            "activations whose ranges are the min/max seen on the calibration images (each\n"
            "resized to the model input, nearest, and scaled to [-1, 1]).\n"
            "\n"
            "options:\n"
            "  --model FILE          float32 model: TensorFlow frozen graph (.pb) or TFLite\n"
            "  --calibration DIR     folder of .jpg/.jpeg/.png/.bmp images (all are used)\n"
            "  --output FILE         the int8 TFLite model to write\n"
            "  --input-size HxW      input size for free-size models (default 353x481)\n"
            "  --max-images N        use at most the first N images by name\n"
            "  --per-tensor          one weight scale per tensor instead of per output channel\n"
            "  --backend NAME        backend of the calibration runs (default ref)\n"
            "  --threads N           worker threads (default 1)\n");
}

static int has_image_ext(const char *n) {
    const char *dot = strrchr(n, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                   strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".bmp") == 0);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted image file names of `dir` (malloc'd); -1 when the folder cannot be read. */
static int list_images(const char *dir, char ***out) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_image_ext(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(names, sizeof *nn * (size_t)cap);
            if (!nn) break;
            names = nn;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) break;
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    return n;
}

int cmd_quantize(int argc, char **argv) {
    enum { O_MODEL = 1000, O_CAL, O_OUTPUT, O_INSIZE, O_MAXIMG, O_PERTENSOR, O_BACKEND,
           O_THREADS, O_HELP };
    static const struct option longopts[] = {
        {"model", required_argument, 0, O_MODEL},
        {"calibration", required_argument, 0, O_CAL},
        {"output", required_argument, 0, O_OUTPUT},
        {"input-size", required_argument, 0, O_INSIZE},
        {"max-images", required_argument, 0, O_MAXIMG},
        {"per-tensor", no_argument, 0, O_PERTENSOR},
        {"backend", required_argument, 0, O_BACKEND},
        {"threads", required_argument, 0, O_THREADS},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0}};
    const char *model = NULL, *cal = NULL, *output = NULL;
    int in_h = 353, in_w = 481, max_images = 1 << 30;
    ev_quantize_options qo;
    ev_quantize_options_init(&qo);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_CAL: cal = optarg; break;
        case O_OUTPUT: output = optarg; break;
        case O_INSIZE: {
            char extra;
            if (sscanf(optarg, "%dx%d%c", &in_h, &in_w, &extra) != 2 || in_h < 1 || in_w < 1 ||
                in_h > 65536 || in_w > 65536) {
                fprintf(stderr, "edgevision quantize: error: --input-size takes HxW (e.g. "
                        "353x481), got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case O_MAXIMG:
            if (cli_parse_int("quantize", "--max-images", optarg, 1, 1 << 30, &max_images))
                return 2;
            break;
        case O_PERTENSOR: qo.per_channel = 0; break;
        case O_BACKEND: qo.backend = optarg; break;
        case O_THREADS:
            if (cli_parse_int("quantize", "--threads", optarg, 1, 256, &qo.threads)) return 2;
            break;
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "edgevision quantize: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (!model || !cal || !output || optind != argc) {
        fprintf(stderr, "edgevision quantize: error: %s\n",
                optind != argc ? "unexpected positional argument"
                : !model       ? "--model is required"
                : !cal         ? "--calibration is required"
                               : "--output is required");
        usage(stderr);
        return 2;
    }
    char **names = NULL;
    int n = list_images(cal, &names);
    if (n <= 0) {
        fprintf(stderr, "edgevision quantize: error: %s: %s\n", cal,
                n < 0 ? "cannot read the folder" : "no .jpg/.jpeg/.png/.bmp images in it");
        free(names);
        return n < 0 ? 1 : 2;
    }
    if (n > max_images) n = max_images;
    int rc = 1;
    ev_image **imgs = calloc((size_t)n, sizeof *imgs);
    ev_model *fm = NULL, *qm = NULL;
    ev_status st = EV_OK;
    for (int i = 0; imgs && i < n; i++) {
        st = ev_image_load(names[i], &imgs[i]);
        if (st != EV_OK) {
            cli_error("quantize", st, "loading a calibration image");
            goto done;
        }
    }
    st = ev_model_load_with_input(model, in_h, in_w, &fm);
    if (st != EV_OK) {
        cli_error("quantize", st, "loading the model");
        goto done;
    }
    double t0 = ev_clock_seconds();
    st = ev_quantize_model(fm, (const ev_image *const *)imgs, n, &qo, &qm);
    if (st != EV_OK) {
        cli_error("quantize", st, "quantizing");
        goto done;
    }
    st = ev_model_save_tflite(qm, output);
    if (st != EV_OK) {
        cli_error("quantize", st, "writing the model");
        goto done;
    }
    double seconds = ev_clock_seconds() - t0;
    fprintf(stderr, "edgevision quantize: %s -> %s (int8, %d ops, %s weights), calibrated on %d "
            "image(s) at %dx%d in %.1f s\n", model, output, ev_model_num_ops(qm),
            qo.per_channel ? "per-channel" : "per-tensor", n, in_h, in_w,
            seconds);
    rc = 0;
done:
    ev_model_free(fm);
    ev_model_free(qm);
    for (int i = 0; imgs && i < n; i++) ev_image_free(imgs[i]);
    free(imgs);
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
    return rc;
}
