"""core.ai.units: go-livepeer's pricing units per pipeline (ai-gateway-wire.md §5) on requests as the SDK
sends them, and the fee in wei (exact, and rounded up to whole wei)."""

from __future__ import annotations

import io
import json
from fractions import Fraction

import httpx
import pytest

from core.ai import media
from core.ai.ports import Pipeline
from core.ai.requests import MediaFacts, parse_request, validate_media
from core.ai.units import audio_units, fee, fee_wei, units


def _png(w: int, h: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (0, 90, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _form(data, name, filename, blob, ctype):
    req = httpx.Request("POST", "http://gw.invalid/", data=data, files={name: (filename, blob, ctype)})
    return req.headers["content-type"], req.read()


def _json(body):
    return "application/json", json.dumps(body).encode()


def test_text_to_image_is_h_w_n():
    r = parse_request(Pipeline.TEXT_TO_IMAGE, *_json({"prompt": "p", "height": 512, "width": 768,
                                                      "num_images_per_prompt": 3}))
    assert units(Pipeline.TEXT_TO_IMAGE, r) == 512 * 768 * 3
    sdk_default = parse_request(Pipeline.TEXT_TO_IMAGE, *_json({"prompt": "p"}))
    assert units(Pipeline.TEXT_TO_IMAGE, sdk_default) == 576 * 1024


def test_image_pipelines_are_priced_by_the_input_image():
    png = _png(200, 120)
    up = parse_request(Pipeline.UPSCALE, *_form({"prompt": "p"}, "image", "a.png", png, "image/png"))
    assert units(Pipeline.UPSCALE, up, validate_media(Pipeline.UPSCALE, up)) == 200 * 120
    i2i = parse_request(Pipeline.IMAGE_TO_IMAGE, *_form({"prompt": "p", "num_images_per_prompt": "2"}, "image", "a.png",
                                                        png, "image/png"))
    assert units(Pipeline.IMAGE_TO_IMAGE, i2i, validate_media(Pipeline.IMAGE_TO_IMAGE, i2i)) == 200 * 120 * 2
    for p in (Pipeline.SEGMENT_ANYTHING_2, Pipeline.IMAGE_TO_TEXT):
        r = parse_request(p, *_form({}, "image", "a.png", png, "image/png"))
        assert units(p, r, validate_media(p, r)) == 24_000


def test_image_to_video_is_h_w_25():
    r = parse_request(Pipeline.IMAGE_TO_VIDEO, *_form({"height": "256", "width": "384"}, "image", "a.png", _png(8, 8),
                                                      "image/png"))
    assert units(Pipeline.IMAGE_TO_VIDEO, r, MediaFacts(8, 8)) == 256 * 384 * 25


def test_audio_is_whole_seconds_in_ms():
    import numpy as np

    wav = media.encode_wav(0.2 * np.sin(np.arange(int(2.7 * 16000)) / 4.0), 16000)
    r = parse_request(Pipeline.AUDIO_TO_TEXT, *_form({}, "audio", "a.wav", wav, "audio/wav"))
    assert units(Pipeline.AUDIO_TO_TEXT, r, validate_media(Pipeline.AUDIO_TO_TEXT, r)) == 2000
    assert audio_units(8.9) == 8000 and audio_units(1.0) == 1000


def test_llm_is_max_tokens_and_tts_is_1000_per_character():
    llm = parse_request(Pipeline.LLM, *_json({"messages": [{"role": "user", "content": "long " * 50}], "max_tokens": 64}))
    assert units(Pipeline.LLM, llm) == 64
    tts = parse_request(Pipeline.TEXT_TO_SPEECH, *_json({"text": "Grüß dich!"}))  # 10 characters, 12 UTF-8 bytes
    assert units(Pipeline.TEXT_TO_SPEECH, tts) == 10_000


def test_units_without_media_facts_say_what_is_missing():
    r = parse_request(Pipeline.UPSCALE, *_form({"prompt": "p"}, "image", "a.png", _png(4, 4), "image/png"))
    with pytest.raises(ValueError, match="upscale units need the input image's size"):
        units(Pipeline.UPSCALE, r)


def test_fee_exact_and_rounded_up():
    assert fee(24_000, Fraction(4768371), 1) == 24_000 * 4768371
    assert fee(1000, Fraction(1), 3) == Fraction(1000, 3)
    assert fee_wei(1000, Fraction(1), 3) == 334
    assert fee_wei(3000, Fraction(1), 3) == 1000
    assert fee_wei(8000, Fraction(1, 2000), 1_000_000) == 1  # 4e-6 wei still costs a whole wei
    with pytest.raises(ValueError, match="pixels_per_unit"):
        fee(1, Fraction(1), 0)
