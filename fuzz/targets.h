/*
 * targets.h - fuzz target bodies, shared by the libFuzzer executables (fuzz/fuzz_<name>.c, built
 * with -DEV_FUZZ=ON and clang) and the regression test (tests/test_fuzz_regressions.c), which
 * replays every file under fuzz/regressions/<name>/ through the same body in the normal build.
 *
 * Each body feeds the bytes to one parser and checks the contract: either success, or an
 * ev_status with a non-empty message. It returns 0, or aborts (a finding) when the contract is
 * broken. To add a target: a function here, a one-line main in fuzz/fuzz_<name>.c, an entry in
 * k_fuzz_targets, and seed files (see scripts/fuzz.sh).
 */
#ifndef EV_FUZZ_TARGETS_H
#define EV_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

int ev_fuzz_tflite(const uint8_t *data, size_t size);
int ev_fuzz_flexbuf(const uint8_t *data, size_t size);
int ev_fuzz_image(const uint8_t *data, size_t size);
int ev_fuzz_graphdef(const uint8_t *data, size_t size);
int ev_fuzz_keras_h5(const uint8_t *data, size_t size);
int ev_fuzz_results_json(const uint8_t *data, size_t size);
int ev_fuzz_coco_json(const uint8_t *data, size_t size);
int ev_fuzz_video(const uint8_t *data, size_t size);
int ev_fuzz_saved_model(const uint8_t *data, size_t size);
int ev_fuzz_mat(const uint8_t *data, size_t size);
int ev_fuzz_onnx(const uint8_t *data, size_t size);

typedef struct ev_fuzz_target {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} ev_fuzz_target;

extern const ev_fuzz_target k_fuzz_targets[];
extern const int k_num_fuzz_targets;

#endif
