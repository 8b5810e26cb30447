/*
 * dataset.c - image lists from disk (see dataset.h): the folder-per-class layout (any depth of
 * source subfolders) and Caltech-256 (NNN.name/NNN_XXXX.jpg, one level, jpg/jpeg only, a list
 * of car-like categories excluded from negatives); layout detection; hashing files in parallel;
 * the manifest TSV. Every directory is listed in sorted order, so lists are the same on every run.
 *
 * Extend: a new layout is a reader next to add_folder()/add_caltech() and a rule in
 * ev_dataset_add_root().
 */
#include "train/dataset.h"

#include "core/status.h"
#include "core/threadpool.h"
#include "train/fsutil.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/sbuf.h"
#include "util/sha1.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 32

static const char *const CALTECH_EXCLUDE_DEFAULT[] = {"252.car-side-101", "072.fire-truck",
                                                      "178.school-bus"};

void ev_tr_note(ev_train_progress_fn fn, void *user, const char *fmt, ...) {
    if (!fn) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ev_train_progress p;
    memset(&p, 0, sizeof p);
    p.stage = EV_TRAIN_NOTE;
    p.message = msg;
    fn(user, &p);
}

static void item_free(ev_item *it) {
    free(it->path);
    free(it->source);
    free(it->why);
}

void ev_dataset_free(ev_dataset *ds) {
    if (!ds) return;
    for (size_t i = 0; i < ds->n; i++) item_free(&ds->items[i]);
    for (size_t i = 0; i < ds->nbad; i++) item_free(&ds->bad[i]);
    free(ds->items);
    free(ds->bad);
    free(ds->label_name[0]);
    free(ds->label_name[1]);
    memset(ds, 0, sizeof *ds);
}

ev_status ev_dataset_push(ev_dataset *ds, const char *path, const char *source, int label,
                          int preset, long number) {
    if (ds->n == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 1024;
        ev_item *it = realloc(ds->items, cap * sizeof *it);
        if (!it) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory listing images");
        ds->items = it;
        ds->cap = cap;
    }
    ev_item *it = &ds->items[ds->n];
    memset(it, 0, sizeof *it);
    it->path = strdup(path);
    it->source = strdup(source);
    if (!it->path || !it->source) {
        item_free(it);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory listing images");
    }
    it->label = label;
    it->preset = preset;
    it->number = number;
    it->split = -1;
    it->ok = 1;
    ds->n++;
    return EV_OK;
}

long ev_file_number(const char *name) {
    const char *dot = strrchr(name, '.');
    const char *end = dot ? dot : name + strlen(name);
    const char *p = end;
    while (p > name && isdigit((unsigned char)p[-1])) p--;
    if (p == end || end - p > 15) return -1;
    long v = 0;
    for (; p < end; p++) v = v * 10 + (*p - '0');
    return v;
}

static int has_ext(const char *name, const char *const *exts) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (; *exts; exts++)
        if (strcasecmp(dot + 1, *exts) == 0) return 1;
    return 0;
}

static const char *const IMAGE_EXTS[] = {"png", "jpg", "jpeg", "bmp", NULL};
static const char *const JPEG_EXTS[] = {"jpg", "jpeg", NULL};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of `dir` (without . and ..). */
static ev_status list_dir(const char *dir, char ***names, size_t *count) {
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return EV_FAIL(EV_ERR_IO, "cannot list %s: %s", dir, strerror(errno));
    size_t cap = 0, n = 0;
    char **v = NULL;
    struct dirent *e;
    ev_status st = EV_OK;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory listing %s", dir);
                break;
            }
            v = nv;
        }
        if (!(v[n] = strdup(e->d_name))) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory listing %s", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (st != EV_OK) {
        for (size_t i = 0; i < n; i++) free(v[i]);
        free(v);
        return st;
    }
    if (n) qsort(v, n, sizeof *v, cmp_str);
    *names = v;
    *count = n;
    return EV_OK;
}

static void free_names(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

typedef struct walk_ctx {
    ev_dataset *ds;
    int label;
    int limit; /* per source folder; 0: all */
} walk_ctx;

/* Adds the images under dir (source = its path relative to the data root) recursively. */
static ev_status walk(walk_ctx *w, const char *dir, const char *source, int depth) {
    if (depth > MAX_DEPTH)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: folders nested deeper than %d levels", dir,
                       MAX_DEPTH);
    char **names;
    size_t n;
    EV_TRY(list_dir(dir, &names, &n));
    ev_status st = EV_OK;
    int taken = 0;
    for (size_t i = 0; i < n && st == EV_OK; i++) {
        char *p = ev_tr_join(dir, names[i]);
        if (!p) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            break;
        }
        if (ev_tr_is_dir(p)) {
            char *src = ev_tr_join(source, names[i]);
            st = src ? walk(w, p, src, depth + 1) : EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            free(src);
        } else if (has_ext(names[i], IMAGE_EXTS) && (!w->limit || taken < w->limit)) {
            st = ev_dataset_push(w->ds, p, source, w->label, -1, ev_file_number(names[i]));
            taken++;
        }
        free(p);
    }
    free_names(names, n);
    return st;
}

static const char *base_name(const char *path, char *buf, size_t n) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    size_t s = len;
    while (s > 0 && path[s - 1] != '/') s--;
    snprintf(buf, n, "%.*s", (int)(len - s), path + s);
    return buf;
}

/* One folder per class: `positive` is label 1, every other top-level folder label 0. A root
 * that is itself named `positive` or `not_<positive>` holds one class. */
static ev_status add_folder(ev_dataset *ds, const ev_data_options *o, const char *root,
                            const char *positive, char **neg_name) {
    char base[256], notpos[256];
    base_name(root, base, sizeof base);
    snprintf(notpos, sizeof notpos, "not_%s", positive);
    walk_ctx w = {ds, 1, o->limit_per_source};
    char *pos_dir = ev_tr_join(root, positive);
    if (!pos_dir) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    int layout = ev_tr_is_dir(pos_dir);
    free(pos_dir);
    if (!layout) {
        if (strcmp(base, positive) == 0 || strcmp(base, notpos) == 0) {
            w.label = strcmp(base, positive) == 0;
            return walk(&w, root, base, 0);
        }
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: no '%s' folder: expected one folder per class "
                       "('%s/' is label 1, other folders such as '%s/' label 0), a folder named "
                       "'%s' or '%s', a Stanford Cars devkit or Caltech-256", root, positive,
                       positive, notpos, positive, notpos);
    }
    char **names;
    size_t n;
    EV_TRY(list_dir(root, &names, &n));
    ev_status st = EV_OK;
    int loose = 0;
    for (size_t i = 0; i < n && st == EV_OK; i++) {
        char *p = ev_tr_join(root, names[i]);
        if (!p) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            break;
        }
        if (ev_tr_is_dir(p)) {
            w.label = strcmp(names[i], positive) == 0;
            if (!w.label) {
                if (!*neg_name) *neg_name = strdup(names[i]);
                else if (strcmp(*neg_name, names[i]) != 0 && strcmp(*neg_name, notpos) != 0) {
                    free(*neg_name);
                    *neg_name = strdup(notpos);
                }
            }
            st = walk(&w, p, names[i], 1);
        } else if (has_ext(names[i], IMAGE_EXTS)) {
            loose++;
        }
        free(p);
    }
    free_names(names, n);
    if (loose)
        ev_tr_note(ds->progress, ds->user, "%s: ignored %d image(s) not inside a class folder",
                   root, loose);
    return st;
}

static int is_caltech_dir(const char *name) {
    return isdigit((unsigned char)name[0]) && isdigit((unsigned char)name[1]) &&
           isdigit((unsigned char)name[2]) && name[3] == '.' && name[4];
}

typedef struct exclude_list {
    char **name;
    size_t n;
    char *buf;
} exclude_list;

static ev_status load_excludes(const char *path, exclude_list *x) {
    memset(x, 0, sizeof *x);
    if (!path) {
        x->n = sizeof CALTECH_EXCLUDE_DEFAULT / sizeof *CALTECH_EXCLUDE_DEFAULT;
        x->name = calloc(x->n, sizeof *x->name);
        if (!x->name) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < x->n; i++) x->name[i] = (char *)CALTECH_EXCLUDE_DEFAULT[i];
        return EV_OK;
    }
    size_t len;
    EV_TRY(ev_read_text(path, &x->buf, &len));
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += x->buf[i] == '\n';
    x->name = calloc(lines, sizeof *x->name);
    if (!x->name) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (char *line = strtok(x->buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *h = strchr(line, '#');
        if (h) *h = '\0';
        while (*line && isspace((unsigned char)*line)) line++;
        size_t k = strlen(line);
        while (k && isspace((unsigned char)line[k - 1])) line[--k] = '\0';
        if (k) x->name[x->n++] = line;
    }
    return EV_OK;
}

/* "072.fire-truck" matches "072.fire-truck" and "fire-truck". */
static int excluded(const exclude_list *x, const char *cat) {
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->name[i], cat) == 0 || strcmp(x->name[i], cat + 4) == 0) return 1;
    return 0;
}

/* Caltech-256: every NNN.name/ folder, its *.jpg / *.jpeg files only (one level), label 0. */
static ev_status add_caltech(ev_dataset *ds, const ev_data_options *o, const char *root) {
    exclude_list x;
    ev_status st = load_excludes(o->caltech_exclude, &x);
    if (st != EV_OK) {
        free(x.name), free(x.buf);
        return st;
    }
    char **cats;
    size_t nc;
    st = list_dir(root, &cats, &nc);
    for (size_t c = 0; c < nc && st == EV_OK; c++) {
        if (!is_caltech_dir(cats[c])) continue;
        char *dir = ev_tr_join(root, cats[c]);
        if (!dir) {
            st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
            break;
        }
        if (!ev_tr_is_dir(dir)) {
            free(dir);
            continue;
        }
        char **names;
        size_t n;
        st = list_dir(dir, &names, &n);
        if (st == EV_OK) {
            char src[512];
            snprintf(src, sizeof src, "caltech256/%s", cats[c]);
            long images = 0, others = 0;
            for (size_t i = 0; i < n && st == EV_OK; i++) {
                char *p = ev_tr_join(dir, names[i]);
                if (!p) {
                    st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                    break;
                }
                if (has_ext(names[i], JPEG_EXTS) && ev_tr_is_file(p)) {
                    if (!excluded(&x, cats[c]) &&
                        (!o->limit_per_source || images < o->limit_per_source))
                        st = ev_dataset_push(ds, p, src, 0, -1, ev_file_number(names[i]));
                    images++;
                } else {
                    others++;
                }
                free(p);
            }
            if (excluded(&x, cats[c]))
                ev_tr_note(ds->progress, ds->user, "caltech256: excluded %s (%ld images) from "
                           "the negatives", cats[c], images);
            if (others)
                ev_tr_note(ds->progress, ds->user, "caltech256: ignored %ld entries of %s that "
                           "are not .jpg files", others, cats[c]);
            free_names(names, n);
        }
        free(dir);
    }
    free_names(cats, nc);
    free(x.name);
    free(x.buf);
    return st;
}

ev_status ev_dataset_add_root(ev_dataset *ds, const ev_data_options *o, const char *root) {
    if (!ev_tr_is_dir(root))
        return EV_FAIL(EV_ERR_IO, "data folder %s: %s", root,
                       ev_tr_is_file(root) ? "is a file, not a folder" : "not found");
    size_t before = ds->n;
    ev_status st;
    char *p = ev_tr_join(root, "devkit/cars_train_annos.mat");
    char *c = ev_tr_join(root, "256_ObjectCategories");
    if (!p || !c) {
        free(p), free(c);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    const char *positive = o->positive ? o->positive : "car";
    if (ev_tr_is_file(p)) {
        st = ev_dataset_add_stanford(ds, root);
    } else if (ev_tr_is_dir(c)) {
        st = add_caltech(ds, o, c);
    } else {
        char **names;
        size_t n;
        st = list_dir(root, &names, &n);
        int caltech = 0;
        for (size_t i = 0; st == EV_OK && i < n; i++) caltech += is_caltech_dir(names[i]);
        if (st == EV_OK) free_names(names, n);
        if (st == EV_OK && caltech) st = add_caltech(ds, o, root);
        else if (st == EV_OK) {
            char *neg = NULL;
            st = add_folder(ds, o, root, positive, &neg);
            if (neg && !ds->label_name[0]) ds->label_name[0] = neg;
            else free(neg);
        }
    }
    free(p), free(c);
    if (st == EV_OK && ds->n == before)
        st = EV_FAIL(EV_ERR_INVALID_ARG, "%s: no images found (.png .jpg .jpeg .bmp)", root);
    return st;
}

ev_status ev_dataset_load(ev_dataset *ds, const ev_data_options *o) {
    if (o->num_roots < 1) return EV_FAIL(EV_ERR_INVALID_ARG, "no data folder given");
    /* Absolute paths: manifests and the cache key do not depend on the working directory. */
    for (int r = 0; r < o->num_roots; r++) {
        char real[PATH_MAX];
        EV_TRY(ev_dataset_add_root(ds, o, realpath(o->roots[r], real) ? real : o->roots[r]));
    }
    const char *positive = o->positive ? o->positive : "car";
    if (!ds->label_name[1]) ds->label_name[1] = strdup(positive);
    if (!ds->label_name[0]) {
        char buf[256];
        snprintf(buf, sizeof buf, "not_%s", positive);
        ds->label_name[0] = strdup(buf);
    }
    if (!ds->label_name[0] || !ds->label_name[1]) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    return EV_OK;
}

typedef struct hash_ctx {
    ev_dataset *ds;
    size_t base;
    ev_status *st;
    char (*msg)[256];
} hash_ctx;

static void hash_task(void *vctx, int task, int thread) {
    (void)thread;
    hash_ctx *h = vctx;
    ev_item *it = &h->ds->items[h->base + (size_t)task];
    h->st[task] = ev_sha1_file(it->path, it->sha1);
    if (h->st[task] != EV_OK) snprintf(h->msg[task], sizeof h->msg[task], "%s", ev_last_error());
}

void ev_dataset_reject(ev_dataset *ds, size_t i, const char *why) {
    ev_item *it = &ds->items[i];
    it->ok = 0;
    free(it->why);
    it->why = strdup(why);
    ev_tr_note(ds->progress, ds->user, "skipped %s: %s", it->path, why);
}

ev_status ev_dataset_progress(const ev_dataset *ds, ev_train_stage stage, size_t done, double t0) {
    if (!ds->progress) return EV_OK;
    ev_train_progress p;
    memset(&p, 0, sizeof p);
    p.stage = stage;
    p.done = (long)done;
    p.total = (long)ds->n;
    p.elapsed_s = ev_clock_s() - t0;
    if (ds->progress(ds->user, &p))
        return EV_FAIL(EV_ERR_INVALID_ARG, "stopped by the progress callback");
    return EV_OK;
}

ev_status ev_dataset_hash(ev_dataset *ds, int threads) {
    enum { CHUNK = 256 };
    ev_threadpool *pool = NULL;
    EV_TRY(ev_threadpool_create(threads, &pool));
    ev_status st[CHUNK];
    char (*msg)[256] = malloc(CHUNK * sizeof *msg);
    if (!msg) {
        ev_threadpool_free(pool);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    double t0 = ev_clock_s();
    ev_status rc = EV_OK;
    for (size_t base = 0; base < ds->n; base += CHUNK) {
        int n = (int)(ds->n - base < CHUNK ? ds->n - base : CHUNK);
        hash_ctx h = {ds, base, st, msg};
        ev_threadpool_run(pool, hash_task, &h, n);
        for (int i = 0; i < n; i++)
            if (st[i] != EV_OK) ev_dataset_reject(ds, base + (size_t)i, msg[i]);
        rc = ev_dataset_progress(ds, EV_TRAIN_HASH, base + (size_t)n, t0);
        if (rc != EV_OK) break;
    }
    free(msg);
    ev_threadpool_free(pool);
    return rc;
}

void ev_dataset_key(const ev_dataset *ds, char hex[41]) {
    ev_sha1 s;
    ev_sha1_init(&s);
    for (size_t i = 0; i < ds->n; i++) {
        const ev_item *it = &ds->items[i];
        char lab[8];
        snprintf(lab, sizeof lab, "\t%d\t", it->label);
        ev_sha1_update(&s, it->path, strlen(it->path));
        ev_sha1_update(&s, lab, strlen(lab));
        ev_sha1_update(&s, it->ok ? it->sha1 : "-", it->ok ? 40 : 1);
        ev_sha1_update(&s, "\n", 1);
    }
    ev_sha1_final_hex(&s, hex);
}

ev_status ev_dataset_compact(ev_dataset *ds) {
    size_t nbad = 0;
    for (size_t i = 0; i < ds->n; i++) nbad += !ds->items[i].ok;
    if (!nbad) return EV_OK;
    ev_item *bad = realloc(ds->bad, (ds->nbad + nbad) * sizeof *bad);
    if (!bad) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ds->bad = bad;
    size_t k = 0;
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->items[i].ok) ds->items[k++] = ds->items[i];
        else ds->bad[ds->nbad++] = ds->items[i];
    }
    ds->n = k;
    return EV_OK;
}

const char *ev_split_name(int split) {
    return split == EV_TRAIN ? "train" : split == EV_VAL ? "val" : split == EV_TEST ? "test" : "-";
}

ev_status ev_manifest_write(const ev_dataset *ds, const char *path) {
    ev_sbuf b = {0};
    ev_sbuf_printf(&b, "path\tlabel\tsplit\tsource\tsha1\n");
    for (size_t i = 0; i < ds->n; i++) {
        const ev_item *it = &ds->items[i];
        ev_sbuf_printf(&b, "%s\t%d\t%s\t%s\t%s\n", it->path, it->label, ev_split_name(it->split),
                       it->source, it->sha1);
    }
    ev_status st = ev_sbuf_save(&b, path);
    ev_sbuf_free(&b);
    return st;
}

ev_status ev_skipped_write(const ev_dataset *ds, const char *path) {
    ev_sbuf b = {0};
    ev_sbuf_printf(&b, "path\treason\n");
    for (size_t i = 0; i < ds->nbad; i++) {
        char why[512];
        snprintf(why, sizeof why, "%s", ds->bad[i].why ? ds->bad[i].why : "unreadable");
        for (char *c = why; *c; c++)
            if (*c == '\t' || *c == '\n') *c = ' ';
        ev_sbuf_printf(&b, "%s\t%s\n", ds->bad[i].path, why);
    }
    ev_status st = ev_sbuf_save(&b, path);
    ev_sbuf_free(&b);
    return st;
}
