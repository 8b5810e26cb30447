/*
 * train.c - the public entry points ev_train_run and ev_eval_run: data -> hashes -> features
 * (cached) -> split -> head training -> test report, each stage in its own file:
 *   dataset.c / stanford_cars.c   image lists        split.c       train/val/test
 *   features.c / feature_cache.c  backbone, cache    trainer.c     epochs, checkpoints, resume
 *   report.c / contact_sheet.c    test report        model_file.c  model.json
 * A run folder also gets manifest.tsv, skipped.tsv and run.json (timings, counts, options).
 *
 * Extend: a new stage (augmentation would disable the cache) slots in between; a new output
 * file belongs to the stage that produces it.
 */
#include "train/model_file.h"
#include "train/report.h"
#include "train/split.h"
#include "train/trainer.h"

#include "core/status.h"
#include "train/fsutil.h"
#include "util/clock.h"
#include "util/sbuf.h"
#include "util/sha1.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void ev_train_options_init(ev_train_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->backbone.resize = -1;
    o->split = EV_SPLIT_STRATIFIED;
    o->fractions[0] = 0.5, o->fractions[1] = 0.3, o->fractions[2] = 0.2;
    o->group_size = 50;
    o->seed = 1;
    o->hidden[0] = 32;
    o->num_hidden = 1;
    o->learning_rate = 0.001f;
    o->batch = 32;
    o->epochs = 10;
}

void ev_eval_options_init(ev_eval_options *o) {
    if (o) memset(o, 0, sizeof *o);
}

static void json_str(ev_sbuf *b, const char *s) {
    ev_sbuf_printf(b, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') ev_sbuf_printf(b, "\\%c", c);
        else if (c >= 0x20) ev_sbuf_printf(b, "%c", c);
    }
    ev_sbuf_printf(b, "\"");
}

/* Data, hashes, features (cached), unreadable images set aside. */
static ev_status prepare(ev_dataset *ds, const ev_data_options *data, ev_backbone *bb,
                         const char *cache, const char *out, float **feat, double *seconds,
                         int *hit) {
    EV_TRY(ev_dataset_load(ds, data));
    ev_tr_note(ds->progress, ds->user, "%zu images (%s: label 1, %s: label 0)", ds->n,
               ds->label_name[1], ds->label_name[0]);
    EV_TRY(ev_dataset_hash(ds, ev_backbone_workers(bb)));
    double t0 = ev_clock_s();
    EV_TRY(ev_features_get(bb, ds, cache, feat, hit));
    *seconds = ev_clock_s() - t0;
    EV_TRY(ev_features_compact(ds, *feat, ev_backbone_dim(bb)));
    char *sk = ev_tr_join(out, "skipped.tsv");
    ev_status st = sk ? ev_skipped_write(ds, sk) : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    free(sk);
    if (st == EV_OK && ds->nbad)
        ev_tr_note(ds->progress, ds->user, "%zu unreadable image(s) skipped (listed in "
                   "%s/skipped.tsv)", ds->nbad, out);
    if (st == EV_OK && ds->n == 0)
        st = EV_FAIL(EV_ERR_INVALID_ARG, "no readable images in the data");
    return st;
}

static ev_status fill_meta(ev_model_meta *mm, ev_backbone *bb, const char *model, int cut_is_out,
                           const ev_dataset *ds) {
    memset(mm, 0, sizeof *mm);
    char real[PATH_MAX];
    snprintf(mm->backbone_path, sizeof mm->backbone_path, "%s",
             realpath(model, real) ? real : model);
    snprintf(mm->backbone_sha1, sizeof mm->backbone_sha1, "%s", ev_backbone_sha1(bb));
    snprintf(mm->cut, sizeof mm->cut, "%s", ev_backbone_cut(bb));
    mm->cut_is_output = cut_is_out;
    snprintf(mm->prep, sizeof mm->prep, "%s", ev_backbone_prep(bb));
    snprintf(mm->labels[0], sizeof mm->labels[0], "%s", ds->label_name[0]);
    snprintf(mm->labels[1], sizeof mm->labels[1], "%s", ds->label_name[1]);
    return EV_OK;
}

ev_status ev_train_run(const ev_train_options *o, ev_eval_summary *test) {
    if (test) memset(test, 0, sizeof *test);
    if (!o || !o->out || !*o->out)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_train_run: no run folder (out) given");
    if (o->group_size < 1)
        return EV_FAIL(EV_ERR_INVALID_ARG, "group size %d (needs >= 1)", o->group_size);
    EV_TRY(ev_tr_mkdirs(o->out));
    ev_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.progress = o->progress;
    ds.user = o->user;
    ev_backbone *bb = NULL;
    float *feat = NULL, *logits = NULL;
    int *y = NULL, *rows[3] = {NULL, NULL, NULL}, cnt[3] = {0, 0, 0};
    ev_mlp best;
    memset(&best, 0, sizeof best);
    char *cache = o->cache ? strdup(o->cache) : ev_tr_join(o->out, "features.cache");
    char *manifest = ev_tr_join(o->out, "manifest.tsv");
    char *runjson = ev_tr_join(o->out, "run.json");
    ev_sbuf rj = {0};
    ev_status st = EV_OK;
    if (!cache || !manifest || !runjson) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    EV_TRY_GOTO(st, ev_backbone_open(&o->backbone, &bb), done);
    double feat_s = 0;
    int hit = 0;
    EV_TRY_GOTO(st, prepare(&ds, &o->data, bb, cache, o->out, &feat, &feat_s, &hit), done);
    EV_TRY_GOTO(st, ev_split_assign(&ds, o->split, o->fractions, o->group_size, o->seed), done);
    EV_TRY_GOTO(st, ev_manifest_write(&ds, manifest), done);
    y = malloc(sizeof(int) * ds.n);
    for (int k = 0; k < 3; k++) rows[k] = malloc(sizeof(int) * ds.n);
    if (!y || !rows[0] || !rows[1] || !rows[2]) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    ev_sha1 key;
    ev_sha1_init(&key);
    char dkey[41];
    ev_dataset_key(&ds, dkey);
    ev_sha1_update(&key, dkey, 40);
    ev_sha1_update(&key, ev_backbone_sha1(bb), 40);
    ev_sha1_update(&key, ev_backbone_prep(bb), strlen(ev_backbone_prep(bb)));
    for (size_t i = 0; i < ds.n; i++) {
        y[i] = ds.items[i].label;
        int s = ds.items[i].split;
        rows[s][cnt[s]++] = (int)i;
        char c = (char)('0' + s);
        ev_sha1_update(&key, &c, 1);
    }
    char fit_key[41];
    ev_sha1_final_hex(&key, fit_key);
    ev_tr_note(o->progress, o->user, "split %s (seed %llu): %d train, %d validation, %d test",
               ev_split_mode_name(o->split), (unsigned long long)o->seed, cnt[0], cnt[1], cnt[2]);
    if (cnt[0] == 0) {
        st = EV_FAIL(EV_ERR_INVALID_ARG, "the split left no training images");
        goto done;
    }
    ev_model_meta meta;
    fill_meta(&meta, bb, o->backbone.model, o->backbone.cut == NULL, &ds);
    snprintf(meta.run_json, sizeof meta.run_json,
             "\"split\": \"%s\", \"group_size\": %d, \"fractions\": [%g, %g, %g], "
             "\"images\": {\"train\": %d, \"val\": %d, \"test\": %d}, \"data_key\": \"%s\"",
             ev_split_mode_name(o->split), o->group_size, o->fractions[0], o->fractions[1],
             o->fractions[2], cnt[0], cnt[1], cnt[2], fit_key);
    ev_fit_config fc = {o->hidden, o->num_hidden, o->dropout, o->learning_rate, o->batch,
                        o->epochs, o->patience, o->seed, o->out, o->resume, o->progress, o->user};
    ev_fit_data fd = {feat, y, ev_backbone_dim(bb), rows[0], rows[1], cnt[0], cnt[1], fit_key};
    ev_fit_result fr;
    double t0 = ev_clock_s();
    EV_TRY_GOTO(st, ev_fit(&fc, &fd, &meta, &best, &fr), done);
    double train_s = ev_clock_s() - t0;
    /* Test report with the best checkpoint. */
    ev_eval_summary sum;
    memset(&sum, 0, sizeof sum);
    if (cnt[2] > 0) {
        logits = malloc(sizeof(float) * (size_t)cnt[2]);
        ev_mlp_work w;
        if (!logits) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        EV_TRY_GOTO(st, ev_mlp_work_create(&w, &best, 256), done);
        double l, a;
        ev_fit_evaluate(&best, &w, feat, y, rows[2], cnt[2], &l, &a, logits);
        ev_mlp_work_free(&w);
        char title[512];
        snprintf(title, sizeof title, "Test split of %s (%s split, best epoch %d)", o->out,
                 ev_split_mode_name(o->split), fr.best_epoch);
        ev_test_report_input ri = {&ds, rows[2], logits, cnt[2], title, o->out};
        EV_TRY_GOTO(st, ev_test_report_write(&ri, &sum), done);
    } else {
        ev_tr_note(o->progress, o->user, "no test images (test fraction 0): no test report");
    }
    if (test) *test = sum;
    ev_sbuf_printf(&rj, "{\n  \"backbone\": ");
    json_str(&rj, meta.backbone_path);
    ev_sbuf_printf(&rj, ",\n  \"backbone_sha1\": \"%s\",\n  \"preprocessing\": ", meta.backbone_sha1);
    json_str(&rj, meta.prep);
    ev_sbuf_printf(&rj, ",\n  \"features\": %d,\n  \"images\": %zu,\n  \"skipped\": %zu,\n"
                        "  \"feature_cache\": ", ev_backbone_dim(bb), ds.n, ds.nbad);
    json_str(&rj, cache);
    ev_sbuf_printf(&rj, ",\n  \"feature_cache_hit\": %s,\n  \"feature_seconds\": %.3f,\n"
                        "  \"training_seconds\": %.3f,\n  \"threads\": %d,\n  \"epochs_run\": %d,\n"
                        "  \"best_epoch\": %d,\n  \"stopped_early\": %s,\n  \"training\": %s,\n"
                        "  \"test_accuracy\": %.6f\n}\n",
                   hit ? "true" : "false", feat_s, train_s, ev_backbone_workers(bb),
                   fr.epochs_done, fr.best_epoch, fr.stopped_early ? "true" : "false",
                   meta.training_json[0] ? meta.training_json : "{}",
                   isfinite(sum.accuracy) ? sum.accuracy : -1.0);
    st = ev_sbuf_save(&rj, runjson);
done:
    ev_sbuf_free(&rj);
    ev_backbone_free(bb);
    ev_dataset_free(&ds);
    ev_mlp_free(&best);
    free(feat), free(logits), free(y), free(rows[0]), free(rows[1]), free(rows[2]);
    free(cache), free(manifest), free(runjson);
    return st;
}

ev_status ev_eval_run(const ev_eval_options *o, ev_eval_summary *summary) {
    if (summary) memset(summary, 0, sizeof *summary);
    if (!o) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_eval_run: no options");
    char *model_path = NULL;
    EV_TRY(ev_model_file_locate(o->model, &model_path));
    ev_model_meta meta;
    ev_mlp m;
    ev_status st = ev_model_file_load(model_path, &meta, &m);
    if (st != EV_OK) {
        free(model_path);
        return st;
    }
    ev_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.progress = o->progress;
    ds.user = o->user;
    ev_backbone *bb = NULL;
    float *feat = NULL, *logits = NULL;
    int *y = NULL, *rows = NULL;
    char *out = NULL;
    if (o->out) out = strdup(o->out);
    else {
        char *dir = ev_tr_is_dir(o->model) ? strdup(o->model) : NULL;
        if (!dir) { /* the folder of model.json */
            dir = strdup(model_path);
            char *slash = dir ? strrchr(dir, '/') : NULL;
            if (slash) *slash = '\0';
            else if (dir) snprintf(dir, 2, ".");
        }
        out = dir ? ev_tr_join(dir, "eval") : NULL;
        free(dir);
    }
    if (!out) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    EV_TRY_GOTO(st, ev_tr_mkdirs(out), done);
    EV_TRY_GOTO(st, ev_model_backbone_open(model_path, &meta, &m, o->backbone, o->backend,
                                           o->threads, &bb), done);
    ev_data_options data = o->data;
    if (!data.positive) data.positive = meta.labels[1];
    double fs;
    int hit;
    EV_TRY_GOTO(st, prepare(&ds, &data, bb, o->cache, out, &feat, &fs, &hit), done);
    y = malloc(sizeof(int) * ds.n);
    rows = malloc(sizeof(int) * ds.n);
    logits = malloc(sizeof(float) * ds.n);
    if (!y || !rows || !logits) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ds.n; i++) {
        y[i] = ds.items[i].label;
        rows[i] = (int)i;
        ds.items[i].split = EV_TEST;
    }
    ev_mlp_work w;
    EV_TRY_GOTO(st, ev_mlp_work_create(&w, &m, 256), done);
    double l, a;
    ev_fit_evaluate(&m, &w, feat, y, rows, (int)ds.n, &l, &a, logits);
    ev_mlp_work_free(&w);
    for (int k = 0; k < 2; k++) { /* report in the model's label names */
        free(ds.label_name[k]);
        ds.label_name[k] = strdup(meta.labels[k]);
    }
    char *manifest = ev_tr_join(out, "manifest.tsv");
    st = manifest ? ev_manifest_write(&ds, manifest) : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    free(manifest);
    if (st != EV_OK) goto done;
    char title[1024];
    snprintf(title, sizeof title, "Evaluation of %s on %s%s", model_path, o->data.roots[0],
             o->data.num_roots > 1 ? " and more" : "");
    ev_test_report_input ri = {&ds, rows, logits, (int)ds.n, title, out};
    ev_eval_summary sum;
    EV_TRY_GOTO(st, ev_test_report_write(&ri, &sum), done);
    if (summary) *summary = sum;
done:
    ev_backbone_free(bb);
    ev_dataset_free(&ds);
    ev_mlp_free(&m);
    free(feat), free(logits), free(y), free(rows), free(out), free(model_path);
    return st;
}
