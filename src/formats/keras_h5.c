/*
 * keras_h5.c - Keras HDF5 weights files through libhdf5: root layer_names (split attributes
 * included), per-layer weight_names, fixed- and variable-length strings, float datasets by name
 * with their shapes checked. See keras_h5.h for the layout and docs/keras.md for the traps.
 *
 * Every HDF5 call that can fail is checked; HDF5's own error stack is read (deepest message)
 * and appended to ours, never printed. One file is open at a time (a process-wide lock held
 * from ev_h5w_open to ev_h5w_close), as a libhdf5 built without thread safety needs. Extend: another attribute kind is one more branch in
 * read_strings().
 */
#include "formats/keras_h5.h"

#include "core/status.h"

#ifdef EV_HAVE_HDF5 /* CMake EV_WITH_HDF5; without it, every call below fails with a clear error */
#include <hdf5.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef EV_HAVE_HDF5
struct ev_h5w {
    hid_t file;
    char *what;
    char **layers; /* NULL-terminated */
    int num_layers;
    char *backend, *keras_version;
    size_t real_size, declared_size; /* declared > real: the file is truncated */
    H5E_auto2_t old_func;
    void *old_data;
};

/* libhdf5 may be built without thread safety: one open file at a time, process-wide. */
static pthread_mutex_t g_h5_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

static const uint8_t k_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static long sig_offset(const uint8_t *d, size_t n) {
    for (size_t off = 0; off + 8 <= n; off = off ? off * 2 : 512)
        if (memcmp(d + off, k_sig, 8) == 0) return (long)off;
    return -1;
}

int ev_keras_h5_identify(const uint8_t *data, size_t size) {
    return data && size >= 8 && sig_offset(data, size) >= 0;
}

#ifdef EV_HAVE_HDF5

/* Little-endian unsigned of `n` bytes. */
static uint64_t rd_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* The superblock's version, size of offsets, base and end-of-file addresses; 0, or -1 when the
 * bytes there do not hold them. */
static int sb_fields(const uint8_t *d, size_t n, int *ver, int *so, uint64_t *base,
                     uint64_t *eof) {
    long s = sig_offset(d, n);
    if (s < 0 || (size_t)s + 12 > n) return -1;
    const uint8_t *p = d + s;
    size_t avail = n - (size_t)s;
    size_t base_at;
    *ver = p[8];
    if (*ver == 0 || *ver == 1) {
        if (avail < 14) return -1; /* the size-of-offsets byte is p[13] */
        *so = p[13];
        base_at = *ver == 0 ? 24 : 28;
    } else if (*ver == 2 || *ver == 3) {
        *so = p[9];
        base_at = 12;
    } else {
        return -1;
    }
    if (*so != 2 && *so != 4 && *so != 8) return -1;
    size_t eof_at = base_at + 2 * (size_t)*so;
    if (eof_at + (size_t)*so > avail) return -1;
    *base = rd_le(p + base_at, *so);
    *eof = rd_le(p + eof_at, *so);
    return 0;
}

/* Largest base or end-of-file address we believe (1 TiB); all ones means "undefined". */
#define SB_MAX_ADDR (1ull << 40)

/* Size the superblock declares (base address + end-of-file address); 0 when unknown. */
static uint64_t declared_size(const uint8_t *d, size_t n) {
    int ver, so;
    uint64_t base, eof;
    if (sb_fields(d, n, &ver, &so, &base, &eof) != 0) return 0;
    if (base > SB_MAX_ADDR || eof > SB_MAX_ADDR) return 0;
    return base + eof; /* addresses are relative to the base address */
}

/* Checks libhdf5 1.10 skips before sizing buffers from the superblock: defined, plausible base
 * and end-of-file addresses (any version) and version 0/1 group B-tree K values (the keras_h5
 * fuzzer found a 49-byte file whose group leaf node K of 34567 made libhdf5 allocate 2.27 GB;
 * h5py and Keras write 4, 16 and 32, HDF5's own defaults). Returns 0, or -1 with the offending
 * field named in `msg`. */
static int superblock_ok(const uint8_t *d, size_t n, char *msg, size_t msg_n) {
    long s = sig_offset(d, n);
    if (s < 0) return 0;
    const uint8_t *p = d + s;
    size_t avail = n - (size_t)s;
    int ver = avail > 8 ? p[8] : -1;
    int so;
    uint64_t base, eof;
    if (sb_fields(d, n, &ver, &so, &base, &eof) == 0 && (base > SB_MAX_ADDR || eof > SB_MAX_ADDR)) {
        /* all ones is HDF5's "undefined address": libhdf5 then sized a buffer from the B-tree K
         * (a 50-byte file asked for 2.1 GB, found by the keras_h5 fuzzer) */
        snprintf(msg, msg_n, "superblock base address 0x%llx / end-of-file address 0x%llx "
                 "undefined or implausible", (unsigned long long)base, (unsigned long long)eof);
        return -1;
    }
    if (ver != 0 && ver != 1) return 0;
    static const struct { size_t at; const char *name; unsigned max; } k[] = {
        {16, "group leaf node K", 256},
        {18, "group internal node K", 1024},
        {24, "indexed storage internal node K", 1024}, /* version 1 only */
    };
    for (int i = 0; i < (ver == 1 ? 3 : 2); i++) {
        if (k[i].at + 2 > avail) break;
        unsigned v = (unsigned)rd_le(p + k[i].at, 2);
        if (v == 0 || v > k[i].max) {
            snprintf(msg, msg_n, "superblock %s is %u (1 to %u accepted)", k[i].name, v, k[i].max);
            return -1;
        }
    }
    return 0;
}

/* HDF5's deepest error message into buf (and the stack cleared). */
static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    char *buf = data;
    if (e->desc && *e->desc) snprintf(buf, 200, "%s", e->desc);
    return 0;
}

static const char *h5_reason(char *buf) {
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, buf);
    H5Eclear2(H5E_DEFAULT);
    if (!buf[0]) snprintf(buf, 200, "no detail from HDF5");
    return buf;
}

/* " (the file is truncated: ...)" when it is, else "". */
static const char *trunc_note(const ev_h5w *f, char *buf, size_t n) {
    if (f->declared_size > f->real_size)
        snprintf(buf, n, "; the file is truncated: %zu of the %zu bytes its superblock declares",
                 f->real_size, f->declared_size);
    else
        buf[0] = '\0';
    return buf;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void ev_h5w_free_names(char **names) {
    if (!names) return;
    for (char **p = names; *p; p++) free(*p);
    free(names);
}

/* Appends the strings of attribute `attr` to the NULL-terminated array *list (count *n). A
 * zero-length numeric array adds nothing (Keras's weightless layers). `where` names the object
 * in messages. */
static ev_status read_strings(const ev_h5w *f, hid_t attr, const char *where, const char *name,
                              char ***list, int *n) {
    char why[256], tn[160];
    ev_status st = EV_OK;
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr), mt = -1;
    char *fixed = NULL;
    char **vl = NULL;
    if (type < 0 || space < 0) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: %s attribute '%s' cannot be read (HDF5: %s%s)", f->what,
                     where, name, h5_reason(why), trunc_note(f, tn, sizeof tn));
        goto done;
    }
    int nd = H5Sget_simple_extent_ndims(space);
    hssize_t count = H5Sget_simple_extent_npoints(space);
    if (nd < 0 || nd > 1 || count < 0 || count > 1000000) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: %s attribute '%s' is not a list of strings (rank %d, %lld "
                     "elements)", f->what, where, name, nd, (long long)count);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_STRING) {
        if (count == 0) goto done; /* Keras writes weightless layers' weight_names this way */
        st = EV_FAIL(EV_ERR_FORMAT, "%s: %s attribute '%s' holds %lld non-string values (HDF5 "
                     "type class %d); expected strings", f->what, where, name, (long long)count,
                     (int)cls);
        goto done;
    }
    char **grown = realloc(*list, sizeof(char *) * (size_t)(*n + count + 1));
    if (!grown) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    *list = grown;
    (*list)[*n] = NULL;
    if (count == 0) goto done;
    mt = H5Tcopy(H5T_C_S1);
    htri_t var = H5Tis_variable_str(type);
    if (var > 0) {
        vl = calloc((size_t)count, sizeof *vl);
        if (!vl || mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(type)) < 0 || H5Aread(attr, mt, vl) < 0) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: %s attribute '%s' (variable-length strings) cannot be "
                         "read (HDF5: %s%s)", f->what, where, name, h5_reason(why),
                         trunc_note(f, tn, sizeof tn));
            goto done;
        }
        for (hssize_t i = 0; i < count; i++) {
            (*list)[*n] = dup_str(vl[i] ? vl[i] : "");
            if (!(*list)[*n]) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                goto done;
            }
            (*list)[++*n] = NULL;
        }
    } else {
        /* Fixed length: one byte more than the slot, NULLTERM, so a name that fills its slot
         * exactly keeps its last character (the trap of transfer-learning.md 1.4). */
        size_t sz = H5Tget_size(type);
        if (var < 0 || sz == 0 || sz > 65536) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: %s attribute '%s': bad string size %zu", f->what,
                         where, name, sz);
            goto done;
        }
        fixed = calloc((size_t)count, sz + 1);
        if (!fixed || mt < 0 || H5Tset_size(mt, sz + 1) < 0 ||
            H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 || H5Tset_cset(mt, H5Tget_cset(type)) < 0 ||
            H5Aread(attr, mt, fixed) < 0) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: %s attribute '%s' (fixed-length strings) cannot be "
                         "read (HDF5: %s%s)", f->what, where, name, h5_reason(why),
                         trunc_note(f, tn, sizeof tn));
            goto done;
        }
        for (hssize_t i = 0; i < count; i++) {
            char *s = fixed + (size_t)i * (sz + 1);
            s[sz] = '\0';
            (*list)[*n] = dup_str(s);
            if (!(*list)[*n]) {
                st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
                goto done;
            }
            (*list)[++*n] = NULL;
        }
    }
done:
    if (vl) {
        if (space >= 0 && mt >= 0) H5Dvlen_reclaim(mt, space, H5P_DEFAULT, vl);
        free(vl);
    }
    free(fixed);
    if (mt >= 0) H5Tclose(mt);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return st;
}

/* Strings of attribute `name` on `obj`, or of its split parts name0, name1, ... (Keras splits
 * attributes over 64 KiB). *found = 0 when neither exists. */
static ev_status read_string_attr(const ev_h5w *f, hid_t obj, const char *where, const char *name,
                                  char ***list, int *n, int *found) {
    char why[256];
    *list = calloc(1, sizeof(char *));
    *n = 0;
    *found = 0;
    if (!*list) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    for (int part = -1; part < 100000; part++) {
        char an[128];
        if (part < 0)
            snprintf(an, sizeof an, "%s", name);
        else
            snprintf(an, sizeof an, "%s%d", name, part);
        htri_t ex = H5Aexists(obj, an);
        if (ex < 0) {
            ev_h5w_free_names(*list);
            *list = NULL;
            return EV_FAIL(EV_ERR_FORMAT, "%s: %s: cannot look up attribute '%s' (HDF5: %s)",
                           f->what, where, an, h5_reason(why));
        }
        if (ex == 0) {
            if (part < 0) continue; /* try the split form */
            break;
        }
        *found = 1;
        hid_t a = H5Aopen(obj, an, H5P_DEFAULT);
        ev_status st = a < 0 ? EV_FAIL(EV_ERR_FORMAT, "%s: %s attribute '%s' cannot be opened "
                                       "(HDF5: %s)", f->what, where, an, h5_reason(why))
                             : read_strings(f, a, where, an, list, n);
        if (a >= 0) H5Aclose(a);
        if (st != EV_OK) {
            ev_h5w_free_names(*list);
            *list = NULL;
            return st;
        }
        if (part < 0) break; /* the unsplit attribute is the whole list */
    }
    return EV_OK;
}

static char *root_string(ev_h5w *f, const char *name) {
    char **l = NULL;
    int n = 0, found = 0;
    if (read_string_attr(f, f->file, "root", name, &l, &n, &found) != EV_OK || !found || n < 1) {
        ev_h5w_free_names(l);
        ev_clear_error();
        return dup_str("");
    }
    char *s = l[0];
    l[0] = NULL;
    for (int i = 1; i < n; i++) free(l[i]);
    free(l);
    return s;
}

ev_status ev_h5w_open(const uint8_t *data, size_t size, const char *what, ev_h5w **out) {
    *out = NULL;
    ev_h5w *f = calloc(1, sizeof *f);
    if (!f) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    f->file = -1;
    f->what = dup_str(what ? what : "<memory>");
    if (!f->what) {
        free(f);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    pthread_mutex_lock(&g_h5_lock); /* released by ev_h5w_close */
    H5Eget_auto2(H5E_DEFAULT, &f->old_func, &f->old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the library never prints */
    f->real_size = size;
    char kmsg[128];
    if (superblock_ok(data, size, kmsg, sizeof kmsg) != 0) {
        ev_status st = EV_FAIL(EV_ERR_FORMAT, "%s: not a readable HDF5 file: %s", f->what, kmsg);
        ev_h5w_close(f);
        return st;
    }
    uint64_t decl = declared_size(data, size);
    const uint8_t *img = data;
    size_t img_size = size;
    uint8_t *padded = NULL;
    f->declared_size = decl > size ? (size_t)decl : size;
    /* Truncated: open it padded with zeros so the layer past the cut can be named, unless the
     * declared size is out of proportion (a few corrupt bytes can declare terabytes: the keras_h5
     * fuzzer found a 37-byte file declaring over 2 GB); then HDF5 sees the bytes there are. */
    if (decl > size && decl <= (uint64_t)4 * size + (256ull << 20)) {
        padded = calloc(1, (size_t)decl);
        if (!padded) {
            ev_h5w_close(f);
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        }
        memcpy(padded, data, size);
        img = padded;
        img_size = (size_t)decl;
    }
    char why[256], tn[200];
    ev_status st = EV_OK;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ||
        H5Pset_file_image(fapl, (void *)img, img_size) < 0) {
        st = EV_FAIL(EV_ERR_INTERNAL, "%s: cannot set up HDF5's in-memory driver (HDF5: %s)",
                     f->what, h5_reason(why));
    } else {
        /* The core driver refuses an image whose name is an existing file: give it a name no
         * file can have (a path through /dev/null). */
        char name[96];
        snprintf(name, sizeof name, "/dev/null/edgevision-h5-image-%p", (void *)f);
        f->file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
        if (f->file < 0)
            st = EV_FAIL(EV_ERR_FORMAT, "%s: not a readable HDF5 file (HDF5: %s%s)", f->what,
                         h5_reason(why), trunc_note(f, tn, sizeof tn));
    }
    if (fapl >= 0) H5Pclose(fapl);
    free(padded);
    if (st != EV_OK) {
        ev_h5w_close(f);
        return st;
    }
    int found = 0;
    st = read_string_attr(f, f->file, "root", "layer_names", &f->layers, &f->num_layers, &found);
    if (st == EV_OK && !found)
        st = EV_FAIL(EV_ERR_FORMAT, "%s: an HDF5 file without the root attribute 'layer_names': "
                     "not a Keras weights file (a whole saved model keeps them under "
                     "'model_weights', which is not read here)%s", f->what,
                     trunc_note(f, tn, sizeof tn));
    if (st != EV_OK) {
        ev_h5w_close(f);
        return st;
    }
    f->backend = root_string(f, "backend");
    f->keras_version = root_string(f, "keras_version");
    if (!f->backend || !f->keras_version) {
        ev_h5w_close(f);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    *out = f;
    return EV_OK;
}

void ev_h5w_close(ev_h5w *f) {
    if (!f) return;
    if (f->file >= 0) H5Fclose(f->file);
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, f->old_func, f->old_data);
    pthread_mutex_unlock(&g_h5_lock);
    ev_h5w_free_names(f->layers);
    free(f->backend);
    free(f->keras_version);
    free(f->what);
    free(f);
}

const char *ev_h5w_source(const ev_h5w *f) { return f->what; }
int ev_h5w_num_layers(const ev_h5w *f) { return f->num_layers; }
const char *ev_h5w_layer(const ev_h5w *f, int i) {
    return i >= 0 && i < f->num_layers ? f->layers[i] : NULL;
}

int ev_h5w_has_layer(const ev_h5w *f, const char *name) {
    for (int i = 0; i < f->num_layers; i++)
        if (strcmp(f->layers[i], name) == 0) return 1;
    return 0;
}

const char *ev_h5w_root_attr(const ev_h5w *f, const char *name) {
    if (strcmp(name, "backend") == 0) return f->backend ? f->backend : "";
    if (strcmp(name, "keras_version") == 0) return f->keras_version ? f->keras_version : "";
    return "";
}

static ev_status open_layer(ev_h5w *f, const char *layer, hid_t *g) {
    char why[256], tn[200];
    *g = -1;
    if (!ev_h5w_has_layer(f, layer))
        return EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s' is missing (not in the file's layer_names, "
                       "%d layers from '%s' to '%s')", f->what, layer, f->num_layers,
                       f->num_layers ? f->layers[0] : "", f->num_layers ?
                       f->layers[f->num_layers - 1] : "");
    htri_t ex = H5Lexists(f->file, layer, H5P_DEFAULT);
    if (ex <= 0) {
        if (ex < 0)
            h5_reason(why);
        else
            snprintf(why, sizeof why, "no such link");
        return EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s' is listed in layer_names but its group cannot "
                       "be found (HDF5: %s%s)", f->what, layer, why, trunc_note(f, tn, sizeof tn));
    }
    *g = H5Gopen2(f->file, layer, H5P_DEFAULT);
    if (*g < 0)
        return EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': its group cannot be opened (HDF5: %s%s)",
                       f->what, layer, h5_reason(why), trunc_note(f, tn, sizeof tn));
    return EV_OK;
}

ev_status ev_h5w_weight_names(ev_h5w *f, const char *layer, char ***names, int *count) {
    *names = NULL;
    *count = 0;
    hid_t g;
    EV_TRY(open_layer(f, layer, &g));
    char where[300];
    snprintf(where, sizeof where, "layer '%s':", layer);
    int found = 0;
    ev_status st = read_string_attr(f, g, where, "weight_names", names, count, &found);
    H5Gclose(g);
    if (st == EV_OK && !found) {
        ev_h5w_free_names(*names);
        *names = NULL;
        st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s' has no 'weight_names' attribute", f->what,
                     layer);
    }
    return st;
}

static const char *dims_str(int nd, const hsize_t *d, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    if (nd == 0) snprintf(buf, n, "scalar");
    for (int i = 0; i < nd && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? "x%llu" : "%llu", (unsigned long long)d[i]);
    return buf;
}

ev_status ev_h5w_shape(ev_h5w *f, const char *layer, const char *weight, int *ndim, int *dims) {
    char why[256], tn[200];
    hid_t g;
    *ndim = 0;
    EV_TRY(open_layer(f, layer, &g));
    ev_status st = EV_OK;
    hid_t ds = -1, space = -1;
    htri_t ex = H5Lexists(g, weight, H5P_DEFAULT);
    if (ex <= 0) {
        H5Eclear2(H5E_DEFAULT);
        st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' (named in weight_names) is "
                     "missing%s", f->what, layer, weight, trunc_note(f, tn, sizeof tn));
        goto done;
    }
    ds = H5Dopen2(g, weight, H5P_DEFAULT);
    space = ds >= 0 ? H5Dget_space(ds) : -1;
    int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t hd[H5S_MAX_RANK];
    if (nd < 0 || nd > EV_MAX_DIMS || H5Sget_simple_extent_dims(space, hd, NULL) < 0) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' has an unreadable shape "
                     "(HDF5: %s%s)", f->what, layer, weight, nd > EV_MAX_DIMS ? "too many "
                     "dimensions" : h5_reason(why), trunc_note(f, tn, sizeof tn));
        goto done;
    }
    for (int i = 0; i < nd; i++) {
        if (hd[i] > (1u << 30)) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' has a dimension of %llu",
                         f->what, layer, weight, (unsigned long long)hd[i]);
            goto done;
        }
        dims[i] = (int)hd[i];
    }
    *ndim = nd;
done:
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    H5Gclose(g);
    return st;
}

ev_status ev_h5w_read(ev_h5w *f, const char *layer, const char *weight, int ndim, const int *dims,
                      const char *layout, float *out) {
    char why[256], tn[200], s1[96], s2[96];
    hid_t g;
    EV_TRY(open_layer(f, layer, &g));
    ev_status st = EV_OK;
    hid_t ds = -1, space = -1, type = -1;
    htri_t ex = H5Lexists(g, weight, H5P_DEFAULT); /* checks each '/'-separated part */
    if (ex <= 0) {
        H5Eclear2(H5E_DEFAULT);
        st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' (named in weight_names) is "
                     "missing%s", f->what, layer, weight, trunc_note(f, tn, sizeof tn));
        goto done;
    }
    ds = H5Dopen2(g, weight, H5P_DEFAULT);
    if (ds < 0) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' cannot be opened (HDF5: %s%s)",
                     f->what, layer, weight, h5_reason(why), trunc_note(f, tn, sizeof tn));
        goto done;
    }
    space = H5Dget_space(ds);
    type = H5Dget_type(ds);
    int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t hd[H5S_MAX_RANK];
    if (type < 0 || nd < 0 || nd > H5S_MAX_RANK || H5Sget_simple_extent_dims(space, hd, NULL) < 0) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' has an unreadable shape "
                     "(HDF5: %s%s)", f->what, layer, weight, h5_reason(why),
                     trunc_note(f, tn, sizeof tn));
        goto done;
    }
    int same = nd == ndim;
    for (int i = 0; same && i < nd; i++) same = hd[i] == (hsize_t)dims[i];
    if (!same) {
        hsize_t want[H5S_MAX_RANK];
        for (int i = 0; i < ndim && i < H5S_MAX_RANK; i++) want[i] = (hsize_t)dims[i];
        st = EV_FAIL(EV_ERR_SHAPE, "%s: layer '%s': dataset '%s' has shape %s, the architecture "
                     "needs %s (%s)", f->what, layer, weight, dims_str(nd, hd, s1, sizeof s1),
                     dims_str(ndim, want, s2, sizeof s2), layout);
        goto done;
    }
    if (H5Tget_class(type) != H5T_FLOAT) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' is not floating point (HDF5 type "
                     "class %d)", f->what, layer, weight, (int)H5Tget_class(type));
        goto done;
    }
    if (f->declared_size > f->real_size) {
        haddr_t off = H5Dget_offset(ds);
        hsize_t sz = H5Dget_storage_size(ds);
        if (off == HADDR_UNDEF || off + sz > f->real_size) {
            st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' %s%s", f->what, layer, weight,
                         off == HADDR_UNDEF ? "is not stored contiguously, so its bytes cannot be "
                                              "checked against the cut"
                                            : "lies past the end of the file",
                         trunc_note(f, tn, sizeof tn));
            goto done;
        }
    }
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        st = EV_FAIL(EV_ERR_FORMAT, "%s: layer '%s': dataset '%s' cannot be read (HDF5: %s%s)",
                     f->what, layer, weight, h5_reason(why), trunc_note(f, tn, sizeof tn));
        goto done;
    }
done:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    H5Gclose(g);
    return st;
}

#else /* !EV_HAVE_HDF5 */

ev_status ev_h5w_open(const uint8_t *data, size_t size, const char *what, ev_h5w **out) {
    (void)data, (void)size;
    if (out) *out = NULL;
    return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: built without HDF5 (EV_WITH_HDF5=OFF): Keras .h5 "
                   "weights unavailable", what ? what : "HDF5 file");
}
void ev_h5w_close(ev_h5w *f) { (void)f; }
const char *ev_h5w_source(const ev_h5w *f) { (void)f; return ""; }
int ev_h5w_num_layers(const ev_h5w *f) { (void)f; return 0; }
const char *ev_h5w_layer(const ev_h5w *f, int i) { (void)f, (void)i; return NULL; }
int ev_h5w_has_layer(const ev_h5w *f, const char *name) { (void)f, (void)name; return 0; }
const char *ev_h5w_root_attr(const ev_h5w *f, const char *name) { (void)f, (void)name; return ""; }
void ev_h5w_free_names(char **names) { free(names); }
ev_status ev_h5w_weight_names(ev_h5w *f, const char *layer, char ***names, int *count) {
    (void)f, (void)layer;
    if (names) *names = NULL;
    if (count) *count = 0;
    return EV_FAIL(EV_ERR_UNSUPPORTED, "built without HDF5 (EV_WITH_HDF5=OFF)");
}
ev_status ev_h5w_shape(ev_h5w *f, const char *layer, const char *weight, int *ndim, int *dims) {
    (void)f, (void)layer, (void)weight, (void)dims;
    if (ndim) *ndim = 0;
    return EV_FAIL(EV_ERR_UNSUPPORTED, "built without HDF5 (EV_WITH_HDF5=OFF)");
}
ev_status ev_h5w_read(ev_h5w *f, const char *layer, const char *weight, int ndim, const int *dims,
                      const char *layout, float *out) {
    (void)f, (void)layer, (void)weight, (void)ndim, (void)dims, (void)layout, (void)out;
    return EV_FAIL(EV_ERR_UNSUPPORTED, "built without HDF5 (EV_WITH_HDF5=OFF)");
}

#endif /* EV_HAVE_HDF5 */
