/*
 * split.h - assigning train/validation/test (split.c). All modes are seeded and deterministic
 * for a given item order:
 *   random      shuffle all items, cut at the fractions
 *   stratified  the same within each label
 *   group       items grouped by (label, source, number / group_size) - frames of one video
 *               sequence stay together - and whole groups assigned, stratified by label
 *   dataset     the dataset's own train/test where it has one (validation out of train at
 *               val / (train + val)); items without one: stratified
 * Counts per label and split are round(fraction * n) with the remainder to the last split.
 *
 * Extend: a new mode is one more case in ev_split_assign().
 */
#ifndef EV_TRAIN_SPLIT_H
#define EV_TRAIN_SPLIT_H

#include "train/dataset.h"

ev_status ev_split_assign(ev_dataset *ds, ev_split_mode mode, const double fractions[3],
                          int group_size, uint64_t seed);
/* The group an item belongs to in group mode, as text ("1\tcar/GTI_Far\t3"). */
void ev_split_group_key(const ev_item *it, int group_size, char *buf, size_t n);
const char *ev_split_mode_name(ev_split_mode mode);
/* 0 and *mode set when `name` is random, stratified, group or dataset. */
int ev_split_mode_parse(const char *name, ev_split_mode *mode);

#endif
