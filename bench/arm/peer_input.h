/*
 * peer_input.h - the input bytes of the ARM peer drivers (peer_tflite_arm.c, peer_ort_arm.c):
 * exactly what bench/posenet_latency.c feeds ours, so the three runtimes do the same work:
 * the golden resized test_couple.jpg (data/golden/posenet_353_481/input_353_481_rgb_u8.raw
 * under $EDGEVISION_SHARED, default ../shared) when the input is 353x481x3, zeros otherwise.
 * Extend: another input rule goes here, once, and ours must follow it.
 */
#ifndef BENCH_ARM_PEER_INPUT_H
#define BENCH_ARM_PEER_INPUT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fills buf (n bytes) as posenet_latency does; returns "golden" or "zeros". */
static const char *peer_fill_input(unsigned char *buf, size_t n) {
    memset(buf, 0, n);
    if (n != (size_t)353 * 481 * 3) return "zeros";
    const char *sh = getenv("EDGEVISION_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/data/golden/posenet_353_481/input_353_481_rgb_u8.raw",
             sh && *sh ? sh : "../shared");
    FILE *f = fopen(path, "rb");
    int ok = f && fread(buf, 1, n, f) == n;
    if (f) fclose(f);
    if (!ok) memset(buf, 0, n);
    return ok ? "golden" : "zeros";
}

#endif
