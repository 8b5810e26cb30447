/*
 * graph_builder.h - tests use the library's in-memory graph builder (src/core/graph_builder.h),
 * and gb_test_run: finish a built one-op graph and run it on ref, the first step of every test
 * that checks an op against a double computation (test_ops_movenet.c, test_ops_onnx.c), and
 * gb_pad_op: the one-op PAD / PAD_EX graphs of those tests and of the op x backend matrix.
 */
#ifndef EV_TESTS_GRAPH_BUILDER_H
#define EV_TESTS_GRAPH_BUILDER_H

#include "core/graph_builder.h"
#include "util.h"

/* Finishes `b` with inputs ins[0, n_in) (at most 8) and output `out`, and runs it on ref with
 * data[i] as input i (its size taken from the model). 0: *m, *sess, *y, *yi as ev_test_run sets
 * them (the caller frees the session and the model); -1: the builder failed (b->msg says why,
 * *m is NULL); -2: the run failed (ev_last_error() says why; the model is freed, *m is NULL). */
static inline int gb_test_run(gb *b, int n_in, const int *ins, int out, const void *const *data,
                              ev_model **m, ev_session **sess, const void **y,
                              ev_tensor_info *yi) {
    *m = NULL;
    *sess = NULL;
    gb_inputs(b, n_in, ins);
    gb_outputs(b, 1, &out);
    if (n_in > 8 || gb_finish(b, m) != EV_OK) return -1;
    size_t bytes[8];
    for (int i = 0; i < n_in; i++) {
        ev_tensor_info ti;
        ev_model_input_info(*m, i, &ti);
        bytes[i] = ti.bytes;
    }
    if (ev_test_run(*m, NULL, n_in, data, bytes, sess, y, yi) != EV_OK) {
        ev_model_free(*m);
        *m = NULL;
        return -2;
    }
    return 0;
}

/* x [d, nd dims] -> op -> y [od], the paddings ([nd][2] int32, begin / end) a constant second
 * input, x and y quantized alike (s, zp; ignored for float). Returns the op index (or -1 with
 * b->error set); *tx, *ty the tensors. */
static inline int gb_pad_op(gb *b, ev_op_type type, const char *name, int builtin, ev_dtype dt,
                            int nd, const int *d, const int *od, const int32_t *pads, float s,
                            int32_t zp, int *tx, int *ty) {
    int pd[2] = {nd, 2};
    *tx = gb_tensor_q(b, "x", dt, nd, d, NULL, s, zp);
    int tp = gb_tensor(b, "pads", EV_DTYPE_I32, 2, pd, pads, sizeof(int32_t) * 2 * (size_t)nd, 0,
                       NULL, NULL, 0);
    *ty = gb_tensor_q(b, "y", dt, nd, od, NULL, s, zp);
    int ins[2] = {*tx, tp};
    return gb_op(b, type, name, builtin, 2, ins, 1, ty);
}

#endif
