"""A test Broadcaster (ports.Broadcaster) that takes every segment straight to ONE real in-process lpc
orchestrator the way the test gateway client does (tests/node/gateway.py: GetOrchestrator over TLS, then
POST /segment with Livepeer-Segment): real transcodes, no selection, no failover, no payment. It stands
in for the engine's NetworkBroadcaster until the two are merged.

`orchestrator()` starts one lpc orchestrator for the whole test session (x264 ultrafast) and stops it at
exit; `gateway_node(...)` starts a GatewayNode on 127.0.0.1 ephemeral ports in front of it.
"""

from __future__ import annotations

import atexit
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from core.gateway.config import GatewayConfig
from core.gateway.node import GatewayNode
from core.gateway.ports import (
    BroadcastObserver,
    OrchestratorView,
    RenditionSegment,
    SourceSegment,
    StreamPoolView,
    TranscodedSegment,
    TranscodeError,
)
from core.media.profiles import VideoProfile
from core.node import Node, NodeConfig
from core.proto import net
from tests.node.gateway import Gateway, headers_for, seg_data


class DirectStream:
    def __init__(self, owner: DirectBroadcaster, manifest_id: str, profiles: Sequence[VideoProfile]):
        self.owner, self.manifest_id, self.profiles = owner, manifest_id, tuple(profiles)
        self._info: net.OrchestratorInfo | None = None
        self._lock = threading.Lock()
        self._client = httpx.Client(verify=False, timeout=60)
        self._last: str | None = None

    def _orchestrator(self) -> net.OrchestratorInfo:
        with self._lock:
            if self._info is None:
                self._info = self.owner.gateway.get_orchestrator()
            return self._info

    def transcode(self, segment: SourceSegment) -> TranscodedSegment:
        self.owner.transcodes += 1
        t0 = time.monotonic()
        try:
            info = self._orchestrator()
            seg = seg_data(info, segment.data, self.profiles, seq=segment.seq, manifest=self.manifest_id.encode(),
                           duration_ms=round(segment.duration_s * 1000))
            r = self._client.post(info.transcoder + "/segment", content=segment.data, headers=headers_for(seg))
        except Exception as exc:  # unreachable orchestrator and the like
            raise TranscodeError("NoOrchestrators", f"{type(exc).__name__}: {exc}") from None
        if r.status_code != 200:
            raise TranscodeError("SubmitSegment", f"orchestrator answered {r.status_code}: {r.text.strip()}")
        result = net.TranscodeResult.FromString(r.content)
        if result.WhichOneof("result") != "data":
            raise TranscodeError("Transcode", result.error, retryable=False)
        with self._lock:
            if result.info.transcoder:
                self._info = result.info
        renditions = []
        for profile, s in zip(self.profiles, result.data.segments):
            got = self._client.get(s.url)
            if got.status_code != 200:
                raise TranscodeError("Download", f"rendition {profile.name}: {got.status_code}")
            renditions.append(RenditionSegment(profile.name, got.content, s.pixels))
        out = TranscodedSegment(segment.seq, tuple(renditions), info.transcoder, 1, time.monotonic() - t0)
        self._last = info.transcoder  # one orchestrator: never a swap
        if self.owner.observer:
            self.owner.observer.transcoded(self.manifest_id, out)
        return out

    def view(self) -> StreamPoolView:
        uri = self._info.transcoder if self._info else self.owner.uri
        return StreamPoolView((OrchestratorView(uri, "0x" + "0" * 40, "0", None, "in use" if self._last else "ready"),),
                              self._last, 0)

    def close(self) -> None:
        """The stream ended: its orchestrator session is ended too (EndTranscodingSession, as a gateway
        does), so the shared orchestrator's slots are free for the next test."""
        self._client.close()
        self.owner.closed.append(self.manifest_id)
        info = self._info
        if info is not None:
            try:
                self.owner.gateway.end_session(info.auth_token)
            except Exception:  # noqa: BLE001 - the orchestrator may be gone; its idle timeout ends it then
                pass


class DirectBroadcaster:
    def __init__(self, host: str, port: int, *, observer: BroadcastObserver | None = None):
        self.host, self.port = host, port
        self.uri = f"https://{host}:{port}"
        self.observer = observer
        self.opened: list[str] = []
        self.closed: list[str] = []
        self.transcodes = 0
        self._gateway: Gateway | None = None

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            self._gateway = Gateway(self.host, self.port)
        return self._gateway

    def point_at(self, host: str, port: int) -> None:
        """Streams opened from now on go to host:port (an unreachable one, to test failures)."""
        if self._gateway is not None:
            self._gateway.close()
        self._gateway = None
        self.host, self.port = host, port

    def open(self, manifest_id: str, profiles: Sequence[VideoProfile]) -> DirectStream:
        self.opened.append(manifest_id)
        return DirectStream(self, manifest_id, profiles)

    def close(self) -> None:
        if self._gateway is not None:
            self._gateway.close()


_shared: dict[str, Node] = {}
_lock = threading.Lock()


def orchestrator() -> Node:
    """One real lpc orchestrator for the session (started on first use)."""
    with _lock:
        if "node" not in _shared:
            node = Node(NodeConfig(
                data_dir=Path(tempfile.mkdtemp(prefix="lpc-gw-orch-")), service_addr="127.0.0.1:0",
                http_addr="127.0.0.1:0", cli_addr="127.0.0.1:0", max_sessions=16, encoder="x264",
                x264_preset="ultrafast", gateway_session_share=1.0,
            ))
            node.start()
            atexit.register(node.stop)
            _shared["node"] = node
        return _shared["node"]


def orchestrator_port(node: Node) -> int:
    return int(node.status().listening.rsplit(":", 1)[1])


def gateway_node(tmp: Path, **overrides) -> tuple[GatewayNode, DirectBroadcaster]:
    """A started GatewayNode (HTTP and management on 127.0.0.1:0, no RTMP) over a DirectBroadcaster."""
    node = orchestrator()
    read_timeout_s = overrides.pop("read_timeout_s", 10.0)
    cfg = GatewayConfig(**{"data_dir": tmp, "rtmp_addr": None, "http_addr": "127.0.0.1:0",
                           "cli_addr": "127.0.0.1:0", **overrides})
    # built without an observer, as core.composition builds NetworkBroadcaster: the node's metrics observe it
    broadcaster = DirectBroadcaster("127.0.0.1", orchestrator_port(node))
    gw = GatewayNode(cfg, broadcaster, read_timeout_s=read_timeout_s)
    gw.start()
    return gw, broadcaster
