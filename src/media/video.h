/*
 * video.h - private helpers of the video layer (media/video.c reads, media/video_writer.c
 * writes; both go through FFmpeg's libraries).
 *
 * Extend: helpers both halves share get an ev_video_ prefix here and a definition in video.c.
 */
#ifndef EV_MEDIA_VIDEO_H
#define EV_MEDIA_VIDEO_H

#include "edgevision.h"

/* Installs, once per process, an FFmpeg log callback that never prints and keeps the last
 * error-level message of the calling thread (read back by ev_video_av_last_log). */
void ev_video_av_log_init(void);
/* The last FFmpeg error message logged on this thread ("" when none); cleared by reading. */
const char *ev_video_av_last_log(void);
/* FFmpeg's description of an AVERROR code, in a per-thread buffer. */
const char *ev_video_av_err(int averror);

#endif
