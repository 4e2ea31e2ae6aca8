"""Parts of the orchestrator node that serve their own routes beside /segment and the AI routes.

Live video-to-video (trickle channels, /live-video-to-video, /payment), BYOC (/process/request/…,
/capability/register) and the remote-worker protocol (net.Transcoder, /transcodeResults …) are each one
NodeExtension. core.composition builds them from the settings; the Node attaches them when it starts
serving, hands each the NodeContext (the node's own token issuer, payment policy, OrchestratorInfo
builder and metrics, so an extension never builds a second copy), routes matching requests to them and
closes them when it stops. An extension never imports the Node.

    Node._serve ──attach(ctx)──> extension ──> routes: [HttpRoute], grpc: {path: UnaryMethod}
    ServiceApp: gRPC path in an extension's methods -> that method; else the first route whose
                handles(method, path) is true; else the node's own routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class HttpRoute(Protocol):
    """An ASGI handler for the paths it claims. handles() is cheap and pure (called per request)."""

    def handles(self, method: str, path: str) -> bool: ...

    async def __call__(self, scope, receive, send) -> None: ...


@dataclass(frozen=True)
class NodeContext:
    """What the node shares with its extensions, built once per serve."""

    config: Any  # core.node.config.NodeConfig
    tokens: Any  # core.node.auth.AuthTokens: issue / verify the auth tokens GetOrchestrator hands out
    payments: Any  # core.node.payments.PaymentPolicy: offchain or on chain
    info: Any  # core.node.orchestrator_rpc.OrchestratorInfoBuilder: a fresh OrchestratorInfo per request
    metrics: Any  # core.node.metrics.NodeMetrics
    service_uri: str  # https://host:port, as advertised in OrchestratorInfo.transcoder
    loop: asyncio.AbstractEventLoop  # the node's serving loop
    ai: Any = None  # core.ai.ports.AIWorkerPort | None


@dataclass(frozen=True)
class Attached:
    """What an extension serves once attached."""

    routes: Sequence[HttpRoute] = ()
    grpc: Mapping[str, Any] = field(default_factory=dict)  # "/net.Service/Method" -> grpc_unary.UnaryMethod
    # Called with no arguments for /status and the console: a JSON-able value under the extension's name.
    status: Callable[[], object] | None = None
    # Prometheus text appended to /metrics (go-livepeer metric names where they exist).
    metrics: Callable[[], str] | None = None


class NodeExtension(Protocol):
    name: str  # short, stable: "live", "byoc", "remote-workers"

    def attach(self, ctx: NodeContext) -> Attached:
        """Called on the node's loop when it starts serving; may start background tasks on ctx.loop."""

    async def aclose(self) -> None:
        """Called on the node's loop when it stops, before the ports close: end sessions, close channels,
        cancel tasks. Must return within a few seconds."""


def route_for(routes: Sequence[HttpRoute], method: str, path: str) -> HttpRoute | None:
    for route in routes:
        if route.handles(method, path):
            return route
    return None


AsgiApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]
