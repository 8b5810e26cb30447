/*
 * test_inspect.c - `edgevision inspect` and the MAC/parameter counts behind it
 * (ev_model_op_info, ev_model_macs, ev_backend_kernels; src/core/model_info.c).
 *
 *   macs:     the PoseNet 353x481 backbone's total MACs, counted here independently from the
 *             graph's conv shapes (out_h*out_w*out_c*k_h*k_w*in_c/groups), equal the library's
 *             and `inspect --format json`'s "macs", and round to 1.246 GMAC.
 *   json:     --format json prints one object: inputs, outputs, every op, a kernel per backend.
 *   kernels:  every op has a kernel (or a reason) on every compiled backend.
 *   table:    the table names every op and the totals line.
 *   auto:     backend "auto" resolves to the first of cuda, cpu, ref that takes the model here.
 *
 * Extend: another model's total is one more call of check_model_macs with its expected GMAC.
 */
#include "ev_test.h"

#include "core/model.h"
#include "edgevision.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODEL_353 "models/posenet/posenet_mobilenet_v1_075_353_481_quant.tflite"

static char g_tmp[256];

/* Runs the CLI, returning stdout (malloc'd) and the exit code. */
static char *run_cli(const char *args, int *code) {
    char cmd[4096], op[512];
    snprintf(op, sizeof op, "%s/stdout", g_tmp);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>/dev/null </dev/null", EV_CLI_PATH, args, op);
    int rc = system(cmd);
    *code = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
    size_t n = 0;
    unsigned char *b = ev_test_read(op, &n);
    char *s = b ? realloc(b, n + 1) : NULL;
    if (!s) {
        free(b);
        return strdup("");
    }
    s[n] = '\0';
    return s;
}

/* MACs of the graph's convolutions and fully connected ops, from their tensors' shapes. */
static double independent_macs(const ev_graph *g) {
    double total = 0;
    for (int i = 0; i < g->num_ops; i++) {
        const ev_op *op = &g->ops[i];
        const ev_tensor *in = &g->tensors[op->inputs[0]];
        const ev_tensor *w = &g->tensors[op->inputs[1]];
        const ev_tensor *out = &g->tensors[op->outputs[0]];
        if (op->type == EV_OP_CONV_2D || op->type == EV_OP_DEPTHWISE_CONV_2D) {
            double out_h = out->dims[1], out_w = out->dims[2], out_c = out->dims[3];
            double in_c = in->dims[3], k_h = w->dims[1], k_w = w->dims[2];
            double groups = op->type == EV_OP_DEPTHWISE_CONV_2D ? in_c : 1;
            total += out->dims[0] * out_h * out_w * out_c * k_h * k_w * in_c / groups;
        } else if (op->type == EV_OP_FULLY_CONNECTED) {
            total += (double)out->dims[0] * out->dims[out->ndim - 1] * w->dims[1];
        }
    }
    return total;
}

static void test_posenet_macs(void) {
    char path[1024];
    ev_test_path(path, sizeof path, MODEL_353);
    EV_REQUIRE_FILE(path);
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(path, &m));
    if (!m) return;
    double expect = independent_macs(&m->graph);
    CHECK(expect > 1e9);
    CHECK_EQ_INT(ev_model_macs(m), (int64_t)expect);
    CHECK_MSG(fabs(round(expect / 1e6) / 1e3 - 1.246) < 1e-9, "%.0f MACs do not round to 1.246 "
              "GMAC", expect);
    int64_t sum = 0;
    for (int i = 0; i < ev_model_num_ops(m); i++) {
        ev_op_info oi;
        CHECK_OK(ev_model_op_info(m, i, &oi));
        sum += oi.macs;
        if (strcmp(oi.type, "CONV_2D") == 0) CHECK(oi.params > 0 && oi.macs > 0);
        if (strcmp(oi.type, "CONCATENATION") == 0) CHECK(oi.macs == 0 && oi.params == 0);
    }
    CHECK_EQ_INT(sum, (int64_t)expect);
    ev_op_info oi;
    CHECK(ev_model_op_info(m, ev_model_num_ops(m), &oi) == EV_ERR_INVALID_ARG);

    /* the CLI's JSON: one object, "macs" the same number */
    char args[1200];
    int code = -1;
    snprintf(args, sizeof args, "inspect --format json '%s'", path);
    char *out = run_cli(args, &code);
    CHECK_EQ_INT(code, 0);
    cJSON *j = cJSON_Parse(out);
    CHECK_MSG(j != NULL, "inspect json does not parse: %.200s", out);
    if (j) {
        cJSON *macs = cJSON_GetObjectItem(j, "macs");
        CHECK(cJSON_IsNumber(macs));
        if (cJSON_IsNumber(macs)) CHECK(macs->valuedouble == expect);
        cJSON *ops = cJSON_GetObjectItem(j, "ops");
        CHECK_EQ_INT(cJSON_GetArraySize(ops), ev_model_num_ops(m));
        cJSON *in = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "inputs"), 0);
        CHECK(in && strcmp(cJSON_GetObjectItem(in, "dtype")->valuestring, "uint8") == 0);
        CHECK(in && cJSON_GetObjectItem(in, "quantization") &&
              cJSON_IsObject(cJSON_GetObjectItem(in, "quantization")));
        /* every op has a kernel or a reason on every backend that started */
        cJSON *op;
        cJSON_ArrayForEach(op, ops) {
            cJSON *k = cJSON_GetObjectItem(op, "kernels");
            CHECK(cJSON_GetObjectItem(k, "ref") != NULL);
            cJSON *r = cJSON_GetObjectItem(cJSON_GetObjectItem(k, "ref"), "kernel");
            CHECK(cJSON_IsString(r));
        }
        cJSON_Delete(j);
    }
    free(out);

    /* the table: totals line */
    snprintf(args, sizeof args, "inspect '%s'", path);
    out = run_cli(args, &code);
    CHECK_EQ_INT(code, 0);
    CHECK_MSG(strstr(out, "(1.246 GMAC)") != NULL, "table lacks the total: %.300s", out);
    CHECK(strstr(out, "DEPTHWISE_CONV_2D") != NULL);
    free(out);
    ev_model_free(m);
}

static void test_backend_kernels(void) {
    char path[1024];
    ev_test_path(path, sizeof path, MODEL_353);
    EV_REQUIRE_FILE(path);
    ev_model *m = NULL;
    CHECK_OK(ev_model_load(path, &m));
    if (!m) return;
    int n = ev_model_num_ops(m);
    ev_kernel_report *r = calloc((size_t)n, sizeof *r);
    for (const char *const *b = ev_backend_names(); *b; b++) {
        ev_session_options so;
        ev_session_options_init(&so);
        so.backend = *b;
        if (ev_backend_kernels(m, &so, r, n) != EV_OK) continue; /* cuda without a device */
        ev_session *s = NULL;
        CHECK_OK(ev_session_create(m, &so, &s));
        for (int i = 0; s && i < n; i++) {
            int ref = 0;
            const char *k = ev_session_kernel_name(s, i, &ref);
            CHECK(r[i].supported);
            CHECK_MSG(k && strcmp(k, r[i].kernel) == 0, "%s op %d: %s vs %s", *b, i, k,
                      r[i].kernel);
            CHECK_EQ_INT(ref, r[i].reference);
        }
        ev_session_free(s);
    }
    ev_session_options so;
    ev_session_options_init(&so);
    so.backend = "tpu9000";
    CHECK(ev_backend_kernels(m, &so, r, n) != EV_OK);
    /* auto: the first of cuda, cpu, ref whose session starts */
    const char *order[] = {"cuda", "cpu", "ref"}, *want = NULL;
    for (int k = 0; k < 3 && !want; k++) {
        ev_session *s = NULL;
        so.backend = order[k];
        if (ev_session_create(m, &so, &s) == EV_OK) want = order[k];
        ev_session_free(s);
        ev_clear_error();
    }
    ev_session *s = NULL;
    so.backend = "auto";
    so.threads = 2;
    CHECK_OK(ev_session_create(m, &so, &s));
    CHECK(want && s && strcmp(ev_session_backend_name(s), want) == 0);
    CHECK_EQ_INT(ev_session_threads(s), 2);
    ev_session_free(s);
    free(r);
    ev_model_free(m);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ev_test_inspect_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    EV_RUN(test_posenet_macs);
    EV_RUN(test_backend_kernels);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ev_test_finish();
}
