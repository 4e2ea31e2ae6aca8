"""The gateway's management API on `-cliAddr` (127.0.0.1:5935), go-livepeer's paths and JSON shapes
(server/webserver.go, gateway-wire.md §6). Loopback only, no auth, as go-livepeer.

    GET  /status                    NodeStatus: Manifests (mid -> master playlist), InternalManifests,
                                    StreamInfo (mid -> SourceBytes, TranscodedBytes), OrchestratorPool,
                                    OrchestratorPoolInfos ({Url, Score, Latency}), Version, runtime fields,
                                    BroadcasterPrices; plus `Streams` (lpc's per-stream view: segments,
                                    failures in words, orchestrator in use, swaps) and `AIPool` (the AI
                                    orchestrators: models warm/cold, capacity, prices; ai_pool.py)
    GET  /manifestID, /streamID     the newest manifest ID, and `<mid>/source` (text)
    GET  /localStreams              []
    GET  /getBroadcastConfig        {"MaxPrice": "n/d" | null, "TranscodingOptions": "P240p30fps16x9,…"}
    POST /setBroadcastConfig        form maxPricePerUnit + pixelsPerUnit and/or transcodingOptions; for
                                    new streams only. An unknown preset name is refused with the known
                                    ones (go-livepeer drops it silently); a price without pixelsPerUnit,
                                    a USD price offchain (no feed) or a negative one is 400 with words
    GET  /getAvailableTranscodingOptions   the lpms preset names
    GET  /healthz                   200
    GET  /metrics                   Prometheus text, only with -monitor
    /senderInfo, /ethAddr, /ticketBrokerParams, /fundDepositAndReserve, /unlock, /cancelUnlock, /withdraw
                                    on chain only (core/gateway/sender_api.py: a write shows its plan and
                                    cost, and is signed only with confirm=1); offchain 404 in words
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict
from fractions import Fraction
from urllib.parse import parse_qs, urlsplit, urlunsplit

from core.gateway.config import GatewayConfig
from core.gateway.hls import HlsPlaylists
from core.gateway.metrics import GatewayMetrics
from core.gateway.sender_api import OFFCHAIN, PATHS as SENDER_PATHS, WRITES as SENDER_WRITES, SenderApi, form_of, \
    from_a_web_page
from core.gateway.streams import BroadcastDefaults, GatewayStreams
from core.gateway.transcoding_options import TranscodingOptionsError, known_presets, names, presets
from core.node.asgi_io import BodyTooLarge, ClientGone, read_body
from core.node.metrics import CONTENT_TYPE


def orch_url(addr: str) -> str:
    """An -orchAddr entry as go-livepeer lists it (parseOrchAddrs): https:// unless it starts with http,
    port 8935 when it has none."""
    addr = addr.strip()
    url = addr if addr.startswith("http") else f"https://{addr}"
    parts = urlsplit(url)
    if parts.port is None and parts.hostname:
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        url = urlunsplit((parts.scheme, f"{host}:8935", parts.path, parts.query, parts.fragment))
    return url.rstrip("/")


def _json(payload) -> bytes:
    return json.dumps(payload).encode()


class GatewayManagementApp:
    def __init__(self, config: GatewayConfig, streams: GatewayStreams, playlists: HlsPlaylists,
                 defaults: BroadcastDefaults, metrics: GatewayMetrics, *, version: str,
                 on_max_price: Callable[[Fraction | None], None] | None = None, sender: SenderApi | None = None,
                 ai_pool: Callable[[], dict] | None = None):
        self.config = config
        self.streams = streams
        self.playlists = playlists
        self.defaults = defaults
        self.metrics = metrics
        self.version = version
        self.on_max_price = on_max_price  # tells the broadcaster, when it can take a new max price
        self.sender = sender  # the TicketBroker endpoints, on chain only
        self.ai_pool = ai_pool  # the AI orchestrators and their models, for /status (core/gateway/ai_pool.py)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path in SENDER_PATHS:
            await self._sender(scope, receive, send, path, method)
            return
        if path == "/setBroadcastConfig":
            if method not in ("POST", "PUT"):
                await self._reply(send, 405, b"use POST with a form\n", b"text/plain; charset=utf-8")
                return
            origin = from_a_web_page(scope.get("headers", []))
            if origin is not None:  # a web page must not raise the price this gateway pays, nor its ladder
                await self._reply(send, 403, (f"refused: this request came from a web page (Origin: {origin}); "
                                              f"/setBroadcastConfig takes writes from local tools only (curl, "
                                              f"livepeer_cli, lpc)\n").encode(), b"text/plain; charset=utf-8")
                return
            try:
                body = await read_body(receive, 64 * 1024)
            except BodyTooLarge:
                await self._reply(send, 413, b"form too large\n", b"text/plain; charset=utf-8")
                return
            except ClientGone:
                return
            status, text = self.set_broadcast_config(scope.get("query_string", b"").decode("latin-1"),
                                                     body.decode("utf-8", "replace"))
            await self._reply(send, status, (text + "\n").encode(), b"text/plain; charset=utf-8")
            return
        answer = self.get(path) if method in ("GET", "HEAD") else None
        if answer is None:
            await self._reply(send, 404, b"404 page not found\n", b"text/plain; charset=utf-8")
            return
        status, body, ctype = answer
        await self._reply(send, status, body, ctype)

    async def _sender(self, scope, receive, send, path: str, method: str) -> None:
        """The on-chain funds endpoints; the chain is read and written off the event loop."""
        if self.sender is None:
            await self._reply(send, 404, (OFFCHAIN + "\n").encode(), b"text/plain; charset=utf-8")
            return
        if path in SENDER_WRITES:
            if method not in ("POST", "PUT"):
                await self._reply(send, 405, b"use POST with a form (add confirm=1 to sign and send)\n",
                                  b"text/plain; charset=utf-8")
                return
            origin = from_a_web_page(scope.get("headers", []))
            if origin is not None:  # a browser (a web page's form or fetch): never a signing request
                await self._reply(send, 403, (f"refused: this request came from a web page (Origin: {origin}); the "
                                              f"deposit endpoints take writes from local tools only (curl, "
                                              f"livepeer_cli, lpc)\n").encode(), b"text/plain; charset=utf-8")
                return
            try:
                body = await read_body(receive, 64 * 1024)
            except BodyTooLarge:
                await self._reply(send, 413, b"form too large\n", b"text/plain; charset=utf-8")
                return
            except ClientGone:
                return
            form = form_of(scope.get("query_string", b"").decode("latin-1"), body.decode("utf-8", "replace"))
            status, data, ctype = await asyncio.to_thread(self.sender.write, path, form)
        elif method in ("GET", "HEAD"):
            status, data, ctype = await asyncio.to_thread(self.sender.read, path)
        else:
            status, data, ctype = 405, b"use GET\n", b"text/plain; charset=utf-8"
        await self._reply(send, status, data, ctype)

    @staticmethod
    async def _reply(send, status: int, body: bytes, ctype: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    # ---------------------------------------------------------------- reads
    def get(self, path: str) -> tuple[int, bytes, bytes] | None:
        text = b"text/plain; charset=utf-8"
        if path == "/status":
            return 200, _json(self.status()), b"application/json"
        if path == "/manifestID":
            return 200, (self.streams.newest() or "").encode(), text
        if path == "/streamID":
            mid = self.streams.newest()
            return 200, (f"{mid}/source" if mid else "").encode(), text
        if path == "/localStreams":
            return 200, b"[]", b"application/json"
        if path == "/getBroadcastConfig":
            price = self.defaults.max_price
            return 200, _json({"MaxPrice": str(price) if price else None,
                               "TranscodingOptions": names(self.defaults.profiles)}), b"application/json"
        if path == "/getAvailableTranscodingOptions":
            return 200, _json(list(known_presets())), b"application/json"
        if path == "/healthz":
            return 200, b"", text
        if path == "/metrics" and self.config.monitor:
            return 200, self.metrics.render(), CONTENT_TYPE.encode()
        return None

    def status(self) -> dict:
        """go-livepeer's NodeStatus for a gateway, with lpc's per-stream views under `Streams`."""
        views = self.streams.views()
        manifests = {}
        for v in views:
            variants = []
            for var in self.playlists.variants(v.manifest_id):
                res = v.source_resolution if var.rendition == "source" else var.resolution
                variants.append({"URI": f"{v.manifest_id}/{var.rendition}.m3u8", "Chunklist": None,
                                 "ProgramId": 0, "Bandwidth": var.bandwidth,
                                 "Resolution": f"{res[0]}x{res[1]}" if res else "0x0"})
            manifests[v.manifest_id] = {"Variants": variants, "Args": "", "CypherVersion": ""}
        pool: dict[str, dict] = {}
        for addr in self.config.orch_addrs:  # -orchAddr entries are trusted: Score 1
            url = orch_url(addr)
            pool[url] = {"Url": url, "Score": 1, "Latency": 0}
        for v in views:
            for o in (v.pool.orchestrators if v.pool else ()):
                entry = pool.setdefault(o.uri, {"Url": o.uri, "Score": 0, "Latency": 0})
                if o.latency_s is not None:
                    entry["Latency"] = int(o.latency_s * 1e9)  # go-livepeer's Latency is a time.Duration (ns)
        return {
            "Manifests": manifests,
            "InternalManifests": self.streams.internal_manifests(),
            "StreamInfo": {v.manifest_id: {"SourceBytes": v.source_bytes, "TranscodedBytes": v.transcoded_bytes}
                           for v in views},
            "OrchestratorPool": list(pool),
            "OrchestratorPoolInfos": list(pool.values()),
            "Version": self.version,
            "GolangRuntimeVersion": f"python{platform.python_version()}",
            "GOArch": platform.machine(),
            "GOOS": sys.platform,
            "RegisteredTranscodersNumber": 0,
            "RegisteredTranscoders": [],
            "LocalTranscoding": False,
            "BroadcasterPrices": {},
            "Streams": [asdict(v) for v in views],
            "AIPool": self.ai_pool() if self.ai_pool is not None else {"Orchestrators": []},
        }

    # ---------------------------------------------------------------- writes
    def set_broadcast_config(self, query: str, body: str) -> tuple[int, str]:
        form = {k: v[-1] for k, v in parse_qs(query).items()}
        form.update({k: v[-1] for k, v in parse_qs(body).items()})
        price_text, pixels_text = form.get("maxPricePerUnit"), form.get("pixelsPerUnit")
        options = form.get("transcodingOptions")
        if price_text is None and options is None:
            return 400, "give maxPricePerUnit and pixelsPerUnit, and/or transcodingOptions"
        price: Fraction | None | bool = False  # False: unchanged
        if price_text is not None or pixels_text is not None:
            if price_text is None or pixels_text is None:
                return 400, "maxPricePerUnit and pixelsPerUnit go together"
            currency = form.get("currency", "").strip().upper()
            if currency not in ("", "WEI"):
                return 400, (f"a max price in {currency} needs a price feed, which this gateway does not have; "
                             f"give it in wei")
            try:
                wei, pixels = int(price_text), int(pixels_text)
            except ValueError:
                return 400, "maxPricePerUnit and pixelsPerUnit must be whole numbers (wei, pixels)"
            if wei < 0 or pixels <= 0:
                return 400, "maxPricePerUnit must be ≥ 0 and pixelsPerUnit > 0"
            price = Fraction(wei, pixels) if wei else None
        ladder = None
        if options is not None:
            try:
                ladder = presets(options)
            except TranscodingOptionsError as exc:
                return 400, str(exc)
        if ladder is not None:
            self.defaults.set_profiles(ladder)
        if price is not False:
            self.defaults.set_max_price(price)
            if self.on_max_price is not None:
                self.on_max_price(price)
        return 200, "ok: applies to new streams"
