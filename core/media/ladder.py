"""Transcode one MPEG-TS segment into a ladder of H.264 MPEG-TS renditions with PyAV.

The segment is demuxed and decoded once, on the calling thread. Each rendition scales (its own swscale
context), converts the frame rate if asked, encodes and muxes on the node's rendition pool
(core.media.rendition_pool): a fixed number of threads shared by every segment. PyAV releases the GIL
inside swscale and the codec calls, so the renditions run on all cores. Audio packets are copied into
every rendition. Nothing touches the disk.

Each rendition's size follows the source's aspect ratio the way lpms sizes it (profiles.output_size),
with even sides. Whatever pixel format FFmpeg decodes (4:2:2, 4:4:4, 10-bit) is converted to the 8-bit
4:2:0 the H.264 renditions carry. Failures are MediaError in words about the input, not libav's.
"""

from __future__ import annotations

import collections
import io
import threading
import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from core.media.encoders import X264, EncoderChoice, encoder_options
from core.media.profiles import MAX_FRAME_PIXELS, MAX_LADDER_PIXELS, MAX_SIDE, VideoProfile, output_size
from core.media.rendition_pool import default_threads, rendition_pool

TS_PACKET = 188
_COPY_AUDIO = {"aac", "mp2", "mp3", "ac3", "eac3", "opus"}
_QUEUE_FRAMES = 8
DECODE_THREADS = 2  # FFmpeg frame threads of each segment's decoder (a fixed number, not one per core)
PREVIEW_WIDTH = 160


class MediaError(Exception):
    """The segment cannot be transcoded; the message says why in words a gateway operator follows."""


def _reason(exc: BaseException) -> str:
    """What went wrong, without libav's errno and call text ('[Errno 1094995529] Invalid data found when
    processing input: ...' -> 'invalid data found when processing input')."""
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


@dataclass(frozen=True)
class MediaLimits:
    max_duration_s: float = 300.0  # go-livepeer's HTTP push limit is 5 minutes
    max_frame_pixels: int = MAX_FRAME_PIXELS
    max_ladder_pixels: int = MAX_LADDER_PIXELS  # output pixels per frame over the renditions, at their real size


@dataclass(frozen=True)
class Rendition:
    profile: VideoProfile
    data: bytes
    frames: int
    width: int  # as encoded: the profile's size fitted to the source's aspect ratio, even
    height: int

    @property
    def pixels(self) -> int:
        return self.frames * self.width * self.height


@dataclass(frozen=True)
class TranscodedSegment:
    renditions: tuple[Rendition, ...]
    source_frames: int
    source_width: int
    source_height: int
    duration_s: float
    wall_s: float
    preview: np.ndarray | None = field(default=None, repr=False)  # small RGB frame (H, W, 3) uint8


def check_container_bytes(data: bytes) -> None:
    """Refuse what is plainly not an MPEG-TS segment before handing it to FFmpeg."""
    if not data:
        raise MediaError("empty segment (0 bytes)")
    if data[0] != 0x47:
        raise MediaError("not an MPEG-TS segment (no 0x47 sync byte at the start)")
    if len(data) % TS_PACKET:
        raise MediaError(
            f"truncated MPEG-TS segment: {len(data)} bytes is not a whole number of 188-byte packets"
        )


@dataclass
class _Audio:
    data: bytes
    pts: int | None
    dts: int | None
    duration: int | None
    time_base: Fraction


class _RenditionWorker:
    """One rendition: scale, frame-rate, encode, mux, on the node's rendition pool.

    The decoder `put`s frames into `pending`; whenever some wait, one drain task on the pool works through
    them and returns. A pool thread never waits for input: a task that did could hold every pool thread
    while the decoders that would feed it wait for room in another rendition's queue (a deadlock). The
    decoder waits instead, when _QUEUE_FRAMES items are pending here, so a slow rendition paces the
    segment and frames do not pile up in memory."""

    def __init__(
        self,
        profile: VideoProfile,
        size: tuple[int, int],
        encoder: EncoderChoice,
        src_rate: Fraction,
        src_time_base: Fraction,
        audio_template,
        stop: threading.Event,
        pool: Executor,
    ):
        self.profile = profile
        self.width, self.height = size
        self.stop = stop
        self.error: BaseException | None = None
        self.frames = 0
        self.data = b""
        self._pool = pool
        self._pending: collections.deque = collections.deque()
        self._room = threading.BoundedSemaphore(_QUEUE_FRAMES)
        self._state = threading.Condition()  # guards _pending and _scheduled
        self._scheduled = False  # a drain task is queued or running on the pool
        self._tb = src_time_base
        self._src_rate = src_rate
        self._rate = Fraction(profile.fps, profile.fps_den) if profile.fps else src_rate
        self._fixed_rate = bool(profile.fps)
        self._base_pts: int | None = None
        self._prev: tuple[av.VideoFrame, float] | None = None  # frame-rate conversion: last source frame, time
        self._tick = 0
        self._buf = io.BytesIO()
        self._out = av.open(self._buf, "w", format="mpegts")
        self._v = self._out.add_stream(encoder.name, rate=self._rate)
        cc = self._v.codec_context
        cc.width, cc.height, cc.pix_fmt = self.width, self.height, "yuv420p"
        cc.time_base = src_time_base
        self._v.time_base = src_time_base
        options = encoder_options(profile, encoder, self._rate)
        if encoder.name == X264:
            options["threads"] = "1"  # the pool is the parallelism; x264's own frame threads would multiply it
        cc.options = options
        self._a = self._out.add_stream_from_template(audio_template) if audio_template is not None else None
        self._scaler = VideoReformatter()

    # -- called from the decoding thread
    def put(self, item) -> None:
        """Queue a frame, an _Audio packet, or None (the end); waits while the queue is full."""
        while not self._room.acquire(timeout=0.2):
            if self.stop.is_set():
                return
        with self._state:
            if self.stop.is_set():
                self._room.release()
                return
            self._pending.append(item)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._pool.submit(self._drain).add_done_callback(self._drain_ended)
        except RuntimeError:  # the pool is shut down: the node is stopping
            self._fail(MediaError("the node is stopping"))

    def wait_idle(self) -> None:
        """Until no drain task is queued or running (all queued items taken, or dropped after a stop)."""
        with self._state:
            while self._scheduled:
                self._state.wait()

    def close(self) -> None:
        """Close the output container (idempotent); on success it was closed by the end of the stream."""
        out, self._out = self._out, None
        self._prev = None
        if out is None:
            return
        try:
            out.close()
        except Exception as exc:  # a failed mux leaves a broken container; report the first error
            self.error = self.error or exc.with_traceback(None)
        self.data = self._buf.getvalue()

    # -- pool threads
    def _drain(self) -> None:
        while True:
            with self._state:
                if not self._pending:
                    self._scheduled = False
                    self._state.notify_all()
                    return
                item = self._pending.popleft()
            try:
                if not self.stop.is_set():
                    self._take(item)
            except Exception as exc:  # reported by transcode(); the other renditions stop too
                # without its traceback, which holds this frame and so this worker: a cycle that would keep
                # the worker's buffers until the cycle collector ran
                self.error = self.error or exc.with_traceback(None)
                self.stop.set()
            finally:
                item = None
                self._room.release()

    def _drain_ended(self, future: Future) -> None:
        if future.cancelled():  # the pool was shut down with this task still queued
            self._fail(MediaError("the node is stopping"))

    def _fail(self, error: MediaError) -> None:
        self.error = self.error or error
        self.stop.set()
        with self._state:
            self._pending.clear()
            self._scheduled = False
            self._state.notify_all()

    def _take(self, item) -> None:
        if item is None:
            self._finish()
        elif isinstance(item, _Audio):
            self._mux_audio(item)
        elif not self._fixed_rate:
            self._encode(item, item.pts)
        else:
            self._resample(item)

    def _resample(self, frame: av.VideoFrame) -> None:
        """Fixed output rate: each output tick takes the nearest source frame."""
        if self._base_pts is None:
            self._base_pts = frame.pts or 0
        period = 1 / self._rate
        t = float((frame.pts - self._base_pts) * self._tb) if frame.pts is not None else self._tick * period
        if self._prev is not None:
            mid = (self._prev[1] + t) / 2
            while self._tick * period < mid:
                self._encode_tick(self._prev[0])
        self._prev = (frame, t)

    def _encode_tick(self, frame: av.VideoFrame) -> None:
        self._encode(frame, self._base_pts + round(self._tick / self._rate / self._tb))
        self._tick += 1

    def _finish(self) -> None:
        if self._prev is not None:
            end = self._prev[1] + 1 / self._src_rate
            while self._tick / self._rate < end - 1e-6:
                self._encode_tick(self._prev[0])
        for pkt in self._v.encode(None):
            self._mux_video(pkt)
        self.close()

    def _encode(self, frame: av.VideoFrame, pts: int | None) -> None:
        out = self._scaler.reformat(
            frame, self.width, self.height, "yuv420p", interpolation="BICUBIC", threads=1
        )  # one thread: swscale's default, one per core for each rendition, would multiply the pool
        out.pts = pts
        out.time_base = self._tb
        for pkt in self._v.encode(out):
            self._mux_video(pkt)

    def _mux_video(self, pkt: av.Packet) -> None:
        self.frames += 1
        self._out.mux(pkt)

    def _mux_audio(self, a: _Audio) -> None:
        pkt = av.Packet(a.data)
        pkt.pts, pkt.dts, pkt.time_base = a.pts, a.dts, a.time_base
        if a.duration:
            pkt.duration = a.duration
        pkt.stream = self._a
        self._out.mux(pkt)


def _preview(frame: av.VideoFrame, scaler: VideoReformatter) -> np.ndarray:
    h = max(2, round(PREVIEW_WIDTH * frame.height / max(frame.width, 1)) // 2 * 2)
    return scaler.reformat(frame, PREVIEW_WIDTH, h, "rgb24", threads=1).to_ndarray()


def transcode(
    data: bytes,
    profiles: list[VideoProfile] | tuple[VideoProfile, ...],
    encoder: EncoderChoice,
    limits: MediaLimits = MediaLimits(),
    *,
    want_preview: bool = False,
    cancel: threading.Event | None = None,
    pool: Executor | None = None,
) -> TranscodedSegment:
    """Decode `data` once and encode every profile on `pool` (the node's rendition pool; without one, a
    pool for this call only). Raises MediaError for input it cannot use."""
    if not profiles:
        raise MediaError("no profiles requested")
    check_container_bytes(data)
    if pool is None:
        with rendition_pool(min(len(profiles), default_threads())) as own:
            return transcode(data, profiles, encoder, limits, want_preview=want_preview, cancel=cancel, pool=own)
    started = time.perf_counter()
    try:
        inp = av.open(io.BytesIO(data), format="mpegts")
    except (av.FFmpegError, ValueError) as exc:
        found = "no stream in them" if isinstance(exc, av.EOFError) else f"no stream in them ({_reason(exc)})"
        raise MediaError(
            f"the segment's {len(data):,} bytes are not MPEG-TS video: FFmpeg found {found}; "
            "send H.264 video in MPEG-TS"
        ) from None
    stop = threading.Event()  # set on the first failure (or on cancel): every thread winds down
    workers: list[_RenditionWorker] = []
    try:
        if not inp.streams.video:
            kinds = sorted({s.type for s in inp.streams}) or ["no streams"]
            raise MediaError(f"the segment has no video stream (it carries {' and '.join(kinds)}); send video")
        vs = inp.streams.video[0]
        cc = vs.codec_context
        if not cc.width or not cc.height:
            raise MediaError(
                f"the segment's video stream ({cc.name or 'unknown codec'}) has no picture size: no decodable "
                "frame was found in it (corrupt or cut off before the first keyframe)"
            )
        if cc.width * cc.height > limits.max_frame_pixels or max(cc.width, cc.height) > MAX_SIDE:
            raise MediaError(
                f"source is {cc.width}x{cc.height}; this node takes at most 4096x2160 pixels per frame"
            )
        sizes = [output_size(p, cc.width, cc.height) for p in profiles]
        for p, (w, h) in zip(profiles, sizes):
            if w * h > limits.max_frame_pixels or max(w, h) > MAX_SIDE:
                raise MediaError(
                    f"profile {p.name or f'{p.width}x{p.height}'} on this {cc.width}x{cc.height} source would be "
                    f"{w}x{h} (the aspect ratio is kept); this node encodes at most 4096x2160 pixels per frame"
                )
        if sum(w * h for w, h in sizes) > limits.max_ladder_pixels:
            raise MediaError(
                f"on this {cc.width}x{cc.height} source the renditions add up to {sum(w * h for w, h in sizes):,} "
                f"pixels per frame; this node encodes at most {limits.max_ladder_pixels:,} per segment"
            )
        source = f"{cc.width}x{cc.height} {cc.name} ({cc.pix_fmt or 'unknown pixel format'})"
        cc.thread_type = "AUTO"
        cc.thread_count = DECODE_THREADS
        audio = next((s for s in inp.streams.audio if s.codec_context.name in _COPY_AUDIO), None)
        src_rate = vs.average_rate or vs.guessed_rate or Fraction(30)
        tb = vs.time_base or Fraction(1, 90000)
        try:
            for p, size in zip(profiles, sizes):
                workers.append(_RenditionWorker(p, size, encoder, Fraction(src_rate), tb, audio, stop, pool))
        except (av.FFmpegError, ValueError, PermissionError) as exc:
            raise MediaError(f"this node cannot open its encoder {encoder.name}: {_reason(exc)}") from None
        frames, first_pts, last_pts, preview = 0, None, None, None
        scaler = VideoReformatter()
        streams = [vs] + ([audio] if audio is not None else [])
        try:
            for pkt in inp.demux(streams):
                if cancel is not None and cancel.is_set():
                    stop.set()
                if stop.is_set():
                    break
                if pkt.stream is audio:
                    if pkt.dts is None and pkt.size == 0:
                        continue
                    item = _Audio(bytes(pkt), pkt.pts, pkt.dts, pkt.duration, pkt.time_base)
                    for w in workers:
                        w.put(item)
                    continue
                # The final empty packet flushes the decoder: decoding it is what yields the last frames.
                for frame in pkt.decode():
                    if frame.width * frame.height > limits.max_frame_pixels:
                        raise MediaError(f"source frame {frame.width}x{frame.height} is too large")
                    if frame.pts is not None:
                        first_pts = frame.pts if first_pts is None else first_pts
                        last_pts = frame.pts
                        if float((last_pts - first_pts) * tb) > limits.max_duration_s:
                            raise MediaError(
                                f"segment is longer than {limits.max_duration_s:.0f} s; send shorter segments"
                            )
                    if want_preview and preview is None:
                        preview = _preview(frame, scaler)
                    frames += 1
                    for w in workers:
                        w.put(frame)
        except av.FFmpegError as exc:
            raise MediaError(
                f"the segment's {source} video cannot be decoded ({_reason(exc)}): it is corrupt or cut off"
            ) from None
        if frames == 0 and not stop.is_set():
            raise MediaError(
                f"the segment's {source} video has no decodable frame (corrupt, or cut before its first keyframe)"
            )
        for w in workers:
            w.put(None)
        for w in workers:
            w.wait_idle()
        if cancel is not None and cancel.is_set() and not any(w.error for w in workers):
            raise MediaError("transcode cancelled")
        for w in workers:
            if w.error is not None:
                raise MediaError(
                    f"encoding {w.profile.name or 'a rendition'} ({w.width}x{w.height}) from the segment's {source} "
                    f"video failed: {_reason(w.error)}"
                )
        duration = float((last_pts - first_pts) * tb + 1 / src_rate) if first_pts is not None else 0.0
        renditions = tuple(
            Rendition(w.profile, w.data, w.frames, w.width, w.height) for w in workers
        )
        for r in renditions:
            if len(r.data) < 25 or r.frames == 0:
                raise MediaError(f"rendition {r.profile.name} came out empty (ZeroSegments)")
        return TranscodedSegment(
            renditions=renditions,
            source_frames=frames,
            source_width=cc.width,
            source_height=cc.height,
            duration_s=duration,
            wall_s=time.perf_counter() - started,
            preview=preview,
        )
    finally:
        stop.set()
        for w in workers:
            w.wait_idle()
            w.close()
        inp.close()
