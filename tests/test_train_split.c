/*
 * test_train_split.c - train/validation/test assignment: exact counts for the fractions,
 * stratification by label, no group across splits (and groups are what the spec says: a source
 * folder cut into blocks of group_size consecutive file numbers), the dataset's own split,
 * determinism for a seed, and file numbers.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "train/dataset.h"
#include "train/split.h"

/* 2 labels x 3 sources x `per` files numbered 0..per-1 (label 1 has twice as many sources). */
static void make(ev_dataset *ds, int per) {
    memset(ds, 0, sizeof *ds);
    const char *src[5] = {"car/GTI_Far", "car/GTI_Left", "car/KITTI", "not_car/GTI",
                          "not_car/Extras"};
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < per; i++) {
            char path[128];
            snprintf(path, sizeof path, "/d/%s/image%04d.png", src[s], i);
            CHECK_OK(ev_dataset_push(ds, path, src[s], s < 3, -1, ev_file_number(path)));
        }
}

static void counts(const ev_dataset *ds, int c[2][3]) {
    memset(c, 0, sizeof(int) * 6);
    for (size_t i = 0; i < ds->n; i++) c[ds->items[i].label][ds->items[i].split]++;
}

static void test_file_number(void) {
    CHECK_EQ_INT(ev_file_number("image0042.png"), 42);
    CHECK_EQ_INT(ev_file_number("1000.png"), 1000);
    CHECK_EQ_INT(ev_file_number("extra7.jpeg"), 7);
    CHECK_EQ_INT(ev_file_number("027_0003.jpg"), 3);
    CHECK_EQ_INT(ev_file_number("noname.png"), -1);
}

static void test_stratified(void) {
    ev_dataset ds;
    make(&ds, 200); /* 600 label 1, 400 label 0 */
    double f[3] = {0.5, 0.3, 0.2};
    CHECK_OK(ev_split_assign(&ds, EV_SPLIT_STRATIFIED, f, 50, 1));
    int c[2][3];
    counts(&ds, c);
    CHECK_EQ_INT(c[1][0], 300); CHECK_EQ_INT(c[1][1], 180); CHECK_EQ_INT(c[1][2], 120);
    CHECK_EQ_INT(c[0][0], 200); CHECK_EQ_INT(c[0][1], 120); CHECK_EQ_INT(c[0][2], 80);
    /* Same seed, same assignment; another seed, another one. */
    ev_dataset d2, d3;
    make(&d2, 200);
    make(&d3, 200);
    CHECK_OK(ev_split_assign(&d2, EV_SPLIT_STRATIFIED, f, 50, 1));
    CHECK_OK(ev_split_assign(&d3, EV_SPLIT_STRATIFIED, f, 50, 2));
    int same = 1, diff = 0;
    for (size_t i = 0; i < ds.n; i++) {
        same &= ds.items[i].split == d2.items[i].split;
        diff += ds.items[i].split != d3.items[i].split;
    }
    CHECK(same);
    CHECK_MSG(diff > 300, "seed 2 changed only %d assignments", diff);
    ev_dataset_free(&ds), ev_dataset_free(&d2), ev_dataset_free(&d3);
}

static void test_random(void) {
    ev_dataset ds;
    make(&ds, 199); /* 995 images */
    double f[3] = {0.5, 0.3, 0.2};
    CHECK_OK(ev_split_assign(&ds, EV_SPLIT_RANDOM, f, 50, 4));
    int c[2][3];
    counts(&ds, c);
    CHECK_EQ_INT(c[0][0] + c[1][0], 498); /* round(497.5) */
    CHECK_EQ_INT(c[0][1] + c[1][1], 299); /* round(298.5) */
    CHECK_EQ_INT(c[0][2] + c[1][2], 198);
    ev_dataset_free(&ds);
    /* Bad fractions are refused. */
    make(&ds, 4);
    double bad[3] = {0.5, 0.3, 0.3};
    CHECK(ev_split_assign(&ds, EV_SPLIT_RANDOM, bad, 50, 1) == EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "add up to 1") != NULL);
    ev_dataset_free(&ds);
}

static void test_group(void) {
    ev_dataset ds;
    make(&ds, 1000); /* 5 sources x 1000 frames: 20 groups of 50 each */
    double f[3] = {0.5, 0.3, 0.2};
    CHECK_OK(ev_split_assign(&ds, EV_SPLIT_GROUP, f, 50, 1));
    /* Every block of 50 consecutive numbers of one source lies in one split. */
    int straddle = 0, groups = 0;
    for (size_t i = 0; i < ds.n; i += 50) {
        groups++;
        for (size_t k = i + 1; k < i + 50; k++) straddle += ds.items[k].split != ds.items[i].split;
        char a[256], b[256];
        ev_split_group_key(&ds.items[i], 50, a, sizeof a);
        ev_split_group_key(&ds.items[i + 49], 50, b, sizeof b);
        CHECK(strcmp(a, b) == 0);
        if (i + 50 < ds.n) {
            ev_split_group_key(&ds.items[i + 50], 50, b, sizeof b);
            CHECK(strcmp(a, b) != 0);
        }
    }
    CHECK_EQ_INT(groups, 100);
    CHECK_EQ_INT(straddle, 0);
    /* Stratified by label, whole groups: 3000 label-1 images = 60 groups -> 30/18/12 groups;
     * 2000 label-0 images = 40 groups -> 20/12/8. */
    int c[2][3];
    counts(&ds, c);
    CHECK_EQ_INT(c[1][0], 1500); CHECK_EQ_INT(c[1][1], 900); CHECK_EQ_INT(c[1][2], 600);
    CHECK_EQ_INT(c[0][0], 1000); CHECK_EQ_INT(c[0][1], 600); CHECK_EQ_INT(c[0][2], 400);
    /* Groups are per source: frame 7 of two sources are in different groups. */
    char a[256], b[256];
    ev_split_group_key(&ds.items[7], 50, a, sizeof a);
    ev_split_group_key(&ds.items[1007], 50, b, sizeof b);
    CHECK(strcmp(a, b) != 0);
    /* Uneven groups still land near the fractions: group size 70 (15 groups per source). */
    ev_dataset d2;
    make(&d2, 1000);
    CHECK_OK(ev_split_assign(&d2, EV_SPLIT_GROUP, f, 70, 3));
    counts(&d2, c);
    for (int l = 0; l < 2; l++) {
        double n = c[l][0] + c[l][1] + c[l][2];
        for (int s = 0; s < 3; s++)
            CHECK_MSG(fabs(c[l][s] / n - f[s]) < 0.04, "label %d split %d: %.3f of the images",
                      l, s, c[l][s] / n);
    }
    ev_dataset_free(&ds), ev_dataset_free(&d2);
}

static void test_dataset_split(void) {
    ev_dataset ds;
    memset(&ds, 0, sizeof ds);
    for (int i = 0; i < 100; i++) {
        char p[64];
        snprintf(p, sizeof p, "/s/%s/%05d.jpg", i < 60 ? "cars_train" : "cars_test", i);
        CHECK_OK(ev_dataset_push(&ds, p, "stanford_cars", 1, i < 60 ? EV_TRAIN : EV_TEST, i));
    }
    for (int i = 0; i < 40; i++) {
        char p[64];
        snprintf(p, sizeof p, "/c/001.ak47/001_%04d.jpg", i);
        CHECK_OK(ev_dataset_push(&ds, p, "caltech256/001.ak47", 0, -1, i));
    }
    double f[3] = {0.6, 0.2, 0.2};
    CHECK_OK(ev_split_assign(&ds, EV_SPLIT_DATASET, f, 50, 1));
    int c[2][3];
    counts(&ds, c);
    /* Official test stays test; validation out of train at 0.2 / (0.6 + 0.2): 15 of 60. */
    CHECK_EQ_INT(c[1][2], 40);
    CHECK_EQ_INT(c[1][1], 15);
    CHECK_EQ_INT(c[1][0], 45);
    for (int i = 60; i < 100; i++) CHECK(ds.items[i].split == EV_TEST);
    /* Negatives without a split of their own: stratified 24/8/8. */
    CHECK_EQ_INT(c[0][0], 24); CHECK_EQ_INT(c[0][1], 8); CHECK_EQ_INT(c[0][2], 8);
    ev_dataset_free(&ds);
}

int main(void) {
    EV_RUN(test_file_number);
    EV_RUN(test_stratified);
    EV_RUN(test_random);
    EV_RUN(test_group);
    EV_RUN(test_dataset_split);
    return ev_test_finish();
}
