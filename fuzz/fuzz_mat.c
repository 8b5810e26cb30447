/* fuzz_mat.c - libFuzzer entry point for the mat target (body in targets.c). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return ev_fuzz_mat(data, size); }
