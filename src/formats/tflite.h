/*
 * tflite.h - TFLite flatbuffer -> graph IR.
 */
#ifndef EV_FORMATS_TFLITE_H
#define EV_FORMATS_TFLITE_H

#include "core/graph.h"

/* True when `data` carries the TFLite file identifier ("TFL3" at byte 4). */
int ev_tflite_identify(const uint8_t *data, size_t size);

/* Parses a TFLite model. Takes ownership of `file` (malloc'd, `size` bytes) on success and on
 * failure. `source` names the file in messages. */
ev_status ev_tflite_parse(uint8_t *file, size_t size, const char *source, ev_graph *g);

/* Name of a TFLite builtin operator code ("CONV_2D"), "UNKNOWN_BUILTIN" if out of range. */
const char *ev_tflite_builtin_name(int code);

#endif
