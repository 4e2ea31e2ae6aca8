"""The models whose weights ship inside lpc's installed dependencies, so a fresh install serves AI with
nothing downloaded (the packages and their checks: reference/offline-models.md).

    BUNDLED_MODELS                       every bundled model: pipeline, model id, description, factory, default
    default_specs()                      one warm ModelSpec per pipeline that has a bundled default
    bundled_runner(pipeline, model_id)   a new, unloaded runner for it, or None when it is not bundled

Pipelines missing here (text-to-image, image-to-image, image-to-video, segment-anything-2, image-to-text)
have no model in any package: they are served only from user-supplied weights (core/ai/user_weights.py).
Creating a runner is cheap; nothing is read or imported until its load().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.ai.ports import ModelRunner, ModelSpec, Pipeline
from core.ai.runners import causal_lm, hibari_tts, realesrgan, whisper


@dataclass(frozen=True)
class BundledModel:
    pipeline: Pipeline
    model_id: str
    description: str
    factory: Callable[[], ModelRunner]
    default: bool  # the pipeline's model when aiModels.json names none


BUNDLED_MODELS: tuple[BundledModel, ...] = (
    BundledModel(Pipeline.AUDIO_TO_TEXT, whisper.TINY_EN_ID, "Whisper tiny.en, English speech to text (75 MB)",
                 whisper.tiny_en_runner, True),
    BundledModel(Pipeline.AUDIO_TO_TEXT, whisper.BASE_ID, "Whisper base, multilingual speech to text (145 MB)",
                 whisper.base_runner, False),
    BundledModel(Pipeline.TEXT_TO_SPEECH, hibari_tts.HEART_ID, "hibari, English text to speech, voice heart (8 MB)",
                 hibari_tts.hibari_runner, True),
    BundledModel(Pipeline.LLM, causal_lm.SMOLLM2_ID, "SmolLM2-135M-Instruct, a small chat model (8k context)",
                 causal_lm.smollm2_runner, True),
    BundledModel(Pipeline.UPSCALE, realesrgan.ANIMEVIDEOV3_ID, "Real-ESRGAN animevideov3, 4x upscale, fast (1 MB)",
                 realesrgan.animevideov3_runner, True),
    BundledModel(Pipeline.UPSCALE, realesrgan.X4PLUS_ID, "Real-ESRGAN x4plus, 4x upscale for photos, slow (33 MB)",
                 realesrgan.x4plus_runner, False),
)


def default_specs() -> tuple[ModelSpec, ...]:
    """The models a node serves when aiModels.json is not given: each pipeline's bundled default, warm,
    one request at a time (two cores cannot run two inferences of one model faster than one after another)."""
    return tuple(ModelSpec(pipeline=m.pipeline, model_id=m.model_id, warm=True, capacity=1)
                 for m in BUNDLED_MODELS if m.default)


def bundled_model(pipeline: Pipeline, model_id: str) -> BundledModel | None:
    for m in BUNDLED_MODELS:
        if m.pipeline == pipeline and m.model_id == model_id:
            return m
    return None


def bundled_runner(pipeline: Pipeline, model_id: str) -> ModelRunner | None:
    """A new runner for a bundled (pipeline, model_id); None when lpc bundles no such model (then the
    weights must be user-supplied). An empty model_id is not resolved here: that is the worker's job."""
    entry = bundled_model(pipeline, model_id)
    return None if entry is None else entry.factory()
