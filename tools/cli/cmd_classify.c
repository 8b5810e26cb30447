/*
 * cmd_classify.c - `edgevision classify`: top-k ImageNet-style classes of images with a TFLite
 * classifier, or an embedding extractor composed with a head model.
 *
 * Output contract (other tools parse it): one line per result on stdout,
 *     IMAGE RANK CLASS_ID SCORE LABEL
 * rank from 1, score with 6 decimals, LABEL the line class_id + 1 of --labels (it may contain
 * spaces; it is the rest of the line) or "-" without labels; nothing else on stdout. Every image
 * is processed even when one fails (its error goes to stderr and the exit status is 1). Exit 2 on
 * usage errors.
 *
 * Keras HDF5 weights (ResNet50, docs/keras.md) work as --model: the input size is free
 * (--input-size, default 224), the resize defaults to nearest (Keras's load_img) instead of
 * bilinear, and a 1000-class model with a 1001-line labels file (background first, as
 * imagenet_labels.txt) skips the first line (--labels-offset, default auto).
 *
 * Extend: another output format would be an option and a writer next to print_results().
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOP 1000

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision classify --model M.tflite [--head H.tflite] [--labels L.txt]\n"
            "                           [--top K] [options] IMAGE...\n"
            "\n"
            "Classifies images with a TFLite classifier; with --head, the model is an embedding\n"
            "extractor whose output feeds the head model.\n"
            "\n"
            "options:\n"
            "  --model FILE          classifier or embedding extractor .tflite (required)\n"
            "  --head FILE           head model fed by the extractor's output\n"
            "  --labels FILE         one label per line; class id = line number - 1 - offset\n"
            "  --labels-offset N     lines to skip before class 0 (default auto: 1 when the file\n"
            "                        has one line more than the model has classes, else 0)\n"
            "  --top K               results per image (default 5)\n"
            "  --resize MODE         bilinear (default: half-pixel centres, truncation) or nearest\n"
            "                        (the default for Keras .h5 models, as Keras's load_img)\n"
            "  --input-size N|WxH    input size of a Keras .h5 model (default 224)\n"
            "  --backend NAME        auto (default: the fastest backend of this build that runs\n"
            "                        every op here: cuda, else cpu, else ref), cpu, ref, cuda\n"
            "  --threads N           worker threads (default: the machine's online cores)\n"
            "\n"
            "Output: one line per result, IMAGE RANK CLASS_ID SCORE LABEL (rank from 1).\n");
}

typedef struct labels {
    char **line;
    int n;
    char *buf;
} labels;

static void labels_free(labels *l) {
    free(l->line);
    free(l->buf);
    memset(l, 0, sizeof *l);
}

/* Reads a text file of labels, one per line (trailing \r stripped). 0 on success. */
static int labels_load(const char *path, labels *l) {
    memset(l, 0, sizeof *l);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "edgevision classify: error: cannot read labels %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    size_t cap = 0, len = 0;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *b = realloc(l->buf, cap);
            if (!b) {
                fclose(f);
                labels_free(l);
                fprintf(stderr, "edgevision classify: error: out of memory reading %s\n", path);
                return -1;
            }
            l->buf = b;
        }
        memcpy(l->buf + len, chunk, got);
        len += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || !l->buf) {
        fprintf(stderr, "edgevision classify: error: %s %s\n", path,
                bad ? "could not be read" : "is empty");
        labels_free(l);
        return -1;
    }
    l->buf[len] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += l->buf[i] == '\n';
    l->line = calloc(lines, sizeof *l->line);
    if (!l->line) {
        labels_free(l);
        return -1;
    }
    char *p = l->buf;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        size_t k = strlen(p);
        if (k && p[k - 1] == '\r') p[k - 1] = '\0';
        l->line[l->n++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}

/* 1 when the file starts with the HDF5 signature (a Keras weights file). */
static int is_hdf5(const char *path) {
    unsigned char b[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(b, 1, 8, f);
    fclose(f);
    return n == 8 && memcmp(b, "\x89HDF\r\n\x1a\n", 8) == 0;
}

int cmd_classify(int argc, char **argv) {
    enum { O_MODEL = 1000, O_HEAD, O_LABELS, O_TOP, O_RESIZE, O_BACKEND, O_THREADS, O_HELP,
           O_LOFF, O_SIZE };
    static const struct option longopts[] = {
        {"model", required_argument, 0, O_MODEL},     {"head", required_argument, 0, O_HEAD},
        {"labels", required_argument, 0, O_LABELS},   {"top", required_argument, 0, O_TOP},
        {"resize", required_argument, 0, O_RESIZE},   {"backend", required_argument, 0, O_BACKEND},
        {"threads", required_argument, 0, O_THREADS}, {"help", no_argument, 0, O_HELP},
        {"labels-offset", required_argument, 0, O_LOFF},
        {"input-size", required_argument, 0, O_SIZE},
        {0, 0, 0, 0}};
    const char *model = NULL, *head = NULL, *labels_path = NULL;
    int top = 5, loff = -1, resize_given = 0, in_w = 0, in_h = 0;
    ev_classifier_options co;
    ev_classifier_options_init(&co);
    co.session.backend = "auto";
    co.session.threads = cli_default_threads();
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_HEAD: head = optarg; break;
        case O_LABELS: labels_path = optarg; break;
        case O_TOP:
            if (cli_parse_int("classify", "--top", optarg, 1, MAX_TOP, &top)) return 2;
            break;
        case O_LOFF:
            if (cli_parse_int("classify", "--labels-offset", optarg, 0, 1000000, &loff)) return 2;
            break;
        case O_SIZE: {
            char *end = NULL;
            long w = strtol(optarg, &end, 10), h = w;
            if (end && *end == 'x') h = strtol(end + 1, &end, 10);
            if (!end || *end || end == optarg || w < 32 || h < 32 || w > 8192 || h > 8192) {
                fprintf(stderr, "edgevision classify: error: --input-size takes N or WxH with "
                        "sides in [32, 8192], got '%s'\n", optarg);
                return 2;
            }
            in_w = (int)w;
            in_h = (int)h;
            break;
        }
        case O_RESIZE:
            resize_given = 1;
            if (strcmp(optarg, "bilinear") == 0) co.resize = EV_RESIZE_BILINEAR;
            else if (strcmp(optarg, "nearest") == 0) co.resize = EV_RESIZE_NEAREST;
            else {
                fprintf(stderr, "edgevision classify: error: --resize takes bilinear or nearest, "
                        "got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_BACKEND: co.session.backend = optarg; break;
        case O_THREADS:
            if (cli_parse_int("classify", "--threads", optarg, 1, 256, &co.session.threads))
                return 2;
            break;
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "edgevision classify: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    int nimg = argc - optind;
    if (!model || nimg < 1) {
        fprintf(stderr, "edgevision classify: error: %s\n",
                !model ? "--model is required" : "no input image given");
        usage(stderr);
        return 2;
    }
    /* ---- train: --model RUN, a run folder of `edgevision train` (cmd_eval.c) (begin) ---- */
    if (cli_is_head_model(model))
        return cli_classify_head_model(model, NULL, co.session.backend, top, nimg, argv + optind);
    /* ---- train (end) ---- */
    int keras = is_hdf5(model);
    if (in_w && (!keras || head)) {
        fprintf(stderr, "edgevision classify: error: --input-size applies to a Keras .h5 model "
                "alone (%s)\n", head ? "not with --head" : "this model's size is fixed");
        return 2;
    }
    if (keras && !resize_given) co.resize = EV_RESIZE_NEAREST; /* Keras's load_img */
    labels lab = {0};
    if (labels_path && labels_load(labels_path, &lab) != 0) return 1;
    ev_classifier *cls = NULL;
    ev_status st;
    if (keras && !head) {
        ev_keras_options ko;
        ev_keras_options_init(&ko);
        if (in_w) {
            ko.input_width = in_w;
            ko.input_height = in_h;
        }
        st = ev_classifier_create_keras(model, &ko, &co, &cls);
    } else {
        st = ev_classifier_create(model, head, &co, &cls);
    }
    if (st != EV_OK) {
        cli_error("classify", st, "loading the model");
        labels_free(&lab);
        return 1;
    }
    cli_print_backend(ev_classifier_session(cls, 0));
    int ncls = ev_classifier_num_classes(cls);
    if (loff < 0) loff = labels_path && lab.n == ncls + 1 ? 1 : 0; /* background line first */
    if (labels_path && lab.n - loff != ncls)
        fprintf(stderr, "edgevision classify: warning: %s has %d labels (offset %d) for %d "
                "classes\n", labels_path, lab.n, loff, ncls);
    ev_class_score res[MAX_TOP];
    int failures = 0;
    for (int i = 0; i < nimg; i++) {
        const char *path = argv[optind + i];
        ev_image *img = NULL;
        int n = 0;
        st = ev_image_load(path, &img);
        const char *what = "reading the image";
        if (st == EV_OK) {
            what = path;
            st = ev_classifier_top_k(cls, img, top, res, &n);
        }
        ev_image_free(img);
        if (st != EV_OK) {
            cli_error("classify", st, what);
            failures++;
            continue;
        }
        for (int r = 0; r < n; r++) {
            int id = res[r].class_id;
            const char *label = id + loff < lab.n ? lab.line[id + loff] : "-";
            printf("%s %d %d %.6f %s\n", path, r + 1, id, (double)res[r].score, label);
        }
    }
    int rc = failures ? 1 : 0;
    if (fflush(stdout) != 0) rc = 1;
    ev_classifier_free(cls);
    labels_free(&lab);
    return rc;
}
