"""A TensorFlow Lite → ONNX converter for the small set of operators that MediaPipe's selfie segmentation
model uses, so that model runs on onnxruntime (CPU, or CUDA where there is one) inside lpc's own venv.

Why not the existing tools: mediapipe 0.10.21 (the last release that ships the .tflite files) needs
numpy<2 and protobuf<5; the model's last layer is MediaPipe's custom op Convolution2DTransposeBias, which
neither the TFLite runtime (ai-edge-litert: "unresolved custom op") nor tflite2onnx (unmaintained since
2022) knows. The model is 30 layers of plain MobileNetV3 blocks, so converting it here is small and exact.

    onnx_bytes = convert(tflite_bytes, input_name="image", output_name="mask")

Layout: TFLite is NHWC, the ONNX graph is NCHW end to end (weights transposed once here): its input is
(1, 3, H, W) float and its output (1, C, H, W). Operators handled: DEQUANTIZE (folded: fp16 weights
become fp32 constants), CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, ADD, MUL, RELU, RELU6, HARD_SWISH,
LOGISTIC, RESIZE_BILINEAR and CUSTOM Convolution2DTransposeBias; each with TFLite's SAME/VALID padding
and fused activation. Anything else raises UnsupportedModel naming the operator.
Reads with the `tflite` package (the flatbuffer schema), writes with `onnx`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

OPSET = 17
CUSTOM_TRANSPOSE_CONV = "Convolution2DTransposeBias"


class UnsupportedModel(ValueError):
    """The .tflite uses something this converter does not handle (the message names it)."""


_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8}


@dataclass
class _Graph:
    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)
    consts: dict = field(default_factory=dict)  # tflite tensor index -> numpy (NHWC, as stored)
    names: dict = field(default_factory=dict)  # tflite tensor index -> ONNX value name
    counter: int = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}_{self.counter}"

    def constant(self, array: np.ndarray, stem: str) -> str:
        from onnx import numpy_helper

        name = self.fresh(stem)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name


def _same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME padding for one axis: (before, after), the odd pixel after."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pads(padding: int, in_hw, kernel_hw, strides, dilations=(1, 1)) -> list[int]:
    if padding == 1:  # VALID
        return [0, 0, 0, 0]
    (t, b), (l, r) = (_same_pads(in_hw[i], kernel_hw[i], strides[i], dilations[i]) for i in range(2))
    return [t, l, b, r]


def convert(tflite_bytes: bytes, *, input_name: str = "input", output_name: str = "output") -> bytes:
    import onnx
    import tflite
    from onnx import TensorProto, helper

    model = tflite.Model.GetRootAsModel(tflite_bytes, 0)
    if model.SubgraphsLength() != 1:
        raise UnsupportedModel(f"expected one subgraph, found {model.SubgraphsLength()}")
    sub = model.Subgraphs(0)
    opnames = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    g = _Graph()

    def shape(i: int) -> list[int]:
        return [int(d) for d in sub.Tensors(i).ShapeAsNumpy()]

    for i in range(sub.TensorsLength()):
        t = sub.Tensors(i)
        data = model.Buffers(t.Buffer()).DataAsNumpy() if t.Buffer() < model.BuffersLength() else 0
        if isinstance(data, np.ndarray) and data.size:
            dtype = _DTYPES.get(t.Type())
            if dtype is None:
                raise UnsupportedModel(f"tensor {t.Name().decode()} has TFLite type {t.Type()}")
            g.consts[i] = np.frombuffer(data.tobytes(), dtype=dtype).reshape(shape(i) or ())

    if sub.InputsLength() != 1 or sub.OutputsLength() != 1:
        raise UnsupportedModel("expected one input and one output")
    in_index, out_index = sub.Inputs(0), sub.Outputs(0)
    n, h, w, c = shape(in_index)
    g.names[in_index] = input_name

    def value(i: int) -> str:
        """The ONNX name of a tensor; a constant becomes an initializer, NCHW when it is rank 4."""
        if i in g.names:
            return g.names[i]
        if i not in g.consts:
            raise UnsupportedModel(f"tensor {sub.Tensors(i).Name().decode()} is used before it is made")
        array = g.consts[i].astype(np.float32) if g.consts[i].dtype == np.float16 else g.consts[i]
        if array.ndim == 4:
            array = array.transpose(0, 3, 1, 2)
        elif array.ndim == 1 and array.size > 1:  # per-channel: broadcast over C in NCHW
            array = array.reshape(1, -1, 1, 1)
        g.names[i] = g.constant(array, "const")
        return g.names[i]

    def fused(out: str, activation: int, target: str) -> None:
        if activation == 0:
            g.nodes.append(helper.make_node("Identity", [out], [target]))
        elif activation == 1:
            g.nodes.append(helper.make_node("Relu", [out], [target]))
        elif activation == 3:
            g.nodes.append(helper.make_node("Clip", [out, g.constant(np.float32(0), "lo"),
                                                     g.constant(np.float32(6), "hi")], [target]))
        else:
            raise UnsupportedModel(f"fused activation {activation}")

    for k in range(sub.OperatorsLength()):
        op = sub.Operators(k)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = opnames.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")
        ins = [int(j) for j in op.InputsAsNumpy()]
        outs = [int(j) for j in op.OutputsAsNumpy()]
        target = g.fresh(sub.Tensors(outs[0]).Name().decode().replace("/", "_") or "t")
        opts = op.BuiltinOptions()

        if kind == "DEQUANTIZE":
            if ins[0] not in g.consts:
                raise UnsupportedModel("DEQUANTIZE of a computed tensor")
            g.consts[outs[0]] = g.consts[ins[0]].astype(np.float32)
            continue
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            o = tflite.Conv2DOptions() if kind == "CONV_2D" else tflite.DepthwiseConv2DOptions()
            o.Init(opts.Bytes, opts.Pos)
            weight = g.consts.get(ins[1])
            if weight is None:
                raise UnsupportedModel(f"{kind} with computed weights")
            weight = weight.astype(np.float32)
            if kind == "CONV_2D":
                onnx_w, group = weight.transpose(0, 3, 1, 2), 1  # OHWI -> OIHW
            else:
                if o.DepthMultiplier() not in (0, 1):
                    raise UnsupportedModel(f"depthwise multiplier {o.DepthMultiplier()}")
                onnx_w, group = weight.transpose(3, 0, 1, 2), weight.shape[3]  # 1HWC -> C1HW
            in_shape = shape(ins[0])
            strides = [o.StrideH(), o.StrideW()]
            dil = [o.DilationHFactor() or 1, o.DilationWFactor() or 1]
            inputs = [value(ins[0]), g.constant(onnx_w, "w")]
            if len(ins) > 2 and ins[2] >= 0:
                inputs.append(g.constant(g.consts[ins[2]].astype(np.float32), "b"))
            raw = g.fresh("conv")
            g.nodes.append(helper.make_node(
                "Conv", inputs, [raw], strides=strides, dilations=dil, group=group,
                kernel_shape=list(onnx_w.shape[2:]),
                pads=_pads(o.Padding(), in_shape[1:3], onnx_w.shape[2:], strides, dil)))
            fused(raw, o.FusedActivationFunction(), target)
        elif kind == "AVERAGE_POOL_2D":
            o = tflite.Pool2DOptions()
            o.Init(opts.Bytes, opts.Pos)
            kernel, strides = [o.FilterHeight(), o.FilterWidth()], [o.StrideH(), o.StrideW()]
            raw = g.fresh("pool")
            g.nodes.append(helper.make_node(
                "AveragePool", [value(ins[0])], [raw], kernel_shape=kernel, strides=strides,
                pads=_pads(o.Padding(), shape(ins[0])[1:3], kernel, strides), count_include_pad=0))
            fused(raw, o.FusedActivationFunction(), target)
        elif kind in ("ADD", "MUL"):
            activation = 0
            if opts is not None:
                o = tflite.AddOptions() if kind == "ADD" else tflite.MulOptions()
                o.Init(opts.Bytes, opts.Pos)
                activation = o.FusedActivationFunction()
            raw = g.fresh(kind.lower())
            g.nodes.append(helper.make_node(kind.capitalize(), [value(ins[0]), value(ins[1])], [raw]))
            fused(raw, activation, target)
        elif kind in ("RELU", "RELU6", "HARD_SWISH", "LOGISTIC"):
            if kind == "RELU6":
                fused(value(ins[0]), 3, target)
            else:
                onnx_op = {"RELU": "Relu", "HARD_SWISH": "HardSwish", "LOGISTIC": "Sigmoid"}[kind]
                g.nodes.append(helper.make_node(onnx_op, [value(ins[0])], [target]))
        elif kind == "RESIZE_BILINEAR":
            o = tflite.ResizeBilinearOptions()
            o.Init(opts.Bytes, opts.Pos)
            size = g.consts.get(ins[1])
            if size is None:
                raise UnsupportedModel("RESIZE_BILINEAR to a computed size")
            nn, _, _, cc = shape(ins[0])
            mode = "align_corners" if o.AlignCorners() else "half_pixel" if o.HalfPixelCenters() else "asymmetric"
            sizes = g.constant(np.array([nn, cc, int(size[0]), int(size[1])], dtype=np.int64), "sizes")
            g.nodes.append(helper.make_node("Resize", [value(ins[0]), "", "", sizes], [target], mode="linear",
                                            coordinate_transformation_mode=mode))
        elif kind == "CUSTOM" and code.CustomCode().decode() == CUSTOM_TRANSPOSE_CONV:
            padding, stride_w, stride_h = struct.unpack("<iii", bytes(op.CustomOptionsAsNumpy())[:12])
            weight = g.consts[ins[1]].astype(np.float32)  # OHWI
            onnx_w = weight.transpose(3, 0, 1, 2)  # -> IOHW, ConvTranspose's layout
            out_shape = shape(outs[0])
            inputs = [value(ins[0]), g.constant(onnx_w, "w")]
            if len(ins) > 2 and ins[2] >= 0:
                inputs.append(g.constant(g.consts[ins[2]].astype(np.float32), "b"))
            attrs = dict(strides=[stride_h, stride_w], kernel_shape=list(onnx_w.shape[2:]))
            if padding == 1:  # VALID
                attrs["pads"] = [0, 0, 0, 0]
            else:
                attrs["output_shape"] = out_shape[1:3]
                attrs["auto_pad"] = "SAME_UPPER"
            g.nodes.append(helper.make_node("ConvTranspose", inputs, [target], **attrs))
        else:
            name = code.CustomCode().decode() if kind == "CUSTOM" else kind
            raise UnsupportedModel(f"operator {name} (op {k}) is not handled")
        g.names[outs[0]] = target

    if out_index not in g.names:
        raise UnsupportedModel("the output tensor is never computed")
    on, oh, ow, oc = shape(out_index)
    g.nodes.append(helper.make_node("Identity", [g.names[out_index]], [output_name]))
    graph = helper.make_graph(
        g.nodes, "converted",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [n, c, h, w])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [on, oc, oh, ow])],
        initializer=g.initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="lpc tflite_to_onnx")
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return onnx_model.SerializeToString()
