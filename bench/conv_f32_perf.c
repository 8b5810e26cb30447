/*
 * conv_f32_perf.c - benchmark (not a test): the cpu backend's float32 CONV_2D on the layer
 * shapes of Keras ResNet50 at 224x224 (the 7x7/2 stem, and the 1x1 reduce, 3x3 and 1x1 expand
 * convolutions of each stage at 56/28/14/7, with the stride-2 1x1 projections) and of PoseNet
 * MobileNet v1 0.50 float at 353x481 (its 3x3/2 first layer and its 1x1 convolutions, a head
 * included), on each ISA path with a float GEMM (avx2, and the best the machine has), 1 and 2
 * threads. Each layer is a
 * one-op graph (bias, ReLU) run through the public session API; prints one line per layer, path
 * and thread count:
 *
 *   conv_f32_perf layer=res2_3x3 isa=avx2 kernel=f32_gemm_6x16__avx2 threads=1 mflop=231.2
 *       ms=2.01 gflop_s=115.0 peak_gflop_s=129.6 pct_peak=88.7
 *
 * peak: the measured vfmadd231ps limit of one core for the path's vector width (fma_peak.h:
 * ymm for avx2, zmm for avx512 and for amx) times the thread count. On the amx path (machines
 * with AMX-BF16) the layers the split line takes (f32_gemm_32x32__amxbf16x3, gemm_f32_amx.c)
 * run on the tile unit: their pct_peak is against the same FMA limit, and may pass 100. Time: the best of `--reps` medians of
 * `--runs` runs each (wall clock; the machine may be shared, so repeat and take the best).
 * `--cold MB` reads MB megabytes of another buffer before each timed run (not timed), so the
 * layer's weights and input come from memory, as in a network whose weights exceed the caches
 * (ResNet50's 100 MB), rather than from the L2/L3 where the previous run left them.
 *
 * Usage: conv_f32_perf [--reps N] [--runs N] [--threads 1,2] [--only SUBSTRING] [--isa LIST]
 *                      [--cold MB]
 * Extend: a layer is one line of k_layers.
 */
#include "core/graph_builder.h"
#include "edgevision.h"
#include "fma_peak.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct layer {
    const char *name;
    int h, w, cin, cout, k, stride;
    ev_padding pad;
} layer;

static const layer k_layers[] = {
    /* ResNet50 224x224 (the stem's input is the PAD op's 230x230 output) */
    {"res_stem_7x7s2", 230, 230, 3, 64, 7, 2, EV_PAD_VALID},
    {"res2_1x1_64", 56, 56, 64, 64, 1, 1, EV_PAD_VALID},
    {"res2_3x3", 56, 56, 64, 64, 3, 1, EV_PAD_SAME},
    {"res2_1x1_expand", 56, 56, 64, 256, 1, 1, EV_PAD_VALID},
    {"res2_1x1_reduce", 56, 56, 256, 64, 1, 1, EV_PAD_VALID},
    {"res3_1x1s2_reduce", 56, 56, 256, 128, 1, 2, EV_PAD_VALID},
    {"res3_1x1s2_proj", 56, 56, 256, 512, 1, 2, EV_PAD_VALID},
    {"res3_3x3", 28, 28, 128, 128, 3, 1, EV_PAD_SAME},
    {"res3_1x1_expand", 28, 28, 128, 512, 1, 1, EV_PAD_VALID},
    {"res3_1x1_reduce", 28, 28, 512, 128, 1, 1, EV_PAD_VALID},
    {"res4_3x3", 14, 14, 256, 256, 3, 1, EV_PAD_SAME},
    {"res4_1x1_expand", 14, 14, 256, 1024, 1, 1, EV_PAD_VALID},
    {"res4_1x1_reduce", 14, 14, 1024, 256, 1, 1, EV_PAD_VALID},
    {"res5_1x1s2_proj", 14, 14, 1024, 2048, 1, 2, EV_PAD_VALID},
    {"res5_3x3", 7, 7, 512, 512, 3, 1, EV_PAD_SAME},
    {"res5_1x1_expand", 7, 7, 512, 2048, 1, 1, EV_PAD_VALID},
    {"res5_1x1_reduce", 7, 7, 2048, 512, 1, 1, EV_PAD_VALID},
    /* PoseNet MobileNet v1 0.50 float, 353x481: its first layer and its 1x1 convolutions */
    {"pn050_conv0_3x3s2", 353, 481, 3, 16, 3, 2, EV_PAD_SAME},
    {"pn050_1x1_177x241_16_32", 177, 241, 16, 32, 1, 1, EV_PAD_VALID},
    {"pn050_1x1_89x121_32_64", 89, 121, 32, 64, 1, 1, EV_PAD_VALID},
    {"pn050_1x1_89x121_64_64", 89, 121, 64, 64, 1, 1, EV_PAD_VALID},
    {"pn050_1x1_45x61_64_128", 45, 61, 64, 128, 1, 1, EV_PAD_VALID},
    {"pn050_1x1_45x61_128_128", 45, 61, 128, 128, 1, 1, EV_PAD_VALID},
    {"pn050_1x1_23x31_128_256", 23, 31, 128, 256, 1, 1, EV_PAD_VALID},
    {"pn050_1x1_23x31_256_256", 23, 31, 256, 256, 1, 1, EV_PAD_VALID},
    {"pn050_head_23x31_256_34", 23, 31, 256, 34, 1, 1, EV_PAD_VALID},
};
#define N_LAYERS ((int)(sizeof k_layers / sizeof k_layers[0]))

static float frand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xFFFFFF) / 16777216.0f * 2.0f - 1.0f;
}

static ev_model *build(const layer *L, int *oh, int *ow) {
    *oh = ev_conv_out_size(L->pad, L->h, L->k, L->stride, 1);
    *ow = ev_conv_out_size(L->pad, L->w, L->k, L->stride, 1);
    size_t wn = (size_t)L->cout * L->k * L->k * L->cin;
    float *w = malloc(wn * sizeof(float)), *bias = malloc((size_t)L->cout * sizeof(float));
    if (!w || !bias) {
        free(w), free(bias);
        return NULL;
    }
    uint64_t seed = 1;
    for (size_t i = 0; i < wn; i++) w[i] = 0.05f * frand(&seed);
    for (int i = 0; i < L->cout; i++) bias[i] = 0.1f * frand(&seed);
    int in_dims[4] = {1, L->h, L->w, L->cin}, out_dims[4] = {1, *oh, *ow, L->cout};
    int w_dims[4] = {L->cout, L->k, L->k, L->cin}, b_dims[1] = {L->cout};
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", EV_DTYPE_F32, 4, in_dims, NULL, 0.0f, 0);
    int tw = gb_tensor_q(&b, "w", EV_DTYPE_F32, 4, w_dims, w, 0.0f, 0);
    int tb = gb_tensor_q(&b, "b", EV_DTYPE_F32, 1, b_dims, bias, 0.0f, 0);
    int to = gb_tensor_q(&b, "out", EV_DTYPE_F32, 4, out_dims, NULL, 0.0f, 0);
    ev_conv_params p = {L->pad, L->stride, L->stride, 1, 1, 1, EV_ACT_RELU};
    gb_op_conv(&b, EV_OP_CONV_2D, ti, tw, tb, to, p);
    gb_inputs(&b, 1, &ti);
    gb_outputs(&b, 1, &to);
    ev_model *m = NULL;
    if (gb_finish(&b, &m) != EV_OK) {
        fprintf(stderr, "conv_f32_perf: building %s: %s\n", L->name, b.msg);
        m = NULL;
    }
    free(w), free(bias);
    return m;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static unsigned char *g_flush; /* --cold: the buffer read before each timed run */
static size_t g_flush_bytes;

/* Reads the --cold buffer (one byte per cache line), evicting what the last run cached. */
static void evict(void) {
    volatile unsigned char sink = 0;
    unsigned char acc = 0;
    for (size_t i = 0; i < g_flush_bytes; i += 64) acc ^= g_flush[i];
    sink = acc;
    (void)sink;
}

/* The best of `reps` medians of `runs` runs (seconds); 0 on error. */
static double time_session(ev_session *s, int reps, int runs) {
    double best = 1e30, t[64];
    if (runs > 64) runs = 64;
    if (ev_session_run(s) != EV_OK) return 0; /* warm up */
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < runs; i++) {
            if (g_flush) evict();
            double t0 = ev_clock_seconds();
            if (ev_session_run(s) != EV_OK) return 0;
            t[i] = ev_clock_seconds() - t0;
        }
        qsort(t, (size_t)runs, sizeof t[0], cmp_dbl);
        if (t[runs / 2] < best) best = t[runs / 2];
    }
    return best;
}

int main(int argc, char **argv) {
    int reps = 5, runs = 9;
    const char *only = NULL, *threads_list = "1,2", *isa_list = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads_list = argv[++i];
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) isa_list = argv[++i];
        else if (strcmp(argv[i], "--cold") == 0 && i + 1 < argc)
            g_flush_bytes = (size_t)atol(argv[++i]) << 20;
        else {
            fprintf(stderr, "usage: %s [--reps N] [--runs N] [--threads 1,2] [--only SUBSTRING] "
                            "[--isa avx2,avx512,amx] [--cold MB]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (runs < 1) runs = 1;
    if (g_flush_bytes) {
        g_flush = malloc(g_flush_bytes);
        if (!g_flush) {
            fprintf(stderr, "conv_f32_perf: out of memory for --cold %zu MB\n", g_flush_bytes >> 20);
            return 1;
        }
        memset(g_flush, 1, g_flush_bytes);
    }
    fma_peak fp = fma_peak_measure();
    double peak_ymm = fp.ymm, peak_zmm = fp.zmm;
    printf("conv_f32_perf cpu=\"%s\" peak_ymm_gflop_s=%.1f peak_zmm_gflop_s=%.1f (one core)\n",
           ev_cpu_features(), peak_ymm, peak_zmm);
    /* ISA paths: avx2, and avx512 when the CPU has AVX-512F (--isa overrides) */
    const char *isas[4];
    int n_isa = 0;
    static char isa_buf[128];
    if (isa_list) {
        snprintf(isa_buf, sizeof isa_buf, "%s", isa_list);
        for (char *tok = strtok(isa_buf, ","); tok && n_isa < 4; tok = strtok(NULL, ","))
            isas[n_isa++] = tok;
    } else {
        if (peak_ymm > 0) isas[n_isa++] = "avx2";
        if (peak_zmm > 0) isas[n_isa++] = "avx512";
        if (strstr(ev_cpu_features(), "amx_bf16")) isas[n_isa++] = "amx";
    }
    int threads[4], n_thr = 0;
    static char thr_buf[64];
    snprintf(thr_buf, sizeof thr_buf, "%s", threads_list);
    for (char *tok = strtok(thr_buf, ","); tok && n_thr < 4; tok = strtok(NULL, ","))
        if (atoi(tok) > 0) threads[n_thr++] = atoi(tok);
    for (int l = 0; l < N_LAYERS; l++) {
        const layer *L = &k_layers[l];
        if (only && !strstr(L->name, only)) continue;
        int oh, ow;
        ev_model *m = build(L, &oh, &ow);
        if (!m) return 1;
        size_t in_n = (size_t)L->h * L->w * L->cin;
        float *in = malloc(in_n * sizeof(float));
        uint64_t seed = 7;
        for (size_t i = 0; i < in_n; i++) in[i] = frand(&seed);
        double mflop = 2.0 * oh * ow * L->cout * (double)(L->k * L->k * L->cin) / 1e6;
        for (int ii = 0; ii < n_isa; ii++)
            for (int ti = 0; ti < n_thr; ti++) {
                ev_session_options o;
                ev_session_options_init(&o);
                o.backend = "cpu";
                o.threads = threads[ti];
                o.isa = isas[ii];
                ev_session *s = NULL;
                if (ev_session_create(m, &o, &s) != EV_OK ||
                    ev_session_set_input(s, 0, in, in_n * sizeof(float)) != EV_OK) {
                    fprintf(stderr, "conv_f32_perf: %s on %s: %s\n", L->name, isas[ii],
                            ev_last_error());
                    ev_session_free(s);
                    continue;
                }
                int ref = 0;
                const char *kname = ev_session_kernel_name(s, 0, &ref);
                double t = time_session(s, reps, runs);
                const char *kn = kname ? kname : "";
                const int zmm = strstr(kn, "avx512") || strstr(kn, "amx");
                double peak = (zmm ? peak_zmm : peak_ymm) * threads[ti];
                double gf = t > 0 ? mflop / 1e3 / t : 0;
                printf("conv_f32_perf layer=%s isa=%s kernel=%s%s threads=%d mflop=%.1f ms=%.3f "
                       "gflop_s=%.1f peak_gflop_s=%.1f pct_peak=%.1f\n",
                       L->name, isas[ii], kname ? kname : "?", ref ? "(reference)" : "",
                       threads[ti], mflop, t * 1e3, gf, peak, peak > 0 ? 100.0 * gf / peak : 0);
                fflush(stdout);
                ev_session_free(s);
            }
        free(in);
        ev_model_free(m);
    }
    free(g_flush);
    return 0;
}
