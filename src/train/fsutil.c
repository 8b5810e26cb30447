/*
 * fsutil.c - see fsutil.h. Every failure names the path and the system's reason.
 */
#include "train/fsutil.h"

#include "core/status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ev_status ev_tr_mkdirs(const char *dir) {
    if (!dir || !*dir) return EV_FAIL(EV_ERR_INVALID_ARG, "empty directory name");
    char *p = strdup(dir);
    if (!p) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c == '/' || c == '\0') {
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                ev_status st = EV_FAIL(EV_ERR_IO, "cannot create directory %s: %s", p,
                                       strerror(errno));
                free(p);
                return st;
            }
            if (!ev_tr_is_dir(p)) {
                ev_status st = EV_FAIL(EV_ERR_IO, "%s exists and is not a directory", p);
                free(p);
                return st;
            }
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    return EV_OK;
}

char *ev_tr_join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (!s) return NULL;
    if (!*a) snprintf(s, n, "%s", b);
    else snprintf(s, n, "%s%s%s", a, a[strlen(a) - 1] == '/' ? "" : "/", b);
    return s;
}

int ev_tr_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ev_tr_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
