/*
 * mat_check.h - refuses .mat files whose declared sizes cannot be real before libmatio reads
 * them (see mat_check.c).
 */
#ifndef EV_TRAIN_MAT_CHECK_H
#define EV_TRAIN_MAT_CHECK_H

#include "edgevision.h"

ev_status ev_mat_check(const char *path);

#endif
