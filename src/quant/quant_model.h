/*
 * quant_model.h - post-training int8 quantization (src/quant/): calibration of activation
 * ranges on images (calibrate.c) and the int8 graph built from them (quantize.c).
 */
#ifndef EV_QUANT_QUANT_MODEL_H
#define EV_QUANT_QUANT_MODEL_H

#include "core/graph.h"

/* Observed range of every tensor of a float graph (indexed like graph->tensors). */
typedef struct ev_calib {
    int num_tensors;
    float *min, *max;
    int *seen; /* 1 when some run produced the tensor                                      */
    int images;
} ev_calib;

/* Runs every image through `model` (resized with Pillow NEAREST to the 1xHxWx3 float input,
 * p / 127.5 - 1) on `backend`, recording each op output's and the input's min/max. */
ev_status ev_calibrate(const ev_model *model, const ev_image *const *images, int n,
                       const char *backend, int threads, ev_calib *out);
void ev_calib_release(ev_calib *c);

/* Asymmetric int8 parameters covering [min, max] widened to include 0. */
void ev_quant_params_int8(float min, float max, float *scale, int32_t *zero_point);

#endif
