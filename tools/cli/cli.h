/*
 * cli.h - shared pieces of the edgevision command-line tool: subcommand entry points, option
 * parsing helpers, error reporting and atomic output files.
 *
 * To add a subcommand: write tools/cli/cmd_<name>.c with `int cmd_<name>(int argc, char **argv)`
 * and list it in main.c. Exit codes: 0 success, 1 runtime failure, 2 usage error.
 */
#ifndef EV_CLI_H
#define EV_CLI_H

#include "edgevision.h"

#include <stdio.h>

int cmd_pose(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_eval_pose(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
/* classify --model RUN: a run folder (or model.json) of `edgevision train` (cmd_eval.c). */
int cli_is_head_model(const char *model);
int cli_classify_head_model(const char *run, const char *backbone, const char *backend, int top,
                            int nimg, char **images);
int cmd_quantize(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Prints "edgevision <cmd>: error: <what>: <last error>" to stderr. */
void cli_error(const char *cmd, ev_status st, const char *what);

/* The default of --threads: the machine's online cores (sysconf), at least 1. */
int cli_default_threads(void);
/* Prints "edgevision: backend cpu (vnni), 2 threads" to stderr: which backend and ISA path a
 * session runs on (stdout is the commands' output contract). */
void cli_print_backend(const ev_session *session);

/* Where ../shared is ($EDGEVISION_SHARED, default "../shared"). */
const char *cli_shared_dir(void);

/* Output that goes to stdout, or to FILE through a temporary file renamed on success
 * (the library's atomic writer, ev_file_writer). */
typedef struct cli_out {
    FILE *f;
    ev_file_writer *file; /* NULL for stdout */
    char *path;
} cli_out;
int cli_out_open(cli_out *o, const char *path);   /* 0 on success */
int cli_out_close(cli_out *o, int commit);        /* 0 on success */

/* Parses an int/float option value; prints a usage error and returns nonzero when malformed. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out);
int cli_parse_float(const char *cmd, const char *opt, const char *s, float lo, float hi,
                    float *out);

#endif
