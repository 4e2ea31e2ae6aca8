"""AI results and errors as the livepeer-ai SDK 0.10.0 parses them, and an orchestrator's JSON read back.

Writing (orchestrator and gateway):

    body = to_json(result, url_of)        # url_of(media) -> the URL where that file is served
    chunk_json(llm_chunk); sse_event(chunk_json(c)) -> b"data: {...}\\n\\n"
    error_json(err)  -> {"detail": {"msg": M}, "error": {"message": M}}   (both shapes: trap 1)

Reading (the gateway, from an orchestrator's 200 JSON):

    remote = parse_result(Pipeline.UPSCALE, payload)      # RemoteResult
    for m in remote.media:                                # each file the orchestrator made, as a URL
        data, ctype = decode_data_uri(m.url) or fetch(m.url)          # the gateway fetches http(s) URLs
    result = remote.materialize([(data, ctype), ...])     # an AIResult with the bytes: then to_json(result,
                                                          # url_of) with the gateway's own /stream/... URLs
    remote.result                                         # text pipelines (llm, audio-to-text, sam2,
                                                          # image-to-text): the AIResult itself, no media

The schemas (ai-gateway-wire.md §3, §0.7): images [{url, seed:int, nsfw:bool}] (image-to-video too, one
mp4 per video); {text, chunks:[{timestamp:[start, end], text}]} with chunks always present; masks,
scores and logits as strings; LLM {id, model, created, usage, choices:[{index, finish_reason,
message{role, content}}]} and `delta` instead of `message` when streamed; {text}; {audio:{url}}.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from core.ai.ports import (
    AIError,
    AIResult,
    AudioResult,
    ImagesResult,
    ImageTextResult,
    LLMChunk,
    LLMResult,
    MasksResult,
    Media,
    Pipeline,
    RunnerFailed,
    TextChunk,
    TranscriptResult,
    Usage,
)

IMAGE_PIPELINES = frozenset({Pipeline.TEXT_TO_IMAGE, Pipeline.IMAGE_TO_IMAGE, Pipeline.UPSCALE,
                             Pipeline.IMAGE_TO_VIDEO})
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "audio/wav": ".wav",
              "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/mpeg": ".mp3", "video/mp4": ".mp4"}
CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
                 ".wav": "audio/wav", ".mp3": "audio/mpeg", ".mp4": "video/mp4"}
_DEFAULT_TYPE = {Pipeline.IMAGE_TO_VIDEO: "video/mp4", Pipeline.TEXT_TO_SPEECH: "audio/wav"}


# ------------------------------------------------------------------------------------------ writing
def _usage(u: Usage) -> dict:
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens, "total_tokens": u.total_tokens}


def to_json(result: AIResult, url_of: Callable[[Media], str]) -> dict:
    """The SDK's 200 body for `result`; url_of gives each media file's URL (a gateway /stream/… path,
    an orchestrator's absolute URL, or a data: URI)."""
    if isinstance(result, ImagesResult):
        return {"images": [{"url": url_of(m), "seed": int(m.seed), "nsfw": bool(m.nsfw)} for m in result.images]}
    if isinstance(result, TranscriptResult):
        return {"text": result.text,
                "chunks": [{"timestamp": [c.timestamp[0], c.timestamp[1]], "text": c.text} for c in result.chunks]}
    if isinstance(result, MasksResult):
        return {"masks": result.masks, "scores": result.scores, "logits": result.logits}
    if isinstance(result, LLMResult):
        return {"id": result.id, "model": result.model, "created": int(result.created), "usage": _usage(result.usage),
                "choices": [{"index": 0, "finish_reason": result.finish_reason,
                             "message": {"role": "assistant", "content": result.text}}]}
    if isinstance(result, ImageTextResult):
        return {"text": result.text}
    if isinstance(result, AudioResult):
        return {"audio": {"url": url_of(result.audio)}}
    raise TypeError(f"not an AI result: {type(result).__name__}")


def chunk_json(chunk: LLMChunk) -> dict:
    """One streamed LLM piece: the LLM body with `delta` instead of `message`."""
    return {"id": chunk.id, "model": chunk.model, "created": int(chunk.created), "usage": _usage(chunk.usage),
            "choices": [{"index": 0, "finish_reason": chunk.finish_reason,
                         "delta": {"role": "assistant", "content": chunk.text}}]}


def sse_event(payload: dict) -> bytes:
    """One server-sent event: b"data: <json>\\n\\n"."""
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode("utf-8") + b"\n\n"


def error_json(error: AIError | str) -> dict:
    """The error body both the SDK (detail.msg) and go-livepeer clients (error.message) read."""
    message = str(error) if isinstance(error, AIError) else error
    return {"detail": {"msg": message}, "error": {"message": message}}


def data_uri(media: Media) -> str:
    """The file inline, as ai-runner returns results: data:<type>;base64,<data>."""
    return f"data:{media.content_type};base64," + base64.b64encode(media.data).decode("ascii")


# ------------------------------------------------------------------------------------------ reading
@dataclass(frozen=True)
class RemoteMedia:
    """One file in an orchestrator's answer, not yet fetched: its URL and what the schema says of it."""

    url: str
    seed: int = 0
    nsfw: bool = False
    content_type: str = ""  # guessed from a data: URI or the URL's extension ("" when neither tells)


@dataclass(frozen=True)
class RemoteResult:
    """An orchestrator's 200 body, checked against the schema. Text pipelines: `result` is the AIResult and
    `media` is empty. Image, video and audio pipelines: `result` is None and `media` lists the files to
    fetch; `materialize` builds the AIResult from their bytes, in the same order."""

    pipeline: Pipeline
    result: AIResult | None
    media: tuple[RemoteMedia, ...] = ()

    def materialize(self, fetched: Sequence[bytes | tuple[bytes, str]]) -> AIResult:
        """The AIResult with each file's bytes. `fetched[i]` is the bytes of media[i], or (bytes,
        content_type) when the fetch told the type (an HTTP Content-Type header)."""
        if self.result is not None:
            return self.result
        if len(fetched) != len(self.media):
            raise ValueError(f"{len(self.media)} files to materialize, {len(fetched)} given")
        files = []
        for m, f in zip(self.media, fetched):
            data, ctype = (f, "") if isinstance(f, (bytes, bytearray)) else f
            ctype = (ctype or "").split(";", 1)[0].strip().lower()
            if ctype not in EXTENSIONS:
                ctype = m.content_type or _DEFAULT_TYPE.get(self.pipeline, "image/png")
            files.append(Media(data=bytes(data), content_type=ctype, extension=EXTENSIONS.get(ctype, ".bin"),
                               seed=m.seed, nsfw=m.nsfw))
        if self.pipeline is Pipeline.TEXT_TO_SPEECH:
            return AudioResult(audio=files[0])
        return ImagesResult(images=tuple(files))


def decode_data_uri(url: str) -> tuple[bytes, str] | None:
    """(bytes, content type) of a data: URI; None when `url` is not one. ValueError when it is malformed."""
    if not url.startswith("data:"):
        return None
    head, sep, payload = url[5:].partition(",")
    if not sep:
        raise ValueError("a data: URI without a comma")
    parts = head.split(";")
    ctype = parts[0].strip().lower() or "text/plain"
    if "base64" in (p.strip().lower() for p in parts[1:]):
        try:
            return base64.b64decode(payload, validate=False), ctype
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"a data: URI with bad base64: {exc}") from None
    return unquote_to_bytes(payload), ctype


def _guess_type(url: str) -> str:
    if url.startswith("data:"):
        return url[5:].split(",", 1)[0].split(";", 1)[0].strip().lower()
    path = urlsplit(url).path.lower()
    for ext, ctype in CONTENT_TYPES.items():
        if path.endswith(ext):
            return ctype
    return ""


class _Check:
    def __init__(self, pipeline: Pipeline):
        self.p = pipeline.value

    def fail(self, what: str) -> RunnerFailed:
        return RunnerFailed(f"{self.p}: the orchestrator's answer does not follow the {self.p} schema: {what}",
                            pipeline=self.p)

    def get(self, obj: Any, key: str, typ, where: str = "") -> Any:
        if not isinstance(obj, dict) or key not in obj:
            raise self.fail(f"'{where}{key}' is missing")
        v = obj[key]
        ok = isinstance(v, typ) and not (typ in (int, (int, float)) and isinstance(v, bool))
        if not ok:
            raise self.fail(f"'{where}{key}' is {type(v).__name__}")
        return v


def _usage_from(c: _Check, obj: dict) -> Usage:
    u = obj.get("usage") or {}
    if not isinstance(u, dict):
        raise c.fail("'usage' is not an object")
    return Usage(prompt_tokens=int(u.get("prompt_tokens") or 0), completion_tokens=int(u.get("completion_tokens") or 0))


def parse_chunk(payload: dict) -> LLMChunk:
    """One streamed LLM event's JSON (from `data: …`) as an LLMChunk; RunnerFailed when it is not one."""
    c = _Check(Pipeline.LLM)
    choices = c.get(payload, "choices", list)
    choice = choices[0] if choices else {}
    if not isinstance(choice, dict):
        raise c.fail("'choices[0]' is not an object")
    delta = choice.get("delta") or choice.get("message") or {}
    if not isinstance(delta, dict):
        raise c.fail("'choices[0].delta' is not an object")
    return LLMChunk(id=str(payload.get("id", "")), model=str(payload.get("model", "")),
                    created=int(payload.get("created") or 0), text=str(delta.get("content") or ""),
                    finish_reason=str(choice.get("finish_reason") or ""), usage=_usage_from(c, payload))


def parse_result(pipeline: Pipeline, payload: Any) -> RemoteResult:
    """An orchestrator's 200 JSON for `pipeline`, checked against the SDK's schema (RunnerFailed naming
    the missing or mistyped key otherwise: that is the orchestrator's fault, not the client's)."""
    pipeline = Pipeline(pipeline)
    c = _Check(pipeline)
    if not isinstance(payload, dict):
        raise c.fail(f"the body is {type(payload).__name__}, not an object")
    if pipeline in IMAGE_PIPELINES:
        items = c.get(payload, "images", list)
        if not items:
            raise c.fail("'images' is empty")
        media = []
        for i, item in enumerate(items):
            url = c.get(item, "url", str, f"images[{i}].")
            seed = item.get("seed", 0) if isinstance(item, dict) else 0
            nsfw = item.get("nsfw", False) if isinstance(item, dict) else False
            media.append(RemoteMedia(url=url, seed=int(seed) if isinstance(seed, (int, float)) else 0,
                                     nsfw=bool(nsfw), content_type=_guess_type(url)))
        return RemoteResult(pipeline, None, tuple(media))
    if pipeline is Pipeline.TEXT_TO_SPEECH:
        audio = c.get(payload, "audio", dict)
        url = c.get(audio, "url", str, "audio.")
        return RemoteResult(pipeline, None, (RemoteMedia(url=url, content_type=_guess_type(url)),))
    if pipeline is Pipeline.AUDIO_TO_TEXT:
        text = c.get(payload, "text", str)
        chunks = []
        for i, ch in enumerate(payload.get("chunks") or []):
            ts = c.get(ch, "timestamp", list, f"chunks[{i}].")
            start = float(ts[0]) if ts and ts[0] is not None else 0.0
            end = float(ts[1]) if len(ts) > 1 and ts[1] is not None else start
            chunks.append(TextChunk(timestamp=(start, end), text=str(ch.get("text", ""))))
        return RemoteResult(pipeline, TranscriptResult(text=text, chunks=tuple(chunks)))
    if pipeline is Pipeline.SEGMENT_ANYTHING_2:
        return RemoteResult(pipeline, MasksResult(masks=c.get(payload, "masks", str), scores=c.get(payload, "scores", str),
                                                  logits=c.get(payload, "logits", str)))
    if pipeline is Pipeline.IMAGE_TO_TEXT:
        return RemoteResult(pipeline, ImageTextResult(text=c.get(payload, "text", str)))
    # llm
    choices = c.get(payload, "choices", list)
    if not choices:
        raise c.fail("'choices' is empty")
    message = c.get(choices[0], "message", dict, "choices[0].")
    content = c.get(message, "content", str, "choices[0].message.")
    return RemoteResult(pipeline, LLMResult(
        id=str(payload.get("id", "")), model=str(payload.get("model", "")), created=int(payload.get("created") or 0),
        text=content, finish_reason=str(choices[0].get("finish_reason") or "stop"), usage=_usage_from(c, payload)))
