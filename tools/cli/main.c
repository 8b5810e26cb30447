/*
 * main.c - the edgevision CLI: dispatches to one subcommand per file (cmd_<name>.c).
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision <command> [options] INPUT...\n"
            "\n"
            "commands:\n"
            "  pose      estimate human poses with a PoseNet model (images, videos)\n"
            "  bench     frames per second of PoseNet models, stage by stage, as JSON\n"
            "  eval-pose COCO keypoint AP/AR of a PoseNet model on annotated images\n"
            "  report    merge bench results from many machines into a table and a chart\n"
            "  classify  top-k image classes with a TFLite classifier (optionally extractor + head)\n"
            "  quantize  post-training int8 quantization of a float model, calibrated on images\n"
            "  train     fine-tune a car / not-car head on a frozen backbone (run folder)\n"
            "  eval      test report of a trained model on image folders\n"
            "  inspect   a model's inputs, outputs, ops, MACs, parameters and kernels per backend\n"
            "  run       a model on tensor files (.pb, .npy), every output written to a folder\n"
            "  version   print the version and the backends of this build\n"
            "\n"
            "Run 'edgevision <command> --help' for a command's options.\n"
            "Data and models are found through $EDGEVISION_SHARED (default ../shared).\n");
}

void cli_error(const char *cmd, ev_status st, const char *what) {
    const char *detail = ev_last_error();
    fprintf(stderr, "edgevision %s: error: %s%s%s (%s)\n", cmd, what ? what : "",
            what && *detail ? ": " : "", detail, ev_status_string(st));
}

int cli_default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

void cli_print_backend(const ev_session *session) {
    const char *b = ev_session_backend_name(session);
    if (!b) return;
    int t = ev_session_threads(session);
    const char *isa = strcmp(b, "cpu") == 0 ? ev_cpu_isa_name() : "";
    fprintf(stderr, "edgevision: backend %s%s%s%s, %d thread%s\n", b, *isa ? " (" : "", isa,
            *isa ? ")" : "", t, t == 1 ? "" : "s");
}

const char *cli_shared_dir(void) {
    const char *s = getenv("EDGEVISION_SHARED");
    return s && *s ? s : "../shared";
}

int cli_out_open(cli_out *o, const char *path) {
    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    if (ev_file_writer_open(path, &o->file) != EV_OK) {
        fprintf(stderr, "edgevision: error: cannot write %s.tmp: %s\n", path, strerror(errno));
        ev_clear_error();
        return -1;
    }
    o->f = ev_file_writer_stream(o->file);
    o->path = strdup(path);
    return 0;
}

int cli_out_close(cli_out *o, int commit) {
    int rc = 0;
    if (!o->f) return -1;
    if (o->f == stdout) {
        rc = fflush(stdout) == 0 ? 0 : -1;
    } else if (commit) {
        if (ev_file_writer_commit(o->file) != EV_OK) {
            fprintf(stderr, "edgevision: error: cannot write %s\n", o->path ? o->path : "output");
            ev_clear_error();
            rc = -1;
        }
    } else {
        ev_file_writer_abort(o->file);
        rc = -1;
    }
    free(o->path);
    memset(o, 0, sizeof *o);
    return rc;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out) {
    char *end = NULL;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "edgevision %s: error: %s takes an integer in [%d, %d], got '%s'\n", cmd,
                opt, lo, hi, s ? s : "");
        return 1;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_float(const char *cmd, const char *opt, const char *s, float lo, float hi,
                    float *out) {
    char *end = NULL;
    errno = 0;
    float v = s ? strtof(s, &end) : 0;
    if (!s || !*s || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "edgevision %s: error: %s takes a number in [%g, %g], got '%s'\n", cmd,
                opt, (double)lo, (double)hi, s ? s : "");
        return 1;
    }
    *out = v;
    return 0;
}

static int print_version(void) {
    printf("edgevision %s\nbackends:", EV_VERSION_STRING);
    for (const char *const *b = ev_backend_names(); *b; b++) printf(" %s", *b);
    printf("\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    /* GNU conventions: --version anywhere (before "--") prints the version on stdout and exits
     * 0, for every subcommand too; --help is each subcommand's own (stdout, exit 0). */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--version") == 0) return print_version();
    if (strcmp(cmd, "pose") == 0) return cmd_pose(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "eval-pose") == 0) return cmd_eval_pose(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "classify") == 0) return cmd_classify(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "quantize") == 0) return cmd_quantize(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0) return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0) return print_version();
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "edgevision: error: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
