"""The gateway's hop to one AI orchestrator: `POST https://<O>/<pipeline>` as go-livepeer's gateway sends
it (ai-gateway-wire.md §4), the orchestrator's answer sorted into what the gateway does next, and the
download of the media an answer points at.

Request: HTTP/1.1 keep-alive connections (one per request in flight), the TLS certificate not
verified (as go-livepeer); headers
- `Livepeer-Segment`: base64 net.SegData carrying the auth token from the orchestrator's
  GetOrchestrator answer (manifestId `<capability>_<model>`, the O's payment manifest; on chain the
  payer signs it),
- `Livepeer-Payment`: base64 net.Payment ("" offchain),
- `Authorization: Livepeer-AI-Worker-1.0` (so the O answers result URLs rather than data URIs),
- `Content-Type` of the re-encoded body (JSON or multipart, with the concrete model id).
No deadline on the job itself beyond `job_timeout_s` (go-livepeer has none; a diffusion job may take
minutes); connecting has 5 s.

Why HTTP/1.1 and not HTTP/2 (which go-livepeer's gateway negotiates): measured on loopback against an
lpc orchestrator (hypercorn), HTTP/2's 64 KiB flow-control windows made a 120 KB result download take
34-51 ms instead of 3-13 ms and a 2 MiB upload 134-146 ms instead of 58-64 ms; and closing an
unfinished HTTP/1.1 response closes its connection, so an orchestrator always sees a client that left
an llm stream (httpx does not reset an HTTP/2 stream it stops reading). `AIClient(http2=True)` is
still there.

Answers (orchestrator errors are plain text, `http.Error`):
- 200 JSON -> the payload; 200 `text/event-stream` (llm stream) -> relayed by the caller;
- 503 with "insufficient capacity" -> HopError kind CAPACITY: the next orchestrator, nobody penalised;
- 503 otherwise (the O has the model but cannot serve it now: loading, no weights) -> UNAVAILABLE:
  the next orchestrator, not suspended;
- 400, 413, 415, 422 -> CLIENT: the client's input is wrong after all; the status goes back to the
  client with the O's words and the O is not suspended (go-livepeer suspends it first: trap 8);
- 401, 402, 403, and a 400 about the payment ("Insufficient balance", tickets) -> CREDENTIALS: the
  auth token or payment was refused; the caller asks the O for a fresh OrchestratorInfo (auth token,
  ticket parameters) and tries it once more, then suspends it;
- other statuses, a body that is not JSON, and network errors -> FAULT: the O is suspended.

Media: each URL is fetched only from the orchestrator's own host (an O cannot make the gateway fetch
another address) or decoded from a data: URI; at most `max_media_bytes` each.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

import httpx

from core import safe_json
from core.ai.ports import CAPABILITY_ID, Pipeline
from core.proto import net

AI_WORKER_AUTH = "Livepeer-AI-Worker-1.0"
CONNECT_TIMEOUT_S = 5.0
JOB_TIMEOUT_S = 600.0
MAX_ANSWER_BYTES = 64 << 20  # a JSON answer is URLs and text; data: URIs of big images fit
MAX_MEDIA_BYTES = 200 << 20


class HopKind(Enum):
    CAPACITY = "insufficient capacity"
    UNAVAILABLE = "unavailable"
    CLIENT = "bad request"
    CREDENTIALS = "credentials refused"
    FAULT = "fault"


class HopError(Exception):
    """One orchestrator did not serve the request; `kind` says what the gateway does next, `status` is
    the O's HTTP status (0 for a network error), the message quotes the O in words."""

    def __init__(self, kind: HopKind, message: str, status: int = 0):
        super().__init__(message)
        self.kind = kind
        self.status = status


_PAYMENT_WORDS = ("insufficient balance", "payment", "ticket")


def classify(status: int, text: str) -> HopKind:
    low = text.lower()
    if status == 503 and "insufficient capacity" in low:
        return HopKind.CAPACITY
    if status == 400 and any(w in low for w in _PAYMENT_WORDS):  # the O's payment checks answer 400 too
        return HopKind.CREDENTIALS
    if status == 503:
        return HopKind.UNAVAILABLE
    if status in (400, 413, 415, 422):
        return HopKind.CLIENT
    if status in (401, 402, 403):
        return HopKind.CREDENTIALS
    return HopKind.FAULT


def segment_header(info: net.OrchestratorInfo, pipeline: Pipeline, model_id: str, sign=None) -> str:
    """The base64 SegData of an AI request: the O's auth token; on chain `sign(seg)` adds the signature."""
    seg = net.SegData(manifestId=f"{CAPABILITY_ID[pipeline]}_{model_id}".encode())
    seg.auth_token.CopyFrom(info.auth_token)
    if sign is not None:
        sign(seg)
    return base64.b64encode(seg.SerializeToString()).decode()


@dataclass(frozen=True)
class Hop:
    """What one request to one orchestrator carries."""

    url: str  # https://host:port/<pipeline>
    content_type: str
    body: bytes
    segment: str  # Livepeer-Segment
    payment: str  # Livepeer-Payment ("" offchain)

    def headers(self) -> dict[str, str]:
        return {"Livepeer-Segment": self.segment, "Livepeer-Payment": self.payment,
                "Authorization": AI_WORKER_AUTH, "Content-Type": self.content_type}


def _same_host(url: str, transcoder: str) -> bool:
    a, b = urlsplit(url), urlsplit(transcoder)
    return a.scheme in ("http", "https") and (a.hostname or "").lower() == (b.hostname or "").lower()


class AIClient:
    """Connections to orchestrators, shared by every request (kept alive per origin). Used on the
    gateway's event loop only."""

    def __init__(self, *, job_timeout_s: float = JOB_TIMEOUT_S, max_media_bytes: int = MAX_MEDIA_BYTES,
                 http2: bool = False):
        self.job_timeout_s = job_timeout_s
        self.max_media_bytes = max_media_bytes
        self.http2 = http2
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                http2=self.http2, verify=False, follow_redirects=False, trust_env=False,
                timeout=httpx.Timeout(self.job_timeout_s, connect=CONNECT_TIMEOUT_S),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @asynccontextmanager
    async def open(self, hop: Hop) -> AsyncIterator[httpx.Response]:
        """The O's 200 response, its body not yet read (JSON or an SSE stream); HopError otherwise."""
        try:
            request = self._http().build_request("POST", hop.url, content=hop.body, headers=hop.headers())
            response = await self._http().send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise HopError(HopKind.FAULT, f"no answer in time ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise HopError(HopKind.FAULT, f"could not reach it ({type(exc).__name__}: {exc or 'no detail'})") from None
        try:
            if response.status_code != 200:
                try:
                    raw = await _read(response, 4096)
                except HopError:
                    raw = b""
                text = raw.decode("utf-8", "replace").strip() or "no message"
                raise HopError(classify(response.status_code, text), text, response.status_code)
            yield response
        finally:
            await response.aclose()

    async def post_json(self, hop: Hop) -> dict:
        """The O's JSON answer (a 200); HopError otherwise."""
        async with self.open(hop) as response:
            body = await _read(response, MAX_ANSWER_BYTES)
            try:
                payload = safe_json.loads(body)
            except ValueError:
                raise HopError(HopKind.FAULT, f"answered 200 with {len(body)} bytes that are not JSON "
                                              f"({response.headers.get('content-type', 'no content type')})") from None
            if not isinstance(payload, dict):
                raise HopError(HopKind.FAULT, "answered 200 with JSON that is not an object")
            return payload

    async def fetch(self, url: str, transcoder: str) -> tuple[bytes, str]:
        """(bytes, content type) of one result the O points at; HopError(FAULT) with what went wrong."""
        from core.ai.responses import decode_data_uri

        if url.startswith("data:"):
            try:
                data, ctype = decode_data_uri(url)
            except ValueError as exc:
                raise HopError(HopKind.FAULT, f"a result data: URI does not decode ({exc})") from None
            if len(data) > self.max_media_bytes:
                raise HopError(HopKind.FAULT, f"a result of {len(data):,} bytes is over {self.max_media_bytes:,}")
            return data, ctype
        if not _same_host(url, transcoder):
            raise HopError(HopKind.FAULT, f"a result URL {url[:120]!r} is not on the orchestrator's own host; "
                                          "the gateway fetches results only from there")
        try:
            async with self._http().stream("GET", url) as response:
                if response.status_code != 200:
                    raise HopError(HopKind.FAULT, f"HTTP {response.status_code} fetching the result {url}")
                data = await _read(response, self.max_media_bytes)
                ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
        except httpx.HTTPError as exc:
            raise HopError(HopKind.FAULT, f"could not fetch the result {url} ({type(exc).__name__})") from None
        if not data:
            raise HopError(HopKind.FAULT, f"the result {url} is empty")
        return data, ctype


async def _read(response: httpx.Response, limit: int) -> bytes:
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise HopError(HopKind.FAULT, f"its answer is over {limit:,} bytes")
    except httpx.HTTPError as exc:
        raise HopError(HopKind.FAULT, f"its answer did not arrive ({type(exc).__name__})") from None
    return bytes(body)


async def sse_events(response: httpx.Response) -> AsyncIterator[bytes]:
    """The `data:` payloads of an SSE answer, as the O sends them, one at a time (no buffering beyond a
    line). `[DONE]` ends the stream."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "" and data:
            payload = "\n".join(data)
            data = []
            if payload.strip() == "[DONE]":
                return
            yield payload.encode()
    if data and "\n".join(data).strip() != "[DONE]":
        yield "\n".join(data).encode()


@dataclass
class Receipt:
    """What one on-chain hop paid: the payment session, the credit its tickets added, the fee."""

    session: object  # core.payments.sender.PaymentSession
    added: object  # Fraction, wei
    fee: object  # Fraction, wei


class OnchainAIPayer:
    """AI payments on chain, with the video broadcaster's ticket making (core/gateway/onchain.py's
    OnchainPayer: its TicketSender, its chain port). One payment session per orchestrator and
    `<capability>_<model>` (the O keeps one balance per sender and that manifest, ai-gateway-wire.md
    §10): before each hop, tickets so that the credit covers the fee = units (core/ai/units.py) × the
    O's price for the model. When the O answers 200 the credit is debited by the fee; when it refused
    before taking the payment (its order of work: credentials, input, capacity, then payment) or the
    connection failed, the tickets' credit is taken back out (a lost connection may have delivered
    them: then the next hop pays a little more, never too little). A job that failed after the payment
    keeps the credit: the O debits only a job it did."""

    def __init__(self, payer) -> None:
        import threading

        self._payer = payer  # core.gateway.onchain.OnchainPayer
        self._sessions: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def request(self, caps: net.Capabilities) -> net.OrchestratorRequest:
        req = self._payer.request(caps)
        req.ignoreCapacityCheck = True
        return req

    def sign(self, seg: net.SegData) -> None:
        self._payer.sign(seg)

    def pay(self, orch, pipeline: Pipeline, model: str, facts, request, offer) -> tuple[str, Receipt]:
        """(Livepeer-Payment, its Receipt for `settle`). ValueError in words when no payment can be made
        (no deposit, the O's ticket parameters over our limits, no price)."""
        from fractions import Fraction

        from core.ai import units as ai_units
        from core.payments.sender import PaymentSession, SenderError, SenderFundsView

        info = orch.info
        if not info.HasField("ticket_params") or not info.ticket_params.recipient:
            raise ValueError(f"{orch.transcoder} answered without ticket parameters (is it on this chain?)")
        price = offer.price
        if price is None:
            p = info.price_info
            price = Fraction(p.pricePerUnit, p.pixelsPerUnit) if p.pixelsPerUnit else None
        if price is None:
            raise ValueError(f"{orch.transcoder} gave no price for {pipeline.value} model {model}")
        fee = ai_units.units(pipeline, request, facts) * price
        funds = self._payer.chain.sender_funds()
        view = SenderFundsView(int(funds.deposit), int(funds.reserve), int(funds.withdraw_round))
        rnd, l1 = self._payer.chain.clock()
        sender = self._payer.sender
        with self._lock:
            key = (orch.uri, f"{CAPABILITY_ID[pipeline]}_{model}")
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = PaymentSession(info)
            session.info = info
            try:
                ev = sender.check_params(info.ticket_params, view, l1, rnd)
                count = sender.tickets_for(session, fee, ev)
            except SenderError as exc:
                raise ValueError(str(exc)) from None
            before = session.credit
            payment = sender.payment(session, count)  # expected_price: the O's price_info for this model
            receipt = Receipt(session, session.credit - before, fee)
        return base64.b64encode(payment.SerializeToString()).decode(), receipt

    def settle(self, receipt: Receipt, error: HopError | None) -> None:
        with self._lock:
            if error is None:
                receipt.session.credit -= receipt.fee
            elif not (error.kind is HopKind.FAULT and error.status >= 500):
                receipt.session.credit -= receipt.added
