"""The gateway's parts and the small ports between them (go-livepeer's `-gateway`, issue #11).

    ingest (rtmp.py + segmenter.py, push in http_app.py)
        │ SourceSegment
        ▼
    Streams (streams.py: one LiveStream per manifest ID, -maxSessions, auth webhook)
        │ transcode(SourceSegment)            │ add(...)
        ▼                                     ▼
    Broadcaster (broadcast.py: discovery,    Playlists (hls.py: master + media playlists,
    selection, failover, payment,            sliding window of 6, segment bytes)
    verification)

Each arrow is a Protocol below; each box is its own module with its own tests. The values that cross
are frozen dataclasses. Nothing here imports textual, web3 or a socket library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.media.profiles import VideoProfile


@dataclass(frozen=True)
class SourceSegment:
    """One cut of a live stream as the publisher sent it (stream copy, never re-encoded)."""

    manifest_id: str
    seq: int  # from 0, in publish order; for a push, the number in the URL
    data: bytes  # MPEG-TS (or MP4 for a `.mp4` push)
    duration_s: float  # the segmenter's EXTINF, or Content-Duration / 1000 for a push
    container: str = "ts"  # "ts" | "mp4"
    resolution: tuple[int, int] | None = None  # source WxH when known (RTMP probe, Content-Resolution)


@dataclass(frozen=True)
class RenditionSegment:
    profile: str  # the profile's name as it appears in playlist paths (P240p30fps16x9)
    data: bytes  # MPEG-TS, downloaded from the orchestrator
    pixels: int  # as reported by the orchestrator (checked when verification is on)


@dataclass(frozen=True)
class TranscodedSegment:
    seq: int
    renditions: tuple[RenditionSegment, ...]  # in the stream's ladder order
    orchestrator: str  # transcoder URI that did the work
    attempts: int  # 1 when the first orchestrator tried succeeded
    latency_s: float  # segment handed in → all renditions downloaded
    paid_wei: int = 0  # face value × win probability of the tickets sent for this segment (0 offchain)


class TranscodeError(Exception):
    """A segment could not be transcoded. `kind` is one of go-livepeer's error codes as used in its
    `segment_transcode_failed_total{error_code}` metric (NoOrchestrators, MaxAttempts, Download,
    Verification, BadInput …); `retryable` is False for input errors, which suspend nobody."""

    def __init__(self, kind: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable


@dataclass(frozen=True)
class OrchestratorView:
    """One orchestrator as a stream's pool sees it (for /status, the Streams screen)."""

    uri: str  # transcoder / service URI
    address: str  # 0x… ETH address ('0x' + 40 zeros offchain)
    price_wei_per_pixel: str  # as a fraction "n/d"; "0" offchain
    latency_s: float | None  # GetOrchestrator round trip
    state: str  # "in use" | "ready" | "suspended" | "unreachable"
    note: str = ""  # why suspended / unreachable, in words


@dataclass(frozen=True)
class StreamPoolView:
    orchestrators: tuple[OrchestratorView, ...]
    in_use: str | None  # URI of the orchestrator the last segment went to
    swaps: int  # changes of orchestrator so far (livepeer_orchestrator_swaps)


class BroadcastStream(Protocol):
    """One stream's session manager. `transcode` blocks until every rendition is downloaded (or raises
    TranscodeError); it may be called from several threads at once for consecutive segments."""

    def transcode(self, segment: SourceSegment) -> TranscodedSegment: ...

    def view(self) -> StreamPoolView: ...

    def close(self) -> None: ...


class Broadcaster(Protocol):
    """Takes a stream's segments to the network's orchestrators (discovery, selection, payment,
    verification). One per gateway node."""

    def open(self, manifest_id: str, profiles: Sequence[VideoProfile]) -> BroadcastStream: ...

    def close(self) -> None: ...


class BroadcastObserver(Protocol):
    """What the broadcaster reports as it works; the gateway's metrics (livepeer_* names, node_type="bctr")
    and the Streams screen's records implement it. Called from worker threads; must not block."""

    def discovered(self, manifest_id: str, pool: StreamPoolView) -> None: ...

    def discovery_error(self, uri: str, message: str) -> None: ...

    def attempt_failed(self, manifest_id: str, seq: int, uri: str, error: TranscodeError, attempt: int) -> None: ...

    def swapped(self, manifest_id: str, old_uri: str | None, new_uri: str) -> None: ...

    def transcoded(self, manifest_id: str, segment: TranscodedSegment) -> None: ...

    def paid(self, manifest_id: str, uri: str, tickets: int, ev_wei: int) -> None: ...


class Playlists(Protocol):
    """The HLS side: what `/stream/…` serves. A manifest's master playlist exists once its first source
    segment is in; `remove` makes every path of the manifest 404 again."""

    def add(self, manifest_id: str, rendition: str, seq: int, duration_s: float, data: bytes,
            resolution: tuple[int, int] | None = None) -> None: ...

    def remove(self, manifest_id: str) -> None: ...


class StreamRefused(Exception):
    """A new stream is not accepted (too many streams, manifest already live, auth webhook said no).
    `status` is the HTTP status a push gets for it, as go-livepeer answers."""

    def __init__(self, message: str, *, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class StreamStart:
    """What ingest knows when a publisher arrives."""

    manifest_id: str | None  # None: the path gave none (a random 4-character one is chosen)
    key: str | None  # RTMP key from the path, None when absent
    ingest_url: str  # what the auth webhook is told ({"url": …})
    origin: str  # "rtmp" | "push"
    remote: str = ""  # publisher's host:port, for the console


class LiveStream(Protocol):
    manifest_id: str

    def segment(self, segment: SourceSegment) -> TranscodedSegment:
        """Hand one source segment in: it is added to the source playlist at once, then transcoded and
        its renditions added. Blocks until done (RTMP ingest calls it from a worker per segment; a push
        replies from the result). Raises TranscodeError."""
        ...

    def end(self) -> None:
        """The publisher left: playlists answer 404 from now on."""
        ...


class Streams(Protocol):
    """What ingest talks to."""

    def start(self, start: StreamStart) -> LiveStream:
        """A new live stream, or StreamRefused. A manifest that is already live is refused; the live
        one carries on (unlike go-livepeer, which ends both)."""
        ...

    def get(self, manifest_id: str) -> LiveStream | None: ...


@dataclass(frozen=True)
class SegmentRecord:
    """One segment of a stream, for the Streams screen's latency chart and failures in words."""

    seq: int
    duration_s: float
    latency_s: float | None  # None when it failed
    orchestrator: str | None
    attempts: int
    paid_wei: int = 0
    error: str = ""  # what went wrong, in words


@dataclass(frozen=True)
class StreamView:
    """A live stream as the console and `/status` show it."""

    manifest_id: str
    origin: str  # rtmp | push
    remote: str
    started_at: float  # unix time
    profiles: tuple[str, ...]
    source_resolution: tuple[int, int] | None
    segments_in: int
    segments_done: int
    segments_failed: int
    source_bytes: int
    transcoded_bytes: int
    pool: StreamPoolView | None
    recent: tuple[SegmentRecord, ...] = field(default_factory=tuple)  # newest last, bounded
