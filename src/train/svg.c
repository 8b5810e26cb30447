/*
 * svg.c - line charts (see svg.h). Layout: 720x420 canvas, plot area inset for the title, axis
 * labels and a legend in the top-right corner of the plot; ticks at 1, 2 or 5 times a power of
 * ten (util/svg.h); the x axis counts epochs from 1.
 */
#include "train/svg.h"

#include "util/svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 720
#define H 420
#define L 76
#define R 24
#define T 48
#define B 64

void ev_svg_line_chart(const ev_line_chart *c, ev_sbuf *o) {
    double lo = c->y_min, hi = c->y_max;
    if (lo == 0 && hi == 0) {
        lo = INFINITY, hi = -INFINITY;
        for (int s = 0; s < c->nseries; s++)
            for (int i = 0; i < c->n; i++) {
                double v = c->series[s].y[i];
                if (isfinite(v)) lo = v < lo ? v : lo, hi = v > hi ? v : hi;
            }
        if (!isfinite(lo)) lo = 0, hi = 1;
        double dlo = lo, dhi = hi, pad = (hi - lo) * 0.08;
        if (pad == 0) pad = fabs(hi) * 0.1 + 0.01;
        lo -= pad, hi += pad;
        if (dlo >= 0 && lo < 0) lo = 0; /* losses and accuracies never go below 0 */
        if (dhi <= 1 && dlo >= 0 && hi > 1) hi = 1; /* nor fractions above 1 */
    }
    double ystep = ev_svg_nice_step(hi - lo, 6, EV_SVG_STEP_NEAREST_1_2_5);
    lo = floor(lo / ystep + 1e-9) * ystep;
    hi = ceil(hi / ystep - 1e-9) * ystep;
    int nx = c->n > 1 ? c->n : 2;
    double pw = W - L - R, ph = H - T - B;
#define PX(x) (L + ((x) - 1) / (double)(nx - 1) * pw)
#define PY(y) (T + (hi - (y)) / (hi - lo) * ph)
    ev_sbuf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                      "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n",
                   W, H, W, H);
    ev_sbuf_printf(o, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    ev_sbuf_printf(o, "<text x=\"%d\" y=\"28\" font-size=\"17\" text-anchor=\"middle\">", W / 2);
    ev_svg_escape(o, c->title);
    ev_sbuf_printf(o, "</text>\n");
    /* y grid and ticks */
    int ydec = ev_svg_tick_decimals(ystep);
    for (double v = lo; v <= hi + ystep * 1e-6; v += ystep) {
        double y = PY(v);
        ev_sbuf_printf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n",
                       L, y, L + pw, y);
        ev_sbuf_printf(o, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%.*f"
                          "</text>\n", L - 6, y + 4, ydec, fabs(v) < ystep * 1e-6 ? 0.0 : v);
    }
    /* x ticks */
    double xstep = c->n > 12 ? ev_svg_nice_step(c->n - 1, 10, EV_SVG_STEP_NEAREST_1_2_5) : 1;
    if (xstep < 1) xstep = 1;
    for (double v = 1; v <= nx + 1e-9; v += xstep) {
        double x = PX(v);
        ev_sbuf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
                       x, T + ph, x, T + ph + 5);
        ev_sbuf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%g"
                          "</text>\n", x, T + ph + 19, v);
    }
    ev_sbuf_printf(o, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                      "stroke=\"#333\"/>\n", L, T, pw, ph);
    ev_sbuf_printf(o, "<text x=\"%.1f\" y=\"%d\" font-size=\"14\" text-anchor=\"middle\">",
                   L + pw / 2, H - 18);
    ev_svg_escape(o, c->x_label);
    ev_sbuf_printf(o, "</text>\n<text transform=\"translate(20 %.1f) rotate(-90)\" font-size=\"14\" "
                      "text-anchor=\"middle\">", T + ph / 2);
    ev_svg_escape(o, c->y_label);
    ev_sbuf_printf(o, "</text>\n");
    for (int s = 0; s < c->nseries; s++) {
        const ev_line_series *se = &c->series[s];
        ev_sbuf_printf(o, "<polyline class=\"series\" data-name=\"");
        ev_svg_escape(o, se->name);
        ev_sbuf_printf(o, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                       se->color, se->dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (int i = 0; i < c->n; i++)
            if (isfinite(se->y[i])) ev_sbuf_printf(o, "%.1f,%.1f ", PX(i + 1.0), PY(se->y[i]));
        ev_sbuf_printf(o, "\"/>\n");
        for (int i = 0; i < c->n; i++)
            if (isfinite(se->y[i]))
                ev_sbuf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" "
                                  "data-x=\"%d\" data-y=\"%.6g\"/>\n",
                               PX(i + 1.0), PY(se->y[i]), se->color, i + 1, se->y[i]);
    }
    /* legend, top right inside the plot */
    double lw = 0;
    for (int s = 0; s < c->nseries; s++) {
        double w = 7.5 * (double)strlen(c->series[s].name);
        lw = w > lw ? w : lw;
    }
    /* Top right, or bottom right when more points lie in the top band of the right half. */
    int legend_h = 8 + 20 * c->nseries, top = 0, bottom = 0;
    for (int se = 0; se < c->nseries; se++)
        for (int i = c->n / 2; i < c->n; i++) {
            double v = c->series[se].y[i];
            if (!isfinite(v)) continue;
            double y = PY(v);
            top += y < T + legend_h + 20;
            bottom += y > T + ph - legend_h - 20;
        }
    double lx = L + pw - lw - 50, ly = top > bottom ? T + ph - legend_h - 10 : T + 10;
    ev_sbuf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"white\" "
                      "fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n",
                   lx, ly, lw + 42, legend_h);
    for (int s = 0; s < c->nseries; s++) {
        double y = ly + 16 + 20 * s;
        ev_sbuf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                          "stroke-width=\"2\"%s/>\n", lx + 6, y - 4, lx + 30, y - 4,
                       c->series[s].color, c->series[s].dashed ? " stroke-dasharray=\"6 4\"" : "");
        ev_sbuf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", lx + 36, y);
        ev_svg_escape(o, c->series[s].name);
        ev_sbuf_printf(o, "</text>\n");
    }
    ev_sbuf_printf(o, "</svg>\n");
#undef PX
#undef PY
}
