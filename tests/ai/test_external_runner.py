"""core.ai.external_runner against an ai-runner-shaped HTTP server on a real socket.

This machine cannot run an ai-runner container (no Docker, no GPU), so `RunnerServer` below stands in for
one (labelled: a test stand-in): it serves ai-runner's contract (GET /health, POST /upscale with the SDK's
multipart body, POST /llm as JSON or SSE ending in `data: [DONE]`, a bearer token, results as data: URIs,
errors as {"detail": {"msg"}}) with the REAL bundled Real-ESRGAN and SmolLM2 models behind it, so the
images and text checked here are made by a model.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.ai.external_runner import ExternalRunner
from core.ai.bundled import bundled_runner
from core.ai.ports import (
    AIError,
    ChatMessage,
    InsufficientCapacity,
    LLMRequest,
    ModelSpec,
    ModelUnavailable,
    Pipeline,
    UnsupportedMedia,
    Upload,
    UpscaleRequest,
)
from core.ai.requests import parse_request
from core.ai.responses import chunk_json, data_uri, sse_event, to_json
from core.ai.worker import AIWorker

UPSCALE = "realesrgan/realesr-animevideov3-x4"
LLM = "HuggingFaceTB/SmolLM2-135M-Instruct"
TOKEN = "runner-s3cret"


class RunnerServer:
    """A test stand-in for an ai-runner container serving `upscale` with the real bundled model."""

    def __init__(self) -> None:
        self.model = bundled_runner(Pipeline.UPSCALE, UPSCALE)
        self.model.load("cpu")
        self.llm = bundled_runner(Pipeline.LLM, LLM)  # loaded on the first /llm request
        self.status = "OK"
        self.llm_lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, payload):
                body = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/health":
                    self._send(200, {"status": outer.status})
                else:
                    self._send(404, {"detail": {"msg": "Not Found"}})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"detail": {"msg": "Invalid bearer token"}})
                if self.path == "/llm":
                    return self._llm(body)
                if self.path != "/upscale":
                    return self._send(404, {"detail": {"msg": "Not Found"}})
                try:
                    req = parse_request(Pipeline.UPSCALE, self.headers.get("Content-Type", ""), body)
                    if req.model_id not in ("", UPSCALE):
                        return self._send(400, {"detail": {"msg": f"pipeline configured with {UPSCALE} but called "
                                                                  f"with {req.model_id}."}})
                    result = outer.model.run(req)
                except AIError as exc:
                    return self._send(exc.status, {"detail": {"msg": str(exc)}})
                self._send(200, to_json(result, data_uri))

            def _llm(self, body):
                try:
                    with outer.llm_lock:
                        if not outer.llm.loaded:
                            outer.llm.load("cpu")
                    req = parse_request(Pipeline.LLM, self.headers.get("Content-Type", ""), body)
                    if not req.stream:
                        return self._send(200, to_json(outer.llm.run(req), data_uri))
                    chunks = outer.llm.stream(req)
                    first = next(chunks)
                except AIError as exc:
                    return self._send(exc.status, {"detail": {"msg": str(exc)}})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in itertools.chain([first], chunks):  # ai-runner ends its stream with [DONE]
                    self.wfile.write(sse_event(chunk_json(chunk)))
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server():
    s = RunnerServer()
    yield s
    s.close()


def _png(w, h) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (w, h))
    img.putdata([((x * 9) % 256, (y * 4) % 256, 128) for y in range(h) for x in range(w)])
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _size(media) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(media.data)) as im:
        return im.size


def test_worker_serves_a_model_through_an_external_runner(server):
    w = AIWorker([ModelSpec(Pipeline.UPSCALE, UPSCALE, warm=True, url=server.url, token=TOKEN)])
    assert w.resolve(Pipeline.UPSCALE, "") == UPSCALE
    result = w.run(Pipeline.UPSCALE, UpscaleRequest(prompt="sharper", image=Upload("a.png", "image/png", _png(30, 20)),
                                                    seed=11))
    (media,) = result.images
    assert _size(media) == (120, 80) and media.content_type == "image/png" and media.seed == 11
    v = next(v for v in w.models() if v.model_id == UPSCALE)
    assert v.state == "warm" and v.device == "external" and server.url in v.reason and TOKEN not in repr(v)
    assert [s.model_id for s, *_ in w.advertised()] == [UPSCALE]
    w.stop()


def test_the_runners_client_errors_keep_their_status(server):
    r = ExternalRunner(ModelSpec(Pipeline.UPSCALE, UPSCALE, url=server.url, token=TOKEN))
    r.load("cpu")
    with pytest.raises(UnsupportedMedia, match="is not an image") as e:
        r.run(UpscaleRequest(prompt="sharper", image=Upload("bad.png", "image/png", b"no image here" * 10)))
    assert e.value.status == 415 and TOKEN not in str(e.value)


def test_a_wrong_token_or_a_dead_runner_is_unavailable_with_the_reason(server):
    wrong = ExternalRunner(ModelSpec(Pipeline.UPSCALE, UPSCALE, url=server.url, token="nope"))
    wrong.device = "external"  # as if its health check had passed: the POST itself is refused
    with pytest.raises(ModelUnavailable, match="refused the token") as e:
        wrong.run(UpscaleRequest(prompt="sharper", image=Upload("a.png", "image/png", _png(8, 8))))
    assert "nope" not in str(e.value)
    server.status = "LOADING"
    try:
        assert "is LOADING, not ready" in ExternalRunner(ModelSpec(Pipeline.UPSCALE, UPSCALE, url=server.url)).available()
    finally:
        server.status = "OK"
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, never listening: connections are refused
        w = AIWorker([ModelSpec(Pipeline.UPSCALE, UPSCALE, url=dead)])
        v = next(v for v in w.models() if v.model_id == UPSCALE)
        assert v.state == "unavailable" and f"the external ai-runner at {dead} does not answer" in v.reason
        assert w.advertised() == ()


def test_llm_through_an_external_runner_streams_and_holds_the_slot(server):
    w = AIWorker([ModelSpec(Pipeline.LLM, LLM, warm=True, capacity=1, url=server.url, token=TOKEN)])
    answer = w.run(Pipeline.LLM, LLMRequest(messages=(ChatMessage("user", "What is the capital of France?"),),
                                            temperature=0.0, max_tokens=12))
    assert "paris" in answer.text.lower() and answer.usage.completion_tokens >= 1
    stream = w.stream(LLMRequest(messages=(ChatMessage("user", "Count from one to ten."),), temperature=0.0,
                                 max_tokens=30, stream=True))
    first = next(stream)
    assert first.text
    with pytest.raises(InsufficientCapacity):
        w.run(Pipeline.LLM, LLMRequest(messages=(ChatMessage("user", "Hi"),), max_tokens=2))
    rest = list(stream)
    assert rest[-1].finish_reason in ("stop", "length") and len(rest) >= 2
    v = next(v for v in w.models() if v.model_id == LLM)
    assert v.in_use == 0 and v.refused == 1 and v.errors == 0
    w.stop()


def test_a_runner_that_goes_away_is_no_longer_advertised():
    server = RunnerServer()
    w = AIWorker([ModelSpec(Pipeline.UPSCALE, UPSCALE, warm=True, url=server.url, token=TOKEN)])
    request = UpscaleRequest(prompt="sharper", image=Upload("a.png", "image/png", _png(8, 8)))
    assert _size(w.run(Pipeline.UPSCALE, request).images[0]) == (32, 32)
    server.close()
    with pytest.raises(ModelUnavailable, match="the external ai-runner at .* failed"):
        w.run(Pipeline.UPSCALE, request)
    v = next(v for v in w.models() if v.model_id == UPSCALE)
    assert v.state == "unavailable" and "does not answer" in v.reason and w.advertised() == ()
