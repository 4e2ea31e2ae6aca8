"""An AI orchestrator as a go-livepeer AI gateway uses it: a real Node assembled by core.composition with
the real AIWorker and the bundled models (Real-ESRGAN upscale, Whisper tiny.en, hibari TTS), offchain,
driven over real HTTP/2 TLS with the headers go-livepeer's gateway sends (Livepeer-Segment carrying the
auth token from GetOrchestrator, an empty Livepeer-Payment, Authorization: Livepeer-AI-Worker-1.0).

One node for the module (-aiWorker without -transcoder: an AI-only node); each model loads once."""

from __future__ import annotations

import base64
import io
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from core.node.capabilities import Capability, bits_of
from core.proto import net
from tests.node.gateway import Gateway

os.environ.setdefault("LPC_AI_CACHE", str(Path(tempfile.gettempdir()) / "lpc-test-model-cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

UPSCALE = "realesrgan/realesr-animevideov3-x4"
WHISPER = "openai/whisper-tiny.en"
TTS = "hibari-tts/heart"
NO_WEIGHTS = "acme/sdxl-not-installed"  # text-to-image with no weights in -aiModelsDir
MODELS = f"upscale:{UPSCALE}:true,audio-to-text:{WHISPER}:true,text-to-speech:{TTS}:false,text-to-image:{NO_WEIGHTS}:false"
AI_WORKER = {"Authorization": "Livepeer-AI-Worker-1.0"}


@pytest.fixture(scope="module")
def ai_node(tmp_path_factory):
    from core.composition import assemble_node
    from core.settings import load_settings

    data_dir = tmp_path_factory.mktemp("ai-node")
    settings = load_settings(data_dir)
    built = assemble_node(settings, {
        "service_addr": "127.0.0.1:0", "http_addr": "127.0.0.1:0", "cli_addr": "127.0.0.1:0", "offchain": True,
        "encoder": "x264", "ai_worker": True, "ai_models": MODELS, "transcoding": False})
    node = built.node
    status = node.start()
    port = int(status.listening.rsplit(":", 1)[1])
    gw = Gateway("127.0.0.1", port)
    deadline = time.monotonic() + 120  # the warm models load in the background
    while time.monotonic() < deadline and any(m.state == "loading" for m in node.status().ai_models):
        time.sleep(0.1)
    client = httpx.Client(http2=True, verify=False, timeout=120)
    yield node, gw, client, f"https://127.0.0.1:{port}"
    client.close()
    gw.close()
    node.stop()
    built.close()


def _segment_header(info: net.OrchestratorInfo) -> str:
    """The Livepeer-Segment an offchain go-livepeer gateway sends on an AI request: a dummy SegData
    carrying the auth token of its GetOrchestrator answer."""
    seg = net.SegData(manifestId=b"dummy", auth_token=info.auth_token)
    return base64.b64encode(seg.SerializeToString()).decode()


def _headers(gw: Gateway, **extra) -> dict:
    info = gw.get_orchestrator()
    return {"Livepeer-Segment": _segment_header(info), "Livepeer-Payment": "", **AI_WORKER, **extra}


def _png(w: int, h: int) -> bytes:
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _upscale(client, base, headers, image: bytes, name="in.png", content_type="image/png", model=""):
    return client.post(f"{base}/upscale", headers=headers,
                       data={"prompt": "sharper", "model_id": model, "safety_check": "true", "num_inference_steps": "75"},
                       files={"image": (name, image, content_type)})


# ------------------------------------------------------------------------------------------ discovery
def test_get_orchestrator_advertises_the_models_with_weights(ai_node):
    node, gw, _, base = ai_node
    info = gw.get_orchestrator()
    assert info.transcoder == base
    offered = bits_of(info.capabilities.bitstring)
    assert {30, 31, 36} <= offered  # upscale, audio-to-text, text-to-speech
    assert 27 not in offered  # text-to-image: its model has no weights, so it is not advertised
    assert not offered & {int(c) for c in Capability}  # an AI-only node advertises no transcoding
    per = info.capabilities.constraints.PerCapability
    up = per[30].models[UPSCALE]
    assert up.warm and up.capacity == 1 and up.capacityInUse == 0 and up.runnerVersion
    assert per[31].models[WHISPER].warm
    assert not per[36].models[TTS].warm  # cold: loads on its first request
    assert NO_WEIGHTS not in per[27].models
    assert info.capabilities.capacities[30] == 1
    assert {(h.pipeline, h.model_id) for h in info.hardware} >= {("upscale", UPSCALE), ("audio-to-text", WHISPER)}
    assert not info.capabilities_prices  # offchain go-livepeer sets no AI prices


def test_an_ai_gateways_request_for_a_model_is_answered_without_a_price_offchain(ai_node):
    _, gw, _, _ = ai_node
    caps = net.Capabilities()
    caps.capacities[30] = 1
    caps.constraints.PerCapability[30].models[UPSCALE].CopyFrom(net.Capabilities.CapabilityConstraints.ModelConstraint())
    info = gw.get_orchestrator(ignore_capacity=False, caps=caps)  # not held to transcoding's capacity
    assert not info.HasField("price_info") and not info.hardware and not info.capabilities_prices
    assert info.capabilities.constraints.PerCapability[30].models[UPSCALE].warm


def test_a_transcoding_and_ai_node_advertises_both(ai_node):
    from core.node.auth import AuthTokens
    from core.node.orchestrator_rpc import Offer, OrchestratorInfoBuilder
    from core.node.payments import OffchainPayments

    node = ai_node[0]
    offer = Offer("https://127.0.0.1:8935", 0, 1, "0.0.0", "libx264", transcoding=True)
    info = OrchestratorInfoBuilder(offer, AuthTokens(), OffchainPayments(), ai=node.ai).build()
    offered = bits_of(info.capabilities.bitstring)
    assert {int(Capability.H264), int(Capability.MPEGTS), 30, 31} <= offered
    assert info.capabilities.capacities[int(Capability.H264)] == 1 and info.capabilities.capacities[30] == 1
    assert ("transcoding", "libx264") in {(h.pipeline, h.model_id) for h in info.hardware}


# ------------------------------------------------------------------------------------------ upscale
def test_upscale_answers_a_url_that_downloads_a_4x_png(ai_node):
    _, gw, client, base = ai_node
    r = _upscale(client, base, _headers(gw), _png(40, 30))
    assert r.status_code == 200, r.text
    assert r.http_version == "HTTP/2"
    image = r.json()["images"][0]
    assert image["url"].startswith(f"{base}/stream/") and image["url"].endswith(".png")
    assert isinstance(image["seed"], int) and image["nsfw"] is False
    got = client.get(image["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(got.content)).size == (160, 120)


def test_without_the_ai_worker_authorization_the_image_comes_as_a_data_uri(ai_node):
    _, gw, client, base = ai_node
    headers = _headers(gw)
    del headers["Authorization"]  # an older gateway
    r = _upscale(client, base, headers, _png(16, 12))
    assert r.status_code == 200, r.text
    url = r.json()["images"][0]["url"]
    assert url.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (64, 48)


# ------------------------------------------------------------------------------------------ credentials
def test_a_bad_segment_header_is_403_and_a_bad_payment_402(ai_node, caplog):
    _, gw, client, base = ai_node
    caplog.set_level(logging.DEBUG)
    good = _headers(gw)
    image = _png(8, 8)
    r = _upscale(client, base, {**good, "Livepeer-Segment": "not base64!"}, image)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/plain") and r.text.endswith("\n")
    r = _upscale(client, base, {k: v for k, v in good.items() if k != "Livepeer-Segment"}, image)
    assert r.status_code == 403 and "Livepeer-Segment" in r.text
    info = gw.get_orchestrator()
    forged = net.SegData(auth_token=net.AuthToken(token=b"x" * 32, session_id=info.auth_token.session_id,
                                                  expiration=info.auth_token.expiration))
    r = _upscale(client, base, {**good, "Livepeer-Segment": base64.b64encode(forged.SerializeToString()).decode()},
                 image)
    assert r.status_code == 403 and "Invalid auth token" in r.text
    r = _upscale(client, base, {**good, "Livepeer-Payment": "%%%"}, image)
    assert r.status_code == 402 and "Livepeer-Payment" in r.text
    assert _upscale(client, base, good, image).status_code == 200  # and the node serves on
    token = net.SegData.FromString(base64.b64decode(good["Livepeer-Segment"])).auth_token.token
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert good["Livepeer-Segment"] not in logged  # auth tokens stay out of the logs
    assert token.hex() not in logged and base64.b64encode(token).decode() not in logged
    assert "upscale refused 403" in logged  # while the refusals themselves are logged


def test_over_http_1_1_a_refused_request_leaves_the_connection_usable(ai_node):
    """A refusal before the body is read (a forged token) still reads that body over HTTP/1.1, so the next
    request on the same keep-alive connection is served."""
    _, gw, _, base = ai_node
    with httpx.Client(http2=False, verify=False, timeout=60) as h1:
        bad = _upscale(h1, base, {**_headers(gw), "Livepeer-Segment": "QUJD"}, _png(64, 64))
        assert bad.status_code == 403 and bad.http_version == "HTTP/1.1"
        good = _upscale(h1, base, _headers(gw), _png(8, 8))
        assert good.status_code == 200, good.text
        assert Image.open(io.BytesIO(h1.get(good.json()["images"][0]["url"]).content)).size == (32, 32)


# ------------------------------------------------------------------------------------------ bad input
def test_a_corrupt_image_is_refused_and_the_next_good_request_succeeds(ai_node):
    node, gw, client, base = ai_node
    before = _model(node, UPSCALE).errors
    r = _upscale(client, base, _headers(gw), b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    assert r.status_code in (400, 415), r.text
    assert "upscale" in r.text
    r = _upscale(client, base, _headers(gw), _png(8, 8))
    assert r.status_code == 200, r.text
    assert _model(node, UPSCALE).errors == before  # a client's bad file is not the model's error


def test_a_missing_field_and_a_wrong_content_type_are_client_errors(ai_node):
    _, gw, client, base = ai_node
    r = client.post(f"{base}/upscale", headers=_headers(gw),  # multipart, with no image part
                    files={"prompt": (None, "x"), "model_id": (None, "")})
    assert r.status_code == 400 and "'image'" in r.text, r.text
    r = client.post(f"{base}/upscale", headers=_headers(gw), json={"prompt": "x"})
    assert r.status_code in (400, 415) and "multipart/form-data" in r.text
    r = client.get(f"{base}/upscale", headers=_headers(gw))
    assert r.status_code == 405


def test_a_model_without_weights_is_503_naming_it(ai_node):
    _, gw, client, base = ai_node
    r = client.post(f"{base}/text-to-image", headers=_headers(gw),
                    json={"prompt": "a lighthouse", "model_id": NO_WEIGHTS, "height": 64, "width": 64})
    assert r.status_code == 503
    assert NO_WEIGHTS in r.text
    r = _upscale(client, base, _headers(gw), _png(8, 8), model="someone/other-upscaler")
    assert r.status_code == 503 and "someone/other-upscaler" in r.text  # never a fallback to another model


def test_segments_are_refused_by_an_ai_only_node(ai_node):
    _, _, client, base = ai_node
    r = client.post(f"{base}/segment", content=b"\0" * 188)
    assert r.status_code == 403 and "does not transcode" in r.text


# ------------------------------------------------------------------------------------------ capacity
def test_a_busy_model_answers_insufficient_capacity_at_once(ai_node):
    """Upscale has one slot: while a large upscale holds it, the next request is refused (503, go-livepeer's
    words) instead of waiting; after it, the model serves again."""
    node, gw, client, base = ai_node
    big = _png(512, 512)
    for _attempt in range(3):  # if the big upscale ended before the second request went out, try again
        first: dict = {}
        t = threading.Thread(target=lambda: first.update(r=_upscale(client, base, _headers(gw), big)))
        t.start()
        while t.is_alive() and _model(node, UPSCALE).in_use == 0:
            time.sleep(0.005)
        second = _upscale(client, base, _headers(gw), _png(8, 8)) if t.is_alive() else None
        t.join()
        assert first["r"].status_code == 200, first["r"].text
        if second is not None and second.status_code == 503:
            break
    else:
        pytest.fail("the second upscale was never sent while the first held the slot")
    assert second.text.startswith("insufficient capacity") and UPSCALE in second.text
    assert _upscale(client, base, _headers(gw), _png(8, 8)).status_code == 200


# ------------------------------------------------------------------------------------------ audio
def _espeak(text: str, path: Path) -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), text], check=True, capture_output=True)
    return path.read_bytes()


def test_audio_to_text_transcribes_spoken_words(ai_node, tmp_path):
    _, gw, client, base = ai_node
    wav = _espeak("the quick brown fox jumps over the lazy dog", tmp_path / "fox.wav")
    r = client.post(f"{base}/audio-to-text", headers=_headers(gw),
                    data={"model_id": "", "return_timestamps": "true", "metadata": '{"duration": "3"}'},
                    files={"audio": ("fox.wav", wav, "audio/wav")})
    assert r.status_code == 200, r.text
    body = r.json()
    words = body["text"].lower()
    assert "fox" in words and "dog" in words
    assert body["chunks"] and all(len(c["timestamp"]) == 2 for c in body["chunks"])


def test_corrupt_audio_is_415(ai_node):
    _, gw, client, base = ai_node
    r = client.post(f"{base}/audio-to-text", headers=_headers(gw), data={"model_id": ""},
                    files={"audio": ("a.wav", b"RIFF\0\0\0\0WAVEjunk" * 10, "audio/wav")})
    assert r.status_code == 415 and "audio-to-text" in r.text


def test_text_to_speech_answers_a_wav_url(ai_node):
    _, gw, client, base = ai_node
    import wave

    r = client.post(f"{base}/text-to-speech", headers=_headers(gw),
                    json={"model_id": "", "text": "Hello from the orchestrator.", "description": ""})
    assert r.status_code == 200, r.text
    url = r.json()["audio"]["url"]
    assert url.startswith(f"{base}/stream/") and url.endswith(".wav")
    got = client.get(url)
    assert got.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(got.content)) as w:
        seconds = w.getnframes() / w.getframerate()
        frames = w.readframes(w.getnframes())
    assert 0.5 < seconds < 10
    assert max(frames) > 0  # not silence


# ------------------------------------------------------------------------------------------ status, metrics
def test_status_and_metrics_show_the_models(ai_node):
    node, gw, client, base = ai_node
    assert _upscale(client, base, _headers(gw), _png(8, 8)).status_code == 200
    assert client.post(f"{base}/text-to-image", headers=_headers(gw),
                       json={"prompt": "x", "model_id": NO_WEIGHTS}).status_code == 503
    views = {m.model_id: m for m in node.status().ai_models}
    assert views[UPSCALE].state == "warm" and views[UPSCALE].requests >= 1
    assert views[NO_WEIGHTS].state == "unavailable" and views[NO_WEIGHTS].reason
    mgmt = node.status().management
    from prometheus_client.parser import text_string_to_metric_families

    samples = {(s.name, s.labels.get("pipeline"), s.labels.get("model_name"), s.labels.get("error_code")): s.value
               for fam in text_string_to_metric_families(httpx.get(f"http://{mgmt}/metrics").text)
               for s in fam.samples}
    assert samples[("livepeer_ai_container_idle", "upscale", UPSCALE, None)] == 1
    assert samples[("livepeer_ai_container_in_use", "upscale", UPSCALE, None)] == 0
    assert samples[("livepeer_ai_models_requested_total", "upscale", UPSCALE, None)] >= 1
    assert samples[("livepeer_ai_request_errors_total", "text-to-image", NO_WEIGHTS, "503")] >= 1
    status = httpx.get(f"http://{mgmt}/status").json()
    assert any(m["model_id"] == UPSCALE for m in status["ai_models"])


def _model(node, model_id: str):
    return next(m for m in node.status().ai_models if m.model_id == model_id)
