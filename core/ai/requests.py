"""Reading an AI request off the wire, the same way on the gateway and on the orchestrator.

    fields, files = parse_multipart(content_type, body)          # python-multipart; BadRequest on a bad boundary
    request = parse_request(Pipeline.LLM, content_type, body)    # one of the *Request dataclasses of core.ai.ports
    facts = validate_media(Pipeline.UPSCALE, request)            # decodes/probes the uploads: 415 before any O is chosen
    content_type, body = encode_request(pipeline, request, model_id="openai/whisper-tiny.en",
                                        extra_fields={"duration": 8})   # for the hop to an orchestrator

Both ends share these functions so a request the gateway accepted is never refused by our orchestrator for
its shape, and a client's bad input is answered with a 4xx naming the field before anyone is charged or
penalised (ai-gateway-wire.md §0.8). The encodings follow the livepeer-ai SDK 0.10.0 (§1, §3): JSON for
text-to-image, llm and text-to-speech; multipart/form-data for the rest, booleans as "true"/"false",
numbers as decimal strings, every default sent (so `model_id` is "" unless the client chose one), fields
that are None omitted (`seed`). Unknown JSON fields and form parts are ignored, as go's decoders do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields as dc_fields, replace
from typing import Any

from core import safe_json
from core.ai.ports import (
    REQUEST_TYPE,
    AIRequest,
    AudioToTextRequest,
    BadRequest,
    ChatMessage,
    ImageToImageRequest,
    ImageToTextRequest,
    ImageToVideoRequest,
    LLMRequest,
    Pipeline,
    SegmentAnything2Request,
    TextToImageRequest,
    TextToSpeechRequest,
    TooLarge,
    UnsupportedMedia,
    Upload,
    UpscaleRequest,
)

JSON_PIPELINES = frozenset({Pipeline.TEXT_TO_IMAGE, Pipeline.LLM, Pipeline.TEXT_TO_SPEECH})
JSON_TYPE = "application/json"
FORM_TYPE = "multipart/form-data"

MAX_TEXT_CHARS = 10_000  # a prompt, negative prompt, text or voice description
MAX_MESSAGES_BYTES = 1 << 20  # llm: all messages' content together (SmolLM2's context is 8k tokens anyway)
MAX_MODEL_ID_CHARS = 256  # Hugging Face ids are at most 96 characters
MAX_JSON_FIELD_CHARS = 4 << 20  # a JSON-in-a-string field (segment-anything-2's 256x256 mask_input is ~1 MB)
MAX_FILE_BYTES = 50 * 1024 * 1024  # go-livepeer / ai-runner answer 413 over 50 MB
MAX_BODY_BYTES = MAX_FILE_BYTES + (1 << 20)  # what an HTTP layer may read before refusing with 413

SIZE_RANGE = (8, 2048)
STEPS_RANGE = (1, 200)
IMAGES_RANGE = (1, 8)
GUIDANCE_RANGE = (0.0, 50.0)
TEMPERATURE_RANGE = (0.0, 2.0)
MAX_TOKENS_RANGE = (1, 4096)
FPS_RANGE = (1, 60)
MOTION_BUCKET_RANGE = (0, 1023)
SEED_RANGE = (0, 2**32 - 1)  # torch.Generator.manual_seed takes any int; the SDK's and runner's seeds are uint32
ROLES = ("system", "user", "assistant")
RETURN_TIMESTAMPS = ("true", "1", "sentence", "false", "0", "word")
_TRUE = ("1", "t", "true")  # strconv.ParseBool's spellings, compared lower-case
_FALSE = ("0", "f", "false")

FILE_FIELDS: dict[Pipeline, str] = {
    Pipeline.IMAGE_TO_IMAGE: "image",
    Pipeline.IMAGE_TO_VIDEO: "image",
    Pipeline.UPSCALE: "image",
    Pipeline.AUDIO_TO_TEXT: "audio",
    Pipeline.SEGMENT_ANYTHING_2: "image",
    Pipeline.IMAGE_TO_TEXT: "image",
}


@dataclass(frozen=True)
class MediaFacts:
    """What pricing and the orchestrator hop need from the uploads: the input image's size, or the audio's
    length. None where the pipeline has no such input."""

    width: int | None = None
    height: int | None = None
    audio_s: float | None = None


# ------------------------------------------------------------------------------------------ multipart
def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """(text fields, file parts) of a multipart/form-data body. A part is a file when its
    Content-Disposition has a filename. The last of repeated names wins. BadRequest when the boundary is
    missing or the body is not multipart with that boundary."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    media, params = parse_options_header(content_type or "")
    if media.decode("latin-1").lower() != FORM_TYPE:
        raise UnsupportedMedia(f"expected {FORM_TYPE}, got {content_type or 'no Content-Type'}")
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadRequest("multipart/form-data without a boundary: send the Content-Type that your HTTP client "
                         "generated with the body (… ; boundary=…)")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    state: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "data": []}
    ended = []

    def on_part_begin():
        state["headers"], state["data"], state["size"] = {}, [], 0

    def on_header_field(data, start, end):
        state["field"] += data[start:end]

    def on_header_value(data, start, end):
        state["value"] += data[start:end]

    def on_header_end():
        state["headers"][state["field"].decode("latin-1").lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_part_data(data, start, end):
        state["size"] = state.get("size", 0) + (end - start)
        if state["size"] > MAX_FILE_BYTES:  # refused as it streams past the bound, not after it is joined
            _disp, opts = parse_options_header(state["headers"].get("content-disposition", b""))
            name = _printable(opts.get(b"name", b"?").decode("utf-8", "replace"))
            filename = _base_name(opts.get(b"filename", b"").decode("utf-8", "replace")) or "unnamed"
            raise TooLarge(f"the '{name}' file ({filename}) is over {MAX_FILE_BYTES / 2**20:.0f} MiB; the limit is "
                           f"{MAX_FILE_BYTES / 2**20:.0f} MiB")
        state["data"].append(data[start:end])

    def on_part_end():
        headers = state["headers"]
        _disp, opts = parse_options_header(headers.get("content-disposition", b""))
        name = opts.get(b"name")
        if name is None:
            return
        data = b"".join(state["data"])
        key = _printable(name.decode("utf-8", "replace"))
        if b"filename" in opts:
            ctype = _printable(headers.get("content-type", b"application/octet-stream").decode("latin-1").strip())
            files[key] = Upload(filename=_base_name(opts[b"filename"].decode("utf-8", "replace")), content_type=ctype,
                                data=data)
        else:
            try:
                fields[key] = data.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest(f"form field {key!r} is not UTF-8 text") from None

    def on_end():
        ended.append(True)

    parser = MultipartParser(boundary, callbacks={
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_end": on_end,
    })
    try:
        parser.write(body)
        parser.finalize()
    except (BadRequest, TooLarge):
        raise
    except Exception:  # python-multipart raises MultipartParseError and friends
        raise BadRequest("malformed multipart/form-data body: it does not match the boundary in its Content-Type "
                         "(send the Content-Type your HTTP client generated with the body)") from None
    if not ended and not (fields or files):
        raise BadRequest("malformed multipart/form-data body: no part with the boundary given in the Content-Type")
    if not ended:  # go's multipart reader: "unexpected EOF"; the last part would be silently lost
        raise BadRequest("truncated multipart/form-data body: it ends before the closing boundary (--<boundary>--); "
                         "the upload was cut short, send it again")
    return fields, files


def _printable(text: str) -> str:
    """A client's name with control characters (NUL, CR, LF …) replaced, so it cannot forge a log line or
    an error message."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _base_name(filename: str) -> str:
    """The last path element of a part's filename, as go's multipart FileName() (filepath.Base) gives it:
    "../../etc/passwd" is "passwd". lpc never writes uploads to disk under their names, but the name shows
    in errors and goes on to the orchestrator."""
    base = filename.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return _printable(base if base not in (".", "..") else "")


# ------------------------------------------------------------------------------------------ values
class _Reader:
    """Typed access to one request's fields, from JSON (typed values) or a form (strings), with errors
    that name the pipeline, the field and the value."""

    def __init__(self, pipeline: Pipeline, values: Mapping[str, Any], files: Mapping[str, Upload], form: bool):
        self.p, self.values, self.files, self.form = pipeline.value, values, files, form

    def bad(self, name: str, value: Any, want: str) -> BadRequest:
        shown = repr(value) if not isinstance(value, str) or len(value) <= 60 else repr(value[:60] + "…")
        return BadRequest(f"{self.p}: '{name}' must be {want}, got {shown}", pipeline=self.p)

    def has(self, name: str) -> bool:
        return name in self.values and self.values[name] is not None

    def text(self, name: str, default: str = "", *, limit: int = MAX_TEXT_CHARS) -> str:
        if not self.has(name):
            return default
        v = self.values[name]
        if not isinstance(v, str):
            raise self.bad(name, v, "a string")
        _check_unicode(self.p, name, v)
        if len(v) > limit:
            raise TooLarge(f"{self.p}: '{name}' is {len(v):,} characters; the limit is {limit:,}", pipeline=self.p)
        return v

    def model_name(self, name: str) -> str:
        """A model id ("" = the orchestrator's choice): printable and at most MAX_MODEL_ID_CHARS, since it is
        echoed in errors and log lines and is the key of payment sessions."""
        v = self.text(name)
        if len(v) > MAX_MODEL_ID_CHARS or not v.isprintable():
            raise self.bad(name, v, f"a model id such as 'org/name' (printable, at most {MAX_MODEL_ID_CHARS} "
                                    "characters)")
        return v

    def integer(self, name: str, default: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
        if not self.has(name) or (self.form and self.values[name] == ""):
            return default
        v = self.values[name]
        if self.form:
            try:
                n = int(v.strip(), 10)
            except ValueError:
                raise self.bad(name, v, "a whole number") from None
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            raise self.bad(name, v, "a whole number")
        else:
            n = int(v)
        self._bounds(name, n, lo, hi)
        return n

    def number(self, name: str, default: float, lo: float | None = None, hi: float | None = None, *,
               lo_open: bool = False) -> float:
        if not self.has(name) or (self.form and self.values[name] == ""):
            return default
        v = self.values[name]
        if self.form:
            try:
                x = float(v.strip())
            except ValueError:
                raise self.bad(name, v, "a number") from None
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.bad(name, v, "a number")
        else:
            x = float(v)
        if not math.isfinite(x):
            raise self.bad(name, v, "a finite number")
        if lo_open and lo is not None and x <= lo:
            raise BadRequest(f"{self.p}: '{name}' must be above {lo:g} and at most {hi:g}, got {x:g}", pipeline=self.p)
        self._bounds(name, x, lo, hi)
        return x

    def boolean(self, name: str, default: bool) -> bool:
        if not self.has(name) or (self.form and self.values[name] == ""):
            return default
        v = self.values[name]
        if isinstance(v, bool):
            return v
        if self.form and isinstance(v, str):
            if v.strip().lower() in _TRUE:
                return True
            if v.strip().lower() in _FALSE:
                return False
        raise self.bad(name, v, "true or false")

    def upload(self, name: str) -> Upload:
        f = self.files.get(name)
        if f is None:
            if name in self.values:
                raise BadRequest(f"{self.p}: '{name}' must be a file part (with a filename), not a text field",
                                 pipeline=self.p)
            raise BadRequest(f"{self.p}: the '{name}' file is missing", pipeline=self.p)
        if len(f.data) > MAX_FILE_BYTES:
            raise TooLarge(f"{self.p}: the '{name}' file ({f.filename or 'unnamed'}) is {len(f.data) / 2**20:.1f} MiB; "
                           f"the limit is {MAX_FILE_BYTES / 2**20:.0f} MiB", pipeline=self.p)
        return f

    def prompt(self, name: str = "prompt") -> str:
        if not self.has(name):
            raise BadRequest(f"{self.p}: the '{name}' field is missing", pipeline=self.p)
        value = self.text(name)
        if not value.strip():
            raise BadRequest(f"{self.p}: Prompt must be provided.", pipeline=self.p)
        return value

    def json_text(self, name: str, want: str) -> str | None:
        """A field holding JSON as a string (loras, segment-anything-2's prompts); the text is kept as given."""
        if not self.has(name) or self.values[name] == "":
            return None
        v = self.text(name, limit=MAX_JSON_FIELD_CHARS)
        try:
            parsed = safe_json.loads(v)
        except (ValueError, RecursionError):
            raise self.bad(name, v, f"{want} written as JSON") from None
        if want.startswith("a JSON object") and not isinstance(parsed, dict):
            raise self.bad(name, v, want)
        if want.startswith("a JSON array") and not isinstance(parsed, list):
            raise self.bad(name, v, want)
        return v

    def _bounds(self, name, x, lo, hi) -> None:
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise BadRequest(f"{self.p}: '{name}' must be between {lo:g} and {hi:g}, got {x:g}", pipeline=self.p)


def _check_unicode(pipeline: str, name: str, value: str) -> None:
    """JSON's \\ud800 escapes decode to lone surrogates, which no UTF-8 encoder (a tokenizer, the hop to an
    orchestrator) accepts: refused here, naming the field, rather than failing later as a 500."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(f"{pipeline}: '{name}' holds an unpaired UTF-16 surrogate (\\u{ord(value[exc.start]):04x}) "
                         f"at character {exc.start}; send valid Unicode text", pipeline=pipeline) from None


def _content_type_for(pipeline: Pipeline) -> str:
    return JSON_TYPE if pipeline in JSON_PIPELINES else FORM_TYPE


def parse_request(pipeline: Pipeline, content_type: str, body: bytes) -> AIRequest:
    """The request dataclass for `pipeline` from an HTTP body. UnsupportedMedia (415) naming the content
    type the pipeline needs; BadRequest naming the field for a missing or wrong value; TooLarge for a
    prompt over MAX_TEXT_CHARS, llm messages over 1 MiB, or a file over 50 MB. Uploads are not decoded
    here: validate_media does that."""
    pipeline = Pipeline(pipeline)
    want = _content_type_for(pipeline)
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != want:
        raise UnsupportedMedia(f"{pipeline.value}: send the request as {want}, not "
                               f"{media or 'a body without a Content-Type'}", pipeline=pipeline.value)
    if want == JSON_TYPE:
        try:
            values = safe_json.loads(body or b"")
        except safe_json.TooDeep:
            raise BadRequest(f"{pipeline.value}: the JSON body is nested too deeply; send a flat request object",
                             pipeline=pipeline.value) from None
        except ValueError as exc:
            raise BadRequest(f"{pipeline.value}: the body is not valid JSON ({exc})", pipeline=pipeline.value) from None
        except RecursionError:
            raise BadRequest(f"{pipeline.value}: the JSON body is nested too deeply; send a flat request object",
                             pipeline=pipeline.value) from None
        if not isinstance(values, dict):
            raise BadRequest(f"{pipeline.value}: the body must be a JSON object", pipeline=pipeline.value)
        r = _Reader(pipeline, values, {}, form=False)
    else:
        fields, files = parse_multipart(content_type, body)
        r = _Reader(pipeline, fields, files, form=True)
    return _BUILDERS[pipeline](r)


def _t2i(r: _Reader) -> TextToImageRequest:
    return TextToImageRequest(
        prompt=r.prompt(), model_id=r.model_name("model_id"), loras=r.json_text("loras", "a JSON object of LoRA weights") or "",
        height=r.integer("height", 576, *SIZE_RANGE), width=r.integer("width", 1024, *SIZE_RANGE),
        guidance_scale=r.number("guidance_scale", 7.5, *GUIDANCE_RANGE), negative_prompt=r.text("negative_prompt"),
        safety_check=r.boolean("safety_check", True), seed=r.integer("seed", None, *SEED_RANGE),
        num_inference_steps=r.integer("num_inference_steps", 50, *STEPS_RANGE),
        num_images_per_prompt=r.integer("num_images_per_prompt", 1, *IMAGES_RANGE))


def _i2i(r: _Reader) -> ImageToImageRequest:
    prompt = r.prompt()
    return ImageToImageRequest(
        prompt=prompt, image=r.upload("image"), model_id=r.model_name("model_id"),
        loras=r.json_text("loras", "a JSON object of LoRA weights") or "",
        strength=r.number("strength", 0.8, 0.0, 1.0), guidance_scale=r.number("guidance_scale", 7.5, *GUIDANCE_RANGE),
        image_guidance_scale=r.number("image_guidance_scale", 1.5, *GUIDANCE_RANGE),
        negative_prompt=r.text("negative_prompt"), safety_check=r.boolean("safety_check", True),
        seed=r.integer("seed", None, *SEED_RANGE), num_inference_steps=r.integer("num_inference_steps", 100, *STEPS_RANGE),
        num_images_per_prompt=r.integer("num_images_per_prompt", 1, *IMAGES_RANGE))


def _i2v(r: _Reader) -> ImageToVideoRequest:
    image = r.upload("image")
    height, width = r.integer("height", 576, *SIZE_RANGE), r.integer("width", 1024, *SIZE_RANGE)
    for name, v in (("height", height), ("width", width)):
        if v % 8:
            raise BadRequest(f"image-to-video: '{name}' must be a multiple of 8, got {v}", pipeline=r.p)
    return ImageToVideoRequest(
        image=image, model_id=r.model_name("model_id"), height=height, width=width, fps=r.integer("fps", 6, *FPS_RANGE),
        motion_bucket_id=r.integer("motion_bucket_id", 127, *MOTION_BUCKET_RANGE),
        noise_aug_strength=r.number("noise_aug_strength", 0.02, 0.0, 1.0), safety_check=r.boolean("safety_check", True),
        seed=r.integer("seed", None, *SEED_RANGE), num_inference_steps=r.integer("num_inference_steps", 25, *STEPS_RANGE))


def _upscale(r: _Reader) -> UpscaleRequest:
    prompt = r.prompt()
    return UpscaleRequest(
        prompt=prompt, image=r.upload("image"), model_id=r.model_name("model_id"), safety_check=r.boolean("safety_check", True),
        seed=r.integer("seed", None, *SEED_RANGE), num_inference_steps=r.integer("num_inference_steps", 75, *STEPS_RANGE))


def _a2t(r: _Reader) -> AudioToTextRequest:
    audio = r.upload("audio")
    rt = r.text("return_timestamps", "true").strip().lower() or "true"
    if rt not in RETURN_TIMESTAMPS:
        raise r.bad("return_timestamps", rt, "one of " + ", ".join(RETURN_TIMESTAMPS))
    return AudioToTextRequest(audio=audio, model_id=r.model_name("model_id"), return_timestamps=rt)


def _sam2(r: _Reader) -> SegmentAnything2Request:
    return SegmentAnything2Request(
        image=r.upload("image"), model_id=r.model_name("model_id"),
        point_coords=r.json_text("point_coords", "a JSON array of [x, y] points"),
        point_labels=r.json_text("point_labels", "a JSON array of 0/1 labels"),
        box=r.json_text("box", "a JSON array [x1, y1, x2, y2]"),
        mask_input=r.json_text("mask_input", "a JSON array (a low-resolution mask)"),
        multimask_output=r.boolean("multimask_output", True), return_logits=r.boolean("return_logits", True),
        normalize_coords=r.boolean("normalize_coords", True))


def _llm(r: _Reader) -> LLMRequest:
    raw = r.values.get("messages")
    if raw is None:
        raise BadRequest("llm: the 'messages' field is missing", pipeline=r.p)
    if not isinstance(raw, list) or not raw:
        raise r.bad("messages", raw, "a non-empty list of {role, content} objects")
    messages, total = [], 0
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            raise r.bad(f"messages[{i}]", m, "an object {role, content}")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise r.bad(f"messages[{i}].role", role, "one of " + ", ".join(ROLES))
        if not isinstance(content, str):
            raise r.bad(f"messages[{i}].content", content, "a string")
        _check_unicode(r.p, f"messages[{i}].content", content)
        total += len(content.encode("utf-8"))
        messages.append(ChatMessage(role=role, content=content))
    if total > MAX_MESSAGES_BYTES:
        raise TooLarge(f"llm: the messages hold {total:,} bytes; the limit is {MAX_MESSAGES_BYTES:,} (1 MiB)",
                       pipeline=r.p)
    top_k = r.integer("top_k", -1)
    if top_k == 0 or top_k < -1:
        raise r.bad("top_k", top_k, "-1 (off) or a positive whole number")
    return LLMRequest(
        messages=tuple(messages), model=r.model_name("model"), temperature=r.number("temperature", 0.7, *TEMPERATURE_RANGE),
        max_tokens=r.integer("max_tokens", 256, *MAX_TOKENS_RANGE), top_p=r.number("top_p", 1.0, 0.0, 1.0, lo_open=True),
        top_k=top_k, stream=r.boolean("stream", False))


def _i2t(r: _Reader) -> ImageToTextRequest:
    return ImageToTextRequest(image=r.upload("image"), prompt=r.text("prompt"), model_id=r.model_name("model_id"))


def _tts(r: _Reader) -> TextToSpeechRequest:
    text = r.text("text")
    if not text.strip():
        raise BadRequest("text-to-speech: Text input must be provided.", pipeline=r.p)
    return TextToSpeechRequest(text=text, model_id=r.model_name("model_id"),
                               description=r.text("description", TextToSpeechRequest.description))


_BUILDERS = {
    Pipeline.TEXT_TO_IMAGE: _t2i, Pipeline.IMAGE_TO_IMAGE: _i2i, Pipeline.IMAGE_TO_VIDEO: _i2v,
    Pipeline.UPSCALE: _upscale, Pipeline.AUDIO_TO_TEXT: _a2t, Pipeline.SEGMENT_ANYTHING_2: _sam2,
    Pipeline.LLM: _llm, Pipeline.IMAGE_TO_TEXT: _i2t, Pipeline.TEXT_TO_SPEECH: _tts,
}


# ------------------------------------------------------------------------------------------ media
def validate_media(pipeline: Pipeline, request: AIRequest) -> MediaFacts:
    """Decode the request's upload with core.ai.media so a corrupt file is a 415 before an orchestrator is
    chosen (ai-gateway-wire.md §0.8): images are decoded in full, because a truncated PNG has a valid
    header and image_size alone would pass it; audio through FFmpeg, which must read all of it to know its
    length. Returns what pricing needs."""
    from core.ai import media

    pipeline = Pipeline(pipeline)
    field = FILE_FIELDS.get(pipeline)
    if field is None:
        return MediaFacts()
    upload: Upload = getattr(request, field)
    if pipeline is Pipeline.AUDIO_TO_TEXT:
        return MediaFacts(audio_s=media.audio_seconds(upload, pipeline=pipeline.value))
    w, h = media.decode_image(upload, pipeline=pipeline.value).size  # TooLarge over MAX_IMAGE_PIXELS
    return MediaFacts(width=w, height=h)


def prepare_media(pipeline: Pipeline, request: AIRequest) -> tuple[MediaFacts, AIRequest]:
    """validate_media for the orchestrator, whose model reads the upload next: audio is decoded once and its
    samples ride on the Upload (Upload.decoded) to the runner, instead of FFmpeg decoding it twice."""
    from core.ai import media

    pipeline = Pipeline(pipeline)
    if pipeline is not Pipeline.AUDIO_TO_TEXT:
        return validate_media(pipeline, request), request
    field = FILE_FIELDS[pipeline]
    upload: Upload = getattr(request, field)
    samples, seconds = media.decode_audio(upload, pipeline=pipeline.value)
    return MediaFacts(audio_s=seconds), replace(request, **{field: replace(upload, decoded=(samples, seconds))})


# ------------------------------------------------------------------------------------------ encoding
def _wire_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def request_fields(pipeline: Pipeline, request: AIRequest, *, model_id: str) -> dict[str, Any]:
    """The request as the SDK's field names and JSON values, with `model_id` (`model` for llm) replaced;
    None values and uploads left out."""
    out: dict[str, Any] = {}
    for f in dc_fields(request):
        v = getattr(request, f.name)
        if v is None or isinstance(v, Upload):
            continue
        if f.name == "messages":
            v = [{"role": m.role, "content": m.content} for m in v]
        out[f.name] = v
    out["model" if pipeline is Pipeline.LLM else "model_id"] = model_id
    return out


def encode_request(pipeline: Pipeline, request: AIRequest, *, model_id: str,
                   extra_fields: dict | None = None) -> tuple[str, bytes]:
    """(Content-Type, body) of the request for the hop to an orchestrator, in the SDK's encoding (httpx
    builds the multipart body, as it does inside the SDK) and with the concrete `model_id`.
    extra_fields: for audio-to-text, {"duration": seconds} becomes go-livepeer's `metadata` form field
    {"duration": "<s>"}; other keys are added as they are (strings in forms)."""
    import httpx

    pipeline = Pipeline(pipeline)
    values = request_fields(pipeline, request, model_id=model_id)
    extra = dict(extra_fields or {})
    if pipeline is Pipeline.AUDIO_TO_TEXT and "duration" in extra:
        extra["metadata"] = json.dumps({"duration": str(extra.pop("duration"))})
    values.update(extra)
    if pipeline in JSON_PIPELINES:
        return JSON_TYPE, json.dumps(values).encode("utf-8")
    field = FILE_FIELDS[pipeline]
    upload: Upload = getattr(request, field)
    files = {field: (upload.filename or field, upload.data, upload.content_type or "application/octet-stream")}
    req = httpx.Request("POST", "http://o.invalid/", data={k: _wire_value(v) for k, v in values.items()}, files=files)
    return req.headers["content-type"], req.read()


assert set(_BUILDERS) == set(REQUEST_TYPE) == set(Pipeline)
