/*
 * onnx_tensor.c - ONNX TensorProto decoding (initializers, Constant nodes, and the .pb tensor
 * files of ONNX's conformance suite), and the public tensor-file API behind `edgevision run`:
 * ev_tensor_file_read / ev_tensor_file_write for ONNX TensorProto (.pb) and NumPy (.npy, format
 * versions 1 to 3, C order, little-endian) files.
 *
 * Every length comes from the file and is checked: at most EV_MAX_DIMS dimensions, each in
 * [0, 2^31), the element count through ev_tensor_bytes_checked, and the data present (raw_data
 * bytes or typed values) exactly the element count. External data is refused with its location.
 *
 * Extend: another element type is a case in ev_onnx_dtype / ev_onnx_type_of (and in decode's
 * typed-field switch when ONNX stores it in a typed field); another file format a branch on the
 * extension in ev_tensor_file_read / _write.
 */
#include "formats/onnx_reader.h"

#include "core/status.h"
#include "onnx.pb-c.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ev_dtype ev_onnx_dtype(int t) {
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return EV_DTYPE_F32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return EV_DTYPE_U8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return EV_DTYPE_I8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return EV_DTYPE_I16;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return EV_DTYPE_I32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return EV_DTYPE_I64;
    default: return EV_DTYPE_UNKNOWN;
    }
}

int ev_onnx_type_of(ev_dtype d) {
    switch (d) {
    case EV_DTYPE_F32: return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    case EV_DTYPE_U8: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    case EV_DTYPE_I8: return ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    case EV_DTYPE_I16: return ONNX__TENSOR_PROTO__DATA_TYPE__INT16;
    case EV_DTYPE_I32: return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    case EV_DTYPE_I64: return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    default: return 0;
    }
}

static const char *onnx_type_name(int t) {
    static const char *const names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16",
                                        "int32", "int64", "string", "bool", "float16", "double",
                                        "uint32", "uint64", "complex64", "complex128",
                                        "bfloat16"};
    return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

ev_status ev_onnx_tensor_decode(const Onnx__TensorProto *tp, const char *what, ev_onnx_array *out) {
    memset(out, 0, sizeof *out);
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        const char *loc = "?";
        for (size_t i = 0; i < tp->n_external_data; i++)
            if (tp->external_data[i]->key && strcmp(tp->external_data[i]->key, "location") == 0 &&
                tp->external_data[i]->value)
                loc = tp->external_data[i]->value;
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: its data lives in an external file ('%s', "
                       "data_location EXTERNAL); external data is not read: save the model with "
                       "its tensors inside (onnx.save_model(model, path, "
                       "save_as_external_data=False))", what, loc);
    }
    if (tp->segment)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", what);
    int t = tp->has_data_type ? tp->data_type : 0;
    ev_dtype dt = ev_onnx_dtype(t);
    if (dt == EV_DTYPE_UNKNOWN)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: element type %s (%d) is not supported (float, "
                       "uint8, int8, int16, int32, int64)", what, onnx_type_name(t), t);
    if (tp->n_dims > EV_MAX_DIMS)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: %zu dimensions (at most %d supported)", what,
                       tp->n_dims, EV_MAX_DIMS);
    out->dtype = dt;
    out->ndim = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0 || tp->dims[i] > INT32_MAX)
            return EV_FAIL(EV_ERR_FORMAT, "%s: dimension %zu is %lld", what, i,
                           (long long)tp->dims[i]);
        out->dims[i] = (int)tp->dims[i];
    }
    size_t bytes;
    if (ev_tensor_bytes_checked(out->ndim, out->dims, dt, &bytes))
        return EV_FAIL(EV_ERR_FORMAT, "%s: implausibly large tensor (over %llu elements)", what,
                       EV_MAX_TENSOR_ELEMS);
    size_t es = ev_dtype_size(dt);
    out->elems = bytes / es;
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) return EV_FAIL(EV_ERR_NO_MEMORY, "%s: out of memory (%zu bytes)", what, bytes);
    size_t have;
    const char *field;
    if (tp->has_raw_data) {
        field = "raw_data bytes";
        have = tp->raw_data.len;
        if (have == bytes) {
            if (bytes) memcpy(out->data, tp->raw_data.data, bytes); /* little-endian hosts */
            return EV_OK;
        }
        have /= es;
    } else if (dt == EV_DTYPE_F32) {
        field = "float_data values";
        have = tp->n_float_data;
        if (have == out->elems) {
            if (bytes) memcpy(out->data, tp->float_data, bytes);
            return EV_OK;
        }
    } else if (dt == EV_DTYPE_I64) {
        field = "int64_data values";
        have = tp->n_int64_data;
        if (have == out->elems) {
            if (bytes) memcpy(out->data, tp->int64_data, bytes);
            return EV_OK;
        }
    } else {
        field = "int32_data values";
        have = tp->n_int32_data;
        if (have == out->elems) {
            for (size_t i = 0; i < have; i++) {
                int32_t v = tp->int32_data[i];
                switch (dt) {
                case EV_DTYPE_U8: ((uint8_t *)out->data)[i] = (uint8_t)v; break;
                case EV_DTYPE_I8: ((int8_t *)out->data)[i] = (int8_t)v; break;
                case EV_DTYPE_I16: ((int16_t *)out->data)[i] = (int16_t)v; break;
                default: ((int32_t *)out->data)[i] = v; break;
                }
            }
            return EV_OK;
        }
    }
    free(out->data);
    out->data = NULL;
    return EV_FAIL(EV_ERR_FORMAT, "%s: %zu %s for %zu elements of %s", what, have, field,
                   out->elems, ev_dtype_name(dt));
}

/* ------------------------------------------------------------------------------------------ */
/* Public tensor files                                                                        */
/* ------------------------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* One block: the struct, the name, then the data (64-byte aligned). */
static ev_status file_new(const char *name, ev_dtype dt, int ndim, const int *dims, size_t bytes,
                          ev_tensor_file **out) {
    size_t nl = strlen(name) + 1, head = (sizeof(ev_tensor_file) + nl + 63) / 64 * 64;
    if (bytes > SIZE_MAX - head - 64) return EV_FAIL(EV_ERR_NO_MEMORY, "tensor too large");
    ev_tensor_file *f = aligned_alloc(64, (head + bytes + 63) / 64 * 64);
    if (!f) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory (%zu bytes)", head + bytes);
    memset(f, 0, sizeof *f);
    char *nm = (char *)(f + 1);
    memcpy(nm, name, nl);
    f->info.name = nm;
    f->info.dtype = dt;
    f->info.ndim = ndim;
    for (int i = 0; i < ndim; i++) f->info.dims[i] = dims[i];
    f->info.bytes = bytes;
    f->data = (uint8_t *)f + head;
    *out = f;
    return EV_OK;
}

static ev_status read_pb(const char *path, const uint8_t *bytes, size_t size,
                         ev_tensor_file **out) {
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, bytes);
    if (!tp)
        return EV_FAIL(EV_ERR_FORMAT, "%s: not an ONNX TensorProto (%zu bytes: truncated, "
                       "corrupt or another format)", path, size);
    ev_onnx_array a;
    ev_status st = ev_onnx_tensor_decode(tp, path, &a);
    if (st == EV_OK) {
        size_t nbytes = a.elems * ev_dtype_size(a.dtype);
        st = file_new(tp->name ? tp->name : "", a.dtype, a.ndim, a.dims, nbytes, out);
        if (st == EV_OK && nbytes) memcpy((*out)->data, a.data, nbytes);
        free(a.data);
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return st;
}

/* .npy: "\x93NUMPY", major, minor, header length (2 bytes for 1.x, 4 for 2.x/3.x), then a
 * Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }. */
static ev_status read_npy(const char *path, const uint8_t *b, size_t size, ev_tensor_file **out) {
    if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return EV_FAIL(EV_ERR_FORMAT, "%s: not a NumPy .npy file (no \\x93NUMPY magic)", path);
    int major = b[6];
    size_t hl, off;
    if (major == 1) {
        hl = (size_t)b[8] | (size_t)b[9] << 8;
        off = 10;
    } else if ((major == 2 || major == 3) && size >= 12) {
        hl = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        off = 12;
    } else {
        return EV_FAIL(EV_ERR_FORMAT, "%s: .npy format version %d is not supported", path, major);
    }
    if (hl > size - off || hl > 65536)
        return EV_FAIL(EV_ERR_FORMAT, "%s: .npy header of %zu bytes in a %zu-byte file", path, hl,
                       size);
    char hdr[65537];
    memcpy(hdr, b + off, hl);
    hdr[hl] = '\0';
    const char *d = strstr(hdr, "'descr'");
    const char *fo = strstr(hdr, "'fortran_order'");
    const char *sh = strstr(hdr, "'shape'");
    if (!d || !fo || !sh)
        return EV_FAIL(EV_ERR_FORMAT, "%s: .npy header lacks descr, fortran_order or shape", path);
    d = strchr(d + 7, '\'');
    if (!d) return EV_FAIL(EV_ERR_FORMAT, "%s: .npy descr is not a string", path);
    d++;
    static const struct { const char *descr; ev_dtype dt; } k_types[] = {
        {"<f4'", EV_DTYPE_F32}, {"|u1'", EV_DTYPE_U8},  {"<u1'", EV_DTYPE_U8},
        {"|i1'", EV_DTYPE_I8},  {"<i1'", EV_DTYPE_I8},  {"<i2'", EV_DTYPE_I16},
        {"<i4'", EV_DTYPE_I32}, {"<i8'", EV_DTYPE_I64},
    };
    ev_dtype dt = EV_DTYPE_UNKNOWN;
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
        if (strncmp(d, k_types[i].descr, 4) == 0) dt = k_types[i].dt;
    if (dt == EV_DTYPE_UNKNOWN) {
        char descr[16] = {0};
        for (int i = 0; i < 15 && d[i] && d[i] != '\''; i++) descr[i] = d[i];
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: .npy dtype '%s' is not supported (<f4, u1, i1, "
                       "<i2, <i4, <i8)", path, descr);
    }
    const char *fv = strchr(fo + 15, ':');
    if (!fv) return EV_FAIL(EV_ERR_FORMAT, "%s: .npy fortran_order has no value", path);
    fv++;
    while (*fv == ' ') fv++;
    if (strncmp(fv, "False", 5) != 0)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: Fortran-ordered .npy arrays are not supported "
                       "(save with numpy.ascontiguousarray)", path);
    const char *p = strchr(sh + 7, '(');
    if (!p) return EV_FAIL(EV_ERR_FORMAT, "%s: .npy shape is not a tuple", path);
    p++;
    int ndim = 0, dims[EV_MAX_DIMS];
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (*p < '0' || *p > '9')
            return EV_FAIL(EV_ERR_FORMAT, "%s: .npy shape has a non-numeric entry", path);
        long long v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p++ - '0');
            if (v > INT32_MAX)
                return EV_FAIL(EV_ERR_FORMAT, "%s: .npy dimension over 2^31", path);
        }
        if (*p == 'L') p++;
        if (ndim == EV_MAX_DIMS)
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: .npy array of more than %d dimensions", path,
                           EV_MAX_DIMS);
        dims[ndim++] = (int)v;
    }
    size_t bytes;
    if (ev_tensor_bytes_checked(ndim, dims, dt, &bytes))
        return EV_FAIL(EV_ERR_FORMAT, "%s: implausibly large .npy array", path);
    size_t data_off = off + hl;
    if (size - data_off != bytes)
        return EV_FAIL(EV_ERR_FORMAT, "%s: .npy data is %zu bytes, the shape needs %zu", path,
                       size - data_off, bytes);
    EV_TRY(file_new("", dt, ndim, dims, bytes, out));
    if (bytes) memcpy((*out)->data, b + data_off, bytes);
    return EV_OK;
}

ev_status ev_tensor_file_read(const char *path, ev_tensor_file **out) {
    if (!path || !out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_tensor_file_read: NULL argument");
    *out = NULL;
    uint8_t *bytes;
    size_t size;
    EV_TRY(ev_read_file(path, &bytes, &size));
    ev_status st = ends_with(path, ".npy") ? read_npy(path, bytes, size, out)
                                           : read_pb(path, bytes, size, out);
    free(bytes);
    return st;
}

void ev_tensor_file_free(ev_tensor_file *file) { free(file); }

static ev_status write_npy(const char *path, const ev_tensor_info *info, const void *data) {
    const char *descr = NULL;
    switch (info->dtype) {
    case EV_DTYPE_F32: descr = "<f4"; break;
    case EV_DTYPE_U8: descr = "|u1"; break;
    case EV_DTYPE_I8: descr = "|i1"; break;
    case EV_DTYPE_I16: descr = "<i2"; break;
    case EV_DTYPE_I32: descr = "<i4"; break;
    case EV_DTYPE_I64: descr = "<i8"; break;
    default: return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: dtype %s", path, ev_dtype_name(info->dtype));
    }
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < info->ndim; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%d%s", info->dims[i],
                      info->ndim == 1 ? "," : i + 1 < info->ndim ? ", " : "");
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64;
    size_t hl = (size_t)n + pad + 1;
    uint8_t *buf = malloc(10 + hl + info->bytes);
    if (!buf) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)(hl & 0xff);
    buf[9] = (uint8_t)(hl >> 8);
    memcpy(buf + 10, hdr, (size_t)n);
    memset(buf + 10 + n, ' ', pad);
    buf[10 + hl - 1] = '\n';
    if (info->bytes) memcpy(buf + 10 + hl, data, info->bytes);
    ev_status st = ev_write_file_atomic(path, buf, 10 + hl + info->bytes);
    free(buf);
    return st;
}

ev_status ev_tensor_file_write(const char *path, const ev_tensor_info *info, const void *data) {
    if (!path || !info || (!data && info->bytes))
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_tensor_file_write: NULL argument");
    if (info->ndim < 0 || info->ndim > EV_MAX_DIMS)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: %d dimensions", path, info->ndim);
    size_t bytes;
    if (ev_tensor_bytes_checked(info->ndim, info->dims, info->dtype, &bytes) || bytes != info->bytes)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: %zu bytes do not fit the shape and %s", path,
                       info->bytes, ev_dtype_name(info->dtype));
    if (ends_with(path, ".npy")) return write_npy(path, info, data);
    int t = ev_onnx_type_of(info->dtype);
    if (!t) return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: dtype %s", path, ev_dtype_name(info->dtype));
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[EV_MAX_DIMS];
    for (int i = 0; i < info->ndim; i++) dims[i] = info->dims[i];
    tp.n_dims = (size_t)info->ndim;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = t;
    tp.name = (char *)(info->name ? info->name : "");
    tp.has_raw_data = 1;
    tp.raw_data.len = info->bytes;
    tp.raw_data.data = (uint8_t *)data;
    size_t len = onnx__tensor_proto__get_packed_size(&tp);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    onnx__tensor_proto__pack(&tp, buf);
    ev_status st = ev_write_file_atomic(path, buf, len);
    free(buf);
    return st;
}
