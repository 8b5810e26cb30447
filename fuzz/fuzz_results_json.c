/* fuzz_results_json.c - libFuzzer entry point for the results_json target (body in targets.c). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return ev_fuzz_results_json(data, size); }
