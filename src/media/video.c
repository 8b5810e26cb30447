/*
 * video.c - ev_video: frames of a video file (mp4, avi, mkv, webm, mov ...) or of a V4L2 camera
 * (/dev/videoN, through libavdevice's "video4linux2" input), decoded with FFmpeg and converted
 * to 8-bit RGB with libswscale (the stream's own colour matrix and range).
 *
 * Damage: a read or decode error, or a container that promised more frames than it delivered
 * (mp4 and mov know their frame count), ends the stream with one EV_ERR_FORMAT that says after
 * which frame decoding stopped; every frame decoded before it has been returned already.
 * FFmpeg's own log is captured (never printed) and its last error line is added to messages.
 *
 * Decoding runs on one thread (thread_count = 1), so the time a read takes is the time that
 * frame cost; the benchmark's "decode" stage relies on that.
 *
 * Extend: another input kind (an RTSP URL, a screen grabber) is another branch of open_input();
 * the read loop and conversion do not change.
 */
#include "media/video.h"

#include "core/status.h"
#include "media/image.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

/* ------------------------------------------------------------------------------------------ */
/* FFmpeg log capture                                                                         */
/* ------------------------------------------------------------------------------------------ */

static _Thread_local char t_av_log[256];
static _Thread_local char t_av_err[128];
static pthread_once_t g_av_once = PTHREAD_ONCE_INIT;

static void av_log_cb(void *avcl, int level, const char *fmt, va_list vl) {
    (void)avcl;
    if (level > AV_LOG_ERROR) return;
    vsnprintf(t_av_log, sizeof t_av_log, fmt, vl);
    size_t n = strlen(t_av_log);
    while (n && (t_av_log[n - 1] == '\n' || t_av_log[n - 1] == ' ')) t_av_log[--n] = '\0';
}

static void av_once(void) {
    av_log_set_callback(av_log_cb);
    avdevice_register_all();
}

void ev_video_av_log_init(void) { pthread_once(&g_av_once, av_once); }

const char *ev_video_av_last_log(void) {
    static _Thread_local char copy[256];
    memcpy(copy, t_av_log, sizeof copy);
    t_av_log[0] = '\0';
    return copy;
}

const char *ev_video_av_err(int averror) {
    if (av_strerror(averror, t_av_err, sizeof t_av_err) < 0)
        snprintf(t_av_err, sizeof t_av_err, "FFmpeg error %d", averror);
    return t_av_err;
}

/* " (FFmpeg: <last log line>)" or "" */
static const char *log_suffix(char *buf, size_t n) {
    const char *l = ev_video_av_last_log();
    if (*l) snprintf(buf, n, " (FFmpeg: %s)", l);
    else buf[0] = '\0';
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* Reader                                                                                     */
/* ------------------------------------------------------------------------------------------ */

struct ev_video {
    char *path;
    int camera;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    int sws_w, sws_h, sws_fmt;
    int width, height;
    double fps;
    long expected; /* frames the container announces, 0 when unknown */
    long read;     /* frames returned since open or rewind */
    long discarded; /* packets the container marks as not to be shown (edit lists) */
    int flushing;  /* end of packets reached, decoder being drained */
    int done;      /* nothing more to return */
    char damage[160]; /* damage seen while reading, reported after the decoder is drained */
};

int ev_video_path_is_video(const char *path) {
    static const char *const exts[] = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm",
                                       ".mpg", ".mpeg", ".ts", ".flv", ".wmv", NULL};
    if (!path) return 0;
    if (strncmp(path, "/dev/video", 10) == 0) return 1;
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return 0;
    for (int i = 0; exts[i]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

void ev_video_free(ev_video *v) {
    if (!v) return;
    sws_freeContext(v->sws);
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
    free(v->path);
    free(v);
}

static ev_status open_input(ev_video *v) {
    char sfx[300];
    const AVInputFormat *ifmt = NULL;
    struct stat st;
    if (v->camera) {
        if (stat(v->path, &st) != 0)
            return EV_FAIL(EV_ERR_IO, "camera %s: %s", v->path,
                           errno == ENOENT ? "No such device" : strerror(errno));
        ifmt = av_find_input_format("video4linux2");
        if (!ifmt)
            return EV_FAIL(EV_ERR_UNSUPPORTED, "camera %s: this FFmpeg has no video4linux2 input",
                           v->path);
    } else if (stat(v->path, &st) != 0) {
        return EV_FAIL(EV_ERR_IO, "%s: cannot open video: %s", v->path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        return EV_FAIL(EV_ERR_IO, "%s: cannot open video: not a regular file", v->path);
    } else if (st.st_size == 0) {
        return EV_FAIL(EV_ERR_FORMAT, "%s: empty file, not a video", v->path);
    }
    int r = avformat_open_input(&v->fmt, v->path, ifmt, NULL);
    if (r < 0)
        return EV_FAIL(v->camera ? EV_ERR_IO : EV_ERR_FORMAT, "%s %s: cannot open: %s%s",
                       v->camera ? "camera" : "video", v->path, ev_video_av_err(r),
                       log_suffix(sfx, sizeof sfx));
    /* The pixel cap bounds what FFmpeg's decoders allocate for a frame, the probing decoders of
     * avformat_find_stream_info included: a few bytes can declare a 16384x16384 stream. */
    const uint64_t cap = ev_image_max_pixels();
    const int64_t cap_px = cap > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)cap;
    /* A probing decoder that refuses a frame over the cap leaves the stream at 0x0: the size the
     * container declared is kept (per stream) to name it in the error. */
    AVDictionary **sopts = NULL;
    int *declared = NULL;
    const unsigned nstreams = v->fmt->nb_streams;
    if (nstreams) {
        sopts = av_calloc(nstreams, sizeof *sopts);
        declared = av_calloc(nstreams, 2 * sizeof *declared);
        if (!sopts || !declared) {
            av_freep(&sopts);
            av_freep(&declared);
            return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        }
        for (unsigned i = 0; i < nstreams; i++) {
            av_dict_set_int(&sopts[i], "max_pixels", cap_px, 0);
            declared[2 * i] = v->fmt->streams[i]->codecpar->width;
            declared[2 * i + 1] = v->fmt->streams[i]->codecpar->height;
        }
    }
    r = avformat_find_stream_info(v->fmt, sopts);
    for (unsigned i = 0; i < nstreams; i++) av_dict_free(&sopts[i]);
    av_freep(&sopts);
    if (r < 0) {
        av_freep(&declared);
        return EV_FAIL(EV_ERR_FORMAT, "%s: cannot read stream information: %s%s", v->path,
                       ev_video_av_err(r), log_suffix(sfx, sizeof sfx));
    }
    const AVCodec *codec = NULL;
    v->stream = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    int dw = 0, dh = 0;
    if (v->stream >= 0 && (unsigned)v->stream < nstreams) {
        dw = declared[2 * v->stream];
        dh = declared[2 * v->stream + 1];
    }
    av_freep(&declared);
    if (v->stream < 0)
        return EV_FAIL(v->stream == AVERROR_DECODER_NOT_FOUND ? EV_ERR_UNSUPPORTED : EV_ERR_FORMAT,
                       "%s: %s", v->path,
                       v->stream == AVERROR_DECODER_NOT_FOUND ? "no decoder for its video codec"
                                                              : "no video stream");
    AVStream *s = v->fmt->streams[v->stream];
    v->dec = avcodec_alloc_context3(codec);
    if (!v->dec) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    r = avcodec_parameters_to_context(v->dec, s->codecpar);
    if (r < 0) return EV_FAIL(EV_ERR_FORMAT, "%s: codec parameters: %s", v->path, ev_video_av_err(r));
    if ((v->dec->width < 1 || v->dec->height < 1) && dw > 0 && dh > 0)
        v->dec->width = dw, v->dec->height = dh; /* probing refused it (over the cap) */
    if ((uint64_t)v->dec->width * (uint64_t)v->dec->height > cap)
        return EV_FAIL(EV_ERR_NO_MEMORY, "%s: video frames of %dx%d exceed the pixel cap of %llu "
                       "($EV_IMAGE_MAX_PIXELS)", v->path, v->dec->width, v->dec->height,
                       (unsigned long long)cap);
    v->dec->thread_count = 1;
    v->dec->max_pixels = cap_px;
    r = avcodec_open2(v->dec, codec, NULL);
    if (r < 0)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: cannot open the %s decoder: %s%s", v->path,
                       codec->name, ev_video_av_err(r), log_suffix(sfx, sizeof sfx));
    v->width = v->dec->width;
    v->height = v->dec->height;
    if (v->width < 1 || v->height < 1 || v->width > EV_IMAGE_MAX_DIM ||
        v->height > EV_IMAGE_MAX_DIM)
        return EV_FAIL(EV_ERR_FORMAT, "%s: video size %dx%d out of range", v->path, v->width,
                       v->height);
    AVRational fr = av_guess_frame_rate(v->fmt, s, NULL);
    v->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0.0;
    v->expected = v->camera ? 0 : (long)s->nb_frames;
    v->pkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    if (!v->pkt || !v->frame) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    return EV_OK;
}

ev_status ev_video_open(const char *path, ev_video **out) {
    if (!path || !out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_video_open: NULL argument");
    *out = NULL;
    ev_video_av_log_init();
    ev_video_av_last_log();
    ev_video *v = calloc(1, sizeof *v);
    if (!v || !(v->path = strdup(path))) {
        free(v);
        return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    }
    v->camera = strncmp(path, "/dev/video", 10) == 0;
    ev_status st = open_input(v);
    if (st != EV_OK) {
        ev_video_free(v);
        return st;
    }
    *out = v;
    return EV_OK;
}

int ev_video_width(const ev_video *v) { return v ? v->width : 0; }
int ev_video_height(const ev_video *v) { return v ? v->height : 0; }
double ev_video_fps(const ev_video *v) { return v ? v->fps : 0.0; }
long ev_video_frames_read(const ev_video *v) { return v ? v->read : 0; }
long ev_video_frame_count(const ev_video *v) { return v ? v->expected : 0; }
int ev_video_is_camera(const ev_video *v) { return v ? v->camera : 0; }

/* Converts v->frame to a new RGB image. */
static ev_status convert(ev_video *v, ev_image **out) {
    AVFrame *f = v->frame;
    if (!v->sws || f->width != v->sws_w || f->height != v->sws_h || f->format != v->sws_fmt) {
        sws_freeContext(v->sws);
        v->sws = sws_getContext(f->width, f->height, f->format, f->width, f->height,
                                AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
        if (!v->sws)
            return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: cannot convert pixel format %s to RGB",
                           v->path, av_get_pix_fmt_name(f->format));
        int cs = f->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
        const int *coefs = sws_getCoefficients(cs);
        sws_setColorspaceDetails(v->sws, coefs, f->color_range == AVCOL_RANGE_JPEG, coefs, 1, 0,
                                 1 << 16, 1 << 16);
        v->sws_w = f->width;
        v->sws_h = f->height;
        v->sws_fmt = f->format;
    }
    ev_image *img = NULL;
    EV_TRY(ev_image_alloc(f->width, f->height, &img));
    uint8_t *dst[4] = {img->pixels, NULL, NULL, NULL};
    int dst_stride[4] = {f->width * 3, 0, 0, 0};
    sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
    *out = img;
    return EV_OK;
}

/* Ends the stream with a damage error naming the last good frame. */
static ev_status damaged(ev_video *v, const char *why) {
    char sfx[300];
    v->done = 1;
    char total[64] = "";
    if (v->expected > 0) snprintf(total, sizeof total, " of %ld", v->expected);
    return EV_FAIL(EV_ERR_FORMAT, "%s: video damaged or truncated: decoding stopped after frame "
                   "%ld%s (%s)%s", v->path, v->read, total, why, log_suffix(sfx, sizeof sfx));
}

/* Damage found while reading packets: stop reading, but first return the frames the decoder
 * still holds (they were decoded from intact data); the error comes after them. */
static void damage_after_drain(ev_video *v, const char *why) {
    if (!v->damage[0]) snprintf(v->damage, sizeof v->damage, "%s", why);
    v->flushing = 1;
    avcodec_send_packet(v->dec, NULL);
}

ev_status ev_video_read(ev_video *v, ev_image **frame) {
    if (!v || !frame) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_video_read: NULL argument");
    *frame = NULL;
    char why[160];
    while (!v->done) {
        int r = avcodec_receive_frame(v->dec, v->frame);
        if (r == 0) {
            int corrupt = (v->frame->flags & AV_FRAME_FLAG_CORRUPT) || v->frame->decode_error_flags;
            if (corrupt && !v->camera) {
                av_frame_unref(v->frame);
                return damaged(v, v->damage[0] ? v->damage : "corrupt frame data");
            }
            ev_status st = convert(v, frame);
            av_frame_unref(v->frame);
            if (st == EV_OK) v->read++;
            return st;
        }
        if (r == AVERROR_EOF) {
            v->done = 1;
            if (v->damage[0]) return damaged(v, v->damage);
            if (v->expected > 0 && v->read < v->expected - v->discarded) {
                snprintf(why, sizeof why, "the container announces %ld frames", v->expected);
                return damaged(v, why);
            }
            return EV_OK;
        }
        if (r != AVERROR(EAGAIN)) {
            snprintf(why, sizeof why, "decoder: %s", ev_video_av_err(r));
            return damaged(v, why);
        }
        if (v->flushing) { /* cannot happen: a draining decoder ends with EOF */
            v->done = 1;
            return EV_FAIL(EV_ERR_INTERNAL, "%s: decoder neither returned a frame nor ended",
                           v->path);
        }
        r = av_read_frame(v->fmt, v->pkt);
        if (r == AVERROR_EOF) {
            v->flushing = 1;
            avcodec_send_packet(v->dec, NULL);
            continue;
        }
        if (r < 0) {
            if (v->camera) {
                v->done = 1;
                return EV_FAIL(EV_ERR_IO, "camera %s: capture failed after frame %ld: %s",
                               v->path, v->read, ev_video_av_err(r));
            }
            snprintf(why, sizeof why, "reading: %s", ev_video_av_err(r));
            damage_after_drain(v, why);
            continue;
        }
        if (v->pkt->stream_index != v->stream) {
            av_packet_unref(v->pkt);
            continue;
        }
        if (v->pkt->flags & AV_PKT_FLAG_DISCARD) v->discarded++; /* edit list: not shown */
        if ((v->pkt->flags & AV_PKT_FLAG_CORRUPT) && !v->camera) {
            av_packet_unref(v->pkt);
            damage_after_drain(v, "a packet is cut short or corrupt");
            continue;
        }
        r = avcodec_send_packet(v->dec, v->pkt);
        av_packet_unref(v->pkt);
        if (r < 0 && r != AVERROR(EAGAIN)) {
            snprintf(why, sizeof why, "decoder: %s", ev_video_av_err(r));
            damage_after_drain(v, why);
        }
    }
    return EV_OK;
}

ev_status ev_video_rewind(ev_video *v) {
    if (!v) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_video_rewind: NULL argument");
    if (v->camera) return EV_FAIL(EV_ERR_UNSUPPORTED, "camera %s: cannot rewind a camera", v->path);
    int r = av_seek_frame(v->fmt, v->stream, 0, AVSEEK_FLAG_BACKWARD);
    if (r < 0) r = avformat_seek_file(v->fmt, -1, INT64_MIN, 0, 0, 0);
    if (r < 0)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: cannot seek back to the start: %s", v->path,
                       ev_video_av_err(r));
    avcodec_flush_buffers(v->dec);
    v->read = 0;
    v->discarded = 0;
    v->flushing = 0;
    v->done = 0;
    v->damage[0] = '\0';
    return EV_OK;
}
