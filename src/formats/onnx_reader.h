/*
 * onnx_reader.h - ONNX models (ModelProto protobuf, .onnx) -> graph IR, and ONNX TensorProto
 * decoding (shared with the tensor files of `edgevision run`).
 *
 * The messages are /usr/include/onnx/onnx.proto (Debian's libonnx-dev), compiled by protoc-c at
 * build time; the op mapping, the NCHW -> NHWC conversion and the limits are in docs/onnx.md.
 *
 * Extend: a new ONNX op is a case in onnx_reader.c's emit_node(); a new tensor data type a case
 * in ev_onnx_dtype().
 */
#ifndef EV_FORMATS_ONNX_READER_H
#define EV_FORMATS_ONNX_READER_H

#include "core/graph.h"

#include <stddef.h>
#include <stdint.h>

struct Onnx__TensorProto;
struct ev_onnx_array;

/* True when `source` ends in ".onnx", or when `data` parses as a ModelProto with a graph. */
int ev_onnx_identify(const uint8_t *data, size_t size, const char *source);

/* Parses an ONNX model into `g`. Free input dimensions (dim_param) of rank-4 inputs take
 * input_h x input_w for H and W (NCHW) when given; a free leading (batch) dimension is 1; any
 * other free dimension is an EV_ERR_SHAPE. Takes ownership of `file` on success and failure. */
ev_status ev_onnx_parse(uint8_t *file, size_t size, const char *source, int input_h, int input_w,
                        ev_graph *g);

/* ev_onnx_parse with graph inputs bound to constants: input names[i] takes values[i] (its
 * declared type and shape are replaced), and the reader treats it as an initializer (a
 * deployment freezing parameters; the conformance suite passes weights, shapes and scales as
 * inputs). The bound inputs are no longer inputs of the graph. */
ev_status ev_onnx_parse_bound(uint8_t *file, size_t size, const char *source, int input_h,
                              int input_w, int nbind, const char *const *names,
                              const struct ev_onnx_array *values, ev_graph *g);

/* The op types of the model's nodes, in order (for tests that sort cases by operator): *types
 * is one malloc'd block (an array of *n pointers followed by the strings); free(*types). */
ev_status ev_onnx_node_types(const uint8_t *data, size_t size, const char *source,
                             char ***types, int *n);

/* A decoded TensorProto: data in the host's byte order, malloc'd (elems * ev_dtype_size). */
typedef struct ev_onnx_array {
    ev_dtype dtype;
    int ndim;
    int dims[EV_MAX_DIMS];
    size_t elems;
    void *data;
} ev_onnx_array;

/* The IR dtype of ONNX TensorProto.DataType `t` (UNKNOWN for types the engine lacks). */
ev_dtype ev_onnx_dtype(int t);
/* The ONNX TensorProto.DataType of an IR dtype (0 for UNKNOWN). */
int ev_onnx_type_of(ev_dtype d);

/* Decodes `tp` (raw_data or the typed repeated fields; external data refused, naming it).
 * Errors name `what`. */
ev_status ev_onnx_tensor_decode(const struct Onnx__TensorProto *tp, const char *what,
                                ev_onnx_array *out);

#endif
