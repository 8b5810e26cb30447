/*
 * head_model.c - ev_head_model (public): a saved model.json with its backbone, ready to
 * classify images. The backbone file must hash to the SHA-1 the model records and give the same
 * preprocessing string (input size, resize, cut); anything else is refused with both values.
 */
#include "train/features.h"
#include "train/model_file.h"

#include "core/status.h"
#include "util/sha1.h"

#include <string.h>

struct ev_head_model {
    ev_model_meta meta;
    ev_mlp mlp;
    ev_mlp_work work;
    ev_backbone *bb;
    float *feat;
};

void ev_head_model_free(ev_head_model *h) {
    if (!h) return;
    ev_backbone_free(h->bb);
    ev_mlp_work_free(&h->work);
    ev_mlp_free(&h->mlp);
    free(h->feat);
    free(h);
}

static int prep_resize(const char *prep) {
    return strstr(prep, "resize=nearest") ? EV_RESIZE_NEAREST : EV_RESIZE_BILINEAR;
}

ev_status ev_model_backbone_open(const char *path, const ev_model_meta *meta, const ev_mlp *m,
                                 const char *override, const char *backend, int threads,
                                 ev_backbone **out) {
    *out = NULL;
    const char *bpath = override ? override : meta->backbone_path;
    char sha[41];
    ev_status st = ev_sha1_file(bpath, sha);
    if (st != EV_OK) {
        ev_error_prefix("%s: its backbone%s", path, override ? "" : " (the recorded path; pass "
                        "--backbone to give another location)");
        return st;
    }
    if (strcmp(sha, meta->backbone_sha1) != 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s was trained on backbone %s (sha1 %s), but %s has "
                       "sha1 %s: a different model; use the backbone it was trained with", path,
                       meta->backbone_path, meta->backbone_sha1, bpath, sha);
    ev_backbone_options bo = {0};
    bo.model = bpath;
    bo.cut = meta->cut_is_output ? NULL : meta->cut;
    bo.resize = prep_resize(meta->prep);
    bo.backend = backend;
    bo.threads = threads;
    ev_backbone *bb;
    EV_TRY(ev_backbone_open(&bo, &bb));
    if (strcmp(ev_backbone_prep(bb), meta->prep) != 0 || ev_backbone_dim(bb) != m->in_dim) {
        st = EV_FAIL(EV_ERR_INVALID_ARG, "%s: backbone %s gives preprocessing '%s' and %d "
                     "features, the model expects '%s' and %d", path, bpath, ev_backbone_prep(bb),
                     ev_backbone_dim(bb), meta->prep, m->in_dim);
        ev_backbone_free(bb);
        return st;
    }
    *out = bb;
    return EV_OK;
}

ev_status ev_head_model_load(const char *run, const char *backbone,
                             const ev_session_options *session, ev_head_model **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_head_model_load: out is NULL");
    *out = NULL;
    char *path;
    EV_TRY(ev_model_file_locate(run, &path));
    ev_head_model *h = calloc(1, sizeof *h);
    if (!h) {
        free(path);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    ev_status st = ev_model_file_load(path, &h->meta, &h->mlp);
    if (st != EV_OK) goto fail;
    EV_TRY_GOTO(st, ev_model_backbone_open(path, &h->meta, &h->mlp, backbone,
                                           session ? session->backend : NULL, 1, &h->bb),
                fail);
    EV_TRY_GOTO(st, ev_mlp_work_create(&h->work, &h->mlp, 1), fail);
    h->feat = malloc(sizeof(float) * (size_t)h->mlp.in_dim);
    if (!h->feat) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    free(path);
    *out = h;
    return EV_OK;
fail:
    free(path);
    ev_head_model_free(h);
    return st;
}

ev_status ev_head_model_predict(ev_head_model *h, const ev_image *img, float *p) {
    if (!h || !img || !p) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_head_model_predict: NULL argument");
    EV_TRY(ev_backbone_embed(h->bb, 0, img, h->feat));
    int row = 0;
    ev_mlp_forward(&h->mlp, &h->work, h->feat, &row, 1, 0, NULL);
    *p = ev_sigmoid(h->work.z[0]);
    return EV_OK;
}

const char *ev_head_model_label(const ev_head_model *h, int label) {
    return h && (label == 0 || label == 1) ? h->meta.labels[label] : NULL;
}
