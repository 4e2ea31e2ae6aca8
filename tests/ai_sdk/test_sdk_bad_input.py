"""Bad input through the gateway's AI API: a missing field, a wrong content type, corrupt audio and an
oversized prompt each get a 4xx in the error shape the SDK reads ({"detail":{"msg"}} and go-livepeer's
{"error":{"message"}}), never reach the orchestrator, and the next good request is served.

Some are sent with the SDK (what its user would see: errors.HTTPError where the SDK types the status,
errors.SDKError where it does not), and some with raw httpx, because the SDK refuses to send a request
with a missing required field or the wrong encoding in the first place."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from tests.ai_sdk.test_sdk_pipelines import _ok, _test_image

MIB = 1024 * 1024


def _error_body(r: httpx.Response) -> str:
    """The message of an AI API error, checked to carry both keys with the same text."""
    assert r.headers["content-type"].startswith("application/json"), (r.status_code, r.text[:300])
    body = r.json()
    assert body["detail"]["msg"] == body["error"]["message"], body
    return body["detail"]["msg"]


def _requests_reaching_the_orchestrator(ai_nodes) -> int:
    return sum(int(row["requests"]) + int(row["errors"]) for row in ai_nodes.models())


@pytest.fixture()
def untouched_orchestrator(ai_nodes):
    """Asserts after the test that nothing the test sent reached the orchestrator's models."""
    before = _requests_reaching_the_orchestrator(ai_nodes)
    yield
    assert _requests_reaching_the_orchestrator(ai_nodes) == before, "bad input reached the orchestrator"


def test_missing_fields_are_400_naming_the_field(ai_nodes, sdk, untouched_orchestrator):
    gw = ai_nodes.gateway_url
    r = httpx.post(gw + "/upscale", data={"prompt": "x", "model_id": ""}, files={"unrelated": ("a.txt", b"x")},
                   timeout=30)
    assert r.status_code == 400 and "image" in _error_body(r)
    r = httpx.post(gw + "/llm", json={"model": "", "max_tokens": 8, "stream": False}, timeout=30)
    assert r.status_code == 400 and "messages" in _error_body(r)
    r = httpx.post(gw + "/audio-to-text", data={"model_id": ""}, files={"other": ("a.txt", b"x")}, timeout=30)
    assert r.status_code == 400 and "audio" in _error_body(r)
    (empty_text,) = sdk({"method": "text_to_speech", "request": {}})  # the SDK's default text is ""
    assert empty_text["error"] == "errors.HTTPError" and empty_text["status"] == 400, empty_text
    assert "Text input must be provided" in empty_text["detail_msg"]


def test_a_wrong_content_type_is_refused_in_words(ai_nodes, untouched_orchestrator):
    gw = ai_nodes.gateway_url
    r = httpx.post(gw + "/audio-to-text", json={"audio": "speech.wav"}, timeout=30)
    assert r.status_code in (400, 415) and "multipart/form-data" in _error_body(r)
    r = httpx.post(gw + "/llm", data={"messages": "hi"}, files={"x": ("x", b"x")}, timeout=30)
    assert r.status_code in (400, 415) and "application/json" in _error_body(r)
    r = httpx.post(gw + "/text-to-speech", content=b"\x00\xff not json", timeout=30,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in _error_body(r)


def test_corrupt_audio_is_the_sdks_http_error(ai_nodes, sdk, tmp_path, untouched_orchestrator):
    noise = tmp_path / "speech.wav"
    noise.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + os.urandom(4000))
    (res,) = sdk({"method": "audio_to_text", "request": {},
                  "files": {"audio": {"path": str(noise), "file_name": "speech.wav", "content_type": "audio/wav"}}})
    assert res["error"] == "errors.HTTPError" and res["status"] in (400, 415), res
    assert "audio-to-text" in res["detail_msg"] and "audio" in res["detail_msg"].split("audio-to-text", 1)[1]


def test_an_oversized_prompt_is_413(ai_nodes, sdk, untouched_orchestrator):
    huge = "word " * (MIB // 5 + 100)  # over the 1 MiB an llm request may carry
    (res,) = sdk({"method": "llm", "request": {"messages": [{"role": "user", "content": huge}], "max_tokens": 8}})
    # 413 is not among llm's typed statuses, so the SDK raises SDKError with the body
    assert res["error"] == "errors.SDKError" and res["status"] == 413, {k: str(v)[:300] for k, v in res.items()}
    assert "llm" in json.loads(res["body"])["detail"]["msg"]
    r = httpx.post(ai_nodes.gateway_url + "/text-to-speech", json={"model_id": "", "text": "a" * 20_000}, timeout=30)
    assert r.status_code == 413 and "text-to-speech" in _error_body(r)


def test_a_get_on_an_ai_route_is_405_in_json(ai_nodes):
    r = httpx.get(ai_nodes.gateway_url + "/llm", timeout=30)
    assert r.status_code == 405 and "POST" in _error_body(r)


def test_after_bad_input_the_gateway_still_serves(ai_nodes, sdk, tmp_path):
    """Runs after the bad-input tests above (file order): the same orchestrator answers at once."""
    src = tmp_path / "small.png"
    src.write_bytes(_test_image(32, 32))
    noise = tmp_path / "noise.wav"
    noise.write_bytes(os.urandom(3000))
    bad, good = sdk(
        {"method": "audio_to_text", "request": {},
         "files": {"audio": {"path": str(noise), "file_name": "noise.wav", "content_type": "audio/wav"}}},
        {"method": "upscale", "request": {"prompt": "x"},
         "files": {"image": {"path": str(src), "file_name": "small.png", "content_type": "image/png"}}})
    assert not bad["ok"] and 400 <= bad["status"] < 500, bad
    (image,) = _ok(good, ai_nodes)["images"]
    assert image["url"]
