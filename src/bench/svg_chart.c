/*
 * svg_chart.c - ev_svg_bar_chart (see svg_chart.h).
 *
 * Layout, in SVG user units (1 unit = 1 px): title on top, the y axis with round ticks
 * (1, 2, 2.5 or 5 times a power of ten, about 5 of them: util/svg.h EV_SVG_STEP_UP_1_2_25_5)
 * and its rotated label on the left, groups of bars left to right, each group's label under it
 * (lines split at '\n'), the x-axis label under those, and the legend on the right. Text widths
 * are estimated at 0.6 em per character (no font metrics in a writer that must not depend on a
 * renderer).
 *
 * Extend: another chart kind is another function here using the same helpers (util/svg.h
 * for ticks and escaping, the palette, ev_sbuf).
 */
#include "bench/svg_chart.h"

#include "core/status.h"
#include "util/sbuf.h"
#include "util/svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                       "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};
#define N_COLORS ((int)(sizeof k_colors / sizeof k_colors[0]))

#define FONT 12.0
#define CHAR_W (0.6 * FONT)
#define BAR_W 30.0
#define BAR_GAP 4.0
#define GROUP_GAP 40.0
#define PLOT_H 320.0
#define LEFT 80.0
#define TOP 56.0

void ev_svg_format_value(double v, char *out, size_t n) {
    if (fabs(v) >= 100) snprintf(out, n, "%.0f", v);
    else if (fabs(v) >= 10) snprintf(out, n, "%.1f", v);
    else if (fabs(v) >= 1) snprintf(out, n, "%.2f", v);
    else snprintf(out, n, "%.3f", v);
}

static int valid(double v) { return isfinite(v) && v >= 0; }

/* Longest line (in characters) and line count of a '\n'-separated label. */
static void label_extent(const char *s, int *longest, int *lines) {
    int cur = 0;
    *longest = 0;
    *lines = 1;
    for (const char *p = s; *p; p++) {
        if (*p == '\n') {
            (*lines)++;
            cur = 0;
        } else if (++cur > *longest) {
            *longest = cur;
        }
    }
}

ev_status ev_svg_bar_chart(const ev_bar_chart *c, char **svg) {
    if (!c || !svg || c->ngroups < 1 || c->nseries < 1 || !c->groups || !c->series || !c->values)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_svg_bar_chart: empty chart or NULL argument");
    *svg = NULL;
    double vmax = 0;
    for (int i = 0; i < c->ngroups * c->nseries; i++)
        if (valid(c->values[i]) && c->values[i] > vmax) vmax = c->values[i];
    double step = vmax > 0 ? ev_svg_nice_step(vmax * 1.08, 5, EV_SVG_STEP_UP_1_2_25_5) : 1.0;
    double ymax = step * ceil(vmax * 1.08 / step);
    if (ymax <= 0) ymax = step * 5;
    /* widths */
    double bars_w = c->nseries * BAR_W + (c->nseries - 1) * BAR_GAP;
    double *gw = malloc(sizeof(double) * (size_t)c->ngroups);
    if (!gw) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    int max_lines = 1, legend_chars = 0;
    double plot_w = GROUP_GAP;
    for (int g = 0; g < c->ngroups; g++) {
        int longest, lines;
        label_extent(c->groups[g], &longest, &lines);
        if (lines > max_lines) max_lines = lines;
        gw[g] = fmax(bars_w, longest * CHAR_W + 8);
        plot_w += gw[g] + GROUP_GAP;
    }
    for (int s = 0; s < c->nseries; s++) {
        int l = (int)strlen(c->series[s]);
        if (l > legend_chars) legend_chars = l;
    }
    double legend_x = LEFT + plot_w + 30, legend_w = 28 + legend_chars * CHAR_W;
    double width = legend_x + legend_w + 20;
    double title_w = strlen(c->title ? c->title : "") * CHAR_W * 1.25 + 40;
    if (width < title_w) width = title_w;
    double base = TOP + PLOT_H;
    double height = base + 14 + max_lines * 15 + 40;
    double legend_h = 20 + c->nseries * 20;
    if (TOP + legend_h + 10 > height) height = TOP + legend_h + 10;

    ev_sbuf b = {0};
    ev_sbuf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                   "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
                   "font-size=\"%.0f\">\n", width, height, width, height, FONT);
    ev_sbuf_printf(&b, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n",
                   width, height);
    ev_sbuf_printf(&b, "<text class=\"title\" x=\"%.1f\" y=\"28\" text-anchor=\"middle\" "
                   "font-size=\"15\" font-weight=\"bold\">", width / 2);
    ev_svg_escape(&b, c->title ? c->title : "");
    ev_sbuf_printf(&b, "</text>\n");
    /* grid and y ticks, with as many decimals as the step needs */
    int dec = ev_svg_tick_decimals(step);
    for (int i = 0; i * step <= ymax + step * 1e-9; i++) {
        double v = i * step, y = base - v / ymax * PLOT_H;
        char lab[32];
        snprintf(lab, sizeof lab, "%.*f", dec, v);
        ev_sbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                       "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                       LEFT, y, LEFT + plot_w, y, LEFT - 6, y + 4, lab);
    }
    ev_sbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                   LEFT, TOP, LEFT, base, LEFT, base, LEFT + plot_w, base);
    ev_sbuf_printf(&b, "<text class=\"y-label\" x=\"20\" y=\"%.1f\" text-anchor=\"middle\" "
                   "transform=\"rotate(-90 20 %.1f)\">", TOP + PLOT_H / 2, TOP + PLOT_H / 2);
    ev_svg_escape(&b, c->y_label ? c->y_label : "");
    ev_sbuf_printf(&b, "</text>\n");
    /* bars */
    double x = LEFT + GROUP_GAP;
    for (int g = 0; g < c->ngroups; g++) {
        double bx = x + (gw[g] - bars_w) / 2;
        for (int s = 0; s < c->nseries; s++, bx += BAR_W + BAR_GAP) {
            double v = c->values[g * c->nseries + s];
            if (!valid(v)) continue;
            double h = v / ymax * PLOT_H;
            char lab[32];
            ev_svg_format_value(v, lab, sizeof lab);
            ev_sbuf_printf(&b, "<rect class=\"bar\" data-group=\"%d\" data-series=\"%d\" "
                           "data-value=\"%.6g\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                           "height=\"%.1f\" fill=\"%s\"><title>", g, s, v, bx, base - h, BAR_W, h,
                           k_colors[s % N_COLORS]);
            ev_svg_escape(&b, c->series[s]);
            ev_sbuf_printf(&b, ": %s</title></rect>\n", lab);
            ev_sbuf_printf(&b, "<text class=\"value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                           "font-size=\"10\">%s</text>\n", bx + BAR_W / 2, base - h - 4, lab);
        }
        /* group label, one <tspan> per line */
        ev_sbuf_printf(&b, "<text class=\"group\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                       x + gw[g] / 2, base + 18);
        const char *p = c->groups[g];
        for (int line = 0; p; line++) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            char part[256];
            snprintf(part, sizeof part, "%.*s", (int)(n < 255 ? n : 255), p);
            ev_sbuf_printf(&b, "<tspan x=\"%.1f\" dy=\"%d\">", x + gw[g] / 2, line ? 15 : 0);
            ev_svg_escape(&b, part);
            ev_sbuf_printf(&b, "</tspan>");
            p = nl ? nl + 1 : NULL;
        }
        ev_sbuf_printf(&b, "</text>\n");
        x += gw[g] + GROUP_GAP;
    }
    ev_sbuf_printf(&b, "<text class=\"x-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                   LEFT + plot_w / 2, base + 18 + max_lines * 15 + 14);
    ev_svg_escape(&b, c->x_label ? c->x_label : "");
    ev_sbuf_printf(&b, "</text>\n");
    /* legend */
    ev_sbuf_printf(&b, "<g class=\"legend\">\n");
    for (int s = 0; s < c->nseries; s++) {
        double ly = TOP + 10 + s * 20;
        ev_sbuf_printf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\">", legend_x, ly, k_colors[s % N_COLORS],
                       legend_x + 20, ly + 11);
        ev_svg_escape(&b, c->series[s]);
        ev_sbuf_printf(&b, "</text>\n");
    }
    ev_sbuf_printf(&b, "</g>\n</svg>\n");
    free(gw);
    if (b.oom) {
        free(b.s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory rendering the chart");
    }
    *svg = b.s;
    return EV_OK;
}
