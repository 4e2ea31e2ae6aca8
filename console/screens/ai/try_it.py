"""The AI screen's "try it" panel without the UI: what each pipeline asks the operator for, the request
made from what was typed (a prompt, a file path), and the answer as something to show — text, a
transcript with timestamps, or the files the model made, saved in the data dir with their size and
resolution or duration.

    fields = FIELDS[Pipeline.UPSCALE]                 # what the prompt and file fields ask for
    request = build_request(Pipeline.UPSCALE, prompt, path)     # BadRequest/TooLarge in words
    answer = answer_of(result, pipeline=…, model_id=…, elapsed_s=…, out_dir=data_dir / "ai-try")

No Textual here (console.services calls it from a worker thread). The request goes to the worker exactly
as the gateway's would (the *Request dataclasses of core.ai.ports), so trying a pipeline here checks the
same path a paying client takes, minus the HTTP.
"""

from __future__ import annotations

import io
import mimetypes
import os
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from core.ai.ports import (
    AIRequest,
    AIResult,
    AudioResult,
    AudioToTextRequest,
    BadRequest,
    ChatMessage,
    ImagesResult,
    ImageTextResult,
    ImageToImageRequest,
    ImageToTextRequest,
    ImageToVideoRequest,
    LLMRequest,
    LLMResult,
    MasksResult,
    Media,
    Pipeline,
    SegmentAnything2Request,
    TextChunk,
    TextToImageRequest,
    TextToSpeechRequest,
    TooLarge,
    TranscriptResult,
    UpscaleRequest,
    Upload,
    Usage,
)

TRY_DIR = "ai-try"  # under the data dir: where the panel saves what the models made


@dataclass(frozen=True)
class TryFields:
    """What the panel's two fields ask for on one pipeline ("" = the pipeline does not take that field)."""

    prompt: str
    file: str
    prompt_required: bool = False

    @property
    def needs_file(self) -> bool:
        return bool(self.file)


_IMAGE = "path of an image (PNG, JPEG, WebP)"
FIELDS: dict[Pipeline, TryFields] = {
    Pipeline.LLM: TryFields("a question or an instruction", "", prompt_required=True),
    Pipeline.TEXT_TO_SPEECH: TryFields("the text to speak", "", prompt_required=True),
    Pipeline.AUDIO_TO_TEXT: TryFields("", "path of an audio file (WAV, MP3, FLAC, Ogg, M4A …), at least 1 s"),
    Pipeline.UPSCALE: TryFields("a prompt (optional; Real-ESRGAN ignores it)", _IMAGE),
    Pipeline.TEXT_TO_IMAGE: TryFields("a description of the image", "", prompt_required=True),
    Pipeline.IMAGE_TO_IMAGE: TryFields("how to change the image", _IMAGE, prompt_required=True),
    Pipeline.IMAGE_TO_VIDEO: TryFields("", _IMAGE),
    Pipeline.SEGMENT_ANYTHING_2: TryFields("", _IMAGE),
    Pipeline.IMAGE_TO_TEXT: TryFields("a question about the image (optional)", _IMAGE),
}


def read_upload(pipeline: Pipeline, path: str) -> Upload:
    """The file at `path` (~ expanded) as an upload, with its content type guessed from the name.
    BadRequest saying what is wrong with the path (none typed, no such file, a directory, unreadable);
    TooLarge over the 50 MB upload limit, as the gateway would answer."""
    from core.ai.media import MAX_UPLOAD_BYTES

    want = FIELDS[pipeline].file
    typed = path.strip()
    if not typed:
        raise BadRequest(f"{pipeline.value}: no file given: type the {want} in the file field",
                         pipeline=pipeline.value)
    p = Path(os.path.expanduser(typed))
    if not p.exists():
        raise BadRequest(f"{pipeline.value}: no file at {p}: type the {want}", pipeline=pipeline.value)
    if p.is_dir():
        raise BadRequest(f"{pipeline.value}: {p} is a directory: type the {want}", pipeline=pipeline.value)
    try:
        size = p.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise TooLarge(f"{pipeline.value}: {p} is {size / 2**20:.1f} MiB; the limit is "
                           f"{MAX_UPLOAD_BYTES / 2**20:.0f} MiB", pipeline=pipeline.value)
        data = p.read_bytes()
    except PermissionError:
        raise BadRequest(f"{pipeline.value}: cannot read {p}: permission denied", pipeline=pipeline.value) from None
    except OSError as exc:
        raise BadRequest(f"{pipeline.value}: cannot read {p}: {exc.strerror or exc}", pipeline=pipeline.value) from None
    if not data:
        raise BadRequest(f"{pipeline.value}: {p} is empty: type the {want}", pipeline=pipeline.value)
    content_type = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
    return Upload(p.name, content_type, data)


def build_request(pipeline: Pipeline, prompt: str, path: str = "", *, stream: bool = False) -> AIRequest:
    """The request the panel sends for what the operator typed; BadRequest (in words, naming the field)
    when a required prompt or file is missing, or the file cannot be read."""
    fields = FIELDS[pipeline]
    text = prompt.strip()
    if fields.prompt_required and not text:
        raise BadRequest(f"{pipeline.value}: type {fields.prompt} in the prompt field", pipeline=pipeline.value)
    upload = read_upload(pipeline, path) if fields.needs_file else None
    if pipeline is Pipeline.LLM:
        # greedy: the same prompt gets the same answer, which is what a check of the pipeline wants
        return LLMRequest(messages=(ChatMessage("user", text),), temperature=0.0, stream=stream)
    if pipeline is Pipeline.TEXT_TO_SPEECH:
        return TextToSpeechRequest(text=text)
    if pipeline is Pipeline.AUDIO_TO_TEXT:
        return AudioToTextRequest(audio=upload)
    if pipeline is Pipeline.UPSCALE:
        return UpscaleRequest(prompt=text, image=upload)
    if pipeline is Pipeline.TEXT_TO_IMAGE:
        return TextToImageRequest(prompt=text)
    if pipeline is Pipeline.IMAGE_TO_IMAGE:
        return ImageToImageRequest(prompt=text, image=upload)
    if pipeline is Pipeline.IMAGE_TO_VIDEO:
        return ImageToVideoRequest(image=upload)
    if pipeline is Pipeline.SEGMENT_ANYTHING_2:
        return SegmentAnything2Request(image=upload)
    return ImageToTextRequest(image=upload, prompt=text)


# ------------------------------------------------------------------------------------------ answers
@dataclass(frozen=True)
class SavedFile:
    """One file a model made, as saved: where, how big, and what it is ("512x384 PNG", "2.40 s WAV")."""

    path: Path
    size_bytes: int
    content_type: str
    detail: str


@dataclass(frozen=True)
class TryAnswer:
    """What one try produced, ready to show."""

    pipeline: str
    model_id: str
    elapsed_s: float
    text: str = ""  # llm answer, transcript, image-to-text, masks summary
    chunks: tuple[TextChunk, ...] = ()  # the transcript's timestamped pieces
    files: tuple[SavedFile, ...] = ()
    finish_reason: str = ""  # llm: "stop" | "length"
    usage: Usage | None = None
    loaded_first: bool = False  # the model was cold: the time includes loading it


def describe_media(media: Media) -> str:
    """What a produced file is, read from its bytes: an image's size, a WAV's duration, a video's size and
    frames."""
    if media.content_type.startswith("image/"):
        from core.ai.media import image_size

        w, h = image_size(Upload("output" + media.extension, media.content_type, media.data))
        return f"{w}x{h} {media.extension.lstrip('.').upper()}"
    if media.content_type == "audio/wav":
        with wave.open(io.BytesIO(media.data), "rb") as w:
            return f"{w.getnframes() / w.getframerate():.2f} s WAV, {w.getframerate() / 1000:g} kHz"
    if media.content_type.startswith("video/"):
        import av

        with av.open(io.BytesIO(media.data)) as c:
            v = c.streams.video[0]
            frames = sum(1 for _ in c.demux(v) if _.size)
            return f"{v.width}x{v.height} {media.extension.lstrip('.').upper()}, {frames} frames"
    return media.content_type


def save_media(media: Media, out_dir: Path, stem: str) -> SavedFile:
    """Write `media` as <out_dir>/<stem><ext> (a new name when taken), through a temporary file renamed
    into place so a failure leaves no half-written output."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{stem}{media.extension}"
    n = 1
    while target.exists():
        n += 1
        target = out_dir / f"{stem}-{n}{media.extension}"
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(media.data)
    tmp.replace(target)
    return SavedFile(target, len(media.data), media.content_type, describe_media(media))


def answer_of(result: AIResult, *, pipeline: Pipeline, model_id: str, elapsed_s: float, out_dir: Path,
              loaded_first: bool = False) -> TryAnswer:
    """The answer to show for one result; media are saved under `out_dir`, named for the pipeline and the
    time (local clock, to the second)."""
    common = {"pipeline": pipeline.value, "model_id": model_id, "elapsed_s": elapsed_s, "loaded_first": loaded_first}
    stem = f"{pipeline.value}-{time.strftime('%Y%m%d-%H%M%S')}"
    if isinstance(result, LLMResult):
        return TryAnswer(**common, text=result.text, finish_reason=result.finish_reason, usage=result.usage)
    if isinstance(result, TranscriptResult):
        return TryAnswer(**common, text=result.text, chunks=result.chunks)
    if isinstance(result, ImageTextResult):
        return TryAnswer(**common, text=result.text)
    if isinstance(result, MasksResult):
        return TryAnswer(**common, text=f"scores {result.scores}")
    if isinstance(result, AudioResult):
        return TryAnswer(**common, files=(save_media(result.audio, out_dir, stem),))
    if isinstance(result, ImagesResult):
        multi = len(result.images) > 1
        return TryAnswer(**common, files=tuple(save_media(m, out_dir, f"{stem}-{i + 1}" if multi else stem)
                                               for i, m in enumerate(result.images)))
    raise TypeError(f"no answer for {type(result).__name__}")


def clock_span(seconds: float) -> str:
    """0:03.20 — a transcript timestamp as a person reads it."""
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:05.2f}"
