/*
 * formats.h - the model format table. Every model format is one ev_format {name, sniff, load};
 * formats.c holds the table and the one dispatch behind ev_model_load, ev_model_load_memory and
 * ev_model_load_with_input (content sniffing in table order, then load, then graph validation).
 *
 * TFLite is built into the core library. Formats that pull a heavy dependency live in optional
 * components (TF GraphDef: protobuf-c; Keras HDF5: libhdf5) and define their entry in their own
 * file; the core refers to those entries weakly, so a build linking the core alone still loads
 * TFLite and names the missing component for the others.
 *
 * Extend: a new format defines `const ev_format ev_format_<name>` next to its parser (sniff must
 * be cheap and never fail loudly; load takes ownership of the bytes) and gets one row in
 * formats.c's table: a plain reference when it is core, an EV_OPTIONAL_FORMAT one when it lives
 * in a component (then also list the component in CMakeLists.txt).
 */
#ifndef EV_FORMATS_FORMATS_H
#define EV_FORMATS_FORMATS_H

#include "core/graph.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ev_format {
    const char *name; /* "tflite", "keras-h5", "tf-graphdef", "onnx" */
    /* 1 when `bytes` (size > 0) are a file of this format; `what` is the path or label, which a
     * format without magic bytes may look at (".pb"). Sets no error. */
    int (*sniff)(const uint8_t *bytes, size_t size, const char *what);
    /* Parses the bytes into *g; always takes ownership of `bytes` (kept by the graph or freed).
     * height/width > 0 ask for that image input size (formats with free_input only; 0 otherwise:
     * the file's own). Errors name `what`. */
    ev_status (*load)(uint8_t *bytes, size_t size, const char *what, int height, int width,
                      ev_graph *g);
    int free_input; /* 1: the input size may be chosen at load time (load honours height/width) */
} ev_format;

/* The optional components' entries (defined in src/formats/keras_load.c and tf_load.c). */
extern const ev_format ev_format_keras_h5;
extern const ev_format ev_format_tf_graphdef;
extern const ev_format ev_format_onnx; /* src/formats/onnx_load.c */

#endif
