"""Tests of the edgevision Python package (run by python/tests/run.sh, which CTest's test_python
starts): results identical to the CLI's on the shared models, arrays in and out with the right
dtype, shape and layout, errors raised as edgevision.Error with the library's message.

Environment: EDGEVISION_SHARED (the shared data; tests that need an absent file skip saying so),
EV_CLI (the CLI to compare with; those tests skip without it), EDGEVISION_LIBRARY.

Extend: a new API call gets a test here comparing it with the CLI or the C library's own
figures; helpers for running the CLI are cli() and cli_csv().
"""

import csv
import io
import json
import os
import pydoc
import subprocess
import sys

import numpy as np
import pytest

import edgevision

SHARED = os.environ.get("EDGEVISION_SHARED") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared")
CLI = os.environ.get("EV_CLI")

POSENET = "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite"
POSENET_RAW = "models/posenet/posenet_mobilenet_v1_075_353_481_quant.tflite"
EDGETPU = "models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder_edgetpu.tflite"
MOVENET = "models/movenet/movenet_single_pose_lightning_ptq.tflite"
MOBILENET_SMALL = "models/mobilenet/mobilenet_v1_0.5_160_quant.tflite"
EXTRACTOR = "models/mobilenet/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"
HEAD = "models/mobilenet/mobilenet_quant_v1_224_head_layers.tflite"
LABELS = "models/mobilenet/imagenet_labels.txt"
COUPLE = "data/images/test_couple.jpg"
CAT = "data/images/cat.bmp"
SQUAT = "data/images/squat.bmp"


def shared(rel):
    p = os.path.join(SHARED, rel)
    if not os.path.exists(p):
        pytest.skip("%s is absent from EDGEVISION_SHARED=%s" % (rel, SHARED))
    return p


def cli(*args):
    if not CLI:
        pytest.skip("EV_CLI is not set: no CLI to compare with")
    r = subprocess.run([CLI] + list(args), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def cli_csv(*args):
    return list(csv.DictReader(io.StringIO(cli(*args))))


def f32(s):
    return np.float32(float(s))


# ---- library and constants ------------------------------------------------------------------

def test_version_and_backends():
    assert edgevision.version() == edgevision.__version__
    b = edgevision.backends()
    assert b[0] == "ref" and "cpu" in b
    assert os.path.exists(edgevision.library_path())


def test_constants_match_the_library():
    lib = edgevision._lib.lib()
    labels = tuple(lib.ev_keypoint_label(k).decode() for k in range(17))
    assert labels == edgevision.KEYPOINT_LABELS
    pairs = edgevision._lib.P(edgevision._lib.c_int * 2)()
    n = lib.ev_skeleton_edges(pairs)
    assert tuple((pairs[i][0], pairs[i][1]) for i in range(n)) == edgevision.SKELETON


def test_help_reads_well():
    text = pydoc.render_doc(edgevision, renderer=pydoc.plaintext)
    for word in ("PoseNet", "Classifier", "Model", "bench", "Error", "estimate", "top_k"):
        assert word in text
    assert "keypoints" in (edgevision.Pose.__doc__ or "")
    for obj in (edgevision.Model.run, edgevision.Model.inspect, edgevision.PoseNet.estimate,
                edgevision.Classifier.top_k, edgevision.bench, edgevision.load_image):
        assert obj.__doc__ and len(obj.__doc__) > 40, obj


# ---- pose -------------------------------------------------------------------------------------

def poses_of_cli(model, image, *extra):
    rows = cli_csv("pose", "--model", model, "--format", "csv", *extra, image)
    out = {}
    for r in rows:
        out.setdefault(int(r["pose_id"]), (f32(r["pose_score"]), []))[1].append(
            (r["keypoint_label"], f32(r["keypoint_x"]), f32(r["keypoint_y"]),
             f32(r["keypoint_score"])))
    return [out[k] for k in sorted(out)]


def assert_same_poses(poses, expected):
    assert len(poses) == len(expected)
    for p, (score, kps) in zip(poses, expected):
        assert np.float32(p.score) == score
        assert p.keypoints.shape == (17, 3) and p.keypoints.dtype == np.float32
        assert [k[0] for k in kps] == list(edgevision.KEYPOINT_LABELS)
        want = np.array([[k[1], k[2], k[3]] for k in kps], dtype=np.float32)
        np.testing.assert_array_equal(p.keypoints, want)


def test_posenet_identical_to_cli_on_test_couple():
    model, image = shared(POSENET), shared(COUPLE)
    net = edgevision.PoseNet(model)
    poses = net.estimate(image)
    assert len(poses) == 2 and poses[0].score > 0.8
    assert_same_poses(poses, poses_of_cli(model, image))
    # image pixels: the nose of the first person is inside the 1280x... image, not the input
    assert poses[0]["NOSE"][0] > net.input_size[0]
    # input coordinates and reference backend, as the CLI gives them
    ref = edgevision.PoseNet(model, backend="ref", threads=1)
    assert ref.backend == "ref" and ref.threads == 1
    assert_same_poses(ref.estimate(image, coords="input"),
                      poses_of_cli(model, image, "--coords", "input", "--backend", "ref",
                                   "--threads", "1"))


def test_posenet_array_and_bytes_inputs_equal_path():
    model, image = shared(POSENET), shared(COUPLE)
    net = edgevision.PoseNet(model)
    pixels = edgevision.load_image(image)
    assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
    by_path = net.estimate(image)
    for other in (net.estimate(pixels), net.estimate(np.asfortranarray(pixels)),
                  net.estimate(open(image, "rb").read())):
        assert len(other) == len(by_path)
        for a, b in zip(other, by_path):
            assert a.score == b.score
            np.testing.assert_array_equal(a.keypoints, b.keypoints)


def test_posenet_raw_heads_and_options_identical_to_cli():
    model, image = shared(POSENET_RAW), shared(COUPLE)
    net = edgevision.PoseNet(model, decoder="single")
    assert_same_poses(net.estimate(image), poses_of_cli(model, image, "--decoder", "single"))
    net = edgevision.PoseNet(model, max_poses=1)
    assert_same_poses(net.estimate(image), poses_of_cli(model, image, "--max-poses", "1"))


def test_movenet_identical_to_cli():
    model, image = shared(MOVENET), shared(SQUAT)
    net = edgevision.MoveNet(model)
    assert edgevision.MoveNet is edgevision.PoseNet
    poses = net.estimate(image)
    assert len(poses) == 1
    assert_same_poses(poses, poses_of_cli(model, image))


# ---- classification ---------------------------------------------------------------------------

def classes_of_cli(*args):
    out = []
    for line in cli("classify", *args).splitlines():
        parts = line.split(" ", 4)
        out.append((int(parts[2]), parts[3], parts[4]))
    return out


def test_classifier_identical_to_cli_on_cat():
    ext, head, labels, cat = shared(EXTRACTOR), shared(HEAD), shared(LABELS), shared(CAT)
    clf = edgevision.Classifier(ext, head=head, labels=labels)
    top = clf.top_k(cat, 5)
    assert top[0].class_id == 286 and top[0].label == "Egyptian cat"
    assert abs(top[0].score - 0.848) < 0.001
    want = classes_of_cli("--model", ext, "--head", head, "--labels", labels, "--top", "5", cat)
    assert [(c.class_id, "%.6f" % c.score, c.label) for c in top] == want
    scores = clf.scores(cat)
    assert scores.dtype == np.float32 and scores.shape == (clf.num_classes,)
    assert scores[286] == np.float32(top[0].score)
    assert clf.embedding(cat).shape == (clf.embedding_size,)


def test_classifier_without_labels_identical_to_cli():
    model, cat = shared(MOBILENET_SMALL), shared(CAT)
    clf = edgevision.Classifier(model)
    top = clf.top_k(cat, 3)
    want = classes_of_cli("--model", model, "--top", "3", cat)
    assert [(c.class_id, "%.6f" % c.score, c.label or "-") for c in top] == want


# ---- Model: raw tensors -------------------------------------------------------------------------

def test_model_tensors_round_trip():
    model, cat = shared(MOBILENET_SMALL), shared(CAT)
    m = edgevision.Model(model, backend="cpu", threads=1)
    (inp,), (out,) = m.inputs, m.outputs
    assert inp.shape == (1, 160, 160, 3) and inp.dtype == np.uint8
    assert inp.quantization == (0.0078125, 128) and not inp.per_channel
    assert out.shape == (1, 1001) and out.dtype == np.uint8
    # an image already at the input size reaches the model as its pixels (HWC): the model's raw
    # output, dequantized, is the classifier's scores
    pixels = edgevision.load_image(cat)
    small = np.ascontiguousarray(pixels[:160, :160])
    res = m.run(small[None])
    assert list(res) == [out.name]
    y = res[out.name]
    assert y.shape == (1, 1001) and y.dtype == np.uint8 and y.flags.c_contiguous
    scale, zp = out.quantization
    deq = (np.float32(scale) * (y.astype(np.int32) - zp).astype(np.float32)).reshape(-1)
    np.testing.assert_array_equal(deq, edgevision.Classifier(model).scores(small))
    # every way of passing the input gives the same output; layout does not matter
    for arg in ({inp.name: small[None]}, {0: small[None]}, [small[None]],
                np.asfortranarray(small[None]), np.ascontiguousarray(small[:, ::-1])[None, :, ::-1]):
        np.testing.assert_array_equal(m.run(arg)[out.name], y)


def test_model_float_output_and_input_size():
    model = shared("models/posenet/posenet_mobilenet_v1_050_float.pb")
    m = edgevision.Model(model, input_size=(257, 257))
    assert m.inputs[0].shape == (1, 257, 257, 3) and m.inputs[0].dtype == np.float32
    res = m.run(np.zeros(m.inputs[0].shape, np.float32))
    assert all(v.dtype == np.float32 for v in res.values())
    assert {v.shape for v in res.values()} >= {(1, 17, 17, 17)}


def test_model_inspect_equals_cli_json():
    model = shared(MOBILENET_SMALL)
    got = edgevision.Model(model).inspect()
    want = json.loads(cli("inspect", "--format", "json", model))

    def norm(d):  # the CLI prints scales with 9 digits: compare them as float32
        if isinstance(d, dict):
            return {k: (np.float32(v) if k == "scale" else norm(v)) for k, v in d.items()}
        if isinstance(d, list):
            return [norm(v) for v in d]
        return d

    assert norm(got) == norm(want)
    assert got["macs"] == sum(op["macs"] for op in got["ops"]) > 0


# ---- bench ------------------------------------------------------------------------------------

def test_bench_returns_the_result_document():
    model = shared(MOBILENET_SMALL)
    doc = edgevision.bench(model, "random", backend="cpu", threads=1, min_runs=3, min_secs=0,
                           warmup_runs=1)
    assert doc["schema"] and doc["tool"] == "edgevision " + edgevision.__version__
    (r,) = doc["results"]
    assert r["backend"] == "cpu" and r["threads"] == 1 and r["runs"] >= 3
    assert r["input_kind"] == "random" and r["fps"] > 0
    assert r["stages"]["inference"]["median_ms"] > 0
    auto = edgevision.bench(model, "random", threads=[1], min_runs=1, min_secs=0)
    assert auto["results"][0]["backend"] in edgevision.backends()


# ---- errors -----------------------------------------------------------------------------------

def test_errors_carry_status_and_message(tmp_path):
    with pytest.raises(edgevision.Error) as e:
        edgevision.Model(str(tmp_path / "missing.tflite"))
    assert e.value.status == "EV_ERR_IO" and e.value.code == 2
    assert "missing.tflite" in e.value.message and "I/O" in str(e.value)
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"TFL3" + b"\xff" * 60)
    with pytest.raises(edgevision.Error) as e:
        edgevision.PoseNet(str(bad))
    assert e.value.status == "EV_ERR_FORMAT"
    with pytest.raises(edgevision.Error) as e:
        edgevision.load_image(str(bad))
    assert e.value.status == "EV_ERR_FORMAT"
    with pytest.raises(edgevision.Error):
        edgevision.Model(shared(MOBILENET_SMALL), backend="nosuch")
    with pytest.raises(edgevision.Error) as e:
        edgevision.PoseNet(shared(EDGETPU))
    assert e.value.status == "EV_ERR_NEEDS_DEVICE"


def test_bad_inputs_raise_not_crash():
    m = edgevision.Model(shared(MOBILENET_SMALL), threads=1)
    shape = m.inputs[0].shape
    for arg, status in ((np.zeros(shape, np.float32), "EV_ERR_SHAPE"),
                        (np.zeros((1, 10, 10, 3), np.uint8), "EV_ERR_SHAPE"),
                        ({"nosuch": np.zeros(shape, np.uint8)}, "EV_ERR_INVALID_ARG"),
                        ([], "EV_ERR_INVALID_ARG")):
        with pytest.raises(edgevision.Error) as e:
            m.run(arg)
        assert e.value.status == status
    net = edgevision.PoseNet(shared(POSENET), threads=1)
    for img in (np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32),
                np.zeros((0, 10, 3), np.uint8), 42, b"not an image"):
        with pytest.raises(edgevision.Error):
            net.estimate(img)
    with pytest.raises(edgevision.Error):
        edgevision.PoseNet(shared(POSENET), threads=0)
    with pytest.raises(edgevision.Error):
        edgevision.Classifier(shared(MOBILENET_SMALL)).top_k(shared(CAT), 0)
    with pytest.raises(edgevision.Error):
        edgevision.bench(shared(MOBILENET_SMALL), "random", backend="nosuch")
    m.close()
    with pytest.raises(edgevision.Error):
        m.run(np.zeros(shape, np.uint8))
    with pytest.raises(edgevision.Error):
        m.inspect()


def test_save_image_round_trip(tmp_path):
    img = (np.arange(6 * 4 * 3) % 251).astype(np.uint8).reshape(6, 4, 3)
    path = tmp_path / "x.png"
    edgevision.save_image(img, str(path))
    np.testing.assert_array_equal(edgevision.load_image(str(path)), img)


def test_bundled_library_needs_no_variable():
    import edgevision._lib as L

    here = os.path.dirname(os.path.abspath(L.__file__))
    if not os.path.exists(os.path.join(here, "libedgevision.so.0")):
        pytest.skip("this install bundles no library")
    env = dict(os.environ)
    env.pop("EDGEVISION_LIBRARY", None)
    code = "import edgevision; print(edgevision.library_path()); print(edgevision.version())"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == os.path.join(here, "libedgevision.so.0")


# ctypes class -> the C struct it mirrors field for field (include/edgevision.h)
MIRRORED = {
    "TensorInfo": "ev_tensor_info", "SessionOptions": "ev_session_options",
    "OpInfo": "ev_op_info", "KernelReport": "ev_kernel_report", "Keypoint": "ev_keypoint",
    "Pose": "ev_pose", "PosenetOptions": "ev_posenet_options",
    "ClassifierOptions": "ev_classifier_options", "ClassScore": "ev_class_score",
    "Stats": "ev_stats", "CocoStats": "ev_coco_stats", "BenchEnv": "ev_bench_env",
    "BenchConfig": "ev_bench_config", "BenchResult": "ev_bench_result",
}


def test_struct_layouts_match_the_header(tmp_path):
    """Every ctypes mirror has the C struct's size and field offsets: a field added to the
    header and not here (or the reverse) would make the library read past the Python object."""
    import ctypes
    import shutil
    from edgevision import _lib
    cc = shutil.which("cc") or shutil.which("gcc")
    header = os.path.join(os.path.dirname(__file__), "..", "..", "include")
    if not cc or not os.path.exists(os.path.join(header, "edgevision.h")):
        pytest.skip("no C compiler or no include/edgevision.h to compare the layouts with")
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "edgevision.h"',
             "int main(void) {"]
    for cls, ctype in MIRRORED.items():
        lines.append('printf("%s size %%zu\\n", sizeof(%s));' % (cls, ctype))
        for f in getattr(_lib, cls)._fields_:
            lines.append('printf("%s %s %%zu\\n", offsetof(%s, %s));' % (cls, f[0], ctype, f[0]))
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    r = subprocess.run([cc, "-I", header, str(src), "-o", str(exe)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    want = dict(l.rsplit(" ", 1) for l in subprocess.check_output([str(exe)], text=True)
                .splitlines())
    for cls in MIRRORED:
        c = getattr(_lib, cls)
        assert int(want["%s size" % cls]) == ctypes.sizeof(c), cls
        for f in c._fields_:
            assert int(want["%s %s" % (cls, f[0])]) == getattr(c, f[0]).offset, (cls, f[0])
