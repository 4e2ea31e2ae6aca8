"""The gateway's HLS output: master and media playlists and the segment bytes behind `/stream/…`
(ports.Playlists), written the way go-livepeer writes them (gateway-wire.md §3):

- master `/stream/<mid>.m3u8` exists once the manifest's first **source** segment is in; its variants
  are listed in the order their first segment landed (source first, since it is added before
  transcoding), each `#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=<b>,RESOLUTION=<WxH>` followed by a URI
  relative to the master (`<mid>/<rendition>.m3u8`). The source says BANDWIDTH=4000000 (go-livepeer's
  fixed figure) and the source size (0x0 when unknown); a rendition its profile's bitrate and size.
- media `/stream/<mid>/<rendition>.m3u8`: a live sliding window of the last `live_window` (6) segments
  by number, no ENDLIST, TARGETDURATION the ceiling of the longest EXTINF so far, EXTINF with 3
  decimals, absolute segment URIs `/stream/<mid>/<rendition>/<seq>.ts`.
- the bytes of the last `keep` (12) segments per rendition are held in memory; older ones answer 404.
- an unknown manifest, a rendition with no segment yet, and everything of a removed manifest: None
  (the HTTP app answers 404).

One deliberate difference: **EXT-X-MEDIA-SEQUENCE is the sequence number of the first segment shown.**
go-livepeer starts it at 0 and adds one per segment that leaves the window, so once a rendition misses
a segment (a failed transcode) its MEDIA-SEQUENCE no longer matches the numbers in its URIs nor the
other renditions', and a player switching rendition by media sequence lands on the wrong segment. Here
the media sequence of a segment is its number, in every rendition. (A hole inside the window — a lost
segment — is simply not listed: HLS 3 has no gap marker, so for the few reloads while the hole is in the
window the segments after it are numbered one too low; once the hole leaves the window the numbers agree
again. go-livepeer's drift never heals.)

Segments may arrive out of order (each is transcoded in its own worker): they are inserted by number.
A second segment with a number already held replaces it.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.media.profiles import LPMS_PRESETS, VideoProfile

SOURCE = "source"
SOURCE_BANDWIDTH = 4_000_000  # go-livepeer's VideoProfileToVariantParams says this for every source
LIVE_WINDOW = 6  # LIVE_LIST_LENGTH
KEEP_SEGMENTS = 12  # dataCacheLen


@dataclass(frozen=True)
class Variant:
    rendition: str
    bandwidth: int
    resolution: tuple[int, int] | None


@dataclass
class _Rendition:
    seqs: list[int] = field(default_factory=list)  # sorted
    durations: dict[int, float] = field(default_factory=dict)
    data: dict[int, bytes] = field(default_factory=dict)  # the last `keep` by number
    longest: float = 0.0


@dataclass
class _Manifest:
    variants: list[Variant] = field(default_factory=list)  # in order of first segment
    renditions: dict[str, _Rendition] = field(default_factory=dict)
    profiles: dict[str, VideoProfile] = field(default_factory=dict)  # name -> profile, for BANDWIDTH
    source_resolution: tuple[int, int] | None = None


class HlsPlaylists:
    """ports.Playlists plus the reads the HTTP app serves. Thread-safe: ingest workers add, the HTTP app
    reads."""

    def __init__(self, live_window: int = LIVE_WINDOW, keep: int = KEEP_SEGMENTS):
        if live_window < 1:
            raise ValueError("the live window must hold at least one segment")
        self.live_window = live_window
        self.keep = max(keep, live_window)
        self._lock = threading.Lock()
        self._manifests: dict[str, _Manifest] = {}
        self._newest: str | None = None  # /stream/current.m3u8
        self._described: dict[str, dict[str, VideoProfile]] = {}

    # ------------------------------------------------------------------ writes
    def describe(self, manifest_id: str, profiles: Iterable[VideoProfile]) -> None:
        """The stream's ladder, so the master can give each rendition its profile's bitrate and size
        (a name not described falls back to the lpms preset of that name). Called when a stream starts;
        it does not make the manifest exist."""
        with self._lock:
            self._described[manifest_id] = {p.name: p for p in profiles}
            if (m := self._manifests.get(manifest_id)) is not None:
                m.profiles = dict(self._described[manifest_id])

    def add(self, manifest_id: str, rendition: str, seq: int, duration_s: float, data: bytes,
            resolution: tuple[int, int] | None = None) -> None:
        if seq < 0:
            raise ValueError(f"segment number {seq} is negative")
        with self._lock:
            m = self._manifests.get(manifest_id)
            if m is None:
                if rendition != SOURCE:
                    return  # a late rendition of a removed manifest, or one whose source never came
                m = _Manifest(profiles=dict(self._described.get(manifest_id, {})))
                self._manifests[manifest_id] = m
                self._newest = manifest_id
            if rendition == SOURCE and resolution and m.source_resolution is None:
                m.source_resolution = resolution
            r = m.renditions.get(rendition)
            if r is None:
                r = m.renditions[rendition] = _Rendition()
                m.variants.append(self._variant(m, rendition, resolution))
            if seq not in r.durations:
                bisect.insort(r.seqs, seq)
            r.durations[seq] = duration_s
            r.longest = max(r.longest, duration_s)
            r.data[seq] = data
            dropped = max(0, len(r.seqs) - self.keep)
            for old in r.seqs[:dropped]:  # an out-of-order arrival older than all kept goes at once
                r.data.pop(old, None)
                r.durations.pop(old, None)
            del r.seqs[:dropped]

    def remove(self, manifest_id: str) -> None:
        with self._lock:
            self._manifests.pop(manifest_id, None)
            self._described.pop(manifest_id, None)
            if self._newest == manifest_id:
                self._newest = next(reversed(self._manifests), None)

    # ------------------------------------------------------------------ reads
    def manifests(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._manifests)

    def current(self) -> str | None:
        """The newest live manifest (go-livepeer's -currentManifest)."""
        with self._lock:
            return self._newest

    def variants(self, manifest_id: str) -> tuple[Variant, ...]:
        with self._lock:
            m = self._manifests.get(manifest_id)
            return tuple(m.variants) if m else ()

    def master(self, manifest_id: str) -> str | None:
        with self._lock:
            m = self._manifests.get(manifest_id)
            if m is None:
                return None
            lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
            for v in m.variants:
                res = v.resolution if v.rendition != SOURCE else m.source_resolution
                w, h = res or (0, 0)
                lines.append(f"#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH={v.bandwidth},RESOLUTION={w}x{h}")
                lines.append(f"{manifest_id}/{v.rendition}.m3u8")
            return "\n".join(lines) + "\n"

    def media(self, manifest_id: str, rendition: str) -> str | None:
        with self._lock:
            m = self._manifests.get(manifest_id)
            r = m.renditions.get(rendition) if m else None
            if r is None or not r.seqs:
                return None
            window = r.seqs[-self.live_window:]
            lines = [
                "#EXTM3U",
                "#EXT-X-VERSION:3",
                f"#EXT-X-MEDIA-SEQUENCE:{window[0]}",
                f"#EXT-X-TARGETDURATION:{math.ceil(r.longest)}",
            ]
            for seq in window:
                lines.append(f"#EXTINF:{r.durations[seq]:.3f},")
                lines.append(f"/stream/{manifest_id}/{rendition}/{seq}.ts")
            return "\n".join(lines) + "\n"

    def segment(self, manifest_id: str, rendition: str, seq: int) -> bytes | None:
        with self._lock:
            m = self._manifests.get(manifest_id)
            r = m.renditions.get(rendition) if m else None
            return r.data.get(seq) if r else None

    # ------------------------------------------------------------------
    @staticmethod
    def _variant(m: _Manifest, rendition: str, resolution: tuple[int, int] | None) -> Variant:
        if rendition == SOURCE:
            return Variant(SOURCE, SOURCE_BANDWIDTH, None)
        profile = m.profiles.get(rendition) or LPMS_PRESETS.get(rendition)
        if profile is None:
            return Variant(rendition, 0, resolution)
        return Variant(rendition, profile.bitrate, (profile.width, profile.height))
