"""core.ai.models_file: aiModels.json as go-livepeer reads it (its documented examples), the inline form,
and an error naming the file, entry and field for each rule go enforces (or panics on)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from core.ai.models_file import AIModelsError, load_ai_models
from core.ai.ports import ModelSpec, Pipeline

ONCHAIN = dict(default_price=Fraction(0), default_pixels=1, offchain=False)
OFFCHAIN = dict(default_price=Fraction(0), default_pixels=1, offchain=True)


def write(tmp_path, entries) -> str:
    p = tmp_path / "aiModels.json"
    p.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    return str(p)


def test_go_livepeer_example_file(tmp_path):
    # The shape of go-livepeer's documented aiModels.json, one entry per kind of setting.
    path = write(tmp_path, """[
      {"pipeline": "text-to-image", "model_id": "ByteDance/SDXL-Lightning", "price_per_unit": 4768371,
       "warm": true, "optimization_flags": {"SFAST": true}},
      {"pipeline": "upscale", "model_id": "realesrgan/realesr-animevideov3-x4", "price_per_unit": 0.5e-3,
       "pixels_per_unit": 1000000, "currency": "USD", "capacity": 2},
      {"pipeline": "llm", "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "price_per_unit": 18,
       "gateway": "0xAbC0000000000000000000000000000000000001", "url": "http://127.0.0.1:8000", "token": "s3cret"},
      {"pipeline": "llm", "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "price_per_unit": 20}
    ]""")
    t2i, up, llm_gw, llm = load_ai_models(path, **ONCHAIN)
    assert t2i == ModelSpec(Pipeline.TEXT_TO_IMAGE, "ByteDance/SDXL-Lightning", warm=True, price_per_unit=Fraction(4768371),
                            pixels_per_unit=1, optimization_flags=(("SFAST", "true"),))
    assert (up.price_per_unit, up.pixels_per_unit, up.currency, up.capacity) == (Fraction(1, 2000), 1_000_000, "USD", 2)
    assert (llm_gw.gateway, llm_gw.url, llm_gw.token) == ("0xAbC0000000000000000000000000000000000001",
                                                          "http://127.0.0.1:8000", "s3cret")
    assert "s3cret" not in repr(llm_gw)
    assert (llm.gateway, llm.price_per_unit) == ("default", Fraction(20))


def test_defaults_fill_missing_prices_on_chain(tmp_path):
    path = write(tmp_path, [{"pipeline": "audio-to-text", "model_id": "openai/whisper-tiny.en"}])
    (spec,) = load_ai_models(path, default_price=Fraction(3, 2), default_pixels=10, offchain=False)
    assert (spec.price_per_unit, spec.pixels_per_unit, spec.warm, spec.capacity) == (Fraction(3, 2), 10, False, 1)


def test_offchain_ignores_prices(tmp_path):
    path = write(tmp_path, [{"pipeline": "llm", "model_id": "m", "price_per_unit": 7, "currency": "USD"}])
    (spec,) = load_ai_models(path, **OFFCHAIN)
    assert (spec.price_per_unit, spec.pixels_per_unit, spec.currency) == (None, None, "")


def test_inline_form():
    specs = load_ai_models("audio-to-text:openai/whisper-tiny.en:true, llm:HuggingFaceTB/SmolLM2-135M-Instruct:false",
                           **OFFCHAIN)
    assert [(s.pipeline, s.model_id, s.warm) for s in specs] == [
        (Pipeline.AUDIO_TO_TEXT, "openai/whisper-tiny.en", True), (Pipeline.LLM, "HuggingFaceTB/SmolLM2-135M-Instruct", False)]


@pytest.mark.parametrize("value, needle", [
    ("llm:m", "is not pipeline:model_id:warm"),
    ("llm:m:maybe", "warm must be true or false"),
    ("video:m:true", "unknown pipeline 'video'; lpc serves text-to-image, image-to-image"),
])
def test_inline_errors(value, needle):
    with pytest.raises(AIModelsError, match=needle):
        load_ai_models(value, **OFFCHAIN)


@pytest.mark.parametrize("entries, field, needle", [
    ([{"pipeline": "text-to-video", "model_id": "m"}], "pipeline", "unknown pipeline 'text-to-video'; lpc serves"),
    ([{"model_id": "m"}], "pipeline", "is missing"),
    ([{"pipeline": "llm", "model_id": ""}], "model_id", "must be a model id"),
    ([{"pipeline": "llm", "model_id": "m", "price_per_unit": "0.5USD"}], "price_per_unit",
     'bare JSON number .* put the currency in "currency"'),
    ([{"pipeline": "llm", "model_id": "m", "price_per_unit": -1}], "price_per_unit", "cannot be negative"),
    ([{"pipeline": "llm", "model_id": "m", "capacity": 0}], "capacity", "at least 1, got 0"),
    ([{"pipeline": "llm", "model_id": "m", "capacity": 1.5}], "capacity", "whole number"),
    ([{"pipeline": "llm", "model_id": "m", "warm": "yes"}], "warm", "true or false"),
    ([{"pipeline": "llm", "model_id": "m", "optimization_flags": {"SFAST": True}}], "optimization_flags",
     "only apply to a warm model"),
    ([{"pipeline": "llm", "model_id": "m", "capcity": 2}], "capcity", "did you mean 'capacity'"),
    ([{"pipeline": "llm", "model_id": "m", "pixels_per_unit": 0.5}], "pixels_per_unit", "whole number"),
    ([{"pipeline": "llm", "model_id": "m", "url": "ftp://x"}], "url", "http:// or https://"),
    ([{"pipeline": "llm", "model_id": "m", "currency": "USD"}], "currency", "price_per_unit is not"),
])
def test_entry_errors_name_file_entry_and_field(tmp_path, entries, field, needle):
    path = write(tmp_path, [{"pipeline": "upscale", "model_id": "ok", "price_per_unit": 1}] + entries)
    with pytest.raises(AIModelsError, match=needle) as e:
        load_ai_models(path, **ONCHAIN)
    assert (e.value.file, e.value.index, e.value.field) == (path, 1, field)
    assert str(e.value).startswith(f"{path} entry 1 '{field}': ")


def test_warm_and_cold_same_model_is_refused(tmp_path):
    path = write(tmp_path, [{"pipeline": "llm", "model_id": "m", "warm": True},
                            {"pipeline": "llm", "model_id": "m", "warm": False, "gateway": "0x01"}])
    with pytest.raises(AIModelsError, match="warm in one entry and cold in another") as e:
        load_ai_models(path, **OFFCHAIN)
    assert e.value.index == 1


def test_same_model_twice_for_one_gateway_is_refused(tmp_path):
    path = write(tmp_path, [{"pipeline": "llm", "model_id": "m"}, {"pipeline": "llm", "model_id": "m"}])
    with pytest.raises(AIModelsError, match="already entry 0"):
        load_ai_models(path, **OFFCHAIN)


def test_on_chain_zero_price_without_default_is_refused(tmp_path):
    path = write(tmp_path, [{"pipeline": "llm", "model_id": "m"}])
    with pytest.raises(AIModelsError, match="on chain every model needs a price.*-pricePerUnit"):
        load_ai_models(path, **ONCHAIN)
    assert load_ai_models(path, **OFFCHAIN)[0].price_per_unit is None


@pytest.mark.parametrize("text, needle", [
    ("{\"pipeline\": \"llm\"}", "must be a JSON array"),
    ("[{\"pipeline\": \"llm\",]", "is not valid JSON: .* line 1"),
    ("[1]", "each entry must be a JSON object"),
])
def test_file_shape_errors(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(AIModelsError, match=needle) as e:
        load_ai_models(path, **OFFCHAIN)
    assert e.value.file == path


def test_missing_file_is_named(tmp_path):
    missing = str(tmp_path / "nope" / "aiModels.json")
    with pytest.raises(AIModelsError, match="no such file") as e:
        load_ai_models(missing, **OFFCHAIN)
    assert e.value.file == missing
