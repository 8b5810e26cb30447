/*
 * keras_resnet50.h - Keras HDF5 weights file -> ev_graph, for the architectures we know
 * (ResNet50 today, recognised by its layer names). Used by the format table (ev_format_keras_h5,
 * keras_load.c) when a file starts with the HDF5 signature, and by ev_keras_resnet50_load() with
 * explicit options.
 *
 * Extend: another architecture is a builder recognised by its layer names in
 * ev_keras_h5_parse().
 */
#ifndef EV_FORMATS_KERAS_RESNET50_H
#define EV_FORMATS_KERAS_RESNET50_H

#include "core/graph.h"

#include <stddef.h>
#include <stdint.h>

/* Builds the graph the weights file implies. Takes ownership of `bytes` (freed here, success
 * or not; the graph keeps its own copy of every constant). opts NULL: defaults (224x224, top as
 * the file has it). */
ev_status ev_keras_h5_parse(uint8_t *bytes, size_t size, const char *what,
                            const ev_keras_options *opts, ev_graph *out);

#endif
