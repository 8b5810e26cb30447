/*
 * onnx_load.c - the ONNX entry of the model format table (formats/formats.h): ONNX files have
 * no magic bytes, so sniff accepts an ".onnx" name or bytes that parse as a ModelProto with a
 * graph; free H/W dimensions of an image input take the size asked for at load (free_input).
 *
 * Extend: keep this entry in the ONNX component (it needs protobuf-c); formats.c refers to it.
 */
#include "formats/formats.h"
#include "formats/onnx_reader.h"

static int onnx_sniff(const uint8_t *bytes, size_t size, const char *what) {
    return ev_onnx_identify(bytes, size, what);
}

static ev_status onnx_load(uint8_t *bytes, size_t size, const char *what, int height, int width,
                           ev_graph *g) {
    return ev_onnx_parse(bytes, size, what, height, width, g);
}

const ev_format ev_format_onnx = {"onnx", onnx_sniff, onnx_load, 1};
