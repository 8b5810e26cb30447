/*
 * trainer.c - the epoch loop, checkpoints and resume (see trainer.h).
 *
 * train.state (little-endian, this machine's float layout):
 *   "EVTSTATE" | u32 version=1 | char key[40] | i32 epoch | i32 best_epoch | f64 best_val_loss
 *   | i32 wait | i32 stopped | u64 rng[4] | i64 adam_t | u64 nparams | f32 params[n] | f32 m[n]
 *   | f32 v[n] | u32 rows | f64 history[rows][6]
 * The key hashes the data key, the head shape, dropout, learning rate, batch and seed: a resume
 * with anything else is refused (epochs and patience may change).
 */
#include "train/trainer.h"

#include "core/status.h"
#include "train/dataset.h"
#include "train/fsutil.h"
#include "train/svg.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/sbuf.h"
#include "util/sha1.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define STATE_MAGIC "EVTSTATE"

typedef struct hist_row {
    double epoch, loss, acc, val_loss, val_acc, seconds;
} hist_row;

typedef struct state {
    char key[41];
    int epoch, best_epoch, wait, stopped;
    double best_val_loss;
    ev_rng rng;
    hist_row *hist;
    int nhist;
} state;

void ev_fit_evaluate(const ev_mlp *m, ev_mlp_work *w, const float *x, const int *y,
                     const int *rows, int n, double *loss, double *acc, float *logits) {
    double sum = 0;
    long correct = 0;
    for (int s = 0; s < n; s += w->batch) {
        int B = n - s < w->batch ? n - s : w->batch;
        ev_mlp_forward(m, w, x, rows + s, B, 0, NULL);
        for (int b = 0; b < B; b++) {
            int lab = y[rows[s + b]];
            sum += ev_bce_logit(w->z[b], lab);
            correct += (ev_sigmoid(w->z[b]) > 0.5f) == (lab == 1);
            if (logits) logits[s + b] = w->z[b];
        }
    }
    *loss = n ? sum / n : NAN;
    *acc = n ? (double)correct / n : NAN;
}

static void config_key(const ev_fit_config *c, const ev_fit_data *d, char hex[41]) {
    char buf[512];
    int k = snprintf(buf, sizeof buf, "%s|dim=%d|hidden=", d->key, d->dim);
    for (int i = 0; i < c->num_hidden && k < 400; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%d,", c->hidden[i]);
    snprintf(buf + k, sizeof buf - (size_t)k, "|dropout=%.9g|lr=%.9g|batch=%d|seed=%llu",
             (double)c->dropout, (double)c->learning_rate, c->batch,
             (unsigned long long)c->seed);
    ev_sha1_hex(buf, strlen(buf), hex);
}

static ev_status save_state(const char *path, const state *s, const ev_mlp *m, const ev_adam *a) {
    size_t n = m->nparams;
    size_t size = 8 + 4 + 40 + 4 * 2 + 8 + 4 * 2 + 32 + 8 + 8 + 3 * 4 * n + 4 +
                  sizeof(hist_row) * (size_t)s->nhist;
    uint8_t *b = malloc(size), *p = b;
    if (!b) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
#define PUT(v, k) (memcpy(p, (v), (k)), p += (k))
    uint32_t ver = 1, rows = (uint32_t)s->nhist;
    int32_t i32[4] = {s->epoch, s->best_epoch, s->wait, s->stopped};
    int64_t t = a->t;
    uint64_t np = n;
    PUT(STATE_MAGIC, 8);
    PUT(&ver, 4);
    PUT(s->key, 40);
    PUT(&i32[0], 4);
    PUT(&i32[1], 4);
    PUT(&s->best_val_loss, 8);
    PUT(&i32[2], 4);
    PUT(&i32[3], 4);
    PUT(s->rng.s, 32);
    PUT(&t, 8);
    PUT(&np, 8);
    PUT(m->params, 4 * n);
    PUT(a->m, 4 * n);
    PUT(a->v, 4 * n);
    PUT(&rows, 4);
    PUT(s->hist, sizeof(hist_row) * (size_t)s->nhist);
#undef PUT
    ev_status st = ev_write_file_atomic(path, b, (size_t)(p - b));
    free(b);
    return st;
}

static ev_status load_state(const char *path, state *s, ev_mlp *m, ev_adam *a) {
    char *b;
    size_t len;
    EV_TRY(ev_read_text(path, &b, &len));
    const char *p = b, *end = b + len;
    ev_status st = EV_OK;
#define GET(v, k)                                                                                 \
    do {                                                                                          \
        if ((size_t)(end - p) < (size_t)(k)) goto bad;                                            \
        memcpy((v), p, (k));                                                                      \
        p += (k);                                                                                 \
    } while (0)
    char magic[8];
    uint32_t ver, rows;
    int32_t i32[4];
    int64_t t;
    uint64_t np;
    GET(magic, 8);
    GET(&ver, 4);
    if (memcmp(magic, STATE_MAGIC, 8) != 0 || ver != 1) goto bad;
    GET(s->key, 40);
    s->key[40] = '\0';
    GET(&i32[0], 4);
    GET(&i32[1], 4);
    GET(&s->best_val_loss, 8);
    GET(&i32[2], 4);
    GET(&i32[3], 4);
    GET(s->rng.s, 32);
    GET(&t, 8);
    GET(&np, 8);
    if (np != m->nparams) goto bad;
    GET(m->params, 4 * np);
    GET(a->m, 4 * np);
    GET(a->v, 4 * np);
    GET(&rows, 4);
    if (rows > 1000000) goto bad;
    s->hist = malloc(sizeof(hist_row) * (rows + 1));
    if (!s->hist) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto out;
    }
    GET(s->hist, sizeof(hist_row) * rows);
    if (p != end) goto bad;
#undef GET
    s->nhist = (int)rows;
    s->epoch = i32[0], s->best_epoch = i32[1], s->wait = i32[2], s->stopped = i32[3];
    a->t = t;
    goto out;
bad:
    st = EV_FAIL(EV_ERR_FORMAT, "%s: damaged or from another head shape (delete the run folder "
                 "or choose another --out)", path);
out:
    free(b);
    return st;
}

static ev_status write_history(const char *dir, const state *s) {
    ev_sbuf b = {0};
    ev_sbuf_printf(&b, "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n");
    for (int i = 0; i < s->nhist; i++) {
        const hist_row *r = &s->hist[i];
        ev_sbuf_printf(&b, "%d,%.6f,%.6f,%.6f,%.6f,%.3f\n", (int)r->epoch, r->loss, r->acc,
                       r->val_loss, r->val_acc, r->seconds);
    }
    char *p = ev_tr_join(dir, "history.csv");
    ev_status st = p ? ev_sbuf_save(&b, p) : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    free(p);
    ev_sbuf_free(&b);
    return st;
}

/* The last two components of the run folder ("group/seed1"). */
static const char *run_name(const char *dir) {
    const char *end = dir + strlen(dir);
    while (end > dir && end[-1] == '/') end--;
    int slashes = 0;
    const char *p = end;
    while (p > dir) {
        if (p[-1] == '/' && ++slashes == 2) break;
        p--;
    }
    return p;
}

static ev_status write_curves(const char *dir, const state *s) {
    int n = s->nhist;
    double *v = malloc(sizeof(double) * 4 * (size_t)(n ? n : 1));
    if (!v) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) {
        v[i] = s->hist[i].acc, v[n + i] = s->hist[i].val_acc;
        v[2 * n + i] = s->hist[i].loss, v[3 * n + i] = s->hist[i].val_loss;
    }
    ev_status st = EV_OK;
    for (int k = 0; k < 2 && st == EV_OK; k++) {
        ev_line_series se[2] = {{"train", v + 2 * k * n, "#1f77b4", 0},
                                {"validation", v + (2 * k + 1) * n, "#d62728", 1}};
        char title[256];
        snprintf(title, sizeof title, "%s per epoch: %s", k ? "Loss (binary cross-entropy)"
                 : "Accuracy", run_name(dir));
        ev_line_chart c = {title, "epoch", k ? "loss" : "accuracy", n, se, 2, 0, 0};
        ev_sbuf b = {0};
        ev_svg_line_chart(&c, &b);
        char *p = ev_tr_join(dir, k ? "loss.svg" : "accuracy.svg");
        st = p ? ev_sbuf_save(&b, p) : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        free(p);
        ev_sbuf_free(&b);
    }
    free(v);
    return st;
}

static void training_record(ev_model_meta *meta, const ev_fit_config *c, int epoch,
                            double val_loss, double val_acc) {
    char hidden[128] = "";
    size_t k = 0;
    for (int i = 0; i < c->num_hidden && k < 100; i++)
        k += (size_t)snprintf(hidden + k, sizeof hidden - k, "%s%d", i ? "," : "", c->hidden[i]);
    char vl[32], va[32];
    snprintf(vl, sizeof vl, isfinite(val_loss) ? "%.6f" : "null", val_loss);
    snprintf(va, sizeof va, isfinite(val_acc) ? "%.6f" : "null", val_acc);
    snprintf(meta->training_json, sizeof meta->training_json,
             "{%s%s\"epoch\": %d, \"val_loss\": %s, \"val_accuracy\": %s, \"hidden\": [%s], "
             "\"dropout\": %.9g, \"learning_rate\": %.9g, \"batch\": %d, \"seed\": %llu}",
             meta->run_json, meta->run_json[0] ? ", " : "", epoch, vl, va, hidden, (double)c->dropout, (double)c->learning_rate,
             c->batch, (unsigned long long)c->seed);
}

static int run_exists(const char *dir) {
    char *a = ev_tr_join(dir, "train.state"), *b = ev_tr_join(dir, "model.json");
    int e = (a && ev_tr_is_file(a)) || (b && ev_tr_is_file(b));
    free(a), free(b);
    return e;
}

ev_status ev_fit(const ev_fit_config *c, const ev_fit_data *d, ev_model_meta *meta, ev_mlp *best,
                 ev_fit_result *res) {
    memset(res, 0, sizeof *res);
    memset(best, 0, sizeof *best);
    if (c->batch < 1 || c->epochs < 0 || c->patience < 0 || d->ntrain < 1)
        return EV_FAIL(EV_ERR_INVALID_ARG, "training needs batch >= 1 (got %d), epochs >= 0 "
                       "(%d), patience >= 0 (%d) and training images (%d)", c->batch, c->epochs,
                       c->patience, d->ntrain);
    ev_mlp m;
    ev_adam a = {0};
    ev_mlp_work w = {0};
    state s;
    memset(&s, 0, sizeof s);
    float *grad = NULL;
    int *order = NULL;
    char *state_path = ev_tr_join(c->out, "train.state");
    char *model_path = ev_tr_join(c->out, "model.json");
    ev_status st = ev_mlp_create(&m, d->dim, c->hidden, c->num_hidden, c->dropout);
    if (st != EV_OK) goto done;
    EV_TRY_GOTO(st, ev_adam_create(&a, m.nparams, c->learning_rate), done);
    EV_TRY_GOTO(st, ev_mlp_work_create(&w, &m, c->batch), done);
    grad = malloc(sizeof(float) * m.nparams);
    order = malloc(sizeof(int) * (size_t)d->ntrain);
    if (!grad || !order || !state_path || !model_path) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    char key[41];
    config_key(c, d, key);
    if (c->resume && ev_tr_is_file(state_path)) {
        EV_TRY_GOTO(st, load_state(state_path, &s, &m, &a), done);
        if (strcmp(s.key, key) != 0) {
            st = EV_FAIL(EV_ERR_INVALID_ARG, "cannot resume %s: it was trained with other data, "
                         "split or head settings (hidden, dropout, learning rate, batch, seed); "
                         "use the same options or another --out", c->out);
            goto done;
        }
        ev_tr_note(c->progress, c->user, "resuming %s after epoch %d%s", c->out, s.epoch,
                   s.stopped ? " (it had stopped early)" : "");
    } else if (!c->resume && run_exists(c->out)) {
        st = EV_FAIL(EV_ERR_INVALID_ARG, "%s already holds a training run (train.state or "
                     "model.json): pass --resume to continue it, or choose another --out", c->out);
        goto done;
    } else {
        if (c->resume) ev_tr_note(c->progress, c->user, "nothing to resume in %s: starting", c->out);
        memcpy(s.key, key, 41);
        ev_rng_seed(&s.rng, c->seed);
        ev_mlp_init_glorot(&m, &s.rng);
        s.best_val_loss = INFINITY;
    }
    hist_row *h = realloc(s.hist, sizeof(hist_row) * (size_t)(s.nhist + (c->epochs > s.epoch ? c->epochs - s.epoch : 0) + 1));
    if (!h) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    s.hist = h;
    while (!s.stopped && s.epoch < c->epochs) {
        double t0 = ev_clock_s(), loss_sum = 0;
        long correct = 0;
        memcpy(order, d->train, sizeof(int) * (size_t)d->ntrain);
        ev_rng_shuffle(&s.rng, order, (size_t)d->ntrain);
        for (int b0 = 0; b0 < d->ntrain; b0 += c->batch) {
            int B = d->ntrain - b0 < c->batch ? d->ntrain - b0 : c->batch;
            ev_mlp_forward(&m, &w, d->x, order + b0, B, 1, &s.rng);
            for (int b = 0; b < B; b++) {
                int lab = d->y[order[b0 + b]];
                loss_sum += ev_bce_logit(w.z[b], lab);
                correct += (ev_sigmoid(w.z[b]) > 0.5f) == (lab == 1);
            }
            ev_mlp_backward(&m, &w, d->x, order + b0, d->y, B, grad);
            ev_adam_step(&a, m.params, grad);
        }
        hist_row *r = &s.hist[s.nhist];
        r->epoch = s.epoch + 1;
        r->loss = loss_sum / d->ntrain;
        r->acc = (double)correct / d->ntrain;
        ev_fit_evaluate(&m, &w, d->x, d->y, d->val, d->nval, &r->val_loss, &r->val_acc, NULL);
        if (!isfinite(r->loss)) {
            st = EV_FAIL(EV_ERR_INVALID_ARG, "training diverged at epoch %d (loss %g): lower the "
                         "learning rate", s.epoch + 1, r->loss);
            goto done;
        }
        s.epoch++;
        int improved = d->nval == 0 || r->val_loss < s.best_val_loss;
        if (improved) {
            s.best_val_loss = d->nval ? r->val_loss : r->loss;
            s.best_epoch = s.epoch;
            s.wait = 0;
            training_record(meta, c, s.epoch, r->val_loss, r->val_acc);
        } else {
            s.wait++;
        }
        if (c->patience && s.wait >= c->patience) s.stopped = 1;
        r->seconds = ev_clock_s() - t0;
        s.nhist++;
        if (improved) EV_TRY_GOTO(st, ev_model_file_save(model_path, meta, &m), done);
        EV_TRY_GOTO(st, write_history(c->out, &s), done);
        EV_TRY_GOTO(st, write_curves(c->out, &s), done);
        EV_TRY_GOTO(st, save_state(state_path, &s, &m, &a), done);
        if (c->progress) {
            ev_train_progress p;
            memset(&p, 0, sizeof p);
            p.stage = EV_TRAIN_EPOCH;
            p.done = s.epoch;
            p.total = c->epochs;
            p.epoch = s.epoch;
            p.loss = r->loss, p.accuracy = r->acc, p.val_loss = r->val_loss;
            p.val_accuracy = r->val_acc, p.seconds = r->seconds;
            if (c->progress(c->user, &p)) {
                st = EV_FAIL(EV_ERR_INVALID_ARG, "stopped by the progress callback after epoch "
                             "%d (resume with --resume)", s.epoch);
                goto done;
            }
        }
        if (s.stopped)
            ev_tr_note(c->progress, c->user, "early stopping after epoch %d: val_loss has not "
                       "improved for %d epochs (best: epoch %d)", s.epoch, c->patience,
                       s.best_epoch);
    }
    if (s.epoch == 0) { /* zero epochs: the initial weights are the model */
        training_record(meta, c, 0, NAN, NAN);
        EV_TRY_GOTO(st, ev_model_file_save(model_path, meta, &m), done);
    }
    /* The best checkpoint is the result. */
    {
        ev_model_meta mm;
        EV_TRY_GOTO(st, ev_model_file_load(model_path, &mm, best), done);
        snprintf(meta->training_json, sizeof meta->training_json, "%s", mm.training_json);
    }
    res->epochs_done = s.epoch;
    res->best_epoch = s.best_epoch;
    res->best_val_loss = s.best_val_loss;
    res->stopped_early = s.stopped;
done:
    ev_mlp_free(&m);
    ev_adam_free(&a);
    ev_mlp_work_free(&w);
    free(grad), free(order), free(s.hist), free(state_path), free(model_path);
    return st;
}
