/*
 * posenet_decoder.c - PoseNet decoders on dequantized float heads.
 *
 *   ev_posenet_decode_multi   Coral's PosenetDecoderOp (libcoral posenet_decoder.cc), reproduced
 *                             bit for bit: float32 arithmetic in the reference order (build with
 *                             -ffp-contract=off), a max-heap with libstdc++ std::priority_queue's
 *                             exact push/pop tie behaviour, and the shipped decoder's LEGACY
 *                             `edge > 16` quirk behind params->legacy_edge16.
 *                             Spec: shared/docs/posenet.md section 4.
 *   ev_posenet_decode_single  tfjs single-pose decoder (posenet.md section 5).
 *   ev_posenet_dequantize     uint8 head -> float helper for the graph-op wrapper and tests;
 *   ev_posenet_dequantize_head  any head tensor (f32/u8/i8) -> float, for every PoseNet path.
 *
 * Units: callers pass heat as logits and offsets/displacements in input pixels; the multi decoder
 * works in "block" units (output cells) internally, multiplying by (float)(1.0/stride) the way
 * Coral folds 1/stride into the dequantization scale (identical bits for power-of-two strides).
 *
 * To extend: keep every float expression in the order of the reference (a reordered sum or a
 * fused multiply-add changes results in the last bits, and the golden test compares to ~1e-6);
 * the heap and both sorts are deliberately hand-written so that tie-breaking never depends on the
 * C library. Working memory is malloc'd per call; there is no global state.
 */
#include "pose/posenet_decoder.h"

#include "core/status.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define K EV_NUM_KEYPOINTS            /* 17 keypoints                                 */
#define NUM_EDGES 16                  /* forward edges; 16 more backward ones          */
#define REFINE_STEPS 5                /* mid -> short offset refinement steps          */
#define LOCAL_MAX_RADIUS 1            /* 3x3 local-maximum window                      */
#define OFF_C EV_POSENET_OFFSET_CHANNELS
#define DISP_C EV_POSENET_DISP_CHANNELS

/* The 32 directed edges (parent, child): 16 forward, then their reverses (libcoral kEdgeList). */
static const int k_edges[2 * NUM_EDGES][2] = {
    {0, 1},   {1, 3},   {0, 2},   {2, 4},   {0, 5},   {5, 7},   {7, 9},   {5, 11},
    {11, 13}, {13, 15}, {0, 6},   {6, 8},   {8, 10},  {6, 12},  {12, 14}, {14, 16},
    {1, 0},   {3, 1},   {2, 0},   {4, 2},   {5, 0},   {7, 5},   {9, 7},   {11, 5},
    {13, 11}, {15, 13}, {6, 0},   {8, 6},   {10, 8},  {12, 6},  {14, 12}, {16, 14},
};

/* ------------------------------------------------------------------------------------------ */
/* Small float helpers (each mirrors the libcoral function of the same role)                   */
/* ------------------------------------------------------------------------------------------ */

/* std::clamp-like, exactly libcoral's `v < lo ? lo : hi < v ? hi : v`. */
static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : hi < v ? hi : v; }

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* libcoral Logodds: -std::log(1.0f / (x + 1E-6) - 1.0f), evaluated in double, stored as float. */
static inline float logodds(float x) { return (float)(-log(1.0 / ((double)x + 1e-6) - 1.0)); }

typedef struct {
    float y, x;
} point;

static inline float sq_dist(point a, point b) {
    const float dy = b.y - a.y;
    const float dx = b.x - a.x;
    return dy * dy + dx * dx;
}

/* BuildLinearInterpolation: floor/ceil of the clamped coordinate, lerp from the unclamped one. */
static inline void lin_interp(float v, int n, int *lo, int *hi, float *frac) {
    float p = clampf(v, 0.0f, (float)n - 1.0f);
    if (p != p) p = 0.0f; /* NaN: keep the indices in range (results are then unspecified) */
    *lo = (int)floorf(p);
    *hi = (int)ceilf(p);
    *frac = v - (float)*lo;
}

/* Bilinear sample of a [h][w][nc] tensor at (y, x) on channels c0 and c1 (SampleTensorAt...). */
static void sample2(const float *t, int h, int w, int nc, float y, float x, int c0, int c1,
                    float *r0, float *r1) {
    int y0, y1, x0, x1;
    float fy, fx;
    lin_interp(y, h, &y0, &y1, &fy);
    lin_interp(x, w, &x0, &x1, &fx);
    const size_t tl = ((size_t)y0 * (size_t)w + (size_t)x0) * (size_t)nc;
    const size_t tr = ((size_t)y0 * (size_t)w + (size_t)x1) * (size_t)nc;
    const size_t bl = ((size_t)y1 * (size_t)w + (size_t)x0) * (size_t)nc;
    const size_t br = ((size_t)y1 * (size_t)w + (size_t)x1) * (size_t)nc;
    *r0 = (1 - fy) * ((1 - fx) * t[tl + c0] + fx * t[tr + c0]) +
          fy * ((1 - fx) * t[bl + c0] + fx * t[br + c0]);
    if (r1)
        *r1 = (1 - fy) * ((1 - fx) * t[tl + c1] + fx * t[tr + c1]) +
              fy * ((1 - fx) * t[bl + c1] + fx * t[br + c1]);
}

static inline float sample1(const float *t, int h, int w, int nc, float y, float x, int c) {
    float r;
    sample2(t, h, w, nc, y, x, c, c, &r, NULL);
    return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Max-heap with libstdc++ std::priority_queue semantics (push_heap / pop_heap, comp = `<`)     */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    float y, x;  /* block units */
    float score; /* logit       */
    int id;      /* keypoint    */
} kp_item;

typedef struct {
    kp_item *a;
    size_t n;
} kp_heap;

/* std::__push_heap: move the hole up while parent.score < value.score. */
static void heap_sift_up(kp_item *a, size_t hole, kp_item v) {
    while (hole > 0) {
        const size_t parent = (hole - 1) / 2;
        if (!(a[parent].score < v.score)) break;
        a[hole] = a[parent];
        hole = parent;
    }
    a[hole] = v;
}

/* The caller guarantees capacity. */
static void heap_push(kp_heap *h, kp_item v) {
    heap_sift_up(h->a, h->n, v);
    h->n++;
}

/* std::pop_heap + pop_back: std::__adjust_heap from the root with the last element, where ties
 * between two children favour the right one, then the odd single-child step, then __push_heap. */
static kp_item heap_pop(kp_heap *h) {
    kp_item *a = h->a;
    const kp_item top = a[0];
    const size_t len = --h->n; /* elements left after removal: a[0 .. len) */
    if (len == 0) return top;
    const kp_item last = a[len];
    size_t hole = 0, child = 0;
    while (child < (len - 1) / 2) {
        child = 2 * (child + 1);
        if (a[child].score < a[child - 1].score) child--;
        a[hole] = a[child];
        hole = child;
    }
    if ((len & 1) == 0 && child == (len - 2) / 2) {
        child = 2 * (child + 1);
        a[hole] = a[child - 1];
        hole = child - 1;
    }
    heap_sift_up(a, hole, last);
    return top;
}

/* ------------------------------------------------------------------------------------------ */
/* Sorting (descending, ties keep index order: a deterministic stand-in for std::sort, and      */
/* identical to it for n <= 16, where libstdc++'s std::sort is a plain insertion sort)          */
/* ------------------------------------------------------------------------------------------ */

/* Sum of v[k] over k not masked, added in descending order of v (17 values). Equal values may be
 * added in any order without changing the float result, so std::sort's tie order is moot. */
static float sum_desc(const float v[K], const unsigned char *masked) {
    int idx[K];
    for (int i = 0; i < K; i++) {
        int j = i;
        while (j > 0 && v[i] > v[idx[j - 1]]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    float total = 0.0f;
    for (int i = 0; i < K; i++)
        if (!masked || !masked[idx[i]]) total += v[idx[i]];
    return total;
}

typedef struct {
    float score;
    int index;
} scored_index;

static int cmp_desc(const void *pa, const void *pb) {
    const scored_index *a = pa, *b = pb;
    const int na = a->score != a->score, nb = b->score != b->score; /* NaN last */
    if (na != nb) return na - nb;
    if (!na) {
        if (a->score > b->score) return -1;
        if (a->score < b->score) return 1;
    }
    return (a->index > b->index) - (a->index < b->index);
}

/* order[0..n) = indices of s sorted by decreasing score, ties by increasing index. */
static void argsort_desc(const float *s, int n, scored_index *tmp, int *order) {
    for (int i = 0; i < n; i++) {
        tmp[i].score = s[i];
        tmp[i].index = i;
    }
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_desc);
    for (int i = 0; i < n; i++) order[i] = tmp[i].index;
}

/* ------------------------------------------------------------------------------------------ */
/* The multi-pose decoder                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    const float *heat; /* [h][w][17] logits       */
    const float *off;  /* [h][w][34] block units  */
    const float *disp; /* [h][w][64] block units  */
    int h, w;
    int legacy_edge16;
} heads;

/* FindDisplacedPosition: follow the mid-range displacement, then refine with short offsets. */
static point displaced(const heads *hd, point src, int disp_channel, int target) {
    float dy, dx;
    const float ymax = (float)hd->h - 1.0f, xmax = (float)hd->w - 1.0f;
    sample2(hd->disp, hd->h, hd->w, DISP_C, src.y, src.x, disp_channel, NUM_EDGES + disp_channel,
            &dy, &dx);
    float y = clampf(src.y + dy, 0.0f, ymax);
    float x = clampf(src.x + dx, 0.0f, xmax);
    for (int i = 0; i < REFINE_STEPS; i++) {
        sample2(hd->off, hd->h, hd->w, OFF_C, y, x, target, K + target, &dy, &dx);
        y = clampf(y + dy, 0.0f, ymax);
        x = clampf(x + dx, 0.0f, xmax);
    }
    return (point){y, x};
}

/* BacktrackDecodePose: best-first growth of the pose tree from `root`. Scores stay logits. */
static void decode_pose(const heads *hd, kp_item root, point pts[K], float scores[K]) {
    /* Each keypoint is expanded once and pushes at most its out-degree: 1 + 32 items in all. */
    kp_item buf[1 + 2 * NUM_EDGES];
    kp_heap q = {buf, 0};
    unsigned char decoded[K] = {0};

    for (int k = 0; k < K; k++) {
        pts[k].y = -1.0f;
        pts[k].x = -1.0f;
        scores[k] = -1e5f;
    }
    root.score = sample1(hd->heat, hd->h, hd->w, K, root.y, root.x, root.id);
    heap_push(&q, root);

    while (q.n > 0) {
        const kp_item cur = heap_pop(&q);
        if (decoded[cur.id]) continue;
        pts[cur.id].y = cur.y;
        pts[cur.id].x = cur.x;
        scores[cur.id] = cur.score;
        decoded[cur.id] = 1;
        for (int e = 0; e < 2 * NUM_EDGES; e++) { /* child list in increasing edge order */
            if (k_edges[e][0] != cur.id) continue;
            const int child = k_edges[e][1];
            if (decoded[child]) continue;
            /* Backward edge f+16 reads channels 32+f / 48+f. LEGACY: the shipped decoder tests
             * `edge > 16`, so edge 16 (leftEye -> nose) reads channels 16 and 32. */
            int ch = e;
            if (hd->legacy_edge16 ? ch > NUM_EDGES : ch >= NUM_EDGES) ch += NUM_EDGES;
            const point p = displaced(hd, (point){cur.y, cur.x}, ch, child);
            kp_item it;
            it.y = p.y;
            it.x = p.x;
            it.id = child;
            it.score = sample1(hd->heat, hd->h, hd->w, K, p.y, p.x, child);
            heap_push(&q, it);
        }
    }
}

/* Fails with EV_ERR_INVALID_ARG naming the first non-finite value of a [h][w][c] tensor. */
static ev_status check_finite(const char *fn, const char *name, const float *t, size_t cells,
                              int c) {
    const size_t n = cells * (size_t)c;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(t[i]))
            return EV_FAIL(EV_ERR_INVALID_ARG, "%s: %s value %g at cell %zu channel %d is not finite",
                           fn, name, (double)t[i], i / (size_t)c, (int)(i % (size_t)c));
    return EV_OK;
}

static ev_status check_dims(const char *fn, int height, int width, int channels) {
    if (height <= 0 || width <= 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: grid %dx%d (height x width) must be positive", fn,
                       height, width);
    /* Element counts (and the candidate heap, 16 bytes per heat element) must fit in size_t. */
    if ((size_t)height > SIZE_MAX / (size_t)width ||
        (size_t)height * (size_t)width > SIZE_MAX / ((size_t)channels * sizeof(kp_item)))
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: grid %dx%d is too large", fn, height, width);
    return EV_OK;
}

ev_status ev_posenet_decode_multi(const float *heat, const float *offsets, const float *disp,
                                  int height, int width, const ev_posenet_decoder_params *params,
                                  ev_pose *poses, int max_poses, int *num_poses) {
    static const char fn[] = "ev_posenet_decode_multi";
    if (num_poses) *num_poses = 0;
    if (!heat || !offsets || !disp)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                       !heat ? "heat" : !offsets ? "offsets" : "disp");
    if (!params) return EV_FAIL(EV_ERR_INVALID_ARG, "%s: params is NULL", fn);
    if (!num_poses) return EV_FAIL(EV_ERR_INVALID_ARG, "%s: num_poses is NULL", fn);
    if (max_poses < 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: max_poses %d is negative", fn, max_poses);
    if (!poses && max_poses > 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: poses is NULL with max_poses %d", fn, max_poses);
    EV_TRY(check_dims(fn, height, width, DISP_C));
    if (params->stride <= 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: stride %d must be positive", fn, params->stride);
    if (params->max_detections <= 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: max_detections %d must be positive", fn,
                       params->max_detections);
    if (!(params->score_threshold >= 0.0f && params->score_threshold <= 1.0f))
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: score_threshold %g is not in [0,1]", fn,
                       (double)params->score_threshold);
    if (!(params->nms_radius >= 0.0f) || !isfinite(params->nms_radius))
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: nms_radius %g must be finite and >= 0", fn,
                       (double)params->nms_radius);

    const size_t cells = (size_t)height * (size_t)width;
    EV_TRY(check_finite(fn, "heat", heat, cells, K));
    EV_TRY(check_finite(fn, "offsets", offsets, cells, OFF_C));
    EV_TRY(check_finite(fn, "disp", disp, cells, DISP_C));

    const int stride = params->stride;
    const float thr = params->score_threshold;
    const int max_det = params->max_detections;
    /* Coral: nms_radius / stride (float / int), squared in float; 1/stride folded into the
     * dequantization scale as a float (`1.0 / stride` passed to a float parameter). */
    const float nms_r = params->nms_radius / (float)stride;
    const float sq_nms = nms_r * nms_r;
    const float inv_stride = (float)(1.0 / (double)stride);
    const float min_logit = logodds(thr);

    ev_status st = EV_OK;
    float *off_b = NULL, *disp_b = NULL, *inst = NULL, *kscore = NULL;
    point *pts = NULL;
    kp_item *cand = NULL;
    scored_index *tmp = NULL;
    int *order = NULL;

    off_b = malloc(cells * OFF_C * sizeof *off_b);
    disp_b = malloc(cells * DISP_C * sizeof *disp_b);
    cand = malloc(cells * K * sizeof *cand);
    if (!off_b || !disp_b || !cand) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "%s: out of memory for a %dx%d grid", fn, height, width);
        goto done;
    }
    for (size_t i = 0; i < cells * OFF_C; i++) off_b[i] = offsets[i] * inv_stride;
    for (size_t i = 0; i < cells * DISP_C; i++) disp_b[i] = disp[i] * inv_stride;

    /* 4.4 Root candidates: local maxima (ties allowed) at or above the logit threshold, pushed in
     * row-major (y, x, k) order. */
    kp_heap roots = {cand, 0};
    const float ymax = (float)height - 1.0f, xmax = (float)width - 1.0f;
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            const size_t cell = (size_t)y * (size_t)width + (size_t)x;
            for (int k = 0; k < K; k++) {
                const float s = heat[cell * K + (size_t)k];
                if (!(s >= min_logit)) continue;
                int local_max = 1;
                const int y0 = y - LOCAL_MAX_RADIUS > 0 ? y - LOCAL_MAX_RADIUS : 0;
                const int y1 = y + LOCAL_MAX_RADIUS + 1 < height ? y + LOCAL_MAX_RADIUS + 1 : height;
                const int x0 = x - LOCAL_MAX_RADIUS > 0 ? x - LOCAL_MAX_RADIUS : 0;
                const int x1 = x + LOCAL_MAX_RADIUS + 1 < width ? x + LOCAL_MAX_RADIUS + 1 : width;
                for (int yy = y0; yy < y1 && local_max; yy++)
                    for (int xx = x0; xx < x1; xx++)
                        if (heat[((size_t)yy * (size_t)width + (size_t)xx) * K + (size_t)k] > s) {
                            local_max = 0;
                            break;
                        }
                if (!local_max) continue;
                kp_item it;
                it.y = clampf((float)y + off_b[cell * OFF_C + (size_t)k], 0.0f, ymax);
                it.x = clampf((float)x + off_b[cell * OFF_C + (size_t)(K + k)], 0.0f, xmax);
                it.score = s;
                it.id = k;
                heap_push(&roots, it);
            }
        }
    }

    /* Accepted poses never outnumber the candidates, so the scratch is sized by both. */
    const int cap = (size_t)max_det < roots.n ? max_det : (int)roots.n;
    int count = 0;
    if (cap > 0) {
        pts = malloc((size_t)cap * K * sizeof *pts);
        kscore = malloc((size_t)cap * K * sizeof *kscore);
        inst = malloc((size_t)cap * sizeof *inst);
        tmp = malloc((size_t)cap * sizeof *tmp);
        order = malloc((size_t)cap * sizeof *order);
        if (!pts || !kscore || !inst || !tmp || !order) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "%s: out of memory for %d poses", fn, cap);
            goto done;
        }
    }

    const heads hd = {heat, off_b, disp_b, height, width, params->legacy_edge16 != 0};

    /* 4.6 Main loop: best root first; keypoint NMS against accepted poses (block units). */
    while (count < max_det && roots.n > 0) {
        const kp_item root = heap_pop(&roots);
        const point rp = {root.y, root.x};
        int suppressed = 0;
        for (int p = 0; p < count && !suppressed; p++)
            if (sq_dist(rp, pts[(size_t)p * K + (size_t)root.id]) <= sq_nms) suppressed = 1;
        if (suppressed) continue;

        point *pp = pts + (size_t)count * K;
        float *ks = kscore + (size_t)count * K;
        decode_pose(&hd, root, pp, ks);
        for (int k = 0; k < K; k++) ks[k] = sigmoidf(ks[k]);
        const float s = sum_desc(ks, NULL) / (float)K;
        if (s >= thr) inst[count++] = s; /* otherwise the slot is reused */
    }

    /* 4.8 Soft keypoint NMS: rescore each pose by its keypoints not within nms_r of the same
     * keypoint of a higher-ranked pose, then re-sort and cut at the threshold. */
    int written = 0;
    if (count > 0) {
        unsigned char mask[K];
        float *rescored = malloc((size_t)count * sizeof *rescored);
        if (!rescored) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "%s: out of memory rescoring %d poses", fn, count);
            goto done;
        }
        argsort_desc(inst, count, tmp, order);
        for (int i = 0; i < count; i++) {
            const size_t cur = (size_t)order[i];
            memset(mask, 0, sizeof mask);
            for (int j = 0; j < i; j++) {
                const size_t prev = (size_t)order[j];
                for (int k = 0; k < K; k++)
                    if (sq_dist(pts[cur * K + (size_t)k], pts[prev * K + (size_t)k]) <= sq_nms)
                        mask[k] = 1;
            }
            rescored[cur] = sum_desc(kscore + cur * K, mask) / (float)K;
        }
        argsort_desc(rescored, count, tmp, order);
        for (int i = 0; i < count && written < max_poses; i++) {
            const size_t idx = (size_t)order[i];
            if (rescored[idx] < thr) break;
            ev_pose *out = &poses[written++];
            out->score = rescored[idx];
            for (int k = 0; k < K; k++) {
                out->keypoints[k].y = pts[idx * K + (size_t)k].y * (float)stride;
                out->keypoints[k].x = pts[idx * K + (size_t)k].x * (float)stride;
                out->keypoints[k].score = kscore[idx * K + (size_t)k];
            }
        }
        free(rescored);
    }
    if (written < max_poses) memset(poses + written, 0, (size_t)(max_poses - written) * sizeof *poses);
    *num_poses = written;

done:
    free(off_b);
    free(disp_b);
    free(cand);
    free(pts);
    free(kscore);
    free(inst);
    free(tmp);
    free(order);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* tfjs single-pose decoder                                                                    */
/* ------------------------------------------------------------------------------------------ */

ev_status ev_posenet_decode_single(const float *heat, const float *offsets, int height, int width,
                                   int stride, ev_pose *pose) {
    static const char fn[] = "ev_posenet_decode_single";
    if (!heat || !offsets || !pose)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                       !heat ? "heat" : !offsets ? "offsets" : "pose");
    EV_TRY(check_dims(fn, height, width, OFF_C));
    if (stride <= 0) return EV_FAIL(EV_ERR_INVALID_ARG, "%s: stride %d must be positive", fn, stride);
    const size_t cells = (size_t)height * (size_t)width;
    EV_TRY(check_finite(fn, "heat", heat, cells, K));
    EV_TRY(check_finite(fn, "offsets", offsets, cells, OFF_C));

    float total = 0.0f;
    for (int k = 0; k < K; k++) {
        size_t best = 0;
        float best_v = heat[k];
        for (size_t c = 1; c < cells; c++) { /* first maximum in row-major order wins */
            const float v = heat[c * K + (size_t)k];
            if (v > best_v) {
                best_v = v;
                best = c;
            }
        }
        const long long cy = (long long)(best / (size_t)width), cx = (long long)(best % (size_t)width);
        pose->keypoints[k].y = (float)(cy * stride) + offsets[best * OFF_C + (size_t)k];
        pose->keypoints[k].x = (float)(cx * stride) + offsets[best * OFF_C + (size_t)(K + k)];
        pose->keypoints[k].score = sigmoidf(best_v);
        total += pose->keypoints[k].score;
    }
    pose->score = total / (float)K;
    return EV_OK;
}

void ev_posenet_dequantize(const uint8_t *q, size_t n, float scale, int zero_point, float *out) {
    const float zp = (float)zero_point;
    for (size_t i = 0; i < n; i++) out[i] = ((float)q[i] - zp) * scale;
}

void ev_posenet_dequantize_head(ev_dtype dtype, float scale, int32_t zero_point,
                                const void *data, size_t first, size_t n, float *out) {
    if (dtype == EV_DTYPE_F32) {
        memcpy(out, (const float *)data + first, n * sizeof(float));
    } else if (dtype == EV_DTYPE_U8) {
        ev_posenet_dequantize((const uint8_t *)data + first, n, scale, zero_point, out);
    } else {
        const int8_t *q = (const int8_t *)data + first;
        const float zp = (float)zero_point;
        for (size_t i = 0; i < n; i++) out[i] = ((float)q[i] - zp) * scale;
    }
}
