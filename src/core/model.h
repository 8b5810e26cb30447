/*
 * model.h - the ev_model handle (a graph plus the file bytes it points into).
 */
#ifndef EV_CORE_MODEL_H
#define EV_CORE_MODEL_H

#include "core/graph.h"
#include "util/file.h" /* ev_read_file, used by every format's loader */

struct ev_model {
    ev_graph graph;
};

/* A model around a graph a format's parser filled (`parsed`: the parser's status): validates the
 * graph and moves it into a new model. On any failure the graph is released and *out is NULL. */
ev_status ev_model_adopt(ev_graph *graph, ev_status parsed, ev_model **out);

#endif
