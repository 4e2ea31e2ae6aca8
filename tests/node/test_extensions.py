"""A node extension (core/node/extensions.py) serves its routes on the node's TLS port, sees the node's own
token issuer, reports under /status and /metrics, and is closed when the node stops."""

from __future__ import annotations

import json

import httpx

from core.node import Node, NodeConfig
from core.node.asgi_io import send_text
from core.node.extensions import Attached


class Echo:
    def handles(self, method: str, path: str) -> bool:
        return path.startswith("/echo/")

    async def __call__(self, scope, receive, send) -> None:
        await send_text(send, 200, f"{scope['method']} {scope['path'][len('/echo/'):]}")


class EchoExtension:
    name = "echo"

    def __init__(self) -> None:
        self.closed = False
        self.ctx = None

    def attach(self, ctx) -> Attached:
        self.ctx = ctx
        return Attached(routes=[Echo()], status=lambda: {"closed": self.closed},
                        metrics=lambda: "# TYPE lpc_echo_up gauge\nlpc_echo_up 1\n")

    async def aclose(self) -> None:
        self.closed = True


def test_an_extension_serves_reports_and_is_closed(tmp_path):
    ext = EchoExtension()
    node = Node(NodeConfig(data_dir=tmp_path, service_addr="127.0.0.1:0", cli_addr="127.0.0.1:0", max_sessions=1,
                           encoder="x264"), extensions=[ext])
    status = node.start()
    try:
        port = int(status.listening.rsplit(":", 1)[1])
        with httpx.Client(verify=False, http2=True) as client:
            answer = client.post(f"https://127.0.0.1:{port}/echo/hello")
            assert (answer.status_code, answer.text.strip()) == (200, "POST hello")
            # the node's own routes still answer
            assert client.get(f"https://127.0.0.1:{port}/nothing-here").status_code == 404
        # the extension got the node's own parts, not copies
        assert ext.ctx.service_uri == node.service_uri and ext.ctx.payments is node.payments
        mgmt = f"http://{status.management}"
        assert json.loads(httpx.get(f"{mgmt}/status").text)["extensions"] == {"echo": {"closed": False}}
        assert "lpc_echo_up 1" in httpx.get(f"{mgmt}/metrics").text
    finally:
        node.stop()
    assert ext.closed
