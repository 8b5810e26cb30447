/*
 * features.c - the frozen backbone (see features.h): one ev_classifier per worker, an optional
 * cut at a named op output captured through the op callback, batched parallel extraction with
 * progress, and the cache decision.
 *
 * Extend: another way to reach a tensor (e.g. a model with several outputs) is one more case in
 * capture(); another input pipeline belongs in the classifier's options.
 */
#include "train/features.h"

#include "core/status.h"
#include "core/threadpool.h"
#include "util/clock.h"
#include "util/sha1.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BATCH 64

typedef struct capture_buf {
    const char *name; /* tensor to capture; NULL: use the embedding */
    float *data;
    int dim;
    int hit;
    char seen[512]; /* op outputs met (for the error message) */
} capture_buf;

struct ev_backbone {
    ev_classifier **cls;
    capture_buf *cap;
    float **scratch; /* per worker: embedding_size floats */
    int workers;
    char *path, *cut;
    char sha1[41];
    int dim;
    char prep[256];
};

static int capture(void *user, int op_index, const char *op_name, const ev_tensor_info *o,
                   const void *data) {
    (void)op_index, (void)op_name;
    capture_buf *c = user;
    if (!o->name) return 0;
    if (!c->data) { /* probing: remember names, find the size */
        size_t len = strlen(c->seen);
        if (len + strlen(o->name) + 3 < sizeof c->seen)
            snprintf(c->seen + len, sizeof c->seen - len, "%s%s", len ? ", " : "", o->name);
        if (strcmp(o->name, c->name) == 0 && !c->hit) {
            c->hit = 1;
            c->dim = (int)(o->bytes / (ev_dtype_size(o->dtype) ? ev_dtype_size(o->dtype) : 1));
            if (o->dtype != EV_DTYPE_F32 && o->dtype != EV_DTYPE_U8 && o->dtype != EV_DTYPE_I8)
                c->dim = -1;
        }
        return 0;
    }
    if (strcmp(o->name, c->name) != 0 || c->hit) return 0;
    c->hit = 1;
    for (int i = 0; i < c->dim; i++) {
        switch (o->dtype) {
        case EV_DTYPE_F32: c->data[i] = ((const float *)data)[i]; break;
        case EV_DTYPE_U8:
            c->data[i] = o->scale * (float)((int32_t)((const uint8_t *)data)[i] - o->zero_point);
            break;
        default:
            c->data[i] = o->scale * (float)((int32_t)((const int8_t *)data)[i] - o->zero_point);
        }
    }
    return 0;
}

void ev_backbone_free(ev_backbone *bb) {
    if (!bb) return;
    for (int i = 0; i < bb->workers; i++) {
        if (bb->cls) ev_classifier_free(bb->cls[i]);
        if (bb->cap) free(bb->cap[i].data);
        if (bb->scratch) free(bb->scratch[i]);
    }
    free(bb->cls), free(bb->cap), free(bb->scratch), free(bb->path), free(bb->cut);
    free(bb);
}

static int is_hdf5(const char *path) {
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char b[8];
    FILE *f = fopen(path, "rb");
    int yes = f && fread(b, 1, 8, f) == 8 && memcmp(b, sig, 8) == 0;
    if (f) fclose(f);
    return yes;
}

static int default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static const char *default_backend(void) {
    for (const char *const *b = ev_backend_names(); *b; b++)
        if (strcmp(*b, "cpu") == 0) return "cpu";
    return "ref";
}

ev_status ev_backbone_open(const ev_backbone_options *o, ev_backbone **out) {
    *out = NULL;
    if (!o || !o->model) return EV_FAIL(EV_ERR_INVALID_ARG, "no backbone model given");
    ev_backbone *bb = calloc(1, sizeof *bb);
    if (!bb) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st;
    bb->workers = o->threads > 0 ? o->threads : default_threads();
    bb->path = strdup(o->model);
    bb->cls = calloc((size_t)bb->workers, sizeof *bb->cls);
    bb->cap = calloc((size_t)bb->workers, sizeof *bb->cap);
    bb->scratch = calloc((size_t)bb->workers, sizeof *bb->scratch);
    if (!bb->path || !bb->cls || !bb->cap || !bb->scratch) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    EV_TRY_GOTO(st, ev_sha1_file(o->model, bb->sha1), fail);
    ev_classifier_options co;
    ev_classifier_options_init(&co);
    co.session.backend = o->backend ? o->backend : default_backend();
    co.session.threads = 1;
    if (o->resize >= 0) co.resize = (ev_resize_mode)o->resize;
    else if (is_hdf5(o->model)) co.resize = EV_RESIZE_NEAREST; /* Keras's load_img */
    for (int w = 0; w < bb->workers; w++)
        EV_TRY_GOTO(st, ev_classifier_create(o->model, NULL, &co, &bb->cls[w]), fail);
    int in_w, in_h;
    ev_classifier_input_size(bb->cls[0], &in_w, &in_h);
    int emb = ev_classifier_embedding_size(bb->cls[0]);
    const char *out_name = NULL;
    ev_tensor_info oi;
    ev_session *s0 = ev_classifier_session(bb->cls[0], 0);
    (void)s0;
    bb->dim = emb;
    for (int w = 0; w < bb->workers; w++)
        if (!(bb->scratch[w] = malloc(sizeof(float) * (size_t)emb))) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
    if (o->cut) {
        /* Probe: run once on a grey image, find the tensor and its size. */
        capture_buf probe = {0};
        probe.name = o->cut;
        uint8_t *grey = malloc((size_t)in_w * (size_t)in_h * 3);
        ev_image *img = NULL;
        if (!grey) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
        memset(grey, 128, (size_t)in_w * (size_t)in_h * 3);
        st = ev_image_create(in_w, in_h, grey, &img);
        free(grey);
        if (st != EV_OK) goto fail;
        ev_session_set_op_callback(ev_classifier_session(bb->cls[0], 0), capture, &probe);
        st = ev_classifier_embedding(bb->cls[0], img, bb->scratch[0], (size_t)emb);
        ev_session_set_op_callback(ev_classifier_session(bb->cls[0], 0), NULL, NULL);
        ev_image_free(img);
        if (st != EV_OK) goto fail;
        if (!probe.hit) {
            st = EV_FAIL(EV_ERR_INVALID_ARG, "backbone %s has no op output named '%s' to cut at "
                         "(op outputs: %s%s)", o->model, o->cut, probe.seen,
                         strlen(probe.seen) > 400 ? " ..." : "");
            goto fail;
        }
        if (probe.dim < 1) {
            st = EV_FAIL(EV_ERR_UNSUPPORTED, "backbone %s: tensor '%s' is not float32, uint8 or "
                         "int8", o->model, o->cut);
            goto fail;
        }
        bb->dim = probe.dim;
        for (int w = 0; w < bb->workers; w++) {
            bb->cap[w].name = o->cut;
            bb->cap[w].dim = probe.dim;
            if (!(bb->cap[w].data = malloc(sizeof(float) * (size_t)probe.dim))) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                goto fail;
            }
            ev_session_set_op_callback(ev_classifier_session(bb->cls[w], 0), capture,
                                       &bb->cap[w]);
        }
        bb->cut = strdup(o->cut);
    } else {
        /* The model's output tensor: its name, through a one-op look at the model. */
        ev_model *m = NULL;
        if (ev_model_load(o->model, &m) == EV_OK && ev_model_output_info(m, 0, &oi) == EV_OK &&
            oi.name)
            out_name = oi.name;
        bb->cut = strdup(out_name ? out_name : "output");
        ev_model_free(m);
        ev_clear_error();
    }
    if (!bb->cut) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    /* Long tensor names (TFLite joins fused names with ';') are shortened to a prefix and
     * their hash, so the string stays within the cache header and still tells cuts apart. */
    char cutkey[200];
    if (strlen(bb->cut) <= 150) {
        snprintf(cutkey, sizeof cutkey, "%s", bb->cut);
    } else {
        char h[41];
        ev_sha1_hex(bb->cut, strlen(bb->cut), h);
        snprintf(cutkey, sizeof cutkey, "%.100s...sha1:%s", bb->cut, h);
    }
    snprintf(bb->prep, sizeof bb->prep, "resize=%s;input=%dx%d;cut=%s",
             co.resize == EV_RESIZE_NEAREST ? "nearest" : "bilinear", in_w, in_h, cutkey);
    *out = bb;
    return EV_OK;
fail:
    ev_backbone_free(bb);
    return st;
}

int ev_backbone_dim(const ev_backbone *bb) { return bb->dim; }
int ev_backbone_workers(const ev_backbone *bb) { return bb->workers; }
const char *ev_backbone_sha1(const ev_backbone *bb) { return bb->sha1; }
const char *ev_backbone_path(const ev_backbone *bb) { return bb->path; }
const char *ev_backbone_cut(const ev_backbone *bb) { return bb->cut; }
const char *ev_backbone_prep(const ev_backbone *bb) { return bb->prep; }

ev_status ev_backbone_embed(ev_backbone *bb, int w, const ev_image *img, float *out) {
    capture_buf *c = &bb->cap[w];
    c->hit = 0;
    EV_TRY(ev_classifier_embedding(bb->cls[w], img, bb->scratch[w],
                                   (size_t)ev_classifier_embedding_size(bb->cls[w])));
    if (!c->name) {
        memcpy(out, bb->scratch[w], sizeof(float) * (size_t)bb->dim);
        return EV_OK;
    }
    if (!c->hit) return EV_FAIL(EV_ERR_INTERNAL, "tensor '%s' was not produced", c->name);
    memcpy(out, c->data, sizeof(float) * (size_t)bb->dim);
    return EV_OK;
}

typedef struct extract_ctx {
    ev_backbone *bb;
    ev_dataset *ds;
    float *feat;
    size_t base;
    ev_status st[BATCH];
    char msg[BATCH][256];
} extract_ctx;

static void extract_task(void *vctx, int task, int thread) {
    extract_ctx *x = vctx;
    size_t i = x->base + (size_t)task;
    ev_item *it = &x->ds->items[i];
    float *row = x->feat + i * (size_t)x->bb->dim;
    memset(row, 0, sizeof(float) * (size_t)x->bb->dim);
    x->st[task] = EV_OK;
    if (!it->ok) return;
    ev_image *img = NULL;
    ev_status st = ev_image_load(it->path, &img);
    if (st == EV_OK) st = ev_backbone_embed(x->bb, thread, img, row);
    ev_image_free(img);
    x->st[task] = st;
    if (st != EV_OK) snprintf(x->msg[task], sizeof x->msg[task], "%s", ev_last_error());
}

static ev_status compute(ev_backbone *bb, ev_dataset *ds, float *feat) {
    ev_threadpool *pool = NULL;
    EV_TRY(ev_threadpool_create(bb->workers, &pool));
    extract_ctx *x = malloc(sizeof *x);
    if (!x) {
        ev_threadpool_free(pool);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    x->bb = bb, x->ds = ds, x->feat = feat;
    double t0 = ev_clock_s();
    ev_status rc = EV_OK;
    for (size_t base = 0; base < ds->n; base += BATCH) {
        int n = (int)(ds->n - base < BATCH ? ds->n - base : BATCH);
        x->base = base;
        ev_threadpool_run(pool, extract_task, x, n);
        for (int i = 0; i < n; i++)
            if (x->st[i] != EV_OK) ev_dataset_reject(ds, base + (size_t)i, x->msg[i]);
        rc = ev_dataset_progress(ds, EV_TRAIN_FEATURES, base + (size_t)n, t0);
        if (rc != EV_OK) break;
    }
    free(x);
    ev_threadpool_free(pool);
    return rc;
}

ev_status ev_features_get(ev_backbone *bb, ev_dataset *ds, const char *cache, float **feat,
                          int *hit) {
    *feat = NULL;
    *hit = 0;
    size_t n = ds->n, dim = (size_t)bb->dim;
    float *f = malloc(sizeof(float) * (n ? n : 1) * dim);
    uint8_t *ok = malloc(n ? n : 1);
    if (!f || !ok) {
        free(f), free(ok);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory for %zu x %zu features", n, dim);
    }
    char key[41];
    ev_dataset_key(ds, key);
    ev_status st = EV_OK;
    if (cache) {
        char why[512];
        st = ev_cache_load(cache, bb->sha1, key, bb->prep, n, bb->dim, ok, f, hit, why,
                           sizeof why);
        if (st == EV_OK && *hit) {
            ev_tr_note(ds->progress, ds->user, "feature cache %s: reused (%zu images x %zu)",
                       cache, n, dim);
            for (size_t i = 0; i < n; i++)
                if (!ok[i] && ds->items[i].ok)
                    ev_dataset_reject(ds, i, "could not be decoded (recorded in the feature "
                                             "cache)");
        } else if (st == EV_OK) {
            ev_tr_note(ds->progress, ds->user, "feature cache %s: building (%s)", cache, why);
        }
    }
    if (st == EV_OK && !*hit) {
        st = compute(bb, ds, f);
        if (st == EV_OK && cache) st = ev_cache_save(cache, bb->sha1, key, bb->prep, ds, bb->dim, f);
    }
    free(ok);
    if (st != EV_OK) {
        free(f);
        return st;
    }
    *feat = f;
    return EV_OK;
}

ev_status ev_features_compact(ev_dataset *ds, float *feat, int dim) {
    size_t k = 0;
    for (size_t i = 0; i < ds->n; i++) {
        if (!ds->items[i].ok) continue;
        if (k != i) memmove(feat + k * (size_t)dim, feat + i * (size_t)dim, sizeof(float) * (size_t)dim);
        k++;
    }
    return ev_dataset_compact(ds);
}
