/*
 * plan.h - activation memory plan: one arena, tensors with disjoint lifetimes share bytes.
 */
#ifndef EV_CORE_PLAN_H
#define EV_CORE_PLAN_H

#include "core/graph.h"

#define EV_PLAN_ALIGN 64
#define EV_PLAN_NONE ((size_t)-1)

/* For every non-constant tensor used by the graph, an arena offset (EV_PLAN_NONE for constants
 * and unused tensors). `arena` receives the arena size, `unplanned` the sum of all sizes.
 * `written_early` (NULL: none): per op, an earlier op that may write its outputs (a fused
 * epilogue, core/backend.h), or -1; those outputs then live from that op. */
ev_status ev_plan_memory(const ev_graph *g, const int *written_early, size_t *offsets,
                         size_t *arena, size_t *unplanned);

#endif
