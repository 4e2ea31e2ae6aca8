"""Fixtures for the gateway tests: real in-process lpc orchestrators (offchain, x264 ultrafast), a
1 s source clip, a gateway config, and a "broken orchestrator": a real lpc node whose advertised
transcoder URI is a local HTTPS server that answers /segment with a chosen fault."""

from __future__ import annotations

import http.server
import ssl
import threading
from dataclasses import dataclass

import pytest

from core.gateway.config import GatewayConfig
from core.media.profiles import LPMS_PRESETS
from core.media.synthetic import make_segment
from core.node import Node, NodeConfig
from core.node.tls import ensure_certificate
from core.proto import net

LADDER = (LPMS_PRESETS["P144p30fps16x9"], LPMS_PRESETS["P240p30fps16x9"])


@pytest.fixture(scope="session")
def clip() -> bytes:
    """1 s of 320x180 30 fps H.264 in MPEG-TS."""
    return make_segment(320, 180, 1.0)


def _node_config(data_dir, **overrides) -> NodeConfig:
    cfg = dict(data_dir=data_dir, service_addr="127.0.0.1:0", http_addr="127.0.0.1:0", cli_addr=None,
               max_sessions=8, encoder="x264", x264_preset="ultrafast", gateway_session_share=1.0)
    cfg.update(overrides)
    return NodeConfig(**cfg)


@pytest.fixture(scope="module")
def orch_factory(tmp_path_factory):
    """make(**NodeConfig overrides) -> (node, 'host:port' of its service port); all stopped at the end."""
    started: list[Node] = []

    def make(**overrides) -> tuple[Node, str]:
        node = Node(_node_config(tmp_path_factory.mktemp("orch"), **overrides))
        status = node.start()
        started.append(node)
        return node, "127.0.0.1:" + status.listening.rsplit(":", 1)[1]

    yield make
    for node in started:
        node.stop()


@pytest.fixture(scope="module")
def two_orchestrators(orch_factory):
    return orch_factory(), orch_factory()


def gateway_config(tmp_path, addrs, **kw) -> GatewayConfig:
    return GatewayConfig(data_dir=tmp_path, orch_addrs=tuple(addrs), discovery_timeout_s=kw.pop("discovery_timeout_s", 3.0),
                         **kw)


class _Faulty(http.server.BaseHTTPRequestHandler):
    mode = "500"
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.posts += 1
        if self.server.mode == "hang":  # takes the upload, never answers (until the test ends)
            self.server.release.wait(30)
            return
        if self.server.mode == "500":
            body = b"internal error\n"
            self.send_response(500)
        elif self.server.mode == "lying":  # real renditions, but twice the pixels they hold are reported
            result = net.TranscodeResult(seq=0)
            base = f"https://127.0.0.1:{self.server.server_address[1]}"
            for i, (data, pixels) in enumerate(self.server.renditions):
                result.data.segments.append(net.TranscodedSegmentData(url=f"{base}/r/{i}", pixels=2 * pixels))
            body = result.SerializeToString()
            self.send_response(200)
        else:  # 200 with bytes that are no TranscodeResult
            body = b"\xff\xfe garbage, not protobuf \x00" * 8
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        data = self.server.renditions[int(self.path.rsplit("/", 1)[1])][0]
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@dataclass
class Faulty:
    server: http.server.ThreadingHTTPServer
    node: Node
    addr: str  # the node's gRPC address (what -orchAddr names)

    @property
    def posts(self) -> int:
        return self.server.posts


@pytest.fixture(scope="module")
def faulty_factory(tmp_path_factory):
    """make(mode) -> Faulty: an lpc node answering GetOrchestrator whose transcoder URI is an HTTPS server
    answering every /segment with `mode` ("500" or "garbage")."""
    made: list[Faulty] = []

    def make(mode: str) -> Faulty:
        """mode: "500", "garbage" (200 + bytes that are no TranscodeResult), "hang" (no answer) or "lying" (the LADDER's
        renditions of a 1 s clip, reporting twice their pixels)."""
        d = tmp_path_factory.mktemp("faulty")
        cert, key = ensure_certificate(d, "127.0.0.1")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Faulty)
        server.mode, server.posts, server.release = mode, 0, threading.Event()
        server.renditions = [(make_segment(p.width, p.height, 1.0), p.width * p.height * 30) for p in LADDER] \
            if mode == "lying" else []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        node = Node(_node_config(d / "node", service_addr=f"127.0.0.1:{port}"))
        status = node.start()
        f = Faulty(server, node, "127.0.0.1:" + status.listening.rsplit(":", 1)[1])
        made.append(f)
        return f

    yield make
    for f in made:
        f.server.release.set()
        f.node.stop()
        f.server.shutdown()
        f.server.server_close()
