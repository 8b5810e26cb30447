/*
 * ev_test.h - the tiny assertion harness every test uses.
 *
 * A test file defines test functions and calls them from main through EV_RUN. CHECK* record a
 * failure (with file/line and values) and go on; the summary line "N passed, N failed" closes
 * the output. ev_test_shared() finds ../shared (or $EDGEVISION_SHARED); EV_REQUIRE_FILE skips the
 * current test function, loudly, when data is absent. main returns 1 on any failure, 77 when
 * every check was skipped, 0 otherwise.
 */
#ifndef EV_TEST_H
#define EV_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int ev_t_pass, ev_t_fail, ev_t_skip, ev_t_cur_fail;

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (cond) {                                                                               \
            ev_t_pass++;                                                                          \
        } else {                                                                                  \
            ev_t_fail++;                                                                          \
            ev_t_cur_fail++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
        }                                                                                         \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                      \
    do {                                                                                          \
        if (cond) {                                                                               \
            ev_t_pass++;                                                                          \
        } else {                                                                                  \
            ev_t_fail++;                                                                          \
            ev_t_cur_fail++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fputc('\n', stderr);                                                                  \
        }                                                                                         \
    } while (0)

#define CHECK_OK(call)                                                                            \
    do {                                                                                          \
        ev_status ev_t_s_ = (call);                                                               \
        CHECK_MSG(ev_t_s_ == EV_OK, "%s -> %s: %s", #call, ev_status_string(ev_t_s_),            \
                  ev_last_error());                                                               \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                        \
    do {                                                                                          \
        long long ev_t_a_ = (long long)(a), ev_t_b_ = (long long)(b);                             \
        CHECK_MSG(ev_t_a_ == ev_t_b_, "%lld != %lld", ev_t_a_, ev_t_b_);                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                     \
    do {                                                                                          \
        double ev_t_a_ = (double)(a), ev_t_b_ = (double)(b);                                      \
        CHECK_MSG(fabs(ev_t_a_ - ev_t_b_) <= (tol), "%.9g vs %.9g (tol %g)", ev_t_a_, ev_t_b_,    \
                  (double)(tol));                                                                 \
    } while (0)

static inline const char *ev_test_shared(void) {
    const char *s = getenv("EDGEVISION_SHARED");
#ifdef EV_SHARED_DEFAULT
    return s && *s ? s : EV_SHARED_DEFAULT;
#else
    return s && *s ? s : "../shared";
#endif
}

/* Writes "<shared>/<rel>" into buf. */
static inline const char *ev_test_path(char *buf, size_t n, const char *rel) {
    snprintf(buf, n, "%s/%s", ev_test_shared(), rel);
    return buf;
}

static inline int ev_test_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

#define EV_REQUIRE_FILE(path)                                                                     \
    do {                                                                                          \
        if (!ev_test_exists(path)) {                                                              \
            fprintf(stderr, "SKIP %s: data absent: %s (set EDGEVISION_SHARED)\n", __func__,      \
                    (path));                                                                      \
            ev_t_skip++;                                                                          \
            return;                                                                               \
        }                                                                                         \
    } while (0)

/* Skips the current test function, loudly, for a reason other than absent data. */
#define EV_SKIP(why)                                                                              \
    do {                                                                                          \
        fprintf(stderr, "SKIP %s: %s\n", __func__, (why));                                       \
        ev_t_skip++;                                                                              \
        return;                                                                                   \
    } while (0)

#define EV_RUN(fn)                                                                                \
    do {                                                                                          \
        ev_t_cur_fail = 0;                                                                        \
        int ev_t_p0_ = ev_t_pass, ev_t_s0_ = ev_t_skip;                                           \
        fn();                                                                                     \
        fprintf(stderr, "%-5s %s (%d checks)\n",                                                  \
                ev_t_cur_fail ? "FAIL" : (ev_t_skip > ev_t_s0_ ? "SKIP" : "ok"), #fn,            \
                ev_t_pass - ev_t_p0_ + ev_t_cur_fail);                                            \
    } while (0)

static inline int ev_test_finish(void) {
    printf("%d passed, %d failed, %d skipped\n", ev_t_pass, ev_t_fail, ev_t_skip);
    if (ev_t_fail) return 1;
    if (ev_t_pass == 0 && ev_t_skip > 0) return 77;
    return 0;
}

/* Reads a whole file, with a NUL after its last byte (so text searches stop there); returns
 * NULL if absent. */
static inline unsigned char *ev_test_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) n = 0;
    unsigned char *b = malloc((size_t)n + 1);
    if (b) b[n] = 0;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

#endif
