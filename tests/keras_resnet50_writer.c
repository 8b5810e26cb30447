/*
 * keras_resnet50_writer.c - Keras-layout ResNet50 HDF5 files with random weights: the one writer,
 * shared by tests/test_keras_resnet50.c and bench/make_resnet50_h5.c (interface and layout in
 * keras_resnet50_writer.h).
 *
 * Extend: a new file variant is a kr50_write_options field read in kr50_write; another Keras
 * architecture would be its own layer list beside layer_list().
 */
#include "keras_resnet50_writer.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- random weights ---------- */

static float *frand(ev_test_rng *rng, size_t n, double mean, double sd, double lo, double hi) {
    float *p = malloc(n * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(sd > 0 ? mean + sd * ev_test_rng_normal(rng)
                              : lo + (hi - lo) * ev_test_rng_open01(rng));
    return p;
}

static int add_conv(kr50_weights *w, ev_test_rng *rng, int stage, int block, int k_idx, int k,
                    int cin, int cout, int stride, int pad) {
    kr50_conv *c = &w->conv[w->nconv++];
    *c = (kr50_conv){stage, block, k_idx, k, cin, cout, stride, pad, 0, 0, 0, 0, 0, 0};
    size_t n = (size_t)k * k * cin * cout;
    c->w = frand(rng, n, 0.0, sqrt(2.0 / (k * k * cin)), 0, 0); /* He normal */
    c->b = frand(rng, (size_t)cout, 0.0, 0.05, 0, 0);
    /* the last BN of a residual branch a little smaller, so 16 blocks keep activations sane */
    int last = k_idx == 3 || k_idx == 0;
    c->gamma = frand(rng, (size_t)cout, 0, 0, last ? 0.2 : 0.7, last ? 0.5 : 1.3);
    c->beta = frand(rng, (size_t)cout, 0.0, 0.1, 0, 0);
    c->mean = frand(rng, (size_t)cout, 0.0, 0.1, 0, 0);
    c->var = frand(rng, (size_t)cout, 0, 0, 0.6, 1.4);
    return c->w && c->b && c->gamma && c->beta && c->mean && c->var ? 0 : -1;
}

int kr50_weights_random(kr50_weights *w, ev_test_rng *rng) {
    memset(w, 0, sizeof *w);
    int bad = add_conv(w, rng, 1, 0, 0, 7, 3, 64, 2, 0);
    static const int blocks[4] = {3, 4, 6, 3}, filt[4] = {64, 128, 256, 512};
    int c = 64;
    for (int s = 2; s <= 5; s++)
        for (int b = 1; b <= blocks[s - 2]; b++) {
            int f = filt[s - 2], st = b == 1 && s > 2 ? 2 : 1;
            if (b == 1) bad |= add_conv(w, rng, s, b, 0, 1, c, 4 * f, st, 0);
            bad |= add_conv(w, rng, s, b, 1, 1, c, f, st, 0);
            bad |= add_conv(w, rng, s, b, 2, 3, f, f, 1, 1);
            bad |= add_conv(w, rng, s, b, 3, 1, f, 4 * f, 1, 0);
            c = 4 * f;
        }
    w->dense_w = frand(rng, (size_t)KR50_FEATURES * KR50_CLASSES, 0.0, 1.0, 0, 0);
    w->dense_b = frand(rng, KR50_CLASSES, 0.0, 0.1, 0, 0);
    if (bad || !w->dense_w || !w->dense_b) {
        kr50_weights_free(w);
        return -1;
    }
    return 0;
}

void kr50_weights_free(kr50_weights *w) {
    for (int i = 0; i < w->nconv; i++) {
        kr50_conv *c = &w->conv[i];
        free(c->w);
        free(c->b);
        free(c->gamma);
        free(c->beta);
        free(c->mean);
        free(c->var);
    }
    free(w->dense_w);
    free(w->dense_b);
    memset(w, 0, sizeof *w);
}

kr50_conv *kr50_find_conv(const kr50_weights *w, int stage, int block, int k_idx) {
    for (int i = 0; i < w->nconv; i++)
        if (w->conv[i].stage == stage && w->conv[i].block == block && w->conv[i].k_idx == k_idx)
            return (kr50_conv *)&w->conv[i];
    return NULL;
}

/* ---------------------------------------------------------------- the HDF5 file ----------- */

/* Writes strings as an attribute: style 0 fixed-length NULLPAD exactly as long as the longest
 * (h5py's numpy 'S' arrays), 1 fixed NULLTERM with room for the NUL, 2 variable-length. */
static void write_str_attr(hid_t obj, const char *name, const char *const *s, int n, int style,
                           int scalar) {
    hid_t type = H5Tcopy(H5T_C_S1);
    size_t maxlen = 1;
    for (int i = 0; i < n; i++) maxlen = strlen(s[i]) > maxlen ? strlen(s[i]) : maxlen;
    hsize_t dim = (hsize_t)n;
    hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    if (style == 2) {
        H5Tset_size(type, H5T_VARIABLE);
        hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, type, s);
        H5Aclose(a);
    } else {
        size_t sz = maxlen + (style == 1);
        H5Tset_size(type, sz);
        H5Tset_strpad(type, style == 0 ? H5T_STR_NULLPAD : H5T_STR_NULLTERM);
        char *buf = calloc((size_t)n, sz);
        for (int i = 0; i < n; i++) memcpy(buf + (size_t)i * sz, s[i], strlen(s[i]));
        hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, type, buf);
        H5Aclose(a);
        free(buf);
    }
    H5Sclose(space);
    H5Tclose(type);
}

static void write_empty_weight_names(hid_t g) {
    hsize_t zero = 0;
    hid_t space = H5Screate_simple(1, &zero, NULL);
    hid_t a = H5Acreate2(g, "weight_names", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    double dummy = 0;
    H5Awrite(a, H5T_NATIVE_DOUBLE, &dummy);
    H5Aclose(a);
    H5Sclose(space);
}

static int write_ds(hid_t g, const char *path, int nd, const hsize_t *dims, const float *data) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t space = H5Screate_simple(nd, dims, NULL);
    hid_t d = H5Dcreate2(g, path, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    int bad = d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(space);
    H5Pclose(lcpl);
    return bad ? -1 : 0;
}

typedef struct lay {
    char name[48];
    int kind; /* 0 weightless, 1 conv, 2 bn, 3 dense */
    kr50_conv *c;
} lay;

static void conv_names(const kr50_write_options *o, const kr50_conv *c, char *conv, char *bn) {
    static const char *const lb[4] = {"1", "2a", "2b", "2c"};
    if (c->stage == 1) {
        strcpy(conv, o->legacy ? "conv1" : "conv1_conv");
        strcpy(bn, o->legacy ? "bn_conv1" : "conv1_bn");
    } else if (o->legacy) {
        sprintf(conv, "res%d%c_branch%s", c->stage, 'a' + c->block - 1, lb[c->k_idx]);
        sprintf(bn, "bn%d%c_branch%s", c->stage, 'a' + c->block - 1, lb[c->k_idx]);
    } else {
        sprintf(conv, "conv%d_block%d_%d_conv", c->stage, c->block, c->k_idx);
        sprintf(bn, "conv%d_block%d_%d_bn", c->stage, c->block, c->k_idx);
    }
}

/* Keras's layer order (resnet.py: conv block _1, _2, _0 conv, _3 conv, _0 bn, _3 bn, add, out). */
static int layer_list(const kr50_weights *w, const kr50_write_options *o, lay *L) {
    int n = 0, act = 1;
    char cv[48], bn[48];
#define PUSH(nm, kd, cp)                                                                          \
    do {                                                                                          \
        snprintf(L[n].name, sizeof L[n].name, "%s", nm);                                          \
        L[n].kind = kd;                                                                           \
        L[n].c = cp;                                                                              \
        n++;                                                                                      \
    } while (0)
    char tmp[48];
    PUSH("input_1", 0, NULL);
    PUSH(o->legacy ? "zero_padding2d_1" : "conv1_pad", 0, NULL);
    kr50_conv *st = kr50_find_conv(w, 1, 0, 0);
    conv_names(o, st, cv, bn);
    PUSH(cv, 1, st);
    PUSH(bn, 2, st);
    PUSH(o->legacy ? "activation_1" : "conv1_relu", 0, NULL);
    if (!o->legacy || o->pool_pad) PUSH("pool1_pad", 0, NULL);
    PUSH(o->legacy ? "max_pooling2d_1" : "pool1_pool", 0, NULL);
    static const int blocks[4] = {3, 4, 6, 3};
    for (int s = 2; s <= 5; s++)
        for (int b = 1; b <= blocks[s - 2]; b++) {
            char pre[32];
            snprintf(pre, sizeof pre, "conv%d_block%d", s, b);
            for (int k = 1; k <= 3; k++) {
                kr50_conv *c = kr50_find_conv(w, s, b, k);
                conv_names(o, c, cv, bn);
                if (k == 3 && b == 1) { /* _0_conv, _3_conv, _0_bn, _3_bn */
                    char cv0[48], bn0[48];
                    conv_names(o, kr50_find_conv(w, s, b, 0), cv0, bn0);
                    PUSH(o->legacy ? cv : cv0, 1, o->legacy ? c : kr50_find_conv(w, s, b, 0));
                    PUSH(o->legacy ? cv0 : cv, 1, o->legacy ? kr50_find_conv(w, s, b, 0) : c);
                    PUSH(o->legacy ? bn : bn0, 2, o->legacy ? c : kr50_find_conv(w, s, b, 0));
                    PUSH(o->legacy ? bn0 : bn, 2, o->legacy ? kr50_find_conv(w, s, b, 0) : c);
                } else {
                    PUSH(cv, 1, c);
                    PUSH(bn, 2, c);
                }
                if (k < 3) {
                    if (o->legacy)
                        snprintf(tmp, sizeof tmp, "activation_%d", ++act);
                    else
                        snprintf(tmp, sizeof tmp, "%s_%d_relu", pre, k);
                    PUSH(tmp, 0, NULL);
                }
            }
            if (o->legacy)
                snprintf(tmp, sizeof tmp, "add_%d", s * 10 + b);
            else
                snprintf(tmp, sizeof tmp, "%s_add", pre);
            PUSH(tmp, 0, NULL);
            if (o->legacy)
                snprintf(tmp, sizeof tmp, "activation_%d", ++act);
            else
                snprintf(tmp, sizeof tmp, "%s_out", pre);
            PUSH(tmp, 0, NULL);
        }
    if (o->top) {
        PUSH("avg_pool", 0, NULL);
        PUSH(o->legacy ? "fc1000" : "predictions", 3, NULL);
    }
#undef PUSH
    return n;
}

static void weight_name(const kr50_write_options *o, const char *layer, const char *role, const char *k1,
                        char *out) {
    if (o->keras1)
        snprintf(out, 96, "%.40s_%.20s:0", layer, k1);
    else
        snprintf(out, 96, "%.40s/%.20s:0", layer, role);
}

int kr50_write(const char *path, const kr50_weights *w, const kr50_write_options *o) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    int failed = 0;
    static lay L[400];
    int n = o->not_resnet ? 0 : layer_list(w, o, L);
    if (o->not_resnet) {
        snprintf(L[0].name, sizeof L[0].name, "dense_1");
        L[0].kind = 0;
        n = 1;
    }
    const char *names[400];
    int nn = 0;
    for (int i = 0; i < n; i++)
        if (!o->skip_layer || strcmp(L[i].name, o->skip_layer) != 0) names[nn++] = L[i].name;
    if (!o->no_layer_names) {
        if (o->split) {
            write_str_attr(f, "layer_names0", names, nn / 2, o->names_style, 0);
            write_str_attr(f, "layer_names1", names + nn / 2, nn - nn / 2, o->names_style, 0);
        } else {
            write_str_attr(f, "layer_names", names, nn, o->names_style, 0);
        }
    }
    const char *be = "tensorflow", *kv = "2.10.0";
    write_str_attr(f, "backend", &be, 1, 0, 1);
    write_str_attr(f, "keras_version", &kv, 1, 2, 1);
    for (int i = 0; i < n; i++) {
        if (o->skip_layer && strcmp(L[i].name, o->skip_layer) == 0) continue;
        hid_t g = H5Gcreate2(f, L[i].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) {
            failed = 1;
            continue;
        }
        int style = i % 3;
        char wn[4][96];
        const char *wp[4] = {wn[0], wn[1], wn[2], wn[3]};
        int bad = o->bad_shape_layer && strcmp(L[i].name, o->bad_shape_layer) == 0;
        int drop = o->drop_dataset_layer && strcmp(L[i].name, o->drop_dataset_layer) == 0;
        if (L[i].kind == 0) {
            write_empty_weight_names(g);
        } else if (L[i].kind == 1) {
            kr50_conv *c = L[i].c;
            weight_name(o, L[i].name, "kernel", "W", wn[0]);
            weight_name(o, L[i].name, "bias", "b", wn[1]);
            write_str_attr(g, "weight_names", wp, 2, style, 0);
            hsize_t kd[4] = {(hsize_t)c->k, (hsize_t)c->k, (hsize_t)c->cin,
                             (hsize_t)(bad ? c->cout / 2 : c->cout)};
            hsize_t bd[1] = {(hsize_t)c->cout};
            if (!drop) failed |= write_ds(g, wn[0], 4, kd, c->w);
            failed |= write_ds(g, wn[1], 1, bd, c->b);
        } else if (L[i].kind == 2) {
            kr50_conv *c = L[i].c;
            static const char *const roles[4] = {"gamma", "beta", "moving_mean",
                                                 "moving_variance"};
            static const char *const k1[4] = {"gamma", "beta", "running_mean", "running_std"};
            const float *data[4] = {c->gamma, c->beta, c->mean, c->var};
            for (int r = 0; r < 4; r++) weight_name(o, L[i].name, roles[r], k1[r], wn[r]);
            write_str_attr(g, "weight_names", wp, 4, style, 0);
            hsize_t bd[1] = {(hsize_t)c->cout};
            for (int r = 0; r < 4; r++)
                if (!(drop && r == 3)) failed |= write_ds(g, wn[r], 1, bd, data[r]);
        } else {
            weight_name(o, L[i].name, "kernel", "W", wn[0]);
            weight_name(o, L[i].name, "bias", "b", wn[1]);
            write_str_attr(g, "weight_names", wp, 2, style, 0);
            hsize_t kd[2] = {2048, KR50_CLASSES}, bd[1] = {KR50_CLASSES};
            failed |= write_ds(g, wn[0], 2, kd, w->dense_w);
            failed |= write_ds(g, wn[1], 1, bd, w->dense_b);
        }
        H5Gclose(g);
    }
    if (H5Fclose(f) < 0) failed = 1;
    return failed ? -1 : 0;
}
