/*
 * mem_bw.c - benchmark (not a test): sequential read bandwidth by buffer size, from 1 and from
 * several threads at once, the figures behind "which layers are bound by memory" in
 * docs/performance.md. A layer whose weights (or activations) stream at more bytes per second
 * than the level they live in delivers is bound by it; the level depends on the total bytes a
 * network touches per inference (ResNet50 float: about 100 MB of packed weights) against the
 * caches this machine lets one process keep.
 *
 * Each thread owns its own buffer of SIZE bytes (written once, so its pages exist), reads it
 * once untimed, then, after a barrier, whole REPS times (4 independent 64-byte loads per step, summed so the compiler keeps them),
 * and the wall time of the slowest thread gives total bytes / second. Sizes double from 1 MiB
 * to 512 MiB per thread. Output, one line per (threads, size):
 *
 *   mem_bw threads=2 mib_per_thread=32 gb_s=54.2
 *
 * A buffer read again right after itself stays in whatever cache holds it: the figure for a
 * size is the bandwidth of the level that size fits in (L2, the L3 share, memory).
 *
 * `--latency` measures instead the load-to-use latency of one thread chasing pointers through a
 * buffer of SIZE bytes in random cache-line order (2 MiB pages asked for, as the cpu backend's
 * packed weights are), sizes 1 MiB up: where the latency climbs from the L3's to memory's is the
 * L3 share this process really keeps, which bounds what a float network can leave cached between
 * runs (docs/performance.md, "Float32 ResNet50: memory latency"):
 *
 *   mem_bw mode=latency mib=32 ns=163.4
 *
 * Usage: mem_bw [--threads 1,2] [--max-mib 512] [--latency]. Extend: a write or copy stream is
 * another loop body and a mode=... field.
 */
#include "util/clock.h"

#include <pthread.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64

typedef struct job {
    const uint64_t *buf;
    size_t words;
    int reps;
    uint64_t sum;
    double seconds;
    pthread_barrier_t *start;
} job;

static void *reader(void *arg) {
    job *j = arg;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (int r = -1; r < j->reps; r++) {
        if (r == 0) { /* after one untimed pass: every thread starts the timed ones together */
            pthread_barrier_wait(j->start);
            j->seconds = ev_clock_s();
        }
        for (size_t i = 0; i + 32 <= j->words; i += 32) { /* 4 cache lines per step */
            a += j->buf[i];
            b += j->buf[i + 8];
            c += j->buf[i + 16];
            d += j->buf[i + 24];
        }
    }
    j->seconds = ev_clock_s() - j->seconds;
    j->sum = a + b + c + d;
    return NULL;
}

/* Total GB/s of `threads` threads reading `bytes` each, `reps` times; < 0 on failure. */
static double measure(int threads, size_t bytes, int reps) {
    job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    uint64_t *bufs[MAX_THREADS] = {0};
    pthread_barrier_t start;
    double gbs = -1;
    int made = 0;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int t = 0; t < threads; t++) {
        bufs[t] = aligned_alloc(4096, bytes);
        if (!bufs[t]) goto done;
        memset(bufs[t], t + 1, bytes);
        jobs[t] = (job){bufs[t], bytes / sizeof(uint64_t), reps, 0, 0, &start};
    }
    for (; made < threads; made++)
        if (pthread_create(&tid[made], NULL, reader, &jobs[made]) != 0) break;
    double slowest = 0;
    uint64_t sum = 0;
    for (int t = 0; t < made; t++) {
        pthread_join(tid[t], NULL);
        if (jobs[t].seconds > slowest) slowest = jobs[t].seconds;
        sum += jobs[t].sum;
    }
    if (made == threads && slowest > 0)
        gbs = (double)bytes * reps * threads / slowest / 1e9 + (sum == 1 ? 1e-12 : 0);
done:
    for (int t = 0; t < threads; t++) free(bufs[t]);
    pthread_barrier_destroy(&start);
    return gbs;
}

/* Nanoseconds per dependent load chasing a random cyclic order of the cache lines of `bytes`;
 * < 0 on failure. */
static double latency_ns(size_t bytes) {
    const size_t line = 64, lines = bytes / line;
    char *buf = NULL;
    size_t *order = malloc(lines * sizeof *order);
    if (!order || posix_memalign((void **)&buf, (size_t)2 << 20, bytes) != 0) {
        free(order);
        return -1;
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(buf, bytes, MADV_HUGEPAGE);
#endif
    uint64_t x = 0x9e3779b97f4a7c15ull; /* xorshift: a fixed order, run to run */
    for (size_t i = 0; i < lines; i++) order[i] = i;
    for (size_t i = lines - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const size_t j = (size_t)(x % (i + 1)), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    for (size_t i = 0; i < lines; i++)
        *(void **)(buf + order[i] * line) = buf + order[(i + 1) % lines] * line;
    free(order);
    void *p = buf;
    const size_t warm = lines, steps = 4000000;
    for (size_t i = 0; i < warm; i++) p = *(void **)p; /* one lap untimed: caches warm */
    const double t0 = ev_clock_s();
    for (size_t i = 0; i < steps; i++) p = *(void **)p;
    const double ns = (ev_clock_s() - t0) / (double)steps * 1e9;
    const int keep = p == NULL; /* never: keeps the chase */
    free(buf);
    return ns + keep;
}

int main(int argc, char **argv) {
    int list[8] = {1, 2}, n = 2, max_mib = 512, latency = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            n = 0;
            for (char *p = argv[++i]; *p && n < 8;) {
                int v = (int)strtol(p, &p, 10);
                if (v < 1 || v > MAX_THREADS) {
                    fprintf(stderr, "mem_bw: --threads takes 1..%d\n", MAX_THREADS);
                    return 2;
                }
                list[n++] = v;
                if (*p == ',') p++;
                else if (*p) {
                    fprintf(stderr, "mem_bw: --threads takes a comma list, such as 1,2\n");
                    return 2;
                }
            }
        } else if (strcmp(argv[i], "--max-mib") == 0 && i + 1 < argc) {
            max_mib = atoi(argv[++i]);
            if (max_mib < 1) {
                fprintf(stderr, "mem_bw: --max-mib takes a size of 1 or more\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--latency") == 0) {
            latency = 1;
        } else {
            fprintf(stderr, "usage: %s [--threads 1,2] [--max-mib 512] [--latency]\n", argv[0]);
            return 2;
        }
    }
    if (latency) {
        for (int mib = 1; mib <= max_mib; mib *= 2) {
            const double ns = latency_ns((size_t)mib << 20);
            if (ns < 0) {
                printf("mem_bw mode=latency mib=%d skipped: out of memory\n", mib);
                break;
            }
            printf("mem_bw mode=latency mib=%d ns=%.1f\n", mib, ns);
            fflush(stdout);
        }
        return 0;
    }
    for (int k = 0; k < n; k++)
        for (int mib = 1; mib <= max_mib; mib *= 2) {
            const size_t bytes = (size_t)mib << 20;
            int reps = 2048 / mib;
            if (reps < 3) reps = 3;
            double g = measure(list[k], bytes, reps);
            if (g < 0) {
                printf("mem_bw threads=%d mib_per_thread=%d skipped: out of memory\n", list[k],
                       mib);
                break;
            }
            printf("mem_bw threads=%d mib_per_thread=%d gb_s=%.1f\n", list[k], mib, g);
            fflush(stdout);
        }
    return 0;
}
