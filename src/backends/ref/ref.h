/*
 * ref.h - kernels of the reference backend (portable C, the oracle).
 */
#ifndef EV_BACKENDS_REF_H
#define EV_BACKENDS_REF_H

#include "backends/backend.h"

extern const ev_kernel ev_ref_conv_kernel;   /* CONV_2D and DEPTHWISE_CONV_2D */
extern const ev_kernel ev_ref_concat_kernel; /* CONCATENATION                 */

#endif
