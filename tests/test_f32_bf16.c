/*
 * test_f32_bf16.c - the opt-in bfloat16 float GEMM (src/backends/cpu/gemm_f32_avx512bf16.c,
 * EV_FLOAT_BF16) against exact sums, and a bf16 session of a convolution against ref.
 *
 * Bound (a proof, not a fit): bfloat16 keeps 8 significant bits, so rounding a value to nearest
 * even has relative error at most u = 2^-8, and a product of two rounded values at most
 * 2u + u^2 < 2^-6.9; vdpbf16ps sums the products in float32, whose K-term sum adds at most
 * gamma_K = K 2^-24 / (1 - K 2^-24) of sum |products| (Higham 3.1), the bias, residual and
 * clamp one rounding more. So per output
 *     |y - exact| <= (2^-6.9 + (K + 2) 2^-24 (1 + 2^-6.9)) * (sum_k |a_k w_k| + |bias| + |r|)
 * checked element by element with the exact sum in double. Cases: random M, N, K including
 * K > 1024 (the kernel's chunks through C), N not a multiple of 32, M not of 14, residual and
 * clamp. The session check: a float conv with float_modes EV_FLOAT_BF16 reports the bf16 kernel
 * on machines with AVX512_BF16 and stays within the same bound of ref (relative to the output
 * range, since ref's own sum is float too). Skipped where the CPU lacks AVX512_BF16.
 */
#include "ev_test.h"

#include "backends/cpu/cpu.h"
#include "edgevision.h"
#include "graph_builder.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(EV_CPU_X86)
static ev_test_rng R = {0xbf16bf16c0ffeeull};

static float *frand(size_t n, float lo, float hi) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = ev_test_rng_float(&R, lo, hi);
    return p;
}

static void gemm_case(int M, int N, int K, int residual, int clamp) {
    float *A = frand((size_t)M * K, -2, 2), *W = frand((size_t)N * K, -1, 1);
    float *bias = frand((size_t)N, -1, 1), *Rm = frand((size_t)M * N, -1, 1);
    float *C = malloc(sizeof(float) * (size_t)M * N);
    float *Wp = malloc(ev_f32_gemm_bf16_packed_size(N, K, 32));
    ev_f32_gemm_bf16_pack(W, bias, N, K, 32, Wp);
    ev_f32_epi ep = {.min = clamp ? -0.5f : -INFINITY, .max = clamp ? 3.0f : INFINITY,
                     .residual = residual ? Rm : NULL, .ldr = (size_t)N};
    ev_f32_gemm_bf16_avx512(M, N, K, A, (size_t)K, Wp, &ep, C, (size_t)N);
    const double u = pow(2.0, -6.9), g = (K + 2) * pow(2.0, -24) * (1 + u);
    int bad = 0;
    double worst = 0;
    for (int m = 0; m < M && bad < 3; m++)
        for (int n = 0; n < N; n++) {
            double s = bias[n], mag = fabs(bias[n]);
            for (int k = 0; k < K; k++) {
                double p = (double)A[(size_t)m * K + k] * W[(size_t)n * K + k];
                s += p;
                mag += fabs(p);
            }
            if (residual) s += Rm[(size_t)m * N + n], mag += fabs(Rm[(size_t)m * N + n]);
            if (clamp) s = s < -0.5 ? -0.5 : s > 3.0 ? 3.0 : s;
            double e = fabs(C[(size_t)m * N + n] - s), lim = (u + g) * mag;
            if (e / mag > worst) worst = e / mag;
            if (!(e <= lim) && bad++ < 3)
                fprintf(stderr, "M%d N%d K%d: C[%d][%d] = %.7g, exact %.7g, error %.3g > %.3g\n",
                        M, N, K, m, n, C[(size_t)m * N + n], s, e, lim);
        }
    CHECK_MSG(bad == 0, "M%d N%d K%d residual %d clamp %d (worst relative %.3g)\n", M, N, K,
              residual, clamp, worst);
    free(A), free(W), free(bias), free(Rm), free(C), free(Wp);
}

static void test_gemm(void) {
    if (!ev_cpu_has_bf16()) {
        EV_SKIP("the CPU has no AVX512_BF16");
    }
    static const int k_fixed[][3] = {{1, 1, 1},    {14, 32, 64},  {15, 33, 65},  {49, 512, 4608},
                                     {3, 7, 1025}, {28, 64, 147}, {100, 96, 2049}};
    for (size_t i = 0; i < sizeof k_fixed / sizeof k_fixed[0]; i++)
        gemm_case(k_fixed[i][0], k_fixed[i][1], k_fixed[i][2], (int)i & 1, (int)i % 3 == 0);
    for (int it = 0; it < 30; it++)
        gemm_case(ev_test_rng_int(&R, 1, 40), ev_test_rng_int(&R, 1, 100),
                  ev_test_rng_int(&R, 1, 1500), it & 1, it % 3 == 0);
}

/* A 3x3 conv on ref and on cpu with EV_FLOAT_BF16: the session runs the bf16 kernel. */
static void test_session(void) {
    if (!ev_cpu_has_bf16()) {
        EV_SKIP("the CPU has no AVX512_BF16");
    }
    int in_dims[4] = {1, 12, 13, 40}, out_dims[4] = {1, 12, 13, 50};
    int w_dims[4] = {50, 3, 3, 40}, b_dims[1] = {50};
    float *wd = frand(50 * 9 * 40, -1, 1), *bd = frand(50, -1, 1);
    gb b;
    gb_init(&b);
    int ti = gb_tensor_q(&b, "in", EV_DTYPE_F32, 4, in_dims, NULL, 0.0f, 0);
    int tw = gb_tensor_q(&b, "w", EV_DTYPE_F32, 4, w_dims, wd, 0.0f, 0);
    int tb = gb_tensor_q(&b, "b", EV_DTYPE_F32, 1, b_dims, bd, 0.0f, 0);
    int to = gb_tensor_q(&b, "out", EV_DTYPE_F32, 4, out_dims, NULL, 0.0f, 0);
    ev_conv_params p = {EV_PAD_SAME, 1, 1, 1, 1, 1, EV_ACT_NONE};
    gb_op_conv(&b, EV_OP_CONV_2D, ti, tw, tb, to, p);
    gb_inputs(&b, 1, &ti);
    gb_outputs(&b, 1, &to);
    ev_model *m = NULL;
    CHECK(gb_finish(&b, &m) == EV_OK);
    free(wd), free(bd);
    if (!m) return;
    size_t n_in = 12 * 13 * 40;
    float *in = frand(n_in, -2, 2);
    const void *ins[1] = {in};
    size_t bytes[1] = {n_in * sizeof(float)};
    void *ref = NULL, *got = NULL;
    size_t rn = 0, gn = 0;
    ev_run_opts ro = {.backend = "ref"};
    ev_run_opts co = {.backend = "cpu", .threads = 2, .float_modes = EV_FLOAT_BF16};
    CHECK(ev_test_run_copy(m, &ro, 1, ins, bytes, 0, &ref, &rn) == EV_OK);
    CHECK(ev_test_run_copy(m, &co, 1, ins, bytes, 0, &got, &gn) == EV_OK);
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cpu";
    o.float_modes = EV_FLOAT_BF16;
    ev_session *s = NULL;
    CHECK(ev_session_create(m, &o, &s) == EV_OK);
    if (s) {
        const char *k = ev_session_kernel_name(s, 0, NULL);
        CHECK_MSG(k && strstr(k, "bf16"), "bf16 session ran %s\n", k ? k : "(none)");
        ev_session_free(s);
    }
    if (ref && got && rn == gn) {
        /* sum |a w| <= 360 * 2 per output here; bound as in the header, against the output
           range (ref rounds too: K 2^-24 more) */
        const float *r = ref, *y = got;
        double maxe = 0, K = 360;
        for (size_t i = 0; i < rn / sizeof(float); i++) {
            double e = fabs((double)y[i] - r[i]);
            if (!(e <= maxe)) maxe = e;
        }
        double lim = (pow(2.0, -6.9) + 2 * (K + 2) * pow(2.0, -24)) * (2 * K + 1);
        CHECK_MSG(maxe <= lim, "bf16 conv error %.3g > %.3g\n", maxe, lim);
        printf("bf16 conv vs ref: max error %.3g (bound %.3g)\n", maxe, lim);
    }
    free(ref), free(got), free(in);
    ev_model_free(m);
}
#else
static void test_gemm(void) { EV_SKIP("bf16 GEMM is x86 only"); }
static void test_session(void) { EV_SKIP("bf16 GEMM is x86 only"); }
#endif

int main(void) {
    EV_RUN(test_gemm);
    EV_RUN(test_session);
    return ev_test_finish();
}
