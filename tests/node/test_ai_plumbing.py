"""PLUMBING test: user-supplied weights served by the orchestrator. Tiny RANDOM-WEIGHT diffusers models
(tests/ai/plumbing_models.py; their pictures are noise by construction) are saved into the node's
-aiModelsDir with a SHA256SUMS manifest and listed in -aiModels. Over HTTP/2 TLS, as a go-livepeer gateway
asks: text-to-image answers one PNG per image at the asked size with seeds seed, seed+1 (as data: URIs
for a gateway without the AI-worker Authorization), and image-to-video answers one mp4 under `images`,
downloadable from the node with Content-Type video/mp4, at the asked size and fps. Only shapes, types and
seeds are checked, never what the pictures show."""

from __future__ import annotations

import base64
import io
import json
import os
import tempfile
import time
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image

from core.proto import net
from tests.ai.plumbing_models import png_bytes, save_tiny_stable_diffusion, save_tiny_stable_video_diffusion
from tests.node.gateway import Gateway

os.environ.setdefault("LPC_AI_CACHE", str(Path(tempfile.gettempdir()) / "lpc-test-model-cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SD, SVD = "tiny/sd", "tiny/svd"


@pytest.fixture(scope="module")
def plumbing_node(tmp_path_factory):
    from core.composition import assemble_node
    from core.settings import load_settings

    models_dir = tmp_path_factory.mktemp("aiModelsDir")
    save_tiny_stable_diffusion(models_dir / SD)
    save_tiny_stable_video_diffusion(models_dir / SVD)
    models = tmp_path_factory.mktemp("config") / "aiModels.json"
    models.write_text(json.dumps([{"pipeline": "text-to-image", "model_id": SD, "warm": True},
                                  {"pipeline": "image-to-video", "model_id": SVD, "warm": True}]))
    built = assemble_node(load_settings(tmp_path_factory.mktemp("data")), {
        "service_addr": "127.0.0.1:0", "http_addr": "127.0.0.1:0", "cli_addr": None, "offchain": True,
        "encoder": "x264", "ai_worker": True, "ai_models": str(models), "ai_models_dir": str(models_dir),
        "transcoding": False})
    node = built.node
    status = node.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(m.state == "loading" for m in node.status().ai_models):
        time.sleep(0.1)
    states = {m.model_id: (m.state, m.reason) for m in node.status().ai_models if m.model_id in (SD, SVD)}
    assert all(s == "warm" for s, _ in states.values()), states
    port = int(status.listening.rsplit(":", 1)[1])
    gw = Gateway("127.0.0.1", port)
    client = httpx.Client(http2=True, verify=False, timeout=120)
    yield gw, client, f"https://127.0.0.1:{port}"
    client.close()
    gw.close()
    node.stop()
    built.close()


def _headers(gw: Gateway, *, ai_worker: bool = True) -> dict:
    seg = net.SegData(auth_token=gw.get_orchestrator().auth_token)
    headers = {"Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(), "Livepeer-Payment": ""}
    if ai_worker:
        headers["Authorization"] = "Livepeer-AI-Worker-1.0"
    return headers


def test_user_weights_are_advertised(plumbing_node):
    gw, _, _ = plumbing_node
    per = gw.get_orchestrator().capabilities.constraints.PerCapability
    assert per[27].models[SD].warm and per[29].models[SVD].warm


def test_text_to_image_for_an_older_gateway_answers_data_uris_with_seed_plus_i(plumbing_node):
    gw, client, base = plumbing_node
    r = client.post(f"{base}/text-to-image", headers=_headers(gw, ai_worker=False),
                    json={"prompt": "a red cat", "model_id": "", "width": 48, "height": 32, "num_inference_steps": 1,
                          "num_images_per_prompt": 2, "seed": 41, "guidance_scale": 7.5, "safety_check": True,
                          "negative_prompt": "", "loras": ""})
    assert r.status_code == 200, r.text
    images = r.json()["images"]
    assert [i["seed"] for i in images] == [41, 42] and [i["nsfw"] for i in images] == [False, False]
    for i in images:
        assert i["url"].startswith("data:image/png;base64,")
        assert Image.open(io.BytesIO(base64.b64decode(i["url"].split(",", 1)[1]))).size == (48, 32)


def test_image_to_video_answers_an_mp4_url(plumbing_node):
    gw, client, base = plumbing_node
    r = client.post(f"{base}/image-to-video", headers=_headers(gw),
                    data={"model_id": SVD, "width": "48", "height": "32", "fps": "5", "num_inference_steps": "2",
                          "seed": "9", "motion_bucket_id": "127", "noise_aug_strength": "0.02", "safety_check": "true"},
                    files={"image": ("in.png", png_bytes(40, 40), "image/png")})
    assert r.status_code == 200, r.text
    [video] = r.json()["images"]
    assert video["url"].startswith(f"{base}/stream/") and video["url"].endswith(".mp4") and video["seed"] == 9
    got = client.get(video["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(got.content)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert stream.average_rate == 5
    assert frames and frames[0].shape == (32, 48, 3)


def test_image_to_video_size_not_divisible_by_8_is_400_before_any_work(plumbing_node):
    gw, client, base = plumbing_node
    r = client.post(f"{base}/image-to-video", headers=_headers(gw),
                    data={"model_id": SVD, "width": "1020", "height": "32"},
                    files={"image": ("in.png", png_bytes(40, 40), "image/png")})
    assert r.status_code == 400 and "8" in r.text
