"""The gateway's broadcaster: a stream's segments to the network's orchestrators (go-livepeer's
`-gateway` session manager, gateway-wire.md §4–§5). Implements ports.Broadcaster.

Per stream (`open`): the candidates are the `-orchAddr` list (parsed as go-livepeer: `https://` unless it
starts with `http`, port 8935), the `-orchWebhookUrl` answer (cached 1 min) and, on chain, the active
pool's service URIs. GetOrchestrator goes to every candidate at once; those answering within
`-discoveryTimeout` (doubled while none has answered, cut at 6 s), not on `-orchBlocklist` (an EMPTY
blocklist blocks nothing: go-livepeer's `[""]` blocks every orchestrator that sends an empty address),
giving a transcoder URI, with the capabilities the ladder needs and a price within `-maxPricePerUnit`
make the pool, in latency order (selection.py picks from it).

Per segment (`transcode`): the input is checked first (empty or not a video container: BadInput, no
orchestrator is asked, nobody is suspended); then up to `-maxAttempts` attempts, each on an orchestrator
not yet tried for this segment: POST /segment (segment_client.py), download every rendition, verify them
when verification is on (verify.py). A retryable failure suspends that orchestrator for this stream and
the next attempt goes elsewhere; a non-retryable one (the orchestrator says the input is bad) stops and
suspends nobody. Errors: TranscodeError kinds NoOrchestrators, MaxAttempts, Download, Verification,
BadInput.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Protocol

from eth_hash.auto import keccak

from core.gateway import verify as verification
from core.gateway.config import GatewayConfig
from core.gateway.discovery import Unreachable, end_session, get_orchestrator, orch_uri
from core.gateway.ports import (BroadcastObserver, RenditionSegment, SourceSegment, StreamPoolView,
                                TranscodedSegment, TranscodeError)
from core.gateway.segment_client import SegmentClients, call_deadline, download, post_segment
from core.gateway.selection import Discovered, OrchSession, SessionPool
from core.gateway.webhook import WebhookDiscovery
from core.media.profiles import H264Profile, VideoProfile, to_wire
from core.node.capabilities import Capability, bits_of, to_wire as caps_to_wire
from core.payments.tickets import ZERO_ADDRESS
from core.proto import net

log = logging.getLogger(__name__)

DISCOVERY_CUTOFF_S = 6.0
AUTH_TOKEN_S = 30 * 60  # an orchestrator's auth token lives 30 min; refreshed in its last 10 %

_PROFILE_CAPS = {
    H264Profile.BASELINE: Capability.PROFILE_H264_BASELINE,
    H264Profile.MAIN: Capability.PROFILE_H264_MAIN,
    H264Profile.HIGH: Capability.PROFILE_H264_HIGH,
    H264Profile.CONSTRAINED_HIGH: Capability.PROFILE_H264_CONSTRAINED_HIGH,
}


def required_capabilities(profiles: Sequence[VideoProfile]) -> set[Capability]:
    """What an orchestrator must offer for this ladder (go-livepeer's JobCapabilities for transcoding)."""
    caps = {Capability.H264, Capability.MPEGTS, Capability.AUTH_TOKEN}
    for p in profiles:
        if p.profile in _PROFILE_CAPS:
            caps.add(_PROFILE_CAPS[p.profile])
        if p.gop_ms:
            caps.add(Capability.GOP)
        if p.fps and p.fps_den > 1:
            caps.add(Capability.FRACTIONAL_FRAMERATES)
    return caps


def as_mpegts(segment: SourceSegment) -> bytes:
    """The segment's bytes as MPEG-TS: an `.mp4` push is remuxed (stream copy, nothing re-encoded), since
    orchestrators without the MP4 capability (lpc's among them) take MPEG-TS only."""
    if segment.container != "mp4":
        return segment.data
    import av

    out = io.BytesIO()
    try:
        with av.open(io.BytesIO(segment.data), format="mp4") as src, av.open(out, "w", format="mpegts") as dst:
            streams = {}
            for st in src.streams:
                if st.type in ("video", "audio"):
                    streams[st.index] = dst.add_stream_from_template(st)
            for packet in src.demux():
                if packet.stream.index in streams and packet.dts is not None:
                    packet.stream = streams[packet.stream.index]
                    dst.mux(packet)
    except (av.FFmpegError, ValueError) as exc:
        raise TranscodeError("BadInput", f"the MP4 segment could not be remuxed to MPEG-TS ({exc})",
                             retryable=False) from None
    return out.getvalue()


def check_input(segment: SourceSegment) -> None:
    """BadInput for a segment no orchestrator could use: empty, or no video stream with a picture size.
    (The push side checks before calling; this is the broadcaster's own guard: a bad client must never
    get an orchestrator suspended.)"""
    import av

    if not segment.data:
        raise TranscodeError("BadInput", "the segment is empty (0 bytes)", retryable=False)
    fmt = "mp4" if segment.container == "mp4" else "mpegts"
    try:
        with av.open(io.BytesIO(segment.data), format=fmt) as c:
            if not c.streams.video:
                raise TranscodeError("BadInput", f"the segment ({len(segment.data):,} bytes) has no video stream",
                                     retryable=False)
            cc = c.streams.video[0].codec_context
            if not cc.width or not cc.height:
                raise TranscodeError("BadInput", "the segment's video has no picture size (no decodable keyframe)",
                                     retryable=False)
    except (av.FFmpegError, ValueError):
        raise TranscodeError("BadInput", f"the segment's {len(segment.data):,} bytes are not {fmt.upper()} video",
                             retryable=False) from None


@dataclass(frozen=True)
class Candidate:
    uri: str  # https://host:port
    address: str = ""  # 0x… when known before asking (on chain)
    stake: int = 0


class Payer(Protocol):
    """How a stream asks, signs and pays: offchain (`_Offchain` below) or on chain (onchain.OnchainPayer)."""

    def request(self, caps: net.Capabilities) -> net.OrchestratorRequest: ...

    def admit(self, info: net.OrchestratorInfo) -> str:
        """Why this orchestrator's answer cannot be paid, or ""."""

    def session(self, info: net.OrchestratorInfo): ...

    def sign(self, seg: net.SegData) -> None: ...

    def pay(self, session: OrchSession, profiles, duration_s: float) -> tuple[str, int, int]:
        """(Livepeer-Payment header, tickets, their expected value in wei) for one segment."""

    def settle(self, session: OrchSession, pixels: int, info: net.OrchestratorInfo | None) -> None: ...

    def needs_new_params(self, session: OrchSession) -> bool: ...

    def candidates(self, *, ai_registry: bool = False) -> list[Candidate]: ...


class _Offchain:
    """No chain: GetOrchestrator from 20 zero bytes (as an offchain go-livepeer gateway), an unsigned
    segment, `Livepeer-Payment: ""`."""

    def request(self, caps: net.Capabilities) -> net.OrchestratorRequest:
        req = net.OrchestratorRequest(address=ZERO_ADDRESS)
        req.capabilities.CopyFrom(caps)
        return req

    def admit(self, info: net.OrchestratorInfo) -> str:
        return ""

    def session(self, info: net.OrchestratorInfo):
        return None

    def sign(self, seg: net.SegData) -> None:
        return None

    def pay(self, session: OrchSession, profiles, duration_s: float) -> tuple[str, int, int]:
        return "", 0, 0

    def settle(self, session: OrchSession, pixels: int, info: net.OrchestratorInfo | None) -> None:
        return None

    def needs_new_params(self, session: OrchSession) -> bool:
        return False

    def candidates(self, *, ai_registry: bool = False) -> list[Candidate]:
        return []


class _Guarded:
    """The observer, with its failures logged instead of failing a segment (it feeds metrics and a screen)."""

    def __init__(self, inner: BroadcastObserver):
        self._inner = inner

    def __getattr__(self, name: str):
        fn = getattr(self._inner, name)

        def call(*args):
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - a broken observer must not lose a segment
                log.exception("the broadcast observer's %s failed", name)

        return call


class NetworkBroadcaster:
    """One per gateway node. `open` gives a stream's session manager; `close` ends them all."""

    def __init__(self, config: GatewayConfig, *, observer: BroadcastObserver | None = None, onchain=None,
                 rates=None):
        """`onchain`: a core.gateway.onchain.GatewayChain (None: offchain). `rates`: the ETH price feed
        (core.payments Rates, `rate(currency)` = currency per ETH) for a `-maxPricePerUnit` in USD;
        without one such a price is refused here, in words (it would otherwise filter nothing)."""
        self.config = config
        self.observer = _Guarded(observer) if observer is not None else None
        self._rates = rates
        self._max_price = self._parse_max_price()
        self.clients = SegmentClients()
        self._orch_addrs = [orch_uri(a) for a in config.orch_addrs if a.strip()]
        self._webhook = WebhookDiscovery(config.orch_webhook_url) if config.orch_webhook_url else None
        self._blocklist = {b.strip().lower().removeprefix("0x") for b in config.orch_blocklist if b.strip()}
        if not config.offchain and onchain is None:
            raise ValueError("an on-chain gateway needs its chain port (GatewayChain: the gateway's key, deposit and "
                             "the active pool); without one, use -network offchain")
        self._payer: Payer
        if onchain is not None:
            from core.gateway.onchain import OnchainPayer
            from core.payments.sender import SenderLimits

            self._payer = OnchainPayer(onchain, config, SenderLimits(config.max_ticket_ev, config.max_total_ev,
                                                                     config.deposit_multiplier))
        else:
            self._payer = _Offchain()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lpc-gw-discovery")
        self._downloads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lpc-gw-download")
        self._streams: dict[str, NetworkStream] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _parse_max_price(self, given=None, pixels_per_unit: int | None = None):
        """(amount, currency) of -maxPricePerUnit per pixel, or None for "any price". ValueError if unusable."""
        from core.payments.pricing import WEI, parse_price

        given = self.config.max_price_per_unit if given is None else given
        ppu = self.config.pixels_per_unit if pixels_per_unit is None else pixels_per_unit
        if ppu <= 0:
            raise ValueError(f"pixelsPerUnit {ppu} must be a positive whole number")
        amount = parse_price(given)  # PriceError (a ValueError) says what is wrong with the text
        if amount.value <= 0:
            return None
        if amount.currency != WEI and self._rates is None:
            raise ValueError(f"-maxPricePerUnit {given} is in {amount.currency}: that needs the ETH/{amount.currency} "
                             "price feed (-priceFeedAddr); give it in wei or configure the feed")
        return amount.value / ppu, amount.currency

    def set_max_price(self, max_price_per_unit, pixels_per_unit: int = 1) -> None:
        """The management API's /setBroadcastConfig: the new limit applies to streams discovered from now
        on (as go-livepeer's, for new streams). ValueError in words for a price it cannot use; nothing
        changes then."""
        parsed = self._parse_max_price(max_price_per_unit, pixels_per_unit)
        self.config = replace(self.config, max_price_per_unit=max_price_per_unit, pixels_per_unit=pixels_per_unit)
        self._max_price = parsed

    @property
    def rates(self):
        """The ETH price feed (core.payments.pricing.Rates) the gateway converts currency prices with; None
        offchain or with no feed."""
        return self._rates

    def max_price(self) -> Fraction | None:
        """The most this gateway pays, in wei per pixel now (a USD price follows the feed)."""
        from core.payments.pricing import WEI

        if self._max_price is None:
            return None
        per_pixel, currency = self._max_price
        if currency == WEI:
            return per_pixel
        return per_pixel * 10**18 / self._rates.rate(currency)

    # ------------------------------------------------------------------ candidates and discovery
    def candidates(self, *, ai_registry: bool = False) -> list[Candidate]:
        """-orchAddr, then the webhook's (each URI once); on chain, the active pool only when neither is
        given (go-livepeer: the first discovery source configured makes the working pool). `ai_registry`
        (-aiServiceRegistry, for the AI pool): the pool at the URIs set in the AI ServiceRegistry."""
        out: dict[str, Candidate] = {u: Candidate(u) for u in self._orch_addrs}
        if self._webhook is not None:
            for uri in self._webhook.addresses(self.observer):
                out.setdefault(uri, Candidate(uri))
        if not out and self._webhook is None:
            try:
                chain = self._payer.candidates(ai_registry=ai_registry)
            except Exception as exc:  # noqa: BLE001 - an RPC failure: no candidates this time, in words
                log.warning("reading the active pool failed: %s", exc)
                if self.observer:
                    self.observer.discovery_error("chain", f"reading the active pool failed: {type(exc).__name__}")
                chain = []
            for c in chain:
                out.setdefault(c.uri, c)
        return list(out.values())

    def discover(self, profiles: Sequence[VideoProfile]) -> Discovered:
        """GetOrchestrator to every candidate at once; the usable answers in latency order."""
        if self._closed:
            return Discovered((), ())
        candidates = self.candidates()
        caps = caps_to_wire(required_capabilities(profiles))
        need = {int(c) for c in required_capabilities(profiles)}
        started = time.monotonic()

        def ask(c: Candidate):
            t0 = time.monotonic()
            info = get_orchestrator(c.uri, self._payer.request(caps), timeout=DISCOVERY_CUTOFF_S)
            return info, time.monotonic() - t0

        futures: dict[Future, Candidate] = {self._pool.submit(ask, c): c for c in candidates}
        timeout = max(0.05, self.config.discovery_timeout_s)
        pending = set(futures)
        answered: list[tuple[Candidate, net.OrchestratorInfo, float]] = []
        unreachable: list[tuple[str, str]] = []
        while pending:
            deadline = min(started + timeout, started + DISCOVERY_CUTOFF_S)
            done, pending = wait(pending, timeout=max(0.0, deadline - time.monotonic()), return_when=FIRST_COMPLETED)
            for f in done:
                c = futures[f]
                try:
                    info, rtt = f.result()
                except Unreachable as exc:
                    unreachable.append((c.uri, str(exc)))
                    if self.observer:
                        self.observer.discovery_error(c.uri, str(exc))
                except Exception as exc:  # noqa: BLE001 - one bad answer must not end discovery
                    unreachable.append((c.uri, f"{type(exc).__name__}: {exc}"))
                else:
                    answered.append((c, info, rtt))
            if time.monotonic() >= deadline and pending:
                if answered or deadline >= started + DISCOVERY_CUTOFF_S:
                    break
                timeout *= 2  # nobody answered yet: wait longer (go-livepeer doubles it)
        for f in pending:
            unreachable.append((futures[f].uri, f"no answer within {time.monotonic() - started:.1f} s"))
        sessions: list[OrchSession] = []
        for c, info, rtt in sorted(answered, key=lambda a: a[2]):
            why = self._refusal(info, need)
            if why:
                unreachable.append((c.uri, why))
                continue
            sessions.append(OrchSession(uri=c.uri, info=info, latency_s=rtt, stake=c.stake,
                                        payment=self._payer.session(info)))
        return Discovered(tuple(sessions), tuple(unreachable))

    def _refusal(self, info: net.OrchestratorInfo, need: set[int]) -> str:
        """Why this answer is not usable, or ""."""
        address = bytes(info.address).hex()
        if self._blocklist and address in self._blocklist:
            return f"on -orchBlocklist (0x{address})"
        if not info.transcoder:
            return "answered without a transcoder URI"
        if info.HasField("capabilities") and info.capabilities.bitstring:
            lacking = need - bits_of(info.capabilities.bitstring)
            if lacking:
                names = ", ".join(Capability(b).name if b in Capability._value2member_map_ else str(b)
                                  for b in sorted(lacking))
                return f"lacks capabilities the ladder needs ({names})"
        try:
            limit = self.max_price()
        except ValueError as exc:  # the feed has not answered: no price can be checked, none is accepted
            return f"its price cannot be checked against -maxPricePerUnit {self.config.max_price_per_unit}: {exc}"
        p = info.price_info
        if limit is not None and p.pixelsPerUnit and Fraction(p.pricePerUnit, p.pixelsPerUnit) > limit:
            if not self.config.ignore_max_price_if_needed:
                return (f"price {p.pricePerUnit}/{p.pixelsPerUnit} wei per pixel is above -maxPricePerUnit "
                        f"{self.config.max_price_per_unit} per {self.config.pixels_per_unit} pixels "
                        f"({float(limit):.6g} wei per pixel)")
        return self._payer.admit(info)

    # ------------------------------------------------------------------ Broadcaster
    def open(self, manifest_id: str, profiles: Sequence[VideoProfile]) -> NetworkStream:
        with self._lock:
            if self._closed:
                raise RuntimeError("the broadcaster is closed")
            old = self._streams.pop(manifest_id, None)
        if old is not None:
            old.close()
        stream = NetworkStream(self, manifest_id, tuple(profiles))
        with self._lock:
            self._streams[manifest_id] = stream
        self._pool.submit(stream.warm_up)  # the first segment should not wait for discovery
        return stream

    def view(self, manifest_id: str) -> StreamPoolView | None:
        with self._lock:
            stream = self._streams.get(manifest_id)
        return stream.view() if stream is not None else None

    def _forget(self, stream: NetworkStream) -> None:
        with self._lock:
            if self._streams.get(stream.manifest_id) is stream:
                del self._streams[stream.manifest_id]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            streams, self._streams = list(self._streams.values()), {}
        for s in streams:
            s.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._downloads.shutdown(wait=False, cancel_futures=True)
        self.clients.close()


@dataclass
class _Attempt:
    session: OrchSession
    renditions: list[RenditionSegment]
    sig: bytes
    round_trip_s: float
    tickets: int = 0
    ev_wei: int = 0


class NetworkStream:
    """One stream's session manager (ports.BroadcastStream). `transcode` may run in several threads."""

    def __init__(self, broadcaster: NetworkBroadcaster, manifest_id: str, profiles: tuple[VideoProfile, ...]):
        self.b = broadcaster
        self.manifest_id = manifest_id
        self.profiles = profiles
        self._caps = caps_to_wire(required_capabilities(profiles))
        self._wire_profiles = [to_wire(p, net.VideoProfile) for p in profiles]
        obs = broadcaster.observer
        self.pool = SessionPool(
            discover=self._discover, candidates=lambda: max(1, len(broadcaster.candidates())),
            pick=broadcaster._payer.pick if hasattr(broadcaster._payer, "pick") else None,
            on_swap=(lambda old, new: obs.swapped(manifest_id, old, new)) if obs else None)
        self._closed = False

    def _discover(self) -> Discovered:
        found = self.b.discover(self.profiles)
        return found

    def warm_up(self) -> None:
        if self._closed:
            return
        try:
            if self.pool.needs_refresh():
                self.pool.refresh()
                if self.b.observer:
                    self.b.observer.discovered(self.manifest_id, self.pool.view())
        except Exception:  # noqa: BLE001 - the first segment will try again and report
            log.exception("discovery for stream %s failed", self.manifest_id)

    def view(self) -> StreamPoolView:
        return self.pool.view()

    def close(self) -> None:
        """The stream ended: every orchestrator that worked for it is told (EndTranscodingSession), so its
        slot is free now rather than after its 70 s idle timeout; best effort, off the caller's thread."""
        if self._closed:
            return
        self._closed = True
        self.b._forget(self)
        used = [(s.uri, s.info.auth_token) for s in self.pool.sessions() if s.score is not None]

        def end_all() -> None:
            for uri, token in used:
                try:
                    end_session(uri, token, timeout=2.0)
                except Unreachable as exc:
                    log.info("EndTranscodingSession on %s: %s", uri, exc)

        if used:
            threading.Thread(target=end_all, name=f"lpc-gw-end-{self.manifest_id}", daemon=True).start()

    # ------------------------------------------------------------------ one segment
    def transcode(self, segment: SourceSegment) -> TranscodedSegment:
        cfg = self.b.config
        started = time.monotonic()
        if self.b._closed:
            raise TranscodeError("NoOrchestrators", "the gateway is stopping", retryable=False)
        if cfg.max_attempts <= 0:
            raise TranscodeError("MaxAttempts", "-maxAttempts is 0 or less: this gateway never transcodes",
                                 retryable=False)
        check_input(segment)
        if segment.container == "mp4":
            segment = replace(segment, data=as_mpegts(segment), container="ts")
        duration = segment.duration_s if segment.duration_s > 0 else cfg.segment_s
        tried: set[str] = set()
        attempts = verify_failures = 0
        best: tuple[int, _Attempt] | None = None
        errors: list[str] = []
        while attempts < cfg.max_attempts:
            if self.pool.needs_refresh():
                self._refresh()
            session = self.pool.select(duration, tried)
            if session is None:
                self._refresh()
                session = self.pool.select(duration, tried)
            if session is None:
                break
            tried.add(session.uri)
            attempts += 1
            self.pool.begin(session, segment.seq)
            try:
                attempt = self._attempt(session, segment, duration)
            except TranscodeError as exc:
                self._failed(segment, session, exc, attempts)
                if not exc.retryable:
                    self.pool.release(session, segment.seq)
                    raise
                self.pool.suspend(session, str(exc))
                errors.append(f"{session.transcoder}: {exc}")
                continue
            if cfg.verify:
                verdict = verification.verify([(r.profile, r.data, r.pixels) for r in attempt.renditions],
                                              attempt.sig, session.address, map_fn=self.b._downloads.map)
                if not verdict.ok:
                    verify_failures += 1
                    exc = TranscodeError("Verification", verdict.reason)
                    self._failed(segment, session, exc, attempts)
                    self.pool.suspend(session, verdict.reason)
                    errors.append(f"{session.transcoder}: {verdict.reason}")
                    # a pixel count that is off may still be the best on offer; a forged signature never is
                    if not verdict.bad_signature and (best is None or verdict.pixel_error < best[0]):
                        best = (verdict.pixel_error, attempt)
                    if verify_failures > verification.RETRIES:
                        break
                    continue
            self.pool.complete(session, segment.seq, attempt.round_trip_s, duration)
            return self._done(segment, attempt, attempts, started)
        if best is not None:  # every result failed verification: go-livepeer takes the best after its retries
            log.warning("stream %s seq %d: accepting an unverified result after %d failed checks",
                        self.manifest_id, segment.seq, verify_failures)
            return self._done(segment, best[1], attempts, started)
        said = "; ".join(errors[-3:])
        if attempts >= cfg.max_attempts:
            raise TranscodeError("MaxAttempts", f"hit max transcode attempts ({cfg.max_attempts}): {said}")
        if attempts == 0:
            raise TranscodeError("NoOrchestrators", self._none_message())
        raise TranscodeError("NoOrchestrators", f"no orchestrator left to try after {attempts} failed "
                                                f"attempt{'s' if attempts > 1 else ''}: {said}")

    def _refresh(self) -> None:
        self.pool.refresh()
        if self.b.observer:
            self.b.observer.discovered(self.manifest_id, self.pool.view())

    def _none_message(self) -> str:
        if not self.b.candidates():
            return ("no orchestrator to send segments to: give -orchAddr (host:port,…), -orchWebhookUrl, or run "
                    "on chain")
        rows = [f"{o.uri} {o.state}{': ' + o.note if o.note else ''}" for o in self.pool.view().orchestrators]
        return "no usable orchestrator: " + ("; ".join(rows) if rows else "none answered")

    def _failed(self, segment: SourceSegment, session: OrchSession, exc: TranscodeError, attempt: int) -> None:
        log.info("stream %s seq %d attempt %d on %s failed (%s): %s", self.manifest_id, segment.seq, attempt,
                 session.transcoder, exc.kind, exc)
        if self.b.observer:
            self.b.observer.attempt_failed(self.manifest_id, segment.seq, session.transcoder, exc, attempt)

    def _done(self, segment: SourceSegment, attempt: _Attempt, attempts: int, started: float) -> TranscodedSegment:
        out = TranscodedSegment(seq=segment.seq, renditions=tuple(attempt.renditions),
                                orchestrator=attempt.session.transcoder, attempts=attempts,
                                latency_s=time.monotonic() - started, paid_wei=attempt.ev_wei)
        if self.b.observer:
            if attempt.tickets:
                self.b.observer.paid(self.manifest_id, attempt.session.transcoder, attempt.tickets, attempt.ev_wei)
            self.b.observer.transcoded(self.manifest_id, out)
        return out

    def _fresh(self, session: OrchSession) -> None:
        """GetOrchestrator again when the auth token is in its last 10 % or the ticket params expire."""
        token = session.info.auth_token
        stale = bool(token.expiration) and token.expiration - time.time() < 0.1 * AUTH_TOKEN_S
        if not stale and not self.b._payer.needs_new_params(session):
            return
        try:
            info = get_orchestrator(session.uri, self.b._payer.request(self._caps), timeout=DISCOVERY_CUTOFF_S)
        except Unreachable as exc:
            raise TranscodeError("Transcode", f"could not renew its auth token / ticket params: {exc}") from None
        self._take_info(session, info)

    def _take_info(self, session: OrchSession, info: net.OrchestratorInfo) -> None:
        if not info.transcoder:
            return
        session.info = info
        session.info_at = time.time()
        if session.payment is not None:
            session.payment.info = info

    def _attempt(self, session: OrchSession, segment: SourceSegment, duration: float) -> _Attempt:
        self._fresh(session)
        info = session.info
        seg = net.SegData(manifestId=self.manifest_id.encode(), seq=segment.seq, hash=keccak(segment.data),
                          profiles=b"invalid", duration=int(round(duration * 1000)))
        seg.auth_token.CopyFrom(info.auth_token)
        seg.capabilities.CopyFrom(self._caps)
        seg.fullProfiles3.extend(self._wire_profiles)
        self.b._payer.sign(seg)
        payment, tickets, ev = self.b._payer.pay(session, self.profiles, duration)
        started = time.monotonic()
        result, _ = post_segment(self.b.clients, info.transcoder, seg, segment.data, payment, duration)
        got = list(result.data.segments)
        if len(got) != len(self.profiles):
            raise TranscodeError("Transcode", f"MismatchedSegments: {len(got)} renditions for a ladder of "
                                              f"{len(self.profiles)}")
        self.b._payer.settle(session, sum(s.pixels for s in got), result.info if result.HasField("info") else None)
        if result.HasField("info"):
            self._take_info(session, result.info)
        remaining = call_deadline(duration) - (time.monotonic() - started)
        # every rendition at once, each on its own warm connection: the segment waits for the slowest only
        fetches = [self.b._downloads.submit(download, self.b.clients, s.url, remaining) for s in got[1:]]
        datas = [download(self.b.clients, got[0].url, remaining)] + [f.result() for f in fetches]
        renditions = [RenditionSegment(profile=p.name, data=d, pixels=s.pixels)
                      for p, s, d in zip(self.profiles, got, datas)]
        return _Attempt(session, renditions, bytes(result.data.sig), time.monotonic() - started, tickets, ev)


