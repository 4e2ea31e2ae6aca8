"""The ASGI apps: the service port (gRPC and HTTP routed per request) and the management port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from core import safe_json
from core.ai.ports import Pipeline
from core.node.ai_results import AIResultStore
from core.node.asgi_io import drain, read_body, send_bytes, send_text
from core.node.extensions import HttpRoute, route_for
from core.node.grpc_unary import UnaryMethod, is_grpc, serve_unary
from core.node.metrics import CONTENT_TYPE
from core.node.renditions import RenditionStore
from core.node.status import NodeStatus


AI_ROUTES = frozenset(p.route for p in Pipeline)


async def _lifespan(receive, send) -> None:
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class ServiceApp:
    """gRPC when content-type is application/grpc (any HTTP version negotiates), else the HTTP routes:
    /segment (transcoding; refused on an AI-only node), the AI routes (/text-to-image … /text-to-speech,
    core/node/ai_http.py) when the node has an AI worker, and GET /stream/… for renditions and AI results."""

    def __init__(self, grpc_methods: dict[str, UnaryMethod], segment, store: RenditionStore, *, ai=None,
                 ai_results: AIResultStore | None = None, transcoding: bool = True,
                 routes: Sequence[HttpRoute] = ()):
        self.grpc_methods = grpc_methods
        self.segment = segment
        self.store = store
        self.ai = ai  # AIEndpoint | None
        self.ai_results = ai_results
        self.transcoding = transcoding
        self.routes = tuple(routes)  # the node extensions' routes (core/node/extensions.py), tried first

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if is_grpc(scope) and scope.get("http_version") != "2":
            # gRPC answers in HTTP/2 trailers, which HTTP/1.1 cannot carry: say so instead of failing
            await drain(receive, 1 << 20)
            await send_text(send, 426, "gRPC needs HTTP/2: connect with ALPN h2 (gRPC clients do by default)")
        elif is_grpc(scope):
            await serve_unary(scope, receive, send, self.grpc_methods)
        elif self.routes and (route := route_for(self.routes, scope["method"], scope["path"])) is not None:
            await route(scope, receive, send)
        elif scope["path"] == "/segment" and not self.transcoding:
            await drain(receive, 1 << 20)
            await send_text(send, 403, "Capabilities incompatible: this node does not transcode (it serves the AI "
                                       "pipelines only; start it with -transcoder to transcode)")
        elif scope["path"] == "/segment":
            await self.segment(scope, receive, send)
        elif self.ai is not None and scope["path"] in AI_ROUTES:
            await self.ai(scope, receive, send)
        elif scope["path"] in AI_ROUTES:
            await drain(receive, 1 << 20)
            await send_text(send, 503, f"{scope['path'][1:]}: this node runs no AI worker (start it with -aiWorker)")
        elif (self.ai_results is not None and scope["method"] in ("GET", "HEAD")
              and AIResultStore.is_result_path(scope["path"])):
            item = self.ai_results.get(scope["path"])
            if item is None:
                await send_text(send, 404, "AI result not found (results are kept 10 minutes)")
            else:
                await send_bytes(send, 200, item.data, item.content_type.encode())
        elif scope["path"].startswith("/stream/") and scope["method"] in ("GET", "HEAD"):
            data = self.store.get(scope["path"])
            if data is None:
                await send_text(send, 404, "rendition not found (expired or never made)")
            else:
                await send_bytes(send, 200, data, b"video/mp2t")
        else:
            await send_text(send, 404, "404 page not found")


# (method, path, JSON body or None) -> (status, JSON-able payload), or None when the path is not its own
ManagementApi = Callable[[str, str, object], "tuple[int, object] | None"]


class ManagementApp:
    """The management port: Prometheus /metrics, a JSON /status, and the payments API when on chain
    (/pricing, /tickets, /rewards, /alerts: core/payments/api.py)."""

    def __init__(self, metrics: Callable[[], bytes], status: Callable[[], NodeStatus], api: ManagementApi | None = None):
        self.metrics = metrics
        self.status = status
        self.api = api

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
        elif self.api is not None and (answer := await self._api(scope, receive)) is not None:
            code, payload = answer
            await send_bytes(send, code, json.dumps(payload).encode(), b"application/json")
        else:
            await send_text(send, 404, "404 page not found")

    async def _api(self, scope, receive):
        body = None
        if scope["method"] in ("POST", "PUT", "DELETE"):
            raw = await read_body(receive, 1 << 20)
            if raw:
                try:
                    body = safe_json.loads(raw)
                except ValueError:
                    return 400, {"error": "the body is not JSON"}
        query = scope.get("query_string", b"").decode()
        path = scope["path"] + (f"?{query}" if query else "")
        return await asyncio.to_thread(self.api, scope["method"], path, body)
