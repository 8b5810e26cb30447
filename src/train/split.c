/*
 * split.c - train/validation/test assignment (see split.h for the rules).
 *
 * Group split: groups are formed in item order, shuffled per label with the seed, then placed
 * greedily: each group goes to the split whose image count is furthest below its target
 * (fraction * images of the label), so whole groups land close to the wanted fractions.
 */
#include "train/split.h"

#include "core/status.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *ev_split_mode_name(ev_split_mode m) {
    switch (m) {
    case EV_SPLIT_STRATIFIED: return "stratified";
    case EV_SPLIT_RANDOM: return "random";
    case EV_SPLIT_GROUP: return "group";
    case EV_SPLIT_DATASET: return "dataset";
    }
    return "?";
}

int ev_split_mode_parse(const char *s, ev_split_mode *m) {
    static const ev_split_mode all[] = {EV_SPLIT_STRATIFIED, EV_SPLIT_RANDOM, EV_SPLIT_GROUP,
                                        EV_SPLIT_DATASET};
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, ev_split_mode_name(all[i])) == 0) {
            *m = all[i];
            return 0;
        }
    return -1;
}

void ev_split_group_key(const ev_item *it, int group_size, char *buf, size_t n) {
    if (it->number < 0) snprintf(buf, n, "%d\t%s\tfile:%s", it->label, it->source, it->path);
    else snprintf(buf, n, "%d\t%s\t%ld", it->label, it->source, it->number / group_size);
}

/* Cuts idx[0, n) (already shuffled) at the fractions: round(f0 n), round(f1 n), the rest. */
static void cut(ev_dataset *ds, const int *idx, size_t n, const double f[3], int first,
                int second, int third) {
    size_t a = (size_t)llround(f[0] * (double)n);
    size_t b = (size_t)llround(f[1] * (double)n);
    if (a > n) a = n;
    if (b > n - a) b = n - a;
    if (f[2] <= 0 && third >= 0) b = n - a;
    for (size_t i = 0; i < n; i++)
        ds->items[idx[i]].split = i < a ? first : i < a + b ? second : third;
}

/* Stratified: per label, the items of `want` (an index list) shuffled and cut. */
static ev_status stratified(ev_dataset *ds, const int *want, size_t nwant, const double f[3],
                            ev_rng *rng, int first, int second, int third) {
    int *idx = malloc((nwant ? nwant : 1) * sizeof *idx);
    if (!idx) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int label = 0; label < 2; label++) {
        size_t n = 0;
        for (size_t i = 0; i < nwant; i++)
            if (ds->items[want[i]].label == label) idx[n++] = want[i];
        ev_rng_shuffle(rng, idx, n);
        cut(ds, idx, n, f, first, second, third);
    }
    free(idx);
    return EV_OK;
}

typedef struct group {
    char *key;
    int label;
    size_t count;
} group;

static int cmp_group_key(const void *a, const void *b) {
    return strcmp(((const group *)a)->key, ((const group *)b)->key);
}

static ev_status by_group(ev_dataset *ds, const double f[3], int group_size, ev_rng *rng) {
    size_t n = ds->n;
    group *g = calloc(n ? n : 1, sizeof *g);
    int *gid = malloc((n ? n : 1) * sizeof *gid);
    int *order = malloc((n ? n : 1) * sizeof *order);
    ev_status st = EV_OK;
    if (!g || !gid || !order) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    /* Distinct keys, sorted (so group ids do not depend on item order). */
    for (size_t i = 0; i < n; i++) {
        char key[1024];
        ev_split_group_key(&ds->items[i], group_size, key, sizeof key);
        if (!(g[i].key = strdup(key))) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        g[i].label = ds->items[i].label;
    }
    group *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    memcpy(sorted, g, n * sizeof *g);
    qsort(sorted, n, sizeof *sorted, cmp_group_key);
    size_t ng = 0;
    for (size_t i = 0; i < n; i++)
        if (ng == 0 || strcmp(sorted[ng - 1].key, sorted[i].key) != 0) {
            sorted[ng] = sorted[i];
            sorted[ng].count = 0;
            ng++;
        }
    for (size_t i = 0; i < n; i++) {
        group probe = {g[i].key, 0, 0};
        group *hit = bsearch(&probe, sorted, ng, sizeof *sorted, cmp_group_key);
        gid[i] = (int)(hit - sorted);
        hit->count++;
    }
    int *split_of = malloc((ng ? ng : 1) * sizeof *split_of);
    if (!split_of) {
        free(sorted);
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int label = 0; label < 2; label++) {
        size_t m = 0, total = 0;
        for (size_t k = 0; k < ng; k++)
            if (sorted[k].label == label) order[m++] = (int)k, total += sorted[k].count;
        ev_rng_shuffle(rng, order, m);
        double have[3] = {0, 0, 0};
        for (size_t j = 0; j < m; j++) {
            int best = 0;
            double best_gap = -INFINITY;
            for (int s = 0; s < 3; s++) {
                if (f[s] <= 0) continue;
                double gap = f[s] * (double)total - have[s];
                if (gap > best_gap) best_gap = gap, best = s;
            }
            split_of[order[j]] = best;
            have[best] += (double)sorted[order[j]].count;
        }
    }
    for (size_t i = 0; i < n; i++) ds->items[i].split = split_of[gid[i]];
    free(split_of);
    free(sorted);
done:
    if (g)
        for (size_t i = 0; i < n; i++) free(g[i].key);
    free(g), free(gid), free(order);
    return st;
}

ev_status ev_split_assign(ev_dataset *ds, ev_split_mode mode, const double f[3], int group_size,
                          uint64_t seed) {
    for (int s = 0; s < 3; s++)
        if (!(f[s] >= 0 && f[s] <= 1))
            return EV_FAIL(EV_ERR_INVALID_ARG, "split fraction %d is %g (needs [0, 1])", s, f[s]);
    double sum = f[0] + f[1] + f[2];
    if (fabs(sum - 1.0) > 1e-6 || f[0] <= 0)
        return EV_FAIL(EV_ERR_INVALID_ARG, "split fractions %g/%g/%g must add up to 1 with a "
                       "nonzero train part", f[0], f[1], f[2]);
    if (mode == EV_SPLIT_GROUP && group_size < 1)
        return EV_FAIL(EV_ERR_INVALID_ARG, "group size %d (needs >= 1)", group_size);
    ev_rng rng;
    ev_rng_seed(&rng, seed);
    size_t n = ds->n;
    int *all = malloc((n ? n : 1) * sizeof *all);
    if (!all) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) all[i] = (int)i;
    ev_status st = EV_OK;
    switch (mode) {
    case EV_SPLIT_RANDOM:
        ev_rng_shuffle(&rng, all, n);
        cut(ds, all, n, f, EV_TRAIN, EV_VAL, EV_TEST);
        break;
    case EV_SPLIT_STRATIFIED: st = stratified(ds, all, n, f, &rng, EV_TRAIN, EV_VAL, EV_TEST); break;
    case EV_SPLIT_GROUP: st = by_group(ds, f, group_size, &rng); break;
    case EV_SPLIT_DATASET: {
        size_t k = 0, j = 0;
        int *rest = malloc((n ? n : 1) * sizeof *rest);
        if (!rest) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (ds->items[i].preset == EV_TRAIN) all[k++] = (int)i;
            else if (ds->items[i].preset == EV_TEST) ds->items[i].split = EV_TEST;
            else rest[j++] = (int)i;
        }
        double tv = f[0] + f[1];
        double fv[3] = {f[0] / tv, f[1] / tv, 0};
        st = stratified(ds, all, k, fv, &rng, EV_TRAIN, EV_VAL, -1);
        if (st == EV_OK) st = stratified(ds, rest, j, f, &rng, EV_TRAIN, EV_VAL, EV_TEST);
        free(rest);
        break;
    }
    default: st = EV_FAIL(EV_ERR_INVALID_ARG, "unknown split mode %d", (int)mode);
    }
    free(all);
    return st;
}
