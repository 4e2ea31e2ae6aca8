"""core.ai.external_runner against an ai-runner-shaped HTTP server on a real socket.

This machine cannot run an ai-runner container (no Docker, no GPU), so `RunnerServer` below stands in for
one (labelled: a test stand-in): it serves ai-runner's contract (GET /health, POST /upscale with the SDK's
multipart body, a bearer token, results as data: URIs, errors as {"detail": {"msg"}}) with the REAL bundled
Real-ESRGAN model behind it, so the images checked here are made by a model.
"""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.ai.external_runner import ExternalRunner
from core.ai.ports import AIError, ModelSpec, ModelUnavailable, Pipeline, UnsupportedMedia, Upload, UpscaleRequest
from core.ai.requests import parse_request
from core.ai.responses import data_uri, to_json
from core.ai.worker import AIWorker

UPSCALE = "realesrgan/realesr-animevideov3-x4"
TOKEN = "runner-s3cret"


class RunnerServer:
    """A test stand-in for an ai-runner container serving `upscale` with the real bundled model."""

    def __init__(self) -> None:
        from core.ai.runners.realesrgan import animevideov3_runner

        self.model = animevideov3_runner()
        self.model.load("cpu")
        self.status = "OK"
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
