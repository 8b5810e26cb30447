/*
 * coco_eval.c - COCO keypoint AP/AR, computed as pycocotools' COCOeval with iouType="keypoints"
 * (cocoeval.py: computeOks, evaluateImg, accumulate, summarize), for the person category:
 *
 *   - ground truth is ignored when iscrowd, when num_keypoints == 0, or (per area range) when
 *     its area lies outside the range; ignored ones sort after the others and can only be
 *     matched by detections that find nothing better;
 *   - detections: per image the 20 best by score (stable sort), area = the box around all 17
 *     keypoints; an unmatched detection outside the area range is ignored;
 *   - greedy matching per OKS threshold .50:.05:.95 (numpy linspace values), precision made
 *     monotone and read at 101 recall points (searchsorted 'left'), AP = mean over thresholds
 *     and recall points, AR = mean over thresholds of the final recall; -1 when nothing counts;
 *   - area ranges all [0, 1e10], medium [32^2, 96^2], large [96^2, 1e10].
 * Images are visited in ascending id and ties in score keep image then insertion order, as the
 * concatenation and mergesort in accumulate() do.
 *
 * Extend: other categories would need a category loop around evaluate(); other iou types
 * (boxes, masks) another similarity in place of ev_coco_oks.
 */
#include "bench/coco_eval.h"

#include "core/status.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K EV_NUM_KEYPOINTS
#define T 10
#define R 101
#define MAX_DETS 20
#define NAREA 3

const double ev_coco_sigmas[K] = {.26 / 10.0, .25 / 10.0, .25 / 10.0, .35 / 10.0, .35 / 10.0,
                                  .79 / 10.0, .79 / 10.0, .72 / 10.0, .72 / 10.0, .62 / 10.0,
                                  .62 / 10.0, 1.07 / 10.0, 1.07 / 10.0, .87 / 10.0, .87 / 10.0,
                                  .89 / 10.0, .89 / 10.0};

static const double k_area[NAREA][2] = {{0, 1e10}, {32.0 * 32.0, 96.0 * 96.0}, {96.0 * 96.0, 1e10}};

typedef struct gt_ann {
    int64_t id;
    double kp[3 * K], bbox[4], area;
    int iscrowd, ignore;
} gt_ann;

typedef struct dt_ann {
    int64_t image_id;
    double xy[2 * K], score, area;
} dt_ann;

typedef struct coco_img {
    int64_t id;
    char *file;
    int width, height;
    gt_ann *gt;
    int ngt;
} coco_img;

struct ev_coco_eval {
    coco_img *imgs;
    int nimg;
    dt_ann *dt;
    int ndt, capdt;
};

double ev_coco_oks(const double g[3 * K], const double bb[4], double area, const double d[2 * K]) {
    int k1 = 0;
    for (int k = 0; k < K; k++) k1 += g[3 * k + 2] > 0;
    double x0 = bb[0] - bb[2], x1 = bb[0] + bb[2] * 2;
    double y0 = bb[1] - bb[3], y1 = bb[1] + bb[3] * 2;
    double sum = 0;
    int count = 0;
    for (int k = 0; k < K; k++) {
        double var = (ev_coco_sigmas[k] * 2) * (ev_coco_sigmas[k] * 2);
        double xd = d[2 * k], yd = d[2 * k + 1], dx, dy;
        if (k1 > 0) {
            if (!(g[3 * k + 2] > 0)) continue;
            dx = xd - g[3 * k];
            dy = yd - g[3 * k + 1];
        } else {
            dx = fmax(0, x0 - xd) + fmax(0, xd - x1);
            dy = fmax(0, y0 - yd) + fmax(0, yd - y1);
        }
        double e = (dx * dx + dy * dy) / var / (area + DBL_EPSILON) / 2;
        sum += exp(-e);
        count++;
    }
    return sum / count;
}

void ev_coco_eval_free(ev_coco_eval *e) {
    if (!e) return;
    for (int i = 0; i < e->nimg; i++) {
        free(e->imgs[i].file);
        free(e->imgs[i].gt);
    }
    free(e->imgs);
    free(e->dt);
    free(e);
}

int ev_coco_eval_num_images(const ev_coco_eval *e) { return e ? e->nimg : 0; }

ev_status ev_coco_eval_image(const ev_coco_eval *e, int i, int64_t *id, const char **file,
                             int *w, int *h) {
    if (!e || i < 0 || i >= e->nimg)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_coco_eval_image: index %d out of range", i);
    if (id) *id = e->imgs[i].id;
    if (file) *file = e->imgs[i].file;
    if (w) *w = e->imgs[i].width;
    if (h) *h = e->imgs[i].height;
    return EV_OK;
}

static coco_img *find_img(const ev_coco_eval *e, int64_t id) {
    for (int i = 0; i < e->nimg; i++)
        if (e->imgs[i].id == id) return &e->imgs[i];
    return NULL;
}

static int cmp_img(const void *a, const void *b) {
    int64_t x = ((const coco_img *)a)->id, y = ((const coco_img *)b)->id;
    return (x > y) - (x < y);
}

static int num(const cJSON *o, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valuedouble;
    return 1;
}

static ev_status parse_ann(const char *path, int i, const cJSON *a, gt_ann *g) {
    double id, iscrowd = 0, ignore = 0, nk = -1;
    const cJSON *kp = cJSON_GetObjectItemCaseSensitive(a, "keypoints");
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(a, "bbox");
    if (!num(a, "id", &id) || !num(a, "area", &g->area) || !cJSON_IsArray(kp) ||
        cJSON_GetArraySize(kp) != 3 * K || !cJSON_IsArray(bb) || cJSON_GetArraySize(bb) != 4)
        return EV_FAIL(EV_ERR_FORMAT, "%s: annotations[%d]: needs id, area, bbox[4] and "
                       "keypoints[51]", path, i);
    for (int k = 0; k < 3 * K; k++) {
        const cJSON *v = cJSON_GetArrayItem(kp, k);
        if (!cJSON_IsNumber(v))
            return EV_FAIL(EV_ERR_FORMAT, "%s: annotations[%d]: keypoints[%d] is not a number",
                           path, i, k);
        g->kp[k] = v->valuedouble;
    }
    for (int k = 0; k < 4; k++) {
        const cJSON *v = cJSON_GetArrayItem(bb, k);
        if (!cJSON_IsNumber(v))
            return EV_FAIL(EV_ERR_FORMAT, "%s: annotations[%d]: bbox[%d] is not a number", path,
                           i, k);
        g->bbox[k] = v->valuedouble;
    }
    num(a, "iscrowd", &iscrowd);
    num(a, "ignore", &ignore);
    if (!num(a, "num_keypoints", &nk)) {
        nk = 0;
        for (int k = 0; k < K; k++) nk += g->kp[3 * k + 2] > 0;
    }
    g->id = (int64_t)id;
    g->iscrowd = iscrowd != 0;
    /* pycocotools _prepare: ignore = iscrowd (an 'ignore' field is overwritten), then
     * ignore |= num_keypoints == 0 */
    (void)ignore;
    g->ignore = g->iscrowd || nk == 0;
    return EV_OK;
}

static ev_status parse(const char *path, const cJSON *root, ev_coco_eval *e) {
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(root, "images");
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(root, "annotations");
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(root, "categories");
    if (!cJSON_IsArray(imgs) || !cJSON_IsArray(anns))
        return EV_FAIL(EV_ERR_FORMAT, "%s: not COCO annotations: needs 'images' and "
                       "'annotations' arrays", path);
    double person = 1;
    const cJSON *c;
    cJSON_ArrayForEach(c, cats) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (cJSON_IsString(name) && strcmp(name->valuestring, "person") == 0) num(c, "id", &person);
    }
    int n = cJSON_GetArraySize(imgs);
    e->imgs = calloc((size_t)n + 1, sizeof *e->imgs);
    if (!e->imgs) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) {
        const cJSON *im = cJSON_GetArrayItem(imgs, i);
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(im, "file_name");
        double id, w = 0, h = 0;
        if (!num(im, "id", &id) || !cJSON_IsString(fn))
            return EV_FAIL(EV_ERR_FORMAT, "%s: images[%d]: needs id and file_name", path, i);
        num(im, "width", &w);
        num(im, "height", &h);
        coco_img *ci = &e->imgs[e->nimg++];
        ci->id = (int64_t)id;
        ci->width = (int)w;
        ci->height = (int)h;
        if (!(ci->file = strdup(fn->valuestring))) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    qsort(e->imgs, (size_t)e->nimg, sizeof *e->imgs, cmp_img);
    int na = cJSON_GetArraySize(anns);
    for (int i = 0; i < na; i++) {
        const cJSON *a = cJSON_GetArrayItem(anns, i);
        double cat = 0, image_id;
        if (!num(a, "category_id", &cat) || cat != person) continue;
        if (!num(a, "image_id", &image_id))
            return EV_FAIL(EV_ERR_FORMAT, "%s: annotations[%d]: no image_id", path, i);
        coco_img *ci = find_img(e, (int64_t)image_id);
        if (!ci)
            return EV_FAIL(EV_ERR_FORMAT, "%s: annotations[%d]: image_id %.0f is not in 'images'",
                           path, i, image_id);
        gt_ann *g = realloc(ci->gt, sizeof *g * (size_t)(ci->ngt + 1));
        if (!g) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        ci->gt = g;
        EV_TRY(parse_ann(path, i, a, &ci->gt[ci->ngt]));
        ci->ngt++;
    }
    return EV_OK;
}

ev_status ev_coco_eval_load(const char *path, ev_coco_eval **out) {
    if (!path || !out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_coco_eval_load: NULL argument");
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    EV_TRY(ev_read_text(path, &buf, &len));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, (size_t)len, &end, 0);
    if (!root) {
        ev_status st = EV_FAIL(EV_ERR_FORMAT, "%s: not valid JSON near byte %ld", path,
                               end ? (long)(end - buf) : 0L);
        free(buf);
        return st;
    }
    free(buf);
    ev_coco_eval *e = calloc(1, sizeof *e);
    ev_status st = e ? parse(path, root, e) : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    cJSON_Delete(root);
    if (st != EV_OK) {
        ev_coco_eval_free(e);
        return st;
    }
    *out = e;
    return EV_OK;
}

ev_status ev_coco_eval_add(ev_coco_eval *e, int64_t image_id, const ev_pose *poses, int n) {
    if (!e || (n > 0 && !poses)) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_coco_eval_add: NULL argument");
    if (!find_img(e, image_id))
        return EV_FAIL(EV_ERR_INVALID_ARG, "predictions for image %lld, which is not in the "
                       "annotations", (long long)image_id);
    for (int p = 0; p < n; p++) {
        if (e->ndt == e->capdt) {
            int cap = e->capdt ? e->capdt * 2 : 64;
            dt_ann *d = realloc(e->dt, sizeof *d * (size_t)cap);
            if (!d) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            e->dt = d;
            e->capdt = cap;
        }
        dt_ann *d = &e->dt[e->ndt++];
        d->image_id = image_id;
        d->score = poses[p].score;
        double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        for (int k = 0; k < K; k++) {
            double x = poses[p].keypoints[k].x, y = poses[p].keypoints[k].y;
            d->xy[2 * k] = x;
            d->xy[2 * k + 1] = y;
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
        d->area = (x1 - x0) * (y1 - y0);
    }
    return EV_OK;
}

/* ---- evaluation ---------------------------------------------------------------------- */

typedef struct img_eval { /* evaluateImg's output for one image and area range */
    int nd, ng;
    double score[MAX_DETS];
    int dtm[T][MAX_DETS], dtig[T][MAX_DETS];
    int *gtig; /* ng, in the sorted order */
} img_eval;

/* Stable sort of indices by key descending (insertion sort: n is small). */
static void stable_desc(int *idx, const double *key, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && key[idx[j]] > key[idx[j - 1]]; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
}

static ev_status evaluate_img(const ev_coco_eval *e, const coco_img *im, const int *dts, int nd,
                              const double *thr, int a, img_eval *out) {
    out->nd = nd;
    out->ng = im->ngt;
    out->gtig = NULL;
    int ng = im->ngt;
    if (ng) {
        out->gtig = malloc(sizeof(int) * (size_t)ng * 3);
        if (!out->gtig) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    int *gord = out->gtig ? out->gtig + ng : NULL, *gtm = gord ? gord + ng : NULL;
    int m = 0; /* gt sorted by _ignore, stable: the not-ignored first */
    for (int pass = 0; pass < 2; pass++)
        for (int g = 0; g < ng; g++) {
            const gt_ann *ga = &im->gt[g];
            int ig = ga->ignore || ga->area < k_area[a][0] || ga->area > k_area[a][1];
            if (ig == pass) {
                gord[m] = g;
                out->gtig[m++] = ig;
            }
        }
    for (int d = 0; d < nd; d++) out->score[d] = e->dt[dts[d]].score;
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < ng; g++) gtm[g] = 0;
        for (int d = 0; d < nd; d++) {
            out->dtm[t][d] = 0;
            out->dtig[t][d] = 0;
            if (ng == 0) continue;
            double iou = fmin(thr[t], 1 - 1e-10);
            int best = -1;
            for (int g = 0; g < ng; g++) {
                const gt_ann *ga = &im->gt[gord[g]];
                if (gtm[g] && !ga->iscrowd) continue;
                if (best > -1 && out->gtig[best] == 0 && out->gtig[g] == 1) break;
                double o = ev_coco_oks(ga->kp, ga->bbox, ga->area, e->dt[dts[d]].xy);
                if (o < iou) continue;
                iou = o;
                best = g;
            }
            if (best == -1) continue;
            out->dtig[t][d] = out->gtig[best];
            out->dtm[t][d] = 1;
            gtm[best] = 1;
        }
        for (int d = 0; d < nd; d++) {
            double da = e->dt[dts[d]].area;
            if (!out->dtm[t][d] && (da < k_area[a][0] || da > k_area[a][1])) out->dtig[t][d] = 1;
        }
    }
    return EV_OK;
}

/* accumulate() for one area range: precision[T][R] and recall[T] (-1 when nothing counts). */
static ev_status accumulate(const img_eval *ev, int nimg, double prec[T][R], double rec[T]) {
    for (int t = 0; t < T; t++) {
        rec[t] = -1;
        for (int r = 0; r < R; r++) prec[t][r] = -1;
    }
    int total = 0, npig = 0, any = 0;
    for (int i = 0; i < nimg; i++) {
        if (ev[i].nd == 0 && ev[i].ng == 0) continue; /* evaluateImg returned None */
        any = 1;
        total += ev[i].nd;
        for (int g = 0; g < ev[i].ng; g++) npig += ev[i].gtig[g] == 0;
    }
    if (!any || npig == 0) return EV_OK;
    int *src_i = malloc(sizeof(int) * (size_t)(total + 1) * 2);
    double *score = malloc(sizeof(double) * (size_t)(total + 1) * 3);
    if (!src_i || !score) {
        free(src_i), free(score);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    int *src_d = src_i + total, *ord = malloc(sizeof(int) * (size_t)(total + 1));
    double *pr = score + total, *rc = pr + total;
    if (!ord) {
        free(src_i), free(score);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    int n = 0;
    for (int i = 0; i < nimg; i++)
        for (int d = 0; d < ev[i].nd; d++) {
            src_i[n] = i;
            src_d[n] = d;
            score[n] = ev[i].score[d];
            ord[n] = n;
            n++;
        }
    stable_desc(ord, score, n);
    for (int t = 0; t < T; t++) {
        double tp = 0, fp = 0;
        for (int j = 0; j < n; j++) {
            const img_eval *x = &ev[src_i[ord[j]]];
            int d = src_d[ord[j]];
            if (!x->dtig[t][d]) {
                if (x->dtm[t][d]) tp += 1;
                else fp += 1;
            }
            rc[j] = tp / npig;
            pr[j] = tp / (fp + tp + DBL_EPSILON);
        }
        rec[t] = n ? rc[n - 1] : 0;
        for (int j = n - 1; j > 0; j--)
            if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
        int j = 0;
        for (int r = 0; r < R; r++) {
            double rt = r == R - 1 ? 1.0 : (double)r * (1.0 / (R - 1));
            while (j < n && rc[j] < rt) j++; /* searchsorted(rc, rt, 'left') */
            prec[t][r] = j < n ? pr[j] : 0;
        }
    }
    free(src_i), free(score), free(ord);
    return EV_OK;
}

static double mean_valid(const double *v, int n) {
    double s = 0;
    int c = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > -1) s += v[i], c++;
    return c ? s / c : -1;
}

ev_status ev_coco_eval_compute(ev_coco_eval *e, ev_coco_stats *out) {
    if (!e || !out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_coco_eval_compute: NULL argument");
    memset(out, 0, sizeof *out);
    double thr[T];
    for (int t = 0; t < T; t++) thr[t] = (double)t * ((0.95 - 0.5) / (T - 1)) + 0.5;
    thr[T - 1] = 0.95;
    img_eval *ev = calloc((size_t)e->nimg + 1, sizeof *ev);
    int *dts = malloc(sizeof(int) * (size_t)(e->ndt + 1));
    double *key = malloc(sizeof(double) * (size_t)(e->ndt + 1));
    ev_status st = EV_OK;
    if (!ev || !dts || !key) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < e->ndt; i++) key[i] = e->dt[i].score;
    double prec[NAREA][T][R], rec[NAREA][T];
    for (int a = 0; a < NAREA; a++) {
        for (int i = 0; i < e->nimg; i++) {
            int nd = 0;
            for (int d = 0; d < e->ndt; d++)
                if (e->dt[d].image_id == e->imgs[i].id) dts[nd++] = d;
            stable_desc(dts, key, nd);
            if (nd > MAX_DETS) nd = MAX_DETS;
            free(ev[i].gtig);
            EV_TRY_GOTO(st, evaluate_img(e, &e->imgs[i], dts, nd, thr, a, &ev[i]), done);
        }
        EV_TRY_GOTO(st, accumulate(ev, e->nimg, prec[a], rec[a]), done);
    }
    out->ap = mean_valid(&prec[0][0][0], T * R);
    out->ap50 = mean_valid(prec[0][0], R);
    out->ap75 = mean_valid(prec[0][5], R);
    out->ap_medium = mean_valid(&prec[1][0][0], T * R);
    out->ap_large = mean_valid(&prec[2][0][0], T * R);
    out->ar = mean_valid(rec[0], T);
    out->ar50 = mean_valid(&rec[0][0], 1);
    out->ar75 = mean_valid(&rec[0][5], 1);
    out->ar_medium = mean_valid(rec[1], T);
    out->ar_large = mean_valid(rec[2], T);
    out->num_images = e->nimg;
    out->num_dt = e->ndt;
    for (int i = 0; i < e->nimg; i++) out->num_gt += e->imgs[i].ngt;
done:
    if (ev)
        for (int i = 0; i < e->nimg; i++) free(ev[i].gtig);
    free(ev), free(dts), free(key);
    return st;
}
