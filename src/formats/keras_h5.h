/*
 * keras_h5.h - reader of Keras's legacy weights-only HDF5 files (save_weights / the
 * keras-applications *.h5 downloads), through Debian's libhdf5.
 *
 * Layout read (Keras saving/hdf5_format.py, see docs/keras.md): root attributes `layer_names`
 * (strings, possibly split as layer_names0, layer_names1, ... when over 64 KiB), `backend`,
 * `keras_version`; one group per layer with an attribute `weight_names` (strings, or a
 * zero-length float64 array for a layer without weights); datasets at <layer>/<weight name>
 * (the '/' inside a weight name makes nested groups). Strings may be fixed-length (NULLPAD or
 * NULLTERM: read with one byte more so a name filling its slot keeps its last character) or
 * variable-length.
 *
 * The file is opened from memory (HDF5's core driver), so ev_model_load_memory works too. HDF5's
 * automatic error printing is switched off while a file is open; its errors become
 * EV_ERR_FORMAT messages naming the file, the layer and the dataset, with HDF5's own reason.
 * A truncated file is opened padded with zeros up to the size its superblock declares, so the
 * first layer whose data or metadata lies past the cut is named.
 *
 * Extend: another Keras architecture is a builder (like keras_resnet50.c) on top of these calls.
 */
#ifndef EV_FORMATS_KERAS_H5_H
#define EV_FORMATS_KERAS_H5_H

#include "core/graph.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ev_h5w ev_h5w;

/* 1 when the bytes start with the HDF5 signature "\x89HDF\r\n\x1a\n" (at offset 0, or at
 * 512, 1024, 2048 ... after a user block). */
int ev_keras_h5_identify(const uint8_t *data, size_t size);

/* Opens a weights file held in memory; `what` names it in messages. The bytes are not kept
 * (HDF5 copies them). Reads and checks the root attributes (layer_names required). */
ev_status ev_h5w_open(const uint8_t *data, size_t size, const char *what, ev_h5w **out);
void ev_h5w_close(ev_h5w *f);

const char *ev_h5w_source(const ev_h5w *f);
int ev_h5w_num_layers(const ev_h5w *f);
const char *ev_h5w_layer(const ev_h5w *f, int i);
/* 1 when `name` is in layer_names. */
int ev_h5w_has_layer(const ev_h5w *f, const char *name);
/* A root string attribute ("backend", "keras_version"); "" when absent. */
const char *ev_h5w_root_attr(const ev_h5w *f, const char *name);

/* The weight_names of `layer` (NULL-terminated array of strings owned by *names: free with
 * ev_h5w_free_names). A layer missing from layer_names or without a group is an EV_ERR_FORMAT
 * naming it. */
ev_status ev_h5w_weight_names(ev_h5w *f, const char *layer, char ***names, int *count);
void ev_h5w_free_names(char **names);

/* Shape of dataset <layer>/<weight> (at most EV_MAX_DIMS dimensions). */
ev_status ev_h5w_shape(ev_h5w *f, const char *layer, const char *weight, int *ndim, int *dims);

/* Reads dataset <layer>/<weight> as float32 into out (elements = product of dims), after
 * checking it has exactly the shape dims[0..ndim) (`layout` names the axes in messages, e.g.
 * "HWIO"). */
ev_status ev_h5w_read(ev_h5w *f, const char *layer, const char *weight, int ndim, const int *dims,
                      const char *layout, float *out);

#endif
