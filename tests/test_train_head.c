/*
 * test_train_head.c - the trainable head against hand-computed values and finite differences:
 * SHA-1 vectors, the logit-form binary cross-entropy, a tiny network's loss and accuracy worked
 * out by hand, backward against central differences of a double-precision forward (with and
 * without dropout masks), two Adam steps against values computed from Keras's formula, glorot
 * limits, and bit-identical training for one seed.
 */
#include "ev_test.h"

#include "edgevision.h"
#include "train/fsutil.h"
#include "util/file.h"
#include "train/head.h"
#include "util/sha1.h"
#include "train/trainer.h"

#include <unistd.h>

static void test_sha1(void) {
    char h[41];
    ev_sha1_hex("abc", 3, h);
    CHECK(strcmp(h, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);
    ev_sha1_hex("", 0, h);
    CHECK(strcmp(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709") == 0);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ev_sha1_hex(m, strlen(m), h);
    CHECK(strcmp(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1") == 0);
}

static void test_bce(void) {
    CHECK_NEAR(ev_bce_logit(0.0f, 1), 0.6931471805599453, 1e-6);
    CHECK_NEAR(ev_bce_logit(0.0f, 0), 0.6931471805599453, 1e-6);
    CHECK_NEAR(ev_bce_logit(2.0f, 0), 2.1269280110429727, 1e-6);
    CHECK_NEAR(ev_bce_logit(-3.0f, 1), 3.048587351573742, 1e-6);
    /* Huge logits stay finite (the reason for the logit form). */
    CHECK_NEAR(ev_bce_logit(200.0f, 0), 200.0, 1e-3);
    CHECK_NEAR(ev_bce_logit(200.0f, 1), 0.0, 1e-6);
    /* The clip form saturates at -log(1e-7). */
    CHECK_NEAR(ev_bce_prob(0.0, 1), 16.11809565095832, 1e-9);
    CHECK_NEAR(ev_bce_prob(0.8, 1), 0.2231435513142097, 1e-12);
}

/* in 2 -> hidden 1 (sigmoid) -> 1, weights set by hand. */
static void test_tiny_known_case(void) {
    int hidden[1] = {1};
    ev_mlp m;
    CHECK_OK(ev_mlp_create(&m, 2, hidden, 1, 0.0f));
    CHECK_EQ_INT(m.nparams, 2 + 1 + 1 + 1);
    float *p = m.params; /* W1 [2][1], b1 [1], W2 [1][1], b2 [1] */
    p[0] = 1.0f, p[1] = -1.0f, p[2] = 0.0f, p[3] = 4.0f, p[4] = -2.0f;
    float x[6] = {0, 0, 1, 0, 0, 1};
    int y[3] = {0, 1, 1}, rows[3] = {0, 1, 2};
    /* h = sigmoid(x0 - x1): 0.5, sigmoid(1) = 0.7310585786, sigmoid(-1) = 0.2689414214;
     * z = 4h - 2: 0, 0.9242343145, -0.9242343145;
     * loss: ln 2 = 0.6931471806 (y=0, z=0), log(1+e^-0.924234) = 0.3341990, 1.2584333;
     * accuracy: p(z=0) = 0.5 is not > 0.5 -> predicted 0, right; sample 2 right; 3 wrong. */
    ev_mlp_work w;
    CHECK_OK(ev_mlp_work_create(&w, &m, 2));
    double loss, acc;
    float logits[3];
    ev_fit_evaluate(&m, &w, x, y, rows, 3, &loss, &acc, logits);
    CHECK_NEAR(logits[0], 0.0, 1e-6);
    CHECK_NEAR(logits[1], 0.9242343145, 1e-6);
    CHECK_NEAR(logits[2], -0.9242343145, 1e-6);
    double l1 = log1p(exp(-0.9242343145)), l2 = 0.9242343145 + l1;
    CHECK_NEAR(loss, (0.6931471806 + l1 + l2) / 3, 1e-6);
    CHECK_NEAR(loss, 0.7619331, 1e-6);
    CHECK_NEAR(acc, 2.0 / 3.0, 1e-12);
    ev_mlp_work_free(&w);
    ev_mlp_free(&m);
}

/* Double-precision forward with given dropout factors keep[l][b][j] (NULL: none). */
static double ref_loss(const ev_mlp *m, const double *P, const float *x, const int *y,
                       const int *rows, int B, float *const *keep) {
    double a[64], t[64], sum = 0;
    for (int b = 0; b < B; b++) {
        int in = m->in_dim;
        for (int i = 0; i < in; i++) a[i] = x[rows[b] * in + i];
        double z = 0;
        for (int l = 0; l < m->nlayers; l++) {
            int out = m->width[l];
            for (int j = 0; j < out; j++) {
                double s = P[m->b_off[l] + j];
                for (int i = 0; i < in; i++) s += a[i] * P[m->w_off[l] + (size_t)i * out + j];
                t[j] = s;
            }
            if (l == m->nlayers - 1) {
                z = t[0];
                break;
            }
            for (int j = 0; j < out; j++)
                a[j] = 1 / (1 + exp(-t[j])) * (keep ? keep[l][b * out + j] : 1.0);
            in = out;
        }
        int yy = y[rows[b]];
        sum += (z > 0 ? z : 0) - z * yy + log1p(exp(-fabs(z)));
    }
    return sum / B;
}

static void grad_check(float dropout) {
    int hidden[2] = {4, 3};
    ev_mlp m;
    CHECK_OK(ev_mlp_create(&m, 5, hidden, 2, dropout));
    ev_rng rng;
    ev_rng_seed(&rng, 7);
    ev_mlp_init_glorot(&m, &rng);
    for (int l = 0; l < m.nlayers; l++) /* nonzero biases too */
        for (int j = 0; j < m.width[l]; j++) m.params[m.b_off[l] + j] = 0.3f * (float)(j - 1);
    enum { N = 6 };
    float x[N * 5];
    int y[N], rows[N];
    for (int i = 0; i < N * 5; i++) x[i] = 2 * ev_rng_float(&rng) - 1;
    for (int i = 0; i < N; i++) y[i] = i % 2, rows[i] = N - 1 - i;
    ev_mlp_work w;
    CHECK_OK(ev_mlp_work_create(&w, &m, N));
    ev_mlp_forward(&m, &w, x, rows, N, 1, &rng);
    float *grad = malloc(sizeof(float) * m.nparams);
    ev_mlp_backward(&m, &w, x, rows, y, N, grad);
    double *P = malloc(sizeof(double) * m.nparams);
    for (size_t i = 0; i < m.nparams; i++) P[i] = m.params[i];
    int dropped = 0;
    for (int l = 0; l < m.nlayers - 1; l++)
        for (int k = 0; k < N * m.width[l]; k++) dropped += w.keep[l][k] == 0.0f;
    if (dropout > 0) CHECK_MSG(dropped > 0, "no unit dropped at rate %g", (double)dropout);
    double worst = 0;
    for (size_t i = 0; i < m.nparams; i++) {
        const double h = 1e-5;
        double save = P[i];
        P[i] = save + h;
        double lp = ref_loss(&m, P, x, y, rows, N, w.keep);
        P[i] = save - h;
        double lm = ref_loss(&m, P, x, y, rows, N, w.keep);
        P[i] = save;
        double fd = (lp - lm) / (2 * h), err = fabs(fd - grad[i]);
        worst = err > worst ? err : worst;
        CHECK_MSG(err <= 2e-6 + 1e-4 * fabs(fd), "param %zu: analytic %.9g, finite difference %.9g",
                  i, (double)grad[i], fd);
    }
    fprintf(stderr, "  dropout %.1f: %zu parameters, %d dropped units, max |grad - fd| %.3g\n",
            (double)dropout, m.nparams, dropped, worst);
    /* Forward logits agree with the double forward (loss of the same batch). */
    double loss = 0;
    for (int b = 0; b < N; b++) loss += ev_bce_logit(w.z[b], y[rows[b]]);
    CHECK_NEAR(loss / N, ref_loss(&m, P, x, y, rows, N, w.keep), 1e-6);
    free(P), free(grad);
    ev_mlp_work_free(&w);
    ev_mlp_free(&m);
}

static void test_gradients(void) {
    grad_check(0.0f);
    grad_check(0.3f);
}

static void test_dropout_statistics(void) {
    int hidden[1] = {1000};
    ev_mlp m;
    CHECK_OK(ev_mlp_create(&m, 1, hidden, 1, 0.3f));
    ev_mlp_work w;
    CHECK_OK(ev_mlp_work_create(&w, &m, 4));
    ev_rng rng;
    ev_rng_seed(&rng, 3);
    float x[4] = {0};
    int rows[4] = {0, 1, 2, 3};
    ev_mlp_forward(&m, &w, x, rows, 4, 1, &rng);
    int kept = 0, bad = 0;
    for (int k = 0; k < 4000; k++) {
        kept += w.keep[0][k] != 0;
        bad += w.keep[0][k] != 0 && fabsf(w.keep[0][k] - 1 / 0.7f) > 1e-6f;
    }
    /* Binomial(4000, 0.7): mean 2800, sd 29. */
    CHECK_MSG(abs(kept - 2800) < 150, "kept %d of 4000", kept);
    CHECK_EQ_INT(bad, 0);
    ev_mlp_forward(&m, &w, x, rows, 4, 0, NULL); /* inference: nothing dropped */
    kept = 0;
    for (int k = 0; k < 4000; k++) kept += w.keep[0][k] == 1.0f;
    CHECK_EQ_INT(kept, 4000);
    ev_mlp_work_free(&w);
    ev_mlp_free(&m);
}

static void test_adam(void) {
    ev_adam a;
    CHECK_OK(ev_adam_create(&a, 2, 0.001f));
    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, -0.1f};
    ev_adam_step(&a, p, g);
    /* m = 0.1 g = (0.05, -0.01); v = 0.001 g^2 = (2.5e-4, 1e-5);
     * alpha = 0.001 sqrt(1 - 0.999) / (1 - 0.9) = 3.16227766e-4;
     * p -= m alpha / (sqrt(v) + 1e-7) */
    /* float32 like Keras: 1 - 0.9f and 1 - 0.999f are not exact, hence the tolerances. */
    CHECK_NEAR(a.m[0], 0.05, 1e-7);
    CHECK_NEAR(a.v[1], 1e-5, 2e-10);
    CHECK_NEAR(p[0], 0.9990000063245154, 2e-7);
    CHECK_NEAR(p[1], -1.9990000316217766, 2e-7);
    ev_adam_step(&a, p, g);
    /* m = (0.095, -0.019), v = (4.9975e-4, 1.999e-5), alpha = 2.3531672533e-4 */
    CHECK_NEAR(a.m[0], 0.095, 1e-7);
    CHECK_NEAR(a.v[0], 4.9975e-4, 1e-8);
    CHECK_NEAR(p[0], 0.9980000107977498, 2e-7);
    CHECK_NEAR(p[1], -1.9980000539875484, 2e-7);
    CHECK_EQ_INT(a.t, 2);
    /* Keras's epsilon placement: eps is added to the uncorrected sqrt(v). With g = 1e-7 the
     * first step is m alpha / (sqrt(v) + eps) = 1e-8 * 3.1623e-4 / (3.1623e-9 + 1e-7)
     * = 3.0654e-5, where textbook Adam (eps on the corrected sqrt) would step 9.09e-4. */
    ev_adam b;
    CHECK_OK(ev_adam_create(&b, 1, 0.001f));
    float q = 0.0f, gq = 1e-7f;
    ev_adam_step(&b, &q, &gq);
    CHECK_NEAR(q, -3.0654e-5, 2e-8);
    ev_adam_free(&b);
    ev_adam_free(&a);
}

static void test_glorot(void) {
    int hidden[1] = {32};
    ev_mlp m;
    CHECK_OK(ev_mlp_create(&m, 2048, hidden, 1, 0));
    ev_rng rng;
    ev_rng_seed(&rng, 1);
    ev_mlp_init_glorot(&m, &rng);
    CHECK_EQ_INT(m.nparams, 65601); /* the spec's 65,568 + 33 */
    double lim0 = sqrt(6.0 / (2048 + 32)), lim1 = sqrt(6.0 / 33), sq = 0, mx = 0;
    CHECK_NEAR(lim0, 0.05371, 1e-5);
    CHECK_NEAR(lim1, 0.4264, 1e-4);
    size_t n0 = 2048 * 32;
    for (size_t i = 0; i < n0; i++) {
        double v = m.params[i];
        sq += v * v;
        mx = fabs(v) > mx ? fabs(v) : mx;
    }
    CHECK(mx <= lim0 && mx > 0.99 * lim0);
    CHECK_NEAR(sq / n0, lim0 * lim0 / 3, 0.02 * lim0 * lim0 / 3); /* uniform variance */
    for (int j = 0; j < 32; j++) CHECK(m.params[m.b_off[0] + j] == 0.0f);
    for (int j = 0; j < 32; j++) CHECK(fabs(m.params[m.w_off[1] + j]) <= lim1);
    ev_mlp_free(&m);
}

/* Two separable blobs in 16 dimensions. */
static void blobs(float *x, int *y, int n, int dim) {
    ev_rng r;
    ev_rng_seed(&r, 99);
    for (int i = 0; i < n; i++) {
        y[i] = i % 2;
        for (int k = 0; k < dim; k++)
            x[i * dim + k] = (y[i] ? 0.5f : -0.5f) * (k % 3 == 0) + ev_rng_float(&r) - 0.5f;
    }
}

static char *fit_once(const char *dir, uint64_t seed, float dropout, double *val_acc) {
    enum { N = 200, D = 16 };
    static float x[N * D];
    static int y[N], tr[150], va[50];
    blobs(x, y, N, D);
    for (int i = 0; i < 150; i++) tr[i] = i;
    for (int i = 0; i < 50; i++) va[i] = 150 + i;
    int hidden[1] = {8};
    ev_fit_config c = {hidden, 1, dropout, 0.01f, 16, 6, 0, seed, dir, 0, NULL, NULL};
    ev_fit_data d = {x, y, D, tr, va, 150, 50, "blobs"};
    ev_model_meta meta;
    memset(&meta, 0, sizeof meta);
    strcpy(meta.labels[0], "a");
    strcpy(meta.labels[1], "b");
    ev_mlp best;
    ev_fit_result res;
    CHECK_OK(ev_tr_mkdirs(dir));
    CHECK_OK(ev_fit(&c, &d, &meta, &best, &res));
    ev_mlp_work w;
    double l;
    CHECK_OK(ev_mlp_work_create(&w, &best, 32));
    ev_fit_evaluate(&best, &w, x, y, va, 50, &l, val_acc, NULL);
    ev_mlp_work_free(&w);
    ev_mlp_free(&best);
    char path[512];
    snprintf(path, sizeof path, "%s/model.json", dir);
    char *text = NULL;
    size_t len;
    CHECK_OK(ev_read_text(path, &text, &len));
    return text;
}

static void test_seed_reproducible(void) {
    char base[] = "/tmp/ev_train_headXXXXXX";
    CHECK(mkdtemp(base) != NULL);
    char a[600], b[600], c[600];
    snprintf(a, sizeof a, "%s/a", base);
    snprintf(b, sizeof b, "%s/b", base);
    snprintf(c, sizeof c, "%s/c", base);
    double acc_a, acc_b, acc_c;
    char *ja = fit_once(a, 5, 0.3f, &acc_a), *jb = fit_once(b, 5, 0.3f, &acc_b);
    char *jc = fit_once(c, 6, 0.3f, &acc_c);
    CHECK(ja && jb && jc);
    if (ja && jb && jc) {
        CHECK_MSG(strcmp(ja, jb) == 0, "same seed, different model.json");
        CHECK_MSG(strcmp(ja, jc) != 0, "different seeds, same model.json");
    }
    CHECK_MSG(acc_a > 0.9, "validation accuracy on separable blobs %.3f", acc_a);
    free(ja), free(jb), free(jc);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    CHECK(system(cmd) == 0);
}

int main(void) {
    EV_RUN(test_sha1);
    EV_RUN(test_bce);
    EV_RUN(test_tiny_known_case);
    EV_RUN(test_gradients);
    EV_RUN(test_dropout_statistics);
    EV_RUN(test_adam);
    EV_RUN(test_glorot);
    EV_RUN(test_seed_reproducible);
    return ev_test_finish();
}
