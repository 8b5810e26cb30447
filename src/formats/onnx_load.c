/*
 * onnx_load.c - the ONNX entry of the model format table (formats/formats.h): ONNX files have
 * no magic bytes, so sniff accepts an ".onnx" name or bytes that parse as a ModelProto with a
 * graph; free H/W dimensions of an image input take the size asked for at load (free_input).
 *
 * Extend: keep this entry in the ONNX component (it needs protobuf-c); formats.c refers to it.
 */
#include "core/model.h"
#include "core/status.h"
#include "formats/formats.h"
#include "formats/onnx_reader.h"

#include <stdlib.h>
#include <string.h>

static int onnx_sniff(const uint8_t *bytes, size_t size, const char *what) {
    return ev_onnx_identify(bytes, size, what);
}

static ev_status onnx_load(uint8_t *bytes, size_t size, const char *what, int height, int width,
                           ev_graph *g) {
    return ev_onnx_parse(bytes, size, what, height, width, g);
}

const ev_format ev_format_onnx = {"onnx", onnx_sniff, onnx_load, 1};

ev_status ev_model_load_bound(const char *path, int n, const char *const *names,
                             const ev_tensor_file *const *values, ev_model **out) {
    if (!path || !out || n < 0 || n > 4096 || (n && (!names || !values)))
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_load_bound: bad arguments");
    *out = NULL;
    ev_onnx_array *arr = calloc((size_t)(n ? n : 1), sizeof *arr);
    if (!arr) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) {
        const ev_tensor_info *t = &values[i]->info;
        if (!names[i] || t->ndim < 0 || t->ndim > EV_MAX_DIMS) {
            free(arr);
            return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_load_bound: value %d", i);
        }
        arr[i].dtype = t->dtype;
        arr[i].ndim = t->ndim;
        memcpy(arr[i].dims, t->dims, sizeof arr[i].dims);
        arr[i].elems = ev_dtype_size(t->dtype) ? t->bytes / ev_dtype_size(t->dtype) : 0;
        arr[i].data = values[i]->data;
    }
    uint8_t *bytes;
    size_t size;
    ev_status st = ev_read_file(path, &bytes, &size);
    if (st != EV_OK) {
        free(arr);
        return st;
    }
    if (!ev_onnx_identify(bytes, size, path)) {
        free(bytes), free(arr);
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: binding inputs to constants needs an ONNX model",
                       path);
    }
    ev_graph g = {0};
    st = ev_onnx_parse_bound(bytes, size, path, 0, 0, n, names, arr, &g);
    free(arr);
    return ev_model_adopt(&g, st, out);
}
