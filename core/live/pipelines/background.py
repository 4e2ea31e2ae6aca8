"""Background blur or replace behind the person, frame by frame: MediaPipe's selfie segmentation
(Apache-2.0, a MobileNetV3-style net, 256x256 in, a person probability per pixel out), converted from its
.tflite to ONNX once (selfie_model.py, tflite_to_onnx.py) and run with onnxruntime.

    frame ──stretch to 256x256──> net ──mask (0–1)──> blend with the previous mask (`smoothing`) ──>
    soft threshold at `threshold` ──scale to the frame──> alpha
    background = the frame blurred (`blur` px, computed at a lower resolution: a blur hides the loss)
                 or a solid `color`
    out = alpha * frame + (1 - alpha) * background

The mask is person-only (MediaPipe's model, not promptable). About 3 ms for the net and a few more for the
compositing at 512x512 on two CPU cores.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.live.pipelines import selfie_model
from core.live.pipelines.base import ProcessorBase
from core.live.pipelines.onnx_model import make_session
from core.live.pipelines.params import Param, choice, colour, defaults, help_lines, integer, number, rgb
from core.live.ports import FramePipelineInfo, PipelineUnavailable

MODEL_ID = "background-blur"
NET_SIZE = 256  # the model's fixed input, width and height
EDGE = 0.2  # width of the soft edge around the threshold, in mask probability

SPECS = (
    Param("mode", "'blur' blurs the background, 'replace' paints it a solid colour", "blur", choice("blur", "replace")),
    Param("blur", "blur radius in pixels of the frame, 1 to 100 (mode 'blur')", 20, integer(1, 100)),
    Param("color", "background colour for mode 'replace', '#rrggbb' or [r, g, b]", "#00b140", colour),
    Param("threshold", "mask probability above which a pixel is the person, 0.05 to 0.95", 0.5, number(0.05, 0.95)),
    Param("smoothing", "0 to 0.95: how much of the previous frame's mask is kept, so the edge does not "
                       "flicker (higher is steadier but lags behind movement)", 0.5, number(0, 0.95)),
)


class BackgroundPipeline:
    info = FramePipelineInfo(
        model_id=MODEL_ID, title="Background blur / replace",
        engine="onnxruntime (MediaPipe selfie segmentation, converted from mediapipe 0.10.21's .tflite)",
        params_help=help_lines(SPECS), default_params=defaults(SPECS))

    def __init__(self) -> None:
        self.session = None
        self.device = ""
        self._lock = threading.Lock()

    def available(self) -> str | None:
        return selfie_model.problem()

    def load(self, device: str) -> None:
        with self._lock:
            if self.session is not None:
                return
            path = selfie_model.ensure_onnx()
            self.session, self.device = make_session(path, device, what=f"{path} (delete it to convert again)")

    def open(self, params: Mapping[str, Any]) -> BackgroundProcessor:
        if self.session is None:
            raise PipelineUnavailable(f"{MODEL_ID}: the model is not loaded (call load first)")
        return BackgroundProcessor(self.session, params)


class BackgroundProcessor(ProcessorBase):
    model_id = MODEL_ID
    specs = SPECS

    def __init__(self, session, params: Mapping[str, Any]) -> None:
        self._session = session
        self._previous: np.ndarray | None = None
        super().__init__(params)

    def mask(self, frame: np.ndarray) -> np.ndarray:
        """The net's person probability for `frame` at NET_SIZE x NET_SIZE, float32 0–1 (not smoothed)."""
        from PIL import Image

        small = np.asarray(Image.fromarray(frame).resize((NET_SIZE, NET_SIZE), Image.BILINEAR), dtype=np.float32)
        x = np.ascontiguousarray((small * (1.0 / 255.0)).transpose(2, 0, 1)[None])
        return self._session.run(None, {selfie_model.INPUT_NAME: x})[0][0, 0]

    def alpha(self, frame: np.ndarray) -> np.ndarray:
        """Per pixel of `frame`, how much of it is the person (float32 0–1, shape (h, w)), smoothed over time."""
        from PIL import Image

        m = self.mask(frame)
        s = self.params["smoothing"]
        if self._previous is not None and s > 0:
            m = s * self._previous + (1.0 - s) * m
        self._previous = m
        a = np.clip((m - self.params["threshold"]) * (1.0 / EDGE) + 0.5, 0.0, 1.0).astype(np.float32)
        h, w = frame.shape[:2]
        return np.asarray(Image.fromarray(a, mode="F").resize((w, h), Image.BILINEAR))

    def background(self, frame: np.ndarray) -> np.ndarray:
        if self.params["mode"] == "replace":
            return np.broadcast_to(np.array(rgb(self.params["color"]), dtype=np.float32), frame.shape)
        return blurred(frame, self.params["blur"]).astype(np.float32)

    def _process(self, frame: np.ndarray) -> np.ndarray:
        a = self.alpha(frame)[..., None]
        bg = self.background(frame)
        out = bg + a * (frame.astype(np.float32) - bg)
        return (out + 0.5).astype(np.uint8)


def blurred(frame: np.ndarray, radius: int) -> np.ndarray:
    """A Gaussian blur of `radius` pixels; for large radii computed at 1/2–1/4 of the size and scaled back,
    which looks the same (the detail lost is what the blur removes) and costs a fraction."""
    from PIL import Image, ImageFilter

    h, w = frame.shape[:2]
    factor = 4 if radius >= 16 else 2 if radius >= 6 else 1
    img = Image.fromarray(frame)
    if factor > 1:
        img = img.resize((max(1, w // factor), max(1, h // factor)), Image.BILINEAR)
    img = img.filter(ImageFilter.GaussianBlur(radius / factor))
    if factor > 1:
        img = img.resize((w, h), Image.BILINEAR)
    return np.asarray(img)
