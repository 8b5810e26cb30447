/*
 * report.c - the test report (see report.h). Predictions are p = sigmoid(logit) > 0.5, the
 * Keras accuracy rule; the loss is the mean logit-form binary cross-entropy.
 */
#include "train/report.h"

#include "core/status.h"
#include "train/fsutil.h"
#include "train/head.h"
#include "util/sbuf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SHEET_MAX 400

static double ratio(long a, long b) { return b ? (double)a / (double)b : NAN; }

static void num(ev_sbuf *b, double v) {
    if (isfinite(v)) ev_sbuf_printf(b, "%.6f", v);
    else ev_sbuf_printf(b, "null");
}

static void json_esc(ev_sbuf *b, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') ev_sbuf_printf(b, "\\%c", c);
        else if (c < 0x20) ev_sbuf_printf(b, "\\u%04x", c);
        else ev_sbuf_printf(b, "%c", c);
    }
}

static ev_status save_in(const char *dir, const char *name, const ev_sbuf *b) {
    char *p = ev_tr_join(dir, name);
    if (!p) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = ev_sbuf_save(b, p);
    free(p);
    return st;
}

ev_status ev_test_report_write(const ev_test_report_input *in, ev_eval_summary *sum) {
    memset(sum, 0, sizeof *sum);
    const ev_dataset *ds = in->ds;
    int *wrong = malloc(sizeof(int) * (size_t)(in->n ? in->n : 1));
    if (!wrong) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    int nwrong = 0;
    double loss = 0;
    for (int i = 0; i < in->n; i++) {
        const ev_item *it = &ds->items[in->rows[i]];
        int pred = ev_sigmoid(in->logits[i]) > 0.5f;
        loss += ev_bce_logit(in->logits[i], it->label);
        if (pred && it->label) sum->tp++;
        else if (pred) sum->fp++;
        else if (it->label) sum->fn++;
        else sum->tn++;
        if (pred != it->label) wrong[nwrong++] = i;
    }
    sum->count = in->n;
    sum->skipped = (long)ds->nbad;
    sum->accuracy = ratio(sum->tp + sum->tn, in->n);
    sum->precision = ratio(sum->tp, sum->tp + sum->fp);
    sum->recall = ratio(sum->tp, sum->tp + sum->fn);
    sum->loss = in->n ? loss / in->n : NAN;
    const char *l0 = ds->label_name[0], *l1 = ds->label_name[1];

    ev_sbuf md = {0}, js = {0}, tsv = {0};
    ev_sbuf_printf(&md, "# %s\n\n", in->title);
    ev_sbuf_printf(&md, "| images | accuracy | precision | recall | loss | misclassified | "
                        "skipped (unreadable) |\n|---|---|---|---|---|---|---|\n");
    ev_sbuf_printf(&md, "| %ld | %.4f | %.4f | %.4f | %.4f | %d | %ld |\n\n", sum->count,
                   sum->accuracy, sum->precision, sum->recall, sum->loss, nwrong, sum->skipped);
    ev_sbuf_printf(&md, "Positive class: `%s` (label 1); predicted when P(%s) > 0.5.\n\n", l1, l1);
    ev_sbuf_printf(&md, "Confusion matrix (rows: true label, columns: predicted)\n\n");
    ev_sbuf_printf(&md, "| | predicted %s | predicted %s |\n|---|---|---|\n", l0, l1);
    ev_sbuf_printf(&md, "| **%s** | %ld | %ld |\n| **%s** | %ld | %ld |\n\n", l0, sum->tn,
                   sum->fp, l1, sum->fn, sum->tp);
    ev_sbuf_printf(&md, "## Misclassified (%d), contact sheet: misclassified.png\n\n", nwrong);
    ev_sbuf_printf(&md, "| # | image | true label | P(%s) | source |\n|---|---|---|---|---|\n", l1);
    ev_sbuf_printf(&tsv, "path\tlabel\tpredicted\tp\tsource\n");
    const char **paths = calloc((size_t)(nwrong ? nwrong : 1), sizeof *paths);
    float *ps = malloc(sizeof(float) * (size_t)(nwrong ? nwrong : 1));
    int *labs = malloc(sizeof(int) * (size_t)(nwrong ? nwrong : 1));
    ev_status st = EV_OK;
    if (!paths || !ps || !labs) st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int k = 0; st == EV_OK && k < nwrong; k++) {
        int i = wrong[k];
        const ev_item *it = &ds->items[in->rows[i]];
        float p = ev_sigmoid(in->logits[i]);
        ev_sbuf_printf(&md, "| %d | %s | %s | %.4f | %s |\n", k + 1, it->path,
                       it->label ? l1 : l0, (double)p, it->source);
        ev_sbuf_printf(&tsv, "%s\t%d\t%d\t%.6f\t%s\n", it->path, it->label, !it->label,
                       (double)p, it->source);
        paths[k] = it->path, ps[k] = p, labs[k] = it->label;
    }
    if (ds->nbad) {
        ev_sbuf_printf(&md, "\n## Skipped, unreadable (%zu)\n\n", ds->nbad);
        for (size_t i = 0; i < ds->nbad; i++)
            ev_sbuf_printf(&md, "- %s: %s\n", ds->bad[i].path,
                           ds->bad[i].why ? ds->bad[i].why : "unreadable");
    }
    ev_sbuf_printf(&js, "{\n  \"title\": \"");
    json_esc(&js, in->title);
    ev_sbuf_printf(&js, "\",\n  \"count\": %ld,\n  \"accuracy\": ", sum->count);
    num(&js, sum->accuracy);
    ev_sbuf_printf(&js, ",\n  \"precision\": ");
    num(&js, sum->precision);
    ev_sbuf_printf(&js, ",\n  \"recall\": ");
    num(&js, sum->recall);
    ev_sbuf_printf(&js, ",\n  \"loss\": ");
    num(&js, sum->loss);
    ev_sbuf_printf(&js, ",\n  \"tp\": %ld, \"fp\": %ld, \"tn\": %ld, \"fn\": %ld,\n  "
                        "\"misclassified\": %d,\n  \"skipped\": %ld,\n  \"labels\": [\"",
                   sum->tp, sum->fp, sum->tn, sum->fn, nwrong, sum->skipped);
    json_esc(&js, l0);
    ev_sbuf_printf(&js, "\", \"");
    json_esc(&js, l1);
    ev_sbuf_printf(&js, "\"]\n}\n");
    if (st == EV_OK) st = save_in(in->out, "report.md", &md);
    if (st == EV_OK) st = save_in(in->out, "report.json", &js);
    if (st == EV_OK) st = save_in(in->out, "misclassified.tsv", &tsv);
    if (st == EV_OK) {
        char *png = ev_tr_join(in->out, "misclassified.png");
        st = png ? ev_contact_sheet(paths, ps, labs, nwrong, SHEET_MAX, png)
                 : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        free(png);
    }
    ev_sbuf_free(&md), ev_sbuf_free(&js), ev_sbuf_free(&tsv);
    free(paths), free(ps), free(labs), free(wrong);
    return st;
}
