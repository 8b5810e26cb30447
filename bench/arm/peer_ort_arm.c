/*
 * peer_ort_arm.c - benchmark driver (not a test): ONNX Runtime's C library, as shipped by the npm
 * package onnxruntime-node (bin/napi-v6/linux/arm64/libonnxruntime.so.1, ORT 1.30), runs one
 * .onnx model with bench_backbone's peer settings (CPU provider, intra-op threads = THREADS,
 * inter-op 1, sequential, graph optimization level "all"): load, set the input (peer_input.h:
 * the bytes ours gets), one warm-up Run, then RUNS more. Cross-built for aarch64 by
 * bench/arm/setup.sh and run under qemu by bench/arm/run.sh (RUNS=2 minus RUNS=1).
 * Usage: peer_ort_arm MODEL.onnx [RUNS=1] [THREADS=1]
 * Prints one line: peer=ort version=... model=... threads=... runs=... input=... outputs=N
 *
 * The npm package ships the library but not its C header, so this file declares the little it
 * uses itself: OrtGetApiBase() returns {GetApi(version), GetVersionString()}, and GetApi returns
 * a table of function pointers whose order is fixed by ORT's stable C ABI (entries are only ever
 * appended; every entry used here exists since API version 1, which is what is requested).
 * The slot numbers below are that ABI's positions. Every call returns an OrtStatus pointer,
 * NULL on success. Extend: a new call is one more slot number and one more function type.
 */
#include "peer_input.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *ort_status;
typedef void (*ort_fn)(void);
typedef struct ort_api_base {
    const ort_fn *(*get_api)(uint32_t version);
    const char *(*get_version_string)(void);
} ort_api_base;
extern const ort_api_base *OrtGetApiBase(void);

/* Slots of the API table used here (API version 1 positions). */
enum {
    SLOT_GET_ERROR_MESSAGE = 2,
    SLOT_CREATE_ENV = 3,
    SLOT_CREATE_SESSION = 7,
    SLOT_RUN = 9,
    SLOT_CREATE_SESSION_OPTIONS = 10,
    SLOT_SET_EXECUTION_MODE = 13,
    SLOT_SET_GRAPH_OPT_LEVEL = 23,
    SLOT_SET_INTRA_OP_THREADS = 24,
    SLOT_SET_INTER_OP_THREADS = 25,
    SLOT_SESSION_INPUT_COUNT = 30,
    SLOT_SESSION_OUTPUT_COUNT = 31,
    SLOT_SESSION_INPUT_TYPE_INFO = 33,
    SLOT_SESSION_INPUT_NAME = 36,
    SLOT_SESSION_OUTPUT_NAME = 37,
    SLOT_CREATE_TENSOR_WITH_DATA = 49,
    SLOT_CAST_TYPE_INFO_TO_TENSOR_INFO = 55,
    SLOT_GET_TENSOR_ELEMENT_TYPE = 60,
    SLOT_GET_DIMENSIONS_COUNT = 61,
    SLOT_GET_DIMENSIONS = 62,
    SLOT_CREATE_CPU_MEMORY_INFO = 69,
    SLOT_GET_DEFAULT_ALLOCATOR = 78,
};
enum { LOG_WARNING = 2, EXEC_SEQUENTIAL = 0, OPT_ALL = 99, ARENA_ALLOCATOR = 1, MEM_DEFAULT = 0,
       ELEM_UINT8 = 2 };

static const ort_fn *api;

typedef const char *(*fn_err_msg)(ort_status);
static void check(ort_status s, const char *what) {
    if (!s) return;
    fprintf(stderr, "peer_ort_arm: %s: %s\n", what, ((fn_err_msg)api[SLOT_GET_ERROR_MESSAGE])(s));
    exit(1);
}
#define CALL(slot, type, ...) check(((type)api[slot])(__VA_ARGS__), #slot)

typedef ort_status (*fn_create_env)(int, const char *, void **);
typedef ort_status (*fn_create_session)(void *, const char *, void *, void **);
typedef ort_status (*fn_run)(void *, void *, const char *const *, void *const *, size_t,
                             const char *const *, size_t, void **);
typedef ort_status (*fn_out)(void **);
typedef ort_status (*fn_opt_int)(void *, int);
typedef ort_status (*fn_count)(void *, size_t *);
typedef ort_status (*fn_type_info)(void *, size_t, void **);
typedef ort_status (*fn_name)(void *, size_t, void *, char **);
typedef ort_status (*fn_tensor)(void *, void *, size_t, const int64_t *, size_t, int, void **);
typedef ort_status (*fn_cast)(void *, void **);
typedef ort_status (*fn_elem)(void *, int *);
typedef ort_status (*fn_dim_count)(void *, size_t *);
typedef ort_status (*fn_dims)(void *, int64_t *, size_t);
typedef ort_status (*fn_mem_info)(int, int, void **);

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.onnx [RUNS=1] [THREADS=1]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 1, threads = argc > 3 ? atoi(argv[3]) : 1;
    const ort_api_base *base = OrtGetApiBase();
    api = base->get_api(1);
    if (!api) {
        fprintf(stderr, "peer_ort_arm: the library offers no API version 1\n");
        return 1;
    }
    void *env, *opt, *sess, *alloc, *ti, *tinfo, *mem, *input;
    CALL(SLOT_CREATE_ENV, fn_create_env, LOG_WARNING, "peer_ort_arm", &env);
    CALL(SLOT_CREATE_SESSION_OPTIONS, fn_out, &opt);
    CALL(SLOT_SET_INTRA_OP_THREADS, fn_opt_int, opt, threads);
    CALL(SLOT_SET_INTER_OP_THREADS, fn_opt_int, opt, 1);
    CALL(SLOT_SET_EXECUTION_MODE, fn_opt_int, opt, EXEC_SEQUENTIAL);
    CALL(SLOT_SET_GRAPH_OPT_LEVEL, fn_opt_int, opt, OPT_ALL);
    CALL(SLOT_CREATE_SESSION, fn_create_session, env, argv[1], opt, &sess);
    CALL(SLOT_GET_DEFAULT_ALLOCATOR, fn_out, &alloc);

    size_t n_in, n_out;
    CALL(SLOT_SESSION_INPUT_COUNT, fn_count, sess, &n_in);
    CALL(SLOT_SESSION_OUTPUT_COUNT, fn_count, sess, &n_out);
    if (n_in != 1 || n_out < 1 || n_out > 16) {
        fprintf(stderr, "peer_ort_arm: expected 1 input and 1-16 outputs, got %zu and %zu\n", n_in,
                n_out);
        return 1;
    }
    char *in_name, *out_names[16];
    CALL(SLOT_SESSION_INPUT_NAME, fn_name, sess, 0, alloc, &in_name);
    for (size_t i = 0; i < n_out; i++)
        CALL(SLOT_SESSION_OUTPUT_NAME, fn_name, sess, i, alloc, &out_names[i]);
    CALL(SLOT_SESSION_INPUT_TYPE_INFO, fn_type_info, sess, 0, &ti);
    CALL(SLOT_CAST_TYPE_INFO_TO_TENSOR_INFO, fn_cast, ti, &tinfo);
    int elem;
    size_t rank;
    int64_t dims[8];
    CALL(SLOT_GET_TENSOR_ELEMENT_TYPE, fn_elem, tinfo, &elem);
    CALL(SLOT_GET_DIMENSIONS_COUNT, fn_dim_count, tinfo, &rank);
    if (elem != ELEM_UINT8 || rank < 1 || rank > 8) {
        fprintf(stderr, "peer_ort_arm: expected a uint8 input of rank 1-8 (type %d, rank %zu)\n",
                elem, rank);
        return 1;
    }
    CALL(SLOT_GET_DIMENSIONS, fn_dims, tinfo, dims, rank);
    size_t n = 1;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] < 1) dims[i] = 1; /* symbolic batch */
        n *= (size_t)dims[i];
    }
    unsigned char *buf = malloc(n);
    if (!buf) return 1;
    const char *kind = peer_fill_input(buf, n);
    CALL(SLOT_CREATE_CPU_MEMORY_INFO, fn_mem_info, ARENA_ALLOCATOR, MEM_DEFAULT, &mem);
    CALL(SLOT_CREATE_TENSOR_WITH_DATA, fn_tensor, mem, buf, n, dims, rank, ELEM_UINT8, &input);

    void *outs[16];
    const char *in_names[1] = {in_name};
    for (int r = 0; r < 1 + runs; r++) { /* warm-up + runs; outputs of the first run reused */
        if (r == 0)
            for (size_t i = 0; i < n_out; i++) outs[i] = NULL;
        CALL(SLOT_RUN, fn_run, sess, NULL, in_names, (void *const *)&input, 1,
             (const char *const *)out_names, n_out, outs);
    }
    printf("peer=ort version=%s model=%s threads=%d runs=%d input=%s outputs=%zu\n",
           base->get_version_string(), argv[1], threads, runs, kind, n_out);
    free(buf);
    return 0; /* the process ends here: ORT's objects are not released one by one */
}
