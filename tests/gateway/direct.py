"""The gateway's tests' broadcaster: the real NetworkBroadcaster pointed at ONE real in-process lpc
orchestrator (real discovery, transcodes and downloads), noting what it was asked to do.

`orchestrator()` starts one lpc orchestrator for the whole test session (x264 ultrafast) and stops it at
exit; `gateway_node(...)` starts a GatewayNode on 127.0.0.1 ephemeral ports in front of it.
"""

from __future__ import annotations

import atexit
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from core.gateway.broadcast import NetworkBroadcaster
from core.gateway.config import GatewayConfig
from core.gateway.discovery import orch_uri
from core.gateway.node import GatewayNode
from core.gateway.ports import SourceSegment, StreamPoolView, TranscodedSegment
from core.media.profiles import VideoProfile
from core.node import Node, NodeConfig


class RecordedStream:
    """A NetworkStream, counting the segments it is given and noting its close."""

    def __init__(self, owner: RecordingBroadcaster, inner) -> None:
        self.owner, self.inner = owner, inner

    def transcode(self, segment: SourceSegment) -> TranscodedSegment:
        self.owner.transcodes += 1
        return self.inner.transcode(segment)

    def view(self) -> StreamPoolView:
        return self.inner.view()

    def close(self) -> None:
        self.owner.closed.append(self.inner.manifest_id)
        self.inner.close()


class RecordingBroadcaster(NetworkBroadcaster):
    """The gateway's real NetworkBroadcaster with one -orchAddr, noting which streams it was asked to open
    and close and how many segments it was given (so a test can show that a refused push reached no
    orchestrator)."""

    def __init__(self, config: GatewayConfig, host: str, port: int) -> None:
        super().__init__(replace(config, orch_addrs=(f"{host}:{port}",)))
        self.uri = f"https://{host}:{port}"
        self.opened: list[str] = []
        self.closed: list[str] = []
        self.transcodes = 0

    def point_at(self, host: str, port: int) -> None:
        """Streams opened from now on go to host:port (an unreachable one, to test failures)."""
        self.uri = f"https://{host}:{port}"
        self.config = replace(self.config, orch_addrs=(f"{host}:{port}",))
        self._orch_addrs = [orch_uri(f"{host}:{port}")]  # what discovery reads for new streams

    def open(self, manifest_id: str, profiles: Sequence[VideoProfile]) -> RecordedStream:
        self.opened.append(manifest_id)
        return RecordedStream(self, super().open(manifest_id, profiles))


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


def gateway_node(tmp: Path, **overrides) -> tuple[GatewayNode, RecordingBroadcaster]:
    """A started GatewayNode (HTTP and management on 127.0.0.1:0, no RTMP) over the real broadcaster."""
    node = orchestrator()
    read_timeout_s = overrides.pop("read_timeout_s", 10.0)
    cfg = GatewayConfig(**{"data_dir": tmp, "rtmp_addr": None, "http_addr": "127.0.0.1:0",
                           "cli_addr": "127.0.0.1:0", **overrides})
    # built without an observer, as core.composition builds NetworkBroadcaster: the node's metrics observe it
    broadcaster = RecordingBroadcaster(cfg, "127.0.0.1", orchestrator_port(node))
    gw = GatewayNode(cfg, broadcaster, read_timeout_s=read_timeout_s)
    gw.start()
    return gw, broadcaster
