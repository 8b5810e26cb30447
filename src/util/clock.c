/*
 * clock.c - the public name of the library's one clock (util/clock.h), for programs outside the
 * library (the CLI, benchmarks).
 */
#include "util/clock.h"

#include "edgevision.h"

double ev_clock_seconds(void) { return ev_clock_s(); }
