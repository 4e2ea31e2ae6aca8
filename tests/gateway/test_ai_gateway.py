"""The gateway's AI API end to end: a real GatewayNode in front of two real lpc AI orchestrators (Node +
AIWorker with the bundled models, offchain, assembled by core.composition as `lpc node -aiWorker` is),
everything over real sockets (the client's plain HTTP to the gateway, HTTP/2 TLS to the orchestrators).

    A: upscale (Real-ESRGAN animevideov3, warm, 1 slot), audio-to-text (Whisper tiny.en, warm),
       llm (SmolLM2-135M, warm), text-to-image with no weights (so not advertised)
    B: upscale (the same model, cold, 1 slot)

A is warm for upscale, so the gateway tries it first; B takes over when A is busy or gone. The models
load once per module. The test that stops A runs last."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from core.gateway.broadcast import NetworkBroadcaster
from core.gateway.config import GatewayConfig
from core.gateway.node import GatewayNode
from tests.waiting import wait_for

os.environ.setdefault("LPC_AI_CACHE", str(Path(tempfile.gettempdir()) / "lpc-test-model-cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("core.ai.bundled", reason="the bundled model registry (ai-models) has not landed yet")
pytest.importorskip("core.node.ai_http", reason="the orchestrator's AI routes (ai-orch) have not landed yet")

UPSCALE = "realesrgan/realesr-animevideov3-x4"
WHISPER = "openai/whisper-tiny.en"
LLM = "HuggingFaceTB/SmolLM2-135M-Instruct"
NO_WEIGHTS = "acme/sdxl-not-installed"
MODELS_A = f"upscale:{UPSCALE}:true,audio-to-text:{WHISPER}:true,llm:{LLM}:true,text-to-image:{NO_WEIGHTS}:false"
MODELS_B = f"upscale:{UPSCALE}:false"
SPOKEN = "the quick brown fox jumps over the lazy dog"


def _ai_node(data_dir: Path, models: str):
    from core.composition import assemble_node
    from core.settings import load_settings

    built = assemble_node(load_settings(data_dir), {
        "service_addr": "127.0.0.1:0", "http_addr": "127.0.0.1:0", "cli_addr": "127.0.0.1:0", "offchain": True,
        "encoder": "x264", "ai_worker": True, "ai_models": models, "transcoding": False})
    status = built.node.start()
    return built, "127.0.0.1:" + status.listening.rsplit(":", 1)[1]


def _loaded(node) -> bool:
    return not any(m.state == "loading" for m in node.status().ai_models)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """(gateway node, its base URL, {"A": (node, addr), "B": (node, addr)})."""
    a, addr_a = _ai_node(tmp_path_factory.mktemp("orch-a"), MODELS_A)
    b, addr_b = _ai_node(tmp_path_factory.mktemp("orch-b"), MODELS_B)
    config = GatewayConfig(data_dir=tmp_path_factory.mktemp("gw"), http_addr="127.0.0.1:0", cli_addr="127.0.0.1:0",
                           rtmp_addr=None, orch_addrs=(addr_a, addr_b), discovery_timeout_s=3.0, monitor=True)
    gateway = GatewayNode(config, NetworkBroadcaster(config))
    status = gateway.start()
    wait_for(lambda: _loaded(a.node) and _loaded(b.node), timeout=180, what="the warm models to load")
    yield gateway, f"http://{status.http}", f"http://{status.cli}", {"A": (a.node, addr_a), "B": (b.node, addr_b)}
    gateway.stop()
    for built in (a, b):
        built.node.stop()
        built.close()


def _requests(node) -> int:
    """Requests the orchestrator's AI worker took (every model): what a client's bad input must not touch."""
    return sum(m.requests for m in node.status().ai_models)


def _model_state(node, pipeline: str) -> str:
    return next((m.state for m in node.status().ai_models if m.pipeline == pipeline), "")


def _png(w: int, h: int) -> bytes:
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 9) % 256, (y * 7) % 256, ((x + 2 * y) * 5) % 256) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _upscale(base: str, image: bytes, model: str = "", timeout: float = 120) -> httpx.Response:
    """As the SDK sends it: multipart with every default, model_id "" included."""
    return httpx.post(f"{base}/upscale", timeout=timeout, files={"image": ("in.png", image, "image/png")},
                      data={"prompt": "sharper", "model_id": model, "safety_check": "true", "num_inference_steps": "75"})


def _error(r: httpx.Response) -> str:
    assert r.headers["content-type"] == "application/json", r.text
    body = r.json()
    assert body["detail"]["msg"] == body["error"]["message"]
    return body["detail"]["msg"]


def _orch_uri(addr: str) -> str:
    return f"https://{addr}"


# ------------------------------------------------------------------------------------------ results
def test_upscale_answers_a_gateway_url_that_downloads_a_4x_png(net):
    gateway, base, _, o = net
    r = _upscale(base, _png(48, 32))
    assert r.status_code == 200, r.text
    assert r.headers["x-livepeer-model"] == UPSCALE  # model_id "" -> the model the pool serves warm
    assert r.headers["x-livepeer-orchestrator"] == _orch_uri(o["A"][1])  # the warm one first
    (image,) = r.json()["images"]
    assert image["url"].startswith("/stream/") and image["url"].endswith(".png")  # relative, on the gateway
    assert isinstance(image["seed"], int) and image["nsfw"] is False
    got = httpx.get(base + image["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(got.content)).size == (192, 128)


def test_audio_to_text_transcribes_the_spoken_words(net, tmp_path):
    _, base, _, _ = net
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(wav), SPOKEN], check=True)
    r = httpx.post(f"{base}/audio-to-text", timeout=120, files={"audio": ("speech.wav", wav.read_bytes(), "audio/wav")},
                   data={"model_id": "", "return_timestamps": "true"})
    assert r.status_code == 200, r.text
    assert r.headers["x-livepeer-model"] == WHISPER
    body = r.json()
    words = body["text"].lower()
    assert sum(w in words for w in ("quick", "brown", "fox", "lazy", "dog")) >= 4, body["text"]
    assert body["chunks"] and all(len(c["timestamp"]) == 2 for c in body["chunks"])


def _llm_served(node) -> bool:
    return _model_state(node, "llm") == "warm"


def _llm_body(content: str, *, stream: bool, max_tokens: int = 24) -> dict:
    return {"messages": [{"role": "user", "content": content}], "model": "", "temperature": 0.0,
            "max_tokens": max_tokens, "top_p": 1.0, "top_k": -1, "stream": stream}


def test_llm_answers_json_and_streams_raw_sse(net):
    _, base, _, o = net
    if not _llm_served(o["A"][0]):
        pytest.skip(f"the bundled llm runner is not served here: {[m for m in o['A'][0].status().ai_models if m.pipeline == 'llm']}")
    r = httpx.post(f"{base}/llm", json=_llm_body("What is the capital of France? One word.", stream=False), timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    answer = body["choices"][0]["message"]["content"]
    assert "paris" in answer.lower() and body["model"] == LLM and r.headers["x-livepeer-model"] == LLM
    u = body["usage"]
    assert u["prompt_tokens"] + u["completion_tokens"] == u["total_tokens"] > 0

    events = []
    with httpx.stream("POST", f"{base}/llm", json=_llm_body("What is the capital of France? One word.", stream=True),
                      timeout=120) as s:
        assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
        for line in s.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert len(events) > 2
    assert all(not e["choices"][0]["finish_reason"] for e in events[:-1]) and events[-1]["choices"][0]["finish_reason"]
    streamed = "".join(e["choices"][0]["delta"]["content"] for e in events)
    assert streamed.strip() == answer.strip()  # temperature 0: the same words, piece by piece


def test_input_only_the_orchestrator_can_judge_goes_back_to_the_client_and_suspends_nobody(net):
    """A prompt under the gateway's 1 MiB bound but over SmolLM2's 8k-token context: only the model can
    tell. The orchestrator's 413 reaches the client with its words; the orchestrator stays in the pool
    (go-livepeer suspends it: trap 8) and serves the next request."""
    gateway, base, _, o = net
    if not _llm_served(o["A"][0]):
        pytest.skip("the bundled llm runner is not served here")
    r = httpx.post(f"{base}/llm", json=_llm_body("lorem ipsum dolor " * 6000, stream=False), timeout=120)
    assert r.status_code == 413
    msg = _error(r)
    assert f"llm model {LLM}" in msg and "refused the input" in msg and _orch_uri(o["A"][1]) in msg
    assert all(row["State"] == "ready" for row in gateway.ai_pool.view()["Orchestrators"])
    r = httpx.post(f"{base}/llm", json=_llm_body("Say hello.", stream=False, max_tokens=4), timeout=120)
    assert r.status_code == 200 and r.headers["x-livepeer-orchestrator"] == _orch_uri(o["A"][1])


def test_a_client_that_leaves_a_stream_frees_the_orchestrators_slot(net):
    """While a stream holds A's one llm slot (no other orchestrator serves llm), another llm request is
    tried for -aiProcessingRetryTimeout (2 s) and then refused as busy; once the streaming client leaves,
    the slot is free again."""
    gateway, base, _, o = net
    node = o["A"][0]
    if not _llm_served(node):
        pytest.skip("the bundled llm runner is not served here")
    story = _llm_body("Write a very long story about a dragon who learns to bake bread.", stream=True, max_tokens=2000)
    with httpx.stream("POST", f"{base}/llm", json=story, timeout=120) as s:
        lines = s.iter_lines()  # kept: a closed line iterator would close the connection (the client leaving)
        first = ""
        for line in lines:
            if line.startswith("data: "):
                first = line
                break
        assert json.loads(first[6:])["choices"][0]["finish_reason"] == ""
        assert next(m for m in node.status().ai_models if m.pipeline == "llm").in_use == 1
        busy = httpx.post(f"{base}/llm", json=_llm_body("Say hello.", stream=False, max_tokens=4), timeout=60)
        assert busy.status_code == 503
        msg = _error(busy)
        assert f"llm model {LLM}: every orchestrator serving it is busy (insufficient capacity) after 2 s" in msg
        assert all(row["State"] == "ready" for row in gateway.ai_pool.view()["Orchestrators"])
    # the client closed after one event: the gateway closes the orchestrator's stream, which frees the slot
    wait_for(lambda: next(m for m in node.status().ai_models if m.pipeline == "llm").in_use == 0, timeout=30,
             what="the llm slot to be freed")


# ------------------------------------------------------------------------------------------ refusals
def test_a_weightless_pipeline_is_a_503_naming_the_model(net):
    gateway, base, _, o = net
    before = gateway.ai.hops
    r = httpx.post(f"{base}/text-to-image", json={"prompt": "a red fox", "model_id": NO_WEIGHTS}, timeout=60)
    assert r.status_code == 503
    msg = _error(r)
    assert f"no orchestrator serves text-to-image model {NO_WEIGHTS}" in msg
    r = httpx.post(f"{base}/text-to-image", json={"prompt": "a red fox", "model_id": ""}, timeout=60)
    assert r.status_code == 503 and "text-to-image: no orchestrator serves this pipeline" in _error(r)
    r = _upscale(base, _png(8, 8), model="realesrgan/RealESRGAN_x4plus")  # served nowhere: never another model
    assert r.status_code == 503
    assert f"no orchestrator serves upscale model realesrgan/RealESRGAN_x4plus; served: {UPSCALE}" in _error(r)
    assert gateway.ai.hops == before


def _bad_inputs(base: str) -> list[tuple[str, httpx.Response]]:
    garbage = b"RIFF\x10\x00\x00\x00WAVEfmt garbage that is not audio" * 40
    return [
        ("missing field", httpx.post(f"{base}/upscale", files={"prompt": (None, "x"), "model_id": (None, "")},
                                     timeout=30)),
        ("wrong content type", httpx.post(f"{base}/upscale", json={"prompt": "x", "image": "a.png"}, timeout=30)),
        ("corrupt audio", httpx.post(f"{base}/audio-to-text", files={"audio": ("a.wav", garbage, "audio/wav")},
                                     data={"model_id": ""}, timeout=30)),
        ("oversized prompt", httpx.post(f"{base}/llm", json=_llm_body("x" * (2 << 20), stream=False), timeout=30)),
        ("corrupt image", httpx.post(f"{base}/upscale", files={"image": ("a.png", b"\x89PNG not really", "image/png")},
                                     data={"prompt": "x", "model_id": ""}, timeout=30)),
    ]


def test_bad_input_is_a_4xx_that_no_orchestrator_sees_and_the_next_request_is_served(net):
    gateway, base, _, o = net
    hops, seen = gateway.ai.hops, {k: _requests(n) for k, (n, _) in o.items()}
    answers = dict(_bad_inputs(base))
    statuses = {k: r.status_code for k, r in answers.items()}
    assert statuses == {"missing field": 400, "wrong content type": 415, "corrupt audio": 415,
                        "oversized prompt": 413, "corrupt image": 415}
    msgs = {k: _error(r) for k, r in answers.items()}
    assert "'image'" in msgs["missing field"] and "upscale" in msgs["missing field"]
    assert "multipart/form-data" in msgs["wrong content type"]
    assert "audio-to-text" in msgs["corrupt audio"] and "llm" in msgs["oversized prompt"]
    assert gateway.ai.hops == hops and {k: _requests(n) for k, (n, _) in o.items()} == seen  # nobody was asked
    assert gateway.ai_pool.view()["Orchestrators"] and all(row["State"] == "ready" for row in gateway.ai_pool.view()["Orchestrators"])
    r = _upscale(base, _png(16, 16))
    assert r.status_code == 200 and len(r.json()["images"]) == 1


def test_status_and_metrics_show_the_ai_pool(net):
    gateway, base, cli, o = net
    _upscale(base, _png(8, 8))
    status = httpx.get(f"{cli}/status").json()["AIPool"]
    rows = {row["Url"]: row for row in status["Orchestrators"]}
    a, b = rows[_orch_uri(o["A"][1])], rows[_orch_uri(o["B"][1])]
    up_a = next(m for m in a["Models"] if m["Pipeline"] == "upscale")
    assert up_a["ModelID"] == UPSCALE and up_a["Warm"] is True and up_a["Price"] == "0"
    assert {m["Pipeline"] for m in a["Models"]} >= {"upscale", "audio-to-text"}
    assert not any(m["ModelID"] == NO_WEIGHTS for m in a["Models"])  # not advertised: no weights
    assert [m["ModelID"] for m in b["Models"]] == [UPSCALE]
    metrics = httpx.get(f"{cli}/metrics").text
    assert f'livepeer_ai_models_requested{{node_type="bctr"' in metrics and f'model_name="{UPSCALE}"' in metrics
    assert "livepeer_ai_request_latency_seconds_bucket" in metrics


# ------------------------------------------------------------------------------------------ failover
def test_a_busy_orchestrator_passes_the_request_to_the_next(net):
    gateway, base, _, o = net
    node_a, addr_a = o["A"]
    big = _png(320, 320)  # seconds of Real-ESRGAN on A's one slot
    held: dict = {}

    def hold() -> None:  # a client straight at A's own route fills its one upscale slot
        held["r"] = _direct_upscale(addr_a, big)

    t = threading.Thread(target=hold)
    t.start()
    try:
        wait_for(lambda: next(m for m in node_a.status().ai_models if m.pipeline == "upscale").in_use == 1,
                 timeout=30, what="A's upscale slot to fill")
        r = _upscale(base, _png(24, 24))
        assert r.status_code == 200, r.text
        assert r.headers["x-livepeer-orchestrator"] == _orch_uri(o["B"][1])  # A said "insufficient capacity"
        assert Image.open(io.BytesIO(httpx.get(base + r.json()["images"][0]["url"]).content)).size == (96, 96)
        assert all(row["State"] == "ready" for row in gateway.ai_pool.view()["Orchestrators"])  # busy is no fault
    finally:
        t.join(120)
    assert held["r"].status_code == 200


def _direct_upscale(addr: str, image: bytes) -> httpx.Response:
    """An upscale sent to an orchestrator directly, as a go-livepeer gateway sends it."""
    import base64

    from core.ai.ports import Pipeline
    from core.gateway.ai_pool import AIPool, ai_request_capabilities
    from core.gateway.discovery import get_orchestrator
    from core.proto import net as pb

    info = get_orchestrator(f"https://{addr}", AIPool._offchain_request(ai_request_capabilities(Pipeline.UPSCALE, UPSCALE)))
    seg = base64.b64encode(pb.SegData(manifestId=b"30_x", auth_token=info.auth_token).SerializeToString()).decode()
    with httpx.Client(http2=True, verify=False, timeout=120) as c:
        return c.post(f"https://{addr}/upscale", files={"image": ("big.png", image, "image/png")},
                      data={"prompt": "x", "model_id": UPSCALE},
                      headers={"Livepeer-Segment": seg, "Livepeer-Payment": "", "Authorization": "Livepeer-AI-Worker-1.0"})


def test_an_orchestrator_that_is_gone_is_suspended_and_the_other_serves(net):
    """Runs last: it stops the orchestrator the gateway prefers for upscale."""
    from core.ai.ports import Pipeline

    gateway, base, cli, o = net
    gateway.ai_pool.refresh(Pipeline.UPSCALE, UPSCALE)  # the pool has just seen both answer (and keeps that for 30 s)
    first = _upscale(base, _png(8, 8))
    assert first.status_code == 200
    by_uri = {_orch_uri(addr): (name, node) for name, (node, addr) in o.items()}
    gone_uri = first.headers["x-livepeer-orchestrator"]
    other_uri = next(u for u in by_uri if u != gone_uri)
    by_uri[gone_uri][1].stop()
    for _ in range(2):
        r = _upscale(base, _png(20, 12))
        assert r.status_code == 200, r.text
        assert r.headers["x-livepeer-orchestrator"] == other_uri
        assert Image.open(io.BytesIO(httpx.get(base + r.json()["images"][0]["url"]).content)).size == (80, 48)
    rows = {row["Url"]: row for row in gateway.ai_pool.view()["Orchestrators"]}
    assert rows[gone_uri]["State"] == "suspended" and "could not reach it" in rows[gone_uri]["Note"]
    metrics = httpx.get(f"{cli}/metrics").text  # tried once (a network error, code 0), then left out
    tried = [line for line in metrics.splitlines() if line.startswith("livepeer_ai_request_errors{")
             and f'orchestrator_uri="{gone_uri}"' in line and 'error_code="0"' in line]
    assert len(tried) == 1 and tried[0].endswith(" 1.0")
