/*
 * cmd_report.c - `edgevision report [--baseline SETUP] --out DIR RESULT.json...`: merges result
 * files of `edgevision bench` from any machines into DIR/report.md and DIR/fps.svg
 * (src/bench/report.c). Every file is read before anything is written; a malformed file stops
 * the report with a message naming the file and where it is broken.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision report [--baseline SETUP] --out DIR RESULT.json...\n"
            "\n"
            "Merges benchmark result files (from any machines) into DIR/report.md (a table and a\n"
            "ranking) and DIR/fps.svg (a bar chart of FPS per hardware setup and model).\n"
            "\n"
            "options:\n"
            "  --out DIR          output directory (created when missing; required)\n"
            "  --baseline SETUP   the setup others are compared with: a setup as the report names\n"
            "                     it ('host ref x1') or a machine label with one setup (default:\n"
            "                     the first setup read)\n");
}

int cmd_report(int argc, char **argv) {
    enum { O_OUT = 1000, O_BASE, O_HELP };
    static const struct option lo[] = {{"out", required_argument, 0, O_OUT},
                                       {"baseline", required_argument, 0, O_BASE},
                                       {"help", no_argument, 0, O_HELP},
                                       {0, 0, 0, 0}};
    const char *out = NULL, *baseline = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_OUT: out = optarg; break;
        case O_BASE: baseline = optarg; break;
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "edgevision report: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    int nfiles = argc - optind;
    if (!out || nfiles < 1) {
        fprintf(stderr, "edgevision report: error: %s\n",
                !out ? "--out DIR is required" : "no result file given");
        usage(stderr);
        return 2;
    }
    ev_report_row *rows = NULL;
    int n = 0;
    ev_status st = EV_OK;
    for (int i = 0; i < nfiles && st == EV_OK; i++) st = ev_results_load(argv[optind + i], &rows, &n);
    if (st == EV_OK)
        st = ev_bench_report_write(rows, n, (const char *const *)(argv + optind), nfiles, baseline, out);
    free(rows);
    if (st != EV_OK) {
        cli_error("report", st, "");
        return st == EV_ERR_INVALID_ARG ? 2 : 1;
    }
    printf("%d result%s from %d file%s: %s/report.md, %s/fps.svg\n", n, n == 1 ? "" : "s", nfiles,
           nfiles == 1 ? "" : "s", out, out);
    return 0;
}
