"""A model served by an external ai-runner container (aiModels.json `url` + `token`), over its HTTP API.

    runner = ExternalRunner(spec)          # spec.url = "http://127.0.0.1:8000", spec.token = the runner's AUTH_TOKEN
    runner.available()                     # GET /health: None when it answers OK/IDLE, else why not
    runner.run(request)                    # POST /<pipeline> in the SDK's encoding; data: URIs decoded into Media
    runner.stream(llm_request)             # POST /llm with stream=true; the SSE events as LLMChunks

What an ai-runner offers (go-livepeer.md §7a, ai-gateway-wire.md §3): FastAPI on port 8000, `GET /health`
with {"status": "OK" | "IDLE" | "LOADING" | "ERROR"}, and one pipeline route taking the same bodies as the
livepeer-ai SDK (core.ai.requests.encode_request builds them) and answering the SDK's schemas with the
media inline as data: URIs (core.ai.responses.parse_result reads them). Errors are {"detail": {"msg"}}
with the status kept: 400/413/415 are the client's input, 401 a wrong token, 5xx the runner's fault.
The bearer token goes only into the Authorization header, never into a message or a log.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

from core import safe_json
from core.ai.ports import (
    AIRequest,
    AIResult,
    BadRequest,
    LLMChunk,
    LLMRequest,
    ModelSpec,
    ModelUnavailable,
    RunnerFailed,
    TooLarge,
    UnsupportedMedia,
)

HEALTH_TIMEOUT_S = 3.0
CONNECT_TIMEOUT_S = 5.0
READY = ("OK", "IDLE")
_BY_STATUS = {400: BadRequest, 404: BadRequest, 422: BadRequest, 413: TooLarge, 415: UnsupportedMedia}


class ExternalRunner:
    """ModelRunner over an ai-runner at spec.url. `loaded` means its health check passed at load() and no
    request has failed to reach it since (then it is unloaded, and /health decides again)."""

    bundled = False

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.pipeline = spec.pipeline
        self.model_id = spec.model_id
        self.base = spec.url.rstrip("/")
        self.description = f"external ai-runner at {self.base}"
        self.device = ""
        self._client = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------ http
    def _http(self):
        import httpx

        with self._lock:
            if self._client is None:
                headers = {"Authorization": f"Bearer {self.spec.token}"} if self.spec.token else {}
                self._client = httpx.Client(headers=headers, trust_env=False,
                                            timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S))
            return self._client

    def _where(self) -> str:
        return f"{self.pipeline.value} ({self.model_id})"

    def _unavailable(self, why: str) -> ModelUnavailable:
        return ModelUnavailable(f"{self._where()}: {why}", pipeline=self.pipeline.value, model_id=self.model_id)

    def _health(self) -> str | None:
        import httpx

        try:
            r = self._http().get(self.base + "/health", timeout=HEALTH_TIMEOUT_S)
        except httpx.HTTPError as exc:
            return f"the external ai-runner at {self.base} does not answer: {type(exc).__name__}: {exc}"
        if r.status_code == 401:
            return f"the external ai-runner at {self.base} refused the token (401): check 'token' in aiModels.json"
        if r.status_code != 200:
            return f"the external ai-runner at {self.base} answered /health with HTTP {r.status_code}"
        try:
            status = str(safe_json.loads(r.content).get("status", "")).upper()
        except (ValueError, AttributeError):
            return f"the external ai-runner at {self.base} answered /health with something other than JSON"
        if status not in READY:
            return f"the external ai-runner at {self.base} is {status or 'in an unknown state'}, not ready"
        return None

    def _error(self, response) -> Exception:
        try:
            body = safe_json.loads(response.content)
            detail = body.get("detail")
            msg = detail.get("msg") if isinstance(detail, dict) else (json.dumps(detail) if detail else None)
            msg = msg or (body.get("error") or {}).get("message")
        except (ValueError, AttributeError):
            msg = None
        msg = msg or response.text.strip()[:300] or f"HTTP {response.status_code}"
        status = response.status_code
        if status == 401:
            return self._unavailable(f"the external ai-runner refused the token (401): check 'token' in aiModels.json")
        if status == 503:
            return self._unavailable(f"the external ai-runner is busy or not ready: {msg}")
        kind = _BY_STATUS.get(status, RunnerFailed)
        return kind(f"{self._where()}: {msg}", pipeline=self.pipeline.value, model_id=self.model_id)

    # ------------------------------------------------------------------------------ ModelRunner
    def available(self) -> str | None:
        return self._health()

    @property
    def loaded(self) -> bool:
        return bool(self.device)

    def load(self, device: str) -> None:
        problem = self._health()
        if problem:
            raise self._unavailable(problem)
        self.device = "external"

    def unload(self) -> None:
        self.device = ""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def memory_bytes(self) -> int | None:
        return None

    def _post(self, request: AIRequest, *, stream: bool = False):
        import httpx

        from core.ai.requests import encode_request

        ctype, body = encode_request(self.pipeline, request, model_id=self.model_id)
        req = self._http().build_request("POST", self.base + self.pipeline.route, content=body,
                                         headers={"Content-Type": ctype, "Accept": "application/json"})
        try:
            return self._http().send(req, stream=stream)
        except httpx.TransportError as exc:
            self.device = ""  # not loaded any more: the worker asks /health again before advertising it
            raise self._unavailable(f"the external ai-runner at {self.base} failed: {type(exc).__name__}: {exc}") \
                from None

    def run(self, request: AIRequest) -> AIResult:
        from core.ai.responses import decode_data_uri, parse_result

        r = self._post(request)
        if r.status_code != 200:
            raise self._error(r)
        try:
            payload = safe_json.loads(r.content)
        except ValueError:
            raise RunnerFailed(f"{self._where()}: the external ai-runner answered with something other than JSON",
                               pipeline=self.pipeline.value, model_id=self.model_id) from None
        remote = parse_result(self.pipeline, payload)
        if remote.result is not None:
            return remote.result
        fetched = []
        for m in remote.media:
            try:
                inline = decode_data_uri(m.url)
            except ValueError as exc:
                raise RunnerFailed(f"{self._where()}: {exc}", pipeline=self.pipeline.value,
                                   model_id=self.model_id) from None
            if inline is None:
                got = self._http().get(m.url if "://" in m.url else self.base + m.url)
                if got.status_code != 200:
                    raise RunnerFailed(f"{self._where()}: fetching {m.url} gave HTTP {got.status_code}",
                                       pipeline=self.pipeline.value, model_id=self.model_id)
                inline = (got.content, got.headers.get("content-type", ""))
            fetched.append(inline)
        return remote.materialize(fetched)

    def stream(self, request: LLMRequest) -> Iterator[LLMChunk]:
        """The runner's SSE events as chunks, up to the first with a finish_reason (or `data: [DONE]`)."""
        from dataclasses import replace

        from core.ai.responses import parse_chunk

        r = self._post(replace(request, stream=True), stream=True)
        try:
            if r.status_code != 200:
                r.read()
                raise self._error(r)
            for line in r.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    chunk = parse_chunk(safe_json.loads(data))
                except ValueError:
                    raise RunnerFailed(f"{self._where()}: an SSE event that is not JSON",
                                       pipeline=self.pipeline.value, model_id=self.model_id) from None
                yield chunk
                if chunk.finish_reason:
                    return
        finally:
            r.close()
