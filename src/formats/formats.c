/*
 * formats.c - the model format table and the one dispatch behind ev_model_load,
 * ev_model_load_memory and ev_model_load_with_input: read the bytes, find the first format of
 * the table whose sniff accepts them, load, validate the graph, and (for a requested input size
 * on a format whose input is fixed) check that the file's input is that size.
 *
 * Optional formats are referenced weakly (EV_OPTIONAL_FORMAT): in a program that links the core
 * library without the component, their entry is NULL and a file that looks like one of them
 * (`magic`) fails with EV_ERR_UNSUPPORTED naming the component. The combined libedgevision
 * compiles this file with EV_FORMATS_LINK_ALL=1, which makes the references strong so static
 * links pull every format in.
 *
 * Extend: see formats.h (one entry next to the parser, one row in k_formats below; order
 * matters: formats with magic bytes before formats recognised by parsing).
 */
#include "formats/formats.h"

#include "core/model.h"
#include "core/status.h"
#include "formats/tflite.h"

#include <stdlib.h>
#include <string.h>

#if defined(EV_FORMATS_LINK_ALL) && EV_FORMATS_LINK_ALL
#define EV_OPTIONAL_FORMAT(name) extern const ev_format name
#else
#define EV_OPTIONAL_FORMAT(name) extern const ev_format name __attribute__((weak))
#endif
EV_OPTIONAL_FORMAT(ev_format_keras_h5);
EV_OPTIONAL_FORMAT(ev_format_tf_graphdef);
EV_OPTIONAL_FORMAT(ev_format_onnx);

static int tflite_sniff(const uint8_t *bytes, size_t size, const char *what) {
    (void)what;
    return ev_tflite_identify(bytes, size);
}

static ev_status tflite_load(uint8_t *bytes, size_t size, const char *what, int height, int width,
                             ev_graph *g) {
    (void)height, (void)width;
    return ev_tflite_parse(bytes, size, what, g);
}

static const ev_format k_tflite = {"tflite", tflite_sniff, tflite_load, 0};

/* The HDF5 signature at offset 0 (Keras weights), to name the missing component. */
static int hdf5_magic(const uint8_t *b, size_t n, const char *what) {
    (void)what;
    return n >= 8 && memcmp(b, "\x89HDF\r\n\x1a\n", 8) == 0;
}

/* An ONNX model by its usual extension, to name the missing component. */
static int onnx_name(const uint8_t *b, size_t n, const char *what) {
    (void)b, (void)n;
    size_t l = what ? strlen(what) : 0;
    return l >= 5 && strcmp(what + l - 5, ".onnx") == 0;
}

/* A TF frozen graph by its usual extension, to name the missing component. */
static int pb_name(const uint8_t *b, size_t n, const char *what) {
    (void)b, (void)n;
    size_t l = what ? strlen(what) : 0;
    return l >= 3 && strcmp(what + l - 3, ".pb") == 0;
}

typedef struct format_row {
    const ev_format *fmt;   /* NULL: the component defining it is not linked             */
    const char *kind;       /* for the missing-component message                         */
    const char *component;  /* the CMake target that provides it                         */
    int (*magic)(const uint8_t *, size_t, const char *); /* recognises it when absent     */
} format_row;

static const format_row k_formats[] = {
    {&k_tflite, "TFLite", "core", NULL},
    {&ev_format_keras_h5, "Keras HDF5 weights", "edgevision_keras", hdf5_magic},
    {&ev_format_onnx, "ONNX", "edgevision_onnx", onnx_name}, /* no magic; before GraphDef */
    {&ev_format_tf_graphdef, "TensorFlow GraphDef", "edgevision_tf", pb_name}, /* no magic */
};
#define K_FORMATS_N ((int)(sizeof k_formats / sizeof k_formats[0]))

/* Takes ownership of `bytes`. height = width = 0: the file's own input size. */
static ev_status model_from_bytes(uint8_t *bytes, size_t size, const char *what, int height,
                                  int width, ev_model **out) {
    if (size == 0) {
        free(bytes);
        return EV_FAIL(EV_ERR_FORMAT, "%s: empty file", what);
    }
    const ev_format *fmt = NULL;
    for (int i = 0; i < K_FORMATS_N && !fmt; i++) {
        const format_row *r = &k_formats[i];
        if (r->fmt && r->fmt->sniff(bytes, size, what)) {
            fmt = r->fmt;
        } else if (!r->fmt && r->magic && r->magic(bytes, size, what)) {
            free(bytes);
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: %s: this program was linked without the %s "
                           "component (link %s, or the whole libedgevision)", what, r->kind,
                           r->kind, r->component);
        }
    }
    if (!fmt) {
        free(bytes);
        return EV_FAIL(EV_ERR_FORMAT, "%s: not a model file this build reads (expected a TFLite "
                       "flatbuffer with the TFL3 identifier, Keras HDF5 weights, an ONNX model or a "
                       "TensorFlow GraphDef)", what);
    }
    int sized = height > 0 && fmt->free_input;
    ev_graph g = {0};
    ev_model *m;
    EV_TRY(ev_model_adopt(&g, fmt->load(bytes, size, what, sized ? height : 0, sized ? width : 0, &g),
                          &m));
    if (height > 0 && !sized) { /* a fixed input must be the size asked for */
        const ev_graph *g = &m->graph;
        const ev_tensor *in = g->num_inputs > 0 ? &g->tensors[g->inputs[0]] : NULL;
        if (!in || in->ndim != 4 || in->dims[1] != height || in->dims[2] != width) {
            char sh[64] = "none";
            if (in) ev_shape_str(in, sh, sizeof sh);
            ev_model_free(m);
            return EV_FAIL(EV_ERR_SHAPE, "%s: the model's input is fixed at %s; %dx%d (height x "
                           "width) was asked for", what, sh, height, width);
        }
    }
    *out = m;
    return EV_OK;
}

ev_status ev_model_load(const char *path, ev_model **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_load: out is NULL");
    *out = NULL;
    uint8_t *bytes;
    size_t size;
    EV_TRY(ev_read_file(path, &bytes, &size));
    return model_from_bytes(bytes, size, path, 0, 0, out);
}

ev_status ev_model_load_memory(const void *data, size_t size, const char *what, ev_model **out) {
    if (!out || (!data && size)) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_load_memory: NULL");
    *out = NULL;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    if (size) memcpy(copy, data, size);
    return model_from_bytes(copy, size, what ? what : "<memory>", 0, 0, out);
}

ev_status ev_model_load_with_input(const char *path, int height, int width, ev_model **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_model_load_with_input: out is NULL");
    *out = NULL;
    if (height <= 0 || width <= 0 || height > 65536 || width > 65536)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: input size %dx%d (height x width) must be positive",
                       path ? path : "(null)", height, width);
    uint8_t *bytes;
    size_t size;
    EV_TRY(ev_read_file(path, &bytes, &size));
    return model_from_bytes(bytes, size, path, height, width, out);
}
