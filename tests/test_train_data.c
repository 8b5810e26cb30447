/*
 * test_train_data.c - datasets from disk, on trees the test writes: the folder-per-class layout
 * (labels, sources at any depth, sorted order, a folder named car), Caltech-256 (one level,
 * .jpg only, excluded categories reported), Stanford Cars annotations in a .mat file written
 * here with libmatio (compact uint8/uint16/double storage, train with class, test without),
 * unreadable files reported and skipped, and the manifest TSV.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "train/dataset.h"
#include "train/fsutil.h"
#include "util/file.h"
#include "train/split.h"

#ifdef EV_HAVE_MATIO /* built without libmatio: test_stanford_mat skips, saying so */
#include <matio.h>
#endif
#include <unistd.h>

static char g_base[] = "/tmp/ev_train_dataXXXXXX";
static char g_notes[4096];

static int collect(void *user, const ev_train_progress *p) {
    (void)user;
    if (p->stage == EV_TRAIN_NOTE && strlen(g_notes) + strlen(p->message) + 2 < sizeof g_notes) {
        strcat(g_notes, p->message);
        strcat(g_notes, "\n");
    }
    return 0;
}

/* Records the last hashing progress; asks to stop when g_stop_at_hash is set. */
static long g_hash_done = -1, g_hash_total = -1;
static int g_stop_at_hash;
static int stop_at_hash(void *user, const ev_train_progress *p) {
    collect(user, p);
    if (p->stage != EV_TRAIN_HASH) return 0;
    g_hash_done = p->done;
    g_hash_total = p->total;
    return g_stop_at_hash;
}

static void put_image(const char *dir, const char *name, uint8_t v) {
    char p[1024];
    CHECK_OK(ev_tr_mkdirs(dir));
    snprintf(p, sizeof p, "%s/%s", dir, name);
    uint8_t px[8 * 8 * 3];
    memset(px, v, sizeof px);
    ev_image *img;
    CHECK_OK(ev_image_create(8, 8, px, &img));
    CHECK_OK(ev_image_save(img, p));
    ev_image_free(img);
}

static void put_text(const char *path, const char *text) {
    CHECK_OK(ev_write_file_atomic(path, text, strlen(text)));
}

static void test_folders(void) {
    char root[600], d[800];
    snprintf(root, sizeof root, "%s/vehicles", g_base);
    snprintf(d, sizeof d, "%s/car/GTI_Far", root);
    put_image(d, "image0002.png", 10);
    put_image(d, "image0001.png", 20);
    snprintf(d, sizeof d, "%s/car/KITTI/deep/er", root);
    put_image(d, "7.png", 30);
    snprintf(d, sizeof d, "%s/not_car/Extras", root);
    put_image(d, "extra1.png", 40);
    snprintf(d, sizeof d, "%s/not_car/Extras/notes.txt", root);
    put_text(d, "not an image");
    snprintf(d, sizeof d, "%s/not_car/Extras/broken.png", root);
    put_text(d, "this is not a PNG");
    snprintf(d, sizeof d, "%s/stray", root);
    put_image(root, "stray.png", 50);

    ev_data_options o;
    memset(&o, 0, sizeof o);
    o.roots[0] = root;
    o.num_roots = 1;
    ev_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.progress = collect;
    g_notes[0] = '\0';
    CHECK_OK(ev_dataset_load(&ds, &o));
    CHECK_EQ_INT(ds.n, 5); /* 3 cars, extra1 + broken.png */
    CHECK(strcmp(ds.label_name[1], "car") == 0 && strcmp(ds.label_name[0], "not_car") == 0);
    if (ds.n == 5) {
        CHECK(strstr(ds.items[0].path, "car/GTI_Far/image0001.png") != NULL); /* sorted */
        CHECK(strcmp(ds.items[0].source, "car/GTI_Far") == 0);
        CHECK_EQ_INT(ds.items[0].label, 1);
        CHECK_EQ_INT(ds.items[0].number, 1);
        CHECK(strcmp(ds.items[2].source, "car/KITTI/deep/er") == 0);
        CHECK_EQ_INT(ds.items[2].number, 7);
        CHECK(strcmp(ds.items[4].source, "not_car/Extras") == 0);
        CHECK_EQ_INT(ds.items[4].label, 0);
    }
    CHECK(strstr(g_notes, "ignored 1 image(s) not inside a class folder") != NULL);
    /* Hashing works; broken.png is readable as a file (decoding fails later, in features). */
    ds.progress = stop_at_hash;
    g_stop_at_hash = 1; /* the callback's stop is an error naming it, not a silent partial hash */
    CHECK_EQ_INT(ev_dataset_hash(&ds, 2), EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "stopped by the progress callback") != NULL);
    g_stop_at_hash = 0;
    CHECK_OK(ev_dataset_hash(&ds, 2));
    CHECK_EQ_INT(g_hash_done, 5); /* the last report: every item of 5 */
    CHECK_EQ_INT(g_hash_total, 5);
    ds.progress = collect;
    CHECK(strlen(ds.items[0].sha1) == 40);
    /* An unreadable file is reported and set aside, never silently. */
    size_t broken = 0;
    for (size_t i = 0; i < ds.n; i++)
        if (strstr(ds.items[i].path, "broken.png")) broken = i;
    CHECK_EQ_INT(broken, 3); /* broken.png sorts before extra1.png */
    ev_dataset_reject(&ds, broken, "not a PNG");
    CHECK(strstr(g_notes, "skipped") && strstr(g_notes, "broken.png: not a PNG"));
    CHECK_OK(ev_dataset_compact(&ds));
    CHECK_EQ_INT(ds.n, 4);
    CHECK_EQ_INT(ds.nbad, 1);
    double f[3] = {0.5, 0.25, 0.25};
    CHECK_OK(ev_split_assign(&ds, EV_SPLIT_STRATIFIED, f, 50, 1));
    char man[700], sk[700];
    snprintf(man, sizeof man, "%s/manifest.tsv", g_base);
    snprintf(sk, sizeof sk, "%s/skipped.tsv", g_base);
    CHECK_OK(ev_manifest_write(&ds, man));
    CHECK_OK(ev_skipped_write(&ds, sk));
    char *text;
    CHECK_OK(ev_read_text(man, &text, NULL));
    CHECK(strncmp(text, "path\tlabel\tsplit\tsource\tsha1\n", 29) == 0);
    int lines = 0;
    for (char *c = text; *c; c++) lines += *c == '\n';
    CHECK_EQ_INT(lines, 5);
    char row[1024];
    snprintf(row, sizeof row, "%s\t1\t%s\tcar/GTI_Far\t%s\n", ds.items[0].path,
             ev_split_name(ds.items[0].split), ds.items[0].sha1);
    CHECK(strstr(text, row) != NULL);
    free(text);
    CHECK_OK(ev_read_text(sk, &text, NULL));
    CHECK(strstr(text, "broken.png\tnot a PNG") != NULL);
    free(text);
    ev_dataset_free(&ds);

    /* A folder named car holds positives only (eval DIR2 = vehicles/car). */
    char car[700];
    snprintf(car, sizeof car, "%s/car", root);
    o.roots[0] = car;
    memset(&ds, 0, sizeof ds);
    CHECK_OK(ev_dataset_load(&ds, &o));
    CHECK_EQ_INT(ds.n, 3);
    for (size_t i = 0; i < ds.n; i++) CHECK_EQ_INT(ds.items[i].label, 1);
    ev_dataset_free(&ds);
    /* No class folders: a clear error. */
    o.roots[0] = d; /* .../stray does not exist as a folder */
    memset(&ds, 0, sizeof ds);
    CHECK(ev_dataset_load(&ds, &o) == EV_ERR_IO);
    CHECK(strstr(ev_last_error(), "not found") != NULL);
    ev_dataset_free(&ds);
    snprintf(d, sizeof d, "%s/vehicles/car/GTI_Far", g_base);
    o.roots[0] = d;
    memset(&ds, 0, sizeof ds);
    CHECK(ev_dataset_load(&ds, &o) == EV_ERR_INVALID_ARG);
    CHECK(strstr(ev_last_error(), "no 'car' folder") != NULL);
    ev_dataset_free(&ds);
}

static void test_caltech(void) {
    char root[600], d[800];
    snprintf(root, sizeof root, "%s/256_ObjectCategories", g_base);
    snprintf(d, sizeof d, "%s/001.ak47", root);
    put_image(d, "001_0001.jpg", 1);
    put_image(d, "001_0002.jpg", 2);
    snprintf(d, sizeof d, "%s/072.fire-truck", root);
    put_image(d, "072_0001.jpg", 3);
    snprintf(d, sizeof d, "%s/198.spider", root);
    put_image(d, "198_0001.jpg", 4);
    snprintf(d, sizeof d, "%s/198.spider/RENAME2", root);
    put_text(d, "x");
    snprintf(d, sizeof d, "%s/056.dog/greg/vision309", root);
    put_image(d, "deep.jpg", 5);
    snprintf(d, sizeof d, "%s/056.dog", root);
    put_image(d, "056_0001.jpg", 6);
    put_image(d, "056_0002.png", 7);
    ev_data_options o;
    memset(&o, 0, sizeof o);
    o.roots[0] = g_base; /* the folder that holds 256_ObjectCategories */
    o.num_roots = 1;
    ev_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.progress = collect;
    g_notes[0] = '\0';
    ev_status st = ev_dataset_add_root(&ds, &o, g_base);
    CHECK_OK(st);
    /* ak47 x2, dog x1 (not greg/, not the .png), spider x1; fire-truck excluded. */
    CHECK_EQ_INT(ds.n, 4);
    for (size_t i = 0; i < ds.n; i++) {
        CHECK_EQ_INT(ds.items[i].label, 0);
        CHECK(strstr(ds.items[i].path, "fire-truck") == NULL);
    }
    if (ds.n == 4) CHECK(strcmp(ds.items[2].source, "caltech256/056.dog") == 0);
    CHECK(strstr(g_notes, "excluded 072.fire-truck (1 images)") != NULL);
    CHECK(strstr(g_notes, "ignored 1 entries of 198.spider") != NULL);
    ev_dataset_free(&ds);
    /* A custom exclusion list (by name without the number, with a comment). */
    char ex[700];
    snprintf(ex, sizeof ex, "%s/exclude.txt", g_base);
    put_text(ex, "# car-like\nak47\n");
    o.caltech_exclude = ex;
    memset(&ds, 0, sizeof ds);
    CHECK_OK(ev_dataset_add_root(&ds, &o, root));
    CHECK_EQ_INT(ds.n, 3); /* fire-truck back in, ak47 out */
    ev_dataset_free(&ds);
}

#ifdef EV_HAVE_MATIO
static matvar_t *num_var(enum matio_classes cls, enum matio_types t, double v) {
    size_t dims[2] = {1, 1};
    uint8_t u8 = (uint8_t)v;
    uint16_t u16 = (uint16_t)v;
    double d = v;
    void *p = t == MAT_T_UINT8 ? (void *)&u8 : t == MAT_T_UINT16 ? (void *)&u16 : (void *)&d;
    return Mat_VarCreate(NULL, cls, t, 2, dims, p, 0);
}

static matvar_t *str_var(const char *s) {
    size_t dims[2] = {1, strlen(s)};
    return Mat_VarCreate(NULL, MAT_C_CHAR, MAT_T_UINT8, 2, dims, (void *)s, 0);
}

/* A devkit annotations file: n entries, fnames 00001.jpg..., classes 1 + i % 3. */
static void write_annos(const char *path, int n, int with_class) {
    mat_t *mat = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    CHECK(mat != NULL);
    if (!mat) return;
    const char *fields[6] = {"bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "fname"};
    const char *fields_nc[5] = {"bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "fname"};
    size_t dims[2] = {1, (size_t)n};
    matvar_t *s = Mat_VarCreateStruct("annotations", 2, dims, with_class ? fields : fields_nc,
                                      with_class ? 6 : 5);
    for (int i = 0; i < n; i++) {
        char fn[16];
        snprintf(fn, sizeof fn, "%05d.jpg", i + 1);
        Mat_VarSetStructFieldByName(s, "bbox_x1", (size_t)i, num_var(MAT_C_UINT8, MAT_T_UINT8, 39));
        Mat_VarSetStructFieldByName(s, "bbox_y1", (size_t)i, num_var(MAT_C_DOUBLE, MAT_T_DOUBLE, 116));
        Mat_VarSetStructFieldByName(s, "bbox_x2", (size_t)i, num_var(MAT_C_UINT16, MAT_T_UINT16, 569));
        Mat_VarSetStructFieldByName(s, "bbox_y2", (size_t)i, num_var(MAT_C_UINT16, MAT_T_UINT16, 375));
        if (with_class)
            Mat_VarSetStructFieldByName(s, "class", (size_t)i,
                                        i % 2 ? num_var(MAT_C_UINT8, MAT_T_UINT8, 1 + i % 3)
                                              : num_var(MAT_C_DOUBLE, MAT_T_DOUBLE, 1 + i % 3));
        Mat_VarSetStructFieldByName(s, "fname", (size_t)i, str_var(fn));
    }
    /* Uncompressed: this libmatio (1.5.23) writes zlib-compressed struct arrays that it cannot
     * read back itself; the reader handles compressed files from other writers (spec 3.2). */
    CHECK(Mat_VarWrite(mat, s, MAT_COMPRESSION_NONE) == 0);
    Mat_VarFree(s);
    Mat_Close(mat);
}

static void write_meta(const char *path) {
    mat_t *mat = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    const char *names[3] = {"AM General Hummer SUV 2000", "Acura RL Sedan 2012",
                            "Ford F-450 Super Duty Crew Cab 2012"};
    size_t dims[2] = {1, 3};
    matvar_t *cells[3];
    for (int i = 0; i < 3; i++) cells[i] = str_var(names[i]);
    matvar_t *c = Mat_VarCreate("class_names", MAT_C_CELL, MAT_T_CELL, 2, dims, cells, 0);
    CHECK(Mat_VarWrite(mat, c, MAT_COMPRESSION_NONE) == 0);
    Mat_VarFree(c);
    Mat_Close(mat);
}

static void test_stanford_mat(void) {
    char root[600], dev[700], p[800];
    snprintf(root, sizeof root, "%s/stanford", g_base);
    snprintf(dev, sizeof dev, "%s/devkit", root);
    CHECK_OK(ev_tr_mkdirs(dev));
    snprintf(p, sizeof p, "%s/cars_train_annos.mat", dev);
    write_annos(p, 5, 1);
    char **fn;
    int *cls;
    size_t n;
    CHECK_OK(ev_stanford_read_annos(p, &fn, &cls, &n));
    CHECK_EQ_INT(n, 5);
    if (n == 5) {
        CHECK(strcmp(fn[0], "00001.jpg") == 0 && strcmp(fn[4], "00005.jpg") == 0);
        for (int i = 0; i < 5; i++) CHECK_EQ_INT(cls[i], 1 + i % 3); /* 1-based, any storage */
    }
    for (size_t i = 0; i < n; i++) free(fn[i]);
    free(fn), free(cls);
    snprintf(p, sizeof p, "%s/cars_test_annos.mat", dev);
    write_annos(p, 3, 0);
    CHECK_OK(ev_stanford_read_annos(p, &fn, &cls, &n));
    CHECK_EQ_INT(n, 3);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(cls[i], 0);
        free(fn[i]);
    }
    free(fn), free(cls);
    snprintf(p, sizeof p, "%s/cars_meta.mat", dev);
    write_meta(p);
    /* Images: the same names in train and test; one train image missing. */
    char d[800];
    snprintf(d, sizeof d, "%s/cars_train", root);
    for (int i = 1; i <= 4; i++) {
        char f[16];
        snprintf(f, sizeof f, "%05d.jpg", i);
        put_image(d, f, (uint8_t)i);
    }
    snprintf(d, sizeof d, "%s/cars_test", root);
    for (int i = 1; i <= 3; i++) {
        char f[16];
        snprintf(f, sizeof f, "%05d.jpg", i);
        put_image(d, f, (uint8_t)(100 + i));
    }
    ev_data_options o;
    memset(&o, 0, sizeof o);
    o.roots[0] = root;
    o.num_roots = 1;
    ev_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.progress = collect;
    g_notes[0] = '\0';
    CHECK_OK(ev_dataset_load(&ds, &o));
    CHECK_EQ_INT(ds.n, 7);
    CHECK(strstr(g_notes, "1 image(s) of devkit/cars_train_annos.mat are not in") != NULL);
    int train = 0, test = 0;
    for (size_t i = 0; i < ds.n; i++) {
        CHECK_EQ_INT(ds.items[i].label, 1);
        train += ds.items[i].preset == EV_TRAIN;
        test += ds.items[i].preset == EV_TEST;
    }
    CHECK_EQ_INT(train, 4);
    CHECK_EQ_INT(test, 3);
    if (ds.n == 7) {
        CHECK(strcmp(ds.items[0].source, "stanford_cars/AM General Hummer SUV 2000") == 0);
        CHECK(strcmp(ds.items[2].source, "stanford_cars/Ford F-450 Super Duty Crew Cab 2012") == 0);
        CHECK(strstr(ds.items[4].path, "cars_test/00001.jpg") != NULL); /* keyed by split */
        CHECK(strcmp(ds.items[4].source, "stanford_cars/cars_test") == 0);
    }
    ev_dataset_free(&ds);
    /* A file that is not a .mat: a clear error. */
    snprintf(p, sizeof p, "%s/bogus.mat", dev);
    put_text(p, "MATLAB 5.0 no really");
    CHECK(ev_stanford_read_annos(p, &fn, &cls, &n) != EV_OK);
    CHECK(strstr(ev_last_error(), "bogus.mat") != NULL);
}
#else
static void test_stanford_mat(void) {
    fprintf(stderr, "SKIP test_stanford_mat: built without libmatio (EV_WITH_MATIO=OFF)\n");
    ev_t_skip++;
}
#endif

int main(void) {
    if (!mkdtemp(g_base)) {
        perror("mkdtemp");
        return 1;
    }
    EV_RUN(test_folders);
    EV_RUN(test_caltech);
    EV_RUN(test_stanford_mat);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_base);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_base);
    return ev_test_finish();
}
