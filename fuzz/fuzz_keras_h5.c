/* fuzz_keras_h5.c - libFuzzer entry point for the keras_h5 target (body in targets.c). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return ev_fuzz_keras_h5(data, size); }
