/*
 * svg.h - what every SVG chart shares (svg.c): round axis tick steps, the decimals a tick label
 * needs, and XML escaping of text. The training curves (train/svg.c) and the benchmark report's
 * bar chart (bench/svg_chart.c) both draw their axes with these.
 *
 * Extend: a new chart kind is a renderer next to its data (train/, bench/) that takes its ticks
 * from ev_svg_nice_step and escapes every user string with ev_svg_escape; a new tick style is
 * another ev_svg_step_rule here.
 */
#ifndef EV_UTIL_SVG_H
#define EV_UTIL_SVG_H

#include "util/sbuf.h"

/* How a raw step (range / ticks) becomes a round one, m x 10^k:
 *   NEAREST_1_2_5    m in {1, 2, 5, 10}, the nearest (midpoints 1.5, 3.5, 7.5): learning curves
 *   UP_1_2_25_5      m in {1, 2, 2.5, 5, 10}, the smallest >= the raw mantissa: bar charts */
typedef enum ev_svg_step_rule {
    EV_SVG_STEP_NEAREST_1_2_5,
    EV_SVG_STEP_UP_1_2_25_5,
} ev_svg_step_rule;

/* A round tick step giving about `ticks` steps over `range` (> 0). */
double ev_svg_nice_step(double range, int ticks, ev_svg_step_rule rule);

/* Decimals that print every multiple of `step` exactly (0 for integer steps, at most 6). */
int ev_svg_tick_decimals(double step);

/* Appends `text` (NULL: nothing) with & < > " ' escaped for XML text and attribute values. */
void ev_svg_escape(ev_sbuf *b, const char *text);

#endif
