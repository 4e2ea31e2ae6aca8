"""The gateway's AI HTTP API on `-httpAddr` (127.0.0.1:9935): the routes the livepeer-ai SDK 0.10.0 calls
(ai-gateway-wire.md §1-§3, §6), each request sent on to an AI orchestrator, its media re-hosted.

    POST /text-to-image /image-to-image /image-to-video /upscale /audio-to-text /segment-anything-2
         /llm /image-to-text /text-to-speech
    GET  /stream/<requestID>/<name>.<ext>      a re-hosted result (ai_media.py), checked before HLS

Order of work for one request (nothing reaches an orchestrator before step 3):
1. POST only (any other method: 405 with a JSON error and `Allow: POST`); the body at most 51 MiB
   (a declared Content-Length over it: 413 at once, unread).
2. core.ai.requests.parse_request + validate_media (off the event loop): JSON for text-to-image, llm,
   text-to-speech, multipart for the rest; a missing field, a bad value, a wrong content type, a
   corrupt image or audio, an oversized prompt are 400/413/415 here. A client's bad input never
   reaches, suspends or penalises an orchestrator, and the gateway keeps serving.
3. The model: the one asked for, or for model_id "" the one most of the pool serves warm (ai_pool.py);
   every 200 names it in the `X-Livepeer-Model` header (and the orchestrator that served in
   `X-Livepeer-Orchestrator`). A model nobody serves: 503 "no orchestrator
   serves <pipeline> model <id>; served: …" — never another model.
4. Orchestrators offering the model, warm first, then price, then latency (ai_pool.py). Attempts start
   within `-aiProcessingRetryTimeout` (2 s), at most 3 per orchestrator (go-livepeer's numbers); a
   running attempt is never cut. "insufficient capacity" (or another 503) moves on and penalises
   nobody; a network error, a 5xx or an unusable answer suspends that orchestrator (ai_pool.py) and
   moves on; an auth token or payment it refuses is renewed by GetOrchestrator once; a 400/413/415
   from the orchestrator (input our validation let through) goes back to the client with the
   orchestrator's words and suspends nobody (go-livepeer suspends it first: trap 8).
5. The body is re-encoded with the concrete model id (core.ai.requests.encode_request; audio-to-text
   carries go-livepeer's `metadata` {"duration"}), sent by ai_client.py (HTTPS, HTTP/1.1: it says why).
6. The answer is checked against the pipeline's schema (core.ai.responses.parse_result: one that does
   not follow it suspends the O); every media file it names (images, audio, video) is fetched from
   the orchestrator (or decoded from its data: URI) and stored in ai_media.py; the client gets
   `/stream/<requestID>/…` URLs relative to this gateway, as go-livepeer's gateway answers them.
7. llm with `stream: true`: the orchestrator's SSE events are relayed one by one as they arrive (no
   buffering); the relay stops after the first chunk with a finish_reason; `data: [DONE]` is not sent
   (go-livepeer does not either). A client that disconnects closes the orchestrator's stream.

Errors: `application/json` {"detail": {"msg": M}, "error": {"message": M}} (the SDK reads `detail.msg`,
go-livepeer clients `error.message`; trap 1). M names the pipeline and model and the reason; 500 and
503 messages are not masked (go-livepeer masks them: trap 9); 422 is never used (trap 2).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from core import safe_json
from core.ai.ports import (AIError, BadRequest, LLMRequest, ModelUnavailable, Pipeline, RunnerFailed, TooLarge,
                           UnsupportedMedia, model_of)
from core.gateway.ai_client import AIClient, Hop, HopError, HopKind, segment_header, sse_events
from core.gateway.ai_media import AIMediaStore, MediaTooLarge, new_request_id
from core.gateway.ai_pool import AIPool, Candidate, ai_request_capabilities
from core.gateway.discovery import Unreachable, get_orchestrator
from core.node.asgi_io import (BodyStalled, BodyTooLarge, ClientGone, header, read_body_within,
                              watch_disconnect)

log = logging.getLogger(__name__)

ROUTES: dict[str, Pipeline] = {p.route: p for p in Pipeline}
MAX_BODY_BYTES = 51 << 20  # a 50 MB upload (ai-runner's limit) and its form
BODY_IDLE_S = 30.0  # a request body that sends nothing for this long is answered 408 (hypercorn has no read timeout)
BODY_TIMEOUT_S = 600.0  # and one not complete after this (a slow-loris)
MAX_TRIES_PER_O = 3
RETRY_TIMEOUT_S = 2.0
MODEL_HEADER = b"x-livepeer-model"  # the model that served (the one chosen for model_id "")
ORCH_HEADER = b"x-livepeer-orchestrator"  # the orchestrator that served (its service URI)


def error_body(message: str) -> bytes:
    """Both error shapes in one body (core.ai.responses.error_json; ai-gateway-wire.md §0.1)."""
    from core.ai.responses import error_json

    return json.dumps(error_json(message)).encode()


class _ClientError(AIError):
    """The orchestrator refused the input after our validation passed it; `status` is its status."""

    def __init__(self, status: int, message: str, **kw):
        super().__init__(message, **kw)
        self.status = 400 if status == 422 else status


class AIPayer:
    """How a hop asks, is signed and paid: offchain GetOrchestrator from 20 zero bytes, an unsigned
    segment and `Livepeer-Payment: ""`. On chain: ai_client.OnchainAIPayer (tickets for the fee =
    units × the orchestrator's price)."""

    request = staticmethod(AIPool._offchain_request)
    sign = None

    def pay(self, orch, pipeline, model, facts, request, offer) -> tuple[str, object]:
        return "", None

    def settle(self, receipt, error) -> None:
        return None


class AIApi:
    def __init__(self, pool: AIPool, store: AIMediaStore, *, client: AIClient | None = None,
                 retry_timeout_s: float = RETRY_TIMEOUT_S, metrics=None, payer: AIPayer | None = None,
                 max_body_bytes: int = MAX_BODY_BYTES):
        self.pool = pool
        self.store = store
        self.client = client or AIClient()
        self.retry_timeout_s = retry_timeout_s
        self.metrics = metrics
        self.payer = payer or AIPayer()
        self.max_body_bytes = max_body_bytes
        self.body_idle_s, self.body_timeout_s = BODY_IDLE_S, BODY_TIMEOUT_S
        self.hops = 0  # requests sent to orchestrators (every attempt)

    @staticmethod
    def handles(path: str) -> bool:
        return path in ROUTES

    async def aclose(self) -> None:
        await self.client.aclose()

    # ---------------------------------------------------------------- serving results
    async def serve_media(self, rest: str, send, *, head: bool) -> bool:
        """GET /stream/<rest>: True when it was a stored AI result (answered), False to try HLS."""
        media = self.store.get_path(rest)
        if media is None:
            return False
        await _send(send, 200, b"" if head else media.data,
                    [(b"content-type", media.content_type.encode()), (b"access-control-allow-origin", b"*")],
                    length=len(media.data))
        return True

    # ---------------------------------------------------------------- a request
    async def __call__(self, scope, receive, send) -> None:
        pipeline = ROUTES[scope["path"]]
        started = time.monotonic()
        model = ""
        try:
            if scope["method"] != "POST":
                await _error(send, 405, f"{pipeline.value}: method {scope['method']} is not allowed; send the "
                                        "request with POST", [(b"allow", b"POST")])
                return
            declared = header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await _error(send, 413, f"{pipeline.value}: the request is {int(declared):,} bytes; this gateway takes "
                                        f"at most {self.max_body_bytes:,}", [(b"connection", b"close")])
                self._failed(pipeline, "", 413, "")
                return
            try:
                body = await read_body_within(receive, self.max_body_bytes, idle_s=self.body_idle_s,
                                              total_s=self.body_timeout_s)
            except BodyStalled as exc:  # a slow-loris or a lying Content-Length no longer holds the request
                await _error(send, 408, f"{pipeline.value}: {exc}; send it again", [(b"connection", b"close")])
                self._failed(pipeline, "", 408, "")
                return
            except BodyTooLarge:
                await _error(send, 413, f"{pipeline.value}: the request is over {self.max_body_bytes:,} bytes",
                             [(b"connection", b"close")])
                self._failed(pipeline, "", 413, "")
                return
            ctype = (header(scope, b"content-type") or b"").decode("latin-1")
            request, facts = await asyncio.to_thread(_parse, pipeline, ctype, body)
            model = model_of(request)
            model = await asyncio.to_thread(self.pool.resolve_model, pipeline, model)
            if self.metrics is not None:
                self.metrics.ai_requested(pipeline.value, model)
            await self._serve(pipeline, request, facts, model, receive, send, started)
        except ClientGone:
            return
        except AIError as exc:
            message = str(exc)
            if model and model not in message and not isinstance(exc, (BadRequest, TooLarge, UnsupportedMedia)):
                message = f"{message} (model {model})"
            log.info("AI %s model %r: %d %s", pipeline.value, model, exc.status, message)
            self._failed(pipeline, model, exc.status, "")
            await _error(send, exc.status, message)
        except Exception as exc:  # noqa: BLE001 - a fault of ours: a 500 in words, the gateway keeps serving
            log.exception("AI %s model %r failed", pipeline.value, model)
            self._failed(pipeline, model, 500, "")
            try:
                await _error(send, 500, f"{pipeline.value}{' model ' + model if model else ''}: the gateway failed "
                                        f"({type(exc).__name__}: {exc})")
            except Exception:  # noqa: BLE001 - the answer had already started (a stream): nothing more to say
                pass

    def _failed(self, pipeline: Pipeline, model: str, status: int, orchestrator: str) -> None:
        if self.metrics is not None:
            self.metrics.ai_failed(pipeline.value, model, str(status), orchestrator)

    async def _serve(self, pipeline: Pipeline, request, facts, model: str, receive, send, started: float) -> None:
        from core.ai.requests import encode_request

        extra = {"duration": _seconds(facts.audio_s)} if facts.audio_s is not None else None
        ctype, body = await asyncio.to_thread(encode_request, pipeline, request, model_id=model, extra_fields=extra)
        streaming = isinstance(request, LLMRequest) and request.stream
        request_id = new_request_id()

        async def attempt(c: Candidate) -> None:
            hop, receipt = await self._hop(c, pipeline, model, ctype, body, facts, request)
            try:
                if streaming:
                    await self._stream(hop, c, pipeline, model, receive, send, started)
                    self.payer.settle(receipt, None)
                    return
                payload = await self.client.post_json(hop)
            except HopError as exc:
                self.payer.settle(receipt, exc)
                raise
            self.payer.settle(receipt, None)
            try:
                payload = await self._rehost(payload, c, pipeline, request_id)
            except BaseException:
                self.store.drop_request(request_id)
                raise
            out = json.dumps(payload).encode()
            await _send(send, 200, out, [(b"content-type", b"application/json"), (MODEL_HEADER, model.encode()),
                                         (ORCH_HEADER, c.orch.transcoder.encode())])
            self._done(pipeline, model, c, started)
            return None

        await self._with_retries(pipeline, model, attempt)

    def _done(self, pipeline: Pipeline, model: str, c: Candidate, started: float) -> None:
        if self.metrics is not None:
            self.metrics.ai_done(pipeline.value, model, time.monotonic() - started, c.orch.transcoder,
                                 float(c.offer.price) if c.offer.price is not None else 0.0)

    async def _hop(self, c: Candidate, pipeline: Pipeline, model: str, ctype: str, body: bytes, facts,
                   request) -> tuple[Hop, object]:
        try:
            payment, receipt = await asyncio.to_thread(self.payer.pay, c.orch, pipeline, model, facts, request, c.offer)
        except ValueError as exc:  # a payment we cannot make (no deposit, its parameters): the O is not to blame
            raise HopError(HopKind.UNAVAILABLE, f"no payment could be made: {exc}") from None
        seg = segment_header(c.orch.info, pipeline, model, self.payer.sign)
        self.hops += 1
        hop = Hop(url=c.orch.transcoder + pipeline.route, content_type=ctype, body=body, segment=seg, payment=payment)
        return hop, receipt

    async def _with_retries(self, pipeline: Pipeline, model: str, attempt) -> None:
        """Try orchestrators until one serves (see the module docstring, step 4)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_timeout_s
        tries: dict[str, int] = {}
        out_of_it: set[str] = set()  # faulted or refused us in this request: not tried again
        renewed: set[str] = set()
        errors: dict[str, str] = {}
        passes = 0
        while True:
            candidates = await asyncio.to_thread(self.pool.candidates, pipeline, model)
            usable = [c for c in candidates if c.orch.uri not in out_of_it and tries.get(c.orch.uri, 0) < MAX_TRIES_PER_O]
            if not usable or (passes and loop.time() >= deadline):
                break
            passes += 1
            for c in usable:
                if tries and loop.time() >= deadline:
                    break
                uri = c.orch.uri
                tries[uri] = tries.get(uri, 0) + 1
                try:
                    await attempt(c)
                    self.pool.unsuspend(c.orch)
                    return
                except HopError as exc:
                    errors[c.orch.transcoder] = str(exc)
                    log.info("AI %s model %s on %s (try %d): %s: %s", pipeline.value, model, c.orch.transcoder,
                             tries[uri], exc.kind.value, exc)
                    self._failed(pipeline, model, exc.status or 0, c.orch.transcoder)
                    if exc.kind is HopKind.CLIENT:
                        raise _ClientError(exc.status, f"{pipeline.value} model {model}: the orchestrator "
                                                       f"{c.orch.transcoder} refused the input: {exc}",
                                           pipeline=pipeline.value, model_id=model) from None
                    if exc.kind is HopKind.CAPACITY:
                        continue
                    if exc.kind is HopKind.UNAVAILABLE:
                        out_of_it.add(uri)
                    elif exc.kind is HopKind.CREDENTIALS and uri not in renewed:
                        renewed.add(uri)
                        await self._renew(c, pipeline, model, out_of_it)
                    else:
                        out_of_it.add(uri)
                        self.pool.suspend(c.orch, str(exc))
            if loop.time() < deadline:  # those left were busy (or renewed): a moment before the next pass
                await asyncio.sleep(min(0.1 * passes, max(0.0, deadline - loop.time())))
        said = "; ".join(f"{o}: {e}" for o, e in errors.items())
        if errors and all("insufficient capacity" in e.lower() for e in errors.values()):
            raise ModelUnavailable(f"{pipeline.value} model {model}: every orchestrator serving it is busy "
                                   f"(insufficient capacity) after {self.retry_timeout_s:g} s: {said}",
                                   pipeline=pipeline.value, model_id=model)
        raise ModelUnavailable(f"{pipeline.value} model {model}: no orchestrator could serve the request within "
                               f"{self.retry_timeout_s:g} s" + (f": {said}" if said else ""),
                               pipeline=pipeline.value, model_id=model)

    async def _renew(self, c: Candidate, pipeline: Pipeline, model: str, out_of_it: set[str]) -> None:
        """A fresh OrchestratorInfo (auth token, ticket params) for an orchestrator that refused ours."""
        request = self.payer.request(ai_request_capabilities(pipeline, model))
        try:
            info = await asyncio.to_thread(get_orchestrator, c.orch.uri, request)
        except Unreachable as exc:
            out_of_it.add(c.orch.uri)
            self.pool.suspend(c.orch, f"could not renew its auth token: {exc}")
            return
        self.pool.update(c.orch, info, (pipeline, model))

    async def _rehost(self, payload: dict, c: Candidate, pipeline: Pipeline, request_id: str) -> dict:
        """The SDK's body for the orchestrator's answer: checked against the pipeline's schema
        (core.ai.responses.parse_result; an answer that does not follow it is the O's fault), every
        media file fetched from the orchestrator (or decoded from its data: URI) and stored here under
        `/stream/<request_id>/…`."""
        from core.ai.responses import parse_result, to_json

        try:
            remote = parse_result(pipeline, payload)
        except AIError as exc:
            raise HopError(HopKind.FAULT, str(exc)) from None
        fetched = await asyncio.gather(*(self.client.fetch(m.url, c.orch.transcoder) for m in remote.media))
        try:
            result = remote.materialize(list(fetched))
        except ValueError as exc:
            raise HopError(HopKind.FAULT, f"its answer's media do not fit the {pipeline.value} schema ({exc})") from None

        def url_of(media) -> str:
            try:
                return self.store.put(request_id, media.data, media.extension)
            except MediaTooLarge as exc:
                raise RunnerFailed(f"{pipeline.value}: {exc}", pipeline=pipeline.value) from None

        return to_json(result, url_of)

    async def _stream(self, hop: Hop, c: Candidate, pipeline: Pipeline, model: str, receive, send,
                      started: float) -> None:
        """Relay an llm SSE answer (module docstring, step 7). Errors before the orchestrator's 200 are
        HopErrors (the next orchestrator is tried); after it, the stream just ends."""
        async with self.client.open(hop) as response:
            kind = response.headers.get("content-type", "")
            if "text/event-stream" not in kind:
                raise HopError(HopKind.FAULT, f"answered a streaming llm request with {kind or 'no content type'}")
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
                                    (MODEL_HEADER, model.encode()), (ORCH_HEADER, c.orch.transcoder.encode())]})
            gone = asyncio.Event()

            async def pump() -> None:
                try:
                    async for data in sse_events(response):
                        await send({"type": "http.response.body", "body": b"data: " + data + b"\n\n",
                                    "more_body": True})
                        if _finished(data):
                            break
                except HopError as exc:
                    log.info("AI llm stream from %s ended early: %s", c.orch.transcoder, exc)
                except Exception as exc:  # noqa: BLE001 - httpx errors mid-stream: end the stream in words
                    log.info("AI llm stream from %s ended early: %s: %s", c.orch.transcoder, type(exc).__name__, exc)
                    msg = f"llm model {model}: the orchestrator's stream broke off ({type(exc).__name__})"
                    await send({"type": "http.response.body", "body": b"data: " + error_body(msg) + b"\n\n",
                                "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})

            watcher = asyncio.create_task(watch_disconnect(receive, gone))
            relay = asyncio.create_task(pump())
            try:
                await asyncio.wait({watcher, relay}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (relay, watcher):
                    if not task.done():
                        task.cancel()
                await asyncio.gather(relay, watcher, return_exceptions=True)
            if gone.is_set():
                log.info("AI llm stream: the client left; closing the stream from %s", c.orch.transcoder)
        self._done(pipeline, model, c, started)


def _parse(pipeline: Pipeline, content_type: str, body: bytes):
    from core.ai.requests import parse_request, validate_media

    request = parse_request(pipeline, content_type, body)
    return request, validate_media(pipeline, request)


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _finished(data: bytes) -> bool:
    try:
        chunk = safe_json.loads(data)
    except ValueError:
        return False
    for choice in chunk.get("choices") or () if isinstance(chunk, dict) else ():
        if isinstance(choice, dict) and choice.get("finish_reason"):
            return True
    return False


async def _send(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], *, length: int | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body) if length is None else length).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _error(send, status: int, message: str, extra: list[tuple[bytes, bytes]] = ()) -> None:
    await _send(send, status, error_body(message), [(b"content-type", b"application/json"), *extra])
