"""The per-frame models for live video-to-video (core/live/ports.py's FramePipeline), one module each.

    for p in bundled_pipelines():      # cheap: nothing is read or imported until load()
        p.available()                  # None, or what to install
    p.load(live_device())              # "cuda" where onnxruntime can use a GPU, else "cpu"
    proc = p.open({"style": 7}); out = proc.process(rgb_uint8_hwc); proc.update({...}); proc.close()

The model files come from installed packages (pinned versions, sha256 checked at load); nothing is
downloaded at run time.
"""

from __future__ import annotations

from core.live.pipelines.onnx_model import live_device, live_device_reason
from core.live.ports import FramePipeline

__all__ = ["bundled_pipelines", "live_device", "live_device_reason", "pipeline_by_id"]


def bundled_pipelines() -> list[FramePipeline]:
    """Every live pipeline lpc ships, unloaded; each says through available() whether it can run here."""
    from core.live.pipelines.background import BackgroundPipeline
    from core.live.pipelines.face_blur import FaceBlurPipeline
    from core.live.pipelines.style import StyleTransferPipeline

    return [FaceBlurPipeline(), BackgroundPipeline(), StyleTransferPipeline()]


def pipeline_by_id(model_id: str) -> FramePipeline | None:
    for pipeline in bundled_pipelines():
        if pipeline.info.model_id == model_id:
            return pipeline
    return None
