/*
 * stanford_cars.c - the Stanford Cars devkit through libmatio (spec section 3.1-3.2):
 * devkit/cars_{train,test}_annos.mat hold `annotations`, a 1xN struct array with fields
 * bbox_x1, bbox_y1, bbox_x2, bbox_y2, class (1-based; absent from the unlabelled test file),
 * fname; devkit/cars_meta.mat holds `class_names`, a 1xK cell of char rows. Numbers may be
 * stored compactly (uint8/uint16) and are read through a type switch; chars may be 8- or
 * 16-bit. The same file names occur in train and test, so images are keyed by (split, fname):
 * cars_train/<fname> is preset train, cars_test/<fname> preset test.
 *
 * Extend: the alternative packaging (car_ims/ + cars_annos.mat with relative_im_path and a
 * `test` flag) would be one more reader beside add_split().
 */
#include "train/dataset.h"

#include "core/status.h"
#include "train/fsutil.h"
#include "train/mat_check.h"

#ifdef EV_HAVE_MATIO /* CMake EV_WITH_MATIO; without it the readers fail with a clear error */
#include <matio.h>
#endif
#include <stdio.h>
#include <string.h>

#ifdef EV_HAVE_MATIO

/* A numeric scalar of any storage class, as double. */
static int num_value(const matvar_t *v, double *out) {
    if (!v || !v->data || v->isComplex) return 0;
    size_t n = 1;
    for (int i = 0; i < v->rank; i++) n *= v->dims[i];
    if (n < 1) return 0;
    switch (v->data_type) {
    case MAT_T_DOUBLE: *out = *(const double *)v->data; return 1;
    case MAT_T_SINGLE: *out = *(const float *)v->data; return 1;
    case MAT_T_INT8: *out = *(const int8_t *)v->data; return 1;
    case MAT_T_UINT8: *out = *(const uint8_t *)v->data; return 1;
    case MAT_T_INT16: *out = *(const int16_t *)v->data; return 1;
    case MAT_T_UINT16: *out = *(const uint16_t *)v->data; return 1;
    case MAT_T_INT32: *out = *(const int32_t *)v->data; return 1;
    case MAT_T_UINT32: *out = *(const uint32_t *)v->data; return 1;
    case MAT_T_INT64: *out = (double)*(const int64_t *)v->data; return 1;
    case MAT_T_UINT64: *out = (double)*(const uint64_t *)v->data; return 1;
    default: return 0;
    }
}

/* A char row as a malloc'd UTF-8/ASCII string (16-bit chars above 0x7f become '?'). */
static char *char_value(const matvar_t *v) {
    if (!v || v->class_type != MAT_C_CHAR) return NULL;
    size_t n = 1;
    for (int i = 0; i < v->rank; i++) n *= v->dims[i];
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (!v->data) n = 0;
    for (size_t i = 0; i < n; i++) {
        if (v->data_type == MAT_T_UINT16 || v->data_type == MAT_T_UTF16) {
            uint16_t c = ((const uint16_t *)v->data)[i];
            s[i] = c < 0x80 ? (char)c : '?';
        } else {
            s[i] = ((const char *)v->data)[i];
        }
    }
    s[n] = '\0';
    return s;
}

static ev_status open_var(const char *path, const char *name, mat_t **mat, matvar_t **var) {
    *mat = NULL;
    *var = NULL;
    EV_TRY(ev_mat_check(path)); /* libmatio trusts declared sizes: check them first */
    *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!*mat) return EV_FAIL(EV_ERR_IO, "%s: cannot open as a MATLAB .mat file", path);
    *var = Mat_VarRead(*mat, name);
    if (!*var) {
        Mat_Close(*mat);
        return EV_FAIL(EV_ERR_FORMAT, "%s: no variable '%s'", path, name);
    }
    return EV_OK;
}

ev_status ev_stanford_read_annos(const char *path, char ***fnames, int **class_ids,
                                 size_t *count) {
    *fnames = NULL;
    *class_ids = NULL;
    *count = 0;
    mat_t *mat;
    matvar_t *var;
    EV_TRY(open_var(path, "annotations", &mat, &var));
    ev_status st = EV_OK;
    size_t n = var->rank >= 2 ? var->dims[0] * var->dims[1] : 0;
    if (var->class_type != MAT_C_STRUCT) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: 'annotations' is not a struct array", path);
        goto done;
    }
    int has_class = Mat_VarGetStructFieldByName(var, "class", 0) != NULL || n == 0;
    char **names = calloc(n ? n : 1, sizeof *names);
    int *ids = calloc(n ? n : 1, sizeof *ids);
    if (!names || !ids) {
        free(names), free(ids);
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory reading %s", path);
        goto done;
    }
    for (size_t i = 0; i < n && st == EV_OK; i++) {
        matvar_t *f = Mat_VarGetStructFieldByName(var, "fname", i);
        names[i] = char_value(f);
        if (!names[i] || !names[i][0] || strchr(names[i], '/')) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: annotation %zu: 'fname' is %s", path, i + 1,
                         !f ? "missing" : names[i] ? "not a plain file name" : "not text");
            break;
        }
        if (has_class) {
            double c;
            if (!num_value(Mat_VarGetStructFieldByName(var, "class", i), &c) || c < 1 ||
                c > 1e6 || c != (double)(int)c) {
                st = EV_FAIL(EV_ERR_FORMAT, "%s: annotation %zu (%s): 'class' is not a positive "
                             "integer", path, i + 1, names[i]);
                break;
            }
            ids[i] = (int)c;
        }
    }
    if (st != EV_OK) {
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names), free(ids);
    } else {
        *fnames = names;
        *class_ids = ids;
        *count = n;
    }
done:
    Mat_VarFree(var);
    Mat_Close(mat);
    return st;
}

ev_status ev_stanford_read_meta(const char *path, char ***names, size_t *count) {
    *names = NULL;
    *count = 0;
    mat_t *mat;
    matvar_t *var;
    EV_TRY(open_var(path, "class_names", &mat, &var));
    ev_status st = EV_OK;
    size_t n = var->rank >= 2 ? var->dims[0] * var->dims[1] : 0;
    char **v = calloc(n ? n : 1, sizeof *v);
    if (var->class_type != MAT_C_CELL) st = EV_FAIL(EV_ERR_FORMAT, "%s: 'class_names' is not a "
                                                    "cell array", path);
    else if (!v) st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; st == EV_OK && i < n; i++)
        if (!(v[i] = char_value(Mat_VarGetCell(var, (int)i))))
            st = EV_FAIL(EV_ERR_FORMAT, "%s: class_names{%zu} is not text", path, i + 1);
    if (st != EV_OK && v) {
        for (size_t i = 0; i < n; i++) free(v[i]);
        free(v);
    } else if (st == EV_OK) {
        *names = v;
        *count = n;
    }
    Mat_VarFree(var);
    Mat_Close(mat);
    return st;
}

#else /* !EV_HAVE_MATIO */

ev_status ev_stanford_read_annos(const char *path, char ***fnames, int **class_ids,
                                 size_t *count) {
    *fnames = NULL;
    *class_ids = NULL;
    *count = 0;
    return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: built without libmatio (EV_WITH_MATIO=OFF): Stanford "
                   "Cars .mat annotations unavailable", path);
}

ev_status ev_stanford_read_meta(const char *path, char ***names, size_t *count) {
    *names = NULL;
    *count = 0;
    return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: built without libmatio (EV_WITH_MATIO=OFF): Stanford "
                   "Cars .mat annotations unavailable", path);
}

#endif /* EV_HAVE_MATIO */

static ev_status add_split(ev_dataset *ds, const char *root, const char *annos, const char *dir,
                           int preset, char **meta, size_t nmeta) {
    char *ap = ev_tr_join(root, annos), *dp = ev_tr_join(root, dir);
    char **fn = NULL;
    int *cls = NULL;
    size_t n = 0;
    ev_status st = ap && dp ? ev_stanford_read_annos(ap, &fn, &cls, &n)
                            : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    long missing = 0;
    for (size_t i = 0; st == EV_OK && i < n; i++) {
        char *p = ev_tr_join(dp, fn[i]), src[512];
        if (!p) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            break;
        }
        if (cls[i] >= 1 && (size_t)cls[i] <= nmeta) snprintf(src, sizeof src, "stanford_cars/%s", meta[cls[i] - 1]);
        else if (cls[i] >= 1) snprintf(src, sizeof src, "stanford_cars/class_%d", cls[i]);
        else snprintf(src, sizeof src, "stanford_cars/%s", dir);
        for (char *c = src; *c; c++)
            if (*c == '\t' || *c == '\n' || *c == '\r') *c = ' ';
        if (ev_tr_is_file(p)) st = ev_dataset_push(ds, p, src, 1, preset, ev_file_number(fn[i]));
        else missing++;
        free(p);
    }
    if (missing)
        ev_tr_note(ds->progress, ds->user, "stanford cars: %ld image(s) of %s are not in %s",
                   missing, annos, dp);
    for (size_t i = 0; i < n; i++) free(fn[i]);
    free(fn), free(cls), free(ap), free(dp);
    return st;
}

ev_status ev_dataset_add_stanford(ev_dataset *ds, const char *root) {
    char **meta = NULL;
    size_t nmeta = 0;
    char *mp = ev_tr_join(root, "devkit/cars_meta.mat");
    if (!mp) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    if (ev_tr_is_file(mp)) {
        ev_status st = ev_stanford_read_meta(mp, &meta, &nmeta);
        if (st != EV_OK) {
            free(mp);
            return st;
        }
    }
    free(mp);
    ev_status st = add_split(ds, root, "devkit/cars_train_annos.mat", "cars_train", EV_TRAIN,
                             meta, nmeta);
    if (st == EV_OK) {
        char *wl = ev_tr_join(root, "cars_test_annos_withlabels.mat");
        char *wl2 = ev_tr_join(root, "devkit/cars_test_annos_withlabels.mat");
        const char *test = wl2 && ev_tr_is_file(wl2) ? "devkit/cars_test_annos_withlabels.mat"
                           : wl && ev_tr_is_file(wl) ? "cars_test_annos_withlabels.mat"
                                                     : "devkit/cars_test_annos.mat";
        char *tp = ev_tr_join(root, test);
        if (tp && ev_tr_is_file(tp)) st = add_split(ds, root, test, "cars_test", EV_TEST, meta, nmeta);
        else ev_tr_note(ds->progress, ds->user, "stanford cars: %s has no test annotations", root);
        free(tp), free(wl), free(wl2);
    }
    for (size_t i = 0; i < nmeta; i++) free(meta[i]);
    free(meta);
    return st;
}
