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

#endif
