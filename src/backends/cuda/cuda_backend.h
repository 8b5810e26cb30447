/*
 * cuda_backend.h - internal hooks of the cuda backend (not public API; only in builds with
 * EV_HAVE_CUDA).
 */
#ifndef EV_BACKENDS_CUDA_BACKEND_H
#define EV_BACKENDS_CUDA_BACKEND_H

#include "edgevision.h"

#include <stddef.h>

/* Host<->device traffic of one cuda session since it was created (or last reset): inputs
 * uploaded, outputs and host-fallback operands downloaded. `seconds` is host wall time spent in
 * the copies and the synchronisations that wait for them. For the benchmark, which will report
 * transfers apart from compute. */
typedef struct ev_cuda_transfer_stats {
    unsigned long long h2d_bytes, d2h_bytes, h2d_copies, d2h_copies;
    double seconds;
} ev_cuda_transfer_stats;

/* Fills `out` for a session created on backend "cuda"; reset != 0 zeroes the counters after.
 * Returns 0, or -1 when `s` is not a cuda session with prepared ops. */
int ev_cuda_session_transfers(const ev_session *s, ev_cuda_transfer_stats *out, int reset);

/* 1 when a CUDA device can be used; otherwise 0 with the runtime's reason in `why`. */
int ev_cuda_device_available(char *why, size_t n);

/* Tests only: sessions created while this is on run the backend's exact per-thread kernel code
 * on the host, with host memory standing in for device memory (cuda_emu.c), so the arithmetic,
 * weight packing, memory plan and host/device residency are checked on machines without a GPU.
 * The device is not touched. Not thread-safe: set it before creating sessions. */
void ev_cuda_set_emulation(int on);

#endif
