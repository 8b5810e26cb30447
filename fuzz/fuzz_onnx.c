/* fuzz_onnx.c - libFuzzer entry point for the onnx target (body in targets.c). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return ev_fuzz_onnx(data, size); }
