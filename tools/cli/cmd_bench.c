/*
 * cmd_bench.c - `edgevision bench`: the speed of any model the engine loads (PoseNet models with
 * their pose stages and, when asked, COCO accuracy; other models image -> tensor -> inference,
 * or a seeded random input) for every
 * combination of --model x --backend x --threads x INPUT, with an environment header first,
 * per-stage statistics per result, a summary table, and a JSON result file (--json, schema in
 * docs/results-schema.md) that `edgevision report` merges across machines.
 *
 * The measuring itself is in the library (ev_bench_run, ev_results_*: the public API over
 * src/bench/runner.c, pipeline.c, results.c); this file parses
 * options, prints, and keeps going when one combination fails (a backend not compiled in, a bad
 * input): the failure is printed and recorded in the file's "errors", and the exit status is 1.
 *
 * Extend: a new option is a longopts entry, a case, and a field of ev_bench_config.
 */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST 32

typedef struct list {
    const char *v[MAX_LIST];
    int n;
} list;

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision bench --model MODEL [options] INPUT...\n"
            "\n"
            "Measures frames per second of any model, stage by stage, on videos (mp4 avi mkv webm\n"
            "...), images, folders of images, V4L2 cameras (/dev/videoN), or 'random' (seeded\n"
            "random input tensors, for models that take no image). Images are prepared from the\n"
            "model's input spec (size, type, quantization); pose models also decode poses.\n"
            "\n"
            "options (--model, --backend and --threads repeat; every combination is measured):\n"
            "  --model FILE          a model: .tflite, TensorFlow .pb, Keras .h5 (required)\n"
            "  --input-size HxW      input size for free-size models (TensorFlow .pb)\n"
            "  --input SRC           an input, as INPUT (e.g. --input random)\n"
            "  --seed N              seed of the random input (default 1)\n"
            "  --backend NAME        auto (default: the fastest backend of this build that runs\n"
            "                        every op here: cuda, else cpu, else ref), or a backend of\n"
            "                        this build (see 'edgevision version')\n"
            "  --threads N           worker threads (default: the machine's online cores)\n"
            "  --warmup-runs N       runs before measuring (default 1)\n"
            "  --min-runs N          measure at least N runs ... (default 10)\n"
            "  --min-secs S          ... and at least S seconds (default 1)\n"
            "  --max-secs S          stop measuring after S seconds (default 60)\n"
            "  --cooldown S          pause S seconds between measurements (default 0)\n"
            "  --loop                rewind videos at their end (images and folders always cycle)\n"
            "  --pipelined           also measure decoding overlapped with inference (2 threads)\n"
            "  --draw                draw skeletons over each frame (timed as the 'draw' stage)\n"
            "  --encode FILE         encode the annotated frames into a video (timed; implies --draw)\n"
            "  --eval-annotations A  COCO keypoint annotations: put the model's COCO AP beside\n"
            "  --eval-images DIR     its speed (images of A in DIR)\n"
            "  --json FILE           write the results as JSON (written atomically)\n"
            "  --profile FILE        per-op median time, MACs, GOP/s and share of the total for\n"
            "                        every combination (CSV; JSON when FILE ends in .json)\n"
            "  --trace FILE.json     Chrome/Perfetto trace (chrome://tracing, ui.perfetto.dev) of\n"
            "                        one measured run per combination, op by op\n"
            "  --label NAME          machine name in results and reports (default: host name)\n"
            "  --quiet               no progress bar\n");
}

static int parse_double(const char *opt, const char *s, double lo, double hi, double *out) {
    char *end = NULL;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "edgevision bench: error: %s takes a number in [%g, %g], got '%s'\n", opt,
                lo, hi, s);
        return 1;
    }
    *out = v;
    return 0;
}

static int push(list *l, const char *opt, const char *v) {
    if (l->n == MAX_LIST) {
        fprintf(stderr, "edgevision bench: error: at most %d values of %s\n", MAX_LIST, opt);
        return 1;
    }
    l->v[l->n++] = v;
    return 0;
}

static int backend_compiled(const char *name) {
    if (strcmp(name, "auto") == 0) return 1;
    for (const char *const *b = ev_backend_names(); *b; b++)
        if (strcmp(*b, name) == 0) return 1;
    return 0;
}

/* The compiled backend's own (static) name string for `name` ("auto" resolved by a run). */
static const char *compiled_name(const char *name) {
    for (const char *const *b = ev_backend_names(); *b; b++)
        if (strcmp(*b, name) == 0) return *b;
    return "auto";
}

typedef struct progress_state {
    const ev_bench_config *cfg;
    int tty;
} progress_state;

static void progress_cb(void *user, const char *phase, int runs, double elapsed) {
    progress_state *p = user;
    if (!p->tty) return;
    const ev_bench_config *c = p->cfg;
    double frac = 1.0;
    if (strcmp(phase, "warmup") == 0) {
        frac = c->warmup_runs ? (double)runs / c->warmup_runs : 1;
    } else {
        double a = c->min_runs ? (double)runs / c->min_runs : 1;
        double b = c->min_secs > 0 ? elapsed / c->min_secs : 1;
        frac = fmin(a, b);
        if (c->max_secs > 0) frac = fmax(frac, elapsed / c->max_secs);
    }
    if (frac > 1) frac = 1;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '-';
    bar[30] = '\0';
    fprintf(stderr, "\r  %-9s [%s] %4d run%s %7.1f s", phase, bar, runs, runs == 1 ? " " : "s",
            elapsed);
    fflush(stderr);
}

static void print_env(const ev_bench_env *e, const list *backends, const list *threads) {
    printf("edgevision bench\n");
    printf("  host       %s\n", e->host);
    printf("  cpu        %s (%d logical cores)\n", e->cpu, e->cores);
    printf("  features   %s\n", e->features);
    printf("  isa path  ");
    for (int b = 0; b < backends->n; b++) {
        const char *isa = strcmp(backends->v[b], "auto") == 0 ? "per model (cuda, cpu or ref)"
                                                              : ev_bench_backend_isa(backends->v[b]);
        printf(" %s: %s%s", backends->v[b], *isa ? isa : "n/a", b + 1 < backends->n ? ";" : "");
    }
    printf("\n  os         %s\n", e->os);
    printf("  compiler   %s\n", e->compiler);
    printf("  libraries  %s\n", e->libraries);
    printf("  backends   compiled:");
    for (const char *const *b = ev_backend_names(); *b; b++) printf(" %s", *b);
    printf("; requested:");
    for (int b = 0; b < backends->n; b++) printf(" %s", backends->v[b]);
    printf("; threads:");
    for (int t = 0; t < threads->n; t++) printf(" %s", threads->v[t]);
    printf("\n\n");
}

static void print_result(const ev_bench_config *c, const ev_bench_result *r) {
    char model[256];
    ev_results_model_name(c->model, model, sizeof model);
    printf("== %s | %s x%d | %s (%s %dx%d, model input %dx%d)\n", model,
           c->backend, c->threads, c->input, r->input_kind, r->frame_w, r->frame_h, r->model_w,
           r->model_h);
    printf("init %.1f ms, first inference %.1f ms, warmup %d, %d runs in %.2f s (%s)\n",
           r->init_ms, r->first_inference_ms, r->warmup_runs, r->runs, r->elapsed_s,
           r->stopped_by);
    if (r->note[0]) printf("note: %s\n", r->note);
    printf("  %-12s %6s %9s %9s %9s %9s %9s %9s %9s\n", "stage (ms)", "count", "min", "mean",
           "std", "p50", "p90", "p99", "max");
    for (int i = 0; i < EV_STAGE_COUNT; i++) {
        if (!r->has_stage[i]) continue;
        const ev_stats *s = &r->stages[i];
        printf("  %-12s %6zu %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", ev_bench_stage_name(i),
               s->count, s->min, s->mean, s->std, s->p50, s->p90, s->p99, s->max);
    }
    printf("FPS end to end %.3f, inference only %.3f", r->fps, r->fps_inference);
    if (r->pipelined_runs) printf(", pipelined %.3f (%d frames)", r->fps_pipelined, r->pipelined_runs);
    printf("; peak RSS %.1f MB\n", r->peak_rss_mb);
    if (r->has_accuracy)
        printf("COCO keypoints: AP %.3f, AP50 %.3f, AP75 %.3f, AR %.3f (%d images)\n",
               r->accuracy.ap, r->accuracy.ap50, r->accuracy.ap75, r->accuracy.ar,
               r->accuracy.num_images);
    printf("\n");
}

typedef struct bench_opts {
    list models, backends, threads, inputs;
    ev_bench_config base;
    double cooldown;
    const char *json, *label, *ann, *images, *profile, *trace;
    int quiet;
} bench_opts;

static int parse_args(int argc, char **argv, bench_opts *o) {
    enum { O_MODEL = 1000, O_BACKEND, O_THREADS, O_WARM, O_MINR, O_MINS, O_MAXS, O_COOL, O_LOOP,
           O_PIPE, O_DRAW, O_ENC, O_ANN, O_IMG, O_JSON, O_LABEL, O_QUIET, O_HELP, O_PROFILE,
           O_TRACE, O_INSIZE, O_INPUT, O_SEED };
    static const struct option lo[] = {
        {"model", required_argument, 0, O_MODEL}, {"backend", required_argument, 0, O_BACKEND},
        {"threads", required_argument, 0, O_THREADS},
        {"warmup-runs", required_argument, 0, O_WARM}, {"min-runs", required_argument, 0, O_MINR},
        {"min-secs", required_argument, 0, O_MINS}, {"max-secs", required_argument, 0, O_MAXS},
        {"cooldown", required_argument, 0, O_COOL}, {"loop", no_argument, 0, O_LOOP},
        {"pipelined", no_argument, 0, O_PIPE}, {"draw", no_argument, 0, O_DRAW},
        {"encode", required_argument, 0, O_ENC},
        {"eval-annotations", required_argument, 0, O_ANN},
        {"eval-images", required_argument, 0, O_IMG}, {"json", required_argument, 0, O_JSON},
        {"label", required_argument, 0, O_LABEL}, {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP}, {"profile", required_argument, 0, O_PROFILE},
        {"trace", required_argument, 0, O_TRACE}, {"input-size", required_argument, 0, O_INSIZE},
        {"input", required_argument, 0, O_INPUT}, {"seed", required_argument, 0, O_SEED},
        {0, 0, 0, 0}};
    ev_bench_config *c = &o->base;
    c->warmup_runs = 1;
    c->min_runs = 10;
    c->min_secs = 1;
    c->max_secs = 60;
    c->seed = 1;
    optind = 1;
    opterr = 0;
    int ch, v;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case O_MODEL: if (push(&o->models, "--model", optarg)) return 2; break;
        case O_BACKEND: if (push(&o->backends, "--backend", optarg)) return 2; break;
        case O_THREADS:
            if (cli_parse_int("bench", "--threads", optarg, 1, 256, &v)) return 2;
            if (push(&o->threads, "--threads", optarg)) return 2;
            break;
        case O_WARM: if (cli_parse_int("bench", "--warmup-runs", optarg, 0, 100000, &c->warmup_runs)) return 2; break;
        case O_MINR: if (cli_parse_int("bench", "--min-runs", optarg, 1, 10000000, &c->min_runs)) return 2; break;
        case O_MINS: if (parse_double("--min-secs", optarg, 0, 1e6, &c->min_secs)) return 2; break;
        case O_MAXS: if (parse_double("--max-secs", optarg, 0, 1e6, &c->max_secs)) return 2; break;
        case O_COOL: if (parse_double("--cooldown", optarg, 0, 3600, &o->cooldown)) return 2; break;
        case O_LOOP: c->loop = 1; break;
        case O_PIPE: c->pipelined = 1; break;
        case O_DRAW: c->draw = 1; break;
        case O_ENC: c->encode = optarg; c->draw = 1; break;
        case O_ANN: o->ann = optarg; break;
        case O_IMG: o->images = optarg; break;
        case O_JSON: o->json = optarg; break;
        case O_LABEL: o->label = optarg; break;
        case O_QUIET: o->quiet = 1; break;
        case O_PROFILE: o->profile = optarg; c->profile = 1; break;
        case O_TRACE: o->trace = optarg; c->profile = 1; break;
        case O_INPUT: if (push(&o->inputs, "INPUT", optarg)) return 2; break;
        case O_SEED: {
            char *end = NULL;
            unsigned long long seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end) {
                fprintf(stderr, "edgevision bench: error: --seed takes a non-negative integer, "
                        "got '%s'\n", optarg);
                return 2;
            }
            c->seed = seed;
            break;
        }
        case O_INSIZE: {
            char x;
            if (sscanf(optarg, "%d%c%d", &c->input_h, &x, &c->input_w) != 3 ||
                (x != 'x' && x != 'X') || c->input_h < 1 || c->input_w < 1 ||
                c->input_h > 16384 || c->input_w > 16384) {
                fprintf(stderr, "edgevision bench: error: --input-size takes HxW (e.g. 353x481), "
                        "got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case O_HELP: usage(stdout); return -1;
        default:
            fprintf(stderr, "edgevision bench: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    for (int i = optind; i < argc; i++)
        if (push(&o->inputs, "INPUT", argv[i])) return 2;
    const char *err = !o->models.n ? "--model is required"
                      : !o->inputs.n ? "no input given (a video, image, folder, /dev/videoN or random)"
                      : (!o->ann) != (!o->images) ? "--eval-annotations and --eval-images go together"
                      : NULL;
    if (!err && c->encode && o->models.n * (o->backends.n ? o->backends.n : 1) *
                                     (o->threads.n ? o->threads.n : 1) * o->inputs.n > 1)
        err = "--encode takes one model, backend, thread count and input";
    if (err) {
        fprintf(stderr, "edgevision bench: error: %s\n", err);
        usage(stderr);
        return 2;
    }
    if (!o->backends.n) push(&o->backends, "--backend", "auto");
    if (!o->threads.n) {
        static char cores[16];
        snprintf(cores, sizeof cores, "%d", cli_default_threads());
        push(&o->threads, "--threads", cores);
    }
    return 0;
}

/* The command line, for the result file. */
static char *join_args(int argc, char **argv) {
    size_t n = 16;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    snprintf(s, n, "edgevision");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

/* COCO accuracy of one model/backend/threads, once. */
static int eval_accuracy(const bench_opts *o, const ev_bench_config *c, ev_coco_stats *out) {
    ev_posenet_options po;
    ev_posenet_options_init(&po);
    po.session.backend = c->backend;
    po.session.threads = c->threads;
    ev_posenet *net = NULL;
    ev_status st = ev_posenet_create(c->model, &po, &net);
    if (st == EV_OK) st = ev_pose_eval_coco(net, o->ann, o->images, out, NULL, NULL, NULL);
    ev_posenet_free(net);
    if (st != EV_OK) {
        cli_error("bench", st, "COCO accuracy");
        return 1;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

/* --profile: one row per op of every measured combination (CSV, or JSON for *.json). */
static int write_profile(const char *path, const ev_bench_config *cfgs,
                         const ev_bench_result *res, int n) {
    cli_out out;
    if (cli_out_open(&out, path)) return 1;
    FILE *f = out.f;
    int json = ends_with(path, ".json");
    if (json) fprintf(f, "{\"profiles\": [");
    else fprintf(f, "model,backend,threads,input,op,type,kernel,reference,median_ms,macs,gops,share\n");
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (!cfgs[i].model || !res[i].profile) continue;
        char model[256];
        ev_results_model_name(cfgs[i].model, model, sizeof model);
        const char *be = res[i].backend_used[0] ? res[i].backend_used : cfgs[i].backend;
        if (json) {
            fprintf(f, "%s\n {\"model\": ", first ? "" : ",");
            json_string(f, model);
            fprintf(f, ", \"backend\": ");
            json_string(f, be);
            fprintf(f, ", \"threads\": %d, \"input\": ", cfgs[i].threads);
            json_string(f, cfgs[i].input);
            fprintf(f, ", \"runs\": %d, \"ops\": [", res[i].runs);
        }
        first = 0;
        for (int k = 0; k < res[i].num_profile_ops; k++) {
            const ev_bench_op_profile *p = &res[i].profile[k];
            if (json) {
                fprintf(f, "%s\n  {\"op\": %d, \"type\": ", k ? "," : "", p->op);
                json_string(f, p->type);
                fprintf(f, ", \"kernel\": ");
                json_string(f, p->kernel);
                fprintf(f, ", \"reference\": %s, \"median_ms\": %.6f, \"macs\": %lld, "
                        "\"gops\": %.3f, \"share\": %.6f}", p->reference ? "true" : "false",
                        p->median_ms, (long long)p->macs, p->gops, p->share);
            } else {
                fprintf(f, "%s,%s,%d,%s,%d,%s,%s,%d,%.6f,%lld,%.3f,%.6f\n", model, be,
                        cfgs[i].threads, cfgs[i].input, p->op, p->type ? p->type : "?",
                        p->kernel, p->reference, p->median_ms, (long long)p->macs, p->gops,
                        p->share);
            }
        }
        if (json) fprintf(f, "]}");
    }
    if (json) fprintf(f, "\n]}\n");
    return cli_out_close(&out, 1) ? 1 : 0;
}

/* --trace: Chrome trace-event JSON: one process per combination, its last measured run as
 * complete ("X") events, one per op, ts/dur in microseconds. */
static int write_trace(const char *path, const ev_bench_config *cfgs,
                       const ev_bench_result *res, int n) {
    cli_out out;
    if (cli_out_open(&out, path)) return 1;
    FILE *f = out.f;
    fprintf(f, "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [");
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (!cfgs[i].model || !res[i].profile) continue;
        char model[256], name[400];
        ev_results_model_name(cfgs[i].model, model, sizeof model);
        snprintf(name, sizeof name, "%s | %s x%d", model,
                 res[i].backend_used[0] ? res[i].backend_used : cfgs[i].backend, cfgs[i].threads);
        fprintf(f, "%s\n {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": %d, \"tid\": 1, "
                "\"args\": {\"name\": ", first ? "" : ",", i + 1);
        json_string(f, name);
        fprintf(f, "}},\n {\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": %d, \"tid\": 1, "
                "\"args\": {\"name\": \"inference (caller thread)\"}}", i + 1);
        first = 0;
        for (int k = 0; k < res[i].num_profile_ops; k++) {
            const ev_bench_op_profile *p = &res[i].profile[k];
            fprintf(f, ",\n {\"name\": ");
            json_string(f, p->type);
            fprintf(f, ", \"cat\": \"op\", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, "
                    "\"pid\": %d, \"tid\": 1, \"args\": {\"op\": %d, \"kernel\": ",
                    p->start_us, p->dur_us, i + 1, p->op);
            json_string(f, p->kernel);
            fprintf(f, ", \"macs\": %lld}}", (long long)p->macs);
        }
    }
    fprintf(f, "\n]}\n");
    return cli_out_close(&out, 1) ? 1 : 0;
}

int cmd_bench(int argc, char **argv) {
    bench_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    ev_bench_env env;
    ev_bench_env_get(&env);
    print_env(&env, &o.backends, &o.threads);
    fflush(stdout);
    char *command = join_args(argc, argv);
    ev_results *res = NULL;
    ev_status st = ev_results_begin(&env, o.label, command, &o.base, &res);
    free(command);
    if (st != EV_OK) {
        cli_error("bench", st, "starting the result file");
        return 1;
    }
    int failures = 0, measured = 0, ncomb = o.models.n * o.backends.n * o.threads.n;
    ev_bench_result *done = calloc((size_t)ncomb * (size_t)o.inputs.n, sizeof *done);
    ev_bench_config *cfgs = calloc((size_t)ncomb * (size_t)o.inputs.n, sizeof *cfgs);
    ev_coco_stats *acc = calloc((size_t)ncomb, sizeof *acc);
    int *acc_state = calloc((size_t)ncomb, sizeof *acc_state); /* 0 todo, 1 ok, 2 failed */
    if (!done || !cfgs || !acc || !acc_state) {
        fprintf(stderr, "edgevision bench: error: out of memory\n");
        free(done), free(cfgs), free(acc), free(acc_state);
        ev_results_free(res);
        return 1;
    }
    int tty = isatty(2) && !o.quiet;
    for (int in = 0; in < o.inputs.n; in++)
        for (int m = 0; m < o.models.n; m++)
            for (int b = 0; b < o.backends.n; b++)
                for (int t = 0; t < o.threads.n; t++) {
                    int comb = (m * o.backends.n + b) * o.threads.n + t;
                    ev_bench_config c = o.base;
                    c.model = o.models.v[m];
                    c.backend = o.backends.v[b];
                    c.threads = atoi(o.threads.v[t]);
                    c.input = o.inputs.v[in];
                    progress_state ps = {&c, tty};
                    c.progress = progress_cb;
                    c.user = &ps;
                    char msg[1200];
                    if (!backend_compiled(c.backend)) {
                        snprintf(msg, sizeof msg, "backend '%s' is not compiled into this build "
                                 "(see 'edgevision version'); skipped", c.backend);
                        fprintf(stderr, "edgevision bench: error: %s: %s\n\n", c.model, msg);
                        ev_results_add_error(res, &c, msg);
                        failures++;
                        continue;
                    }
                    if (measured && o.cooldown > 0) {
                        struct timespec ts = {(time_t)o.cooldown,
                                              (long)((o.cooldown - floor(o.cooldown)) * 1e9)};
                        nanosleep(&ts, NULL);
                    }
                    ev_bench_result r;
                    st = ev_bench_run(&c, &r);
                    if (tty) fprintf(stderr, "\r%70s\r", "");
                    measured++;
                    if (st == EV_OK && r.backend_used[0]) c.backend = compiled_name(r.backend_used);
                    if (st != EV_OK) {
                        snprintf(msg, sizeof msg, "%s", ev_last_error());
                        cli_error("bench", st, c.input);
                        fprintf(stderr, "\n");
                        ev_results_add_error(res, &c, msg);
                        failures++;
                        continue;
                    }
                    if (o.ann && acc_state[comb] == 0)
                        acc_state[comb] = eval_accuracy(&o, &c, &acc[comb]) ? 2 : 1;
                    if (acc_state[comb] == 1) {
                        r.has_accuracy = 1;
                        r.accuracy = acc[comb];
                    } else if (acc_state[comb] == 2) {
                        failures++;
                    }
                    print_result(&c, &r);
                    fflush(stdout);
                    st = ev_results_add(res, &c, &r);
                    if (st != EV_OK) cli_error("bench", st, "recording the result");
                    c.progress = NULL;
                    c.user = NULL;
                    cfgs[in * ncomb + comb] = c;
                    done[in * ncomb + comb] = r;
                }
    printf("summary: %-48s %-8s %3s %-16s %9s %9s %8s\n", "model", "backend", "thr", "input",
           "inf p50ms", "FPS", "RSS MB");
    for (int i = 0; i < ncomb * o.inputs.n; i++) {
        if (!cfgs[i].model) continue;
        char model[256];
        ev_results_model_name(cfgs[i].model, model, sizeof model);
        const char *in = strrchr(cfgs[i].input, '/');
        printf("         %-48s %-8s %3d %-16s %9.1f %9.3f %8.1f\n", model, cfgs[i].backend,
               cfgs[i].threads, in ? in + 1 : cfgs[i].input,
               done[i].stages[EV_STAGE_INFERENCE].p50, done[i].fps, done[i].peak_rss_mb);
    }
    if (o.profile) {
        if (write_profile(o.profile, cfgs, done, ncomb * o.inputs.n)) failures++;
        else printf("profile written to %s\n", o.profile);
    }
    if (o.trace) {
        if (write_trace(o.trace, cfgs, done, ncomb * o.inputs.n)) failures++;
        else printf("trace written to %s\n", o.trace);
    }
    if (o.json) {
        st = ev_results_write(res, o.json);
        if (st != EV_OK) {
            cli_error("bench", st, "writing the results");
            failures++;
        } else {
            printf("results written to %s\n", o.json);
        }
    }
    for (int i = 0; i < ncomb * o.inputs.n; i++) ev_bench_result_release(&done[i]);
    free(done), free(cfgs), free(acc), free(acc_state);
    ev_results_free(res);
    return failures ? 1 : 0;
}
