/*
 * image.c - ev_image codecs (the media component): loading (JPEG, PNG, BMP detected by magic
 * bytes) and saving (PNG, JPEG chosen by extension). Construction and accessors, which need no
 * codec library, are in image_core.c (core library).
 *
 * Decoding is meant to give the same RGB bytes as Pillow's Image.open(p).convert("RGB"):
 *   JPEG  libjpeg-turbo with its defaults (JDCT_ISLOW, fancy upsampling), read from memory.
 *         Grayscale is replicated to RGB. CMYK/YCCK files are decoded to JCS_CMYK and, like
 *         Pillow (rawmode "CMYK;I": Adobe-inverted samples are assumed), each sample is inverted
 *         back (C = 255 - c') and converted with Pillow's cmyk2rgb:
 *           nk = 255 - K;  R = nk - MULDIV255(C, nk)   (MULDIV255(a,b) = rounded a*b/255)
 *         i.e. R ~= c'*k'/255 on the samples as stored. libjpeg errors, and the warnings that mean
 *         the data ended early or is cut (JWRN_JPEG_EOF, JWRN_HIT_MARKER), give EV_ERR_FORMAT
 *         with libjpeg's message; other warnings (extraneous bytes ...) are ignored, as Pillow does.
 *   PNG   libpng low-level API, no gamma handling (Pillow ignores gAMA too): palette expanded,
 *         1/2/4-bit gray scaled to 8 bits, gray replicated, 16-bit samples reduced to their high
 *         byte (Pillow's "RGB;16B" unpacking; note Pillow opens 16-bit *grayscale* as mode "I" and
 *         its convert("RGB") clips rather than shifts: we take the high byte there too), alpha
 *         (and tRNS) dropped without compositing, as convert("RGB") does. The file must be
 *         complete through IEND.
 *   BMP   stb_image (Debian's libstb.so provides the implementation; STB_IMAGE_IMPLEMENTATION
 *         must not be defined here). Uncompressed BMPs whose pixel data is cut short are rejected
 *         (stb would silently read zeros).
 *
 * Extend: a new format needs a magic-byte test in ev_image_load and a decode_<fmt>() that fills
 * an RGB buffer; a new output format needs an extension test in ev_image_save and a write_<fmt>()
 * that reports errors through EV_FAIL (never printing).
 */
#include "media/image.h"

#include "core/status.h"
#include "util/file.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <stb/stb_image.h>

#define EV_IMAGE_MAX_FILE ((size_t)1 << 30) /* files above 1 GiB are refused */

/* ------------------------------------------------------------------------------------------ */
/* ------------------------------------------------------------------------------------------ */
/* JPEG                                                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct ev_jpeg_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} ev_jpeg_error;

static void jpeg_error_exit_cb(j_common_ptr cinfo) {
    ev_jpeg_error *e = (ev_jpeg_error *)cinfo->err;
    cinfo->err->format_message(cinfo, e->msg);
    longjmp(e->jump, 1);
}

/* Warnings that mean the image is incomplete are errors; the rest are counted silently. */
static void jpeg_emit_message_cb(j_common_ptr cinfo, int level) {
    if (level >= 0) return; /* trace messages */
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) {
        ev_jpeg_error *e = (ev_jpeg_error *)cinfo->err;
        cinfo->err->format_message(cinfo, e->msg);
        longjmp(e->jump, 1);
    }
    cinfo->err->num_warnings++;
}

static void jpeg_output_message_cb(j_common_ptr cinfo) { (void)cinfo; /* never print */ }

static void jpeg_install_errors(ev_jpeg_error *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = jpeg_error_exit_cb;
    e->pub.emit_message = jpeg_emit_message_cb;
    e->pub.output_message = jpeg_output_message_cb;
    e->msg[0] = '\0';
}

/* Pillow's MULDIV255: a*b/255 rounded, exact for 0..255 inputs. */
static inline int muldiv255(int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

static ev_status decode_jpeg(const char *path, const uint8_t *buf, size_t len, ev_image **out) {
    struct jpeg_decompress_struct cinfo;
    ev_jpeg_error jerr;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;

    if (len > ULONG_MAX) return EV_FAIL(EV_ERR_FORMAT, "%s: JPEG too large", path);
    memset(&cinfo, 0, sizeof cinfo);
    jpeg_install_errors(&jerr);
    cinfo.err = &jerr.pub;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return EV_FAIL(EV_ERR_FORMAT, "%s: JPEG decoding failed: %s", path, jerr.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, buf, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    if (!ev_image_dims_ok((int)(cinfo.image_width > INT_MAX ? 0 : cinfo.image_width),
                 (int)(cinfo.image_height > INT_MAX ? 0 : cinfo.image_height))) {
        snprintf(jerr.msg, sizeof jerr.msg, "dimensions %ux%u over the limit (%d per side, %llu "
                 "pixels; $EV_IMAGE_MAX_PIXELS)", (unsigned)cinfo.image_width,
                 (unsigned)cinfo.image_height, EV_IMAGE_MAX_DIM,
                 (unsigned long long)ev_image_max_pixels());
        longjmp(jerr.jump, 1);
    }
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    /* Defaults kept on purpose: dct_method JDCT_ISLOW, do_fancy_upsampling TRUE (Pillow's). */
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    int nc = cinfo.output_components;
    if (!ev_image_dims_ok(w, h) || (nc != 1 && nc != 3 && nc != 4)) {
        snprintf(jerr.msg, sizeof jerr.msg, "unexpected output %dx%d with %d components", w, h,
                 nc);
        longjmp(jerr.jump, 1);
    }
    pixels = malloc((size_t)w * (size_t)h * 3);
    row = malloc((size_t)w * (size_t)nc);
    if (!pixels || !row) {
        snprintf(jerr.msg, sizeof jerr.msg, "out of memory for %dx%d pixels", w, h);
        longjmp(jerr.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        int y = (int)cinfo.output_scanline;
        JSAMPROW r = row;
        if (jpeg_read_scanlines(&cinfo, &r, 1) != 1) {
            snprintf(jerr.msg, sizeof jerr.msg, "no data for row %d", y);
            longjmp(jerr.jump, 1);
        }
        uint8_t *dst = pixels + (size_t)y * (size_t)w * 3;
        const uint8_t *src = row;
        if (nc == 3) {
            memcpy(dst, src, (size_t)w * 3);
        } else if (nc == 1) {
            for (int x = 0; x < w; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[x];
        } else { /* Adobe-inverted CMYK -> Pillow "CMYK;I" unpack -> Pillow cmyk2rgb */
            for (int x = 0; x < w; x++) {
                int nk = src[4 * x + 3]; /* 255 - K, K = 255 - stored */
                for (int c = 0; c < 3; c++) {
                    int v = nk - muldiv255(255 - src[4 * x + c], nk);
                    dst[3 * x + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    ev_status st = ev_image_wrap(w, h, pixels, out);
    if (st != EV_OK) free(pixels);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* PNG                                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct ev_png_ctx {
    const uint8_t *buf;
    size_t len, pos;
    char msg[256];
    char warning[160]; /* the first libpng warning, appended to the error message */
} ev_png_ctx;

static void png_error_cb(png_structp png, png_const_charp msg) {
    ev_png_ctx *c = png_get_error_ptr(png);
    if (c->warning[0])
        snprintf(c->msg, sizeof c->msg, "%s (%s)", msg ? msg : "unknown libpng error",
                 c->warning);
    else
        snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

/* Never prints; keeps the first warning (e.g. "Image width exceeds user limit in IHDR"). */
static void png_warning_cb(png_structp png, png_const_charp msg) {
    ev_png_ctx *c = png_get_error_ptr(png);
    if (!c->warning[0] && msg) snprintf(c->warning, sizeof c->warning, "%s", msg);
}

static void png_read_cb(png_structp png, png_bytep data, size_t n) {
    ev_png_ctx *c = png_get_io_ptr(png);
    if (n > c->len - c->pos) png_error(png, "unexpected end of file (truncated PNG)");
    memcpy(data, c->buf + c->pos, n);
    c->pos += n;
}

static ev_status decode_png(const char *path, const uint8_t *buf, size_t len, ev_image **out) {
    ev_png_ctx ctx = {buf, len, 0, {0}, {0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_cb,
                                             png_warning_cb);
    if (!png) return EV_FAIL(EV_ERR_NO_MEMORY, "%s: cannot create a libpng reader", path);
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return EV_FAIL(EV_ERR_NO_MEMORY, "%s: cannot create a libpng info struct", path);
    }
    uint8_t *volatile raw = NULL;
    png_bytep *volatile rows = NULL;
    uint8_t *volatile pixels = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(raw);
        free(rows);
        free(pixels);
        return EV_FAIL(EV_ERR_FORMAT, "%s: PNG decoding failed: %s", path, ctx.msg);
    }
    png_set_read_fn(png, &ctx, png_read_cb);
    png_set_user_limits(png, EV_IMAGE_MAX_DIM, EV_IMAGE_MAX_DIM);
    png_read_info(png, info);
    png_uint_32 w32, h32;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w32, &h32, &depth, &ctype, &interlace, NULL, NULL);
    if (w32 < 1 || h32 < 1 || w32 > EV_IMAGE_MAX_DIM || h32 > EV_IMAGE_MAX_DIM ||
        (uint64_t)w32 * h32 > ev_image_max_pixels()) {
        snprintf(ctx.msg, sizeof ctx.msg, "absurd dimensions %ux%u (limit %d)", (unsigned)w32,
                 (unsigned)h32, EV_IMAGE_MAX_DIM);
        png_longjmp(png, 1);
    }
    if (depth == 16) png_set_strip_16(png); /* high byte, like Pillow */
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int w = (int)w32, h = (int)h32;
    int ch = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((ch != 3 && ch != 4) || png_get_bit_depth(png, info) != 8 ||
        rowbytes != (size_t)w * (size_t)ch) {
        snprintf(ctx.msg, sizeof ctx.msg, "unexpected layout after transforms (%d channels)",
                 ch);
        png_longjmp(png, 1);
    }
    raw = malloc(rowbytes * (size_t)h);
    rows = malloc(sizeof(png_bytep) * (size_t)h);
    pixels = malloc((size_t)w * (size_t)h * 3);
    if (!raw || !rows || !pixels) {
        snprintf(ctx.msg, sizeof ctx.msg, "out of memory for %dx%d pixels", w, h);
        png_longjmp(png, 1);
    }
    for (int y = 0; y < h; y++) rows[y] = raw + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL); /* the file must be whole, through IEND */
    png_destroy_read_struct(&png, &info, NULL);
    size_t npx = (size_t)w * (size_t)h;
    if (ch == 3) {
        memcpy(pixels, raw, npx * 3);
    } else { /* drop alpha, no compositing: Pillow's convert("RGB") */
        for (size_t i = 0; i < npx; i++) {
            pixels[3 * i] = raw[4 * i];
            pixels[3 * i + 1] = raw[4 * i + 1];
            pixels[3 * i + 2] = raw[4 * i + 2];
        }
    }
    free(raw);
    free(rows);
    ev_status st = ev_image_wrap(w, h, pixels, out);
    if (st != EV_OK) free(pixels);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* BMP                                                                                        */
/* ------------------------------------------------------------------------------------------ */

static uint32_t rd_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd_u16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* stb_image pads a short BMP with zeros; reject uncompressed BMPs whose pixel array is cut. */
static ev_status check_bmp_size(const char *path, const uint8_t *buf, size_t len) {
    if (len < 26) return EV_FAIL(EV_ERR_FORMAT, "%s: BMP header truncated (%zu bytes)", path, len);
    uint32_t off = rd_u32le(buf + 10), hsz = rd_u32le(buf + 14);
    long long w, h;
    unsigned bpp, comp = 0;
    if (hsz == 12) {
        w = rd_u16le(buf + 18);
        h = rd_u16le(buf + 20);
        bpp = rd_u16le(buf + 24);
    } else if (hsz >= 40 && len >= 34) {
        w = (int32_t)rd_u32le(buf + 18);
        h = (int32_t)rd_u32le(buf + 22);
        bpp = rd_u16le(buf + 28);
        comp = rd_u32le(buf + 30);
    } else {
        return EV_OK; /* let stb judge */
    }
    if (h < 0) h = -h;
    if (w <= 0 || h <= 0 || w > EV_IMAGE_MAX_DIM || h > EV_IMAGE_MAX_DIM)
        return EV_FAIL(EV_ERR_FORMAT, "%s: BMP has absurd dimensions %lldx%lld", path, w, h);
    if (comp != 0 && comp != 3) return EV_OK; /* RLE etc.: sizes are not fixed */
    unsigned long long rowsz = ((unsigned long long)bpp * (unsigned long long)w + 31) / 32 * 4;
    unsigned long long need = (unsigned long long)off + rowsz * (unsigned long long)h;
    if (need > len)
        return EV_FAIL(EV_ERR_FORMAT, "%s: BMP truncated: pixel data needs %llu bytes, file has %zu",
                       path, need, len);
    return EV_OK;
}

static ev_status decode_bmp(const char *path, const uint8_t *buf, size_t len, ev_image **out) {
    if (len > INT_MAX) return EV_FAIL(EV_ERR_FORMAT, "%s: BMP too large", path);
    EV_TRY(check_bmp_size(path, buf, len));
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(buf, (int)len, &w, &h, &comp))
        return EV_FAIL(EV_ERR_FORMAT, "%s: BMP header rejected by stb_image: %s", path,
                       stbi_failure_reason() ? stbi_failure_reason() : "unknown");
    if (!ev_image_dims_ok(w, h))
        return EV_FAIL(EV_ERR_FORMAT, "%s: BMP has absurd dimensions %dx%d", path, w, h);
    unsigned char *data = stbi_load_from_memory(buf, (int)len, &w, &h, &comp, 3);
    if (!data)
        return EV_FAIL(EV_ERR_FORMAT, "%s: BMP decoding failed: %s", path,
                       stbi_failure_reason() ? stbi_failure_reason() : "unknown");
    ev_status st = ev_image_alloc(w, h, out);
    if (st == EV_OK) memcpy((*out)->pixels, data, (size_t)w * (size_t)h * 3);
    stbi_image_free(data);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                    */
/* ------------------------------------------------------------------------------------------ */

ev_status ev_image_decode(const void *data, size_t len, const char *what, ev_image **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_decode: out is NULL");
    *out = NULL;
    if (!data && len) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_decode: data is NULL");
    const char *path = what ? what : "<memory>";
    const uint8_t *buf = data;
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (len == 0) return EV_FAIL(EV_ERR_FORMAT, "%s: empty file, not an image", path);
    if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
        return decode_jpeg(path, buf, len, out);
    if (len >= 8 && memcmp(buf, png_sig, 8) == 0) return decode_png(path, buf, len, out);
    if (len >= 2 && buf[0] == 'B' && buf[1] == 'M') return decode_bmp(path, buf, len, out);
    return EV_FAIL(EV_ERR_FORMAT,
                   "%s: unknown image format (first bytes %02x %02x %02x %02x; expected JPEG, "
                   "PNG or BMP)",
                   path, buf[0], len > 1 ? buf[1] : 0, len > 2 ? buf[2] : 0, len > 3 ? buf[3] : 0);
}

ev_status ev_image_load(const char *path, ev_image **out) {
    if (!out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_load: out is NULL");
    *out = NULL;
    if (!path) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_load: path is NULL");
    uint8_t *buf;
    size_t len;
    EV_TRY(ev_read_file_max(path, EV_IMAGE_MAX_FILE, &buf, &len));
    ev_status st = ev_image_decode(buf, len, path, out);
    free(buf);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Saving                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static ev_status write_png(const ev_image *img, FILE *f, const char *path) {
    ev_png_ctx ctx = {NULL, 0, 0, {0}, {0}};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_cb,
                                              png_warning_cb);
    if (!png) return EV_FAIL(EV_ERR_NO_MEMORY, "%s: cannot create a libpng writer", path);
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return EV_FAIL(EV_ERR_NO_MEMORY, "%s: cannot create a libpng info struct", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return EV_FAIL(EV_ERR_IO, "%s: PNG writing failed: %s", path, ctx.msg);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++)
        png_write_row(png, img->pixels + (size_t)y * (size_t)img->width * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return EV_OK;
}

static ev_status write_jpeg(const ev_image *img, FILE *f, const char *path) {
    struct jpeg_compress_struct cinfo;
    ev_jpeg_error jerr;
    memset(&cinfo, 0, sizeof cinfo);
    jpeg_install_errors(&jerr);
    cinfo.err = &jerr.pub;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        return EV_FAIL(EV_ERR_IO, "%s: JPEG writing failed: %s", path, jerr.msg);
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)img->width;
    cinfo.image_height = (JDIMENSION)img->height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 92, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW r = (JSAMPROW)(img->pixels + (size_t)cinfo.next_scanline * (size_t)img->width * 3);
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return EV_OK;
}

/* 1 when `path` ends with `ext` (".png"), ignoring case. */
static int has_ext(const char *path, const char *ext) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash)) return 0;
    return strcasecmp(dot, ext) == 0;
}

ev_status ev_image_save(const ev_image *img, const char *path) {
    if (!img || !path || !img->pixels)
        return EV_FAIL(EV_ERR_INVALID_ARG, "ev_image_save: NULL image or path");
    int is_png = has_ext(path, ".png");
    int is_jpeg = has_ext(path, ".jpg") || has_ext(path, ".jpeg");
    if (!is_png && !is_jpeg)
        return EV_FAIL(EV_ERR_INVALID_ARG,
                       "%s: cannot tell the output format from the extension (use .png, .jpg "
                       "or .jpeg)",
                       path);
    ev_atomic_file a;
    EV_TRY(ev_atomic_begin(&a, path));
    ev_status st = is_png ? write_png(img, a.f, path) : write_jpeg(img, a.f, path);
    if (st != EV_OK) {
        ev_atomic_abort(&a);
        return st;
    }
    return ev_atomic_commit(&a);
}
