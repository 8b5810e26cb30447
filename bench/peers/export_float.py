"""export_float.py - the float peer models of bench_float, written as ONNX for ONNX Runtime.

  resnet50_tv.onnx        torchvision ResNet50 (weights=None: its own random init), 1x3x224x224
  mobilenetv2_tv.onnx     torchvision MobileNetV2 (weights=None), 1x3x224x224
  posenet_mnv1_050.onnx   MobileNetV1 depth multiplier 0.5, output stride 16, with PoseNet's
                          four 1x1 heads (heatmap 17 + sigmoid, offsets 34, displacements fwd/bwd
                          32 each): the layer list of posenet_mobilenet_v1_050_float.pb as
                          `edgevision inspect --input-size 353x481` prints it (13 depthwise /
                          pointwise pairs, pointwise widths 32 64 64 128 128 256 x 8, strides 2
                          at conv0 and depthwise 2, 4, 6; no dilation; ReLU6; biases, no BN),
                          1x3x353x481
Each file gets a sidecar FILE.json with its MAC count from the ONNX graph (shape inference:
Conv = output elements x (in channels / group) x kh x kw, Gemm / MatMul = M x N x K) in total and
per group (conv3x3, conv1x1, depthwise, other: everything else, e.g. ResNet's 7x7 stem and its
dense layer), so bench_float reports GFLOP/s for the peer from its own graph.

Usage: /usr/bin/python3 bench/peers/export_float.py OUT_DIR [--force]
Needs python3-torch, python3-torchvision and python3-onnx (Debian packages); export_float.sh
installs them. Idempotent: a model whose .onnx and .json exist is not written again.
Extend: a new network is a builder function and one entry of MODELS.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision
import onnx
from onnx import shape_inference

OPSET = 17


class PoseNetMobileNetV1(nn.Module):
    """MobileNetV1 0.50 at output stride 16 plus PoseNet's heads, as in the float .pb."""

    # (pointwise output channels, depthwise stride) of the 13 separable blocks
    BLOCKS = [(32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2)] + [(256, 1)] * 7

    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU6()]
        c = 16
        for out, stride in self.BLOCKS:
            layers += [nn.Conv2d(c, c, 3, stride=stride, padding=1, groups=c), nn.ReLU6(),
                       nn.Conv2d(c, out, 1), nn.ReLU6()]
            c = out
        self.backbone = nn.Sequential(*layers)
        self.heatmap = nn.Conv2d(c, 17, 1)
        self.offset = nn.Conv2d(c, 34, 1)
        self.displacement_fwd = nn.Conv2d(c, 32, 1)
        self.displacement_bwd = nn.Conv2d(c, 32, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.normal_(m.bias, 0.0, 0.05)

    def forward(self, x):
        f = self.backbone(x)
        return (torch.sigmoid(self.heatmap(f)), self.offset(f), self.displacement_fwd(f),
                self.displacement_bwd(f))


def resnet50():
    m = torchvision.models.resnet50(weights=None)
    return m, (1, 3, 224, 224), ["logits"]


def mobilenetv2():
    m = torchvision.models.mobilenet_v2(weights=None)
    return m, (1, 3, 224, 224), ["logits"]


def posenet():
    return PoseNetMobileNetV1(), (1, 3, 353, 481), ["heatmap", "offset", "displacement_fwd",
                                                    "displacement_bwd"]


MODELS = {"resnet50_tv": resnet50, "mobilenetv2_tv": mobilenetv2, "posenet_mnv1_050": posenet}


def count_macs(path):
    """Total and per-group MACs from the ONNX graph's inferred shapes."""
    g = shape_inference.infer_shapes(onnx.load(path)).graph
    shapes = {}
    for v in list(g.input) + list(g.output) + list(g.value_info):
        shapes[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    for t in g.initializer:
        shapes[t.name] = list(t.dims)
    groups = {"conv3x3": 0, "conv1x1": 0, "depthwise": 0, "other": 0}
    total = 0
    for n in g.node:
        macs, grp = 0, "other"
        if n.op_type == "Conv":
            w = shapes[n.input[1]]  # O, I/group, kh, kw
            out = shapes[n.output[0]]
            group = next((a.i for a in n.attribute if a.name == "group"), 1)
            elems = 1
            for d in out:
                elems *= d
            macs = elems * w[1] * w[2] * w[3]
            if group > 1 and w[1] == 1:
                grp = "depthwise"
            elif w[2] == 1 and w[3] == 1:
                grp = "conv1x1"
            elif w[2] == 3 and w[3] == 3:
                grp = "conv3x3"
        elif n.op_type in ("Gemm", "MatMul"):
            a, b = shapes[n.input[0]], shapes[n.input[1]]
            trans_b = next((a.i for a in n.attribute if a.name == "transB"), 0)
            k = a[-1]
            ncol = b[0] if (n.op_type == "Gemm" and trans_b) else b[-1]
            m = 1
            for d in a[:-1]:
                m *= d
            macs = m * ncol * k
        groups[grp] += macs
        total += macs
    return total, groups


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    force = "--force" in sys.argv
    if len(args) != 1:
        sys.stderr.write("usage: python3 export_float.py OUT_DIR [--force]\n")
        return 2
    out_dir = args[0]
    os.makedirs(out_dir, exist_ok=True)
    for name, build in MODELS.items():
        onnx_path = os.path.join(out_dir, name + ".onnx")
        json_path = onnx_path + ".json"
        if not force and os.path.exists(onnx_path) and os.path.exists(json_path):
            print(f"  {onnx_path}: present")
            continue
        torch.manual_seed(1)  # per model: the same weights whichever file is (re)written
        model, shape, outputs = build()
        model.eval()
        x = torch.zeros(shape)
        tmp = onnx_path + ".tmp"
        with torch.no_grad():
            torch.onnx.export(model, x, tmp, opset_version=OPSET, input_names=["image"],
                              output_names=outputs, do_constant_folding=True)
        onnx.checker.check_model(tmp)
        total, groups = count_macs(tmp)
        os.replace(tmp, onnx_path)
        meta = {"model": name, "input": list(shape), "layout": "NCHW", "dtype": "float32",
                "macs": total, "group_macs": groups,
                "source": f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
                          f"onnx {onnx.__version__}, opset {OPSET}"}
        with open(json_path + ".tmp", "w") as f:
            json.dump(meta, f, indent=1)
        os.replace(json_path + ".tmp", json_path)
        print(f"  {onnx_path}: {total / 1e9:.3f} GMAC "
              + ", ".join(f"{k} {v / 1e9:.3f}" for k, v in groups.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
