"""`Node`: the assembled orchestrator+transcoder, run on its own event loop thread.

    node = Node(NodeConfig(data_dir=..., service_addr="host:8935"))
    node.start()          # blocks until the ports are bound; raises NodeStartError with the reason
    node.status()         # NodeStatus snapshot, callable from any thread
    node.stop()

The console runs it in-process; `lpc node` runs the same object headless.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import secrets
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version

from hypercorn.asyncio import serve
from hypercorn.config import Config, Sockets

from core.media import ladder
from core.media.capacity import measure_max_sessions
from core.media.encoders import EncoderChoice, probe_encoder
from core.media.ladder import MediaLimits, TranscodedSegment
from core.media.rendition_pool import rendition_pool
from core.node import h2_early
from core.node.ai_http import AIEndpoint
from core.node.ai_results import AIResultStore
from core.node.auth import AuthTokens
from core.node.config import DEFAULT_SERVICE_PORT, NodeConfig, split_host_port
from core.node.extensions import Attached, NodeContext, NodeExtension
from core.node.metrics import NodeMetrics
from core.node.orchestrator_rpc import Offer, OrchestratorInfoBuilder, OrchestratorService
from core.node.payments import OffchainPayments, PaymentPolicy
from core.node.renditions import RenditionStore
from core.node.segment_http import SegmentEndpoint, SegmentLimits
from core.node.service_app import ManagementApi, ManagementApp, ServiceApp
from core.node.sessions import Session, SegmentJob, SessionManager
from core.node.status import NodeStatus
from core.node.tls import ensure_certificate
from core.node.transport import loop_factory, quiet_connection_errors

log = logging.getLogger(__name__)


class NodeStartError(RuntimeError):
    pass


def _version() -> str:
    try:
        return version("livepeer-console")
    except PackageNotFoundError:
        return "0.0.0"


class _BoundConfig(Config):
    """Hypercorn config serving a socket we bound ourselves (so port 0 works and bind errors surface)."""

    def __init__(self, sock: socket.socket, secure: bool):
        super().__init__()
        self._sock = sock
        self._secure = secure

    def create_sockets(self) -> Sockets:
        if self._secure:
            return Sockets(secure_sockets=[self._sock], insecure_sockets=[], quic_sockets=[])
        return Sockets(secure_sockets=[], insecure_sockets=[self._sock], quic_sockets=[])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Connections accepted here inherit TCP_NODELAY. asyncio sets it only on sockets whose proto is
    # IPPROTO_TCP, and this one's is 0, so without it every plain-HTTP answer (headers, then body: two
    # writes) waited ~40 ms for the client's delayed ACK (Nagle): +42 ms on each AI answer of the gateway.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise NodeStartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(256)
    sock.setblocking(False)
    return sock


# Loggers that print header values (hpack logs every header it encodes or decodes at DEBUG, h2 logs frames):
# Livepeer-Payment tickets and signatures and Livepeer-Segment auth tokens would land in the node's log at
# `-vv`. They are held at INFO, whatever the root level.
WIRE_LOGGERS = ("hpack", "h2")


def quiet_wire_loggers() -> None:
    for name in WIRE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET follows the root, which -vv puts at DEBUG
            logger.setLevel(logging.INFO)


class Node:
    def __init__(self, config: NodeConfig, payments: PaymentPolicy | None = None, *, services: Sequence = (),
                 api: ManagementApi | None = None, extra_metrics: Callable[[], str] | None = None, ai=None,
                 extensions: Sequence[NodeExtension] = ()):
        """`services` have start()/stop() and run beside the servers (on chain: the chain-state poller, the
        redemption worker, the reward autopilot); `api` answers extra management-port paths; `ai` is the
        AI worker (core.ai.ports.AIWorkerPort, built by core.composition) serving the AI routes;
        `extensions` serve their own routes (core/node/extensions.py: live video, BYOC, remote workers)."""
        if not config.offchain and payments is None:
            raise NodeStartError("on-chain mode needs a payment policy (core.composition.onchain_node)")
        self.config = config
        self.payments: PaymentPolicy = payments or OffchainPayments()
        self.services = tuple(services)
        self.api = api
        # More Prometheus text for /metrics (the GPU monitor's, wired by core.composition).
        self.extra_metrics = extra_metrics
        self.ai = ai  # AIWorkerPort | None: started and stopped with the node
        self.extensions = tuple(extensions)
        self._attached: dict[str, Attached] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._done = threading.Event()  # the node thread has ended
        self._stopped = threading.Event()  # no longer serving: ports closed, sessions ended
        self._error: str | None = None
        self._encoder: EncoderChoice | None = None
        self._sessions: SessionManager | None = None
        self._metrics: NodeMetrics | None = None
        self._listening = ""
        self._management: str | None = None
        self._max_sessions = config.max_sessions if isinstance(config.max_sessions, int) else 0
        self._totals = {"done": 0, "failed": 0, "pixels": 0}
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None  # one thread per session: demux, decode
        self._renditions: concurrent.futures.ThreadPoolExecutor | None = None  # encoders, shared by all sessions

    # ---------------------------------------------------------------- public, any thread
    @property
    def service_uri(self) -> str:
        host, port = split_host_port(self.config.service_addr, DEFAULT_SERVICE_PORT)
        if port == 0 and self._listening:
            port = int(self._listening.rsplit(":", 1)[1])
        return f"https://{host}:{port}"

    def start(self, timeout: float = 180.0) -> NodeStatus:
        if self._thread is not None:
            raise NodeStartError("node already started")
        quiet_wire_loggers()
        h2_early.install()  # HTTP/2 refusals answered before the body, the stream then reset
        self._thread = threading.Thread(target=self._run, name="lpc-node", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) and not self._done.is_set():
            self.stop()
            raise NodeStartError(f"node did not start within {timeout:.0f} s")
        if self._error:
            self._thread.join(5)
            raise NodeStartError(self._error)
        return self.status()

    def stop(self, timeout: float = 15.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not self._done.is_set() and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed meanwhile: already stopped
                pass
        if self._thread is not None:
            self._stopped.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the node has stopped serving; True if it did."""
        return self._stopped.wait(timeout)

    def status(self) -> NodeStatus:
        sessions = self._sessions.snapshot() if self._sessions else ()
        enc = self._encoder
        return NodeStatus(
            running=self._ready.is_set() and not self._stopped.is_set() and not self._error,
            offchain=self.config.offchain,
            service_uri=self.service_uri,
            listening=self._listening,
            management=self._management,
            encoder=enc.label if enc else "probing",
            encoder_reason=enc.reason if enc else "",
            max_sessions=self._max_sessions,
            sessions_used=len(sessions),
            segments_done=self._totals["done"],
            segments_failed=self._totals["failed"],
            pixels=self._totals["pixels"],
            sessions=sessions,
            error=self._error,
            max_sessions_per_gateway=self._sessions.per_gateway if self._sessions else 0,
            gateways=self._sessions.gateways() if self._sessions else (),
            ai_models=self._ai_models(),
            extensions=self._extension_status(),
        )

    def _extension_status(self) -> dict:
        out = {}
        for name, attached in list(self._attached.items()):
            if attached.status is None:
                continue
            try:
                out[name] = attached.status()
            except Exception:  # noqa: BLE001 - a status read never fails the caller
                log.exception("%s status failed", name)
        return out

    def _ai_models(self) -> tuple:
        if self.ai is None:
            return ()
        try:
            return tuple(self.ai.models())
        except Exception:  # noqa: BLE001 - a status read never fails the caller
            log.exception("AI worker status failed")
            return ()

    def metrics_text(self) -> bytes:
        own = self._metrics.render() if self._metrics else b""
        for name, attached in list(self._attached.items()):
            if attached.metrics is None:
                continue
            try:
                text = attached.metrics().encode()
            except Exception:  # noqa: BLE001
                log.exception("%s metrics failed", name)
                continue
            own += (b"\n" if own and not own.endswith(b"\n") else b"") + text
        if self.extra_metrics is None:
            return own
        try:
            extra = self.extra_metrics()
        except Exception:  # noqa: BLE001 - a broken add-on must not take /metrics down
            log.exception("extra metrics failed")
            return own
        return own + (b"\n" if own and not own.endswith(b"\n") else b"") + extra.encode()

    # ---------------------------------------------------------------- the node thread
    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=loop_factory(self.config.tls_shutdown_timeout_s)) as runner:
                runner.run(self._main())
        except NodeStartError as exc:
            self._error = str(exc)
        except Exception as exc:  # anything else: report it rather than die silently in a thread
            log.exception("node failed")
            self._error = f"{type(exc).__name__}: {exc}"
        finally:
            self._stopped.set()
            self._done.set()
            self._ready.set()

    async def _main(self) -> None:
        cfg = self.config
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(quiet_connection_errors)
        self._stop = asyncio.Event()
        bind_host, bind_port = cfg.bind()
        service_sock = _bind(bind_host, bind_port)
        mgmt_sock = None
        try:
            if cfg.cli_addr:
                mgmt_sock = _bind(*split_host_port(cfg.cli_addr, 7935))
            self._listening = f"{bind_host}:{service_sock.getsockname()[1]}"
            if mgmt_sock is not None:
                self._management = f"{mgmt_sock.getsockname()[0]}:{mgmt_sock.getsockname()[1]}"
            try:
                self._encoder = await asyncio.to_thread(probe_encoder, cfg.encoder, cfg.x264_preset)
            except RuntimeError as exc:
                raise NodeStartError(str(exc)) from None
            self._renditions = rendition_pool(cfg.encoder_threads)
            if cfg.max_sessions == "auto":
                self._max_sessions = await asyncio.to_thread(
                    measure_max_sessions, self._encoder, pool=self._renditions)
                log.info("measured capacity: %d sessions", self._max_sessions)
            host = split_host_port(cfg.service_addr, DEFAULT_SERVICE_PORT)[0]
            cert, key = await asyncio.to_thread(ensure_certificate, cfg.data_dir / "tls", host)
            started = []
            try:
                if self.ai is not None:  # warm models load in the background; a loading model answers 503
                    try:
                        await asyncio.to_thread(self.ai.start)
                    except Exception as exc:
                        raise NodeStartError(f"cannot start the AI worker: {exc}") from None
                    started.append(self.ai)
                for service in self.services:
                    try:
                        await asyncio.to_thread(service.start)
                    except Exception as exc:
                        raise NodeStartError(f"cannot start {type(service).__name__}: {exc}") from None
                    started.append(service)
                await self._serve(service_sock, mgmt_sock, str(cert), str(key))
            finally:
                for service in reversed(started):
                    service.stop()  # already stopped by _serve unless it failed early; then quick
        finally:
            if self._renditions is not None:
                self._renditions.shutdown(wait=False, cancel_futures=True)  # done already unless start failed
            service_sock.close()
            if mgmt_sock is not None:
                mgmt_sock.close()

    async def _serve(self, service_sock, mgmt_sock, cert: str, key: str) -> None:
        cfg = self.config
        enc = self._encoder
        assert enc is not None and self._stop is not None
        node_id = secrets.token_hex(4)
        self._metrics = metrics = NodeMetrics(node_id, _version(), enc.name, enc.hw_decode, ai=self.ai)
        metrics.max_sessions.set(self._max_sessions)
        self.payments.bind_metrics(metrics)
        self._pool = concurrent.futures.ThreadPoolExecutor(max(1, self._max_sessions), thread_name_prefix="transcode")
        tokens = AuthTokens(cfg.token_ttl_s)
        store = RenditionStore(cfg.rendition_ttl_s)
        limits = MediaLimits(max_duration_s=cfg.max_segment_seconds, max_ladder_pixels=cfg.max_ladder_pixels)
        loop = asyncio.get_running_loop()

        async def transcode(job: SegmentJob) -> TranscodedSegment:
            call = functools.partial(ladder.transcode, job.data, job.profiles, enc, limits, want_preview=True,
                                     cancel=job.cancel, pool=self._renditions)
            # Neither this frame nor the call holds the job: a failure's traceback holds this frame, and the
            # job's future holds the failure, so the job (with its bytes) would be kept by a reference cycle.
            del job
            return await loop.run_in_executor(self._pool, call)

        sessions = SessionManager(
            self._max_sessions, transcode, self._segment_done,
            queue_size=cfg.session_queue, idle_timeout_s=cfg.idle_timeout_s,
            # offchain a session costs nothing and a gateway is only an IP; on chain every segment is paid
            # for and one gateway address may carry many streams, as in go-livepeer: no share
            gateway_share=cfg.gateway_session_share if cfg.offchain else 1.0,
        )
        sessions.on_count_changed = metrics.current_sessions.set
        self._sessions = sessions
        offer = Offer(self.service_uri, *_flag_price(cfg), _version(), enc.name, transcoding=cfg.transcoding,
                      offchain=cfg.offchain)
        info = OrchestratorInfoBuilder(offer, tokens, self.payments, ai=self.ai)
        ai_results = AIResultStore()
        ai = None
        if self.ai is not None:
            ai = AIEndpoint(self.ai, tokens, self.payments, ai_results, info, on_request=metrics.ai_request)
        rpc = OrchestratorService(info, sessions)
        grpc_methods = dict(rpc.methods())
        routes = []
        ctx = NodeContext(cfg, tokens, self.payments, info, metrics, self.service_uri, loop, self.ai)
        for extension in self.extensions:
            try:
                attached = extension.attach(ctx)
            except Exception as exc:
                raise NodeStartError(f"cannot start {extension.name}: {exc}") from None
            self._attached[extension.name] = attached
            routes.extend(attached.routes)
            grpc_methods.update(attached.grpc)
        segment = SegmentEndpoint(
            tokens, self.payments, sessions, store, info,
            SegmentLimits(cfg.max_segment_bytes, cfg.max_segment_seconds, cfg.max_renditions,
                          cfg.upload_timeout_min_s, cfg.upload_timeout_factor, max_ladder_pixels=cfg.max_ladder_pixels),
            on_refused=metrics.segment_refused,
        )
        service_cfg = _BoundConfig(service_sock, secure=True)
        service_cfg.errorlog = logging.getLogger("hypercorn.error")
        service_cfg.certfile, service_cfg.keyfile = cert, key
        service_cfg.keep_alive_timeout = cfg.keep_alive_s  # gateways reuse connections between 2 s segments
        # Hypercorn closes a connection after 1,000 requests by default; a gateway keeps one HTTP/2 connection
        # for a whole stream (1,800 segments an hour), and the close failed the segment in flight. Idle
        # connections still end after keep_alive_s.
        service_cfg.keep_alive_max_requests = sys.maxsize
        service_cfg.graceful_timeout = 2
        service_cfg.h2_max_inbound_frame_size = 2**20
        tasks = [
            asyncio.create_task(
                serve(ServiceApp(grpc_methods, segment, store, ai=ai, ai_results=ai_results,
                                 transcoding=cfg.transcoding, routes=routes), service_cfg,
                      shutdown_trigger=self._stop.wait)
            )
        ]
        if mgmt_sock is not None:
            mcfg = _BoundConfig(mgmt_sock, secure=False)
            mcfg.graceful_timeout = 1
            mcfg.errorlog = logging.getLogger("hypercorn.error")
            tasks.append(
                asyncio.create_task(
                    serve(ManagementApp(self.metrics_text, self.status, self.api), mcfg, shutdown_trigger=self._stop.wait)
                )
            )
        purge = asyncio.create_task(self._purge_loop(store, ai_results))
        await asyncio.sleep(0)
        self._ready.set()
        log.info("node serving on %s (%s), encoder %s, max sessions %d",
                 self._listening, self.service_uri, enc.label, self._max_sessions)
        try:
            await self._stop.wait()
        finally:
            purge.cancel()
            for extension in reversed(self.extensions):
                if extension.name in self._attached:
                    try:
                        await asyncio.wait_for(extension.aclose(), 10)
                    except Exception:  # noqa: BLE001 - one extension's failure must not keep the ports open
                        log.exception("closing %s failed", extension.name)
            await sessions.close()
            # Hypercorn waits for every client connection to close (asyncio's Server.wait_closed), and a
            # gateway may hold its connection open for ever: give them a moment, then cancel.
            # The listening sockets are closed by now; idle keep-alive connections may linger until their
            # timeout (hypercorn swallows the first cancel while closing TLS), on this daemon thread only.
            _, pending = await asyncio.wait(tasks, timeout=1)
            for task in pending:
                task.cancel()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._renditions.shutdown(wait=True, cancel_futures=True)  # idle by now: its segments have ended
            for service in reversed(self.services):  # the redeemer may be mid-transaction: let it finish
                await asyncio.to_thread(service.stop)
            self._stopped.set()
            if self.ai is not None:  # after: a warm model still loading finishes first (SmolLM2's first ~24 s)
                await asyncio.to_thread(self.ai.stop)
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _purge_loop(self, store: RenditionStore, ai_results: AIResultStore) -> None:
        while True:
            await asyncio.sleep(10)
            store.purge()
            ai_results.purge()

    def _segment_done(self, session: Session, job: SegmentJob, result: TranscodedSegment | None, error) -> None:
        metrics = self._metrics
        assert metrics is not None
        if result is None:
            self._totals["failed"] += 1
            metrics.segment_failed_with(type(error).__name__)
            return
        pixels = sum(r.pixels for r in result.renditions)
        self._totals["done"] += 1
        self._totals["pixels"] += pixels
        profiles = ",".join(p.name for p in job.profiles)
        metrics.segment_ok(profiles, result.wall_s, result.duration_s, pixels)


def _flag_price(cfg: NodeConfig) -> tuple[int, int]:
    """(wei per unit, pixels per unit) from the flags, advertised when no payment policy prices (offchain).
    An offchain node has no price feed, so a currency price is refused at start."""
    from core.payments.pricing import PriceError, parse_price

    try:
        amount = parse_price(cfg.price_per_unit)
    except PriceError as exc:
        raise NodeStartError(f"--price-per-unit: {exc}") from None
    if amount.currency != "WEI" and not cfg.offchain:
        return 0, 1  # on chain the payment policy's price book converts it
    if amount.currency != "WEI":
        raise NodeStartError(f"--price-per-unit {amount}: an offchain node has no price feed to convert "
                             f"{amount.currency} to wei; give the price in wei, or run on chain")
    return int(amount.value), cfg.pixels_per_unit
