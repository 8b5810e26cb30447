/*
 * graph_builder.h - tests use the library's in-memory graph builder (src/core/graph_builder.h),
 * and gb_test_run: finish a built one-op graph and run it on ref, the first step of every test
 * that checks an op against a double computation (test_ops_movenet.c, test_ops_onnx.c).
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

#endif
