/*
 * graph_builder.h - tests use the library's in-memory graph builder (src/core/graph_builder.h).
 */
#include "core/graph_builder.h"
