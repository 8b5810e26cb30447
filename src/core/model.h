/*
 * model.h - the ev_model handle (a graph plus the file bytes it points into).
 */
#ifndef EV_CORE_MODEL_H
#define EV_CORE_MODEL_H

#include "core/graph.h"

struct ev_model {
    ev_graph graph;
};

/* Reads a whole regular file into a malloc'd buffer. EV_ERR_IO when missing/unreadable. */
ev_status ev_read_file(const char *path, uint8_t **data, size_t *size);

#endif
