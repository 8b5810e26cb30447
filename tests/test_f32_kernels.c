/*
 * test_f32_kernels.c - the cpu backend's float GEMM lines (gemm_f32.h's ev_f32_gemm_fn) called
 * directly, against the portable one (f32_gemm_1x8__scalar), on every ISA path this machine has
 * (ev_cpu_isa_paths; each path's line as ev_cpu_config_init picks it: on ARM the NEON GEMM, on
 * x86 the AVX2 / AVX-512 ones once config.c lists them). The convolution driver runs them on
 * whole models; this test pins the contract alone: random M, N, K with remainders of every tile
 * (M around multiples of mr, N of nr, K of 4), row strides above the minimum (lda, ldc, ldr),
 * with and without bias and residual, clamps none / ReLU / ReLU6 / random; a call starting at a
 * later channel block (ev_f32_gemm_block, the way a driver splits N); and nothing written
 * outside the M x N outputs (guard values around and between the rows).
 *
 * Tolerance, per output: both kernels start from the bias and add the K products, then the
 * residual: K + 2 terms in one order, with or without FMA contraction. Each result is within
 * gamma_{K+2} * S of the exact sum, S = |bias| + sum_k |a_k w_k| + |residual| (gamma_n =
 * n u / (1 - n u), u = 2^-24; Higham, Accuracy and Stability of Numerical Algorithms, 3.1), so
 * the two differ by at most 2 gamma_{K+2} S (S computed in double); the clamp is 1-Lipschitz
 * and keeps the bound. The same derivation as tests/test_backend_ops.c's header, per element.
 * Lines without FMA that keep the scalar order (armv7's vmlaq) are bit-exact and hold it
 * trivially.
 *
 * The split line (gemm_f32_amx.c, where the CPU has AMX-BF16) is run too, half the cases on A it
 * splits itself (ep.panel), half on A split beforehand (ep.a3, ev_f32_gemm_amx_split, as the
 * convolution driver does). Its tolerance: a = a_h + a_m + a_l exactly (truncation), |a_m| <
 * 2^-7 |a|, |a_l| < 2^-15 |a|, so the three dropped products are below 2^-21 |a w| together;
 * its sum adds 6 K bfloat16 products (each exact in float32) in one float32 accumulator,
 * within gamma_{6K} of their exact sum, then the bias and residual; against the scalar line's
 * gamma_{K+2} S: |d| <= (gamma_{6K+2} + gamma_{K+2} + 2^-20) S.
 * EV_TEST_SEED=<n> changes the base seed.
 */
#include "ev_test.h"
#include "util.h"

#include "backends/cpu/cpu.h"
#include "backends/cpu/gemm_f32.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define U_F32 (1.0 / 16777216.0)
#define GUARD 1234.5f /* a value no kernel writes: the guard cells' content */

static uint64_t base_seed = 0xF32D6E33ull;
static int g_worst_ulps_case; /* cases with any difference from the scalar line */

/* One random case on line e against the scalar line; returns 0 on a mismatch. */
static int gemm_case(const ev_cpu_f32_gemm_entry *e, uint64_t seed, double *worst_ratio) {
    ev_test_rng r = {seed};
    const int mr = e->mr, nr = e->nr;
    int M = ev_test_rng_int(&r, 0, 2) ? mr * ev_test_rng_int(&r, 0, 4) + ev_test_rng_int(&r, -1, 1)
                                      : ev_test_rng_int(&r, 1, 40);
    int N = ev_test_rng_int(&r, 0, 2) ? nr * ev_test_rng_int(&r, 1, 5) + ev_test_rng_int(&r, -1, 1)
                                      : ev_test_rng_int(&r, 1, 70);
    int K = ev_test_rng_int(&r, 0, 3) ? ev_test_rng_int(&r, 1, 40) : ev_test_rng_int(&r, 41, 600);
    if (M < 1) M = 1;
    if (N < 1) N = 1;
    size_t lda = (size_t)K + (size_t)ev_test_rng_int(&r, 0, 3);
    size_t ldc = (size_t)N + (size_t)ev_test_rng_int(&r, 0, 3);
    int has_bias = ev_test_rng_int(&r, 0, 4) != 0, has_res = ev_test_rng_int(&r, 0, 1);
    size_t ldr = (size_t)N + (size_t)ev_test_rng_int(&r, 0, 3);
    ev_f32_epi ep = {.min = -INFINITY, .max = INFINITY};
    switch (ev_test_rng_int(&r, 0, 3)) {
    case 1: ep.min = 0.0f; break;
    case 2: ep.min = 0.0f, ep.max = 6.0f; break;
    case 3:
        ep.min = ev_test_rng_float(&r, -3.0f, 0.0f), ep.max = ev_test_rng_float(&r, 0.0f, 3.0f);
        break;
    default: break;
    }
    float *A = ev_test_rng_data(&r, EV_DTYPE_F32, (size_t)M * lda, -2.0, 2.0);
    float *W = ev_test_rng_data(&r, EV_DTYPE_F32, (size_t)N * K, -1.0, 1.0);
    float *bias = ev_test_rng_data(&r, EV_DTYPE_F32, (size_t)N, -1.0, 1.0);
    float *R = ev_test_rng_data(&r, EV_DTYPE_F32, (size_t)M * ldr, -4.0, 4.0);
    if (has_res) ep.residual = R, ep.ldr = ldr;
    float *Ws = malloc(ev_f32_gemm_packed_size(N, K, 8));
    float *Wl = malloc(ev_cpu_f32_packed_size(e, N, K));
    ev_f32_gemm_pack(W, has_bias ? bias : NULL, N, K, 8, Ws);
    ev_cpu_f32_pack(e, W, has_bias ? bias : NULL, N, K, Wl);
    const int split = (e->flags & EV_F32_GEMM_SPLIT) != 0;
    void *panel = NULL, *a3 = NULL;
    if (split) { /* the line's own copy of A, or A split beforehand (rows up to a multiple of 16) */
        const size_t rb = e->split_row_bytes(K), pb = (size_t)(M + 15) / 16 * 16 * rb;
        panel = aligned_alloc(64, (pb + 63) / 64 * 64);
        if (ev_test_rng_int(&r, 0, 1)) {
            a3 = aligned_alloc(64, (pb + 63) / 64 * 64);
            memset(a3, 0, pb);
            e->split(M, K, A, lda, a3, rb);
            ep.a3 = a3, ep.a3_ld = rb, ep.a3_groups = (K + 31) / 32;
        }
        ep.panel = panel;
    }
    /* outputs with guard cells: ldc padding inside, a row of guards after */
    size_t cn = (size_t)M * ldc + ldc;
    float *Cs = malloc(sizeof(float) * cn), *Cl = malloc(sizeof(float) * cn);
    for (size_t i = 0; i < cn; i++) Cs[i] = Cl[i] = GUARD;
    ev_f32_gemm_scalar(M, N, K, A, lda, Ws, &ep, Cs, ldc);
    /* the line: in one call, or split at a later channel block like a driver would */
    int n0 = N > nr && ev_test_rng_int(&r, 0, 1) ? nr * ev_test_rng_int(&r, 1, (N - 1) / nr) : N;
    ev_f32_epi ep1 = ep; /* a driver's hint: the blocks it runs next (never read as data) */
    if (n0 < N) ep1.next = ev_cpu_f32_block(e, Wl, n0, K);
    e->gemm(M, n0, K, A, lda, Wl, &ep1, Cl, ldc);
    if (n0 < N) {
        ev_f32_epi ep2 = ep;
        if (ep.residual) ep2.residual = ep.residual + n0;
        e->gemm(M, N - n0, K, A, lda, ev_cpu_f32_block(e, Wl, n0, K), &ep2, Cl + n0, ldc);
    }
    int ok = 1, differs = 0;
    for (int m = 0; m < M && ok; m++) {
        for (size_t j = 0; j < ldc; j++) {
            size_t i = (size_t)m * ldc + j;
            if (j >= (size_t)N) { /* padding between rows: untouched */
                if (memcmp(&Cl[i], &Cs[i], sizeof(float)) != 0 || Cl[i] != GUARD) {
                    CHECK_MSG(0, "%s seed=%llx M%d N%d K%d: wrote row %d's padding at %zu",
                              e->name, (unsigned long long)seed, M, N, K, m, j);
                    ok = 0;
                }
                continue;
            }
            double S = has_bias ? fabs(bias[j]) : 0.0;
            for (int k = 0; k < K; k++)
                S += fabs((double)A[(size_t)m * lda + k] * W[(size_t)j * K + k]);
            if (has_res) S += fabs(R[(size_t)m * ldr + j]);
            const double n = K + 2.0, gamma = n * U_F32 / (1.0 - n * U_F32);
            const double n6 = 6.0 * K + 2.0, gamma6 = n6 * U_F32 / (1.0 - n6 * U_F32);
            const double tol = (split ? gamma6 + gamma + 0x1p-20 : 2.0 * gamma) * S;
            const double d = fabs((double)Cl[i] - Cs[i]);
            if (Cl[i] != Cs[i]) differs = 1;
            if (tol > 0 && d / tol > *worst_ratio) *worst_ratio = d / tol;
            if (!(d <= tol) && !(isnan(Cl[i]) && isnan(Cs[i]))) {
                CHECK_MSG(0, "%s seed=%llx M%d N%d K%d lda%zu ldc%zu bias%d res%d clamp [%g, %g] "
                          "split at %d: C[%d][%zu] = %.9g, scalar %.9g (|d| %.3g > tol %.3g)",
                          e->name, (unsigned long long)seed, M, N, K, lda, ldc, has_bias, has_res,
                          (double)ep.min, (double)ep.max, n0, m, j, Cl[i], Cs[i], d, tol);
                ok = 0;
                break;
            }
        }
    }
    for (size_t i = (size_t)M * ldc; ok && i < cn; i++)
        if (Cl[i] != GUARD) {
            CHECK_MSG(0, "%s seed=%llx M%d N%d K%d: wrote past the last row (%zu)", e->name,
                      (unsigned long long)seed, M, N, K, i - (size_t)M * ldc);
            ok = 0;
        }
    g_worst_ulps_case += differs;
    free(A), free(W), free(bias), free(R), free(Ws), free(Wl), free(Cs), free(Cl);
    free(panel), free(a3);
    return ok;
}

static void test_f32_gemm_lines(void) {
    ev_isa paths[8];
    int np = ev_cpu_isa_paths(paths, 8), lines = 0;
    for (int p = 0; p < np; p++) {
        ev_cpu_config cfg;
        ev_cpu_config_init(paths[p], &cfg);
        CHECK_MSG(cfg.f32_gemm && cfg.f32_gemm->gemm && cfg.f32_gemm->mr >= 1 &&
                      cfg.f32_gemm->nr >= 1,
                  "path %s has no float GEMM line", ev_isa_name(paths[p]));
        /* the path's line, then its split line where the CPU has one */
        for (int which = 0; which < 2; which++) {
        const ev_cpu_f32_gemm_entry *e = which ? cfg.f32_gemm_split : cfg.f32_gemm;
        if (!e || !e->gemm) continue;
        char tile[32];
        snprintf(tile, sizeof tile, "_%dx%d__", e->mr, e->nr);
        CHECK_MSG(strstr(e->name, tile) != NULL, "%s: tile %dx%d not in its name", e->name, e->mr,
                  e->nr);
        int cases = getenv("EV_TEST_EMULATED") ? 150 : 400, failed = 0;
        double worst = 0;
        g_worst_ulps_case = 0;
        for (int k = 0; k < cases && failed < 5; k++)
            failed += !gemm_case(e, ev_test_rng_seed(base_seed, p, k), &worst);
        fprintf(stderr, "  path %-8s %-24s %d cases, %d failed, %d differ from scalar, worst "
                "|d| / tol %.3g\n", ev_isa_name(paths[p]), e->name, cases, failed,
                g_worst_ulps_case, worst);
        lines += !which;
        }
    }
    CHECK(lines == np);
}

int main(void) {
    const char *seed = getenv("EV_TEST_SEED");
    if (seed && *seed) base_seed = strtoull(seed, NULL, 0);
    fprintf(stderr, "cpu features: %s; base seed 0x%llx\n", ev_cpu_features(),
            (unsigned long long)base_seed);
    EV_RUN(test_f32_gemm_lines);
    return ev_test_finish();
}
