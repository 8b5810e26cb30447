/*
 * peer_tflite_arm.c - benchmark driver (not a test): TensorFlow Lite's C library, as shipped by
 * the npm package tfjs-tflite-node (cc_deps/linux_arm64/libtensorflowlite_c.so, TFLite 2.9),
 * runs one .tflite model: load, allocate, set the input (peer_input.h: the bytes ours gets),
 * one warm-up Invoke, then RUNS more. Cross-built for aarch64 by bench/arm/setup.sh and run
 * under qemu by bench/arm/run.sh, which counts instructions of a RUNS=1 and a RUNS=2 process
 * and subtracts them (one inference). Built-in kernels, no delegate, as bench_backbone's peer.
 * Usage: peer_tflite_arm MODEL.tflite [RUNS=1] [THREADS=1]
 * Prints one line: peer=tflite model=... threads=... runs=... input=golden|zeros outputs=3
 * Extend: a delegate (XNNPACK) would be created here and added to the options before
 * TfLiteInterpreterCreate.
 */
#include "peer_input.h"
#include "tensorflow/lite/c/c_api.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.tflite [RUNS=1] [THREADS=1]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 1, threads = argc > 3 ? atoi(argv[3]) : 1;
    TfLiteModel *model = TfLiteModelCreateFromFile(argv[1]);
    if (!model) {
        fprintf(stderr, "peer_tflite_arm: cannot load %s\n", argv[1]);
        return 1;
    }
    TfLiteInterpreterOptions *opt = TfLiteInterpreterOptionsCreate();
    TfLiteInterpreterOptionsSetNumThreads(opt, threads);
    TfLiteInterpreter *it = TfLiteInterpreterCreate(model, opt);
    if (!it || TfLiteInterpreterAllocateTensors(it) != kTfLiteOk) {
        fprintf(stderr, "peer_tflite_arm: cannot create the interpreter for %s\n", argv[1]);
        return 1;
    }
    TfLiteTensor *in = TfLiteInterpreterGetInputTensor(it, 0);
    size_t n = TfLiteTensorByteSize(in);
    unsigned char *buf = malloc(n);
    if (!buf) return 1;
    const char *kind = peer_fill_input(buf, n);
    if (TfLiteTensorCopyFromBuffer(in, buf, n) != kTfLiteOk) {
        fprintf(stderr, "peer_tflite_arm: cannot set the input (%zu bytes)\n", n);
        return 1;
    }
    for (int i = 0; i < 1 + runs; i++) { /* warm-up + runs */
        if (TfLiteInterpreterInvoke(it) != kTfLiteOk) {
            fprintf(stderr, "peer_tflite_arm: Invoke failed\n");
            return 1;
        }
    }
    printf("peer=tflite model=%s threads=%d runs=%d input=%s outputs=%d\n", argv[1], threads, runs,
           kind, TfLiteInterpreterGetOutputTensorCount(it));
    free(buf);
    TfLiteInterpreterDelete(it);
    TfLiteInterpreterOptionsDelete(opt);
    TfLiteModelDelete(model);
    return 0;
}
