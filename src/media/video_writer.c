/*
 * video_writer.c - ev_video_writer: RGB frames encoded into a video file with FFmpeg.
 *
 * The container comes from the file extension (.mp4, .mkv, .avi, .webm, .mov); the codec is the
 * container's default video codec when this FFmpeg can encode it (H.264 through libx264 for mp4
 * and mkv, VP9/VP8 for webm), else MPEG-4 part 2. Frames are converted to the encoder's pixel
 * format with libswscale. Codecs that need even dimensions (4:2:0) get the frame scaled to the
 * even size just below (one pixel at most). The file is written as PATH.tmp and renamed when
 * ev_video_writer_close succeeds (util/file.h), so a failure never leaves a half-written video.
 *
 * Extend: encoder options per codec live in set_quality(); a new container needs nothing here
 * if FFmpeg knows its extension.
 */
#include "media/video.h"

#include "core/status.h"
#include "media/image.h"
#include "util/file.h"

#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

struct ev_video_writer {
    ev_atomic_file file; /* PATH.tmp, renamed over PATH by a successful close */
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    int in_w, in_h;
    int64_t next_pts;
    int header_written;
};

static void writer_free(ev_video_writer *w, int remove_tmp) {
    if (!w) return;
    if (w->oc && w->oc->pb) avio_closep(&w->oc->pb);
    if (remove_tmp) ev_atomic_abort(&w->file);
    sws_freeContext(w->sws);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    avcodec_free_context(&w->enc);
    avformat_free_context(w->oc);
    free(w);
}

void ev_video_writer_abort(ev_video_writer *w) { writer_free(w, 1); }

static void set_quality(AVCodecContext *enc) {
    if (strcmp(enc->codec->name, "libx264") == 0) {
        av_opt_set(enc->priv_data, "preset", "veryfast", 0);
        av_opt_set(enc->priv_data, "crf", "20", 0);
    } else if (strncmp(enc->codec->name, "libvpx", 6) == 0) {
        av_opt_set(enc->priv_data, "deadline", "realtime", 0);
        av_opt_set(enc->priv_data, "crf", "24", 0);
        enc->bit_rate = 2000000;
    } else {
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = FF_QP2LAMBDA * 3;
    }
}

static ev_status open_encoder(ev_video_writer *w, int width, int height, double fps) {
    const AVOutputFormat *of = w->oc->oformat;
    const AVCodec *codec = of->video_codec != AV_CODEC_ID_NONE
                               ? avcodec_find_encoder(of->video_codec) : NULL;
    if (!codec || avformat_query_codec(of, codec->id, FF_COMPLIANCE_NORMAL) != 1)
        codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (!codec) return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: no video encoder available", w->file.path);
    w->enc = avcodec_alloc_context3(codec);
    if (!w->enc) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    enum AVPixelFormat pf = AV_PIX_FMT_YUV420P;
    if (codec->pix_fmts) {
        pf = codec->pix_fmts[0];
        for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
            if (*p == AV_PIX_FMT_YUV420P) pf = *p;
    }
    int even = pf == AV_PIX_FMT_YUV420P || pf == AV_PIX_FMT_NV12;
    w->enc->width = even ? width & ~1 : width;
    w->enc->height = even ? height & ~1 : height;
    if (w->enc->width < 2 || w->enc->height < 2)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: frame size %dx%d too small for a video",
                       w->file.path, width, height);
    AVRational rate = av_d2q(fps > 0 ? fps : 25.0, 100000);
    w->enc->time_base = av_inv_q(rate);
    w->enc->framerate = rate;
    w->enc->pix_fmt = pf;
    w->enc->gop_size = 12;
    w->enc->thread_count = 1;
    if (of->flags & AVFMT_GLOBALHEADER) w->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    set_quality(w->enc);
    int r = avcodec_open2(w->enc, codec, NULL);
    if (r < 0)
        return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: cannot open the %s encoder: %s", w->file.path,
                       codec->name, ev_video_av_err(r));
    w->st = avformat_new_stream(w->oc, NULL);
    if (!w->st) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    w->st->time_base = w->enc->time_base;
    r = avcodec_parameters_from_context(w->st->codecpar, w->enc);
    if (r < 0) return EV_FAIL(EV_ERR_INTERNAL, "%s: codec parameters: %s", w->file.path,
                              ev_video_av_err(r));
    w->frame = av_frame_alloc();
    w->pkt = av_packet_alloc();
    if (!w->frame || !w->pkt) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    w->frame->format = pf;
    w->frame->width = w->enc->width;
    w->frame->height = w->enc->height;
    if (av_frame_get_buffer(w->frame, 0) < 0) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    w->sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, w->enc->width, w->enc->height, pf,
                            SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!w->sws) return EV_FAIL(EV_ERR_UNSUPPORTED, "%s: cannot convert RGB to %s", w->file.path,
                                av_get_pix_fmt_name(pf));
    return EV_OK;
}

ev_status ev_video_writer_open(const char *path, int width, int height, double fps,
                               ev_video_writer **out) {
    if (!path || !out) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_video_writer_open: NULL argument");
    *out = NULL;
    if (width < 1 || height < 1 || width > EV_IMAGE_MAX_DIM || height > EV_IMAGE_MAX_DIM)
        return EV_FAIL(EV_ERR_INVALID_ARG, "%s: frame size %dx%d out of range", path, width,
                       height);
    ev_video_av_log_init();
    ev_video_writer *w = calloc(1, sizeof *w);
    if (!w) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    ev_status st = EV_OK;
    EV_TRY_GOTO(st, ev_atomic_begin_path(&w->file, path), fail);
    w->in_w = width;
    w->in_h = height;
    int r = avformat_alloc_output_context2(&w->oc, NULL, NULL, path);
    if (r < 0 || !w->oc) {
        st = EV_FAIL(EV_ERR_UNSUPPORTED, "%s: no video container for this file extension (use "
                     ".mp4, .mkv, .avi, .webm or .mov)", path);
        goto fail;
    }
    EV_TRY_GOTO(st, open_encoder(w, width, height, fps), fail);
    av_free(w->oc->url); /* the muxer reopens its url (mp4 faststart): the file being written */
    w->oc->url = av_strdup(w->file.tmp);
    if (!w->oc->url) {
        st = EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    r = avio_open(&w->oc->pb, w->file.tmp, AVIO_FLAG_WRITE);
    if (r < 0) {
        st = EV_FAIL(EV_ERR_IO, "%s: cannot write: %s", w->file.tmp, ev_video_av_err(r));
        goto fail;
    }
    AVDictionary *mux = NULL; /* mp4/mov: index first, so a cut file keeps its frames */
    if (strcmp(w->oc->oformat->name, "mp4") == 0 || strcmp(w->oc->oformat->name, "mov") == 0)
        av_dict_set(&mux, "movflags", "+faststart", 0);
    r = avformat_write_header(w->oc, &mux);
    av_dict_free(&mux);
    if (r < 0) {
        st = EV_FAIL(EV_ERR_IO, "%s: cannot write the header: %s", path, ev_video_av_err(r));
        goto fail;
    }
    w->header_written = 1;
    *out = w;
    return EV_OK;
fail:
    writer_free(w, 1);
    return st;
}

/* Sends `frame` (NULL to drain) and writes every packet the encoder returns. */
static ev_status encode(ev_video_writer *w, AVFrame *frame) {
    int r = avcodec_send_frame(w->enc, frame);
    if (r < 0) return EV_FAIL(EV_ERR_INTERNAL, "%s: encoder: %s", w->file.path, ev_video_av_err(r));
    for (;;) {
        r = avcodec_receive_packet(w->enc, w->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return EV_OK;
        if (r < 0)
            return EV_FAIL(EV_ERR_INTERNAL, "%s: encoder: %s", w->file.path, ev_video_av_err(r));
        if (w->pkt->duration <= 0) w->pkt->duration = 1; /* one frame: mp4 needs the last one's */
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        r = av_interleaved_write_frame(w->oc, w->pkt);
        if (r < 0) return EV_FAIL(EV_ERR_IO, "%s: writing: %s", w->file.tmp, ev_video_av_err(r));
    }
}

ev_status ev_video_writer_write(ev_video_writer *w, const ev_image *img) {
    if (!w || !img) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_video_writer_write: NULL argument");
    if (img->width != w->in_w || img->height != w->in_h)
        return EV_FAIL(EV_ERR_SHAPE, "%s: frame %lld is %dx%d, the video is %dx%d", w->file.path,
                       (long long)w->next_pts, img->width, img->height, w->in_w, w->in_h);
    if (av_frame_make_writable(w->frame) < 0) return EV_FAIL(EV_ERR_NO_MEMORY, "out of memory");
    const uint8_t *src[4] = {img->pixels, NULL, NULL, NULL};
    int src_stride[4] = {img->width * 3, 0, 0, 0};
    sws_scale(w->sws, src, src_stride, 0, img->height, w->frame->data, w->frame->linesize);
    w->frame->pts = w->next_pts++;
    return encode(w, w->frame);
}

ev_status ev_video_writer_close(ev_video_writer *w) {
    if (!w) return EV_FAIL(EV_ERR_INVALID_ARG, "ev_video_writer_close: NULL argument");
    ev_status st = encode(w, NULL);
    if (st == EV_OK) {
        int r = av_write_trailer(w->oc);
        if (r < 0) st = EV_FAIL(EV_ERR_IO, "%s: writing the trailer: %s", w->file.path,
                                ev_video_av_err(r));
    }
    if (st == EV_OK) {
        int r = avio_closep(&w->oc->pb);
        if (r < 0) st = EV_FAIL(EV_ERR_IO, "%s: closing: %s", w->file.tmp, ev_video_av_err(r));
    }
    if (st == EV_OK) st = ev_atomic_commit(&w->file);
    writer_free(w, st != EV_OK);
    return st;
}
