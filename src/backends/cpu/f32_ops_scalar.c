/*
 * f32_ops_scalar.c - the portable float32 elementwise / pooling microkernels (f32_ops.inc over
 * one float per "vector"): the reference kernels' arithmetic without their per-element index
 * walks, and the line every session falls back to (ARM included: GCC vectorizes these loops).
 *
 * Extend: nothing here; a kernel is added once in f32_ops.inc.
 */
#include "backends/cpu/cpu.h"

#include <math.h>

#define V float
#define VN 1
#define VLD(p) (*(p))
#define VST(p, v) (*(p) = (v))
#define VSET(x) (x)
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
#define VSEL_LT(x, c, a, b) ((x) < (c) ? (a) : (b))
#define VSEL_GT(x, c, a, b) ((x) > (c) ? (a) : (b))
#define VEXP(x) expf(x)
#define F32_ISA EV_ISA_SCALAR
#define F32_SUFFIX scalar

#include "backends/cpu/f32_ops.inc"
