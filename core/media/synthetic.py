"""Real-looking H.264 MPEG-TS source segments made on the spot (moving gradient, checker, a box, noise).

Used by the start-up capacity measurement, the tests and the bench, so none of them needs a media file.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np


def _frame_rgb(i: int, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    x = np.arange(width, dtype=np.int32)[None, :]
    y = np.arange(height, dtype=np.int32)[:, None]
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[..., 0] = ((x + 4 * i) * 255 // max(width, 1)) % 256
    img[..., 1] = ((y + 2 * i) * 255 // max(height, 1)) % 256
    img[..., 2] = (((x // 32 + y // 32 + i // 8) % 2) * 160 + 40).astype(np.uint8)
    bw, bh = max(width // 6, 2), max(height // 6, 2)
    bx = (i * 7) % max(width - bw, 1)
    by = (i * 3) % max(height - bh, 1)
    img[by : by + bh, bx : bx + bw] = (250, 250, 30)
    noise = rng.integers(-12, 13, size=(height, width, 1), dtype=np.int16)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def make_segment(
    width: int = 640,
    height: int = 360,
    seconds: float = 1.0,
    fps: int = 30,
    *,
    bitrate: int = 2_000_000,
    preset: str = "ultrafast",
    audio: bool = False,
    start_seconds: float = 0.0,
    seed: int = 1,
) -> bytes:
    """An MPEG-TS segment with one H.264 video stream (keyframe first, GOP = the whole segment) and
    optionally a 48 kHz stereo AAC tone. `start_seconds` offsets the timestamps (a later segment)."""
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mpegts") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        v.bit_rate = bitrate
        v.codec_context.gop_size = max(1, int(seconds * fps))
        v.codec_context.options = {"preset": preset, "bf": "0"}
        a = None
        if audio:
            a = out.add_stream("aac", rate=48000, layout="stereo")
            a.bit_rate = 128_000
        frames = max(1, round(seconds * fps))
        offset = round(start_seconds * fps)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(_frame_rgb(i + offset, width, height, rng), format="rgb24")
            frame.pts = i + offset
            frame.time_base = Fraction(1, fps)
            for pkt in v.encode(frame):
                out.mux(pkt)
        for pkt in v.encode(None):
            out.mux(pkt)
        if a is not None:
            samples = 1024
            total = int(seconds * 48000)
            t0 = int(start_seconds * 48000)
            for s in range(0, total, samples):
                t = (np.arange(s, s + samples) + t0) / 48000
                tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                af = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                af.sample_rate = 48000
                af.pts = s + t0
                af.time_base = Fraction(1, 48000)
                for pkt in a.encode(af):
                    out.mux(pkt)
            for pkt in a.encode(None):
                out.mux(pkt)
    return buf.getvalue()
