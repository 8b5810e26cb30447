"""The C ABI of libedgevision through ctypes: finding and loading the library, the structs of
include/edgevision.h mirrored field by field, the function signatures, and edgevision.Error.

Nothing here is public: edgevision/__init__.py builds the Python API on top.

Where the library is looked for, in order (the first that loads wins):
  1. $EDGEVISION_LIBRARY (a path; when set, only this one is tried);
  2. a copy bundled into the package at install time (setup.py copies the library it found);
  3. the path setup.py recorded at install time (_install.py);
  4. the dynamic loader's search: libedgevision.so.0 (ldconfig, $LD_LIBRARY_PATH).

Extend: a new C function is one line in _SIGNATURES (name, restype, argtypes; ev_status
functions use _STATUS and then raise Error by themselves); a new struct is a ctypes.Structure
below with its fields in exactly the header's order and types.
"""

import ctypes
import ctypes.util
import glob
import os
import threading

__all__ = ["Error", "lib", "library_path"]

# ev_status codes, by the enum names of edgevision.h.
STATUS_NAMES = {
    0: "EV_OK",
    1: "EV_ERR_INVALID_ARG",
    2: "EV_ERR_IO",
    3: "EV_ERR_FORMAT",
    4: "EV_ERR_UNSUPPORTED",
    5: "EV_ERR_NO_MEMORY",
    6: "EV_ERR_SHAPE",
    7: "EV_ERR_NEEDS_DEVICE",
    8: "EV_ERR_INTERNAL",
}
STATUS_CODES = {v: k for k, v in STATUS_NAMES.items()}


class Error(Exception):
    """An edgevision failure.

    Attributes:
        message:     the library's message: what failed, where and why (the same text the
                     CLI prints after "error:").
        status:      the status name, e.g. "EV_ERR_FORMAT" (see include/edgevision.h).
        code:        the status as a number (ev_status).
        description: the status in words, e.g. "malformed or truncated file".
    """

    def __init__(self, message, status="EV_ERR_INVALID_ARG"):
        if isinstance(status, int):
            status = STATUS_NAMES.get(status, "EV_ERR_INTERNAL")
        self.message = message
        self.status = status
        self.code = STATUS_CODES.get(status, 8)
        self.description = _status_string(self.code)
        super().__init__(message)

    def __str__(self):
        return "%s (%s)" % (self.message, self.description or self.status)


def _status_string(code):
    handle = _state.get("lib")
    if handle is None:
        return None
    return handle.ev_status_string(code).decode("utf-8", "replace")


# ---- structs (include/edgevision.h) ----------------------------------------------------------

EV_MAX_DIMS = 6
EV_NUM_KEYPOINTS = 17
EV_MAX_POSES = 64


class TensorInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("dims", ctypes.c_int * EV_MAX_DIMS),
        ("scale", ctypes.c_float),
        ("zero_point", ctypes.c_int32),
        ("per_channel", ctypes.c_int),
        ("bytes", ctypes.c_size_t),
    ]


class SessionOptions(ctypes.Structure):
    # ev_session_options, field for field (include/edgevision.h)
    _fields_ = [("backend", ctypes.c_char_p), ("threads", ctypes.c_int), ("isa", ctypes.c_char_p),
                ("float_modes", ctypes.c_uint)]


class OpInfo(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_char_p),
        ("num_inputs", ctypes.c_int),
        ("num_outputs", ctypes.c_int),
        ("inputs", ctypes.POINTER(ctypes.c_int)),
        ("outputs", ctypes.POINTER(ctypes.c_int)),
        ("macs", ctypes.c_int64),
        ("params", ctypes.c_int64),
    ]


class KernelReport(ctypes.Structure):
    _fields_ = [
        ("supported", ctypes.c_int),
        ("reference", ctypes.c_int),
        ("kernel", ctypes.c_char * 64),
        ("why", ctypes.c_char * 256),
    ]


class Keypoint(ctypes.Structure):
    _fields_ = [("x", ctypes.c_float), ("y", ctypes.c_float), ("score", ctypes.c_float)]


class Pose(ctypes.Structure):
    _fields_ = [("score", ctypes.c_float), ("keypoints", Keypoint * EV_NUM_KEYPOINTS)]


class PosenetOptions(ctypes.Structure):
    _fields_ = [
        ("session", SessionOptions),
        ("decoder", ctypes.c_int),
        ("legacy_edge16", ctypes.c_int),
        ("max_detections", ctypes.c_int),
        ("score_threshold", ctypes.c_float),
        ("nms_radius", ctypes.c_float),
    ]


class ClassifierOptions(ctypes.Structure):
    _fields_ = [("session", SessionOptions), ("resize", ctypes.c_int)]


class ClassScore(ctypes.Structure):
    _fields_ = [("class_id", ctypes.c_int), ("score", ctypes.c_float)]


class Stats(ctypes.Structure):
    _fields_ = [("count", ctypes.c_size_t)] + [
        (n, ctypes.c_double) for n in ("min", "max", "mean", "std", "p50", "p90", "p99")
    ]


class CocoStats(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_double)
        for n in ("ap", "ap50", "ap75", "ap_medium", "ap_large",
                  "ar", "ar50", "ar75", "ar_medium", "ar_large")
    ] + [("num_images", ctypes.c_int), ("num_gt", ctypes.c_int), ("num_dt", ctypes.c_int)]


class BenchEnv(ctypes.Structure):
    _fields_ = [
        ("host", ctypes.c_char * 128),
        ("cpu", ctypes.c_char * 160),
        ("cores", ctypes.c_int),
        ("features", ctypes.c_char * 160),
        ("cpu_isa", ctypes.c_char * 32),
        ("os", ctypes.c_char * 160),
        ("compiler", ctypes.c_char * 96),
        ("libraries", ctypes.c_char * 256),
    ]


BENCH_PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                  ctypes.c_double)


class BenchConfig(ctypes.Structure):
    _fields_ = [
        ("model", ctypes.c_char_p),
        ("backend", ctypes.c_char_p),
        ("input", ctypes.c_char_p),
        ("threads", ctypes.c_int),
        ("loop", ctypes.c_int),
        ("warmup_runs", ctypes.c_int),
        ("min_runs", ctypes.c_int),
        ("min_secs", ctypes.c_double),
        ("max_secs", ctypes.c_double),
        ("draw", ctypes.c_int),
        ("encode", ctypes.c_char_p),
        ("pipelined", ctypes.c_int),
        ("progress", ctypes.c_void_p),  # ev_bench_progress; NULL from Python
        ("user", ctypes.c_void_p),
        ("profile", ctypes.c_int),
        ("input_h", ctypes.c_int),
        ("input_w", ctypes.c_int),
        ("seed", ctypes.c_uint64),
    ]


EV_STAGE_COUNT = 7


class BenchResult(ctypes.Structure):
    _fields_ = [
        ("model_w", ctypes.c_int),
        ("model_h", ctypes.c_int),
        ("frame_w", ctypes.c_int),
        ("frame_h", ctypes.c_int),
        ("input_kind", ctypes.c_char_p),
        ("init_ms", ctypes.c_double),
        ("first_inference_ms", ctypes.c_double),
        ("warmup_runs", ctypes.c_int),
        ("runs", ctypes.c_int),
        ("elapsed_s", ctypes.c_double),
        ("stopped_by", ctypes.c_char_p),
        ("note", ctypes.c_char * 512),
        ("stages", Stats * EV_STAGE_COUNT),
        ("has_stage", ctypes.c_int * EV_STAGE_COUNT),
        ("fps", ctypes.c_double),
        ("fps_inference", ctypes.c_double),
        ("fps_pipelined", ctypes.c_double),
        ("pipelined_runs", ctypes.c_int),
        ("peak_rss_mb", ctypes.c_double),
        ("has_accuracy", ctypes.c_int),
        ("accuracy", CocoStats),
        ("num_profile_ops", ctypes.c_int),
        ("profile", ctypes.c_void_p),
        ("backend_used", ctypes.c_char * 32),
    ]


# ---- functions ------------------------------------------------------------------------------

_STATUS = "status"  # restype marker: an ev_status, checked (raises Error)
P = ctypes.POINTER
c_int, c_float, c_size_t, c_char_p, c_void_p = (ctypes.c_int, ctypes.c_float, ctypes.c_size_t,
                                               ctypes.c_char_p, ctypes.c_void_p)

_SIGNATURES = [
    ("ev_version", c_char_p, []),
    ("ev_status_string", c_char_p, [c_int]),
    ("ev_last_error", c_char_p, []),
    ("ev_clear_error", None, []),
    ("ev_dtype_name", c_char_p, [c_int]),
    ("ev_backend_names", P(c_char_p), []),
    ("ev_cpu_isa_name", c_char_p, []),
    ("ev_model_load", _STATUS, [c_char_p, P(c_void_p)]),
    ("ev_model_load_with_input", _STATUS, [c_char_p, c_int, c_int, P(c_void_p)]),
    ("ev_model_free", None, [c_void_p]),
    ("ev_model_num_inputs", c_int, [c_void_p]),
    ("ev_model_num_outputs", c_int, [c_void_p]),
    ("ev_model_num_ops", c_int, [c_void_p]),
    ("ev_model_input_info", _STATUS, [c_void_p, c_int, P(TensorInfo)]),
    ("ev_model_output_info", _STATUS, [c_void_p, c_int, P(TensorInfo)]),
    ("ev_model_op_info", _STATUS, [c_void_p, c_int, P(OpInfo)]),
    ("ev_model_tensor_info", _STATUS, [c_void_p, c_int, P(TensorInfo), P(c_int)]),
    ("ev_model_macs", ctypes.c_int64, [c_void_p]),
    ("ev_backend_kernels", _STATUS, [c_void_p, P(SessionOptions), P(KernelReport), c_int]),
    ("ev_session_options_init", None, [P(SessionOptions)]),
    ("ev_session_create", _STATUS, [c_void_p, P(SessionOptions), P(c_void_p)]),
    ("ev_session_free", None, [c_void_p]),
    ("ev_session_set_input", _STATUS, [c_void_p, c_int, c_void_p, c_size_t]),
    ("ev_session_run", _STATUS, [c_void_p]),
    ("ev_session_output", _STATUS, [c_void_p, c_int, P(c_void_p), P(TensorInfo)]),
    ("ev_session_backend_name", c_char_p, [c_void_p]),
    ("ev_session_threads", c_int, [c_void_p]),
    ("ev_image_load", _STATUS, [c_char_p, P(c_void_p)]),
    ("ev_image_decode", _STATUS, [c_void_p, c_size_t, c_char_p, P(c_void_p)]),
    ("ev_image_create", _STATUS, [c_int, c_int, c_void_p, P(c_void_p)]),
    ("ev_image_free", None, [c_void_p]),
    ("ev_image_width", c_int, [c_void_p]),
    ("ev_image_height", c_int, [c_void_p]),
    ("ev_image_pixels", c_void_p, [c_void_p]),
    ("ev_image_save", _STATUS, [c_void_p, c_char_p]),
    ("ev_keypoint_label", c_char_p, [c_int]),
    ("ev_skeleton_edges", c_int, [P(P(c_int * 2))]),
    ("ev_poses_rescale", None, [P(Pose), c_int, c_int, c_int, c_int, c_int]),
    ("ev_posenet_options_init", None, [P(PosenetOptions)]),
    ("ev_posenet_create_with_input", _STATUS,
     [c_char_p, c_int, c_int, P(PosenetOptions), P(c_void_p)]),
    ("ev_posenet_free", None, [c_void_p]),
    ("ev_posenet_input_size", None, [c_void_p, P(c_int), P(c_int)]),
    ("ev_posenet_session", c_void_p, [c_void_p]),
    ("ev_posenet_run", _STATUS, [c_void_p, c_void_p, P(Pose), c_int, P(c_int)]),
    ("ev_classifier_options_init", None, [P(ClassifierOptions)]),
    ("ev_classifier_create", _STATUS, [c_char_p, c_char_p, P(ClassifierOptions), P(c_void_p)]),
    ("ev_classifier_free", None, [c_void_p]),
    ("ev_classifier_input_size", None, [c_void_p, P(c_int), P(c_int)]),
    ("ev_classifier_num_classes", c_int, [c_void_p]),
    ("ev_classifier_embedding_size", c_int, [c_void_p]),
    ("ev_classifier_session", c_void_p, [c_void_p, c_int]),
    ("ev_classifier_scores", _STATUS, [c_void_p, c_void_p, P(c_float), c_size_t]),
    ("ev_classifier_top_k", _STATUS, [c_void_p, c_void_p, c_int, P(ClassScore), P(c_int)]),
    ("ev_classifier_embedding", _STATUS, [c_void_p, c_void_p, P(c_float), c_size_t]),
    ("ev_bench_env_get", None, [P(BenchEnv)]),
    ("ev_bench_run", _STATUS, [P(BenchConfig), P(BenchResult)]),
    ("ev_bench_result_release", None, [P(BenchResult)]),
    ("ev_results_begin", _STATUS, [P(BenchEnv), c_char_p, c_char_p, P(BenchConfig), P(c_void_p)]),
    ("ev_results_add", _STATUS, [c_void_p, P(BenchConfig), P(BenchResult)]),
    ("ev_results_add_error", _STATUS, [c_void_p, P(BenchConfig), c_char_p]),
    ("ev_results_write", _STATUS, [c_void_p, c_char_p]),
    ("ev_results_free", None, [c_void_p]),
]


def _errcheck(result, func, args):
    if result != 0:
        handle = _state["lib"]
        msg = handle.ev_last_error().decode("utf-8", "replace")
        handle.ev_clear_error()
        raise Error(msg or "%s failed" % func.__name__, result)
    return result


_state = {}
_lock = threading.Lock()


def _candidates():
    env = os.environ.get("EDGEVISION_LIBRARY")
    if env:
        return [("$EDGEVISION_LIBRARY", env)]
    here = os.path.dirname(os.path.abspath(__file__))
    out = [("bundled", p) for p in sorted(glob.glob(os.path.join(here, "libedgevision.so*")))]
    try:
        from . import _install  # written by setup.py at install time

        if getattr(_install, "LIBRARY", None):
            out.append(("recorded at install", _install.LIBRARY))
    except ImportError:
        pass
    out.append(("the dynamic loader", "libedgevision.so.0"))
    found = ctypes.util.find_library("edgevision")
    if found:
        out.append(("the dynamic loader", found))
    return out


def _load():
    tried = []
    for where, path in _candidates():
        try:
            handle = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s): %s" % (path, where, e))
            continue
        for name, restype, argtypes in _SIGNATURES:
            try:
                fn = getattr(handle, name)
            except AttributeError:
                raise Error("%s (%s) lacks %s: a library older than this package (%s)"
                            % (path, where, name, _package_version()), "EV_ERR_UNSUPPORTED")
            fn.argtypes = argtypes
            if restype is _STATUS:
                fn.restype = ctypes.c_int
                fn.errcheck = _errcheck
            else:
                fn.restype = restype
        version = handle.ev_version().decode()
        if version.split(".")[0] != _package_version().split(".")[0]:
            raise Error("%s (%s) is edgevision %s; this package is %s"
                        % (path, where, version, _package_version()), "EV_ERR_UNSUPPORTED")
        _state["path"] = getattr(handle, "_name", path)
        return handle
    raise Error("libedgevision.so.0 not found; tried: " + "; ".join(tried)
                + ". Build it (cmake --build build) and set EDGEVISION_LIBRARY to "
                "build/libedgevision.so, or install it (cmake --install build)", "EV_ERR_IO")


def _package_version():
    from . import __version__

    return __version__


def lib():
    """The loaded library (loaded on first use)."""
    handle = _state.get("lib")
    if handle is None:
        with _lock:
            handle = _state.get("lib")
            if handle is None:
                handle = _load()
                _state["lib"] = handle
    return handle


def library_path():
    """The path of the libedgevision that is loaded (loading it if needed)."""
    lib()
    path = _state["path"]
    if not os.path.isabs(path):  # found by the loader: ask it where
        try:
            with open("/proc/self/maps") as f:
                for line in f:
                    if "libedgevision" in line and "/" in line:
                        return line[line.index("/"):].strip()
        except OSError:
            pass
    return path
