"""edgevision: computer vision on edge hardware, from Python.

A pure-Python layer (ctypes) over libedgevision.so.0, the C library of this project: nothing
is compiled at install time, NumPy arrays go in and come out.

    import edgevision
    net = edgevision.PoseNet("posenet_mobilenet_v1_075_353_481_quant_decoder.tflite")
    for pose in net.estimate("test_couple.jpg"):        # a path or an HxWx3 uint8 array
        print(pose.score, pose.keypoints[0])             # keypoints: 17x3 (x, y, score), image px

    clf = edgevision.Classifier("mobilenet_v2_1.0_224_quant.tflite", labels="imagenet_labels.txt")
    print(clf.top_k("cat.bmp", 3))                       # [ClassScore(286, 0.79, 'Egyptian cat'), ...]

    m = edgevision.Model("model.tflite")                 # any model: raw tensors in and out
    outputs = m.run(array)                               # {output name: numpy array}

Contents:
    Model       a model on a backend: .inputs, .outputs, .run(), .inspect()
    PoseNet     pose estimation (PoseNet and MoveNet models): .estimate(image) -> [Pose]
    MoveNet     the same class as PoseNet (MoveNet SinglePose models are recognised by content)
    Pose        one person: .score, .keypoints (17x3 float32), .labels
    Classifier  image classification, optionally extractor + head: .top_k(), .scores()
    bench()     speed of a model stage by stage: the result document of `edgevision bench`
    load_image(), save_image()  JPEG/PNG/BMP to an HxWx3 uint8 array, and an array to PNG/JPEG
    Error       every failure: .message (the library's), .status ("EV_ERR_FORMAT"), .code
    backends(), version(), library_path(), KEYPOINT_LABELS, SKELETON

Backends: "auto" (default: the fastest of this build that runs every op here: cuda, else cpu,
else ref), "cpu", "ref" (the portable reference), "cuda". threads=None: one per online core.
The library is found through $EDGEVISION_LIBRARY, a copy bundled at install, the path recorded
at install, or the dynamic loader (edgevision/_lib.py).

Extend: a new class wraps one C handle (ev_<noun>_create/free) the way Model does: create in
__init__, free in close(), declare the C functions it calls in _lib._SIGNATURES.
"""

import ctypes
import json
import os
import tempfile
from collections import namedtuple

import numpy as np

from . import _lib
from ._lib import Error

__version__ = "0.1.0"

__all__ = [
    "Error", "Model", "TensorInfo", "PoseNet", "MoveNet", "Pose", "Classifier", "ClassScore",
    "bench", "load_image", "save_image", "backends", "version", "library_path",
    "KEYPOINT_LABELS", "SKELETON",
]

_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.int32, 5: np.int64, 6: np.int16}

KEYPOINT_LABELS = (
    "NOSE", "LEFT_EYE", "RIGHT_EYE", "LEFT_EAR", "RIGHT_EAR", "LEFT_SHOULDER", "RIGHT_SHOULDER",
    "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_HIP", "RIGHT_HIP",
    "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE",
)
"""The 17 COCO keypoints, in the order of Pose.keypoints' rows."""

SKELETON = (
    (11, 5), (7, 5), (7, 9), (11, 13), (13, 15), (12, 6), (8, 6), (8, 10), (12, 14), (14, 16),
    (5, 6), (11, 12), (0, 1), (0, 2), (0, 3), (0, 4), (3, 1), (4, 2), (1, 2),
)
"""Pairs of keypoint indices to join when drawing a skeleton (the library's ev_skeleton_edges;
checked against it by the tests)."""


def version():
    """The version of the loaded libedgevision (this package's major version must match)."""
    return _lib.lib().ev_version().decode()


def library_path():
    """Where the loaded libedgevision.so comes from."""
    return _lib.library_path()


def backends():
    """Names of the backends compiled into the loaded library, e.g. ["ref", "cpu", "cuda"]."""
    names = _lib.lib().ev_backend_names()
    out = []
    i = 0
    while names[i]:
        out.append(names[i].decode())
        i += 1
    return out


def _default_threads():
    try:
        n = os.sysconf("SC_NPROCESSORS_ONLN")  # as the CLI's default
    except (ValueError, OSError, AttributeError):
        n = os.cpu_count() or 1
    return max(1, min(256, int(n)))


def _session_options(opts, backend, threads, isa, keep):
    """Fills an ev_session_options; `keep` holds the encoded strings while C reads them."""
    if not isinstance(backend, str) or not backend:
        raise Error("backend must be a name (auto, ref, cpu, cuda), got %r" % (backend,))
    if threads is None:
        threads = _default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 256:
        raise Error("threads must be an integer in [1, 256] or None, got %r" % (threads,))
    b = backend.encode()
    keep.append(b)
    opts.backend = b
    opts.threads = threads
    if isa is not None:
        s = str(isa).encode()
        keep.append(s)
        opts.isa = s


def _path_arg(path, what):
    if isinstance(path, (str, bytes, os.PathLike)):
        return os.fsencode(path)
    raise Error("%s must be a path, got %s" % (what, type(path).__name__))


def _input_size(size):
    """(height, width) from None, an int, "HxW" or a (height, width) pair; (0, 0) for None."""
    if size is None:
        return 0, 0
    try:
        if isinstance(size, str):
            h, w = (int(v) for v in size.lower().split("x"))
        elif isinstance(size, int):
            h = w = size
        else:
            h, w = (int(v) for v in size)
    except (ValueError, TypeError):
        raise Error("input_size takes (height, width), an int or 'HxW', got %r" % (size,))
    if not (1 <= h <= 65536 and 1 <= w <= 65536):
        raise Error("input_size out of range: %r" % (size,))
    return h, w


# ---- tensors ----------------------------------------------------------------------------------

class TensorInfo(namedtuple("TensorInfo", "name shape dtype quantization per_channel")):
    """A model input or output.

    name:         the tensor's name in the model file
    shape:        a tuple of ints, e.g. (1, 353, 481, 3)
    dtype:        a numpy dtype (uint8, int8, int16, int32, int64, float32)
    quantization: (scale, zero_point) as TensorFlow Lite's Python API gives it; (0.0, 0) when the
                  tensor is not quantized (real value = scale * (q - zero_point))
    per_channel:  True when the tensor has per-channel scales (scale is then the first one)
    """

    __slots__ = ()

    @classmethod
    def _from_c(cls, info):
        shape = tuple(info.dims[d] for d in range(info.ndim))
        dtype = np.dtype(_DTYPES.get(info.dtype, np.uint8))
        name = info.name.decode("utf-8", "replace") if info.name else ""
        return cls(name, shape, dtype, (float(info.scale), int(info.zero_point)),
                   bool(info.per_channel))


def _tensor_dict(info):
    """A TensorInfo as the CLI's `inspect --format json` writes it."""
    q = None
    if info.quantization[0] != 0.0:
        q = {"scale": info.quantization[0], "zero_point": info.quantization[1],
             "per_channel": info.per_channel}
    return {"name": info.name, "shape": list(info.shape), "dtype": info.dtype.name,
            "quantization": q}


def _array_from_c(data, info):
    t = TensorInfo._from_c(info)
    n = int(info.bytes)
    buf = ctypes.string_at(data, n) if n else b""
    return np.frombuffer(buf, dtype=t.dtype).reshape(t.shape).copy()


# ---- images -----------------------------------------------------------------------------------

class _Image:
    """An ev_image made from a path, encoded bytes or an HxWx3 uint8 array (freed on close)."""

    def __init__(self, image):
        lib = _lib.lib()
        self.ptr = ctypes.c_void_p()
        if isinstance(image, (str, os.PathLike)):
            lib.ev_image_load(os.fsencode(image), ctypes.byref(self.ptr))
        elif isinstance(image, (bytes, bytearray, memoryview)):
            data = bytes(image)
            lib.ev_image_decode(data, len(data), b"<bytes>", ctypes.byref(self.ptr))
        elif isinstance(image, np.ndarray):
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise Error("an image array must be HxWx3 uint8 (RGB), got %s %s"
                            % ("x".join(map(str, image.shape)) or "scalar", image.dtype),
                            "EV_ERR_SHAPE")
            if image.shape[0] < 1 or image.shape[1] < 1:
                raise Error("an image array must not be empty, got %s"
                            % "x".join(map(str, image.shape)), "EV_ERR_SHAPE")
            a = np.ascontiguousarray(image)
            lib.ev_image_create(a.shape[1], a.shape[0], a.ctypes.data, ctypes.byref(self.ptr))
        else:
            raise Error("an image is a path, encoded bytes or an HxWx3 uint8 array, got %s"
                        % type(image).__name__)
        self.width = lib.ev_image_width(self.ptr)
        self.height = lib.ev_image_height(self.ptr)

    def close(self):
        if self.ptr:
            _lib.lib().ev_image_free(self.ptr)
            self.ptr = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load_image(path):
    """Decodes a JPEG, PNG or BMP file (or encoded bytes) into an HxWx3 uint8 RGB array, with
    the library's decoders (the pixels PoseNet.estimate and Classifier.top_k see)."""
    with _Image(path) as img:
        n = img.width * img.height * 3
        data = ctypes.string_at(_lib.lib().ev_image_pixels(img.ptr), n)
        return np.frombuffer(data, dtype=np.uint8).reshape(img.height, img.width, 3).copy()


def save_image(image, path):
    """Writes an HxWx3 uint8 RGB array as PNG (.png) or JPEG (.jpg, .jpeg; quality 92), by the
    extension."""
    if not isinstance(image, np.ndarray):
        raise Error("save_image takes an HxWx3 uint8 array, got %s" % type(image).__name__)
    with _Image(image) as img:
        _lib.lib().ev_image_save(img.ptr, _path_arg(path, "path"))


class _Handle:
    """Owns one C handle: close() frees it (also on garbage collection and `with` exit)."""

    _free = None  # name of the ev_*_free function

    def __init__(self):
        self._ptr = ctypes.c_void_p()

    def close(self):
        """Frees the C object now (the object is unusable afterwards)."""
        ptr = getattr(self, "_ptr", None)
        if ptr:
            getattr(_lib.lib(), self._free)(ptr)
            self._ptr = ctypes.c_void_p()

    def _live(self):
        if not self._ptr:
            raise Error("%s is closed" % type(self).__name__)
        return self._ptr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# ---- Model ------------------------------------------------------------------------------------

class Model(_Handle):
    """A model file prepared on a backend: raw tensors in, raw tensors out.

    Model(path, backend="auto", threads=None, input_size=None, isa=None)

    path:       a TFLite flatbuffer, a TensorFlow frozen graph (.pb) or Keras ResNet50 weights
                (.h5): whatever the library loads
    backend:    "auto" (the fastest of this build that runs every op here), "cpu", "ref", "cuda"
    threads:    worker threads; None: one per online core
    input_size: (height, width), "HxW" or an int, for models whose input size is free
                (TensorFlow .pb); a fixed-size model accepts only its own
    isa:        cap on the cpu backend's instruction-set path ("scalar", "avx2", ...)

    Attributes: inputs, outputs (lists of TensorInfo), backend (the backend that runs, "auto"
    resolved), threads, path. Raises Error (e.g. EV_ERR_IO for a missing file, EV_ERR_FORMAT for a
    corrupt one, EV_ERR_UNSUPPORTED for an op the backend lacks).
    """

    _free = "ev_model_free"

    def __init__(self, path, backend="auto", threads=None, input_size=None, isa=None):
        super().__init__()
        self._session = ctypes.c_void_p()
        lib = _lib.lib()
        p = _path_arg(path, "path")
        self.path = os.fsdecode(p)
        h, w = _input_size(input_size)
        if h:
            lib.ev_model_load_with_input(p, h, w, ctypes.byref(self._ptr))
        else:
            lib.ev_model_load(p, ctypes.byref(self._ptr))
        opts = _lib.SessionOptions()
        lib.ev_session_options_init(ctypes.byref(opts))
        keep = []
        try:
            _session_options(opts, backend, threads, isa, keep)
            lib.ev_session_create(self._ptr, ctypes.byref(opts), ctypes.byref(self._session))
        except Error:
            self.close()
            raise
        self.backend = lib.ev_session_backend_name(self._session).decode()
        self.threads = lib.ev_session_threads(self._session)
        self.inputs = [self._info(lib.ev_model_input_info, i)
                       for i in range(lib.ev_model_num_inputs(self._ptr))]
        self.outputs = [self._info(lib.ev_model_output_info, i)
                        for i in range(lib.ev_model_num_outputs(self._ptr))]

    def _info(self, fn, i):
        info = _lib.TensorInfo()
        fn(self._ptr, i, ctypes.byref(info))
        return TensorInfo._from_c(info)

    def close(self):
        if getattr(self, "_session", None):
            _lib.lib().ev_session_free(self._session)
            self._session = ctypes.c_void_p()
        super().close()

    def __repr__(self):
        return "<edgevision.Model %r on %s, %d input(s), %d output(s)>" % (
            self.path, getattr(self, "backend", "?"), len(getattr(self, "inputs", [])),
            len(getattr(self, "outputs", [])))

    def _arrays(self, inputs):
        """The input arrays in input order, from an array, a sequence or a dict."""
        n = len(self.inputs)
        if isinstance(inputs, dict):
            byname = {t.name: i for i, t in enumerate(self.inputs)}
            out = [None] * n
            for key, value in inputs.items():
                i = byname.get(key, key if isinstance(key, int) and 0 <= key < n else None)
                if i is None:
                    raise Error("the model has no input %r (inputs: %s)"
                                % (key, ", ".join(t.name for t in self.inputs)))
                out[i] = value
            missing = [self.inputs[i].name for i in range(n) if out[i] is None]
            if missing:
                raise Error("inputs missing: %s" % ", ".join(missing))
            return out
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != n:
                raise Error("the model has %d input(s), got %d arrays" % (n, len(inputs)))
            return list(inputs)
        if n != 1:
            raise Error("the model has %d inputs: pass a dict {name: array} or a list" % n)
        return [inputs]

    def run(self, inputs):
        """Runs the model once.

        inputs: one array (a model with one input), a list of arrays in input order, or a dict
                {input name (or index): array}. Each array must have the input's exact shape and
                dtype (see .inputs); no conversion is made (quantize yourself with
                .inputs[i].quantization).
        Returns {output name: numpy array} with each output's shape and dtype (copies).
        """
        lib = _lib.lib()
        if not self._session:
            raise Error("Model is closed")
        for i, (t, a) in enumerate(zip(self.inputs, self._arrays(inputs))):
            a = np.asarray(a)
            if a.dtype != t.dtype:
                raise Error("input %d '%s': dtype %s, the model takes %s"
                            % (i, t.name, a.dtype, t.dtype), "EV_ERR_SHAPE")
            if tuple(a.shape) != t.shape:
                raise Error("input %d '%s': shape %s, the model takes %s"
                            % (i, t.name, tuple(a.shape), t.shape), "EV_ERR_SHAPE")
            a = np.ascontiguousarray(a)
            lib.ev_session_set_input(self._session, i, a.ctypes.data, a.nbytes)
        lib.ev_session_run(self._session)
        out = {}
        for i in range(len(self.outputs)):
            data = ctypes.c_void_p()
            info = _lib.TensorInfo()
            lib.ev_session_output(self._session, i, ctypes.byref(data), ctypes.byref(info))
            name = self.outputs[i].name
            out[name if name not in out else "%s:%d" % (name, i)] = _array_from_c(data, info)
        return out

    def inspect(self):
        """What the model holds and how this build runs it, as a dict with the keys and values of
        `edgevision inspect --format json MODEL`: model, inputs, outputs, backends (name,
        available, isa or error), ops (index, type, inputs, outputs with tensor/shape/dtype/
        constant, macs, params, kernels per backend), num_ops, macs and params (totals)."""
        lib = _lib.lib()
        model = self._live()
        nops = lib.ev_model_num_ops(model)
        cols = []
        for name in backends():
            opts = _lib.SessionOptions()
            lib.ev_session_options_init(ctypes.byref(opts))
            opts.backend = name.encode()
            opts.threads = 1
            reports = (_lib.KernelReport * max(nops, 1))()
            col = {"name": name, "available": True}
            try:
                lib.ev_backend_kernels(model, ctypes.byref(opts), reports, nops)
                if name == "cpu":
                    col["isa"] = lib.ev_cpu_isa_name().decode()
            except Error as e:
                col = {"name": name, "available": False, "error": e.message}
                reports = None
            cols.append((col, reports))
        ops = []
        macs = params = 0
        for i in range(nops):
            oi = _lib.OpInfo()
            lib.ev_model_op_info(model, i, ctypes.byref(oi))
            op = {"index": i, "type": oi.type.decode()}
            for key, cnt, idx in (("inputs", oi.num_inputs, oi.inputs),
                                  ("outputs", oi.num_outputs, oi.outputs)):
                lst = []
                for j in range(cnt):
                    ti = _lib.TensorInfo()
                    const = ctypes.c_int(0)
                    if idx[j] < 0:
                        continue
                    try:
                        lib.ev_model_tensor_info(model, idx[j], ctypes.byref(ti),
                                                 ctypes.byref(const))
                    except Error:
                        continue
                    lst.append({"tensor": idx[j], "shape": [ti.dims[d] for d in range(ti.ndim)],
                                "dtype": lib.ev_dtype_name(ti.dtype).decode(),
                                "constant": bool(const.value)})
                op[key] = lst
            op["macs"] = int(oi.macs)
            op["params"] = int(oi.params)
            kernels = {}
            for col, reports in cols:
                if reports is None:
                    continue
                r = reports[i]
                if r.supported:
                    kernels[col["name"]] = {"kernel": r.kernel.decode(),
                                            "reference": bool(r.reference)}
                else:
                    kernels[col["name"]] = {"unsupported": r.why.decode()}
            op["kernels"] = kernels
            ops.append(op)
            macs += int(oi.macs)
            params += int(oi.params)
        return {"model": self.path, "inputs": [_tensor_dict(t) for t in self.inputs],
                "outputs": [_tensor_dict(t) for t in self.outputs],
                "backends": [c for c, _ in cols], "ops": ops, "num_ops": nops, "macs": macs,
                "params": params}


# ---- pose -------------------------------------------------------------------------------------

class Pose:
    """One person found in an image.

    score:     the pose score (float)
    keypoints: a 17x3 float32 array, one row per keypoint in KEYPOINT_LABELS order: x, y (pixels:
               of the image by default, of the model input with coords="input") and the
               keypoint's score in [0, 1]
    labels:    KEYPOINT_LABELS ("NOSE" ... "RIGHT_ANKLE")

    pose["LEFT_WRIST"] (or pose[9]) is that keypoint's row (x, y, score).
    """

    labels = KEYPOINT_LABELS

    def __init__(self, score, keypoints):
        self.score = float(score)
        self.keypoints = keypoints

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                key = KEYPOINT_LABELS.index(key.upper())
            except ValueError:
                raise KeyError(key)
        return self.keypoints[key]

    def __repr__(self):
        return "<edgevision.Pose score %.3f, nose (%.1f, %.1f)>" % (
            self.score, self.keypoints[0, 0], self.keypoints[0, 1])


_DECODERS = {"auto": 0, "multi": 1, "single": 2}


class PoseNet(_Handle):
    """Pose estimation with a PoseNet or MoveNet model (the pipeline of `edgevision pose`).

    PoseNet(path, backend="auto", threads=None, input_size=None, decoder="auto", max_poses=None,
            score_threshold=None, nms_radius=None, legacy_edge16=True, isa=None)

    path:            Coral PoseNet .tflite (with the PosenetDecoderOp or raw heads), PoseNet
                     float .pb (give input_size, e.g. (353, 481)), MoveNet SinglePose .tflite
    decoder:         "auto" (the model's decoder op, else multi), "multi" (Coral's multi-person
                     decoder) or "single" (tfjs' single-pose decoder, raw-head models)
    max_poses:       at most this many poses (None: the CLI's default, 10)
    score_threshold, nms_radius: decoder overrides (None: the model's)
    legacy_edge16:   True: the shipped decoder's edge > 16 rule (the default, as Coral's
                     references); False: libcoral's fixed edge >= 16
    backend, threads, isa: as for Model

    input_size (attribute): the model input as (width, height).
    Results are those of `edgevision pose` with the same options, bit for bit.
    """

    _free = "ev_posenet_free"

    def __init__(self, path, backend="auto", threads=None, input_size=None, decoder="auto",
                 max_poses=None, score_threshold=None, nms_radius=None, legacy_edge16=True,
                 isa=None):
        super().__init__()
        lib = _lib.lib()
        p = _path_arg(path, "path")
        self.path = os.fsdecode(p)
        opts = _lib.PosenetOptions()
        lib.ev_posenet_options_init(ctypes.byref(opts))
        keep = []
        _session_options(opts.session, backend, threads, isa, keep)
        if decoder not in _DECODERS:
            raise Error("decoder takes auto, multi or single, got %r" % (decoder,))
        opts.decoder = _DECODERS[decoder]
        opts.legacy_edge16 = 1 if legacy_edge16 else 0
        self.max_poses = 10
        if max_poses is not None:
            if isinstance(max_poses, bool) or not isinstance(max_poses, int) or \
                    not 1 <= max_poses <= _lib.EV_MAX_POSES:
                raise Error("max_poses takes an integer in [1, %d], got %r"
                            % (_lib.EV_MAX_POSES, max_poses))
            self.max_poses = max_poses
            opts.max_detections = max_poses
        if score_threshold is not None:
            opts.score_threshold = float(score_threshold)
        if nms_radius is not None:
            opts.nms_radius = float(nms_radius)
        h, w = _input_size(input_size)
        lib.ev_posenet_create_with_input(p, h, w, ctypes.byref(opts), ctypes.byref(self._ptr))
        iw, ih = ctypes.c_int(), ctypes.c_int()
        lib.ev_posenet_input_size(self._ptr, ctypes.byref(iw), ctypes.byref(ih))
        self.input_size = (iw.value, ih.value)
        session = lib.ev_posenet_session(self._ptr)
        self.backend = lib.ev_session_backend_name(session).decode()
        self.threads = lib.ev_session_threads(session)

    def __repr__(self):
        return "<edgevision.PoseNet %r %dx%d on %s>" % (
            self.path, self.input_size[0], self.input_size[1], self.backend)

    def estimate(self, image, coords="image"):
        """Poses in `image`, best first.

        image:  a path (JPEG, PNG, BMP), encoded bytes, or an HxWx3 uint8 RGB array
        coords: "image" (default: pixels of the image given) or "input" (model-input pixels)
        Returns a list of Pose (empty when nobody is found).
        """
        if coords not in ("image", "input"):
            raise Error("coords takes image or input, got %r" % (coords,))
        lib = _lib.lib()
        net = self._live()
        poses = (_lib.Pose * _lib.EV_MAX_POSES)()
        n = ctypes.c_int(0)
        with _Image(image) as img:
            lib.ev_posenet_run(net, img.ptr, poses, self.max_poses, ctypes.byref(n))
            if coords == "image":
                lib.ev_poses_rescale(poses, n.value, self.input_size[0], self.input_size[1],
                                     img.width, img.height)
        raw = np.frombuffer(bytes(poses), dtype=np.float32)
        raw = raw.reshape(_lib.EV_MAX_POSES, 1 + 3 * _lib.EV_NUM_KEYPOINTS)[:n.value]
        return [Pose(row[0], row[1:].reshape(_lib.EV_NUM_KEYPOINTS, 3).copy()) for row in raw]


MoveNet = PoseNet
"""MoveNet SinglePose models run through PoseNet (recognised by content): one pose per image."""


# ---- classification ---------------------------------------------------------------------------

ClassScore = namedtuple("ClassScore", "class_id score label")
ClassScore.__doc__ = """One class of a classification: class_id (index into the model's output),
score (the dequantized output value; a probability for softmax outputs) and label (from the
labels file, None without one)."""

_RESIZE = {"bilinear": 1, "nearest": 0}


def _read_labels(path):
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise Error("%s is empty" % os.fsdecode(path), "EV_ERR_FORMAT")
    lines = data.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


class Classifier(_Handle):
    """Image classification (the pipeline of `edgevision classify`).

    Classifier(path, head=None, labels=None, backend="auto", threads=None, resize="bilinear",
               labels_offset=None, isa=None)

    path:          a classifier .tflite (one 1xHxWx3 input, one output of class scores), an
                   embedding extractor (with head=), or Keras ResNet50 weights (.h5)
    head:          a head model fed with path's output (shape, type and quantization must match)
    labels:        a text file, one label per line, or a list of labels
    labels_offset: lines before class 0 (None: 1 when there is one label more than classes,
                   e.g. imagenet_labels.txt's background line, else 0)
    resize:        "bilinear" (default, half-pixel centres) or "nearest"

    Attributes: input_size (width, height), num_classes, labels (list or None), backend.
    Results are those of `edgevision classify` with the same options.
    """

    _free = "ev_classifier_free"

    def __init__(self, path, head=None, labels=None, backend="auto", threads=None,
                 resize="bilinear", labels_offset=None, isa=None):
        super().__init__()
        lib = _lib.lib()
        p = _path_arg(path, "path")
        hp = _path_arg(head, "head") if head is not None else None
        self.path = os.fsdecode(p)
        if resize not in _RESIZE:
            raise Error("resize takes bilinear or nearest, got %r" % (resize,))
        if isinstance(labels, (str, bytes, os.PathLike)):
            try:
                labels = _read_labels(labels)
            except OSError as e:
                raise Error("cannot read labels %s: %s" % (os.fsdecode(labels), e.strerror),
                            "EV_ERR_IO")
        elif labels is not None:
            labels = [str(v) for v in labels]
        opts = _lib.ClassifierOptions()
        lib.ev_classifier_options_init(ctypes.byref(opts))
        keep = []
        _session_options(opts.session, backend, threads, isa, keep)
        opts.resize = _RESIZE[resize]
        lib.ev_classifier_create(p, hp, ctypes.byref(opts), ctypes.byref(self._ptr))
        w, h = ctypes.c_int(), ctypes.c_int()
        lib.ev_classifier_input_size(self._ptr, ctypes.byref(w), ctypes.byref(h))
        self.input_size = (w.value, h.value)
        self.num_classes = lib.ev_classifier_num_classes(self._ptr)
        self.embedding_size = lib.ev_classifier_embedding_size(self._ptr)
        session = lib.ev_classifier_session(self._ptr, 0)
        self.backend = lib.ev_session_backend_name(session).decode()
        if labels_offset is None:
            labels_offset = 1 if labels is not None and len(labels) == self.num_classes + 1 else 0
        self.labels = labels
        self.labels_offset = labels_offset

    def __repr__(self):
        return "<edgevision.Classifier %r, %d classes, on %s>" % (
            self.path, self.num_classes, self.backend)

    def label(self, class_id):
        """The label of class_id (None without labels or past their end)."""
        if self.labels is None:
            return None
        i = class_id + self.labels_offset
        return self.labels[i] if 0 <= i < len(self.labels) else None

    def top_k(self, image, k=5):
        """The k best classes of `image` (a path, encoded bytes or an HxWx3 uint8 array), best
        first (equal scores: lower class id first), as a list of ClassScore."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise Error("k takes a positive integer, got %r" % (k,))
        lib = _lib.lib()
        clf = self._live()
        k = min(k, self.num_classes)
        out = (_lib.ClassScore * k)()
        n = ctypes.c_int(0)
        with _Image(image) as img:
            lib.ev_classifier_top_k(clf, img.ptr, k, out, ctypes.byref(n))
        return [ClassScore(out[i].class_id, float(out[i].score), self.label(out[i].class_id))
                for i in range(n.value)]

    def scores(self, image):
        """Every class score of `image` as a float32 array of num_classes."""
        lib = _lib.lib()
        clf = self._live()
        out = np.zeros(self.num_classes, dtype=np.float32)
        with _Image(image) as img:
            lib.ev_classifier_scores(clf, img.ptr,
                                     out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.size)
        return out

    def embedding(self, image):
        """The first model's output for `image` (an extractor's embedding) as float32."""
        lib = _lib.lib()
        clf = self._live()
        out = np.zeros(self.embedding_size, dtype=np.float32)
        with _Image(image) as img:
            lib.ev_classifier_embedding(clf, img.ptr,
                                        out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                        out.size)
        return out


# ---- benchmark --------------------------------------------------------------------------------

def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def bench(model, inputs, backend="auto", threads=None, min_runs=10, warmup_runs=1, min_secs=1.0,
          max_secs=60.0, pipelined=False, draw=False, loop=False, profile=False, input_size=None,
          seed=1, label=None):
    """Times a model stage by stage, as `edgevision bench` does, and returns its result document
    (docs/results-schema.md) as a dict: {"schema", "tool", "environment", "config", "results":
    [one entry per combination: model, backend, threads, input, runs, stages {stage: {median_ms,
    mean_ms, ...}}, fps ...], "errors"}.

    model:   a model path, or a list of them
    inputs:  an image, video, folder or camera path, "random" (random tensors), or a list
    backend, threads: a value or a list; every combination of model x backend x threads x input
             runs (threads None: one per online core)
    min_runs, min_secs, max_secs, warmup_runs, pipelined, draw, loop, profile, seed: as the
             CLI's options of the same names; input_size for free-size models (HxW)
    label:   the machine's name in reports (None: the host name)
    Raises Error when a combination fails (the message names the model, backend or input).
    """
    lib = _lib.lib()
    keep = []

    def enc(s):
        b = os.fsencode(s) if not isinstance(s, bytes) else s
        keep.append(b)
        return b

    base = _lib.BenchConfig()
    base.warmup_runs = int(warmup_runs)
    base.min_runs = int(min_runs)
    base.min_secs = float(min_secs)
    base.max_secs = float(max_secs)
    base.pipelined = 1 if pipelined else 0
    base.draw = 1 if draw else 0
    base.loop = 1 if loop else 0
    base.profile = 1 if profile else 0
    base.seed = int(seed)
    base.input_h, base.input_w = _input_size(input_size)
    if base.min_runs < 1 or base.warmup_runs < 0 or base.min_secs < 0 or base.max_secs < 0:
        raise Error("min_runs >= 1, warmup_runs >= 0, min_secs and max_secs >= 0")
    models = [_path_arg(m, "model") for m in _as_list(model)]
    ins = [_path_arg(i, "inputs") for i in _as_list(inputs)]
    bks = _as_list(backend)
    ths = [_default_threads() if t is None else t for t in _as_list(threads)]
    for t in ths:
        if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= 256:
            raise Error("threads must be integers in [1, 256] or None, got %r" % (t,))
    known = backends()
    for b in bks:
        if b != "auto" and b not in known:
            raise Error("backend '%s' is not compiled into this build (it has: %s)"
                        % (b, ", ".join(known)), "EV_ERR_UNSUPPORTED")
    base.model = models[0]
    base.backend = enc(bks[0])
    base.input = ins[0]
    base.threads = ths[0]
    env = _lib.BenchEnv()
    lib.ev_bench_env_get(ctypes.byref(env))
    doc = ctypes.c_void_p()
    command = "python: edgevision.bench(%r, %r, backend=%r, threads=%r, min_runs=%d)" % (
        model, inputs, backend, threads, base.min_runs)
    lib.ev_results_begin(ctypes.byref(env), enc(label) if label else None, enc(command),
                         ctypes.byref(base), ctypes.byref(doc))
    try:
        for i in ins:
            for m in models:
                for b in bks:
                    for t in ths:
                        c = _lib.BenchConfig.from_buffer_copy(base)
                        c.model, c.backend, c.input, c.threads = m, enc(b), i, t
                        r = _lib.BenchResult()
                        lib.ev_bench_run(ctypes.byref(c), ctypes.byref(r))
                        try:
                            if r.backend_used:
                                c.backend = enc(r.backend_used)
                            lib.ev_results_add(doc, ctypes.byref(c), ctypes.byref(r))
                        finally:
                            lib.ev_bench_result_release(ctypes.byref(r))
        fd, path = tempfile.mkstemp(prefix="edgevision-bench-", suffix=".json")
        os.close(fd)
        try:
            lib.ev_results_write(doc, os.fsencode(path))
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
    finally:
        lib.ev_results_free(doc)
