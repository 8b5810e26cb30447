/*
 * cmd_run.c - `edgevision run --model M [--backend B] --input NAME=FILE ... --output-dir DIR`:
 * runs any model the library reads on tensors from files and writes every output.
 *
 * Inputs: ONNX TensorProto (.pb) or NumPy (.npy) files (ev_tensor_file_read); dtype and shape
 * come from the file and must be the model input's exactly (NCHW for ONNX models, as the model
 * declares). NAME is a model input's name; a bare FILE takes the next input in model order.
 * Outputs: DIR/output_<i>.pb (ONNX TensorProto named like the model output, in the model's
 * output order), or .npy with --format npy. Exit codes: 0 done, 1 a load or run failure (an
 * unsupported op names its op type), 2 usage.
 *
 * Extend: another tensor file format is a branch in the library's ev_tensor_file_read/_write.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INPUTS 64

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision run --model MODEL --input [NAME=]FILE ... --output-dir DIR [options]\n"
            "\n"
            "Runs MODEL on tensors read from files and writes every output to DIR/output_<i>.pb\n"
            "(ONNX TensorProto, in the model's output order). Input files: .pb (ONNX TensorProto)\n"
            "or .npy (NumPy); dtype and shape must be the model input's (NCHW for ONNX models).\n"
            "\n"
            "options:\n"
            "  --backend B       ref, cpu, cuda or auto (default cpu)\n"
            "  --threads N       worker threads (default: the machine's cores)\n"
            "  --format pb|npy   output file format (default pb)\n"
            "  --input-size HxW  input size for models with a free image size\n");
}

static const char *shape_str(const ev_tensor_info *t, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    if (t->ndim == 0) snprintf(buf, n, "scalar");
    for (int d = 0; d < t->ndim && k + 1 < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? "x%d" : "%d", t->dims[d]);
    return buf;
}

int cmd_run(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},      {"backend", required_argument, 0, 'b'},
        {"threads", required_argument, 0, 't'},    {"input", required_argument, 0, 'i'},
        {"output-dir", required_argument, 0, 'o'}, {"format", required_argument, 0, 'f'},
        {"input-size", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model_path = NULL, *backend = "cpu", *out_dir = NULL, *format = "pb";
    const char *inputs[MAX_INPUTS];
    int n_inputs = 0, threads = cli_default_threads(), in_h = 0, in_w = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'b': backend = optarg; break;
        case 't':
            if (cli_parse_int("run", "--threads", optarg, 1, 1024, &threads)) return 2;
            break;
        case 'i':
            if (n_inputs == MAX_INPUTS) {
                fprintf(stderr, "edgevision run: error: more than %d --input\n", MAX_INPUTS);
                return 2;
            }
            inputs[n_inputs++] = optarg;
            break;
        case 'o': out_dir = optarg; break;
        case 'f': format = optarg; break;
        case 's':
            if (sscanf(optarg, "%dx%d", &in_h, &in_w) != 2 || in_h < 1 || in_w < 1) {
                fprintf(stderr, "edgevision run: error: --input-size takes HxW, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model_path || !out_dir || optind != argc ||
        (strcmp(format, "pb") != 0 && strcmp(format, "npy") != 0)) {
        usage(stderr);
        return 2;
    }
    ev_model *model = NULL;
    ev_session *session = NULL;
    ev_tensor_file *files[MAX_INPUTS] = {0};
    int rc = 1;
    ev_status st = in_h ? ev_model_load_with_input(model_path, in_h, in_w, &model)
                        : ev_model_load(model_path, &model);
    if (st != EV_OK) {
        cli_error("run", st, model_path);
        return 1;
    }
    int nin = ev_model_num_inputs(model), nout = ev_model_num_outputs(model);
    if (n_inputs != nin) {
        fprintf(stderr, "edgevision run: error: the model has %d inputs, %d --input given\n", nin,
                n_inputs);
        ev_model_free(model);
        return 2;
    }
    ev_session_options so;
    ev_session_options_init(&so);
    so.backend = backend;
    so.threads = threads;
    if ((st = ev_session_create(model, &so, &session)) != EV_OK) {
        cli_error("run", st, model_path);
        goto done;
    }
    int next = 0, used[MAX_INPUTS] = {0};
    for (int k = 0; k < n_inputs; k++) {
        const char *spec = inputs[k], *eq = strchr(spec, '='), *path = eq ? eq + 1 : spec;
        int idx = -1;
        ev_tensor_info info;
        if (eq) {
            for (int i = 0; i < nin && idx < 0; i++) {
                ev_model_input_info(model, i, &info);
                if (strlen(info.name) == (size_t)(eq - spec) &&
                    strncmp(info.name, spec, (size_t)(eq - spec)) == 0)
                    idx = i;
            }
            if (idx < 0) {
                fprintf(stderr, "edgevision run: error: the model has no input named '%.*s'\n",
                        (int)(eq - spec), spec);
                rc = 2;
                goto done;
            }
        } else {
            while (next < nin && used[next]) next++;
            idx = next;
        }
        if (idx >= nin || used[idx]) {
            fprintf(stderr, "edgevision run: error: input %d given twice\n", idx);
            rc = 2;
            goto done;
        }
        used[idx] = 1;
        if ((st = ev_tensor_file_read(path, &files[k])) != EV_OK) {
            cli_error("run", st, path);
            goto done;
        }
        ev_model_input_info(model, idx, &info);
        const ev_tensor_info *fi = &files[k]->info;
        int same = fi->dtype == info.dtype && fi->ndim == info.ndim;
        for (int d = 0; same && d < fi->ndim; d++) same = fi->dims[d] == info.dims[d];
        if (!same) {
            char a[96], b[96];
            fprintf(stderr, "edgevision run: error: %s: %s %s, but model input '%s' is %s %s\n",
                    path, shape_str(fi, a, sizeof a), ev_dtype_name(fi->dtype), info.name,
                    shape_str(&info, b, sizeof b), ev_dtype_name(info.dtype));
            goto done;
        }
        if ((st = ev_session_set_input(session, idx, files[k]->data, fi->bytes)) != EV_OK) {
            cli_error("run", st, path);
            goto done;
        }
    }
    if ((st = ev_session_run(session)) != EV_OK) {
        cli_error("run", st, model_path);
        goto done;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "edgevision run: error: cannot create %s: %s\n", out_dir, strerror(errno));
        goto done;
    }
    for (int i = 0; i < nout; i++) {
        const void *data;
        ev_tensor_info info;
        if ((st = ev_session_output(session, i, &data, &info)) != EV_OK) {
            cli_error("run", st, "output");
            goto done;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/output_%d.%s", out_dir, i, format);
        if ((st = ev_tensor_file_write(path, &info, data)) != EV_OK) {
            cli_error("run", st, path);
            goto done;
        }
    }
    rc = 0;
done:
    for (int k = 0; k < n_inputs; k++) ev_tensor_file_free(files[k]);
    ev_session_free(session);
    ev_model_free(model);
    return rc;
}
