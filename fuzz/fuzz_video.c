/* fuzz_video.c - libFuzzer entry point for the video target (body in targets.c). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return ev_fuzz_video(data, size); }
