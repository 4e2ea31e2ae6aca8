"""Where a publisher's stream goes, from the RTMP URL it published to, and where the RTMP port listens;
both as go-livepeer decides them (gateway-wire.md §1, §2.1).

The publish path is joy4's: the connect command's `app` and the publish command's stream name joined
with `/`, empty parts dropped ("live" + "abc/secret" → "/live/abc/secret"), a `?query` cut off (it is
kept in the ingest URL the auth webhook is told, as joy4 keeps it in its URL). Then
go-livepeer's parseStreamID:
  1. the extension of the last part is dropped ("/live/abc.flv" → "/live/abc");
  2. a leading `stream/` or `live/` (after any `/` and spaces) is removed;
  3. leading `/` and spaces are stripped;
  4. the rest splits at the first `/` into manifest ID and RTMP key.
An empty manifest ID means "none given" (Streams picks a random 4-character one), an empty key means
none (Streams picks a random one).

Whether a manifest ID can name a stream (it goes into every HLS path) is Streams' rule, not this one's.

Listening address (`-rtmpAddr`, go-livepeer's defaultAddr): ":P" → 127.0.0.1:P, "host" → host:1935,
"host:P" and "[v6]:P" as given. Port 0 (any free port) is allowed, for tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.node.config import split_host_port

DEFAULT_RTMP_PORT = 1935
_PREFIX = re.compile(r"^[ /]*(stream|live)/")


@dataclass(frozen=True)
class StreamPath:
    path: str  # the publish path as joy4 builds it, e.g. "/live/abc/secret"
    manifest_id: str | None
    key: str | None

    @property
    def shown(self) -> str:
        """The path for log lines: the key (a secret the publisher shares with the auth webhook) replaced."""
        if not self.key:
            return self.path
        head = self.path.split("?", 1)[0]
        cut = head.rfind(self.key)
        return head[:cut] + "<key>" if cut >= 0 else "<path with a key>"


def publish_path(app: str, name: str) -> str:
    """joy4's URL path for connect(app) + publish(name), without its query."""
    joined = f"{app}/{name}".split("?", 1)[0]
    parts = [part for part in joined.split("/") if part]
    return "/" + "/".join(parts)


def publish_query(app: str, name: str) -> str:
    """The `?query` of connect(app) + publish(name), '' when none (joy4 keeps it in the URL it hands the
    auth webhook; tokens are often passed that way)."""
    joined = f"{app}/{name}"
    return joined.split("?", 1)[1] if "?" in joined else ""


def parse_stream_path(path: str) -> StreamPath:
    """(manifest ID, key) from a publish path, go-livepeer's parseStreamID (see the module doc)."""
    path = path.split("?", 1)[0]
    last = path.rsplit("/", 1)[-1]
    dot = last.rfind(".")
    stem = path[: len(path) - (len(last) - dot)] if dot >= 0 else path
    rest = _PREFIX.sub("", stem, count=1).lstrip("/ ")
    manifest, _, key = rest.partition("/")
    return StreamPath(path, manifest or None, key or None)


def listen_address(addr: str) -> tuple[str, int]:
    """(host, port) to bind for `-rtmpAddr` (ValueError naming the address when it is not one)."""
    if not addr or not addr.strip():
        raise ValueError("the RTMP address is empty: give host:port, :port or host (-rtmpAddr)")
    host, port = split_host_port(addr, DEFAULT_RTMP_PORT)
    return host or "127.0.0.1", port
