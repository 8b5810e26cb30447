/*
 * model_file.h - the saved car / not-car model, RUN/model.json (model_file.c), and the public
 * ev_head_model that classifies images with it (head_model.c).
 *
 * Format (documented in docs/training.md), JSON:
 *   {"format": "edgevision-head", "version": 1,
 *    "backbone": {"path", "sha1" (of the file), "cut" (tensor name), "cut_is_output",
 *                 "preprocessing" ("resize=...;input=WxH;cut=..."), "features" (head input)},
 *    "labels": [label 0, label 1], "output": "sigmoid = P(label 1)",
 *    "head": {"dropout", "layers": [{"units", "activation", "kernel" [in*out, row-major
 *             [in][out]], "bias" [out]}, ...]},
 *    "training": {"epoch", "val_loss", "val_accuracy", "seed", "split", ...}}
 * Weights are printed with 9 significant digits, which round-trips float32 exactly.
 */
#ifndef EV_TRAIN_MODEL_FILE_H
#define EV_TRAIN_MODEL_FILE_H

#include "train/features.h"
#include "train/head.h"

typedef struct ev_model_meta {
    char backbone_path[4096];
    char backbone_sha1[41];
    char cut[1024];
    int cut_is_output;
    char prep[256];
    char labels[2][128];
    char training_json[4096]; /* the "training" object, already JSON (may be "{}")      */
    char run_json[1024];      /* members the trainer adds to it ("\"split\": ...")       */
} ev_model_meta;

ev_status ev_model_file_save(const char *path, const ev_model_meta *meta, const ev_mlp *m);
/* Reads meta and the head (m is created here; free with ev_mlp_free). */
ev_status ev_model_file_load(const char *path, ev_model_meta *meta, ev_mlp *m);
/* "RUN" or "RUN/model.json" -> the model.json path (malloc'd), EV_ERR_IO when absent. */
ev_status ev_model_file_locate(const char *run, char **path);

/* The backbone a loaded model needs: `override` or the recorded path, which must hash to the
 * recorded SHA-1 and give the recorded preprocessing and feature size (head_model.c). */
ev_status ev_model_backbone_open(const char *model_path, const ev_model_meta *meta,
                                 const ev_mlp *m, const char *override, const char *backend,
                                 int threads, ev_backbone **out);

#endif
