/*
 * dataset.h - labelled image lists for training: what an image is (path, label, source, the
 * dataset's own split, file number for groups, content hash) and the readers that build lists
 * from folders on disk (dataset.c: folder-per-class, Caltech-256; stanford_cars.c: the Stanford
 * Cars devkit through libmatio). split.c assigns train/val/test; manifest rows are written here.
 *
 * Extend: a new dataset layout is one more reader `ev_dataset_add_<layout>` and one detection
 * rule in ev_dataset_add_root().
 */
#ifndef EV_TRAIN_DATASET_H
#define EV_TRAIN_DATASET_H

#include "edgevision.h"

enum { EV_TRAIN = 0, EV_VAL = 1, EV_TEST = 2 };

typedef struct ev_item {
    char *path;   /* as opened                                                       */
    char *source; /* "car/GTI_Far", "caltech256/023.bulldozer", "stanford_cars/..."   */
    int label;    /* 0 or 1                                                          */
    int preset;   /* the dataset's own split (EV_TRAIN / EV_TEST) or -1              */
    long number;  /* trailing number of the file name (image0042.png: 42) or -1      */
    int split;    /* assigned by split.c                                             */
    int ok;       /* 1 while readable; 0 once reading or decoding failed             */
    char *why;    /* when !ok: the reason (reported, and written to skipped.tsv)      */
    char sha1[41];
} ev_item;

typedef struct ev_dataset {
    ev_item *items;
    size_t n, cap;
    char *label_name[2]; /* label 0 and 1 ("not_car", "car")                            */
    ev_item *bad;        /* items dropped by ev_dataset_compact, with their reason        */
    size_t nbad;
    ev_train_progress_fn progress; /* notes go here (may be NULL)                      */
    void *user;
} ev_dataset;

void ev_dataset_free(ev_dataset *ds);
/* Reports a line through the progress callback (a NOTE). */
void ev_tr_note(ev_train_progress_fn fn, void *user, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds every image of `root`, detecting its layout (see ev_data_options in edgevision.h). */
ev_status ev_dataset_add_root(ev_dataset *ds, const ev_data_options *opts, const char *root);
/* Adds all roots of `opts`, then names the labels. Fails when no image was found. */
ev_status ev_dataset_load(ev_dataset *ds, const ev_data_options *opts);

/* Appends one item (strings copied). */
ev_status ev_dataset_push(ev_dataset *ds, const char *path, const char *source, int label,
                          int preset, long number);
/* The trailing decimal number of a file name's stem ("image0042.png" -> 42), or -1. */
long ev_file_number(const char *name);

/* Hashes every file (threads in parallel); unreadable files are reported, marked !ok. */
ev_status ev_dataset_hash(ev_dataset *ds, int threads);
/* SHA-1 of the image list: "path\tlabel\tsha1\n" per item, in order (the cache key). */
void ev_dataset_key(const ev_dataset *ds, char hex[41]);
/* Marks item i unreadable with a reason and reports it (never silently). */
void ev_dataset_reject(ev_dataset *ds, size_t i, const char *why);
/* Reports progress of a pass over the items (stage, done of ds->n, seconds since t0) to the
 * progress callback, if any; EV_ERR_INVALID_ARG when the callback asks to stop. */
ev_status ev_dataset_progress(const ev_dataset *ds, ev_train_stage stage, size_t done, double t0);
/* Moves items with !ok to ds->bad (order kept). */
ev_status ev_dataset_compact(ev_dataset *ds);
/* skipped.tsv: "path\treason" per dropped item (written even when empty). */
ev_status ev_skipped_write(const ev_dataset *ds, const char *path);

/* Manifest TSV: header "path\tlabel\tsplit\tsource\tsha1", then one row per item. */
ev_status ev_manifest_write(const ev_dataset *ds, const char *path);
const char *ev_split_name(int split);

/* Stanford Cars: reads `annotations` (1xN struct: bbox_x1..bbox_y2, class (absent in the
 * unlabelled test file), fname) of a devkit .mat file. class_ids[i] is 1-based, or 0 when the
 * file has no class field. Free fnames[i], fnames and class_ids with free(). */
ev_status ev_stanford_read_annos(const char *mat_path, char ***fnames, int **class_ids,
                                 size_t *count);
/* class_names of cars_meta.mat (1xK cell of char rows). */
ev_status ev_stanford_read_meta(const char *mat_path, char ***names, size_t *count);
/* Adds a devkit root: cars_train/ (preset train) and cars_test/ (preset test), label 1. */
ev_status ev_dataset_add_stanford(ev_dataset *ds, const char *root);

#endif
