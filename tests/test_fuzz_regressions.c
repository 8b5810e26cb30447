/*
 * test_fuzz_regressions.c - replays every input under fuzz/regressions/<target>/ (crashes the
 * fuzzers found, minimized, and hand-made edge cases) through the same target bodies the
 * fuzzers run (fuzz/targets.c). Under ASan/UBSan (scripts/test.sh runs both builds) a regression
 * that comes back is a sanitizer report or an abort here.
 */
#include "ev_test.h"

#include "../fuzz/targets.h"

#include <dirent.h>

#ifndef EV_SOURCE_DIR
#define EV_SOURCE_DIR "."
#endif

static void test_replay(void) {
    int files = 0;
    for (int t = 0; t < k_num_fuzz_targets; t++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/fuzz/regressions/%s", EV_SOURCE_DIR, k_fuzz_targets[t].name);
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            size_t n = 0;
            unsigned char *buf = ev_test_read(path, &n);
            CHECK_MSG(buf != NULL, "cannot read %s", path);
            if (!buf) continue;
            CHECK_EQ_INT(k_fuzz_targets[t].fn(buf, n), 0);
            free(buf);
            files++;
        }
        closedir(d);
    }
    fprintf(stderr, "  replayed %d regression inputs\n", files);
    CHECK(files > 0);
}

int main(void) {
    EV_RUN(test_replay);
    return ev_test_finish();
}
