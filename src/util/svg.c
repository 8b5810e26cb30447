/*
 * svg.c - shared SVG axis and text helpers (see svg.h). Extend: keep the arithmetic of an
 * existing rule unchanged (charts are compared byte for byte); add a rule instead.
 */
#include "util/svg.h"

#include <math.h>

static const double k_nearest[] = {1, 2, 5, 10};
static const double k_up[] = {1, 2, 2.5, 5, 10};

double ev_svg_nice_step(double range, int ticks, ev_svg_step_rule rule) {
    double raw = range / ticks, p = pow(10, floor(log10(raw))), m = raw / p;
    if (rule == EV_SVG_STEP_NEAREST_1_2_5) {
        int i = 0;
        while (i < 3 && !(m < (k_nearest[i] + k_nearest[i + 1]) / 2)) i++;
        return k_nearest[i] * p;
    }
    int i = 0;
    while (i < 4 && !(m <= k_up[i])) i++;
    return k_up[i] * p;
}

int ev_svg_tick_decimals(double step) {
    int dec = 0;
    while (dec < 6 && fabs(step * pow(10, dec) - round(step * pow(10, dec))) > 1e-6) dec++;
    return dec;
}

void ev_svg_escape(ev_sbuf *b, const char *text) {
    for (const char *p = text; p && *p; p++) {
        switch (*p) {
        case '&': ev_sbuf_printf(b, "&amp;"); break;
        case '<': ev_sbuf_printf(b, "&lt;"); break;
        case '>': ev_sbuf_printf(b, "&gt;"); break;
        case '"': ev_sbuf_printf(b, "&quot;"); break;
        case '\'': ev_sbuf_printf(b, "&apos;"); break;
        default: ev_sbuf_printf(b, "%c", *p);
        }
    }
}
