"""HTTP `POST /segment`: a gateway's source segment in, a TranscodeResult with rendition URLs out.

The checks run in go-livepeer's order with its status codes (go-livepeer.md §4a, segment-wire.md):
Livepeer-Payment decodes (402) -> Livepeer-Segment decodes, signature, capabilities, auth token,
profiles, capacity (403) -> payment processed (400) -> balance (400) -> body read -> keccak256 of the
body equals SegData.hash (403 "Forbidden"). Then 200 is sent at once and the protobuf TranscodeResult
follows as the body when the transcode ends; a transcode failure is a 200 with `error` set.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass

from eth_hash.auto import keccak
from google.protobuf.message import DecodeError

from core.media.ladder import TranscodedSegment
from core.media.profiles import MAX_LADDER_PIXELS, ProfileError, VideoProfile, from_wire, ladder_pixels
from core.node import capabilities, h2_early
from core.node.asgi_io import BodyTooLarge, ClientGone, drain, header, read_body, send_text
from core.node.auth import AuthError, AuthTokens
from core.node.orchestrator_rpc import OrchestratorInfoBuilder
from core.node.payments import PaymentError, PaymentPolicy, SignatureError
from core.node.renditions import RenditionStore
from core.node.sessions import BusyError, CapacityError, SegmentJob, SessionManager, gateway_of
from core.proto import net

log = logging.getLogger(__name__)

DEFAULT_DURATION_S = 2.0  # SegData.duration 0 means a 2 s segment


class Refusal(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SegmentLimits:
    max_bytes: int
    max_seconds: float
    max_renditions: int = 8
    upload_timeout_min_s: float = 10.0
    upload_timeout_factor: float = 2.0
    max_ladder_pixels: int = MAX_LADDER_PIXELS

    def upload_deadline(self, duration_s: float) -> float:
        """Seconds the body of a segment of `duration_s` may take to arrive (slow or stalled uploads end)."""
        return max(self.upload_timeout_min_s, self.upload_timeout_factor * duration_s)


def _b64(value: bytes | None) -> bytes:
    return base64.b64decode(value or b"", validate=True)


def decode_payment(raw: bytes | None) -> net.Payment:
    try:
        payment = net.Payment()
        payment.ParseFromString(_b64(raw))
        return payment
    except (binascii.Error, ValueError, DecodeError) as exc:
        raise Refusal(402, f"invalid Livepeer-Payment header: {exc or 'not base64 protobuf'}") from None


def decode_seg_data(raw: bytes | None) -> net.SegData:
    if not raw:
        raise Refusal(403, "missing Livepeer-Segment header")
    try:
        seg = net.SegData()
        seg.ParseFromString(_b64(raw))
        return seg
    except (binascii.Error, ValueError, DecodeError) as exc:
        raise Refusal(403, f"invalid Livepeer-Segment header: {exc or 'not base64 protobuf'}") from None


def ladder_of(seg: net.SegData, max_renditions: int = 8, max_pixels: int = MAX_LADDER_PIXELS) -> tuple[VideoProfile, ...]:
    """fullProfiles3, else fullProfiles2, else fullProfiles (as go-livepeer reads them). More than
    `max_renditions`, or renditions adding up to more than `max_pixels` per frame, is refused before
    anything is decoded: each rendition costs an encoder, and an encoder's memory grows with its size."""
    wire = seg.fullProfiles3 or seg.fullProfiles2 or seg.fullProfiles
    if len(wire) > max_renditions:
        raise Refusal(413, f"the segment asks for {len(wire)} renditions; this node makes at most {max_renditions} "
                           "per segment (node.max_renditions): send a shorter ladder")
    if not wire:
        if seg.profiles and seg.profiles != b"invalid":
            raise Refusal(403, "legacy profile ids are not supported; send the ladder in fullProfiles")
        raise Refusal(403, "no profiles requested")
    try:
        ladder = tuple(from_wire(p) for p in wire)
    except ProfileError as exc:
        raise Refusal(403, str(exc)) from None
    if (pixels := ladder_pixels(ladder)) > max_pixels:
        raise Refusal(413, f"the segment's {len(ladder)} renditions add up to {pixels:,} pixels per frame; this node "
                           f"encodes at most {max_pixels:,} per segment (node.max_ladder_pixels): send smaller "
                           "or fewer renditions")
    return ladder


class SegmentEndpoint:
    def __init__(
        self,
        tokens: AuthTokens,
        payments: PaymentPolicy,
        sessions: SessionManager,
        store: RenditionStore,
        info: OrchestratorInfoBuilder,
        limits: SegmentLimits,
        on_refused: Callable[[int], None] = lambda status: None,
    ):
        self.tokens = tokens
        self.payments = payments
        self.sessions = sessions
        self.store = store
        self.info = info
        self.limits = limits
        self.on_refused = on_refused  # (HTTP status) -> None: counted in the node's metrics

    def _credentials(self, seg: net.SegData, payment: net.Payment, gateway: str) -> tuple[str, tuple[VideoProfile, ...]]:
        try:
            self.payments.verify_segment(payment.sender, seg, seg.sig)
        except SignatureError as exc:
            raise Refusal(403, str(exc) or "Segment sig check failed") from None
        lacking = capabilities.missing(seg.capabilities)
        if lacking:
            raise Refusal(403, f"Capabilities incompatible: this node lacks {sorted(lacking)}")
        if not seg.HasField("auth_token"):
            raise Refusal(403, "missing auth token")
        t = seg.auth_token
        try:
            session_id = self.tokens.verify(t.token, t.session_id, t.expiration)
        except AuthError as exc:
            raise Refusal(403, str(exc)) from None
        profiles = ladder_of(seg, self.limits.max_renditions, self.limits.max_ladder_pixels)
        if seg.duration / 1000 > self.limits.max_seconds:
            raise Refusal(
                413, f"segment duration {seg.duration / 1000:.0f} s exceeds this node's {self.limits.max_seconds:.0f} s limit"
            )
        try:
            self.sessions.check_capacity(session_id, gateway)
        except CapacityError as exc:
            raise Refusal(403, str(exc)) from None
        return session_id, profiles

    async def __call__(self, scope, receive, send) -> None:
        if scope["method"] != "POST":
            await drain(receive, self.limits.max_bytes)
            await send_text(send, 405, "method not allowed")
            return
        body_read = False
        try:
            payment = decode_payment(header(scope, b"livepeer-payment"))
            seg = decode_seg_data(header(scope, b"livepeer-segment"))
            session_id, profiles = self._credentials(seg, payment, gateway_of(payment.sender, scope, signed=bool(self.payments.address)))
            try:
                # off the event loop: ticket checks may read the chain and winning tickets are fsynced
                await asyncio.to_thread(self.payments.process_payment, payment, seg.manifestId)
            except PaymentError as exc:
                raise Refusal(400, str(exc)) from None
            if not self.payments.has_sufficient_balance(payment.sender, seg.manifestId):
                raise Refusal(400, "Insufficient balance")
            length = header(scope, b"content-length")
            if length is not None and length.isdigit() and int(length) > self.limits.max_bytes:
                raise Refusal(413, f"segment of {int(length)} bytes exceeds this node's {self.limits.max_bytes} byte limit")
            declared = seg.duration / 1000 if seg.duration > 0 else DEFAULT_DURATION_S
            deadline = self.limits.upload_deadline(declared)
            try:
                async with asyncio.timeout(deadline):
                    data = await read_body(receive, self.limits.max_bytes)
                body_read = True
            except BodyTooLarge:
                raise Refusal(413, f"segment exceeds this node's {self.limits.max_bytes} byte limit") from None
            except TimeoutError:
                body_read = True  # nothing more is read from a client this slow
                raise Refusal(408, f"the segment body did not arrive within {deadline:g} s (declared duration "
                                   f"{declared:.1f} s): upload faster or send shorter segments") from None
            if (header(scope, b"content-type") or b"").startswith(b"application/vnd+livepeer.uri"):
                raise Refusal(400, "segments by URL (object storage) are not supported; post the bytes")
            if keccak(data) != seg.hash:
                raise Refusal(403, "Forbidden")
        except Refusal as r:
            log.info("segment refused %d: %s", r.status, r.message)
            self.on_refused(r.status)
            if not body_read and not (scope.get("http_version") == "2" and h2_early.installed()):
                # HTTP/1.1 has no way to stop a body but closing the connection: read it, bounded.
                # (Over HTTP/2 the answer goes out now and the stream is reset: core/node/h2_early.py.)
                try:  # bounded: a client trickling the rest of a refused body is not waited for
                    async with asyncio.timeout(self.limits.upload_timeout_min_s):
                        await drain(receive, self.limits.max_bytes)
                except TimeoutError:
                    pass
            await send_text(send, r.status, r.message)
            return
        except ClientGone:
            log.info("gateway disconnected during the upload; nothing was queued")
            return

        # Upload done: tell the gateway now (its upload deadline is max(2 s, duration / 2)).
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": True})

        result = await self._transcode(scope, seg, payment, session_id, profiles, data)
        try:
            await send({"type": "http.response.body", "body": result.SerializeToString(), "more_body": False})
        except OSError:
            log.info("gateway left before the result of seq %d was sent", seg.seq)

    async def _transcode(self, scope, seg, payment, session_id, profiles, data) -> net.TranscodeResult:
        sender = bytes(payment.sender)
        gateway = gateway_of(sender, scope, signed=bool(self.payments.address))
        manifest = seg.manifestId.decode("utf-8", "replace")
        duration = seg.duration / 1000 if seg.duration > 0 else DEFAULT_DURATION_S
        job = SegmentJob(
            seq=seg.seq, data=data, profiles=profiles, duration_s=duration,
            result=asyncio.get_running_loop().create_future(),
        )
        result = net.TranscodeResult(seq=seg.seq)
        try:
            self.sessions.submit(session_id, manifest, gateway, job)
            done: TranscodedSegment = await job.result
        except (CapacityError, BusyError) as exc:
            result.error = str(exc)
        except Exception as exc:  # MediaError and friends: the message is for the gateway operator
            result.error = str(exc) or type(exc).__name__
        else:
            base = self.info.offer.service_uri
            hashes = b""
            for i, r in enumerate(done.renditions):
                path = self.store.put(session_id, seg.seq, i, r.data)
                result.data.segments.append(net.TranscodedSegmentData(url=base + path, pixels=r.pixels))
                hashes += keccak(r.data)
            result.data.sig = self.payments.sign(hashes)
            self.payments.debit(sender, seg.manifestId, sum(r.pixels for r in done.renditions))
        finally:
            # job.result holds a failure's exception, whose traceback holds this frame, which holds the job:
            # a cycle that kept the segment's bytes (up to 300 MB) until the cycle collector ran.
            del job
        try:
            info = await asyncio.to_thread(self.info.build, sender, session_id, with_hardware=False)
            result.info.CopyFrom(info)
        except PaymentError as exc:  # no fresh ticket params for this gateway: it asks GetOrchestrator again
            log.info("no refreshed info for %s: %s", gateway, exc)
        return result
