/* fuzz_coco_json.c - libFuzzer entry point for the coco_json target (body in targets.c). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return ev_fuzz_coco_json(data, size); }
