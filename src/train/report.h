/*
 * report.h - the test report of a binary classifier (report.c): accuracy, precision, recall
 * (label 1 positive), the confusion matrix, the mean loss, and every misclassified image with
 * its probability, written into a folder as
 *   report.md          for people
 *   report.json        the figures, for scripts (docs/experiments.md is built from these)
 *   misclassified.tsv  path, label, predicted, p (P(label 1)), source: the contact sheet order
 *   misclassified.png  contact sheet (contact_sheet.c)
 */
#ifndef EV_TRAIN_REPORT_H
#define EV_TRAIN_REPORT_H

#include "train/dataset.h"

typedef struct ev_test_report_input {
    const ev_dataset *ds;
    const int *rows;     /* items of ds evaluated                                          */
    const float *logits; /* one per row                                                    */
    int n;
    const char *title;   /* "test split of RUN", "eval of DIR"                             */
    const char *out;     /* folder (exists)                                                */
} ev_test_report_input;

ev_status ev_test_report_write(const ev_test_report_input *in, ev_eval_summary *sum);

/* Contact sheet of images: thumbnails in a grid, each framed red (predicted label 1, truly 0)
 * or blue (predicted 0, truly 1) over a bar filled to p. At most `max` images. */
ev_status ev_contact_sheet(const char *const *paths, const float *p, const int *labels, int n,
                           int max, const char *out_png);

#endif
