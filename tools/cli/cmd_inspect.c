/*
 * cmd_inspect.c - `edgevision inspect MODEL`: what a model holds and how this build runs it.
 * Inputs and outputs (name, shape, dtype, quantization), every op with its input/output shapes,
 * MACs and parameters (ev_model_op_info: the counting rules are in include/edgevision.h),
 * totals, and for every compiled backend (ev_backend_names) the kernel that runs each op on
 * this machine (ev_backend_kernels): the fast kernel with its ISA, "reference fallback", or
 * "unsupported: <why>"; a backend that cannot start here (cuda without a device) says so once.
 *
 * Output: --format table (default, for people) or --format json: ONE JSON object on stdout,
 * {"model", "inputs", "outputs", "ops", "backends", "macs", "params"}; "macs" (the total, a
 * number) is a contract other tools rely on.
 *
 * Extend: a new per-op figure is a field of ev_op_info (src/core/model_info.c), a column in
 * print_table and a key in print_json.
 */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BACKENDS 8

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgevision inspect [options] MODEL\n"
            "\n"
            "Prints a model's inputs and outputs, every op with its shapes, MACs and parameters,\n"
            "the totals, and which kernel runs each op on every backend of this build.\n"
            "\n"
            "options:\n"
            "  --format table|json   output format (default table; json: one object, \"macs\" total)\n"
            "  --input-size HxW      input size for free-size models (TensorFlow .pb)\n");
}

typedef struct backend_col {
    const char *name;
    int ok;                 /* the backend started here                                  */
    char error[512];        /* when it could not                                          */
    ev_kernel_report *ops;
} backend_col;

static const char *shape_str(const ev_tensor_info *t, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    if (t->ndim == 0) snprintf(buf, n, "scalar");
    for (int d = 0; d < t->ndim && k + 1 < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? "x%d" : "%d", t->dims[d]);
    return buf;
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* The kernel column of op i on a backend, for the table. */
static const char *kernel_cell(const backend_col *b, int i, char *buf, size_t n) {
    if (!b->ok) return "-";
    const ev_kernel_report *r = &b->ops[i];
    if (!r->supported) snprintf(buf, n, "unsupported: %s", r->why);
    else if (r->reference) snprintf(buf, n, "%s (reference fallback)", r->kernel);
    else snprintf(buf, n, "%s", r->kernel);
    return buf;
}

static void print_tensor_line(const ev_tensor_info *t) {
    char sh[96];
    printf("  %-32s %-16s %-8s", t->name ? t->name : "?", shape_str(t, sh, sizeof sh),
           ev_dtype_name(t->dtype));
    if (t->scale != 0.0f)
        printf(" scale %g zero_point %d%s", (double)t->scale, (int)t->zero_point,
               t->per_channel ? " (per channel)" : "");
    printf("\n");
}

static void op_shapes(const ev_model *m, const ev_op_info *oi, int outputs, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    int cnt = outputs ? oi->num_outputs : oi->num_inputs;
    const int *idx = outputs ? oi->outputs : oi->inputs;
    for (int j = 0; j < cnt && k + 1 < n; j++) {
        ev_tensor_info t;
        int constant = 0;
        char sh[64];
        if (idx[j] < 0 || ev_model_tensor_info(m, idx[j], &t, &constant) != EV_OK) continue;
        if (constant && !outputs) continue; /* weights are the params column */
        k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "," : "", shape_str(&t, sh, sizeof sh));
    }
}

static void print_table(const char *path, const ev_model *m, const backend_col *b, int nb) {
    printf("model %s\n", path);
    printf("inputs\n");
    for (int i = 0; i < ev_model_num_inputs(m); i++) {
        ev_tensor_info t;
        if (ev_model_input_info(m, i, &t) == EV_OK) print_tensor_line(&t);
    }
    printf("outputs\n");
    for (int i = 0; i < ev_model_num_outputs(m); i++) {
        ev_tensor_info t;
        if (ev_model_output_info(m, i, &t) == EV_OK) print_tensor_line(&t);
    }
    for (int k = 0; k < nb; k++)
        if (!b[k].ok) printf("backend %s: cannot start here: %s\n", b[k].name, b[k].error);
    printf("ops\n  %4s %-20s %-28s %-16s %14s %10s", "#", "type", "inputs", "output", "MACs",
           "params");
    for (int k = 0; k < nb; k++)
        if (b[k].ok) printf("  %-30s", b[k].name);
    printf("\n");
    int64_t macs = 0, params = 0;
    int n = ev_model_num_ops(m);
    for (int i = 0; i < n; i++) {
        ev_op_info oi;
        if (ev_model_op_info(m, i, &oi) != EV_OK) continue;
        char ins[256], outs[128], cell[320];
        op_shapes(m, &oi, 0, ins, sizeof ins);
        op_shapes(m, &oi, 1, outs, sizeof outs);
        printf("  %4d %-20s %-28s %-16s %14" PRId64 " %10" PRId64, i, oi.type, ins, outs, oi.macs,
               oi.params);
        for (int k = 0; k < nb; k++)
            if (b[k].ok) printf("  %-30s", kernel_cell(&b[k], i, cell, sizeof cell));
        printf("\n");
        macs += oi.macs;
        params += oi.params;
    }
    printf("total: %d ops, %" PRId64 " MACs (%.3f GMAC), %" PRId64 " parameters\n", n, macs,
           (double)macs / 1e9, params);
    for (int k = 0; k < nb; k++) {
        if (!b[k].ok) continue;
        int fast = 0, ref = 0, unsup = 0;
        for (int i = 0; i < n; i++) {
            if (!b[k].ops[i].supported) unsup++;
            else if (b[k].ops[i].reference) ref++;
            else fast++;
        }
        const char *isa = strcmp(b[k].name, "cpu") == 0 ? ev_cpu_isa_name() : "";
        printf("backend %s%s%s%s: %d ops on its own kernels, %d reference fallback, %d "
               "unsupported\n", b[k].name, *isa ? " (" : "", isa, *isa ? ")" : "", fast, ref,
               unsup);
    }
}

static void print_tensor_json(const ev_tensor_info *t) {
    printf("{\"name\": ");
    json_str(stdout, t->name);
    printf(", \"shape\": [");
    for (int d = 0; d < t->ndim; d++) printf("%s%d", d ? ", " : "", t->dims[d]);
    printf("], \"dtype\": \"%s\"", ev_dtype_name(t->dtype));
    if (t->scale != 0.0f)
        printf(", \"quantization\": {\"scale\": %.9g, \"zero_point\": %d, \"per_channel\": %s}",
               (double)t->scale, (int)t->zero_point, t->per_channel ? "true" : "false");
    else
        printf(", \"quantization\": null");
    printf("}");
}

static void print_json(const char *path, const ev_model *m, const backend_col *b, int nb) {
    printf("{\"model\": ");
    json_str(stdout, path);
    printf(", \"inputs\": [");
    for (int i = 0; i < ev_model_num_inputs(m); i++) {
        ev_tensor_info t;
        if (ev_model_input_info(m, i, &t) != EV_OK) continue;
        printf(i ? ", " : "");
        print_tensor_json(&t);
    }
    printf("], \"outputs\": [");
    for (int i = 0; i < ev_model_num_outputs(m); i++) {
        ev_tensor_info t;
        if (ev_model_output_info(m, i, &t) != EV_OK) continue;
        printf(i ? ", " : "");
        print_tensor_json(&t);
    }
    printf("], \"backends\": [");
    for (int k = 0; k < nb; k++) {
        printf("%s{\"name\": \"%s\", \"available\": %s", k ? ", " : "", b[k].name,
               b[k].ok ? "true" : "false");
        if (!b[k].ok) {
            printf(", \"error\": ");
            json_str(stdout, b[k].error);
        } else if (strcmp(b[k].name, "cpu") == 0) {
            printf(", \"isa\": \"%s\"", ev_cpu_isa_name());
        }
        printf("}");
    }
    printf("], \"ops\": [");
    int64_t macs = 0, params = 0;
    int n = ev_model_num_ops(m);
    for (int i = 0; i < n; i++) {
        ev_op_info oi;
        if (ev_model_op_info(m, i, &oi) != EV_OK) continue;
        printf("%s\n  {\"index\": %d, \"type\": ", i ? "," : "", i);
        json_str(stdout, oi.type);
        for (int io = 0; io < 2; io++) {
            printf(io ? ", \"outputs\": [" : ", \"inputs\": [");
            int cnt = io ? oi.num_outputs : oi.num_inputs;
            const int *idx = io ? oi.outputs : oi.inputs;
            int first = 1;
            for (int j = 0; j < cnt; j++) {
                ev_tensor_info t;
                int constant = 0;
                if (idx[j] < 0 || ev_model_tensor_info(m, idx[j], &t, &constant) != EV_OK)
                    continue;
                printf("%s{\"tensor\": %d, \"shape\": [", first ? "" : ", ", idx[j]);
                for (int d = 0; d < t.ndim; d++) printf("%s%d", d ? ", " : "", t.dims[d]);
                printf("], \"dtype\": \"%s\", \"constant\": %s}", ev_dtype_name(t.dtype),
                       constant ? "true" : "false");
                first = 0;
            }
            printf("]");
        }
        printf(", \"macs\": %" PRId64 ", \"params\": %" PRId64 ", \"kernels\": {", oi.macs,
               oi.params);
        int first = 1;
        for (int k = 0; k < nb; k++) {
            if (!b[k].ok) continue;
            const ev_kernel_report *r = &b[k].ops[i];
            printf("%s\"%s\": ", first ? "" : ", ", b[k].name);
            if (r->supported) {
                printf("{\"kernel\": ");
                json_str(stdout, r->kernel);
                printf(", \"reference\": %s}", r->reference ? "true" : "false");
            } else {
                printf("{\"unsupported\": ");
                json_str(stdout, r->why);
                printf("}");
            }
            first = 0;
        }
        printf("}}");
        macs += oi.macs;
        params += oi.params;
    }
    printf("],\n \"num_ops\": %d, \"macs\": %" PRId64 ", \"params\": %" PRId64 "}\n", n, macs,
           params);
}

int cmd_inspect(int argc, char **argv) {
    enum { O_FORMAT = 1000, O_INSIZE, O_HELP };
    static const struct option lo[] = {{"format", required_argument, 0, O_FORMAT},
                                       {"input-size", required_argument, 0, O_INSIZE},
                                       {"help", no_argument, 0, O_HELP},
                                       {0, 0, 0, 0}};
    int json = 0, in_h = 0, in_w = 0, ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case O_FORMAT:
            if (strcmp(optarg, "json") == 0) json = 1;
            else if (strcmp(optarg, "table") == 0) json = 0;
            else {
                fprintf(stderr, "edgevision inspect: error: --format takes table or json, got "
                        "'%s'\n", optarg);
                return 2;
            }
            break;
        case O_INSIZE: {
            char x;
            if (sscanf(optarg, "%d%c%d", &in_h, &x, &in_w) != 3 || (x != 'x' && x != 'X') ||
                in_h < 1 || in_w < 1 || in_h > 16384 || in_w > 16384) {
                fprintf(stderr, "edgevision inspect: error: --input-size takes HxW (e.g. "
                        "353x481), got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "edgevision inspect: error: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "edgevision inspect: error: give one MODEL\n");
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    ev_model *m = NULL;
    ev_status st = in_h ? ev_model_load_with_input(path, in_h, in_w, &m) : ev_model_load(path, &m);
    if (st != EV_OK) {
        cli_error("inspect", st, path);
        return 1;
    }
    backend_col cols[MAX_BACKENDS];
    int nb = 0, n = ev_model_num_ops(m);
    for (const char *const *b = ev_backend_names(); *b && nb < MAX_BACKENDS; b++, nb++) {
        backend_col *c = &cols[nb];
        memset(c, 0, sizeof *c);
        c->name = *b;
        c->ops = calloc((size_t)n + 1, sizeof *c->ops);
        if (!c->ops) {
            fprintf(stderr, "edgevision inspect: error: out of memory\n");
            for (int k = 0; k < nb; k++) free(cols[k].ops);
            ev_model_free(m);
            return 1;
        }
        ev_session_options so;
        ev_session_options_init(&so);
        so.backend = *b;
        st = ev_backend_kernels(m, &so, c->ops, n);
        c->ok = st == EV_OK;
        if (!c->ok) snprintf(c->error, sizeof c->error, "%s", ev_last_error());
        ev_clear_error();
    }
    if (json) print_json(path, m, cols, nb);
    else print_table(path, m, cols, nb);
    for (int k = 0; k < nb; k++) free(cols[k].ops);
    ev_model_free(m);
    return fflush(stdout) == 0 ? 0 : 1;
}
