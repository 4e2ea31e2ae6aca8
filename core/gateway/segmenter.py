"""The keyframe segmenter: a published stream's FLV bytes in, MPEG-TS SourceSegments out, without
re-encoding (stream copy), as lpms's HLS segmenter cuts them (gateway-wire.md §2.2).

The rule:
- libavformat's FLV demuxer (PyAV, reading the bytes as a pipe on this segmenter's thread) gives the
  packets; every packet of the video and audio streams is remuxed unchanged into an in-memory MPEG-TS
  container (libavformat inserts the H.264 parameter sets before each keyframe and ADTS headers on AAC,
  so every segment decodes on its own). Timestamps are kept, so segment N+1 continues segment N.
- A segment starts at a video keyframe; the next one starts at the first video keyframe at least
  `segment_s` (2 s) of video after the segment's start (an 8 s GOP therefore gives 8 s segments, as
  lpms), or at the first keyframe after the publisher's clock jumped (back, as when an encoder restarts
  without reconnecting, or forward by over 5 × segment_s; such a jump counts as no time). Packets before
  the first keyframe are dropped (a viewer could not decode them), and so is a packet whose DTS does not
  move forward on its stream or that the muxer refuses: one damaged packet does not end the stream.
- The streams are those the demuxer found at the start (the first video, the first audio). A stream
  that appears later (audio after a publisher's metadata named none) is left out, and does not end the
  stream (PyAV's demuxer raises for it; the segmenter carries on, see _packets).
- seq counts from 0; duration is the span from this segment's first video timestamp to the next one's
  (for the last: to the end of its last video frame); resolution is the video stream's.
- A segment is handed on the moment the next keyframe closes it (lpms hands it on only when the muxer
  opens the next file, the same moment).
- No keyframe for `10 × segment_s` of the stream's own time is go-livepeer's ErrSegmenterTimeout: the
  segmenter stops with the reason in words, telling the publisher to set a keyframe interval below 8 s.
- When the publisher leaves, the last, partial segment is handed on too (`finish(flush=True)`): it is a
  complete MPEG-TS starting at a keyframe, and without it a viewer loses the stream's last seconds.
  go-livepeer drops it (the HLS muxer's last file is never reported). When the gateway stops it is
  dropped (`flush=False`): nobody is left to transcode it.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from fractions import Fraction

from core.gateway.ports import SourceSegment

log = logging.getLogger(__name__)

KEYFRAME_TIMEOUT_SEGMENTS = 10  # lpms: 10 × SegLen without a new segment is ErrSegmenterTimeout
MAX_BAD_READS = 100  # demuxer errors in a row before the stream is given up
PIPE_HIGH_WATER = 8 * 1024 * 1024  # bytes buffered before the RTMP reader waits (TCP pushes back)
PIPE_LOW_WATER = 2 * 1024 * 1024
# How much the demuxer reads before it reports the streams: both sequence headers come first from
# ffmpeg and OBS, so this is reached only by a stream whose FLV header promises audio it never sends.
_DEMUX_OPTIONS = {"probesize": "1000000", "analyzeduration": "2000000"}


class FlvPipe(io.RawIOBase):
    """Bytes written by the RTMP reader, read by the demuxer on its own thread. `read` blocks until
    there are bytes or the pipe is closed (then b"", the demuxer's end of file). `on_space` is called
    (from the reading thread) when the buffer drains below PIPE_LOW_WATER after being above the high one."""

    def __init__(self, on_space: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._chunks = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._on_space = on_space
        self._was_full = False

    def readable(self) -> bool:
        return True

    def write_bytes(self, data: bytes) -> int:
        """Append `data`; the bytes now buffered (the caller waits for `on_space` above PIPE_HIGH_WATER)."""
        with self._cond:
            if self._eof:
                return 0
            self._chunks += data
            size = len(self._chunks)
            if size > PIPE_HIGH_WATER:
                self._was_full = True
            self._cond.notify()
            return size

    @property
    def size(self) -> int:
        with self._cond:
            return len(self._chunks)

    @property
    def ended(self) -> bool:
        with self._cond:
            return self._eof

    def end(self) -> None:
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def readinto(self, b) -> int:  # type: ignore[override]
        with self._cond:
            while not self._chunks and not self._eof:
                self._cond.wait()
            n = min(len(b), len(self._chunks))
            b[:n] = self._chunks[:n]
            del self._chunks[:n]
            wake = self._was_full and len(self._chunks) < PIPE_LOW_WATER
            if wake:
                self._was_full = False
        if wake and self._on_space is not None:
            self._on_space()
        return n


class SegmenterStopped(Exception):
    """Why segmenting stopped before the publisher left, in words for the log and the publisher."""


class CutRule:
    """Where segments are cut, from the video packets' timestamps alone (ticks of the video time base):

        elapsed = Σ (dtsᵢ − dtsᵢ₋₁) since the open segment's first keyframe, over steps 0 ≤ step ≤ jump
        cut at a keyframe  when  no segment is open  or  elapsed ≥ cut  or  the clock jumped since
        closed duration    =  keyframe pts − open pts     (after a jump: end of the last frame before it)
        elapsed > timeout without a keyframe  →  SegmenterStopped (lpms's ErrSegmenterTimeout)

    `video()` is told every video packet before it is muxed, `muxed()` every video frame that went in."""

    def __init__(self, *, cut: int, timeout: int, jump: int, segment_s: float) -> None:
        self.cut, self.timeout, self.jump = cut, timeout, jump
        self.segment_s = segment_s
        self.open_pts: int | None = None  # first keyframe of the open segment
        self.end_pts = 0  # end of the open segment's last video frame
        self.elapsed = 0
        self.jumped = False
        self.last_dts: int | None = None

    def video(self, dts: int, pts: int, keyframe: bool) -> tuple[bool, int | None]:
        """(a new segment starts at this packet, the duration of the one it closes or None)."""
        if self.last_dts is not None:
            step = dts - self.last_dts
            if 0 <= step <= self.jump:
                self.elapsed += step
            else:
                self.jumped = True
        self.last_dts = dts
        if keyframe and (self.open_pts is None or self.elapsed >= self.cut or self.jumped):
            closed = None
            if self.open_pts is not None:
                closed = (self.end_pts if self.jumped else pts) - self.open_pts
            self.open_pts, self.end_pts, self.elapsed, self.jumped = pts, pts, 0, False
            return True, closed
        if self.elapsed > self.timeout:
            raise SegmenterStopped(
                f"no keyframe in {self.segment_s * KEYFRAME_TIMEOUT_SEGMENTS:g} s of video: set the encoder's "
                "keyframe interval below 8 s (2 s is best; ffmpeg -g, OBS Keyframe Interval)")
        return False, None

    def muxed(self, frame_end: int) -> None:
        if not self.jumped:  # frames after a jump belong to another clock
            self.end_pts = max(self.end_pts, frame_end)

    def open_ticks(self) -> int:
        """The open segment's duration so far (what the last, partial segment lasts)."""
        return self.end_pts - (self.open_pts if self.open_pts is not None else self.end_pts)


class _Cut:
    """One MPEG-TS segment being written."""

    def __init__(self, inputs) -> None:
        import av

        self.buf = io.BytesIO()
        self.out = av.open(self.buf, "w", format="mpegts")
        self.streams = {}
        for stream in inputs:
            try:
                self.streams[stream.index] = self.out.add_stream_from_template(stream)
            except (ValueError, av.error.FFmpegError):
                if stream.type == "video":
                    raise
                # audio whose parameters the demuxer could not make out: the segment goes without it
        self.last_dts: dict[int, int] = {}

    def mux(self, packet) -> bool:
        """Mux `packet`; False (dropped) when its DTS does not move forward on its stream or the muxer
        refuses it (a damaged frame): one bad packet must not end the stream."""
        import av

        index = packet.stream.index
        last = self.last_dts.get(index)
        if index not in self.streams or (last is not None and packet.dts <= last):
            return False
        self.last_dts[index] = packet.dts
        packet.stream = self.streams[index]
        try:
            self.out.mux(packet)
        except av.error.FFmpegError:
            return False
        return True

    def close(self) -> bytes:
        self.out.close()
        return self.buf.getvalue()


class Segmenter:
    """Cuts one published stream. `write` the FLV bytes (header first) as they arrive, `finish` when the
    publisher leaves; segments go to `on_segment` and, once the thread is done, `on_done(reason)` is
    called on it (reason None: the stream ended normally; otherwise why segmenting stopped)."""

    def __init__(self, manifest_id: str, *, segment_s: float,
                 on_segment: Callable[[SourceSegment], None],
                 on_done: Callable[[str | None], None],
                 on_space: Callable[[], None] | None = None) -> None:
        self.manifest_id = manifest_id
        self.segment_s = segment_s
        self._on_segment = on_segment
        self._on_done = on_done
        self.pipe = FlvPipe(on_space)
        self._flush = True
        self._stopping = False
        self.resolution: tuple[int, int] | None = None
        self.segments = 0
        self.media_bytes = 0
        self.bad_reads = 0  # demuxer errors passed over
        self.last_cut = time.monotonic()  # wall clock of the last segment (or of the start)
        self._thread = threading.Thread(target=self._run, name=f"rtmp-segmenter-{manifest_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def write(self, data: bytes, *, media: bool = True) -> int:
        """Hand on FLV bytes (`media`: they hold audio/video tags, not only the header or metadata); the
        bytes now buffered."""
        if media:
            self.media_bytes += len(data)
        return self.pipe.write_bytes(data)

    def finish(self, *, flush: bool) -> None:
        self._flush = flush
        self._stopping = not flush
        self.pipe.end()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        reason: str | None = None
        try:
            self._segment()
        except SegmenterStopped as stopped:
            reason = str(stopped)
        except Exception as exc:  # noqa: BLE001 — PyAV's errors; the reason goes to the log in words
            reason = f"the published stream could not be read as FLV H.264/AAC ({exc})"
        finally:
            self.pipe.end()
            try:
                self._on_done(reason)
            except Exception as exc:  # noqa: BLE001 — logged in words; the thread ends either way
                log.warning("stream %s: ending the stream failed: %s", self.manifest_id, exc)
                log.debug("stream %s", self.manifest_id, exc_info=True)

    def _segment(self) -> None:
        import av

        try:
            container = av.open(self.pipe, mode="r", format="flv", options=_DEMUX_OPTIONS,
                                metadata_errors="replace")
        except av.error.FFmpegError as exc:
            if self.pipe.ended and not self.media_bytes:
                return  # the publisher left before sending media
            raise SegmenterStopped(f"the published stream is not FLV that ffmpeg can read ({exc})") from None
        with container:
            videos = [s for s in container.streams if s.type == "video"]
            if not videos:
                if self.pipe.ended and not self.media_bytes:
                    return
                raise SegmenterStopped("the published stream has no video the gateway can read (FLV with H.264 "
                                       "video expected)")
            video = videos[0]
            if video.codec_context is None:
                raise SegmenterStopped("the published video's codec is not one ffmpeg knows (H.264 expected)")
            audios = [s for s in container.streams if s.type == "audio" and s.codec_context is not None]
            inputs = [video, *audios[:1]]
            wanted = {s.index for s in inputs}
            ctx = video.codec_context
            if ctx.width and ctx.height:
                self.resolution = (ctx.width, ctx.height)
            tb = video.time_base or Fraction(1, 1000)
            frame_ticks = _frame_ticks(video, tb)
            rule = CutRule(cut=int(Fraction(self.segment_s) / tb),
                           timeout=int(Fraction(self.segment_s * KEYFRAME_TIMEOUT_SEGMENTS) / tb),
                           jump=int(Fraction(self.segment_s * KEYFRAME_TIMEOUT_SEGMENTS / 2) / tb),
                           segment_s=self.segment_s)
            current: _Cut | None = None
            for packet in self._packets(container, inputs):
                if self._stopping:
                    break
                if packet.dts is None or packet.stream.index not in wanted:
                    continue
                is_video = packet.stream.index == video.index
                pts = packet.pts if packet.pts is not None else packet.dts
                if is_video:
                    starts, closed = rule.video(packet.dts, pts, packet.is_keyframe)
                    if starts:
                        if current is not None and closed is not None:
                            self._emit(current, closed, tb)
                        current = _Cut(inputs)
                if current is None:
                    continue  # nothing decodable before the first keyframe
                end = pts + (packet.duration or frame_ticks)  # read before mux: it rescales the packet
                if current.mux(packet) and is_video:
                    rule.muxed(end)
            if current is not None:
                if self._flush and not self._stopping:
                    self._emit(current, rule.open_ticks(), tb)
                else:
                    current.close()

    def _packets(self, container, inputs):
        """The demuxer's packets, carrying on past what one damaged tag or a stream that appears after the
        start costs (libavformat reports invalid data; PyAV raises IndexError for a stream it was not told
        of, and its demux generator ends either way); MAX_BAD_READS in a row end the stream."""
        import av

        bad = 0
        while True:
            try:
                for packet in container.demux(*inputs):
                    bad = 0
                    yield packet
                return
            except (IndexError, av.error.InvalidDataError) as exc:
                bad += 1
                self.bad_reads += 1
                if bad > MAX_BAD_READS:
                    raise SegmenterStopped(f"the published stream stays unreadable ({exc})") from None

    def _emit(self, cut: _Cut, ticks: int, tb: Fraction) -> None:
        data = cut.close()
        segment = SourceSegment(manifest_id=self.manifest_id, seq=self.segments, data=data,
                                duration_s=float(ticks * tb), container="ts", resolution=self.resolution)
        self.segments += 1
        self.last_cut = time.monotonic()
        self._on_segment(segment)


def _frame_ticks(video, tb: Fraction) -> int:
    rate = video.average_rate or video.guessed_rate
    if not rate:
        return 0
    return max(1, round(1 / (Fraction(rate) * tb)))
