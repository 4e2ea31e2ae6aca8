"""The orchestrator's AI routes (/text-to-image … /text-to-speech on the service port), as go-livepeer's
server/ai_http.go answers a gateway (ai-gateway-wire.md §4-§5).

Order of work, each step with go-livepeer's status code:
    Livepeer-Payment decodes (base64 net.Payment)                          else 402
    Livepeer-Segment decodes, its signature (on chain) and auth token verify else 403
    the body is read (bounded) and parsed + validated (core.ai.requests),
      the model resolved, the upload probed, the units computed             400 / 413 / 415, 503 no model
    a free slot for the model (CheckAICapacity)                            else 503 "insufficient capacity"
    the payment processed under manifest <capId>_<modelId>                 else 400 (the reason)
    the sender's balance                                                   else 400 "Insufficient balance"
    the job (asyncio.to_thread(worker.run))                                 the AIError's status, 500 on a fault
    the fee debited: units at the session's price
    200 JSON; the files kept in the result store (core/node/ai_results.py) and named by absolute
      https://<serviceAddr>/stream/<requestID>/<n><ext> URLs — or, for text-to-image, image-to-image and
      upscale, as data: URIs when the request lacks `Authorization: Livepeer-AI-Worker-1.0` (older gateways)
A client's bad input is answered before a slot or a payment is touched, so it costs nobody anything.
Errors are plain text as go's http.Error (text/plain, trailing newline), with go-livepeer's status codes,
but the message names the pipeline and model and says why (go-livepeer's are often bare).
llm with "stream": true answers text/event-stream: one `data: <chunk JSON>` event per piece as the model
makes it, the last with finish_reason; a client that goes away closes the iterator, which frees the slot.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from core.ai import requests, responses, units
from core.ai.ports import AIError, InsufficientCapacity, LLMRequest, Media, ModelUnavailable, Pipeline, model_of
from core.node.ai_results import AIResultStore
from core.node.asgi_io import (BodyStalled, BodyTooLarge, ClientGone, drain, header, read_body_within, send_bytes,
                              send_text, watch_disconnect)
from core.node.auth import AuthError, AuthTokens
from core.node.orchestrator_rpc import OrchestratorInfoBuilder
from core.node.payments import PaymentError, PaymentPolicy, SignatureError
from core.node.segment_http import Refusal, decode_payment, decode_seg_data

log = logging.getLogger(__name__)

AI_WORKER_AUTH = b"Livepeer-AI-Worker-1.0"  # go-livepeer's gateways send it; without it: data URIs
DATA_URI_PIPELINES = frozenset({Pipeline.TEXT_TO_IMAGE, Pipeline.IMAGE_TO_IMAGE, Pipeline.UPSCALE})
ROUTES: dict[str, Pipeline] = {p.route: p for p in Pipeline}
STALL_S = 30  # an SSE client that reads nothing for this long is dropped (its slot freed)
BODY_IDLE_S = 30.0  # a request body that sends nothing for this long is answered 408
BODY_TIMEOUT_S = 600.0  # and one not complete after this (50 MB at 0.7 Mbit/s): a slow-loris is answered 408


def manifest_of(pipeline: Pipeline, model_id: str) -> bytes:
    """go-livepeer's AI payment session: one per sender and `<capId>_<modelId>` (its price fixed at the
    first payment for the life of the process)."""
    return f"{pipeline.capability}_{model_id}".encode()


class AIEndpoint:
    """ASGI handler of the AI routes. `worker` is the node's AIWorkerPort; `on_request(pipeline, model,
    status, seconds)` feeds the node's metrics."""

    def __init__(self, worker, tokens: AuthTokens, payments: PaymentPolicy, results: AIResultStore,
                 info: OrchestratorInfoBuilder,
                 on_request: Callable[[str, str, int, float], None] = lambda *a: None):
        self.worker = worker
        self.tokens = tokens
        self.payments = payments
        self.results = results
        self.info = info
        self.on_request = on_request
        self.body_idle_s, self.body_timeout_s = BODY_IDLE_S, BODY_TIMEOUT_S

    # ---------------------------------------------------------------- credentials (402, 403)
    def _credentials(self, scope):
        payment = decode_payment(header(scope, b"livepeer-payment"))
        seg = decode_seg_data(header(scope, b"livepeer-segment"))
        try:
            if self.payments.address:  # on chain the dummy segment is signed by the payment's sender
                self.payments.verify_segment(payment.sender, seg, seg.sig)
        except SignatureError as exc:
            raise Refusal(403, str(exc) or "Segment sig check failed") from None
        if not seg.HasField("auth_token"):
            raise Refusal(403, "missing auth token: call GetOrchestrator and send its auth_token in Livepeer-Segment")
        t = seg.auth_token
        try:
            self.tokens.verify(t.token, t.session_id, t.expiration)
        except AuthError as exc:
            raise Refusal(403, f"{exc}: call GetOrchestrator again for a fresh one") from None
        return payment, seg

    def _loading(self, pipeline: Pipeline, model_id: str) -> bool:
        """A warm model still loading after the node started: refused (503) rather than held, as a
        go-livepeer orchestrator has no capacity for a container that is still starting."""
        return any(m.pipeline == pipeline.value and m.model_id == model_id and m.state == "loading"
                   for m in self.worker.models())

    def _free_slot(self, pipeline: Pipeline, model_id: str) -> bool:
        """CheckAICapacity: a slot of the model is free now (the worker still refuses at once if a racing
        request took it meanwhile)."""
        for spec, _warm, capacity, in_use in self.worker.advertised():
            if spec.pipeline is pipeline and spec.model_id == model_id:
                return in_use < capacity
        return False

    # ---------------------------------------------------------------- the route
    async def __call__(self, scope, receive, send) -> None:
        pipeline = ROUTES[scope["path"]]
        started = time.monotonic()
        model_id = ""
        body_read = False
        try:
            if scope["method"] != "POST":
                raise Refusal(405, f"{pipeline.value}: method {scope['method']} not allowed; POST the request")
            payment, _seg = self._credentials(scope)
            length = header(scope, b"content-length")
            if length is not None and length.isdigit() and int(length) > requests.MAX_BODY_BYTES:
                raise Refusal(413, f"{pipeline.value}: a request of {int(length)} bytes is over this node's "
                                   f"{requests.MAX_BODY_BYTES} byte limit")
            try:
                body = await self._read_body(receive)
            except BodyStalled as exc:
                body_read = True  # nothing more will come in time: answer, and let the server close
                raise Refusal(408, f"{pipeline.value}: {exc}; send it again") from None
            except BodyTooLarge:
                raise Refusal(413, f"{pipeline.value}: the request is over this node's {requests.MAX_BODY_BYTES} "
                                   "byte limit") from None
            body_read = True
            content_type = (header(scope, b"content-type") or b"").decode("latin-1")
            # parse, resolve and probe off the event loop: a form of 50 MB, an audio file FFmpeg must read
            request, model_id, facts = await asyncio.to_thread(self._prepare, pipeline, content_type, body)
            del body
            n_units = units.units(pipeline, request, facts)
            if self._loading(pipeline, model_id):
                raise ModelUnavailable(f"{pipeline.value} {model_id} is loading; try again in a few seconds",
                                       pipeline=pipeline.value, model_id=model_id)
            if not self._free_slot(pipeline, model_id):
                raise InsufficientCapacity(pipeline=pipeline.value, model_id=model_id)
            manifest = manifest_of(pipeline, model_id)
            try:
                await asyncio.to_thread(self.payments.process_payment, payment, manifest)
            except PaymentError as exc:
                raise Refusal(400, f"{pipeline.value} {model_id}: payment refused: {exc}") from None
            sender = bytes(payment.sender)
            if not self.payments.has_sufficient_balance(sender, manifest):
                raise Refusal(400, "Insufficient balance")
            if isinstance(request, LLMRequest) and request.stream:
                await self._stream(scope, receive, send, pipeline, model_id, request, sender, manifest, n_units,
                                   started)
                return
            result = await asyncio.to_thread(self.worker.run, pipeline, _with_model(request, model_id))
            self.payments.debit(sender, manifest, n_units)
            payload = self._payload(scope, pipeline, result)
        except Refusal as r:
            await self._refuse(scope, receive, send, pipeline, model_id, r.status, r.message, body_read, started)
            return
        except AIError as exc:
            model_id = model_id or exc.model_id
            await self._refuse(scope, receive, send, pipeline, model_id, exc.status, _message(exc, pipeline, model_id),
                               body_read, started)
            return
        except ClientGone:
            log.info("%s: the gateway left before its request arrived", pipeline.value)
            return
        except Exception as exc:  # a fault of ours: said, logged, and the node serves on
            log.exception("%s %s failed", pipeline.value, model_id)
            await self._refuse(scope, receive, send, pipeline, model_id, 500,
                               f"{pipeline.value} {model_id}: internal error: {type(exc).__name__}: {exc}",
                               body_read, started)
            return
        await send_bytes(send, 200, json.dumps(payload).encode(), b"application/json")
        self.on_request(pipeline.value, model_id, 200, time.monotonic() - started)

    async def _read_body(self, receive) -> bytes:
        """The body within body_idle_s of silence and body_timeout_s in all (hypercorn has no read timeout)."""
        return await read_body_within(receive, requests.MAX_BODY_BYTES, idle_s=self.body_idle_s,
                                      total_s=self.body_timeout_s)

    def _prepare(self, pipeline: Pipeline, content_type: str, body: bytes):
        request = requests.parse_request(pipeline, content_type, body)
        model_id = self.worker.resolve(pipeline, model_of(request))
        facts, request = requests.prepare_media(pipeline, request)
        return request, model_id, facts

    def _payload(self, scope, pipeline: Pipeline, result) -> dict:
        request_id = self.results.new_request_id()
        as_data = pipeline in DATA_URI_PIPELINES and header(scope, b"authorization") != AI_WORKER_AUTH
        base = self.info.offer.service_uri
        counter = iter(range(1 << 30))

        def url_of(media: Media) -> str:
            if as_data:
                return responses.data_uri(media)
            return base + self.results.put(request_id, next(counter), media.data, media.content_type, media.extension)

        return responses.to_json(result, url_of)

    async def _stream(self, scope, receive, send, pipeline, model_id, request, sender, manifest, n_units, started):
        """SSE: the first chunk is awaited before the 200 goes out, so a refusal (capacity, a prompt over the
        context) still gets its status; then one event per chunk until finish_reason or the client leaves."""
        it = await asyncio.to_thread(self.worker.stream, _with_model(request, model_id))
        gone = asyncio.Event()

        try:
            first = await asyncio.to_thread(next, it, None)
        except BaseException:
            await asyncio.to_thread(it.close)
            raise
        self.payments.debit(sender, manifest, n_units)  # llm is billed by max_tokens, not by what it made
        watcher = asyncio.create_task(watch_disconnect(receive, gone))
        status = 200
        try:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
            chunk = first
            while chunk is not None and not gone.is_set():
                try:  # a client that keeps the stream open but stops reading would hold the slot for ever
                    async with asyncio.timeout(STALL_S):
                        await send({"type": "http.response.body",
                                    "body": responses.sse_event(responses.chunk_json(chunk)), "more_body": True})
                except TimeoutError:
                    log.info("%s %s: the client stopped reading for %d s; generation stopped", pipeline.value,
                             model_id, STALL_S)
                    gone.set()
                    break
                if chunk.finish_reason:
                    break
                chunk = await asyncio.to_thread(next, it, None)
            if not gone.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                log.info("%s %s: the client left mid-stream; generation stopped", pipeline.value, model_id)
        except AIError as exc:  # the model failed mid-stream: the 200 is out, so the stream just ends
            status = exc.status
            log.warning("%s %s: stream ended by %s", pipeline.value, model_id, exc)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            await asyncio.to_thread(it.close)  # frees the slot
        self.on_request(pipeline.value, model_id, status, time.monotonic() - started)

    async def _refuse(self, scope, receive, send, pipeline, model_id, status, message, body_read, started) -> None:
        log.info("%s refused %d: %s", pipeline.value, status, message)
        if not body_read:
            from core.node import h2_early

            if not (scope.get("http_version") == "2" and h2_early.installed()):
                try:  # HTTP/1.1: the rest of the body must be read before the connection can be reused
                    async with asyncio.timeout(10):
                        await drain(receive, 64 * 1024 * 1024)
                except TimeoutError:
                    pass
        await send_text(send, status, message)
        self.on_request(pipeline.value, model_id, status, time.monotonic() - started)


def _with_model(request, model_id: str):
    """The request naming the model that serves it ("" resolved), so the runner's model check agrees."""
    from dataclasses import replace

    if isinstance(request, LLMRequest):
        return replace(request, model=model_id)
    return replace(request, model_id=model_id)


def _message(exc: AIError, pipeline: Pipeline, model_id: str) -> str:
    """The error's own words, prefixed with the pipeline and model when it does not name them."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, InsufficientCapacity):
        return f"insufficient capacity: every slot of {pipeline.value} {model_id or exc.model_id} is busy; try again"
    if pipeline.value not in text:
        text = f"{pipeline.value} {model_id}: {text}".replace("  ", " ")
    return text
