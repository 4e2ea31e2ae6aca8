"""`GatewayNode`: the assembled gateway (`lpc node --gateway`, go-livepeer's `-gateway`), on its own event
loop thread, the way core/node/node.py runs the orchestrator.

    metrics = GatewayMetrics()
    node = GatewayNode(config, NetworkBroadcaster(config, observer=metrics), rtmp=RtmpIngest, metrics=metrics)
    node.start()           # binds -httpAddr and -cliAddr, then starts RTMP ingest; GatewayStartError says why not
    node.streams_view()    # the live streams, for the console
    node.stop()            # RTMP first, then every stream ends (playlists 404), then the ports close

Parts: HlsPlaylists (hls.py), GatewayStreams (streams.py), the HTTP port (http_app.py: HLS out, push,
/healthz, and the AI API: ai_api.py with its pool ai_pool.py and result store ai_media.py), the management port (management.py), GatewayMetrics (metrics.py). The node owns the
broadcaster it is given: stop() closes it. A broadcaster with an `observer` attribute left None
(NetworkBroadcaster(config)) gets the node's GatewayMetrics as its observer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from importlib.metadata import PackageNotFoundError, version

from hypercorn.asyncio import serve

from core.gateway.ai_api import AIApi, AIPayer
from core.gateway.ai_client import OnchainAIPayer
from core.gateway.ai_media import AIMediaStore
from core.gateway.ai_pool import AIPool, MaxPriceError, parse_max_prices
from core.gateway.config import GatewayConfig
from core.gateway.hls import HlsPlaylists
from core.gateway.http_app import READ_TIMEOUT_S, GatewayHttpApp
from core.gateway.management import GatewayManagementApp
from core.gateway.metrics import GatewayMetrics
from core.gateway.sender_api import FundsDesk, SenderApi
from core.gateway.ports import Broadcaster, Streams, StreamView
from core.gateway.streams import BroadcastDefaults, GatewayStreams
from core.gateway.transcoding_options import TranscodingOptionsError, parse
from core.node.config import split_host_port
from core.node.node import NodeStartError, _bind, _BoundConfig
from core.node.transport import quiet_connection_errors

log = logging.getLogger(__name__)

HTTP_PORT, CLI_PORT = 9935, 5935


class GatewayStartError(NodeStartError):
    """The gateway could not start; the message says why (a port in use, a bad ladder …)."""


@dataclass(frozen=True)
class GatewayStatus:
    running: bool
    http: str  # host:port the HLS/push port listens on ("" before start)
    cli: str | None  # management port, None when off
    rtmp: str | None  # RTMP ingest host:port, None when off
    push: bool  # HTTP push accepted
    streams: int
    max_sessions: int
    transcoding_options: str
    error: str | None = None


def _version() -> str:
    try:
        return version("livepeer-console")
    except PackageNotFoundError:
        return "0.0.0"


def address(value: str, default_port: int) -> tuple[str, int]:
    """go-livepeer's defaultAddr: ':P' is 127.0.0.1:P, 'host' is host:<default port>."""
    host, port = split_host_port(value, default_port)
    return host or "127.0.0.1", port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class GatewayNode:
    def __init__(self, config: GatewayConfig, broadcaster: Broadcaster, *,
                 rtmp: Callable[[GatewayConfig, Streams], object] | None = None,
                 metrics: GatewayMetrics | None = None, read_timeout_s: float = READ_TIMEOUT_S,
                 idle_check_s: float | None = None, sender: FundsDesk | None = None):
        """`rtmp(config, streams)` makes the RTMP ingest (start() -> (host, port), stop()); `metrics` is the
        one the broadcaster was given as its observer; `read_timeout_s` bounds a push body's arrival; `sender`
        (on chain) is the gateway's TicketBroker funds: their endpoints on the management port and, with
        -monitor, the deposit poll behind livepeer_gateway_deposit/reserve (core/gateway/sender_api.py)."""
        self.config = config
        self.broadcaster = broadcaster
        self.metrics = metrics or GatewayMetrics(version=_version(), verify=config.verify,
                                                per_stream=config.metrics_per_stream)
        if getattr(broadcaster, "observer", False) is None:
            # built without an observer (NetworkBroadcaster(config)): the node's metrics observe it, so
            # swaps, retries and tickets are counted whichever way the parts were assembled
            broadcaster.observer = self.metrics  # type: ignore[attr-defined]
        self.sender_api = SenderApi(sender, self.metrics) if sender is not None else None
        self.playlists = HlsPlaylists(config.live_window)
        self.defaults: BroadcastDefaults | None = None
        self.streams: GatewayStreams | None = None
        self._rtmp_factory = rtmp
        self._rtmp = None
        self._read_timeout_s = read_timeout_s
        self._idle_check_s = idle_check_s or max(0.05, min(5.0, config.push_idle_s / 4))
        host, _ = address(config.http_addr, HTTP_PORT)
        self.push_enabled = config.http_ingest if config.http_ingest is not None else (
            is_loopback(host) or bool(config.auth_webhook_url))
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._error: str | None = None
        self._http = ""
        self._cli: str | None = None
        self._rtmp_addr: str | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.ai_pool: AIPool | None = None
        self.ai_media: AIMediaStore | None = None
        self.ai: AIApi | None = None
        self._ai_payer = AIPayer()
        self._closed = False  # the broadcaster is closed (stop() may be called more than once)

    # ---------------------------------------------------------------- any thread
    def start(self, timeout: float = 60.0) -> GatewayStatus:
        if self._thread is not None:
            raise GatewayStartError("gateway already started")
        try:
            ladder = parse(self.config.transcoding_options)
        except TranscodingOptionsError as exc:
            raise GatewayStartError(f"-transcodingOptions: {exc}") from None
        self.defaults = BroadcastDefaults(ladder, self.config.max_price())
        self.streams = GatewayStreams(self.config, self.broadcaster, self.playlists, defaults=self.defaults,
                                      metrics=self.metrics)
        try:
            self.ai_pool = self._ai_pool()
        except MaxPriceError as exc:
            raise GatewayStartError(str(exc)) from None
        self.ai_media = AIMediaStore()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max(8, 4 * self.config.max_sessions + 4), thread_name_prefix="gateway")
        self._thread = threading.Thread(target=self._run, name="lpc-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise GatewayStartError(f"gateway did not start within {timeout:.0f} s")
        if self._error:
            self._thread.join(5)
            raise GatewayStartError(self._error)
        if self._rtmp_factory is not None and self.config.rtmp_addr:
            try:
                self._rtmp = self._rtmp_factory(self.config, self.streams)
                host, port = self._rtmp.start()
            except Exception as exc:
                self._rtmp = None
                self.stop()
                raise GatewayStartError(f"cannot start RTMP ingest on {self.config.rtmp_addr}: {exc}") from None
            self._rtmp_addr = f"{host}:{port}"
        if self.sender_api is not None and self.config.monitor and self._cli:
            self.sender_api.start_poll()
        log.info("gateway serving HLS on %s, management on %s, RTMP on %s, push %s", self._http,
                 self._cli or "off", self._rtmp_addr or "off", "on" if self.push_enabled else "off")
        return self.status()

    def stop(self, timeout: float = 15.0) -> None:
        if self.sender_api is not None:
            self.sender_api.stop_poll()
        if self._rtmp is not None:
            try:
                self._rtmp.stop()
            except Exception:  # noqa: BLE001 - stopping goes on
                log.exception("stopping RTMP ingest failed")
            self._rtmp = None
        if self.streams is not None:
            self.streams.close()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._stopped.wait(timeout)
            self._thread.join(timeout)  # the loop's own shutdown (asyncio.run's cleanup) is done too
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self.ai_pool is not None:
            self.ai_pool.close()
        if not self._closed:
            self._closed = True
            try:
                self.broadcaster.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the broadcaster failed")

    def status(self) -> GatewayStatus:
        return GatewayStatus(
            running=self._ready.is_set() and not self._stopped.is_set() and not self._error,
            http=self._http, cli=self._cli, rtmp=self._rtmp_addr, push=self.push_enabled,
            streams=len(self.streams.streams()) if self.streams else 0,
            max_sessions=self.config.max_sessions,
            transcoding_options=",".join(p.name for p in self.defaults.profiles) if self.defaults else "",
            error=self._error,
        )

    def _ai_pool(self) -> AIPool:
        """The AI orchestrators: -orchAddr, plus the broadcaster's other candidates (the webhook's, the
        chain's pool); on chain GetOrchestrator is signed by the broadcaster's payer."""
        cfg, b = self.config, self.broadcaster
        ai_registry = cfg.ai_service_registry and not cfg.offchain  # -aiServiceRegistry
        more = (lambda: [c.uri for c in b.candidates(ai_registry=ai_registry)]) if hasattr(b, "candidates") else None
        payer = getattr(b, "_payer", None)
        self._ai_payer = OnchainAIPayer(payer) if payer is not None and not cfg.offchain else AIPayer()
        request = self._ai_payer.request
        max_price = b.max_price if hasattr(b, "max_price") else cfg.max_price
        return AIPool(cfg.orch_addrs, max_prices=parse_max_prices(cfg.max_price_per_capability),
                      rates=getattr(b, "rates", None),
                      max_price_per_unit=max_price, more_candidates=more, request=request,
                      discovery_timeout_s=cfg.discovery_timeout_s, blocklist=cfg.orch_blocklist)

    def ai_view(self) -> dict:
        """The AI pool as /status shows it (orchestrators, their models warm/cold, prices)."""
        return self.ai_pool.view() if self.ai_pool is not None else {"Orchestrators": []}

    def streams_view(self) -> tuple[StreamView, ...]:
        return self.streams.views() if self.streams else ()

    # ---------------------------------------------------------------- the gateway thread
    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except NodeStartError as exc:
            self._error = str(exc)
        except Exception as exc:
            log.exception("gateway failed")
            self._error = f"{type(exc).__name__}: {exc}"
        finally:
            self._stopped.set()
            self._ready.set()

    async def _main(self) -> None:
        cfg = self.config
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(quiet_connection_errors)
        self._stop = asyncio.Event()
        http_sock = _bind(*address(cfg.http_addr, HTTP_PORT))
        cli_sock = None
        try:
            if cfg.cli_addr:
                cli_sock = _bind(*address(cfg.cli_addr, CLI_PORT))
            self._http = _name(http_sock)
            self._cli = _name(cli_sock) if cli_sock else None
            assert self.streams is not None and self.defaults is not None and self._pool is not None
            assert self.ai_pool is not None and self.ai_media is not None
            self.ai = AIApi(self.ai_pool, self.ai_media, retry_timeout_s=cfg.ai_processing_retry_timeout_s,
                            metrics=self.metrics, payer=self._ai_payer)
            app = GatewayHttpApp(cfg, self.playlists, self.streams, push_enabled=self.push_enabled,
                                 pool=self._pool, read_timeout_s=self._read_timeout_s, ai=self.ai)
            set_price = None
            if hasattr(self.broadcaster, "set_max_price"):  # the management API gives wei per pixel (None: any)
                def set_price(price: Fraction | None) -> None:
                    self.broadcaster.set_max_price(price.numerator if price else 0, price.denominator if price else 1)
            tasks = [asyncio.create_task(serve(app, _config(http_sock), shutdown_trigger=self._stop.wait))]
            if cli_sock is not None:
                mgmt = GatewayManagementApp(cfg, self.streams, self.playlists, self.defaults, self.metrics,
                                            version=_version(), on_max_price=set_price, sender=self.sender_api,
                                            ai_pool=self.ai_view)
                tasks.append(asyncio.create_task(serve(mgmt, _config(cli_sock), shutdown_trigger=self._stop.wait)))
            idle = asyncio.create_task(self._idle_loop())
            await asyncio.sleep(0)
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                idle.cancel()
                _, pending = await asyncio.wait(tasks, timeout=1)
                for task in pending:
                    task.cancel()
                self._stopped.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                if self.ai is not None:
                    await self.ai.aclose()
        finally:
            http_sock.close()
            if cli_sock is not None:
                cli_sock.close()

    async def _idle_loop(self) -> None:
        assert self.streams is not None
        while True:
            await asyncio.sleep(self._idle_check_s)
            await asyncio.to_thread(self.streams.end_idle)


def _name(sock) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _config(sock) -> _BoundConfig:
    cfg = _BoundConfig(sock, secure=False)
    cfg.graceful_timeout = 1
    cfg.errorlog = logging.getLogger("hypercorn.error")
    cfg.keep_alive_timeout = 30  # players reload playlists every couple of seconds on one connection
    return cfg
