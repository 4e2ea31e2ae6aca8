"""Source segments made on the spot with PyAV: any size and pixel format, audio only, cut short."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np


def encode_ts(width: int, height: int, pix_fmt: str = "yuv420p", frames: int = 15, fps: int = 30) -> bytes:
    """H.264 in MPEG-TS (`pix_fmt` as libx264 takes it: yuv420p, yuv444p, yuv444p10le ...) of a moving
    gradient, so every frame differs."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mpegts") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = width, height, pix_fmt
        v.codec_context.options = {"preset": "ultrafast"}
        x = np.arange(width, dtype=np.int32)[None, :, None]
        y = np.arange(height, dtype=np.int32)[:, None, None]
        for i in range(frames):
            rgb = ((x * 3 + y + i * 8 + np.array([0, 80, 160])) % 256).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for pkt in v.encode(frame):
                out.mux(pkt)
        for pkt in v.encode(None):
            out.mux(pkt)
    return buf.getvalue()


def audio_only_ts(seconds: float = 0.5) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mpegts") as out:
        a = out.add_stream("aac", rate=48000, layout="stereo")
        for s in range(0, int(seconds * 48000), 1024):
            tone = np.sin(np.arange(s, s + 1024) / 48000 * 2 * np.pi * 440).astype(np.float32) * 0.2
            frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = 48000, s, Fraction(1, 48000)
            for pkt in a.encode(frame):
                out.mux(pkt)
        for pkt in a.encode(None):
            out.mux(pkt)
    return buf.getvalue()


def decoded(ts: bytes) -> tuple[int, int, int, str]:
    """(frames, width, height, pixel format) of the first video stream, decoding every frame."""
    with av.open(io.BytesIO(ts)) as c:
        frames, w, h, fmt = 0, 0, 0, ""
        for f in c.decode(video=0):
            frames, w, h, fmt = frames + 1, f.width, f.height, f.format.name
        return frames, w, h, fmt
