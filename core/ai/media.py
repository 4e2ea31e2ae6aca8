"""Decoding what clients upload and encoding what models make, with the errors a client can act on.

    image = decode_image(upload, pipeline="upscale")     # PIL RGB image; UnsupportedMedia if it is not one
    pcm, seconds = decode_audio(upload)                   # float32 mono 16 kHz; UnsupportedMedia / BadRequest
    png = encode_png(image); wav = encode_wav(samples, 24000); mp4 = encode_mp4(frames, fps=6)

Images go through Pillow, audio and video through PyAV (FFmpeg), the libraries the rest of lpc uses.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence

from core.ai.ports import BadRequest, TooLarge, UnsupportedMedia, Upload

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # go-livepeer / ai-runner: 413 over 50 MB
MAX_IMAGE_PIXELS = 4096 * 4096  # a decompression bomb is refused before it is decoded
MIN_AUDIO_S = 1.0  # the runner cannot time shorter audio ("audio duration calculation failed")
MAX_AUDIO_S = 30 * 60.0  # 30 min: 115 MB of 16 kHz float32 samples; Whisper tiny.en takes minutes on a CPU for it


def check_size(upload: Upload, *, pipeline: str = "", limit: int = MAX_UPLOAD_BYTES) -> None:
    if len(upload.data) > limit:
        raise TooLarge(f"{pipeline}: {upload.filename or 'the file'} is {len(upload.data) / 2**20:.1f} MiB; the limit "
                       f"is {limit / 2**20:.0f} MiB", pipeline=pipeline)
    if not upload.data:
        raise BadRequest(f"{pipeline}: {upload.filename or 'the file'} is empty", pipeline=pipeline)


def decode_image(upload: Upload, *, pipeline: str = ""):
    """The upload as an RGB PIL image. UnsupportedMedia when it is not an image Pillow reads; TooLarge over
    MAX_IMAGE_PIXELS or 50 MB."""
    from PIL import Image, UnidentifiedImageError

    check_size(upload, pipeline=pipeline)
    name = upload.filename or "the image"
    try:
        with Image.open(io.BytesIO(upload.data)) as probe:
            w, h = probe.size
            if w * h > MAX_IMAGE_PIXELS:
                raise TooLarge(f"{pipeline}: {name} is {w}x{h}; the limit is {MAX_IMAGE_PIXELS} pixels",
                               pipeline=pipeline)
            probe.load()
            return probe.convert("RGB")
    except UnidentifiedImageError:
        raise UnsupportedMedia(f"{pipeline}: {name} is not an image lpc can read (PNG, JPEG, WebP …): its bytes are "
                               f"no image format Pillow knows", pipeline=pipeline) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMedia(f"{pipeline}: {name} is not an image lpc can read (PNG, JPEG, WebP …): {exc}",
                               pipeline=pipeline) from None
    except Image.DecompressionBombError as exc:
        raise TooLarge(f"{pipeline}: {name}: {exc}", pipeline=pipeline) from None


def image_size(upload: Upload, *, pipeline: str = "") -> tuple[int, int]:
    """(width, height) without decoding the pixels (for pricing and validation)."""
    from PIL import Image, UnidentifiedImageError

    check_size(upload, pipeline=pipeline)
    try:
        with Image.open(io.BytesIO(upload.data)) as probe:
            return probe.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMedia(f"{pipeline}: {upload.filename or 'the image'} is not an image lpc can read: {exc}",
                               pipeline=pipeline) from None


def decode_audio(upload: Upload, *, pipeline: str = "audio-to-text", rate: int = 16000,
                 max_seconds: float | None = None):
    """(float32 mono samples at `rate`, duration in seconds). UnsupportedMedia (415, go-livepeer's
    "Unsupported audio format or malformed file.") when FFmpeg cannot decode it; BadRequest when it has
    no audio or is shorter than MIN_AUDIO_S; TooLarge when it is longer than MAX_AUDIO_S (a 2.7 MB Opus
    file can hold 2 hours of silence: 460 MB of samples and 40 s of FFmpeg, twice, before any model ran)."""
    import numpy as np

    chunks: list = []
    seconds = _decode_audio(upload, pipeline, rate, chunks.append, max_seconds)
    samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    return samples, seconds


def audio_seconds(upload: Upload, *, pipeline: str = "audio-to-text", max_seconds: float | None = None) -> float:
    """The audio's duration, decoded in full (a header's duration can lie) but without keeping the samples;
    the same errors as decode_audio."""
    return _decode_audio(upload, pipeline, 16000, lambda _chunk: None, max_seconds)


def _decode_audio(upload: Upload, pipeline: str, rate: int, keep, max_seconds: float | None) -> float:
    import av

    check_size(upload, pipeline=pipeline)
    limit = MAX_AUDIO_S if max_seconds is None else max_seconds
    name = upload.filename or "the audio"

    def too_long(seconds: float) -> TooLarge:
        return TooLarge(f"{pipeline}: {name} holds {'more than ' if seconds <= limit else ''}{seconds:.0f} s of "
                        f"audio; the limit is {limit:.0f} s ({limit / 60:.0f} min): send it in shorter pieces",
                        pipeline=pipeline)

    n = 0
    try:
        with av.open(io.BytesIO(upload.data), mode="r") as container:
            if not container.streams.audio:
                raise BadRequest(f"{pipeline}: {name} has no audio stream", pipeline=pipeline)
            stream = container.streams.audio[0]
            declared = (float(stream.duration * stream.time_base) if stream.duration and stream.time_base
                        else (container.duration or 0) / 1e6)
            if declared > limit:  # refused before a sample is decoded; a lying header is caught by the count
                raise too_long(declared)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1)
                    n += len(arr)
                    if n > limit * rate:
                        raise too_long(n / rate)
                    keep(arr)
            for out in resampler.resample(None):
                arr = out.to_ndarray().reshape(-1)
                n += len(arr)
                keep(arr)
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise UnsupportedMedia(f"{pipeline}: Unsupported audio format or malformed file ({name}: {exc})",
                               pipeline=pipeline) from None
    seconds = n / rate
    if seconds > limit:
        raise too_long(seconds)
    if seconds < MIN_AUDIO_S:
        raise BadRequest(f"{pipeline}: {name} holds {seconds:.2f} s of audio; at least {MIN_AUDIO_S:.0f} s is needed",
                         pipeline=pipeline)
    return seconds


def encode_png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def encode_wav(samples, rate: int) -> bytes:
    """16-bit PCM mono WAV of float samples in [-1, 1]."""
    import numpy as np

    pcm = (np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def encode_mp4(frames: Sequence, fps: int, *, bitrate: int = 6_000_000) -> bytes:
    """H.264 MP4 of PIL images or HxWx3 uint8 arrays (go-livepeer's O encodes image-to-video at 6000 kb/s)."""
    import av
    import numpy as np

    if not frames:
        raise ValueError("no frames to encode")
    first = np.asarray(frames[0])
    h, w = first.shape[0] // 2 * 2, first.shape[1] // 2 * 2
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=max(1, int(fps)))
        stream.width, stream.height, stream.pix_fmt, stream.bit_rate = w, h, "yuv420p", bitrate
        for f in frames:
            arr = np.ascontiguousarray(np.asarray(f, dtype=np.uint8)[:h, :w, :3])
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
