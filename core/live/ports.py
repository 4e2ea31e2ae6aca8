"""The contract between the live video-to-video parts (issue #13).

    SDK / go-livepeer gateway
        │ POST /live-video-to-video {model_id, params}  ->  {manifest_id, publish_url, subscribe_url,
        │                                                      control_url, events_url}
        ▼
    LiveExtension (core/live/extension.py, a core.node.extensions.NodeExtension)
        │ trickle channels (core/live/trickle_server.py): <mid>, <mid>-out, <mid>-control, <mid>-events
        │ LiveSession (core/live/session.py): decode input MPEG-TS -> FrameProcessor -> encode H.264 TS out
        ▼
    FrameProcessor (core/live/pipelines/*.py): one real per-frame model (CenterFace face blur, person
        segmentation background blur/replace, ONNX style transfer), made by a FramePipeline.

Frames cross as numpy arrays, RGB, uint8, shape (height, width, 3). Params are the JSON objects a client
sends at start and on the control channel; a pipeline validates them and refuses unknown keys or bad values
with ParamsError (the session reports it on the events channel and keeps the previous params).
Nothing here imports textual, web3, torch, onnxruntime or a socket library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from core.ai.ports import LIVE_VIDEO_TO_VIDEO_CAPABILITY  # noqa: F401  (35, go-livepeer's id)


class ParamsError(ValueError):
    """Params a pipeline cannot take: the message names the key and what it accepts."""


class PipelineUnavailable(RuntimeError):
    """The pipeline's model cannot run here (package or weights missing); the message says what to install."""


@dataclass(frozen=True)
class FramePipelineInfo:
    model_id: str  # what a client passes as model_id: "face-blur", "background-blur", "style-transfer" …
    title: str  # for the console
    engine: str  # "onnxruntime (CenterFace)", "mediapipe selfie segmentation" …
    params_help: Mapping[str, str]  # param name -> what it does and accepts (shown in the console)
    default_params: Mapping[str, Any]


class FrameProcessor(Protocol):
    """One live session's instance of a pipeline (its own state: previous mask, tracker …).
    process() is called from one worker thread at a time, in frame order."""

    def process(self, frame: np.ndarray) -> np.ndarray:
        """RGB uint8 (h, w, 3) in -> RGB uint8 out (same size unless the pipeline says otherwise)."""

    def update(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """Apply new params (a partial update); returns the params now in force. ParamsError leaves the old
        ones in force."""

    def close(self) -> None: ...


class FramePipeline(Protocol):
    """A model family loaded once per node and shared by its sessions (weights are read-only)."""

    info: FramePipelineInfo

    def available(self) -> str | None:
        """None when it can run here, else why not (what to install)."""

    def load(self, device: str) -> None:
        """Load weights once ("cpu" or "cuda"); idempotent. PipelineUnavailable on failure."""

    def open(self, params: Mapping[str, Any]) -> FrameProcessor:
        """A processor for one session with `params` over the defaults (ParamsError if bad)."""


@dataclass(frozen=True)
class LiveSessionView:
    """A live session as /status and the console see it (a typed read model, no live objects)."""

    manifest_id: str
    model_id: str
    gateway: str  # the client's address (offchain) or sender address (on chain)
    started_at: float  # unix time
    state: str  # "starting" | "running" | "ended" | "failed"
    params: Mapping[str, Any]
    frames_in: int
    frames_out: int
    fps_in: float  # over the last few seconds
    fps_out: float
    latency_ms_p50: float  # per frame: decoded -> processed and encoded
    latency_ms_p95: float
    model_ms_p50: float  # the model's own time per frame
    error: str = ""
    width: int = 0
    height: int = 0
    # the latest input and output frames as small JPEGs for the console's side-by-side preview
    preview_in: bytes = b""
    preview_out: bytes = b""
