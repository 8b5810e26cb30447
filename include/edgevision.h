/*
 * edgevision.h - the one public header of libedgevision.
 *
 * Conventions (see docs/architecture.md):
 *   - Opaque handles (ev_model, ev_session, ev_image, ev_posenet) created by ev_<noun>_create/load
 *     and released by ev_<noun>_free (which accepts NULL).
 *   - Every fallible call returns ev_status. On failure ev_last_error() holds a precise message
 *     (what failed, where: file, op index, tensor name). The message is per thread.
 *   - Results are written to out-parameters; memory returned through a pointer to const is owned by
 *     the handle it came from and lives as long as that handle (or until the next call that
 *     rewrites it, as documented).
 *   - The library never exits the process and never prints.
 */
#ifndef EDGEVISION_H
#define EDGEVISION_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define EV_API __declspec(dllexport)
#else
#define EV_API __attribute__((visibility("default")))
#endif

#define EV_VERSION_STRING "0.1.0"

/* The version of the library that is running (EV_VERSION_STRING of the build that made it):
 * what programs loading libedgevision.so.0 at run time (the Python package) compare with their
 * own. */
EV_API const char *ev_version(void);

/* ------------------------------------------------------------------------------------------ */
/* Status and errors                                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef enum ev_status {
    EV_OK = 0,
    EV_ERR_INVALID_ARG = 1,  /* a caller passed a bad value (NULL, out of range, wrong size)  */
    EV_ERR_IO = 2,           /* a file is missing, unreadable or unwritable                   */
    EV_ERR_FORMAT = 3,       /* a file is malformed, truncated or not of the expected kind     */
    EV_ERR_UNSUPPORTED = 4,  /* valid input using something this build/backend lacks (an op)  */
    EV_ERR_NO_MEMORY = 5,    /* an allocation failed                                          */
    EV_ERR_SHAPE = 6,        /* tensor shapes or types do not fit together                    */
    EV_ERR_NEEDS_DEVICE = 7, /* the model needs hardware that is not here (e.g. an Edge TPU)  */
    EV_ERR_INTERNAL = 8,     /* a bug in edgevision: please report it                         */
} ev_status;

/* A short, static description of a status code ("malformed file", ...). */
EV_API const char *ev_status_string(ev_status status);

/* The detailed message of the last failure on this thread ("" when none). */
EV_API const char *ev_last_error(void);

/* Clears the last-error message of this thread. */
EV_API void ev_clear_error(void);

/* ------------------------------------------------------------------------------------------ */
/* Tensors (as seen from outside)                                                             */
/* ------------------------------------------------------------------------------------------ */

typedef enum ev_dtype {
    EV_DTYPE_UNKNOWN = 0,
    EV_DTYPE_F32,
    EV_DTYPE_U8,
    EV_DTYPE_I8,
    EV_DTYPE_I32,
    EV_DTYPE_I64,
    EV_DTYPE_I16,
} ev_dtype;

/* Name of a dtype ("uint8", "float32", ...). */
EV_API const char *ev_dtype_name(ev_dtype dtype);
/* Size in bytes of one element (0 for EV_DTYPE_UNKNOWN). */
EV_API size_t ev_dtype_size(ev_dtype dtype);

#define EV_MAX_DIMS 6

/* Description of a tensor. Pointers inside are owned by the model/session it came from. */
typedef struct ev_tensor_info {
    const char *name;
    ev_dtype dtype;
    int ndim;
    int dims[EV_MAX_DIMS];
    float scale;      /* per-tensor quantization scale (0 when not quantized)            */
    int32_t zero_point;
    int per_channel;  /* 1 when the tensor has per-channel scales (then scale = first one) */
    size_t bytes;     /* element count * dtype size                                       */
} ev_tensor_info;

/* ------------------------------------------------------------------------------------------ */
/* Models: a file turned into a graph                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct ev_model ev_model;

/* Loads a model file (TFLite flatbuffer). Every offset is bounds-checked: a corrupt or truncated
 * file returns EV_ERR_FORMAT; Edge TPU-compiled files return EV_ERR_NEEDS_DEVICE. */
EV_API ev_status ev_model_load(const char *path, ev_model **out);
/* Same, from memory; the bytes are copied. `what` names the source in error messages. */
EV_API ev_status ev_model_load_memory(const void *data, size_t size, const char *what,
                                      ev_model **out);
EV_API void ev_model_free(ev_model *model);

EV_API int ev_model_num_inputs(const ev_model *model);
EV_API int ev_model_num_outputs(const ev_model *model);
EV_API int ev_model_num_ops(const ev_model *model);
EV_API ev_status ev_model_input_info(const ev_model *model, int index, ev_tensor_info *info);
EV_API ev_status ev_model_output_info(const ev_model *model, int index, ev_tensor_info *info);
/* Name of op `index` ("CONV_2D", "DEPTHWISE_CONV_2D", custom ops by their custom code). */
EV_API const char *ev_model_op_name(const ev_model *model, int index);
/* The edge-16 rule of every PosenetDecoderOp in `model` (an option of that op, for sessions
 * created afterwards): 1 = the shipped decoder's legacy `edge > 16` (the default), 0 =
 * libcoral's fixed `edge >= 16`. A model without the op is left as it is. */
EV_API ev_status ev_model_set_decoder_edge16(ev_model *model, int legacy);

/* ------------------------------------------------------------------------------------------ */
/* Sessions: a model prepared on one backend, with its activation memory planned once         */
/* ------------------------------------------------------------------------------------------ */

typedef struct ev_session ev_session;

typedef struct ev_session_options {
    const char *backend; /* "ref" (portable reference, the oracle), "cpu", "cuda" (the names
                            of ev_backend_names), or "auto": the fastest compiled backend that
                            runs every op of the model on this machine (cuda with a device,
                            else cpu, else ref; ev_session_backend_name says which); NULL
                            means "ref"                                                     */
    int threads;         /* worker threads; 0 means 1                                       */
    const char *isa;     /* cpu backend: cap on the instruction-set path ("scalar", "avx2",
                            "avxvnni", "avx512", "vnni", "amx"; "neon", "dotprod" on ARM;
                            ev_cpu_isa_list names this machine's); NULL:
                            the best the CPU has, capped by $EV_ISA when set                */
    unsigned float_modes; /* opt-in faster float32 arithmetic with its own, looser accuracy
                            (EV_FLOAT_* bits; 0, the default: exact float32 kernels within
                            summation-order rounding of the reference, unless
                            $EV_FLOAT_MODES names modes: "winograd", "bf16").
                            Ops a mode does not cover run as without it                     */
} ev_session_options;

/* ev_session_options.float_modes bits (cpu backend). */
#define EV_FLOAT_WINOGRAD 1u /* 3x3 stride-1 convolutions by Winograd F(4x4, 3x3): 2.25x fewer
                                multiplications; error tests/test_winograd.c states          */
#define EV_FLOAT_BF16 2u     /* convolutions and fully connected layers with bfloat16 products
                                and float32 sums (vdpbf16ps: AVX512_BF16 CPUs on an AVX-512
                                path; elsewhere ignored); error tests/test_f32_bf16.c states */


/* Fills `opts` with defaults. */
EV_API void ev_session_options_init(ev_session_options *opts);

/* Names of the backends compiled into this build, NULL-terminated. */
EV_API const char *const *ev_backend_names(void);

/* The instruction-set path the cpu backend uses on this machine: "scalar", "avx2", "avxvnni"
 * (AVX-VNNI, vpdpbusd on ymm), "avx512", "vnni" (AVX-512 VNNI) or "amx" (AMX-INT8 tiles, where
 * Linux grants tile data); "neon" or "dotprod" on ARM: the best the CPU and OS support, capped by
 * $EV_ISA if set. */
EV_API const char *ev_cpu_isa_name(void);
/* Every path the cpu backend can take on this machine, least capable first, as
 * ev_session_options.isa accepts them: writes at most `max` names to `names`, returns how many
 * paths there are (scalar is always one). */
EV_API int ev_cpu_isa_list(const char **names, int max);
/* What the CPU offers, e.g. "avx2 fma avx512f avx512bw avx512_vnni" (amx_int8 when present). */
EV_API const char *ev_cpu_features(void);

/* Prepares `model` for execution. The model must outlive the session. Every op is checked
 * against the backend here: an unsupported op gives EV_ERR_UNSUPPORTED naming the op, its
 * index and the backend. */
EV_API ev_status ev_session_create(const ev_model *model, const ev_session_options *opts,
                                   ev_session **out);
EV_API void ev_session_free(ev_session *session);

/* Copies `bytes` bytes into input `index`; `bytes` must equal the tensor size. */
EV_API ev_status ev_session_set_input(ev_session *session, int index, const void *data,
                                      size_t bytes);
EV_API ev_status ev_session_run(ev_session *session);
/* Output `index` after a run: its data (valid until the next run or free) and description. */
EV_API ev_status ev_session_output(ev_session *session, int index, const void **data,
                                   ev_tensor_info *info);

/* Input `input` of op `op_index` after a run: its data and description (e.g. the heads a
 * post-processing op consumed). The memory plan reuses intermediate buffers, so the data is what
 * the op read only when no later op wrote over it: always for the last op's inputs, constants
 * and model inputs. EV_ERR_INVALID_ARG for an op or input that does not exist. */
EV_API ev_status ev_session_op_input(ev_session *session, int op_index, int input,
                                     const void **data, ev_tensor_info *info);

/* Called after each op during ev_session_run with the op's first output. Intermediate buffers
 * are reused by the memory plan, so copy what you need inside the callback. Return nonzero to
 * abort the run (ev_session_run then returns EV_ERR_INVALID_ARG). */
typedef int (*ev_op_callback)(void *user, int op_index, const char *op_name,
                              const ev_tensor_info *output, const void *data);
EV_API void ev_session_set_op_callback(ev_session *session, ev_op_callback cb, void *user);

/* Per-op timing: with profiling on, every run reads the library clock (ev_clock_seconds)
 * around each op's kernel; ev_session_op_time then gives op `index`'s start (seconds from the
 * start of ev_session_run) and duration in the last run. Two clock reads per op; nothing when
 * off (the default). On an asynchronous backend (cuda) the figures are launch times unless a
 * per-op callback makes it synchronize. EV_ERR_INVALID_ARG when profiling is off. */
EV_API ev_status ev_session_set_profiling(ev_session *session, int on);
EV_API ev_status ev_session_op_time(const ev_session *session, int index, double *start_s,
                                    double *seconds);

/* Bytes of activation memory the plan uses, and what it would take with no reuse. */
EV_API void ev_session_memory(const ev_session *session, size_t *planned, size_t *unplanned);
/* The backend the session runs on ("cpu"; "auto" resolved), and its worker threads. */
EV_API const char *ev_session_backend_name(const ev_session *session);
EV_API int ev_session_threads(const ev_session *session);
/* The kernel that runs op `index` in this session, named by data type, tile and ISA where the
 * backend chose a variant ("u8s8_gemm_6x64__avx512vnni", "ref_conv", "host_posenet_decoder");
 * *reference (optional) is 1 when a fast backend runs the reference kernel. NULL for a bad
 * index. The string lives as long as the session. */
EV_API const char *ev_session_kernel_name(const ev_session *session, int index, int *reference);

/* ---- Inspecting a model: ops, MACs, parameters, kernels (src/core/model_info.c) ---------- */

/* One op of a model. MACs (multiply-accumulates, batch included): CONV_2D out_h*out_w*out_c*
 * k_h*k_w*in_c, DEPTHWISE_CONV_2D out_h*out_w*out_c*k_h*k_w (one input channel per output
 * channel), FULLY_CONNECTED out_elems*in_features; every other op (elementwise, pooling,
 * reshapes, custom ops) counts 0. Parameters: elements of the op's constant inputs (weights,
 * biases, constant operands), not counting int32/int64 shapes, axes or paddings. */
typedef struct ev_op_info {
    const char *type;        /* "CONV_2D", or the custom code ("PosenetDecoderOp")           */
    int num_inputs, num_outputs;
    const int *inputs;       /* tensor indices (ev_model_tensor_info); -1: absent optional  */
    const int *outputs;
    int64_t macs;
    int64_t params;
} ev_op_info;

/* Op `index` of `model`; pointers inside live as long as the model. */
EV_API ev_status ev_model_op_info(const ev_model *model, int index, ev_op_info *info);
/* Number of tensors, and tensor `index` (*constant, optional: 1 for weights and constants). */
EV_API int ev_model_num_tensors(const ev_model *model);
EV_API ev_status ev_model_tensor_info(const ev_model *model, int index, ev_tensor_info *info,
                                      int *constant);
/* Total MACs of the model (the sum of ev_op_info.macs). */
EV_API int64_t ev_model_macs(const ev_model *model);

/* Which kernel a backend would run for one op. */
typedef struct ev_kernel_report {
    int supported;   /* 0: the backend cannot run the op; `why` says why                     */
    int reference;   /* 1: a fast backend runs the reference kernel (a fallback)            */
    char kernel[64]; /* as ev_session_kernel_name names it ("u8s8_gemm_6x64__avx512vnni")   */
    char why[256];
} ev_kernel_report;

/* Asks backend opts->backend (not "auto") about every op of `model` as ev_session_create would
 * (choice and prepare), without stopping at an unsupported op: ops[0, num_ops) are filled.
 * A backend that cannot start here (cuda without a device) returns its error. */
EV_API ev_status ev_backend_kernels(const ev_model *model, const ev_session_options *opts,
                                    ev_kernel_report *ops, int n);

/* ---- Tensor files: model inputs and outputs on disk (`edgevision run`) -------------------- */

/* A tensor read from a file: ONNX TensorProto (.pb, the files of ONNX's test suites) or NumPy
 * (.npy, C order, little-endian). info.name is the TensorProto's name ("" for .npy); data holds
 * info.bytes bytes. Both live until ev_tensor_file_free. */
typedef struct ev_tensor_file {
    ev_tensor_info info;
    void *data;
} ev_tensor_file;

/* Reads `path` by its extension: ".npy" as NumPy, anything else as an ONNX TensorProto. Types:
 * float32, uint8, int8, int16, int32, int64; at most EV_MAX_DIMS dimensions. */
EV_API ev_status ev_tensor_file_read(const char *path, ev_tensor_file **out);
/* Writes `data` (info->bytes, which must fit info's shape and dtype) to `path` atomically:
 * ".npy" as NumPy, anything else as an ONNX TensorProto named info->name. */
EV_API ev_status ev_tensor_file_write(const char *path, const ev_tensor_info *info,
                                      const void *data);
EV_API void ev_tensor_file_free(ev_tensor_file *file);

/* Loads an ONNX model with graph inputs names[0..n) bound to constants values[i] (they stop
 * being inputs; the reader treats them as initializers), as a deployment freezes parameters:
 * ONNX's test suites pass weights, shapes, axes and scales as graph inputs. EV_ERR_INVALID_ARG
 * for a name that is not a graph input; EV_ERR_UNSUPPORTED for other formats. */
EV_API ev_status ev_model_load_bound(const char *path, int n, const char *const *names,
                                     const ev_tensor_file *const *values, ev_model **out);

/* ------------------------------------------------------------------------------------------ */
/* Images: RGB, 8 bits per channel, row-major HWC                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct ev_image ev_image;

typedef enum ev_resize_mode {
    EV_RESIZE_NEAREST = 0,  /* Pillow-identical NEAREST                                */
    EV_RESIZE_BILINEAR = 1, /* bilinear, half-pixel centres, no antialias             */
} ev_resize_mode;

/* Loads JPEG (libjpeg-turbo, default ISLOW/fancy upsampling), PNG or BMP by content, converting
 * grayscale, palette, CMYK and alpha images to RGB. */
EV_API ev_status ev_image_load(const char *path, ev_image **out);
/* Same, from bytes in memory; `what` names the source in error messages (NULL: "<memory>"). */
EV_API ev_status ev_image_decode(const void *data, size_t len, const char *what, ev_image **out);
/* Creates an image copying `rgb` (w*h*3 bytes). */
EV_API ev_status ev_image_create(int width, int height, const uint8_t *rgb, ev_image **out);
EV_API ev_status ev_image_resize(const ev_image *src, int width, int height, ev_resize_mode mode,
                                 ev_image **out);
/* Writes PNG (.png) or JPEG (.jpg/.jpeg, quality 92) by the file extension. */
EV_API ev_status ev_image_save(const ev_image *img, const char *path);
EV_API void ev_image_free(ev_image *img);
EV_API int ev_image_width(const ev_image *img);
EV_API int ev_image_height(const ev_image *img);
EV_API const uint8_t *ev_image_pixels(const ev_image *img);
EV_API uint8_t *ev_image_pixels_mut(ev_image *img);

/* ------------------------------------------------------------------------------------------ */
/* Pose estimation                                                                            */
/* ------------------------------------------------------------------------------------------ */

#define EV_NUM_KEYPOINTS 17

typedef struct ev_keypoint {
    float x, y;  /* pixels (model input or image, as the call says)                   */
    float score; /* probability in [0,1]                                              */
} ev_keypoint;

typedef struct ev_pose {
    float score;
    ev_keypoint keypoints[EV_NUM_KEYPOINTS];
} ev_pose;

/* "NOSE", "LEFT_EYE", ... "RIGHT_ANKLE" for k in [0,17); NULL otherwise. */
EV_API const char *ev_keypoint_label(int k);

/* Skeleton edges for drawing (Coral's 19 pairs): pairs of keypoint indices. */
EV_API int ev_skeleton_edges(const int (**pairs)[2]);

/* Room for poses that callers of ev_posenet_run provide: the largest --max-poses of the CLI and
 * the pose arrays of the benchmark and COCO evaluation. A call returns at most
 * min(max_poses, max_detections) poses (10 in the Coral models). */
#define EV_MAX_POSES 64

/* Scales keypoint positions from a from_w x from_h frame (the model input) to to_w x to_h (the
 * image): x *= (float)to_w / (float)from_w, y likewise; scores are unchanged. */
EV_API void ev_poses_rescale(ev_pose *poses, int num_poses, int from_w, int from_h, int to_w,
                             int to_h);

/* Parameters of the multi-person decoder (Coral PosenetDecoderOp semantics). */
typedef struct ev_posenet_decoder_params {
    int max_detections;    /* 10 in the Coral models                                       */
    float score_threshold; /* on probabilities; 0.2 in the Coral models                    */
    float nms_radius;      /* input pixels; 10 in the Coral models                         */
    int stride;            /* output stride; 16                                            */
    int legacy_edge16;     /* 1: shipped decoder's `edge > 16` quirk; 0: libcoral's fix     */
} ev_posenet_decoder_params;

/* Coral's multi-person decoder on dequantized heads, all row-major [H][W][C] float32:
 *   heat:    [H][W][17] logits (no sigmoid)
 *   offsets: [H][W][34] pixels: dy for keypoint k in channel k, dx in 17+k
 *   disp:    [H][W][64] pixels: forward dy (0..15), forward dx (16..31),
 *                               backward dy (32..47), backward dx (48..63)
 * Writes up to min(max_poses, max_detections) poses, best first, in input pixels. */
EV_API ev_status ev_posenet_decode_multi(const float *heat, const float *offsets,
                                         const float *disp, int height, int width,
                                         const ev_posenet_decoder_params *params, ev_pose *poses,
                                         int max_poses, int *num_poses);

/* tfjs single-pose decoder: per keypoint the argmax cell of `heat` ([H][W][17] logits),
 * position = cell * stride + offset at that cell, score = sigmoid(logit); pose score = mean. */
EV_API ev_status ev_posenet_decode_single(const float *heat, const float *offsets, int height,
                                          int width, int stride, ev_pose *pose);

/* The whole PoseNet pipeline: model + session + preprocessing + decoding. */
typedef struct ev_posenet ev_posenet;

typedef enum ev_pose_decoder {
    EV_DECODER_AUTO = 0,   /* the model's PosenetDecoderOp if it has one, else multi   */
    EV_DECODER_MULTI = 1,  /* Coral multi-person decoder                                 */
    EV_DECODER_SINGLE = 2, /* tfjs single-pose decoder (raw-head models only)           */
} ev_pose_decoder;

typedef struct ev_posenet_options {
    ev_session_options session;
    ev_pose_decoder decoder;
    int legacy_edge16; /* 1 = the shipped decoder's edge > 16 quirk (default), 0 = libcoral's
                          fixed edge >= 16; the decoder op's option and the multi decoder's */
    /* Overrides for raw-head models and the multi decoder; <= 0 keeps the model's value. */
    int max_detections;
    float score_threshold;
    float nms_radius;
} ev_posenet_options;

EV_API void ev_posenet_options_init(ev_posenet_options *opts);
EV_API ev_status ev_posenet_create(const char *model_path, const ev_posenet_options *opts,
                                   ev_posenet **out);
EV_API void ev_posenet_free(ev_posenet *net);
/* Model input size in pixels. */
EV_API void ev_posenet_input_size(const ev_posenet *net, int *width, int *height);
/* The session inside (for per-op callbacks and memory figures). */
EV_API ev_session *ev_posenet_session(ev_posenet *net);
/* Resizes `img` to the input size (Pillow NEAREST), runs the model and decodes. Keypoints are
 * in model-input pixels. Writes at most `max_poses`. */
EV_API ev_status ev_posenet_run(ev_posenet *net, const ev_image *img, ev_pose *poses,
                                int max_poses, int *num_poses);
/* Runs on an input already at the model size (width*height*3 bytes, RGB). */
EV_API ev_status ev_posenet_run_input(ev_posenet *net, const uint8_t *rgb, ev_pose *poses,
                                      int max_poses, int *num_poses);

/* Draws keypoints (score >= min_score) and skeleton edges over `img`, in image pixels. */
EV_API ev_status ev_pose_draw(ev_image *img, const ev_pose *poses, int num_poses,
                              float min_score);

/* ------------------------------------------------------------------------------------------ */
/* Video: files (mp4, avi, mkv, webm, mov ...) and V4L2 cameras, through FFmpeg               */
/* ------------------------------------------------------------------------------------------ */

typedef struct ev_video ev_video;

/* Opens a video file, or a V4L2 camera when `path` is /dev/videoN. A missing camera gives
 * EV_ERR_IO "camera /dev/videoN: No such device"; a file that is not a video, EV_ERR_FORMAT. */
EV_API ev_status ev_video_open(const char *path, ev_video **out);
/* Decodes the next frame into a new RGB image (*frame, freed by the caller with ev_image_free);
 * *frame is NULL at the end. A damaged or truncated file returns every frame decoded before the
 * damage, then one EV_ERR_FORMAT saying after which frame decoding stopped, then the end. */
EV_API ev_status ev_video_read(ev_video *video, ev_image **frame);
/* Back to the first frame (files only). */
EV_API ev_status ev_video_rewind(ev_video *video);
EV_API int ev_video_width(const ev_video *video);
EV_API int ev_video_height(const ev_video *video);
/* Frames per second the stream declares (0 when unknown). */
EV_API double ev_video_fps(const ev_video *video);
/* Frames returned since open or rewind. */
EV_API long ev_video_frames_read(const ev_video *video);
/* Frames the container announces (0 when it does not say). */
EV_API long ev_video_frame_count(const ev_video *video);
EV_API int ev_video_is_camera(const ev_video *video);
EV_API void ev_video_free(ev_video *video);
/* 1 when `path` is a camera (/dev/video...) or has a video file extension (.mp4 .avi .mkv
 * .webm .mov ...), 0 otherwise. */
EV_API int ev_video_path_is_video(const char *path);

typedef struct ev_video_writer ev_video_writer;

/* Creates a video file for width x height RGB frames; the container follows the extension.
 * The file appears (atomically renamed) only when ev_video_writer_close succeeds. */
EV_API ev_status ev_video_writer_open(const char *path, int width, int height, double fps,
                                      ev_video_writer **out);
EV_API ev_status ev_video_writer_write(ev_video_writer *writer, const ev_image *frame);
/* Flushes the encoder, finishes and renames the file, frees the writer (even on failure). */
EV_API ev_status ev_video_writer_close(ev_video_writer *writer);
/* Frees the writer and removes the partial file. Accepts NULL. */
EV_API void ev_video_writer_abort(ev_video_writer *writer);

/* ------------------------------------------------------------------------------------------ */
/* Benchmark: summary statistics and COCO keypoint accuracy                                   */
/* ------------------------------------------------------------------------------------------ */

/* Summary of samples (milliseconds in the benchmark). Percentiles interpolate linearly between
 * closest ranks (numpy's default): p -> sorted[(n-1) p/100]. std is the sample standard
 * deviation (divides by n-1; 0 for one sample). */
typedef struct ev_stats {
    size_t count;
    double min, max, mean, std, p50, p90, p99;
} ev_stats;

EV_API ev_status ev_stats_compute(const double *samples, size_t n, ev_stats *out);
/* Percentile p in [0,100] of n >= 1 ascending values, as above. */
EV_API double ev_percentile_sorted(const double *sorted, size_t n, double p);

/* COCO keypoint evaluation, computed as pycocotools' COCOeval(iouType="keypoints"). */
typedef struct ev_coco_eval ev_coco_eval;

typedef struct ev_coco_stats {
    double ap, ap50, ap75, ap_medium, ap_large; /* -1 when nothing to evaluate           */
    double ar, ar50, ar75, ar_medium, ar_large;
    int num_images, num_gt, num_dt;
} ev_coco_stats;

/* Loads ground truth (person keypoint annotations, COCO JSON). */
EV_API ev_status ev_coco_eval_load(const char *annotations_path, ev_coco_eval **out);
EV_API void ev_coco_eval_free(ev_coco_eval *eval);
EV_API int ev_coco_eval_num_images(const ev_coco_eval *eval);
/* Image `index` of the annotation file: its id, file name and size. */
EV_API ev_status ev_coco_eval_image(const ev_coco_eval *eval, int index, int64_t *id,
                                    const char **file_name, int *width, int *height);
/* Adds predictions for one image: keypoints in image pixels, detection score = pose score. */
EV_API ev_status ev_coco_eval_add(ev_coco_eval *eval, int64_t image_id, const ev_pose *poses,
                                  int num_poses);
EV_API ev_status ev_coco_eval_compute(ev_coco_eval *eval, ev_coco_stats *out);

/* ------------------------------------------------------------------------------------------ */
/* Benchmark runs: PoseNet speed stage by stage, result files and reports (src/bench/)         */
/* ------------------------------------------------------------------------------------------ */
/* What `edgevision bench`, `report` and `eval-pose` are built on (the bench component,
 * docs/results-schema.md). */

/* What a benchmark ran on: host, CPU, ISA, OS, compiler and library versions. */
typedef struct ev_bench_env {
    char host[128];      /* gethostname                                                   */
    char cpu[160];       /* /proc/cpuinfo "model name"                                    */
    int cores;           /* online logical CPUs                                           */
    char features[160];  /* the CPU's SIMD features (avx2 avx512f avx512_vnni amx_int8 ...) */
    char cpu_isa[32];    /* the path the cpu backend takes here (ev_cpu_isa_name)         */
    char os[160];        /* /etc/os-release PRETTY_NAME, kernel release, machine          */
    char compiler[96];   /* the compiler that built libedgevision                         */
    char libraries[256]; /* edgevision, FFmpeg, cJSON, libpng versions                    */
} ev_bench_env;

/* Fills `env` for this machine and build (never fails: unknown fields are "unknown"). */
EV_API void ev_bench_env_get(ev_bench_env *env);
/* The ISA path a backend uses: "portable C" for ref, ev_cpu_isa_name() for cpu, else "". */
EV_API const char *ev_bench_backend_isa(const char *backend);

/* One measurement: a model on one backend, thread count and input, timed stage by stage
 * (decode, preprocess, inference, pose_decode, draw, encode, end_to_end), optionally again with
 * decoding overlapped with inference. Any model the engine loads: PoseNet models (a
 * PosenetDecoderOp, or heatmap/offset heads) get the pose stages (pose_decode, draw, encode,
 * pipelined); other models take image inputs preprocessed from their input spec
 * (ev_model_image_input, bilinear) and are timed decode, preprocess, inference, end_to_end.
 * Input "random": every model input filled once with seeded random values (uniform bytes for
 * uint8/int8, [-1, 1) for float32, 0 for integer types), for models that take no image. */
typedef enum ev_bench_stage {
    EV_STAGE_DECODE,
    EV_STAGE_PREPROCESS,
    EV_STAGE_INFERENCE,
    EV_STAGE_POSE_DECODE,
    EV_STAGE_DRAW,
    EV_STAGE_ENCODE,
    EV_STAGE_END_TO_END,
    EV_STAGE_COUNT
} ev_bench_stage;

/* "decode", "preprocess", "inference", "pose_decode", "draw", "encode", "end_to_end" */
EV_API const char *ev_bench_stage_name(int stage);

/* Called after every run: phase is "warmup", "measure" or "pipelined". */
typedef void (*ev_bench_progress)(void *user, const char *phase, int runs, double elapsed_s);

typedef struct ev_bench_config {
    const char *model, *backend, *input;
    int threads;
    int loop;            /* rewind videos at their end                                    */
    int warmup_runs;     /* runs before measuring (the first is timed as first inference)  */
    int min_runs;        /* measure until min_runs and min_secs are both met ...           */
    double min_secs;
    double max_secs;     /* ... or max_secs of measuring have passed                       */
    int draw;            /* draw skeletons over each frame (timed)                          */
    const char *encode;  /* encode the annotated frames into this video (timed; implies draw) */
    int pipelined;       /* then measure a decode || inference pipeline                    */
    ev_bench_progress progress;
    void *user;
    int profile;         /* time every op of every measured run (ev_bench_result.profile)  */
    int input_h, input_w; /* input size for free-size models (TensorFlow .pb); 0: the file's */
    uint64_t seed;       /* input "random": the seed of the random input tensors            */
} ev_bench_config;

/* One op of a profiled benchmark: the median over the measured runs, and one run's timeline
 * (the last measured run) for traces. */
typedef struct ev_bench_op_profile {
    int op;             /* op index in the model                                          */
    const char *type;   /* "CONV_2D" ... (lives as long as the result)                     */
    char kernel[64];    /* ev_session_kernel_name                                         */
    int reference;      /* a reference kernel on a faster backend                         */
    double median_ms;
    int64_t macs;
    double gops;        /* 2 * MACs / median time, in 1e9 operations per second (0: no MACs) */
    double share;       /* median_ms / the sum of every op's median_ms                     */
    double start_us, dur_us; /* the last measured run: start from run start, duration      */
} ev_bench_op_profile;

typedef struct ev_bench_result {
    int model_w, model_h;      /* model input size                                          */
    int frame_w, frame_h;      /* size of the first frame                                   */
    const char *input_kind;    /* "image", "folder", "video", "camera", "random"           */
    double init_ms;            /* model load + session preparation                          */
    double first_inference_ms; /* inference stage of the very first run                     */
    int warmup_runs, runs;
    double elapsed_s;          /* wall time of the measured runs                            */
    const char *stopped_by;    /* "budget met", "max-secs", "input ended", "input damaged"  */
    char note[512];            /* why the input stopped early, when it did                  */
    ev_stats stages[EV_STAGE_COUNT];
    int has_stage[EV_STAGE_COUNT];
    double fps;                /* end to end: 1000 / mean end_to_end ms                     */
    double fps_inference;      /* 1000 / mean inference ms                                  */
    double fps_pipelined;      /* frames / wall time of the pipelined phase (0: not run)    */
    int pipelined_runs;
    double peak_rss_mb;
    int has_accuracy;
    ev_coco_stats accuracy;
    int num_profile_ops;          /* cfg->profile: one entry per op, in op order            */
    ev_bench_op_profile *profile; /* owned by the result: ev_bench_result_release           */
    char backend_used[32];        /* the backend that ran ("auto" resolved)                 */
} ev_bench_result;

/* Frees what a result owns (the profile); the struct stays readable otherwise. */
EV_API void ev_bench_result_release(ev_bench_result *result);

/* Runs one measurement. Errors name the model, backend or input at fault. */
EV_API ev_status ev_bench_run(const ev_bench_config *cfg, ev_bench_result *out);

/* Result files: one JSON document per `edgevision bench` invocation, written atomically, read
 * back by `edgevision report` (docs/results-schema.md). An opaque handle collecting results. */
typedef struct ev_results ev_results;

/* Starts a result document; `label` names the machine in reports (NULL: the host name). */
EV_API ev_status ev_results_begin(const ev_bench_env *env, const char *label,
                                  const char *command, const ev_bench_config *cfg,
                                  ev_results **out);
/* Records one measured combination. */
EV_API ev_status ev_results_add(ev_results *r, const ev_bench_config *cfg,
                                const ev_bench_result *res);
/* Records a combination that could not be measured (missing backend, bad input ...). */
EV_API ev_status ev_results_add_error(ev_results *r, const ev_bench_config *cfg,
                                      const char *message);
/* Writes the document to `path` through PATH.tmp renamed into place. */
EV_API ev_status ev_results_write(const ev_results *r, const char *path);
/* Frees the document (accepts NULL). */
EV_API void ev_results_free(ev_results *r);

/* One result as the report sees it. Absent optional figures are -1. */
typedef struct ev_report_row {
    char file[256];
    char machine[128]; /* label (host name unless --label was given) */
    char cpu[160], isa[64];
    char backend[32];
    int threads;
    char model[160], input[160];
    int runs;
    double inference_median_ms, e2e_median_ms, fps, fps_inference, fps_pipelined, peak_rss_mb;
    double coco_ap;
} ev_report_row;

/* Reads a result file and appends its results to *rows (realloc'd; *n updated). Malformed JSON
 * and missing fields are EV_ERR_FORMAT naming the file, the line/column or the result index and
 * the field. */
EV_API ev_status ev_results_load(const char *path, ev_report_row **rows, int *n);

/* Short model name: the file name without directory and ".tflite". */
EV_API void ev_results_model_name(const char *path, char *out, size_t n);

/* Writes DIR/report.md and DIR/fps.svg (DIR is created when missing). `baseline` names a setup
 * ("vm ref x1") or a machine label with a single setup; NULL means the first setup read. */
EV_API ev_status ev_bench_report_write(const ev_report_row *rows, int nrows,
                                       const char *const *files, int nfiles,
                                       const char *baseline, const char *dir);

/* COCO accuracy of a PoseNet model on an annotated image folder. Called after each image with its index, count and file name. */
typedef void (*ev_pose_eval_progress)(void *user, int done, int total, const char *file);

/* Runs `net` on every image of `annotations` (found as images_dir/file_name), adds the poses as
 * predictions (image pixels: x_img = x_in * W_img / W_in, likewise y; detection score = pose
 * score) and computes the statistics. When `predictions` is not NULL, *predictions receives the
 * predictions in COCO's result format (a malloc'd JSON array text). */
EV_API ev_status ev_pose_eval_coco(ev_posenet *net, const char *annotations,
                                   const char *images_dir, ev_coco_stats *stats,
                                   char **predictions, ev_pose_eval_progress progress,
                                   void *user);

/* Writes `size` bytes to `path` atomically: PATH.tmp is written, flushed, synced and renamed
 * over PATH, so readers see the old file or the new one, never a half-written one. */
EV_API ev_status ev_file_write_atomic(const char *path, const void *data, size_t size);

/* The same for a stream: open gives a writer whose stream writes PATH.tmp; commit flushes,
 * syncs and renames it over PATH (an error names the path); abort removes PATH.tmp. Both commit
 * and abort free the writer. */
typedef struct ev_file_writer ev_file_writer;
EV_API ev_status ev_file_writer_open(const char *path, ev_file_writer **out);
EV_API FILE *ev_file_writer_stream(ev_file_writer *writer);
EV_API ev_status ev_file_writer_commit(ev_file_writer *writer);
EV_API void ev_file_writer_abort(ev_file_writer *writer);

/* Seconds on the library's monotonic clock (the one every timing of the library uses). */
EV_API double ev_clock_seconds(void);

/* ------------------------------------------------------------------------------------------ */
/* Classification                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* An image classifier: one TFLite model (one 1xHxWx3 input, one output of class scores), or an
 * embedding extractor composed with a head model (the extractor's output tensor feeds the head's
 * input; shape, type and quantization must match). Preprocessing: the whole image resized to the
 * model input (bilinear, half-pixel centres, truncated to uint8; or nearest), no crop; uint8
 * inputs take the pixels as they are, float32 inputs p / 127.5 - 1, int8 inputs that value
 * quantized with their own parameters. */
typedef struct ev_classifier ev_classifier;

typedef struct ev_classifier_options {
    ev_session_options session;
    ev_resize_mode resize; /* EV_RESIZE_BILINEAR (default) or EV_RESIZE_NEAREST           */
} ev_classifier_options;

typedef struct ev_class_score {
    int class_id; /* index into the model's output (ImageNet files: label line - 1)      */
    float score;  /* the dequantized output value (a probability for softmax outputs)   */
} ev_class_score;

EV_API void ev_classifier_options_init(ev_classifier_options *opts);
/* The classifier's preprocessing for any model whose input 0 is an image (1xHxWx3): `img`
 * resized to the input with `mode` (when its size differs), then converted by the input's type
 * and quantization as above (and the model's ev_model_preprocess) into out[0, bytes); bytes
 * must equal the input's size. EV_ERR_SHAPE when input 0 is not an image. */
EV_API ev_status ev_model_image_input(const ev_model *model, const ev_image *img,
                                      ev_resize_mode mode, void *out, size_t bytes);
/* Loads `model_path`, and `head_path` (NULL: none) to compose with it. A head whose input does
 * not match the model's output is refused with EV_ERR_SHAPE naming both tensors and shapes; a
 * model with an op the backend lacks gives EV_ERR_UNSUPPORTED naming the op. */
EV_API ev_status ev_classifier_create(const char *model_path, const char *head_path,
                                      const ev_classifier_options *opts, ev_classifier **out);
EV_API void ev_classifier_free(ev_classifier *classifier);
/* Model input size in pixels. */
EV_API void ev_classifier_input_size(const ev_classifier *classifier, int *width, int *height);
/* Number of class scores (elements of the last model's output), e.g. 1001. */
EV_API int ev_classifier_num_classes(const ev_classifier *classifier);
/* Number of embedding values (elements of the first model's output), e.g. 1024. */
EV_API int ev_classifier_embedding_size(const ev_classifier *classifier);
/* The session of stage 0 (the model or extractor) or 1 (the head); NULL otherwise. */
EV_API ev_session *ev_classifier_session(ev_classifier *classifier, int stage);
/* All class scores of `img` as floats into scores[0, num_classes); n >= num_classes. */
EV_API ev_status ev_classifier_scores(ev_classifier *classifier, const ev_image *img,
                                      float *scores, size_t n);
/* The k best classes of `img`, best first (equal scores: lower class id first); *count =
 * min(k, num_classes). */
EV_API ev_status ev_classifier_top_k(ev_classifier *classifier, const ev_image *img, int k,
                                     ev_class_score *out, int *count);
/* The embedding of `img`: the first model's output (the extractor's, without running the head),
 * dequantized to floats into out[0, embedding_size); n >= embedding_size. */
EV_API ev_status ev_classifier_embedding(ev_classifier *classifier, const ev_image *img,
                                         float *out, size_t n);
/* The k best of n scores into out (same order rule); returns how many were written. */
EV_API int ev_classifier_top_k_of(const float *scores, int n, int k, ev_class_score *out);

/* ---- Training (begin) ----------------------------------------------------------------------- */
/* Training: a small dense head on a frozen backbone ("car or not a car"; src/train/,
 * docs/training.md). */

/* How images are divided into train (0), validation (1) and test (2). All are seeded. */
typedef enum ev_split_mode {
    EV_SPLIT_STRATIFIED = 0, /* random, with the fractions holding within each label        */
    EV_SPLIT_RANDOM = 1,     /* random over all images                                       */
    EV_SPLIT_GROUP = 2,      /* whole groups (a source folder cut into blocks of group_size
                                consecutive file numbers) go to one split, stratified by label */
    EV_SPLIT_DATASET = 3,    /* the dataset's own train/test split (Stanford Cars); validation
                                comes out of train; images without one: stratified            */
} ev_split_mode;

typedef enum ev_train_stage {
    EV_TRAIN_NOTE = 0,     /* `message` is a line for the user (skipped image, cache state)  */
    EV_TRAIN_HASH = 1,     /* hashing image files: done of total                              */
    EV_TRAIN_FEATURES = 2, /* computing backbone features: done of total                      */
    EV_TRAIN_EPOCH = 3,    /* an epoch finished (its checkpoint is on disk): metrics set      */
    EV_TRAIN_PREDICT = 4,  /* eval: classifying images, done of total                         */
} ev_train_stage;

typedef struct ev_train_progress {
    ev_train_stage stage;
    long done, total;    /* items of this stage (images; epochs for EV_TRAIN_EPOCH)       */
    double elapsed_s;    /* seconds since the stage began                                  */
    const char *message; /* EV_TRAIN_NOTE only                                             */
    int epoch;           /* EV_TRAIN_EPOCH: 1-based, with the row written to history.csv  */
    double loss, accuracy, val_loss, val_accuracy, seconds;
} ev_train_progress;

/* Called on the calling thread; a nonzero return stops the work (EV_ERR_INVALID_ARG "stopped
 * by the progress callback"; the run folder keeps every completed epoch). */
typedef int (*ev_train_progress_fn)(void *user, const ev_train_progress *p);

#define EV_TRAIN_MAX_DATA 8
#define EV_TRAIN_MAX_HIDDEN 8

/* What the backbone is and how images reach it: any model ev_classifier_create accepts, cut at
 * the tensor named `cut` (NULL: the model's output), images resized with `resize`. */
typedef struct ev_backbone_options {
    const char *model;   /* e.g. mobilenet_v1_1.0_224_quant_embedding_extractor.tflite    */
    const char *cut;     /* NULL: the model's output                                       */
    int resize;          /* ev_resize_mode, or -1: nearest for Keras .h5 files (Keras's
                            load_img), else the classifier's default (bilinear)            */
    const char *backend; /* NULL: "cpu" when built, else "ref"                             */
    int threads;         /* images in parallel; 0: every online CPU                        */
} ev_backbone_options;

/* Where images come from. Each root is detected: a Stanford Cars devkit (devkit/
 * cars_train_annos.mat), Caltech-256 (NNN.name/ folders), or one folder per class (`positive`
 * is label 1, any other top-level folder label 0; subfolders are the image's source). */
typedef struct ev_data_options {
    const char *roots[EV_TRAIN_MAX_DATA];
    int num_roots;
    const char *positive;        /* class folder of label 1; NULL: "car"                    */
    const char *caltech_exclude; /* file, one category per line; NULL: the default list     */
    int limit_per_source;        /* keep the first N images (sorted) of each source; 0: all */
} ev_data_options;

typedef struct ev_train_options {
    ev_data_options data;
    ev_backbone_options backbone;
    const char *out;   /* run folder (created)                                           */
    const char *cache; /* feature cache file; NULL: OUT/features.cache                   */
    ev_split_mode split;
    double fractions[3]; /* train, validation, test; default 0.5 0.3 0.2                 */
    int group_size;      /* EV_SPLIT_GROUP: consecutive file numbers per group; default 50 */
    uint64_t seed;       /* default 1                                                    */
    int hidden[EV_TRAIN_MAX_HIDDEN];
    int num_hidden;      /* default one hidden layer of 32                                */
    float dropout;       /* after each hidden layer; 0 (default) = none                   */
    float learning_rate; /* Adam; default 0.001                                           */
    int batch;           /* default 32                                                    */
    int epochs;          /* default 10                                                    */
    int patience;        /* early stopping on val_loss after this many epochs; 0 = off    */
    int resume;          /* continue a stopped run in `out` from its last completed epoch */
    ev_train_progress_fn progress;
    void *user;
} ev_train_options;

/* Test-set figures (label 1 is the positive class). */
typedef struct ev_eval_summary {
    long count, tp, fp, tn, fn, skipped;
    double accuracy, precision, recall, loss;
} ev_eval_summary;

EV_API void ev_train_options_init(ev_train_options *opts);
/* Scans the data, writes OUT/manifest.tsv, computes or reuses the feature cache, splits, trains
 * (OUT/history.csv, accuracy.svg, loss.svg, model.json = best by val_loss, train.state), then
 * evaluates the best model on the test split (OUT/report.md, report.json, misclassified.tsv,
 * misclassified.png). `test` (may be NULL) receives the test figures. See docs/training.md. */
EV_API ev_status ev_train_run(const ev_train_options *opts, ev_eval_summary *test);

typedef struct ev_eval_options {
    const char *model; /* run folder of ev_train_run (or its model.json)                  */
    ev_data_options data;
    const char *backbone; /* NULL: the path the model records (its hash is checked)       */
    const char *backend;
    int threads;
    const char *out;   /* report folder; NULL: MODEL/eval                                 */
    const char *cache; /* NULL: no feature cache                                          */
    ev_train_progress_fn progress;
    void *user;
} ev_eval_options;

EV_API void ev_eval_options_init(ev_eval_options *opts);
/* Classifies every image of the data roots with a saved model and writes the test report
 * (report.md, report.json, misclassified.tsv, misclassified.png) into `out`. */
EV_API ev_status ev_eval_run(const ev_eval_options *opts, ev_eval_summary *summary);

/* A saved binary classifier: backbone + head, as ev_train_run wrote it. */
typedef struct ev_head_model ev_head_model;

/* Loads RUN/model.json (or the file itself). The backbone is `backbone` or, when NULL, the
 * path the model records; its SHA-1 must equal the recorded one (EV_ERR_INVALID_ARG naming
 * both hashes otherwise). `session` may be NULL. */
EV_API ev_status ev_head_model_load(const char *run, const char *backbone,
                                    const ev_session_options *session, ev_head_model **out);
EV_API void ev_head_model_free(ev_head_model *model);
/* P(label 1) for `img`. */
EV_API ev_status ev_head_model_predict(ev_head_model *model, const ev_image *img, float *p);
/* Name of label 0 or 1 ("not_car", "car"). */
EV_API const char *ev_head_model_label(const ev_head_model *model, int label);
/* ---- Training (end) ------------------------------------------------------------------------- */

/* ---- Keras models (begin) ----------------------------------------------------------------- */
/* Keras HDF5 weights files (keras.applications ResNet50, docs/keras.md). ev_model_load() and
 * the classifier recognise them by content (224x224 input, top as the file has it); these calls
 * choose the input size and the top. */

/* How a model expects its input image (ev_model_preprocess; the classifier applies it). */
typedef enum ev_preprocess {
    EV_PREPROCESS_DEFAULT = 0,   /* by input type: uint8 pixels as they are, float32 p/127.5 - 1,
                                    int8 that value quantized (TFLite image models)          */
    EV_PREPROCESS_CAFFE_BGR = 1, /* float32 B, G, R minus 103.939, 116.779, 123.68, no scaling
                                    (Keras "caffe": ResNet50's preprocess_input)              */
} ev_preprocess;

EV_API ev_preprocess ev_model_preprocess(const ev_model *model);

typedef struct ev_keras_options {
    int input_width, input_height; /* default 224; any size from 32 up                        */
    int include_top; /* -1 (default): as the file has it; 0: stop at the 2048 pooled features
                        even when the file has a top; 1: require the top (error without)      */
} ev_keras_options;

EV_API void ev_keras_options_init(ev_keras_options *opts);
/* Builds Keras's ResNet50 from its weights file (resnet50_weights_tf_dim_ordering_tf_kernels
 * [_notop].h5): input 1xHxWx3 float32 caffe-preprocessed BGR; output 1x2048 pooled features
 * (no top) or 1xN softmax probabilities (top). BatchNorm is folded into the convolutions.
 * Missing layers, wrong shapes and truncated files are EV_ERR_FORMAT/EV_ERR_SHAPE naming the
 * layer; the legacy resnet50.py naming (res2a_branch2a, BN epsilon 1e-3) is mapped. opts NULL:
 * defaults. */
EV_API ev_status ev_keras_resnet50_load(const char *path, const ev_keras_options *opts,
                                        ev_model **out);
/* A classifier over a Keras weights file with these options (ev_classifier_create takes the
 * defaults). Keras's own pipeline resizes with nearest: pass EV_RESIZE_NEAREST in copts for
 * Keras's exact input. */
EV_API ev_status ev_classifier_create_keras(const char *path, const ev_keras_options *kopts,
                                            const ev_classifier_options *copts,
                                            ev_classifier **out);
/* ---- Keras models (end) ------------------------------------------------------------------- */

/* ---- TensorFlow models / quantization ---------------------------------------------------- */
/* TensorFlow frozen graphs (GraphDef .pb; docs/tf-graphdef.md) load through ev_model_load when
 * their input size is fixed; graphs with a free input size ([1, ?, ?, C] Placeholder, like
 * PoseNet's float graphs) need the size at load time: */

/* Loads `path` with its image input at height x width; shapes are propagated through the graph
 * at load time. A file whose input is fixed (TFLite, or a fixed Placeholder) accepts only its own
 * size: EV_ERR_SHAPE naming both otherwise. */
EV_API ev_status ev_model_load_with_input(const char *path, int height, int width,
                                          ev_model **out);
/* ev_posenet_create for free-size models: input height x width, where (size - 1) must be a
 * multiple of the output stride the graph has (read from the graph: 16 for
 * posenet_mobilenet_v1_*_float.pb), EV_ERR_SHAPE otherwise. A heatmap output produced by a
 * sigmoid (the float graphs' `heatmap`) is taken as probabilities: the multi decoder gets
 * clamped logits log(p / (1 - p)), the single decoder scores keypoints with p. height = width
 * = 0: the same as ev_posenet_create. */
EV_API ev_status ev_posenet_create_with_input(const char *model_path, int height, int width,
                                              const ev_posenet_options *opts, ev_posenet **out);

/* Writes `model` as a TFLite flatbuffer (schema subset: the builtin ops of the IR, per-tensor
 * and per-channel quantization; custom ops are refused with EV_ERR_UNSUPPORTED). The file is
 * written to a temporary name and renamed on success. It loads back through ev_model_load. */
EV_API ev_status ev_model_save_tflite(const ev_model *model, const char *path);

typedef struct ev_quantize_options {
    const char *backend; /* backend of the calibration runs; NULL: "ref"                   */
    int threads;         /* 0: 1                                                           */
    int per_channel;     /* 1 (default): int8 weight scales per output channel; 0: per tensor */
} ev_quantize_options;

EV_API void ev_quantize_options_init(ev_quantize_options *opts);
/* Post-training int8 quantization of a float32 model with one 1xHxWx3 image input. Each
 * calibration image is resized to the input (Pillow NEAREST, as ev_posenet_run does), scaled to
 * p / 127.5 - 1 and run; the min/max of every activation over all images (widened to include 0)
 * gives its asymmetric int8 scale and zero point. Weights: symmetric int8 (per output channel by
 * default); biases int32 with scale input scale x weight scale; LOGISTIC outputs 1/256, -128
 * (TFLite's rule); pooling, PAD and standalone RELU outputs keep their input's parameters.
 * Inputs and outputs become int8. The result runs on every backend with int8 kernels ("ref",
 * "cpu"); save it with ev_model_save_tflite. */
EV_API ev_status ev_quantize_model(const ev_model *float_model, const ev_image *const *images,
                                   int num_images, const ev_quantize_options *opts,
                                   ev_model **out);
/* ---- TensorFlow models / quantization (end) ---------------------------------------------- */

#ifdef __cplusplus
}
#endif
#endif /* EDGEVISION_H */
