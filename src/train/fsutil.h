/*
 * fsutil.h - small file-system helpers of the training tools (fsutil.c): mkdir -p, path joining
 * and type tests. Reading, atomic writing, the string buffer and the clock are util/ (file.h,
 * sbuf.h, clock.h). Extend: only helpers about folders and paths belong here.
 */
#ifndef EV_TRAIN_FSUTIL_H
#define EV_TRAIN_FSUTIL_H

#include "edgevision.h"

/* Creates `dir` and its parents (mode 0777 minus umask); EV_ERR_IO naming the failing part. */
ev_status ev_tr_mkdirs(const char *dir);
/* "a/b" into a malloc'd string; NULL when out of memory. */
char *ev_tr_join(const char *a, const char *b);
int ev_tr_is_dir(const char *path);
int ev_tr_is_file(const char *path);

#endif
