/*
 * svg.h - line charts as standalone SVG (svg.c): learning curves (train vs validation per
 * epoch) and comparisons across runs. Axes with round ticks, axis labels, a title and a legend;
 * NaN values leave gaps. Every series is a <polyline class="series" data-name="..."> followed by
 * its points as <circle data-x data-y>, so tests and scripts can read the chart back.
 *
 * Extend: another chart kind is another renderer taking its ticks and escaping from util/svg.h.
 */
#ifndef EV_TRAIN_SVG_H
#define EV_TRAIN_SVG_H

#include "util/sbuf.h"

typedef struct ev_line_series {
    const char *name;
    const double *y; /* n values; NaN: no point */
    const char *color;
    int dashed;
} ev_line_series;

typedef struct ev_line_chart {
    const char *title, *x_label, *y_label;
    int n;           /* points per series, at x = 1..n (epochs) */
    const ev_line_series *series;
    int nseries;
    double y_min, y_max; /* both 0: fitted to the data */
} ev_line_chart;

void ev_svg_line_chart(const ev_line_chart *chart, ev_sbuf *out);

#endif
