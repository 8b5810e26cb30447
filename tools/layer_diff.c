/*
 * layer_diff.c - finds the first op whose output differs between edgevision and another runtime
 * on the same .tflite file and input bytes.
 *
 *   layer_diff MODEL.tflite INPUT.raw DIR [--backend ref|cpu] [--all]
 *
 * Runs MODEL once on INPUT.raw (the raw bytes of its single input; or an image, .png/.jpg/.jpeg/
 * .bmp, resized to the NHWC uint8 input with Pillow NEAREST as the pose pipeline does, its bytes
 * then written to DIR/input.raw for the other runtime) and writes, for every op, its
 * first output tensor's bytes to DIR/ev_t<T>.bin (T: the tensor's index in the file, the index
 * TFLite uses too) and one line to DIR/tensors.txt: "op T TYPE DTYPE BYTES SCALE ZERO_POINT".
 * Then, for every op whose DIR/tfl_t<T>.bin exists (written by bench/peers/tflite_tap.js: the
 * same tensor from TensorFlow Lite 2.9, the model patched to output it), prints the element
 * count that differs and the largest difference (in quantization steps for integer tensors,
 * absolute for float), and names the first op that differs. With --all every op is printed,
 * otherwise only the differing ones. Exit status: 0 all equal, 1 some op differs, 2 usage or a
 * load/run failure.
 *
 * Typical use (from the repository root, bench/peers/setup.sh done):
 *   ./build/layer_diff M.tflite in.raw /tmp/ld          # our tensors + the list
 *   node bench/peers/tflite_tap.js M.tflite in.raw /tmp/ld   # TFLite's tensors
 *   ./build/layer_diff M.tflite in.raw /tmp/ld --all    # the comparison
 *
 * Uses the public API only (per-op callback, ev_model_op_info). Extend: another element type is
 * one case in elem_at(); another runtime is another script writing DIR/tfl_t<T>.bin.
 */
#include "edgevision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const ev_model *model;
    const char *dir;
    FILE *list;
    int failed;
} tap;

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static void *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    void *p = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)len + 1)) != NULL) {
            if (fread(p, 1, (size_t)len, f) != (size_t)len) {
                free(p);
                p = NULL;
            } else {
                *n = (size_t)len;
            }
        }
    }
    fclose(f);
    return p;
}

static int on_op(void *user, int op_index, const char *op_name, const ev_tensor_info *out,
                 const void *data) {
    tap *t = user;
    ev_op_info oi;
    if (ev_model_op_info(t->model, op_index, &oi) != EV_OK || oi.num_outputs < 1) {
        t->failed = 1;
        return 1;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/ev_t%d.bin", t->dir, oi.outputs[0]);
    if (!write_file(p, data, out->bytes)) {
        fprintf(stderr, "layer_diff: cannot write %s\n", p);
        t->failed = 1;
        return 1;
    }
    fprintf(t->list, "%d %d %s %s %zu %.9g %d\n", op_index, oi.outputs[0], op_name,
            ev_dtype_name(out->dtype), out->bytes, (double)out->scale, (int)out->zero_point);
    return 0;
}

/* Element i of a tensor as a double (integers as their stored value). */
static double elem_at(ev_dtype d, const void *p, size_t i) {
    switch (d) {
    case EV_DTYPE_F32: return ((const float *)p)[i];
    case EV_DTYPE_U8: return ((const uint8_t *)p)[i];
    case EV_DTYPE_I8: return ((const int8_t *)p)[i];
    case EV_DTYPE_I16: return ((const int16_t *)p)[i];
    case EV_DTYPE_I32: return ((const int32_t *)p)[i];
    case EV_DTYPE_I64: return (double)((const int64_t *)p)[i];
    default: return NAN;
    }
}

static ev_dtype dtype_named(const char *s) {
    static const ev_dtype all[] = {EV_DTYPE_F32, EV_DTYPE_U8, EV_DTYPE_I8,
                                   EV_DTYPE_I16,   EV_DTYPE_I32, EV_DTYPE_I64};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(ev_dtype_name(all[i]), s) == 0) return all[i];
    return (ev_dtype)-1;
}

static int compare(const char *dir, int all) {
    char p[4096];
    snprintf(p, sizeof p, "%s/tensors.txt", dir);
    FILE *list = fopen(p, "r");
    if (!list) return 2;
    char line[512];
    int first = -1, compared = 0, differing = 0;
    printf("%-4s %-5s %-20s %-8s %10s %10s %12s\n", "op", "t", "type", "dtype", "elements",
           "differ", "max_diff");
    while (fgets(line, sizeof line, list)) {
        int op, t, zp;
        char type[64], dts[32];
        size_t bytes;
        double scale;
        if (sscanf(line, "%d %d %63s %31s %zu %lf %d", &op, &t, type, dts, &bytes, &scale, &zp) != 7)
            continue;
        ev_dtype d = dtype_named(dts);
        size_t es = (int)d < 0 ? 0 : ev_dtype_size(d);
        if (!es) continue;
        size_t na = 0, nb = 0;
        snprintf(p, sizeof p, "%s/ev_t%d.bin", dir, t);
        void *a = read_file(p, &na);
        snprintf(p, sizeof p, "%s/tfl_t%d.bin", dir, t);
        void *b = read_file(p, &nb);
        if (a && b) {
            compared++;
            size_t n = na / es, diff = 0;
            double maxd = 0;
            if (na != nb) {
                printf("%-4d %-5d %-20s %-8s size differs: ours %zu bytes, theirs %zu\n", op, t,
                       type, dts, na, nb);
                diff = 1;
            } else {
                for (size_t i = 0; i < n; i++) {
                    double x = elem_at(d, a, i), y = elem_at(d, b, i);
                    if (x != y || memcmp((const char *)a + i * es, (const char *)b + i * es, es)) {
                        diff++;
                        maxd = fmax(maxd, fabs(x - y));
                    }
                }
                if (diff || all)
                    printf("%-4d %-5d %-20s %-8s %10zu %10zu %12.6g%s\n", op, t, type, dts, n, diff,
                           maxd, d == EV_DTYPE_F32 ? "" : " steps");
            }
            if (diff) {
                differing++;
                if (first < 0) first = op;
            }
        }
        free(a);
        free(b);
    }
    fclose(list);
    if (!compared) {
        printf("no TFLite tensors (tfl_t*.bin) in %s to compare\n", dir);
        return 0;
    }
    if (first < 0)
        printf("all %d compared ops bit-identical\n", compared);
    else
        printf("%d of %d compared ops differ; the first is op %d\n", differing, compared, first);
    return first < 0 ? 0 : 1;
}

static int is_image(const char *p) {
    const char *dot = strrchr(p, '.');
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp"};
    for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
        if (strcmp(dot, ext[i]) == 0) return 1;
    return 0;
}

/* The model's NHWC uint8 input from an image (Pillow NEAREST), also written to DIR/input.raw. */
static void *image_input(const ev_model *m, const char *path, const char *dir, size_t *n) {
    ev_tensor_info ti;
    if (ev_model_input_info(m, 0, &ti) != EV_OK || ti.ndim != 4 || ti.dtype != EV_DTYPE_U8 ||
        ti.dims[3] != 3) {
        fprintf(stderr, "layer_diff: an image needs a 1xHxWx3 uint8 model input\n");
        return NULL;
    }
    ev_image *img = NULL, *r = NULL;
    void *out = NULL;
    if (ev_image_load(path, &img) == EV_OK &&
        ev_image_resize(img, ti.dims[2], ti.dims[1], EV_RESIZE_NEAREST, &r) == EV_OK &&
        (out = malloc(ti.bytes)) != NULL) {
        memcpy(out, ev_image_pixels(r), ti.bytes);
        *n = ti.bytes;
        char p[4096];
        snprintf(p, sizeof p, "%s/input.raw", dir);
        if (!write_file(p, out, ti.bytes)) fprintf(stderr, "layer_diff: cannot write %s\n", p);
    } else {
        fprintf(stderr, "layer_diff: %s: %s\n", path, ev_last_error());
    }
    ev_image_free(r);
    ev_image_free(img);
    return out;
}

int main(int argc, char **argv) {
    const char *backend = "ref";
    int all = 0, pos = 0;
    const char *args[3] = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc)
            backend = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            all = 1;
        else if (pos < 3)
            args[pos++] = argv[i];
        else
            pos = 4;
    }
    if (pos != 3) {
        fprintf(stderr, "usage: layer_diff MODEL.tflite INPUT.raw DIR [--backend ref|cpu] [--all]\n");
        return 2;
    }
    ev_model *m = NULL;
    if (ev_model_load(args[0], &m) != EV_OK) {
        fprintf(stderr, "layer_diff: %s\n", ev_last_error());
        return 2;
    }
    size_t in_n = 0;
    void *in = is_image(args[1]) ? image_input(m, args[1], args[2], &in_n) : read_file(args[1], &in_n);
    if (!in) {
        fprintf(stderr, "layer_diff: cannot read %s\n", args[1]);
        ev_model_free(m);
        return 2;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/tensors.txt", args[2]);
    tap t = {.model = m, .dir = args[2], .list = fopen(p, "w")};
    if (!t.list) {
        fprintf(stderr, "layer_diff: cannot write %s (does the directory exist?)\n", p);
        free(in);
        ev_model_free(m);
        return 2;
    }
    ev_session_options so;
    ev_session_options_init(&so);
    so.backend = backend;
    so.threads = 1;
    ev_session *s = NULL;
    ev_status st = ev_session_create(m, &so, &s);
    if (st == EV_OK) st = ev_session_set_input(s, 0, in, in_n);
    if (st == EV_OK) {
        ev_session_set_op_callback(s, on_op, &t);
        st = ev_session_run(s);
    }
    fclose(t.list);
    if (st != EV_OK || t.failed) {
        fprintf(stderr, "layer_diff: %s\n", st != EV_OK ? ev_last_error() : "writing tensors failed");
        ev_session_free(s);
        free(in);
        ev_model_free(m);
        return 2;
    }
    ev_session_free(s);
    free(in);
    ev_model_free(m);
    return compare(args[2], all);
}
