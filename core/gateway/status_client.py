"""Reading a running gateway's live streams from its management API (`GET http://<cliAddr>/status`,
core/gateway/management.py): the `Streams` list lpc adds to go-livepeer's NodeStatus, back as the same
frozen ports.StreamView values the in-process gateway gives. The console's Streams screen uses it to
watch a headless `lpc node --gateway` (default -cliAddr 127.0.0.1:5935).

A go-livepeer gateway answers /status without `Streams`: its streams are then known only by manifest
(from `Manifests` + `StreamInfo`), with no segment counts — shown as such, never made up.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from core import safe_json
from core.gateway.ports import OrchestratorView, SegmentRecord, StreamPoolView, StreamView


class StatusUnavailable(Exception):
    """Nothing usable answered at that address; the message says what (refused, timeout, not JSON)."""


def read_streams(addr: str, timeout: float = 0.5) -> tuple[StreamView, ...]:
    """The live streams of the gateway whose management API listens on `addr` (host:port)."""
    url = f"http://{addr}/status"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - a loopback/LAN http URL we built
            doc = safe_json.loads(r.read())
    except urllib.error.HTTPError as exc:
        raise StatusUnavailable(f"{url} answered {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise StatusUnavailable(f"no gateway status at {url} ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise StatusUnavailable(f"{url} did not answer a gateway's status")
    if "Streams" in doc:
        return tuple(_view(s) for s in doc["Streams"])
    info = doc.get("StreamInfo") or {}
    return tuple(StreamView(manifest_id=mid, origin="?", remote="", started_at=0.0, profiles=(),
                            source_resolution=None, segments_in=0, segments_done=0, segments_failed=0,
                            source_bytes=int(info.get(mid, {}).get("SourceBytes", 0)),
                            transcoded_bytes=int(info.get(mid, {}).get("TranscodedBytes", 0)), pool=None)
                 for mid in (doc.get("Manifests") or {}))


def _view(d: dict) -> StreamView:
    pool = d.get("pool")
    return StreamView(
        manifest_id=d["manifest_id"], origin=d.get("origin", ""), remote=d.get("remote", ""),
        started_at=float(d.get("started_at", 0.0)), profiles=tuple(d.get("profiles") or ()),
        source_resolution=tuple(d["source_resolution"]) if d.get("source_resolution") else None,
        segments_in=int(d.get("segments_in", 0)), segments_done=int(d.get("segments_done", 0)),
        segments_failed=int(d.get("segments_failed", 0)), source_bytes=int(d.get("source_bytes", 0)),
        transcoded_bytes=int(d.get("transcoded_bytes", 0)),
        pool=StreamPoolView(tuple(OrchestratorView(**o) for o in pool["orchestrators"]), pool.get("in_use"),
                            int(pool.get("swaps", 0))) if pool else None,
        recent=tuple(SegmentRecord(**r) for r in d.get("recent") or ()),
    )
