/*
 * cmd_eval.c - `edgevision eval --model RUN --data DIR`: classifies every image under the data
 * folders with a saved car / not-car model, prints the report (Markdown) on stdout and writes
 * it with the misclassified list and contact sheet to --out (default RUN/eval). Also
 * cli_classify_head_model(), what `classify --model RUN` runs for a saved run folder.
 *
 * Extend: another output (JSON on stdout) is an option choosing which report file to print.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void *cli_progress_new(int quiet);
int cli_train_progress(void *user, const ev_train_progress *p);

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision eval --model RUN --data DIR [--data DIR2 ...] [options]\n"
            "\n"
            "Evaluates a model saved by 'edgevision train' on every image of the data folders\n"
            "(car/ + not_car/ folders, a folder named car or not_car, Stanford Cars, Caltech-256)\n"
            "and prints the report: accuracy, precision, recall, confusion matrix and every\n"
            "misclassified image with its probability.\n"
            "\n"
            "options:\n"
            "  --model RUN           run folder (or its model.json)\n"
            "  --data DIR            repeatable\n"
            "  --out DIR             report folder (default RUN/eval)\n"
            "  --backbone FILE       backbone location if it moved (its hash must match)\n"
            "  --backend NAME        cpu (default when built) or ref\n"
            "  --threads N           images in parallel (default: all CPUs)\n"
            "  --cache FILE          feature cache for these images (default: none)\n"
            "  --positive NAME       class folder of label 1 (default: the model's label 1)\n"
            "  --limit N             first N images of each source folder\n"
            "  --quiet               no progress on stderr\n");
}

int cmd_eval(int argc, char **argv) {
    enum { O_MODEL = 1000, O_DATA, O_OUT, O_BACKBONE, O_BACKEND, O_THREADS, O_CACHE, O_POS,
           O_LIMIT, O_QUIET, O_HELP };
    static const struct option longopts[] = {
        {"model", required_argument, 0, O_MODEL}, {"data", required_argument, 0, O_DATA},
        {"out", required_argument, 0, O_OUT}, {"backbone", required_argument, 0, O_BACKBONE},
        {"backend", required_argument, 0, O_BACKEND},
        {"threads", required_argument, 0, O_THREADS}, {"cache", required_argument, 0, O_CACHE},
        {"positive", required_argument, 0, O_POS}, {"limit", required_argument, 0, O_LIMIT},
        {"quiet", no_argument, 0, O_QUIET}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    ev_eval_options o;
    ev_eval_options_init(&o);
    int quiet = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: o.model = optarg; break;
        case O_DATA:
            if (o.data.num_roots == EV_TRAIN_MAX_DATA) {
                fprintf(stderr, "edgevision eval: error: at most %d --data folders\n",
                        EV_TRAIN_MAX_DATA);
                return 2;
            }
            o.data.roots[o.data.num_roots++] = optarg;
            break;
        case O_OUT: o.out = optarg; break;
        case O_BACKBONE: o.backbone = optarg; break;
        case O_BACKEND: o.backend = optarg; break;
        case O_THREADS:
            if (cli_parse_int("eval", "--threads", optarg, 1, 256, &o.threads)) return 2;
            break;
        case O_CACHE: o.cache = optarg; break;
        case O_POS: o.data.positive = optarg; break;
        case O_LIMIT:
            if (cli_parse_int("eval", "--limit", optarg, 1, 1 << 30, &o.data.limit_per_source))
                return 2;
            break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "edgevision eval: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    for (; optind < argc && o.data.num_roots < EV_TRAIN_MAX_DATA; optind++)
        o.data.roots[o.data.num_roots++] = argv[optind]; /* DIR2 may also be positional */
    if (!o.model || o.data.num_roots == 0 || optind < argc) {
        fprintf(stderr, "edgevision eval: error: %s\n",
                !o.model ? "--model RUN is required"
                : optind < argc ? "too many data folders"
                                : "--data DIR is required");
        usage(stderr);
        return 2;
    }
    void *ps = cli_progress_new(quiet);
    o.progress = cli_train_progress;
    o.user = ps;
    ev_eval_summary sum;
    ev_status st = ev_eval_run(&o, &sum);
    free(ps);
    if (st != EV_OK) {
        cli_error("eval", st, "evaluating");
        return 1;
    }
    /* The report the library wrote, on stdout. */
    char path[4096];
    if (o.out) snprintf(path, sizeof path, "%s/report.md", o.out);
    else {
        struct stat sb;
        int dir = stat(o.model, &sb) == 0 && S_ISDIR(sb.st_mode);
        if (dir) snprintf(path, sizeof path, "%s/eval/report.md", o.model);
        else {
            const char *slash = strrchr(o.model, '/');
            snprintf(path, sizeof path, "%.*s/eval/report.md",
                     slash ? (int)(slash - o.model) : 1, slash ? o.model : ".");
        }
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "edgevision eval: error: cannot read back %s\n", path);
        return 1;
    }
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, got, stdout);
    fclose(f);
    return fflush(stdout) == 0 ? 0 : 1;
}

int cli_is_head_model(const char *model) {
    struct stat sb;
    if (!model || stat(model, &sb) != 0) return 0;
    if (S_ISDIR(sb.st_mode)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/model.json", model);
        return stat(p, &sb) == 0;
    }
    size_t n = strlen(model);
    return n > 5 && strcmp(model + n - 5, ".json") == 0;
}

int cli_classify_head_model(const char *run, const char *backbone, const char *backend, int top,
                            int nimg, char **images) {
    ev_session_options so;
    ev_session_options_init(&so);
    so.backend = backend;
    ev_head_model *hm = NULL;
    ev_status st = ev_head_model_load(run, backbone, &so, &hm);
    if (st != EV_OK) {
        cli_error("classify", st, "loading the model");
        return 1;
    }
    int failures = 0;
    for (int i = 0; i < nimg; i++) {
        ev_image *img = NULL;
        float p = 0;
        st = ev_image_load(images[i], &img);
        if (st == EV_OK) st = ev_head_model_predict(hm, img, &p);
        ev_image_free(img);
        if (st != EV_OK) {
            cli_error("classify", st, images[i]);
            failures++;
            continue;
        }
        /* The classify contract: IMAGE RANK CLASS_ID SCORE LABEL, best first. */
        int best = p > 0.5f;
        float score[2] = {1.0f - p, p};
        for (int r = 0; r < (top < 2 ? top : 2); r++) {
            int id = r == 0 ? best : !best;
            printf("%s %d %d %.6f %s\n", images[i], r + 1, id, (double)score[id],
                   ev_head_model_label(hm, id));
        }
    }
    ev_head_model_free(hm);
    int rc = failures ? 1 : 0;
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
