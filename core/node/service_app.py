"""The ASGI apps: the service port (gRPC and HTTP routed per request) and the management port."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict

from core.node.asgi_io import send_bytes, send_text
from core.node.grpc_unary import UnaryMethod, is_grpc, serve_unary
from core.node.metrics import CONTENT_TYPE
from core.node.renditions import RenditionStore
from core.node.status import NodeStatus


async def _lifespan(receive, send) -> None:
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class ServiceApp:
    """gRPC when content-type is application/grpc (any HTTP version negotiates), else the HTTP routes."""

    def __init__(self, grpc_methods: dict[str, UnaryMethod], segment, store: RenditionStore):
        self.grpc_methods = grpc_methods
        self.segment = segment
        self.store = store

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if is_grpc(scope):
            await serve_unary(scope, receive, send, self.grpc_methods)
        elif scope["path"] == "/segment":
            await self.segment(scope, receive, send)
        elif scope["path"].startswith("/stream/") and scope["method"] in ("GET", "HEAD"):
            data = self.store.get(scope["path"])
            if data is None:
                await send_text(send, 404, "rendition not found (expired or never made)")
            else:
                await send_bytes(send, 200, data, b"video/mp2t")
        else:
            await send_text(send, 404, "404 page not found")


class ManagementApp:
    """The management port: Prometheus /metrics and a JSON /status."""

    def __init__(self, metrics: Callable[[], bytes], status: Callable[[], NodeStatus]):
        self.metrics = metrics
        self.status = status

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] == "/metrics":
            await send_bytes(send, 200, self.metrics(), CONTENT_TYPE.encode())
        elif scope["path"] == "/status":
            snapshot = asdict(self.status())
            for s in snapshot["sessions"]:
                s.pop("preview", None)
            await send_bytes(send, 200, json.dumps(snapshot).encode(), b"application/json")
        else:
            await send_text(send, 404, "404 page not found")
