/*
 * svg_chart.h - a grouped bar chart as a standalone SVG document (svg_chart.c): one group per
 * x category (a hardware setup), one bar per series (a model) with its value printed on it,
 * labelled axes, a y grid with round ticks and a legend.
 *
 * Every bar is <rect class="bar" data-group="G" data-series="S" data-value="V" ...> so tests and
 * scripts can read the chart back.
 */
#ifndef EV_BENCH_SVG_CHART_H
#define EV_BENCH_SVG_CHART_H

#include "edgevision.h"

typedef struct ev_bar_chart {
    const char *title, *x_label, *y_label;
    int ngroups, nseries;
    const char *const *groups;
    const char *const *series;
    const double *values; /* [group * nseries + series]; negative or NaN: no bar */
} ev_bar_chart;

/* Renders the chart; *svg is malloc'd (free it). */
ev_status ev_svg_bar_chart(const ev_bar_chart *chart, char **svg);

/* The value label printed on a bar: 3 significant digits, at most 1 decimal at 100 and above. */
void ev_svg_format_value(double v, char *out, size_t n);

#endif
