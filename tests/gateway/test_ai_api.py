"""The gateway's AI routes on a real GatewayNode, before any AI orchestrator is involved: POST only (405
with the JSON error both the SDK and go-livepeer clients read), unknown paths as before, a body over
the limit refused unread, and a 503 that names the pipeline and model and says why nobody serves it
(no orchestrator configured; or a real lpc orchestrator that serves no AI)."""

from __future__ import annotations

import socket

import httpx
import pytest

from core.gateway.broadcast import NetworkBroadcaster
from core.gateway.config import GatewayConfig
from core.gateway.node import GatewayNode

UPSCALE = "realesrgan/realesr-animevideov3-x4"
LLM_BODY = {"messages": [{"role": "user", "content": "hi"}], "model": "", "temperature": 0.7, "max_tokens": 8,
            "top_p": 1.0, "top_k": -1, "stream": False}


def _gateway(tmp_path, **kw) -> tuple[GatewayNode, str]:
    config = GatewayConfig(data_dir=tmp_path, http_addr="127.0.0.1:0", cli_addr=None, rtmp_addr=None,
                           discovery_timeout_s=3.0, **kw)
    node = GatewayNode(config, NetworkBroadcaster(config))
    status = node.start()
    return node, f"http://{status.http}"


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    node, base = _gateway(tmp_path_factory.mktemp("gw"))
    yield node, base
    node.stop()


def _error(r: httpx.Response) -> str:
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["detail"]["msg"] == body["error"]["message"]
    return body["detail"]["msg"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_ai_routes_take_post_only(bare, method):
    _, base = bare
    r = httpx.request(method, f"{base}/upscale")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert "upscale" in _error(r) and method in _error(r)


def test_an_unknown_path_is_answered_as_before(bare):
    _, base = bare
    r = httpx.post(f"{base}/text-to-song", json={})
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/plain")  # not an AI route
    r = httpx.get(f"{base}/text-to-song")
    assert r.status_code == 404 and r.text == "404 page not found\n"


def test_a_body_over_the_limit_is_refused_unread(bare):
    node, base = bare
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:  # declares 60 MiB, sends none of it
        s.sendall(b"POST /audio-to-text HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                  b"Content-Length: " + str(60 << 20).encode() + b"\r\n\r\n")
        answer = b""
        while b"}}" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"application/json" in head
    assert b"audio-to-text: the request is 62,914,560 bytes" in body
    assert node.ai.hops == 0


def test_without_orchestrators_the_503_says_to_configure_one(bare):
    node, base = bare
    r = httpx.post(f"{base}/llm", json=LLM_BODY)
    assert r.status_code == 503
    msg = _error(r)
    assert "llm" in msg and "no orchestrator is configured" in msg and "-orchAddr" in msg
    assert node.ai.hops == 0


def test_a_video_only_orchestrator_serves_no_ai_and_the_503_names_the_model(tmp_path, orch_factory):
    _, addr = orch_factory()
    node, base = _gateway(tmp_path, orch_addrs=(addr,))
    try:
        r = httpx.post(f"{base}/upscale", data={"prompt": "x", "model_id": UPSCALE},
                       files={"image": ("a.png", _png(), "image/png")}, timeout=30)
        assert r.status_code == 503
        msg = _error(r)
        assert f"no orchestrator serves upscale model {UPSCALE}" in msg
        assert "offers no upscale model" in msg and addr.split(":")[1] in msg
        r = httpx.post(f"{base}/upscale", data={"prompt": "x", "model_id": ""},
                       files={"image": ("a.png", _png(), "image/png")}, timeout=30)
        assert r.status_code == 503 and "upscale: no orchestrator serves this pipeline" in _error(r)
        assert node.ai.hops == 0
    finally:
        node.stop()


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def test_an_orchestrator_that_comes_up_later_is_found_by_the_next_request(tmp_path, orch_factory):
    """Nobody answered: that is remembered for a second, not for the 30 s a full answer is kept."""
    from chain.devnet.anvil import free_port
    from tests.waiting import wait_for

    port = free_port()
    node, base = _gateway(tmp_path, orch_addrs=(f"127.0.0.1:{port}",))
    try:
        r = httpx.post(f"{base}/llm", json=LLM_BODY, timeout=30)
        assert r.status_code == 503 and "no TLS answer" in _error(r) and f"127.0.0.1:{port}" in _error(r)
        orch_factory(service_addr=f"127.0.0.1:{port}", http_addr=f"127.0.0.1:{port}")  # a real (video-only) lpc orchestrator on that port now
        # well within the 30 s an answer is kept, a request finds it (and that it serves no llm)
        def answered() -> str | None:
            m = _error(httpx.post(f"{base}/llm", json=LLM_BODY, timeout=30))
            return m if "offers no llm model" in m else None

        msg = wait_for(answered, timeout=10, interval=0.3, what="the orchestrator found")
        assert f"127.0.0.1:{port}" in msg
    finally:
        node.stop()
