"""The official livepeer-ai SDK 0.10.0, in its own venv and its own process, drives `lpc node -gateway`
in front of `lpc node -orchestrator -aiWorker` (both real processes, offchain) for every pipeline with a
bundled model, and for one without weights. What is asserted is what the SDK's user gets back: the words
they spoke, audio they can play, the capital of France, an image four times the size, and an error of the
SDK's documented type that names the missing model."""

from __future__ import annotations

import io
import json
import subprocess
import wave
from urllib.parse import urljoin

import httpx
import numpy as np
import pytest
from PIL import Image

SPOKEN = "The weather today is sunny and warm. Please send the report to the office by Friday."
SPOKEN_WORDS = ("sunny", "warm", "report", "office", "friday")  # words Whisper tiny.en hears in espeak-ng's voice
# The bundled defaults (COMMON.md's fixed ids): what model_id "" resolves to without -aiModels
WHISPER, TTS, LLM, UPSCALER = ("openai/whisper-tiny.en", "hibari-tts/heart", "HuggingFaceTB/SmolLM2-135M-Instruct",
                               "realesrgan/realesr-animevideov3-x4")
CAPITAL = [{"role": "user", "content": "What is the capital of France?"}]


def _speech(path, text: str) -> None:
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(path), text], check=True, capture_output=True)


def _test_image(w: int, h: int) -> bytes:
    """A picture with edges and gradients (something for a super-resolution model to work on)."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x // 8 + y // 8) % 2) * 255], -1)
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _download(ai_nodes, url: str) -> httpx.Response:
    """A result URL as a client resolves it: relative /stream/... against the gateway it asked."""
    r = httpx.get(urljoin(ai_nodes.gateway_url + "/", url), timeout=30)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return r


def _ok(result: dict, ai_nodes, model: str | None = None) -> dict:
    """The parsed result of a 200; with `model`, the gateway's X-Livepeer-Model must name it (the SDK sent
    model_id "", which means the pipeline's configured model)."""
    assert result["ok"], f"{result}\n{ai_nodes.logs()}"
    assert result["status"] == 200
    if model is not None:
        assert result["model_header"] == model, result
    return result["result"]


def test_audio_to_text_transcribes_speech(sdk, ai_nodes, tmp_path):
    wav = tmp_path / "speech.wav"
    _speech(wav, SPOKEN)
    (res,) = sdk({"method": "audio_to_text", "request": {},
                  "files": {"audio": {"path": str(wav), "file_name": "speech.wav", "content_type": "audio/wav"}}})
    out = _ok(res, ai_nodes, WHISPER)
    assert res["field"] == "text_response"
    text = out["text"].lower()
    missing = [w for w in SPOKEN_WORDS if w not in text]
    assert not missing, f"transcript {out['text']!r} lacks {missing}"
    assert out["chunks"], "return_timestamps defaults to 'true': chunks with timestamps"
    starts = [c["timestamp"][0] for c in out["chunks"]]
    assert starts == sorted(starts) and all(c["timestamp"][1] >= c["timestamp"][0] for c in out["chunks"])
    assert out["chunks"][-1]["timestamp"][1] <= 8.0  # espeak-ng's reading lasts about 6 s


def test_text_to_speech_returns_a_wav_url_that_plays(sdk, ai_nodes):
    text = "Livepeer runs artificial intelligence on an open network."
    (res,) = sdk({"method": "text_to_speech", "request": {"text": text}})
    out = _ok(res, ai_nodes, TTS)
    url = out["audio"]["url"]
    assert url.endswith(".wav"), url
    r = _download(ai_nodes, url)
    assert r.headers["content-type"].startswith("audio/")
    with wave.open(io.BytesIO(r.content)) as w:
        rate, frames, width, channels = w.getframerate(), w.getnframes(), w.getsampwidth(), w.getnchannels()
        raw = w.readframes(frames)
    assert width == 2 and rate >= 16000
    samples = np.frombuffer(raw, dtype="<i2").reshape(-1, channels).astype(np.float64) / 32768
    seconds = frames / rate
    words = len(text.split())
    assert 0.2 * words <= seconds <= 1.5 * words, f"{seconds:.2f} s for {words} words"
    rms = float(np.sqrt(np.mean(samples ** 2)))
    assert rms > 0.01, f"RMS {rms:.4f}: silent"


@pytest.fixture(scope="module")
def capital_answer(sdk, ai_nodes) -> dict:
    (res,) = sdk({"method": "llm", "request": {"messages": CAPITAL, "temperature": 0, "max_tokens": 40}})
    return _ok(res, ai_nodes, LLM)


def test_llm_through_the_sdk_knows_the_capital_of_france(capital_answer):
    (choice,) = capital_answer["choices"]
    assert "Paris" in choice["message"]["content"]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] in ("stop", "length")
    usage = capital_answer["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert capital_answer["id"] and capital_answer["created"] > 1_700_000_000
    assert capital_answer["model"] == LLM


def test_llm_streams_over_raw_sse_the_same_answer(ai_nodes, capital_answer):
    """SDK 0.10.0 cannot read a stream (it wants application/json), so a streaming client uses raw HTTP:
    one `data: <chunk JSON>` event per piece, the last with finish_reason."""
    body = {"model": "", "messages": CAPITAL, "temperature": 0, "max_tokens": 40, "top_p": 1, "top_k": -1,
            "stream": True}
    chunks = []
    with httpx.stream("POST", ai_nodes.gateway_url + "/llm", json=body, timeout=120,
                      headers={"Accept": "text/event-stream"}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                chunks.append(json.loads(line[5:]))
    assert len(chunks) > 2, chunks
    assert all(not c["choices"][0].get("finish_reason") for c in chunks[:-1])
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    text = "".join((c["choices"][0].get("delta") or {}).get("content", "") for c in chunks)
    assert "Paris" in text
    assert text == capital_answer["choices"][0]["message"]["content"]


def test_llm_stream_through_the_sdk_is_its_documented_sdk_error(sdk, ai_nodes):
    (res,) = sdk({"method": "llm", "request": {"messages": CAPITAL, "max_tokens": 8, "stream": True}})
    assert res["error"] == "errors.SDKError" and res["status"] == 200, res
    assert "text/event-stream" in res["message"]


def test_upscale_returns_an_image_four_times_the_size(sdk, ai_nodes, tmp_path):
    src = tmp_path / "small.png"
    src.write_bytes(_test_image(64, 48))
    (res,) = sdk({"method": "upscale", "request": {"prompt": "sharper", "seed": 7},
                  "files": {"image": {"path": str(src), "file_name": "small.png", "content_type": "image/png"}}})
    out = _ok(res, ai_nodes, UPSCALER)
    (image,) = out["images"]
    assert image["seed"] == 7 and image["nsfw"] is False
    r = _download(ai_nodes, image["url"])
    assert r.headers["content-type"] == "image/png"
    big = Image.open(io.BytesIO(r.content))
    assert big.size == (256, 192)
    bicubic = np.asarray(Image.open(src).convert("RGB").resize((256, 192), Image.BICUBIC), dtype=np.int16)
    assert np.abs(np.asarray(big.convert("RGB"), dtype=np.int16) - bicubic).mean() > 1, "a plain resize"


def test_a_weightless_pipeline_is_the_sdks_error_naming_the_model(sdk, ai_nodes):
    named, default = sdk(
        {"method": "text_to_image", "request": {"prompt": "a lighthouse", "model_id": "stabilityai/sd-turbo"}},
        {"method": "text_to_image", "request": {"prompt": "a lighthouse"}})
    for res in (named, default):
        # 503 is not among text_to_image's typed statuses (400/401/422/500), so the SDK raises its SDKError
        assert res["error"] == "errors.SDKError" and res["status"] == 503, res
        msg = json.loads(res["body"])["detail"]["msg"]
        assert "text-to-image" in msg, msg
    assert "stabilityai/sd-turbo" in json.loads(named["body"])["detail"]["msg"]
    (ok,) = sdk({"method": "text_to_speech", "request": {"text": "Still serving."}})
    _ok(ok, ai_nodes)


def test_a_bundled_model_that_is_not_configured_is_not_swapped_for_another(sdk, ai_nodes, tmp_path):
    """Whisper base ships with lpc but is not among the defaults: asking for it by name is an error naming
    it, never a transcript from tiny.en."""
    wav = tmp_path / "speech.wav"
    _speech(wav, "Hello there.")
    (res,) = sdk({"method": "audio_to_text", "request": {"model_id": "openai/whisper-base"},
                  "files": {"audio": {"path": str(wav), "file_name": "speech.wav", "content_type": "audio/wav"}}})
    assert res["error"] == "errors.SDKError" and res["status"] == 503, res
    msg = json.loads(res["body"])["detail"]["msg"]
    assert "openai/whisper-base" in msg and "audio-to-text" in msg, msg


def test_timestamps_as_the_sdk_asks_for_them(sdk, ai_nodes, tmp_path):
    wav = tmp_path / "speech.wav"
    _speech(wav, SPOKEN)
    audio = {"audio": {"path": str(wav), "file_name": "speech.wav", "content_type": "audio/wav"}}
    words, none = sdk({"method": "audio_to_text", "request": {"return_timestamps": "word"}, "files": audio},
                      {"method": "audio_to_text", "request": {"return_timestamps": "false"}, "files": audio})
    words, none = _ok(words, ai_nodes, WHISPER), _ok(none, ai_nodes, WHISPER)
    said = [c["text"].strip(" .,").lower() for c in words["chunks"]]
    assert "sunny" in said and "friday" in said, said
    assert len(said) >= 10  # one chunk per word, not per sentence
    assert none["chunks"] == [] and "report" in none["text"].lower()


def test_speech_made_by_the_gateway_is_read_back_by_it(sdk, ai_nodes, tmp_path):
    """text-to-speech's WAV, downloaded from the gateway and sent back to audio-to-text: the words survive."""
    (spoken,) = sdk({"method": "text_to_speech", "request": {"text": "Artificial intelligence on an open network."}})
    wav = tmp_path / "tts.wav"
    wav.write_bytes(_download(ai_nodes, _ok(spoken, ai_nodes, TTS)["audio"]["url"]).content)
    (heard,) = sdk({"method": "audio_to_text", "request": {},
                    "files": {"audio": {"path": str(wav), "file_name": "tts.wav", "content_type": "audio/wav"}}})
    text = _ok(heard, ai_nodes, WHISPER)["text"].lower()
    assert "intelligence" in text and "network" in text, text
