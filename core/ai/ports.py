"""The AI worker's parts and the small ports between them (issue #12).

    HTTP (gateway: core/gateway/ai_api.py; orchestrator: core/node/ai_http.py)
        │ parse + validate (core/ai/requests.py) -> one of the *Request dataclasses below
        ▼
    AIWorker (core/ai/worker.py): ModelSpecs from aiModels.json (core/ai/models_file.py) or the bundled
        │ defaults (core/ai/bundled.py); per model a slot count (capacity); warm models stay loaded;
        │ a request beyond capacity is refused at once (InsufficientCapacity), never queued
        ▼
    ModelRunner (core/ai/runners/*.py): one real model behind one pipeline, on CUDA when the probe
        finds a GPU, else the CPU. Bundled: Whisper (faster-whisper), hibari TTS, SmolLM2 (transformers),
        Real-ESRGAN (ncnn). User-supplied weights in -aiModelsDir with a sha256 manifest
        (core/ai/user_weights.py): diffusers / transformers loaders.

Every value that crosses is a frozen dataclass. Every failure is an AIError subclass carrying the HTTP
status it maps to and a message naming the pipeline and model. Nothing here imports textual, web3,
torch or a socket library: runners import their engines lazily inside load().
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import Protocol, Union


class Pipeline(str, Enum):
    """The batch pipelines, named as go-livepeer / ai-runner / the livepeer-ai SDK route them."""

    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"
    IMAGE_TO_VIDEO = "image-to-video"
    UPSCALE = "upscale"
    AUDIO_TO_TEXT = "audio-to-text"
    SEGMENT_ANYTHING_2 = "segment-anything-2"
    LLM = "llm"
    IMAGE_TO_TEXT = "image-to-text"
    TEXT_TO_SPEECH = "text-to-speech"

    @property
    def capability(self) -> int:
        return CAPABILITY_ID[self]

    @property
    def route(self) -> str:
        return "/" + self.value


# go-livepeer core/capabilities.go (live-video-to-video is 35, BYOC 37: not batch pipelines)
CAPABILITY_ID: dict[Pipeline, int] = {
    Pipeline.TEXT_TO_IMAGE: 27,
    Pipeline.IMAGE_TO_IMAGE: 28,
    Pipeline.IMAGE_TO_VIDEO: 29,
    Pipeline.UPSCALE: 30,
    Pipeline.AUDIO_TO_TEXT: 31,
    Pipeline.SEGMENT_ANYTHING_2: 32,
    Pipeline.LLM: 33,
    Pipeline.IMAGE_TO_TEXT: 34,
    Pipeline.TEXT_TO_SPEECH: 36,
}
PIPELINE_OF_CAPABILITY: dict[int, Pipeline] = {v: k for k, v in CAPABILITY_ID.items()}
LIVE_VIDEO_TO_VIDEO_CAPABILITY = 35
BYOC_CAPABILITY = 37


def pipeline_of(name: str) -> Pipeline:
    """'audio-to-text' -> Pipeline.AUDIO_TO_TEXT; ValueError naming the known pipelines otherwise."""
    try:
        return Pipeline(name)
    except ValueError:
        known = ", ".join(p.value for p in Pipeline)
        raise ValueError(f"unknown pipeline {name!r}: lpc serves {known}") from None


# ------------------------------------------------------------------------------------------ errors
class AIError(Exception):
    """A request failed. `status` is the HTTP status both the gateway and the orchestrator answer with;
    the message names the pipeline and model and says what to do. Never masked (go-livepeer masks 500
    and 503 messages: ai-gateway-wire.md §0.9)."""

    status = 500

    def __init__(self, message: str, *, pipeline: str = "", model_id: str = "") -> None:
        super().__init__(message)
        self.pipeline = pipeline
        self.model_id = model_id


class BadRequest(AIError):
    """The client's input is wrong (missing field, bad value, undecodable image, model mismatch). Never
    penalises an orchestrator."""

    status = 400


class TooLarge(AIError):
    """A file or prompt over the limit (an LLM prompt over the model's context, a file over 50 MB)."""

    status = 413


class UnsupportedMedia(AIError):
    """Audio or an image that does not decode, or a wrong content type."""

    status = 415


class ModelUnavailable(AIError):
    """The model is not served: no weights (the message names the path and the missing files), a load
    that failed (the message says why), or nobody serving it (gateway)."""

    status = 503


class InsufficientCapacity(AIError):
    """Every slot of the model is busy. go-livepeer's text: 'insufficient capacity'."""

    status = 503

    def __init__(self, message: str = "insufficient capacity", **kw) -> None:
        super().__init__(message, **kw)


class RunnerFailed(AIError):
    """The model itself failed on valid input (a real server fault)."""

    status = 500


# ------------------------------------------------------------------------------------------ models
@dataclass(frozen=True)
class ModelSpec:
    """One entry of aiModels.json as go-livepeer reads it (ai-gateway-wire.md §5)."""

    pipeline: Pipeline
    model_id: str
    warm: bool = False
    capacity: int = 1
    price_per_unit: Fraction | None = None  # None: the node's -pricePerUnit
    pixels_per_unit: int | None = None  # None: the node's -pixelsPerUnit
    currency: str = ""  # "" = wei; "USD" etc. through the price feed
    url: str = ""  # an external ai-runner ("" = in-process)
    token: str = field(default="", repr=False)  # bearer token of the external runner
    gateway: str = "default"  # the price applies to this gateway address only
    optimization_flags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ModelView:
    """One model as the console and /status show it."""

    pipeline: str
    model_id: str
    state: str  # "warm" (loaded) | "cold" (loads on first request) | "loading" | "unavailable"
    reason: str  # why unavailable / what it is ("Whisper tiny.en, CTranslate2 int8, bundled"), in words
    device: str  # "cpu" | "cuda:0" | "" when unavailable
    memory_bytes: int | None  # resident weights when known
    capacity: int
    in_use: int
    requests: int
    errors: int
    latency_p50_s: float | None
    latency_last_s: float | None
    price: str  # "0" offchain; "4768371 wei / 1 unit" or "0.5 USD / 1e6 units"
    bundled: bool  # weights shipped with lpc (not user-supplied)
    client_errors: int = 0  # requests refused for the client's input (400/413/415): not the model's fault
    refused: int = 0  # requests refused because every slot was busy (InsufficientCapacity)


# ------------------------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)
    # The audio already decoded (float32 mono 16 kHz samples, duration s) by the orchestrator's validation,
    # so the model does not decode the same bytes a second time. Never sent, never compared.
    decoded: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class TextToImageRequest:
    prompt: str
    model_id: str = ""
    loras: str = ""
    height: int = 576
    width: int = 1024
    guidance_scale: float = 7.5
    negative_prompt: str = ""
    safety_check: bool = True
    seed: int | None = None
    num_inference_steps: int = 50
    num_images_per_prompt: int = 1


@dataclass(frozen=True)
class ImageToImageRequest:
    prompt: str
    image: Upload
    model_id: str = ""
    loras: str = ""
    strength: float = 0.8
    guidance_scale: float = 7.5
    image_guidance_scale: float = 1.5
    negative_prompt: str = ""
    safety_check: bool = True
    seed: int | None = None
    num_inference_steps: int = 100
    num_images_per_prompt: int = 1


@dataclass(frozen=True)
class ImageToVideoRequest:
    image: Upload
    model_id: str = ""
    height: int = 576
    width: int = 1024
    fps: int = 6
    motion_bucket_id: int = 127
    noise_aug_strength: float = 0.02
    safety_check: bool = True
    seed: int | None = None
    num_inference_steps: int = 25


@dataclass(frozen=True)
class UpscaleRequest:
    prompt: str
    image: Upload
    model_id: str = ""
    safety_check: bool = True
    seed: int | None = None
    num_inference_steps: int = 75


@dataclass(frozen=True)
class AudioToTextRequest:
    audio: Upload
    model_id: str = ""
    return_timestamps: str = "true"  # "true"/"1"/"sentence" | "false"/"0" | "word"


@dataclass(frozen=True)
class SegmentAnything2Request:
    image: Upload
    model_id: str = ""
    point_coords: str | None = None  # JSON arrays as strings, as the SDK sends them
    point_labels: str | None = None
    box: str | None = None
    mask_input: str | None = None
    multimask_output: bool = True
    return_logits: bool = True
    normalize_coords: bool = True


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class LLMRequest:
    messages: tuple[ChatMessage, ...]
    model: str = ""
    temperature: float = 0.7
    max_tokens: int = 256
    top_p: float = 1.0
    top_k: int = -1
    stream: bool = False


@dataclass(frozen=True)
class ImageToTextRequest:
    image: Upload
    prompt: str = ""
    model_id: str = ""


@dataclass(frozen=True)
class TextToSpeechRequest:
    text: str
    model_id: str = ""
    description: str = "A male speaker delivers a slightly expressive and animated speech with a moderate speed and pitch."


AIRequest = Union[TextToImageRequest, ImageToImageRequest, ImageToVideoRequest, UpscaleRequest, AudioToTextRequest,
                  SegmentAnything2Request, LLMRequest, ImageToTextRequest, TextToSpeechRequest]

REQUEST_TYPE: dict[Pipeline, type] = {
    Pipeline.TEXT_TO_IMAGE: TextToImageRequest,
    Pipeline.IMAGE_TO_IMAGE: ImageToImageRequest,
    Pipeline.IMAGE_TO_VIDEO: ImageToVideoRequest,
    Pipeline.UPSCALE: UpscaleRequest,
    Pipeline.AUDIO_TO_TEXT: AudioToTextRequest,
    Pipeline.SEGMENT_ANYTHING_2: SegmentAnything2Request,
    Pipeline.LLM: LLMRequest,
    Pipeline.IMAGE_TO_TEXT: ImageToTextRequest,
    Pipeline.TEXT_TO_SPEECH: TextToSpeechRequest,
}


def model_of(request: AIRequest) -> str:
    """The model the client asked for ("" = the pipeline's configured model)."""
    return request.model if isinstance(request, LLMRequest) else request.model_id


# ------------------------------------------------------------------------------------------ outputs
@dataclass(frozen=True)
class Media:
    """One produced file: bytes the model made, never a placeholder."""

    data: bytes = field(repr=False)
    content_type: str  # "image/png" | "audio/wav" | "video/mp4"
    extension: str  # ".png" | ".wav" | ".mp4"
    seed: int = 0
    nsfw: bool = False


@dataclass(frozen=True)
class ImagesResult:
    """text-to-image, image-to-image, upscale, image-to-video (one mp4 per video, still under `images`)."""

    images: tuple[Media, ...]


@dataclass(frozen=True)
class TextChunk:
    timestamp: tuple[float, float]
    text: str


@dataclass(frozen=True)
class TranscriptResult:
    text: str
    chunks: tuple[TextChunk, ...]  # [] when return_timestamps is false; always sent
    duration_s: float = 0.0


@dataclass(frozen=True)
class MasksResult:
    """segment-anything-2: Python-literal nested lists as strings, sorted by score (trap 7)."""

    masks: str
    scores: str
    logits: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class LLMResult:
    id: str  # "chatcmpl-…"
    model: str
    created: int  # unix seconds
    text: str
    finish_reason: str  # "stop" | "length"
    usage: Usage


@dataclass(frozen=True)
class LLMChunk:
    """One streamed piece. The last one has finish_reason set and empty text."""

    id: str
    model: str
    created: int
    text: str
    finish_reason: str  # "" until the last chunk
    usage: Usage


@dataclass(frozen=True)
class ImageTextResult:
    text: str


@dataclass(frozen=True)
class AudioResult:
    audio: Media  # WAV


AIResult = Union[ImagesResult, TranscriptResult, MasksResult, LLMResult, ImageTextResult, AudioResult]


# ------------------------------------------------------------------------------------------ runners
class ModelRunner(Protocol):
    """One model behind one pipeline. load() may take seconds (it is called off the event loop, once);
    run() is called from a worker thread, at most `capacity` at a time."""

    pipeline: Pipeline
    model_id: str
    bundled: bool
    description: str  # what it is, in words ("Whisper tiny.en (CTranslate2 int8), bundled")

    def available(self) -> str | None:
        """None when the weights are present; else why not, naming the missing files and the path."""

    def load(self, device: str) -> None:
        """Load the weights on `device` ("cpu" | "cuda:0"). Raises ModelUnavailable with the reason."""

    def unload(self) -> None: ...

    @property
    def loaded(self) -> bool: ...

    def memory_bytes(self) -> int | None: ...

    def run(self, request: AIRequest) -> AIResult:
        """One inference. Raises BadRequest/TooLarge/UnsupportedMedia for input the model cannot take,
        RunnerFailed for a model fault."""

    def stream(self, request: LLMRequest) -> Iterator[LLMChunk]:
        """llm only: chunks as they are generated; the last has finish_reason. Others raise BadRequest."""


class AIWorkerPort(Protocol):
    """What the orchestrator's AI routes, the console and the bench ask of the worker (core/ai/worker.py)."""

    def start(self) -> None:
        """Load the warm models (in the background; their state is "loading" until done)."""

    def stop(self) -> None: ...

    def resolve(self, pipeline: Pipeline, model_id: str) -> str:
        """The model that serves (pipeline, model_id): "" means the pipeline's configured model (the first
        warm one when several). ModelUnavailable naming the model when it is not served or has no weights."""

    def run(self, pipeline: Pipeline, request: AIRequest) -> AIResult:
        """Blocking: reserve a slot (InsufficientCapacity at once when none is free), load a cold model,
        run, record latency and errors."""

    def stream(self, request: LLMRequest) -> Iterator[LLMChunk]:
        """Blocking iterator; holds the slot until exhausted or closed."""

    def models(self) -> tuple[ModelView, ...]: ...

    def advertised(self) -> tuple[tuple[ModelSpec, bool, int, int], ...]:
        """(spec, warm, capacity, capacity_in_use) of every model with weights, for OrchestratorInfo."""
