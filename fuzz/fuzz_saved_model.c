/* fuzz_saved_model.c - libFuzzer entry point for the saved_model target (body in targets.c). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return ev_fuzz_saved_model(data, size); }
