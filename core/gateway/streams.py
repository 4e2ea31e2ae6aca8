"""The gateway's live streams (ports.Streams / ports.LiveStream): one LiveStream per manifest ID, what
RTMP ingest and HTTP push hand their segments to.

Rules (go-livepeer's, gateway-wire.md §1–§3, with the differences said):
- A stream starts when a publisher arrives (RTMP) or with the first push to a manifest. A start without a
  manifest ID gets a random 4-character one (go-livepeer's DefaultManifestIDLength).
- `-authWebhookUrl`: before each new stream, POST `{"url": <ingest URL>}`; anything but a 200 (or no
  answer within AUTH_TIMEOUT_S) refuses it with 403. A 200 body may be empty, or a JSON object whose
  `manifestID` and `streamKey` win over the path's and whose `presets` (names) and `profiles` (lpms JSON
  profiles) replace the ladder for this stream. A body that is not such an object also refuses (403,
  with what was wrong): go-livepeer does the same.
- At most `-maxSessions` streams are live. The next is refused with **503** "too many streams" — go-livepeer
  answers 500 ("Too many connections"), but the condition is the gateway being full, which is what 503
  says, and a push client may retry it later; nothing on the server is broken.
- One publisher per manifest: a start on a live manifest is refused (409) and the live stream carries on
  (go-livepeer ends both).
- LiveStream.segment(): the source segment goes into the playlists at once, then the stream's
  BroadcastStream transcodes it (blocking), then each rendition goes in with the **source** duration.
  A failure is recorded with its error in words; that segment's renditions are simply missing (the HLS
  side numbers segments by their own sequence numbers, so nothing else shifts).
- A pushed stream ends after `push_idle_s` (60) with no push (go-livepeer's watchdog ticks every 60 s, so
  there 60–120 s); `end_idle()` is called by the node every few seconds.
- A stream that ended: its playlists answer 404, late renditions of it are dropped.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from core import safe_json
from core.gateway.config import GatewayConfig
from core.gateway.hls import SOURCE, HlsPlaylists
from core.gateway.metrics import GatewayMetrics
from core.gateway.ports import (
    Broadcaster,
    BroadcastStream,
    SegmentRecord,
    SourceSegment,
    StreamRefused,
    StreamStart,
    StreamView,
    TranscodedSegment,
    TranscodeError,
)
from core.gateway.transcoding_options import TranscodingOptionsError, json_profiles, presets
from core.media.profiles import VideoProfile

log = logging.getLogger(__name__)

AUTH_TIMEOUT_S = 5.0
MANIFEST_ID_LENGTH = 4  # go-livepeer's DefaultManifestIDLength
RECENT_SEGMENTS = 60  # SegmentRecords kept per stream for the console and /status
TOO_MANY_STATUS = 503
ALREADY_LIVE_STATUS = 409


class BroadcastDefaults:
    """What new streams get: the ladder and the most the gateway pays (wei per pixel, None = any price).
    The management API's /setBroadcastConfig changes them; streams already live keep theirs."""

    def __init__(self, profiles: Sequence[VideoProfile], max_price: Fraction | None = None):
        self._lock = threading.Lock()
        self._profiles = tuple(profiles)
        self._max_price = max_price

    @property
    def profiles(self) -> tuple[VideoProfile, ...]:
        with self._lock:
            return self._profiles

    @property
    def max_price(self) -> Fraction | None:
        with self._lock:
            return self._max_price

    def set_profiles(self, profiles: Sequence[VideoProfile]) -> None:
        if not profiles:
            raise TranscodingOptionsError("no transcoding profiles given")
        with self._lock:
            self._profiles = tuple(profiles)

    def set_max_price(self, price: Fraction | None) -> None:
        with self._lock:
            self._max_price = price if price else None


@dataclass(frozen=True)
class StreamTerms:
    """What an auth webhook's 200 answer (or a push's Livepeer-Transcode-Configuration) sets."""

    manifest_id: str | None = None
    stream_key: str | None = None
    profiles: tuple[VideoProfile, ...] | None = None


def parse_terms(body: bytes | str, *, who: str) -> StreamTerms:
    """The JSON object of an auth webhook answer or a transcode-configuration header; empty = no terms.
    ValueError with words when it is not usable."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text.strip():
        return StreamTerms()
    try:
        data = safe_json.loads(text)
    except ValueError:
        raise ValueError(f"{who} is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"{who} must be a JSON object, not {type(data).__name__}")
    mid = data.get("manifestID") or None
    if mid is not None and not valid_manifest_id(str(mid)):
        raise ValueError(f"{who}: manifestID {mid!r} cannot be used in a playlist path")
    key = data.get("streamKey") or None
    profiles: tuple[VideoProfile, ...] = ()
    try:
        if data.get("presets"):
            if not isinstance(data["presets"], list):
                raise ValueError(f"{who}: presets must be a list of preset names")
            profiles += presets([str(p) for p in data["presets"]])
        if data.get("profiles"):
            profiles += json_profiles(data["profiles"], where=f"{who}'s profiles")
    except TranscodingOptionsError as exc:
        raise ValueError(str(exc)) from None
    if len({p.name for p in profiles}) != len(profiles):
        raise ValueError(f"{who}: two profiles have the same name")
    return StreamTerms(str(mid) if mid else None, str(key) if key else None, profiles or None)


def valid_manifest_id(mid: str) -> bool:
    return bool(mid) and len(mid) <= 256 and mid not in (".", "..") and mid.isprintable() \
        and not any(c in mid for c in "/\\?#% ")


class AuthWebhook:
    """`-authWebhookUrl`: asked before each new stream."""

    def __init__(self, url: str, timeout_s: float = AUTH_TIMEOUT_S):
        self.url = url
        self.timeout_s = timeout_s

    def ask(self, ingest_url: str) -> StreamTerms:
        import httpx

        try:
            r = httpx.post(self.url, json={"url": ingest_url}, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise StreamRefused(f"the auth webhook did not answer ({type(exc).__name__}); stream refused",
                                status=403) from None
        if r.status_code != 200:
            raise StreamRefused(f"the auth webhook refused the stream (it answered {r.status_code})", status=403)
        try:
            return parse_terms(r.content, who="the auth webhook's answer")
        except ValueError as exc:
            raise StreamRefused(f"{exc}; stream refused", status=403) from None


class GatewayStream:
    """One live stream (ports.LiveStream)."""

    def __init__(self, owner: GatewayStreams, manifest_id: str, start: StreamStart,
                 profiles: tuple[VideoProfile, ...], broadcast: BroadcastStream, key: str | None):
        self.manifest_id = manifest_id
        self.origin = start.origin
        self.remote = start.remote
        self.key = key
        self.profiles = profiles
        self._owner = owner
        self._broadcast = broadcast
        self._lock = threading.Lock()
        self._ended = False
        self.started_at = owner.wall()
        self._active = owner.clock()
        self._in_flight = 0
        self._resolution: tuple[int, int] | None = None
        self._counts = {"in": 0, "done": 0, "failed": 0, "source_bytes": 0, "transcoded_bytes": 0}
        self._recent: deque[SegmentRecord] = deque(maxlen=RECENT_SEGMENTS)

    @property
    def ended(self) -> bool:
        return self._ended

    def idle_for(self, now: float) -> float:
        with self._lock:
            return 0.0 if self._in_flight else now - self._active

    def segment(self, segment: SourceSegment) -> TranscodedSegment:
        owner = self._owner
        t0 = owner.clock()
        with self._lock:
            if self._ended:
                raise TranscodeError("StreamEnded", f"stream {self.manifest_id} has ended", retryable=False)
            self._counts["in"] += 1
            self._counts["source_bytes"] += len(segment.data)
            self._in_flight += 1
            self._active = t0
            if segment.resolution and self._resolution is None:
                self._resolution = segment.resolution
            # under the stream's lock, so that end() (which removes the playlists after marking the stream
            # ended) cannot run between the check and the add and leave an orphan manifest behind
            owner.playlists.add(self.manifest_id, SOURCE, segment.seq, segment.duration_s, segment.data,
                                segment.resolution)
        try:
            return self._transcode(segment, t0)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._active = owner.clock()

    def _transcode(self, segment: SourceSegment, t0: float) -> TranscodedSegment:
        owner = self._owner
        if owner.metrics:
            owner.metrics.source_segment(self.manifest_id, segment.duration_s)
        if owner.config.max_attempts <= 0:  # go-livepeer: -maxAttempts 0 never transcodes
            self._record(SegmentRecord(segment.seq, segment.duration_s, 0.0, None, 0))
            return TranscodedSegment(segment.seq, (), "", 0, 0.0)
        try:
            result = self._broadcast.transcode(segment)
        except TranscodeError as exc:
            self._failed(segment, exc)
            raise
        except Exception as exc:  # a broadcaster bug must not take the ingest worker down
            log.exception("transcoding %s/%d failed", self.manifest_id, segment.seq)
            error = TranscodeError("Internal", f"the broadcaster failed: {type(exc).__name__}: {exc}")
            self._failed(segment, error)
            raise error from None
        with self._lock:
            if self._ended:  # late: its playlists are gone (and a new stream may have the same name)
                return result
            self._counts["done"] += 1
            self._counts["transcoded_bytes"] += sum(len(r.data) for r in result.renditions)
            for r in result.renditions:  # the rendition gets the SOURCE duration, as go-livepeer
                owner.playlists.add(self.manifest_id, r.profile, segment.seq, segment.duration_s, r.data)
        latency = owner.clock() - t0
        if owner.metrics:
            owner.metrics.renditions_in(self.manifest_id, ",".join(p.name for p in self.profiles), latency)
        missing = [p.name for p in self.profiles if p.name not in {r.profile for r in result.renditions}]
        self._record(SegmentRecord(segment.seq, segment.duration_s, latency, result.orchestrator, result.attempts,
                                   result.paid_wei, f"missing renditions: {', '.join(missing)}" if missing else ""))
        return result

    def _failed(self, segment: SourceSegment, error: TranscodeError) -> None:
        with self._lock:
            self._counts["failed"] += 1
        if self._owner.metrics:
            self._owner.metrics.segment_failed(self.manifest_id, error.kind)
        self._record(SegmentRecord(segment.seq, segment.duration_s, None, None, 0, error=f"{error.kind}: {error}"))

    def _record(self, record: SegmentRecord) -> None:
        with self._lock:
            self._recent.append(record)

    def end(self) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._owner.playlists.remove(self.manifest_id)
        try:
            self._broadcast.close()
        except Exception:  # noqa: BLE001 - the stream is over either way
            log.exception("closing the broadcast of %s failed", self.manifest_id)
        self._owner._forget(self)

    def view(self) -> StreamView:
        try:
            pool = self._broadcast.view()
        except Exception:  # noqa: BLE001 - a view is for show; never fail /status for it
            pool = None
        with self._lock:
            c = dict(self._counts)
            recent = tuple(self._recent)
            resolution = self._resolution
        return StreamView(
            manifest_id=self.manifest_id, origin=self.origin, remote=self.remote, started_at=self.started_at,
            profiles=tuple(p.name for p in self.profiles), source_resolution=resolution,
            segments_in=c["in"], segments_done=c["done"], segments_failed=c["failed"],
            source_bytes=c["source_bytes"], transcoded_bytes=c["transcoded_bytes"], pool=pool, recent=recent,
        )


class GatewayStreams:
    """ports.Streams: the live streams of one gateway."""

    def __init__(self, config: GatewayConfig, broadcaster: Broadcaster, playlists: HlsPlaylists, *,
                 defaults: BroadcastDefaults, metrics: GatewayMetrics | None = None,
                 webhook: AuthWebhook | None = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time):
        self.config = config
        self.broadcaster = broadcaster
        self.playlists = playlists
        self.defaults = defaults
        self.metrics = metrics
        self.webhook = webhook if webhook is not None else (
            AuthWebhook(config.auth_webhook_url) if config.auth_webhook_url else None)
        self.clock, self.wall = clock, wall
        self._lock = threading.Lock()
        self._live: dict[str, GatewayStream] = {}
        self._reserved: set[str] = set()  # manifests being started (webhook asked, broadcast opening)
        self._started = threading.Condition(self._lock)
        self._aliases: dict[str, str] = {}
        self._closed = False
        self._newest: str | None = None
        if metrics:
            metrics.max_sessions.set(config.max_sessions)

    # ---------------------------------------------------------------- ports.Streams
    def start(self, start: StreamStart, *, profiles: Sequence[VideoProfile] | None = None) -> GatewayStream:
        """A new live stream or StreamRefused. `profiles` (a push's Livepeer-Transcode-Configuration)
        replace the defaults; an auth webhook's answer replaces both."""
        if self._closed:
            raise StreamRefused("the gateway is stopping; no new stream", status=503)
        if start.manifest_id is not None and not valid_manifest_id(start.manifest_id):
            raise StreamRefused(f"manifest ID {start.manifest_id!r} cannot be used in a playlist path", status=400)
        self._check_room(start.manifest_id)
        terms = self.webhook.ask(start.ingest_url) if self.webhook else StreamTerms()
        mid = terms.manifest_id or start.manifest_id
        ladder = terms.profiles or (tuple(profiles) if profiles else None) or self.defaults.profiles
        with self._lock:
            if mid is None:
                mid = self._random_id()
            self._check_room_locked(mid)
            self._reserved.add(mid)
        try:
            try:
                broadcast = self.broadcaster.open(mid, ladder)
            except Exception as exc:
                log.exception("opening a broadcast for %s failed", mid)
                raise StreamRefused(f"could not start stream {mid}: {exc}", status=500) from None
            self.playlists.describe(mid, ladder)
            stream = GatewayStream(self, mid, start, tuple(ladder), broadcast,
                                   terms.stream_key or start.key or secrets.token_hex(6))
            with self._lock:
                self._live[mid] = stream
                self._newest = mid
                if start.manifest_id and start.manifest_id != mid:  # renamed by the webhook
                    self._aliases[start.manifest_id] = mid
                live = len(self._live)
        finally:
            with self._started:
                self._reserved.discard(mid)
                self._started.notify_all()
        if self.metrics:
            self.metrics.stream_opened(live)
        log.info("stream %s started (%s from %s), ladder %s", mid, start.origin, start.remote or "?",
                 ",".join(p.name for p in ladder))
        return stream

    def get(self, manifest_id: str) -> GatewayStream | None:
        """The live stream of a manifest ID, or of the ID a publisher used when the auth webhook renamed it."""
        with self._lock:
            return self._live.get(manifest_id) or self._live.get(self._aliases.get(manifest_id, ""))

    def internal_manifests(self) -> dict[str, str]:
        """Publisher's manifest ID -> the one the auth webhook gave (go-livepeer's InternalManifests)."""
        with self._lock:
            return dict(self._aliases)

    # ---------------------------------------------------------------- for push, the node, the console
    def get_or_start(self, start: StreamStart, *, profiles: Sequence[VideoProfile] | None = None) -> GatewayStream:
        """The live stream of the manifest, or a new one (the first push to a manifest creates it, as
        go-livepeer). Two first pushes at once make one stream."""
        assert start.manifest_id is not None
        for _ in range(3):
            stream = self.get(start.manifest_id)
            if stream is not None:
                if stream.origin != start.origin:
                    raise StreamRefused(f"manifest {start.manifest_id} is live over {stream.origin}; "
                                        f"it takes no {start.origin} segments", status=ALREADY_LIVE_STATUS)
                return stream
            try:
                return self.start(start, profiles=profiles)
            except StreamRefused as exc:
                if exc.status != ALREADY_LIVE_STATUS:
                    raise
                with self._started:  # another push is starting it: wait for that one
                    self._started.wait_for(lambda: start.manifest_id not in self._reserved,
                                           timeout=AUTH_TIMEOUT_S + 5)
        raise StreamRefused(f"manifest {start.manifest_id} is being started by another request", status=503)

    def streams(self) -> tuple[GatewayStream, ...]:
        with self._lock:
            return tuple(self._live.values())

    def views(self) -> tuple[StreamView, ...]:
        return tuple(s.view() for s in self.streams())

    def newest(self) -> str | None:
        with self._lock:
            return self._newest

    def end_idle(self) -> tuple[str, ...]:
        """End pushed streams with no push for config.push_idle_s; their manifest IDs."""
        now = self.clock()
        ended = []
        for stream in self.streams():
            if stream.origin == "push" and stream.idle_for(now) > self.config.push_idle_s:
                log.info("stream %s: no push for %.0f s, ended", stream.manifest_id, self.config.push_idle_s)
                stream.end()
                ended.append(stream.manifest_id)
        return tuple(ended)

    def close(self) -> None:
        """End every stream and take no new one (the node is stopping)."""
        self._closed = True
        for stream in self.streams():
            stream.end()

    # ----------------------------------------------------------------
    def _check_room(self, mid: str | None) -> None:
        with self._lock:
            self._check_room_locked(mid)

    def _check_room_locked(self, mid: str | None) -> None:
        if mid is not None and (mid in self._live or mid in self._reserved):
            raise StreamRefused(f"manifest {mid} is already live; one publisher per manifest",
                                status=ALREADY_LIVE_STATUS)
        if len(self._live) + len(self._reserved) >= self.config.max_sessions:
            raise StreamRefused(
                f"too many streams: {len(self._live)} live of the {self.config.max_sessions} this gateway takes "
                f"(-maxSessions); try again when one ends", status=TOO_MANY_STATUS)

    def _random_id(self) -> str:
        while True:
            mid = secrets.token_hex(MANIFEST_ID_LENGTH // 2)
            if mid not in self._live and mid not in self._reserved:
                return mid

    def _forget(self, stream: GatewayStream) -> None:
        with self._lock:
            if self._live.get(stream.manifest_id) is stream:
                del self._live[stream.manifest_id]
            for alias in [a for a, m in self._aliases.items() if m == stream.manifest_id]:
                del self._aliases[alias]
            if self._newest == stream.manifest_id:
                self._newest = next(reversed(self._live), None)
            live = len(self._live)
        if self.metrics:
            self.metrics.stream_closed(live)
