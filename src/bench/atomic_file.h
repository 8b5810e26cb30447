/*
 * atomic_file.h - writing a whole file so that readers see either the old file or the new one,
 * never a half-written one: PATH.tmp is written, flushed and renamed over PATH (atomic_file.c).
 */
#ifndef EV_BENCH_ATOMIC_FILE_H
#define EV_BENCH_ATOMIC_FILE_H

#include "edgevision.h"

ev_status ev_write_file_atomic(const char *path, const char *data, size_t len);

#endif
