"""What the live pipelines share: params merged and validated against their specs (old params kept on a
bad update), a lock so an update from the control channel never lands half-way through a frame, and the
frame check every process() starts with."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.live.pipelines.params import Param, defaults, merge_params


def check_frame(frame: np.ndarray, model_id: str) -> np.ndarray:
    """An RGB uint8 (h, w, 3) array, as core/live/ports.py promises; ValueError naming what came instead."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        what = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
        raise ValueError(f"{model_id}: a frame must be RGB uint8 (height, width, 3), got {what}")
    if frame.shape[0] < 2 or frame.shape[1] < 2:
        raise ValueError(f"{model_id}: a {frame.shape[1]}x{frame.shape[0]} frame is too small")
    return frame


class ProcessorBase:
    """One session's params; subclasses read self.params (a plain dict, replaced whole on update) and call
    self._applied(params) hooks for derived state."""

    model_id: str = ""
    specs: Sequence[Param] = ()

    def __init__(self, params: Mapping[str, Any]) -> None:
        self._lock = threading.Lock()
        initial = merge_params(self.model_id, self.specs, {}, defaults(self.specs))
        self.params = merge_params(self.model_id, self.specs, initial, params)
        self._applied(self.params)
        self.closed = False

    def _applied(self, params: dict[str, Any]) -> None:
        """Derive state from new params (called with the lock held, or from __init__)."""

    def update(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        with self._lock:
            merged = merge_params(self.model_id, self.specs, self.params, params)
            self._applied(merged)
            self.params = merged
            return dict(merged)

    def process(self, frame: np.ndarray) -> np.ndarray:
        check_frame(frame, self.model_id)
        with self._lock:
            if self.closed:
                raise RuntimeError(f"{self.model_id}: this processor is closed")
            return np.ascontiguousarray(self._process(frame))  # encoders (PyAV) want C-contiguous rows

    def _process(self, frame: np.ndarray) -> np.ndarray:  # pragma: no cover - every pipeline overrides it
        raise NotImplementedError

    def close(self) -> None:
        with self._lock:
            self.closed = True
