/*
 * source.c - benchmark frame sources (see source.h): image files decoded by media/image.c,
 * folders listed once and sorted by name, videos and cameras through ev_video.
 */
#include "bench/source.h"

#include "core/status.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct ev_source {
    ev_source_kind kind;
    char *path;
    int loop;
    char **files; /* folder: image paths, sorted */
    int nfiles, next_file;
    ev_video *video;
    long delivered;
};

ev_source_kind ev_source_get_kind(const ev_source *s) { return s->kind; }
long ev_source_delivered(const ev_source *s) { return s ? s->delivered : 0; }
double ev_source_fps(const ev_source *s) { return s && s->video ? ev_video_fps(s->video) : 0.0; }

const char *ev_source_kind_name(ev_source_kind k) {
    switch (k) {
    case EV_SOURCE_IMAGE: return "image";
    case EV_SOURCE_FOLDER: return "folder";
    case EV_SOURCE_VIDEO: return "video";
    case EV_SOURCE_CAMERA: return "camera";
    }
    return "?";
}

void ev_source_free(ev_source *s) {
    if (!s) return;
    for (int i = 0; i < s->nfiles; i++) free(s->files[i]);
    free(s->files);
    ev_video_free(s->video);
    free(s->path);
    free(s);
}

static int is_image_name(const char *name) {
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp", NULL};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (int i = 0; exts[i]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ev_status list_folder(ev_source *s) {
    DIR *d = opendir(s->path);
    if (!d) return EV_FAIL(EV_ERR_IO, "%s: cannot list folder: %s", s->path, strerror(errno));
    struct dirent *e;
    int cap = 0;
    ev_status st = EV_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !is_image_name(e->d_name)) continue;
        if (s->nfiles == cap) {
            cap = cap ? cap * 2 : 16;
            char **f = realloc(s->files, (size_t)cap * sizeof *f);
            if (!f) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                break;
            }
            s->files = f;
        }
        size_t n = strlen(s->path) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (!p) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            break;
        }
        snprintf(p, n, "%s/%s", s->path, e->d_name);
        s->files[s->nfiles++] = p;
    }
    closedir(d);
    if (st != EV_OK) return st;
    if (s->nfiles == 0)
        return EV_FAIL(EV_ERR_IO, "%s: no images (.jpg .jpeg .png .bmp) in this folder", s->path);
    qsort(s->files, (size_t)s->nfiles, sizeof *s->files, cmp_str);
    return EV_OK;
}

ev_status ev_source_open(const char *path, int loop, ev_source **out) {
    if (!path || !out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_source_open: NULL argument");
    *out = NULL;
    ev_source *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    s->loop = loop;
    ev_status st = EV_OK;
    struct stat sb;
    if (strncmp(path, "/dev/video", 10) == 0) {
        s->kind = EV_SOURCE_CAMERA;
        st = ev_video_open(path, &s->video);
    } else if (stat(path, &sb) != 0) {
        st = EV_FAIL(EV_ERR_IO, "%s: cannot open input: %s", path, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        s->kind = EV_SOURCE_FOLDER;
        st = list_folder(s);
    } else if (ev_video_path_is_video(path)) {
        s->kind = EV_SOURCE_VIDEO;
        st = ev_video_open(path, &s->video);
    } else {
        s->kind = EV_SOURCE_IMAGE;
    }
    if (st != EV_OK) {
        ev_source_free(s);
        return st;
    }
    *out = s;
    return EV_OK;
}

ev_status ev_source_next(ev_source *s, ev_image **img) {
    if (!s || !img) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_source_next: NULL argument");
    *img = NULL;
    switch (s->kind) {
    case EV_SOURCE_IMAGE: EV_TRY(ev_image_load(s->path, img)); break;
    case EV_SOURCE_FOLDER:
        EV_TRY(ev_image_load(s->files[s->next_file], img));
        s->next_file = (s->next_file + 1) % s->nfiles;
        break;
    case EV_SOURCE_VIDEO:
    case EV_SOURCE_CAMERA:
        EV_TRY(ev_video_read(s->video, img));
        if (!*img && s->loop && s->kind == EV_SOURCE_VIDEO && ev_video_frames_read(s->video) > 0) {
            EV_TRY(ev_video_rewind(s->video));
            EV_TRY(ev_video_read(s->video, img));
        }
        break;
    }
    if (*img) s->delivered++;
    return EV_OK;
}
