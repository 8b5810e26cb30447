/*
 * cmd_train.c - `edgevision train`: fine-tune a small dense head on a frozen backbone (car /
 * not a car), with the run folder described in docs/training.md. Also holds the progress
 * printer shared with `eval` (cli_train_progress): a bar with ETA for long stages, one line
 * per epoch, notes as they come; everything on stderr, stdout stays for results.
 *
 * Extend: a new option is one more entry in longopts and a case that fills ev_train_options.
 */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision train --data DIR [--data DIR2 ...] --out RUN [options]\n"
            "\n"
            "Trains Dense(32, sigmoid) [Dropout] Dense(1, sigmoid) on frozen backbone features\n"
            "(Keras semantics: glorot init, Adam, binary cross-entropy from logits) and writes\n"
            "RUN/: model.json (best by val_loss), history.csv, accuracy.svg, loss.svg,\n"
            "manifest.tsv, report.md/json, misclassified.tsv/png, run.json, train.state.\n"
            "\n"
            "data:\n"
            "  --data DIR            car/ + not_car/ folders (any source subfolders), a Stanford\n"
            "                        Cars devkit or Caltech-256; repeatable\n"
            "  --positive NAME       class folder of label 1 (default car)\n"
            "  --caltech-exclude F   Caltech-256 categories to leave out of the negatives, one\n"
            "                        per line (default 252.car-side-101 072.fire-truck\n"
            "                        178.school-bus)\n"
            "  --limit N             first N images of each source folder (quick runs)\n"
            "  --split MODE          stratified (default), random, group or dataset\n"
            "  --fractions A,B,C     train,validation,test (default 0.5,0.3,0.2)\n"
            "  --group-size N        group split: consecutive file numbers per group (default 50)\n"
            "  --seed N              splits, initial weights, shuffles, dropout (default 1)\n"
            "backbone:\n"
            "  --backbone FILE       default $EDGEVISION_SHARED/models/mobilenet/\n"
            "                        mobilenet_v1_1.0_224_quant_embedding_extractor.tflite\n"
            "  --cut TENSOR          cut at this op output (default: the model's output)\n"
            "  --resize MODE         bilinear (default) or nearest\n"
            "  --backend NAME        cpu (default when built) or ref\n"
            "  --threads N           images in parallel (default: all CPUs)\n"
            "  --cache FILE          feature cache (default RUN/features.cache); share it\n"
            "                        between runs on the same data and backbone\n"
            "head and training:\n"
            "  --hidden W[,W2...]    hidden layer widths (default 32)\n"
            "  --dropout R           dropout after each hidden layer (default 0: none)\n"
            "  --lr X                Adam learning rate (default 0.001)\n"
            "  --batch N             batch size (default 32)\n"
            "  --epochs N            epochs (default 10)\n"
            "  --patience N          early stopping on val_loss (default 0: off)\n"
            "  --resume              continue RUN from its last completed epoch\n"
            "  --quiet               no progress on stderr\n");
}

typedef struct progress_state {
    int quiet, tty;
    int last_pct;
    ev_train_stage stage;
} progress_state;

int cli_train_progress(void *user, const ev_train_progress *p) {
    progress_state *s = user;
    if (s->quiet && p->stage != EV_TRAIN_NOTE) return 0;
    static const char *names[] = {"", "hashing", "features", "", "classifying"};
    switch (p->stage) {
    case EV_TRAIN_NOTE:
        if (!s->quiet) fprintf(stderr, "%s%s\n", s->tty && s->last_pct >= 0 ? "\n" : "", p->message);
        s->last_pct = -1;
        break;
    case EV_TRAIN_EPOCH:
        fprintf(stderr, "epoch %d/%ld - %.1fs - loss %.4f - accuracy %.4f - val_loss %.4f - "
                        "val_accuracy %.4f\n", p->epoch, p->total, p->seconds, p->loss,
                p->accuracy, p->val_loss, p->val_accuracy);
        break;
    default: {
        int pct = p->total ? (int)(100 * p->done / p->total) : 100;
        if (s->stage != p->stage) s->last_pct = -1, s->stage = p->stage;
        if (!s->tty && pct / 10 == s->last_pct / 10 && p->done < p->total) return 0;
        double eta = p->done ? p->elapsed_s * (double)(p->total - p->done) / (double)p->done : 0;
        char bar[31];
        int fillc = pct * 30 / 100;
        for (int i = 0; i < 30; i++) bar[i] = i < fillc ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "%s%-11s [%s] %3d%% %ld/%ld  %.1fs elapsed, ETA %.1fs%s",
                s->tty ? "\r" : "", names[p->stage], bar, pct, p->done, p->total, p->elapsed_s,
                eta, s->tty && p->done < p->total ? "" : "\n");
        s->last_pct = pct;
        if (p->done >= p->total) s->last_pct = -1;
    }
    }
    return 0;
}

void *cli_progress_new(int quiet) {
    progress_state *s = calloc(1, sizeof *s);
    if (s) {
        s->quiet = quiet;
        s->tty = isatty(2);
        s->last_pct = -1;
        s->stage = EV_TRAIN_NOTE;
    }
    return s;
}

static int parse_list(const char *opt, const char *s, int *out, int max, int *n) {
    *n = 0;
    char *copy = strdup(s), *save = NULL;
    int bad = !copy;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !bad;
         t = strtok_r(NULL, ",", &save)) {
        if (*n >= max) bad = 1;
        else bad = cli_parse_int("train", opt, t, 1, 65536, &out[(*n)++]);
    }
    free(copy);
    if (!bad && *n == 0) bad = 1;
    if (bad)
        fprintf(stderr, "edgevision train: error: %s takes 1 to %d comma-separated widths, got "
                "'%s'\n", opt, max, s);
    return bad;
}

static int parse_fractions(const char *s, double f[3]) {
    char *end;
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        f[i] = strtod(p, &end);
        if (end == p || (i < 2 && *end != ',') || (i == 2 && *end) || !(f[i] >= 0 && f[i] <= 1))
            goto bad;
        p = end + 1;
    }
    if (fabs(f[0] + f[1] + f[2] - 1) > 1e-6 || f[0] <= 0) goto bad;
    return 0;
bad:
    fprintf(stderr, "edgevision train: error: --fractions takes TRAIN,VAL,TEST in [0, 1] adding "
            "up to 1 with TRAIN > 0, got '%s'\n", s);
    return 1;
}

int cmd_train(int argc, char **argv) {
    enum { O_DATA = 1000, O_POS, O_EXCL, O_LIMIT, O_SPLIT, O_FRAC, O_GROUP, O_SEED, O_BACKBONE,
           O_CUT, O_RESIZE, O_BACKEND, O_THREADS, O_CACHE, O_HIDDEN, O_DROPOUT, O_LR, O_BATCH,
           O_EPOCHS, O_PATIENCE, O_RESUME, O_OUT, O_QUIET, O_HELP };
    static const struct option longopts[] = {
        {"data", required_argument, 0, O_DATA}, {"positive", required_argument, 0, O_POS},
        {"caltech-exclude", required_argument, 0, O_EXCL},
        {"limit", required_argument, 0, O_LIMIT}, {"split", required_argument, 0, O_SPLIT},
        {"fractions", required_argument, 0, O_FRAC},
        {"group-size", required_argument, 0, O_GROUP}, {"seed", required_argument, 0, O_SEED},
        {"backbone", required_argument, 0, O_BACKBONE}, {"cut", required_argument, 0, O_CUT},
        {"resize", required_argument, 0, O_RESIZE}, {"backend", required_argument, 0, O_BACKEND},
        {"threads", required_argument, 0, O_THREADS}, {"cache", required_argument, 0, O_CACHE},
        {"hidden", required_argument, 0, O_HIDDEN}, {"dropout", required_argument, 0, O_DROPOUT},
        {"lr", required_argument, 0, O_LR}, {"batch", required_argument, 0, O_BATCH},
        {"epochs", required_argument, 0, O_EPOCHS},
        {"patience", required_argument, 0, O_PATIENCE}, {"resume", no_argument, 0, O_RESUME},
        {"out", required_argument, 0, O_OUT}, {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    ev_train_options o;
    ev_train_options_init(&o);
    int quiet = 0, seed;
    char default_backbone[4096];
    snprintf(default_backbone, sizeof default_backbone,
             "%s/models/mobilenet/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
             cli_shared_dir());
    o.backbone.model = default_backbone;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            if (o.data.num_roots == EV_TRAIN_MAX_DATA) {
                fprintf(stderr, "edgevision train: error: at most %d --data folders\n",
                        EV_TRAIN_MAX_DATA);
                return 2;
            }
            o.data.roots[o.data.num_roots++] = optarg;
            break;
        case O_POS: o.data.positive = optarg; break;
        case O_EXCL: o.data.caltech_exclude = optarg; break;
        case O_LIMIT:
            if (cli_parse_int("train", "--limit", optarg, 1, 1 << 30, &o.data.limit_per_source))
                return 2;
            break;
        case O_SPLIT:
            if (strcmp(optarg, "stratified") == 0) o.split = EV_SPLIT_STRATIFIED;
            else if (strcmp(optarg, "random") == 0) o.split = EV_SPLIT_RANDOM;
            else if (strcmp(optarg, "group") == 0) o.split = EV_SPLIT_GROUP;
            else if (strcmp(optarg, "dataset") == 0) o.split = EV_SPLIT_DATASET;
            else {
                fprintf(stderr, "edgevision train: error: --split takes stratified, random, group "
                        "or dataset, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_FRAC:
            if (parse_fractions(optarg, o.fractions)) return 2;
            break;
        case O_GROUP:
            if (cli_parse_int("train", "--group-size", optarg, 1, 1 << 30, &o.group_size)) return 2;
            break;
        case O_SEED:
            if (cli_parse_int("train", "--seed", optarg, 0, 2147483647, &seed)) return 2;
            o.seed = (uint64_t)seed;
            break;
        case O_BACKBONE: o.backbone.model = optarg; break;
        case O_CUT: o.backbone.cut = optarg; break;
        case O_RESIZE:
            if (strcmp(optarg, "bilinear") == 0) o.backbone.resize = EV_RESIZE_BILINEAR;
            else if (strcmp(optarg, "nearest") == 0) o.backbone.resize = EV_RESIZE_NEAREST;
            else {
                fprintf(stderr, "edgevision train: error: --resize takes bilinear or nearest, got "
                        "'%s'\n", optarg);
                return 2;
            }
            break;
        case O_BACKEND: o.backbone.backend = optarg; break;
        case O_THREADS:
            if (cli_parse_int("train", "--threads", optarg, 1, 256, &o.backbone.threads)) return 2;
            break;
        case O_CACHE: o.cache = optarg; break;
        case O_HIDDEN:
            if (parse_list("--hidden", optarg, o.hidden, EV_TRAIN_MAX_HIDDEN, &o.num_hidden))
                return 2;
            break;
        case O_DROPOUT:
            if (cli_parse_float("train", "--dropout", optarg, 0.0f, 0.95f, &o.dropout)) return 2;
            break;
        case O_LR:
            if (cli_parse_float("train", "--lr", optarg, 1e-9f, 10.0f, &o.learning_rate)) return 2;
            break;
        case O_BATCH:
            if (cli_parse_int("train", "--batch", optarg, 1, 1 << 20, &o.batch)) return 2;
            break;
        case O_EPOCHS:
            if (cli_parse_int("train", "--epochs", optarg, 0, 1000000, &o.epochs)) return 2;
            break;
        case O_PATIENCE:
            if (cli_parse_int("train", "--patience", optarg, 0, 1000000, &o.patience)) return 2;
            break;
        case O_RESUME: o.resume = 1; break;
        case O_OUT: o.out = optarg; break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "edgevision train: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !o.out || o.data.num_roots == 0) {
        fprintf(stderr, "edgevision train: error: %s\n",
                optind < argc ? "unexpected argument (data folders go after --data)"
                : !o.out      ? "--out RUN is required"
                              : "--data DIR is required");
        usage(stderr);
        return 2;
    }
    void *ps = cli_progress_new(quiet);
    o.progress = cli_train_progress;
    o.user = ps;
    ev_eval_summary sum;
    ev_status st = ev_train_run(&o, &sum);
    free(ps);
    if (st != EV_OK) {
        cli_error("train", st, "training");
        return 1;
    }
    if (sum.count)
        printf("test: %ld images, accuracy %.4f, precision %.4f, recall %.4f, %ld misclassified "
               "(see %s/report.md)\n", sum.count, sum.accuracy, sum.precision, sum.recall,
               sum.fp + sum.fn, o.out);
    printf("model: %s/model.json\n", o.out);
    return fflush(stdout) == 0 ? 0 : 1;
}
