/*
 * test_train_cache.c - backbone features and their cache, on the real MobileNetV1 extractor:
 * features equal the classifier's embedding, threads do not change them, the cache is reused
 * when nothing changed and rebuilt when the model, the preprocessing, an image or the image
 * list changes; a cut at an inner tensor; an undecodable image is reported and skipped.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "train/dataset.h"
#include "train/features.h"
#include "train/fsutil.h"
#include "util/file.h"

#include <unistd.h>

#define EXTRACTOR "models/mobilenet/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"
#define OTHER "models/mobilenet/mobilenet_v1_0.5_160_quant.tflite"

static char g_base[] = "/tmp/ev_train_cacheXXXXXX";
static char g_notes[8192];

static int collect(void *user, const ev_train_progress *p) {
    (void)user;
    if (p->stage == EV_TRAIN_NOTE && strlen(g_notes) + strlen(p->message) + 2 < sizeof g_notes) {
        strcat(g_notes, p->message);
        strcat(g_notes, "\n");
    }
    return 0;
}

static void put_image(const char *dir, const char *name, int seed) {
    char p[1024];
    CHECK_OK(ev_tr_mkdirs(dir));
    snprintf(p, sizeof p, "%s/%s", dir, name);
    uint8_t px[48 * 40 * 3];
    for (int i = 0; i < 48 * 40 * 3; i++) px[i] = (uint8_t)((i * (seed + 3) + seed * 71) % 251);
    ev_image *img;
    CHECK_OK(ev_image_create(48, 40, px, &img));
    CHECK_OK(ev_image_save(img, p));
    ev_image_free(img);
}

/* Loads the data root fresh and gets features with `cache`. */
static float *features(ev_backbone *bb, const char *cache, int *hit, ev_dataset *ds) {
    char root[600];
    snprintf(root, sizeof root, "%s/data", g_base);
    ev_data_options o;
    memset(&o, 0, sizeof o);
    o.roots[0] = root;
    o.num_roots = 1;
    memset(ds, 0, sizeof *ds);
    ds->progress = collect;
    g_notes[0] = '\0';
    CHECK_OK(ev_dataset_load(ds, &o));
    CHECK_OK(ev_dataset_hash(ds, 2));
    float *f = NULL;
    CHECK_OK(ev_features_get(bb, ds, cache, &f, hit));
    return f;
}

static void test_cache(void) {
    char model[512], other[512];
    ev_test_path(model, sizeof model, EXTRACTOR);
    ev_test_path(other, sizeof other, OTHER);
    EV_REQUIRE_FILE(model);
    EV_REQUIRE_FILE(other);
    char car[700], neg[700], cache[700];
    snprintf(car, sizeof car, "%s/data/car/seqA", g_base);
    snprintf(neg, sizeof neg, "%s/data/not_car/road", g_base);
    snprintf(cache, sizeof cache, "%s/features.cache", g_base);
    put_image(car, "image0001.png", 1);
    put_image(car, "image0002.png", 2);
    put_image(neg, "image0001.png", 3);
    ev_backbone_options bo = {model, NULL, -1, "cpu", 2};
    ev_backbone *bb = NULL;
    CHECK_OK(ev_backbone_open(&bo, &bb));
    if (!bb) return;
    CHECK_EQ_INT(ev_backbone_dim(bb), 1024);
    CHECK(strstr(ev_backbone_prep(bb), "resize=bilinear;input=224x224;cut=") != NULL);
    ev_dataset ds;
    int hit = -1;
    float *f1 = features(bb, cache, &hit, &ds);
    CHECK_EQ_INT(hit, 0);
    CHECK(strstr(g_notes, "building (no cache file)") != NULL);
    CHECK(ev_tr_is_file(cache));
    /* Features are the classifier's embedding (ref backend: the oracle). */
    ev_classifier_options co;
    ev_classifier_options_init(&co);
    ev_classifier *cls;
    CHECK_OK(ev_classifier_create(model, NULL, &co, &cls));
    float emb[1024];
    for (size_t i = 0; i < ds.n && f1; i++) {
        ev_image *img;
        CHECK_OK(ev_image_load(ds.items[i].path, &img));
        CHECK_OK(ev_classifier_embedding(cls, img, emb, 1024));
        CHECK(memcmp(emb, f1 + i * 1024, sizeof emb) == 0);
        ev_image_free(img);
    }
    ev_classifier_free(cls);
    double norm = 0;
    for (int k = 0; f1 && k < 1024; k++) norm += f1[k] * f1[k];
    CHECK(norm > 0);
    ev_dataset_free(&ds);
    /* Unchanged: reused, the same bytes. */
    float *f2 = features(bb, cache, &hit, &ds);
    CHECK_EQ_INT(hit, 1);
    CHECK(strstr(g_notes, "reused") != NULL);
    CHECK(f1 && f2 && memcmp(f1, f2, sizeof(float) * 1024 * 3) == 0);
    ev_dataset_free(&ds);
    free(f2);
    /* One more image: the manifest changed, rebuilt. */
    put_image(neg, "image0002.png", 4);
    f2 = features(bb, cache, &hit, &ds);
    CHECK_EQ_INT(hit, 0);
    CHECK(strstr(g_notes, "the image list changed") != NULL);
    CHECK_EQ_INT(ds.n, 4);
    ev_dataset_free(&ds);
    free(f2);
    f2 = features(bb, cache, &hit, &ds);
    CHECK_EQ_INT(hit, 1);
    ev_dataset_free(&ds);
    free(f2);
    /* An image's content changed (same path): its sha1 changes the key. */
    put_image(neg, "image0002.png", 5);
    f2 = features(bb, cache, &hit, &ds);
    CHECK_EQ_INT(hit, 0);
    ev_dataset_free(&ds);
    free(f2);
    /* Another resize: the preprocessing changed. */
    ev_backbone *bn = NULL;
    bo.resize = EV_RESIZE_NEAREST;
    CHECK_OK(ev_backbone_open(&bo, &bn));
    f2 = bn ? features(bn, cache, &hit, &ds) : NULL;
    CHECK_EQ_INT(hit, 0);
    CHECK(strstr(g_notes, "the preprocessing changed") != NULL);
    CHECK(f1 && f2 && memcmp(f1, f2, sizeof(float) * 1024) != 0);
    ev_dataset_free(&ds);
    free(f2);
    ev_backbone_free(bn);
    /* Another model: rebuilt. */
    bo.model = other;
    bo.resize = -1;
    bo.threads = 1;
    CHECK_OK(ev_backbone_open(&bo, &bn));
    f2 = bn ? features(bn, cache, &hit, &ds) : NULL;
    CHECK_EQ_INT(hit, 0);
    CHECK(strstr(g_notes, "the backbone changed") != NULL);
    if (bn) CHECK_EQ_INT(ev_backbone_dim(bn), 1001);
    ev_dataset_free(&ds);
    free(f2);
    ev_backbone_free(bn);
    free(f1);
    ev_backbone_free(bb);
}

static void test_cut_and_threads(void) {
    char model[512];
    ev_test_path(model, sizeof model, EXTRACTOR);
    EV_REQUIRE_FILE(model);
    ev_backbone_options bo = {model, "no-such-tensor", -1, "cpu", 1};
    ev_backbone *bb = NULL;
    CHECK(ev_backbone_open(&bo, &bb) == EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "no op output named 'no-such-tensor'") != NULL);
    /* The message lists the op outputs; cut at the output of the first op. */
    char first[256] = "";
    const char *l = strstr(ev_last_error(), "(op outputs: ");
    if (l) sscanf(l + 13, "%255[^,]", first);
    CHECK(first[0] != '\0');
    bo.cut = first;
    CHECK_OK(ev_backbone_open(&bo, &bb));
    if (bb) {
        CHECK(ev_backbone_dim(bb) > 1024); /* an early feature map: 112x112x32 */
        char head[64];
        snprintf(head, sizeof head, "cut=%.40s", first);
        CHECK_MSG(strstr(ev_backbone_prep(bb), head) != NULL, "prep %s, cut %s",
                  ev_backbone_prep(bb), first);
        CHECK(strcmp(ev_backbone_cut(bb), first) == 0);
        ev_dataset ds;
        int hit;
        float *f = features(bb, NULL, &hit, &ds);
        CHECK(f != NULL);
        free(f);
        ev_dataset_free(&ds);
        ev_backbone_free(bb);
    }
    /* 1 and 2 threads: identical features. */
    ev_backbone *b1 = NULL, *b2 = NULL;
    ev_backbone_options o1 = {model, NULL, -1, "cpu", 1}, o2 = {model, NULL, -1, "cpu", 2};
    CHECK_OK(ev_backbone_open(&o1, &b1));
    CHECK_OK(ev_backbone_open(&o2, &b2));
    if (b1 && b2) {
        ev_dataset d1, d2;
        int h;
        float *f1 = features(b1, NULL, &h, &d1), *f2 = features(b2, NULL, &h, &d2);
        CHECK(d1.n == d2.n && f1 && f2 && memcmp(f1, f2, sizeof(float) * 1024 * d1.n) == 0);
        free(f1), free(f2);
        ev_dataset_free(&d1), ev_dataset_free(&d2);
    }
    ev_backbone_free(b1), ev_backbone_free(b2);
}

static void test_undecodable(void) {
    char model[512];
    ev_test_path(model, sizeof model, EXTRACTOR);
    EV_REQUIRE_FILE(model);
    char p[700], cache[700];
    snprintf(p, sizeof p, "%s/data/not_car/road/image0003.png", g_base);
    CHECK_OK(ev_write_file_atomic(p, "not a png", 9));
    snprintf(cache, sizeof cache, "%s/features2.cache", g_base);
    ev_backbone_options bo = {model, NULL, -1, "cpu", 2};
    ev_backbone *bb = NULL;
    CHECK_OK(ev_backbone_open(&bo, &bb));
    if (!bb) return;
    for (int round = 0; round < 2; round++) {
        ev_dataset ds;
        int hit;
        float *f = features(bb, cache, &hit, &ds);
        CHECK_EQ_INT(hit, round);
        CHECK_MSG(strstr(g_notes, "skipped") && strstr(g_notes, "image0003.png"), "notes: %s",
                  g_notes);
        CHECK_OK(ev_features_compact(&ds, f, 1024));
        CHECK_EQ_INT(ds.nbad, 1);
        CHECK_EQ_INT(ds.n, 4);
        free(f);
        ev_dataset_free(&ds);
    }
    ev_backbone_free(bb);
}

int main(void) {
    if (!mkdtemp(g_base)) {
        perror("mkdtemp");
        return 1;
    }
    EV_RUN(test_cache);
    EV_RUN(test_cut_and_threads);
    EV_RUN(test_undecodable);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_base);
    return ev_test_finish();
}
