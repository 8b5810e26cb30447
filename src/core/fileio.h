/*
 * fileio.h - whole-file I/O shared by every module: ev_write_file_atomic writes PATH.tmp, flushes,
 * fsyncs and renames it over PATH, so readers see either the old file or the new one, never a
 * half-written one (fileio.c). Reading a whole file is ev_read_file (core/model.h).
 */
#ifndef EV_CORE_FILEIO_H
#define EV_CORE_FILEIO_H

#include "edgevision.h"

ev_status ev_write_file_atomic(const char *path, const void *data, size_t len);

#endif
