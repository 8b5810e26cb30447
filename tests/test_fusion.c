/*
 * test_fusion.c - fused epilogues (core/backend.h "Fusion"; the cpu backend's float conv ->
 * residual ADD, src/backends/cpu/fusion.c and conv_f32.c) against the reference backend.
 *
 * Graphs: chains of residual blocks as ResNet50 has them (x -> conv(ReLU) -> conv(none) -> ADD
 * with x, ReLU), with the residual being the block input, a projection conv computed before the
 * main path (ResNet's conv blocks: its ADD operand exists before the absorbing conv), or the
 * other ADD operand first; plus patterns that must not fuse: a conv with its own activation, a
 * conv output read twice (by the ADD and as a graph output), and a residual produced after the
 * conv. Checked:
 *  - outputs equal ref within the float GEMM's bound (max|y - r| <= 1e-5 max(max|r|, 1)), with
 *    the fusion active (no callback), and with a per-op callback set (every op runs unfused and
 *    the callback sees each conv's own output, which must equal ref's conv output);
 *  - inspect (ev_backend_kernels) names the absorbed ADD exactly for the fusable convs;
 *  - on every ISA path and 1-3 threads (the memory plan keeps the ADD output alive from the
 *    conv, so nothing the conv reads is overwritten: a wrong plan gives wrong values here);
 *  - variant 3 is large enough (12x14, 32-channel 3x3s) for the split line (AMX-BF16 machines):
 *    inspect must name it for the fused 3x3s, and the amx path runs it with the ADD fused.
 *
 * And the depthwise -> 1x1 pattern (MobileNet's pairs: dwconv_f32.c computes the 1x1 from bands
 * of its rows): test_dw_pointwise builds chains of random geometry (channels 1..70: tails of the
 * row kernels' cr and of the GEMM's nr; strides 1 / 2; SAME / VALID; activations drawn for both
 * ops; batch 1 or 2): two fusable pairs, then a depthwise output read by two 1x1s, a depthwise
 * feeding a 3x3 conv, and a depthwise output that is also a graph output (none of those fuse).
 * Checked as above: inspect names the absorbed 1x1 (its index) exactly for the fusable
 * depthwise ops; every graph output, fused and unfused, on every ISA path and 1-3 threads, within
 * 1e-5 of max|ref| and within the float bound of tests/test_backend_ops.c with K the sum of the
 * graph's reductions (8 (K + 1) 2^-24 max(max|ref|, 1), element-wise); with the callback set,
 * every depthwise and conv output the callback sees within 1e-5 of ref's.
 */
#include "ev_test.h"

#include "backends/cpu/cpu.h"
#include "core/plan.h"
#include "edgevision.h"
#include "graph_builder.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ev_test_rng R = {0xf05e0f05e0ull};

static float *frand(size_t n, float lo, float hi) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = ev_test_rng_float(&R, lo, hi);
    return p;
}

typedef struct net {
    gb b;
    int H, W;
    int n_fusable; /* convs that must absorb their ADD */
    int fusable[16];
} net;

/* A conv of k x k, cin -> cout, SAME, stride 1, into a new tensor; returns the op index. */
static int conv(net *n, int in, int cin, int cout, int k, ev_activation act, int *out) {
    int w_dims[4] = {cout, k, k, cin}, b_dims[1] = {cout}, o_dims[4] = {1, n->H, n->W, cout};
    float scale = 1.0f / sqrtf((float)(k * k * cin));
    float *wd = frand((size_t)cout * k * k * cin, -scale, scale), *bd = frand((size_t)cout, -0.1f, 0.1f);
    int tw = gb_tensor_q(&n->b, "w", EV_DTYPE_F32, 4, w_dims, wd, 0.0f, 0);
    int tb = gb_tensor_q(&n->b, "b", EV_DTYPE_F32, 1, b_dims, bd, 0.0f, 0);
    *out = gb_tensor_q(&n->b, "c", EV_DTYPE_F32, 4, o_dims, NULL, 0.0f, 0);
    ev_conv_params p = {EV_PAD_SAME, 1, 1, 1, 1, 1, act};
    int op = gb_op_conv(&n->b, EV_OP_CONV_2D, in, tw, tb, *out, p);
    free(wd);
    free(bd);
    return op;
}

/* ADD (builtin 0) of a and b with a fused activation, into a new tensor. */
static int add(net *n, int a, int b, int c, ev_activation act) {
    int dims[4] = {1, n->H, n->W, c};
    int o = gb_tensor_q(&n->b, "sum", EV_DTYPE_F32, 4, dims, NULL, 0.0f, 0);
    int ins[2] = {a, b};
    int idx = gb_op(&n->b, EV_OP_ADD, "ADD", 0, 2, ins, 1, &o);
    if (idx >= 0) n->b.g.ops[idx].p.add.activation = act;
    return o;
}

/* Builds variant v; returns the model (NULL on builder failure). */
static ev_model *build(int v, int *in_elems) {
    net n;
    memset(&n, 0, sizeof n);
    gb_init(&n.b);
    /* variant 3: 12x14 pixels, 64 channels: the 3x3 convs (32 input channels, 168 pixels) run
     * on the split line where the CPU has one (conv_f32.c), their residual ADD fused */
    n.H = v == 3 ? 12 : 5 + v, n.W = v == 3 ? 14 : 7;
    const int C = v == 3 ? 64 : 16 + 8 * v;
    int in_dims[4] = {1, n.H, n.W, C};
    int x = gb_tensor_q(&n.b, "x", EV_DTYPE_F32, 4, in_dims, NULL, 0.0f, 0);
    *in_elems = n.H * n.W * C;
    int outs[4], nout = 0;
    int cur = x;
    for (int blk = 0; blk < 3; blk++) {
        int proj = -1;
        if (blk == 1) conv(&n, cur, C, C, 1, EV_ACT_NONE, &proj); /* projection first */
        int t1, t2;
        conv(&n, cur, C, C / 2, 1, EV_ACT_RELU, &t1);
        int last = conv(&n, t1, C / 2, C, 3, EV_ACT_NONE, &t2);
        int res = proj >= 0 ? proj : cur;
        if (v == 1 && blk == 2) { /* the conv's output also a graph output: no fusion */
            outs[nout++] = t2;
        } else {
            n.fusable[n.n_fusable++] = last;
        }
        cur = blk == 0 ? add(&n, res, t2, C, EV_ACT_RELU) : add(&n, t2, res, C, EV_ACT_RELU);
    }
    /* a conv with its own activation feeding an ADD: not fusable */
    int t3;
    conv(&n, cur, C, C, 1, EV_ACT_RELU, &t3);
    cur = add(&n, t3, cur, C, EV_ACT_NONE);
    /* a residual produced after the conv: not fusable (the ADD's other operand comes later) */
    int t4, t5;
    conv(&n, cur, C, C, 1, EV_ACT_NONE, &t4);
    conv(&n, cur, C, C, 1, EV_ACT_RELU6, &t5);
    cur = add(&n, t4, t5, C, EV_ACT_NONE);
    outs[nout++] = cur;
    gb_inputs(&n.b, 1, &x);
    gb_outputs(&n.b, nout, outs);
    ev_model *m = NULL;
    if (gb_finish(&n.b, &m) != EV_OK) return NULL;
    /* inspect: the fusable convs (and only they) name an absorbed op */
    int nops = ev_model_num_ops(m);
    ev_kernel_report *rep = calloc((size_t)nops, sizeof *rep);
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cpu";
    CHECK(ev_backend_kernels(m, &o, rep, nops) == EV_OK);
    int seen = 0;
    for (int i = 0; i < nops; i++) {
        int absorbs = strstr(rep[i].kernel, " + op ") != NULL;
        int want = 0;
        for (int k = 0; k < n.n_fusable; k++) want |= n.fusable[k] == i;
        CHECK_MSG(absorbs == want, "variant %d op %d: kernel '%s', fusable %d\n", v, i,
                  rep[i].kernel, want);
        seen += absorbs;
    }
    CHECK(seen == n.n_fusable);
    if (v == 3) { /* the 3x3 convs that absorb an ADD run on the split line where there is one */
        ev_cpu_config cfg;
        ev_cpu_config_init(ev_cpu_isa(NULL), &cfg);
        for (int k = 0; k < n.n_fusable && cfg.f32_gemm_split; k++)
            CHECK_MSG(strncmp(rep[n.fusable[k]].kernel, cfg.f32_gemm_split->name,
                              strlen(cfg.f32_gemm_split->name)) == 0,
                      "variant 3 op %d: kernel '%s', expected the split line\n", n.fusable[k],
                      rep[n.fusable[k]].kernel);
    }
    free(rep);
    return m;
}

typedef struct capture {
    const ev_model *m;
    float *conv_out[64]; /* op -> its first output, copied (convs only) */
    size_t bytes[64];
} capture;

static int capture_cb(void *user, int op, const char *name, const ev_tensor_info *info,
                      const void *data) {
    capture *c = user;
    if (op < 64 && (strcmp(name, "CONV_2D") == 0 || strcmp(name, "DEPTHWISE_CONV_2D") == 0)) {
        free(c->conv_out[op]);
        c->conv_out[op] = malloc(info->bytes);
        memcpy(c->conv_out[op], data, info->bytes);
        c->bytes[op] = info->bytes;
    }
    return 0;
}

static double rel_err(const float *y, const float *r, size_t n) {
    double maxr = 1.0, maxe = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(r[i]) > maxr) maxr = fabs(r[i]);
        double e = fabs((double)y[i] - r[i]);
        if (!(e <= maxe)) maxe = e;
    }
    return maxe / maxr;
}

static void test_residual_blocks(void) {
    ev_isa paths[8];
    int np = ev_cpu_isa_paths(paths, 8);
    for (int v = 0; v < 4; v++) {
        int in_elems = 0;
        ev_model *m = build(v, &in_elems);
        CHECK(m != NULL);
        if (!m) continue;
        float *in = frand((size_t)in_elems, -2, 2);
        const void *ins[1] = {in};
        size_t bytes[1] = {(size_t)in_elems * sizeof(float)};
        capture rc = {m, {0}, {0}};
        void *ref = NULL;
        size_t rn = 0;
        ev_run_opts ro = {.backend = "ref", .cb = capture_cb, .cb_user = &rc};
        CHECK(ev_test_run_copy(m, &ro, 1, ins, bytes, 1, &ref, &rn) == EV_OK);
        for (int p = 0; p < np; p++)
            for (int threads = 1; threads <= 3; threads++) {
                const char *isa = ev_isa_name(paths[p]);
                /* fused */
                void *got = NULL;
                size_t gn = 0;
                ev_run_opts co = {.backend = "cpu", .threads = threads, .isa = isa};
                CHECK(ev_test_run_copy(m, &co, 1, ins, bytes, 1, &got, &gn) == EV_OK);
                if (got && ref && gn == rn) {
                    double e = rel_err(got, ref, rn / sizeof(float));
                    CHECK_MSG(e <= 1e-5, "variant %d %s %d threads, fused: error %.3g\n", v, isa,
                              threads, e);
                }
                free(got);
                /* unfused: a callback sees every conv's own output */
                capture cc = {m, {0}, {0}};
                ev_run_opts uo = {.backend = "cpu", .threads = threads, .isa = isa,
                                  .cb = capture_cb, .cb_user = &cc};
                got = NULL;
                CHECK(ev_test_run_copy(m, &uo, 1, ins, bytes, 1, &got, &gn) == EV_OK);
                if (got && ref && gn == rn) {
                    double e = rel_err(got, ref, rn / sizeof(float));
                    CHECK_MSG(e <= 1e-5, "variant %d %s %d threads, unfused: error %.3g\n", v,
                              isa, threads, e);
                }
                for (int op = 0; op < 64; op++) {
                    if (!rc.conv_out[op]) continue;
                    CHECK(cc.conv_out[op] && cc.bytes[op] == rc.bytes[op]);
                    if (cc.conv_out[op] && cc.bytes[op] == rc.bytes[op]) {
                        double e = rel_err(cc.conv_out[op], rc.conv_out[op],
                                           rc.bytes[op] / sizeof(float));
                        CHECK_MSG(e <= 1e-5, "variant %d op %d seen by the callback: %.3g\n", v,
                                  op, e);
                    }
                    free(cc.conv_out[op]);
                }
                free(got);
            }
        for (int op = 0; op < 64; op++) free(rc.conv_out[op]);
        free(ref);
        free(in);
        ev_model_free(m);
    }
}

/* ---- depthwise -> 1x1 ---------------------------------------------------------------- */

typedef struct shp {
    int n, h, w, c;
} shp;

typedef struct dwnet {
    gb b;
    double K;          /* sum of the graph's reductions (the float bound's K) */
    int n_fusable;
    int fusable[8][2]; /* depthwise op, the 1x1 it absorbs */
    int nout;
    size_t out_elems[4];
} dwnet;

static int rint_(int lo, int hi) { return ev_test_rng_int(&R, lo, hi); }

static ev_activation rand_act(void) {
    static const ev_activation acts[] = {EV_ACT_NONE, EV_ACT_RELU, EV_ACT_RELU6};
    return acts[rint_(0, 2)];
}

static int tensor(dwnet *n, const char *name, shp s) {
    int dims[4] = {s.n, s.h, s.w, s.c};
    return gb_tensor_q(&n->b, name, EV_DTYPE_F32, 4, dims, NULL, 0.0f, 0);
}

/* A k x k depthwise (multiplier 1) of `in` (shape *s, updated to the output's); returns the op. */
static int dw(dwnet *n, int in, shp *s, int k, int stride, ev_padding pad, ev_activation act,
              int *out) {
    if (ev_conv_out_size(pad, s->h, k, stride, 1) < 1 || ev_conv_out_size(pad, s->w, k, stride, 1) < 1)
        pad = EV_PAD_SAME;
    int w_dims[4] = {1, k, k, s->c}, b_dims[1] = {s->c};
    float *wd = frand((size_t)k * k * s->c, -1.0f / k, 1.0f / k), *bd = frand((size_t)s->c, -0.1f, 0.1f);
    int tw = gb_tensor_q(&n->b, "dw_w", EV_DTYPE_F32, 4, w_dims, wd, 0.0f, 0);
    int tb = gb_tensor_q(&n->b, "dw_b", EV_DTYPE_F32, 1, b_dims, bd, 0.0f, 0);
    s->h = ev_conv_out_size(pad, s->h, k, stride, 1);
    s->w = ev_conv_out_size(pad, s->w, k, stride, 1);
    *out = tensor(n, "dw", *s);
    ev_conv_params p = {pad, stride, stride, 1, 1, 1, act};
    int op = gb_op_conv(&n->b, EV_OP_DEPTHWISE_CONV_2D, in, tw, tb, *out, p);
    n->K += k * k;
    free(wd), free(bd);
    return op;
}

/* A k x k SAME stride-1 conv of `in` (shape *s) to cout channels (*s updated); returns the op. */
static int pw(dwnet *n, int in, shp *s, int cout, int k, ev_activation act, int *out) {
    int w_dims[4] = {cout, k, k, s->c}, b_dims[1] = {cout};
    float scale = 1.0f / sqrtf((float)(k * k * s->c));
    float *wd = frand((size_t)cout * k * k * s->c, -scale, scale), *bd = frand((size_t)cout, -0.1f, 0.1f);
    int tw = gb_tensor_q(&n->b, "pw_w", EV_DTYPE_F32, 4, w_dims, wd, 0.0f, 0);
    int tb = gb_tensor_q(&n->b, "pw_b", EV_DTYPE_F32, 1, b_dims, bd, 0.0f, 0);
    n->K += (double)k * k * s->c;
    s->c = cout;
    *out = tensor(n, "pw", *s);
    ev_conv_params p = {EV_PAD_SAME, 1, 1, 1, 1, 1, act};
    int op = gb_op_conv(&n->b, EV_OP_CONV_2D, in, tw, tb, *out, p);
    free(wd), free(bd);
    return op;
}

/* Finishes n's graph (input x, outputs outs) and checks on the cpu backend that each op listed
 * in n->fusable (only those of type only_op, when given) names the op it absorbs, and no other
 * does; without only_op, a 1x1 that runs the direct first-layer kernel fuses nothing. */
static ev_model *finish_fused(dwnet *n, int x, int *outs, const char *only_op, const char *what,
                              int v) {
    gb_inputs(&n->b, 1, &x);
    gb_outputs(&n->b, n->nout, outs);
    ev_model *m = NULL;
    if (gb_finish(&n->b, &m) != EV_OK) return NULL;
    int nops = ev_model_num_ops(m);
    ev_kernel_report *rep = calloc((size_t)nops, sizeof *rep);
    ev_session_options o;
    ev_session_options_init(&o);
    o.backend = "cpu";
    CHECK(ev_backend_kernels(m, &o, rep, nops) == EV_OK);
    for (int i = 0; i < nops; i++) {
        if (only_op && strcmp(ev_model_op_name(m, i), only_op) != 0) continue;
        const char *pl = strstr(rep[i].kernel, " + op ");
        int got = pl ? atoi(pl + 6) : -1, want = -1;
        for (int k = 0; k < n->n_fusable; k++)
            if (n->fusable[k][0] == i) want = n->fusable[k][1];
        /* a 1x1 of 1-4 input channels may run the direct first-layer kernel (where the ISA
         * path has one), which fuses nothing: its ADD then runs on its own */
        if (!only_op && strstr(rep[i].kernel, "conv_first")) want = -1;
        CHECK_MSG(got == want, "%s variant %d op %d: kernel '%s', want absorbed op %d\n", what,
                  v, i, rep[i].kernel, want);
    }
    free(rep);
    return m;
}

static ev_model *build_dw(dwnet *n, int v, int *in_elems) {
    memset(n, 0, sizeof *n);
    gb_init(&n->b);
    shp s = {1 + (v % 3 == 2), rint_(7, 24), rint_(7, 40), rint_(1, 70)};
    int x = tensor(n, "x", s);
    *in_elems = s.n * s.h * s.w * s.c;
    int outs[4], t, u, w;
    /* two fusable pairs */
    for (int pair = 0; pair < 2; pair++) {
        int stride = rint_(1, 2), k = pair == 1 && v % 2 ? 5 : 3;
        ev_padding pad = rint_(0, 1) ? EV_PAD_SAME : EV_PAD_VALID;
        int d = dw(n, pair ? u : x, &s, k, stride, pad, rand_act(), &t);
        int p = pw(n, t, &s, rint_(1, 70), 1, rand_act(), &u);
        n->fusable[n->n_fusable][0] = d, n->fusable[n->n_fusable][1] = p, n->n_fusable++;
    }
    /* MobileNetV2's residual block: u -> dw -> 1x1 (no activation) -> ADD(u): the depthwise
     * absorbs the 1x1, which absorbs the ADD */
    {
        int d = dw(n, u, &s, 3, 1, EV_PAD_SAME, rand_act(), &t);
        const int cin = s.c;
        int p = pw(n, t, &s, cin, 1, EV_ACT_NONE, &w);
        int sum = tensor(n, "sum", s), ins[2] = {v % 2 ? u : w, v % 2 ? w : u};
        int a = gb_op(&n->b, EV_OP_ADD, "ADD", 0, 2, ins, 1, &sum);
        if (a >= 0) n->b.g.ops[a].p.add.activation = rand_act();
        n->fusable[n->n_fusable][0] = d, n->fusable[n->n_fusable][1] = p, n->n_fusable++;
        n->fusable[n->n_fusable][0] = p, n->fusable[n->n_fusable][1] = a, n->n_fusable++;
        u = sum;
    }
    /* a depthwise output read by two 1x1s */
    dw(n, u, &s, 3, 1, EV_PAD_SAME, rand_act(), &t);
    shp s2 = s;
    int a, c;
    pw(n, t, &s, rint_(1, 40), 1, rand_act(), &a);
    pw(n, t, &s2, rint_(1, 40), 1, rand_act(), &c);
    outs[n->nout] = c, n->out_elems[n->nout++] = (size_t)s2.n * s2.h * s2.w * s2.c;
    /* a depthwise feeding a 3x3 conv */
    dw(n, a, &s, 3, 1, EV_PAD_SAME, rand_act(), &t);
    pw(n, t, &s, rint_(1, 40), 3, rand_act(), &u);
    /* a depthwise output that is also a graph output, read by a 1x1 */
    dw(n, u, &s, 3, rint_(1, 2), EV_PAD_SAME, rand_act(), &t);
    outs[n->nout] = t, n->out_elems[n->nout++] = (size_t)s.n * s.h * s.w * s.c;
    pw(n, t, &s, rint_(1, 40), 1, rand_act(), &u);
    outs[n->nout] = u, n->out_elems[n->nout++] = (size_t)s.n * s.h * s.w * s.c;
    /* inspect: the fusable depthwise ops (and only they) name their 1x1 */
    return finish_fused(n, x, outs, NULL, "dw", v);
}

/* Every graph output of `got` against `ref`: 1e-5 of max|ref| and the element-wise bound. */
static void check_outputs(const dwnet *n, const float *got, const float *ref, int v,
                          const char *isa, int threads, const char *how) {
    const double u = 1.0 / 16777216.0;
    size_t off = 0;
    for (int o = 0; o < n->nout; o++) {
        const float *y = got + off, *r = ref + off;
        double maxr = 0, maxe = 0;
        for (size_t i = 0; i < n->out_elems[o]; i++) {
            if (fabs(r[i]) > maxr) maxr = fabs(r[i]);
            double e = fabs((double)y[i] - r[i]);
            if (!(e <= maxe)) maxe = e;
        }
        double bound = 8.0 * (n->K + 1) * u * (maxr > 1 ? maxr : 1);
        CHECK_MSG(maxe <= 1e-5 * maxr && maxe <= bound,
                  "dw variant %d output %d %s %d threads, %s: max error %.3g, max|ref| %.3g, "
                  "bound %.3g\n", v, o, isa, threads, how, maxe, maxr, bound);
        off += n->out_elems[o];
    }
}

/* Model m (built as n) on every ISA path and 1-3 threads, fused and with the callback (unfused),
 * against ref: every graph output, and every conv output the callback sees. */
static void check_net(const dwnet *n_, ev_model *m, int in_elems, int v) {
    const dwnet n = *n_;
    ev_isa paths[8];
    int np = ev_cpu_isa_paths(paths, 8);
    {
        float *in = frand((size_t)in_elems, -2, 2);
        const void *ins[1] = {in};
        size_t bytes[1] = {(size_t)in_elems * sizeof(float)}, total = 0;
        for (int o = 0; o < n.nout; o++) total += n.out_elems[o] * sizeof(float);
        capture rc = {m, {0}, {0}};
        void *ref = NULL;
        size_t rn = 0;
        ev_run_opts ro = {.backend = "ref", .cb = capture_cb, .cb_user = &rc};
        CHECK(ev_test_run_copy(m, &ro, 1, ins, bytes, 1, &ref, &rn) == EV_OK && rn == total);
        for (int p = 0; p < np; p++)
            for (int threads = 1; threads <= 3; threads++) {
                const char *isa = ev_isa_name(paths[p]);
                void *got = NULL;
                size_t gn = 0;
                ev_run_opts co = {.backend = "cpu", .threads = threads, .isa = isa};
                CHECK(ev_test_run_copy(m, &co, 1, ins, bytes, 1, &got, &gn) == EV_OK);
                if (got && ref && gn == rn && rn == total)
                    check_outputs(&n, got, ref, v, isa, threads, "fused");
                free(got);
                capture cc = {m, {0}, {0}};
                ev_run_opts uo = {.backend = "cpu", .threads = threads, .isa = isa,
                                  .cb = capture_cb, .cb_user = &cc};
                got = NULL;
                CHECK(ev_test_run_copy(m, &uo, 1, ins, bytes, 1, &got, &gn) == EV_OK);
                if (got && ref && gn == rn && rn == total)
                    check_outputs(&n, got, ref, v, isa, threads, "unfused");
                for (int op = 0; op < 64; op++) {
                    if (!rc.conv_out[op]) continue;
                    CHECK(cc.conv_out[op] && cc.bytes[op] == rc.bytes[op]);
                    if (cc.conv_out[op] && cc.bytes[op] == rc.bytes[op]) {
                        double e = rel_err(cc.conv_out[op], rc.conv_out[op],
                                           rc.bytes[op] / sizeof(float));
                        CHECK_MSG(e <= 1e-5, "dw variant %d op %d seen by the callback: %.3g\n",
                                  v, op, e);
                    }
                    free(cc.conv_out[op]);
                }
                free(got);
            }
        for (int op = 0; op < 64; op++) free(rc.conv_out[op]);
        free(ref);
        free(in);
    }
}

/* Builds variants [0, count) with build() and checks each (seeds from seed0). */
static void check_variants(ev_model *(*build)(dwnet *, int, int *), int count, int seed0) {
    for (int v = 0; v < count; v++) {
        int in_elems = 0;
        dwnet n;
        ev_model *m = build(&n, v, &in_elems);
        CHECK(m != NULL);
        if (!m) continue;
        check_net(&n, m, in_elems, seed0 + v);
        ev_model_free(m);
    }
}

static void test_dw_pointwise(void) { check_variants(build_dw, 8, 0); }

/* ---- PAD -> conv (pad_fold.c) ----------------------------------------------------------- */

/* PAD of `in` (shape *s, updated) by random zero pads of 0..3 before and after H and W. */
static int pad(dwnet *n, int in, shp *s, int *out) {
    int32_t v[8] = {0, 0, rint_(0, 3), rint_(0, 3), rint_(0, 3), rint_(0, 3), 0, 0};
    int pd[2] = {4, 2};
    int tp = gb_tensor(&n->b, "pads", EV_DTYPE_I32, 2, pd, v, sizeof v, 0, NULL, NULL, 0);
    s->h += v[2] + v[3];
    s->w += v[4] + v[5];
    *out = tensor(n, "padded", *s);
    int ins[2] = {in, tp};
    return gb_op(&n->b, EV_OP_PAD, "PAD", 34, 2, ins, 1, out);
}

/* A k x k conv of `in` (shape *s, updated) to cout channels, stride and padding as given
 * (SAME when VALID leaves nothing); returns the op. */
static int cv(dwnet *n, int in, shp *s, int cout, int k, int stride, ev_padding padding,
              int *out) {
    if (ev_conv_out_size(padding, s->h, k, stride, 1) < 1 ||
        ev_conv_out_size(padding, s->w, k, stride, 1) < 1)
        padding = EV_PAD_SAME;
    int w_dims[4] = {cout, k, k, s->c}, b_dims[1] = {cout};
    float scale = 1.0f / sqrtf((float)(k * k * s->c));
    float *wd = frand((size_t)cout * k * k * s->c, -scale, scale);
    float *bd = frand((size_t)cout, -0.1f, 0.1f);
    int tw = gb_tensor_q(&n->b, "cv_w", EV_DTYPE_F32, 4, w_dims, wd, 0.0f, 0);
    int tb = gb_tensor_q(&n->b, "cv_b", EV_DTYPE_F32, 1, b_dims, bd, 0.0f, 0);
    n->K += (double)k * k * s->c;
    s->h = ev_conv_out_size(padding, s->h, k, stride, 1);
    s->w = ev_conv_out_size(padding, s->w, k, stride, 1);
    s->c = cout;
    *out = tensor(n, "cv", *s);
    ev_conv_params p = {padding, stride, stride, 1, 1, 1, rand_act()};
    int op = gb_op_conv(&n->b, EV_OP_CONV_2D, in, tw, tb, *out, p);
    free(wd), free(bd);
    return op;
}

/* x -> PAD -> (a first-layer conv of 1-4 channels | a conv | a depthwise -> 1x1 | a depthwise)
 * -> PAD whose output is also a graph output -> conv -> PAD -> depthwise (graph output): the
 * first and last PAD fold into their conv (inspect names it), the middle one does not. */
static ev_model *build_pad(dwnet *n, int v, int *in_elems) {
    memset(n, 0, sizeof *n);
    gb_init(&n->b);
    const int kind = v % 4;
    shp s = {1 + (v % 5 == 4), rint_(4, 30), rint_(4, 40), kind == 0 ? rint_(1, 4) : rint_(1, 48)};
    /* variants 1 and 9: the conv's shape the split line takes (32-channel groups, 144+ output
     * pixels at stride 1), reading through the PAD */
    const int split = kind == 1 && v % 8 == 1;
    if (split) s.c = 32 * rint_(1, 2), s.h = rint_(18, 30), s.w = rint_(18, 30);
    int x = tensor(n, "x", s);
    *in_elems = s.n * s.h * s.w * s.c;
    int outs[4], t, u, w;
    int p = pad(n, x, &s, &t);
    int stride = split ? 1 : rint_(1, 2);
    ev_padding padding = rint_(0, 1) ? EV_PAD_SAME : EV_PAD_VALID;
    int c;
    if (kind <= 1) {
        static const int ks[] = {1, 3, 5, 7};
        c = cv(n, t, &s, rint_(1, 70), ks[rint_(kind == 0 ? 1 : 0, 3)], stride, padding, &u);
    } else {
        c = dw(n, t, &s, rint_(0, 1) ? 3 : 5, stride, padding, rand_act(), &u);
        if (kind == 2) pw(n, u, &s, rint_(1, 70), 1, rand_act(), &u);
    }
    n->fusable[n->n_fusable][0] = p, n->fusable[n->n_fusable][1] = c, n->n_fusable++;
    pad(n, u, &s, &t); /* also a graph output: not folded */
    outs[n->nout] = t, n->out_elems[n->nout++] = (size_t)s.n * s.h * s.w * s.c;
    cv(n, t, &s, rint_(1, 40), 3, rint_(1, 2), EV_PAD_VALID, &u);
    p = pad(n, u, &s, &t);
    c = dw(n, t, &s, 3, rint_(1, 2), EV_PAD_VALID, rand_act(), &w);
    n->fusable[n->n_fusable][0] = p, n->fusable[n->n_fusable][1] = c, n->n_fusable++;
    outs[n->nout] = w, n->out_elems[n->nout++] = (size_t)s.n * s.h * s.w * s.c;
    return finish_fused(n, x, outs, "PAD", "pad", v);
}

static void test_pad_fold(void) { check_variants(build_pad, 12, 100); }

/* A k x k max pool of `in` (shape *s, updated), stride and padding as given; returns the op. */
static int maxpool(dwnet *n, int in, shp *s, int k, int stride, ev_padding padding, int *out) {
    if (ev_conv_out_size(padding, s->h, k, stride, 1) < 1 ||
        ev_conv_out_size(padding, s->w, k, stride, 1) < 1)
        padding = EV_PAD_SAME;
    s->h = ev_conv_out_size(padding, s->h, k, stride, 1);
    s->w = ev_conv_out_size(padding, s->w, k, stride, 1);
    *out = tensor(n, "pool", *s);
    int op = gb_op(&n->b, EV_OP_MAX_POOL_2D, "MAX_POOL_2D", 17, 1, &in, 1, out);
    if (op >= 0)
        n->b.g.ops[op].p.pool = (ev_pool_params){padding, stride, stride, k, k, rand_act()};
    return op;
}

/* x -> PAD -> VALID max pool (folded: the pool reads x, the padded taps as zeros; x spans
 * [-2, 2], so windows of negative values and padding give 0) -> PAD -> SAME max pool (not
 * folded: SAME ignores padded taps where PAD's are zeros), both pools graph outputs. Max pools
 * are exact: the bound with K = 0 asks for ref's values to the last bit but for 8 ulp. */
static ev_model *build_pad_pool(dwnet *n, int v, int *in_elems) {
    memset(n, 0, sizeof *n);
    gb_init(&n->b);
    shp s = {1 + (v % 4 == 3), rint_(3, 30), rint_(3, 40), rint_(1, 70)};
    int x = tensor(n, "x", s);
    *in_elems = s.n * s.h * s.w * s.c;
    int outs[4], t, u;
    int p = pad(n, x, &s, &t);
    int c = maxpool(n, t, &s, rint_(2, 3), rint_(1, 2), EV_PAD_VALID, &u);
    if (n->b.g.ops[c].p.pool.padding == EV_PAD_VALID)
        n->fusable[n->n_fusable][0] = p, n->fusable[n->n_fusable][1] = c, n->n_fusable++;
    outs[n->nout] = u, n->out_elems[n->nout++] = (size_t)s.n * s.h * s.w * s.c;
    pad(n, u, &s, &t);
    maxpool(n, t, &s, 3, rint_(1, 2), EV_PAD_SAME, &u);
    outs[n->nout] = u, n->out_elems[n->nout++] = (size_t)s.n * s.h * s.w * s.c;
    return finish_fused(n, x, outs, "PAD", "pad-pool", v);
}

static void test_pad_pool_fold(void) { check_variants(build_pad_pool, 12, 200); }

/* The memory plan's in-place ADD (core/plan.c): on in -> a, in -> b, z = ADD(b, a), the ADD's
 * output takes the bytes of a (the older operand) when a is read there for the last time, has
 * the ADD's shape, and no op between z's early writer and the ADD reads it; else z is apart. */
enum { PLAN_MAX_T = 16 };
typedef struct plan_case {
    int read_a_later;  /* another op reads a after the ADD                          */
    int broadcast;     /* a is [1,1,1,4] (the ADD broadcasts it)                    */
    int fused_reader;  /* the ADD is written early by op 1, which reads a           */
    int chain;         /* a second residual ADD on z: z2 = ADD(RELU(z), z)          */
} plan_case;

static void plan_check(plan_case pc, int want_alias) {
    gb b;
    gb_init(&b);
    int full[4] = {1, 8, 8, 4}, small[4] = {1, 1, 1, 4};
    int in = gb_tensor_q(&b, "in", EV_DTYPE_F32, 4, full, NULL, 0.0f, 0);
    int a = gb_tensor_q(&b, "a", EV_DTYPE_F32, 4, pc.broadcast ? small : full, NULL, 0.0f, 0);
    int t1 = gb_tensor_q(&b, "b", EV_DTYPE_F32, 4, full, NULL, 0.0f, 0);
    int z = gb_tensor_q(&b, "z", EV_DTYPE_F32, 4, full, NULL, 0.0f, 0);
    int out = gb_tensor_q(&b, "out", EV_DTYPE_F32, 4, full, NULL, 0.0f, 0);
    int extra = gb_tensor_q(&b, "extra", EV_DTYPE_F32, 4, pc.broadcast ? small : full, NULL,
                            0.0f, 0);
    int c = gb_tensor_q(&b, "c", EV_DTYPE_F32, 4, full, NULL, 0.0f, 0);
    int z2 = gb_tensor_q(&b, "z2", EV_DTYPE_F32, 4, full, NULL, 0.0f, 0);
    /* any unary op will do: the plan reads only op types and tensors */
    gb_op(&b, EV_OP_RELU, "a", 0, 1, &in, 1, &a);
    gb_op(&b, EV_OP_RELU, "b", 0, 1, &in, 1, &t1);
    if (pc.fused_reader) { /* op 1 reads a too: the fused writer of z would overwrite it */
        b.g.ops[1].inputs[0] = a;
    }
    int add_in[2] = {t1, a};
    int add = gb_op(&b, EV_OP_ADD, "add", 0, 2, add_in, 1, &z);
    int last = z;
    if (pc.chain) {
        gb_op(&b, EV_OP_RELU, "c", 0, 1, &z, 1, &c);
        int in2[2] = {c, z};
        gb_op(&b, EV_OP_ADD, "add2", 0, 2, in2, 1, &z2);
        last = z2;
    }
    gb_op(&b, EV_OP_RELU, "out", 0, 1, &last, 1, &out);
    if (pc.read_a_later) gb_op(&b, EV_OP_RELU, "extra", 0, 1, &a, 1, &extra);
    gb_inputs(&b, 1, &in);
    gb_outputs(&b, 1, &out);
    CHECK_MSG(!b.error, "graph: %s", b.msg);
    if (b.error) {
        gb_release(&b);
        return;
    }
    int early[PLAN_MAX_T];
    for (int i = 0; i < PLAN_MAX_T; i++) early[i] = -1;
    if (pc.fused_reader) early[add] = 1;
    size_t off[PLAN_MAX_T], arena = 0;
    CHECK(b.g.num_tensors <= PLAN_MAX_T && b.g.num_ops <= PLAN_MAX_T);
    CHECK(ev_plan_memory(&b.g, early, off, &arena, NULL) == EV_OK);
    CHECK_MSG((off[z] == off[a]) == want_alias, "case later %d broadcast %d fused %d chain %d: "
              "z at %zu, a at %zu (want %s)", pc.read_a_later, pc.broadcast, pc.fused_reader,
              pc.chain, off[z], off[a], want_alias ? "shared" : "apart");
    if (pc.chain) CHECK_MSG(off[z2] == off[z], "chained ADD: z2 at %zu, z at %zu", off[z2], off[z]);
    /* the ADD's two operands are alive at once: never in the same bytes */
    CHECK(off[t1] != off[a]);
    gb_release(&b);
}

static void test_plan_in_place_add(void) {
    plan_check((plan_case){0, 0, 0, 0}, 1);
    plan_check((plan_case){0, 0, 0, 1}, 1);
    plan_check((plan_case){1, 0, 0, 0}, 0);
    plan_check((plan_case){0, 1, 0, 0}, 0);
    plan_check((plan_case){0, 0, 1, 0}, 0);
}

int main(void) {
    EV_RUN(test_residual_blocks);
    EV_RUN(test_plan_in_place_add);
    EV_RUN(test_dw_pointwise);
    EV_RUN(test_pad_fold);
    EV_RUN(test_pad_pool_fold);
    return ev_test_finish();
}
