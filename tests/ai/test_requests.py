"""core.ai.requests: the SDK's bodies (JSON, or multipart built by httpx, the encoder the livepeer-ai SDK
uses) parse into the request dataclasses with the SDK's defaults, every bad input is refused with the field
named and the right status, and encode_request round-trips what the gateway forwards to an orchestrator."""

from __future__ import annotations

import io
import json

import httpx
import pytest

from core.ai import media
from core.ai.ports import (
    AudioToTextRequest,
    BadRequest,
    ChatMessage,
    ImageToVideoRequest,
    LLMRequest,
    Pipeline,
    SegmentAnything2Request,
    TextToImageRequest,
    TextToSpeechRequest,
    TooLarge,
    UnsupportedMedia,
    Upload,
)
from core.ai.requests import (
    MediaFacts,
    encode_request,
    parse_multipart,
    parse_request,
    prepare_media,
    validate_media,
)


def form(data: dict, files: dict) -> tuple[str, bytes]:
    """A multipart body exactly as httpx (inside the SDK) encodes it."""
    req = httpx.Request("POST", "http://gw.invalid/", data=data, files=files)
    return req.headers["content-type"], req.read()


def as_json(data: dict) -> tuple[str, bytes]:
    return "application/json", json.dumps(data).encode()


@pytest.fixture(scope="module")
def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 64), (200, 30, 40)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def wav() -> bytes:
    import numpy as np

    t = np.arange(int(2.5 * 16000)) / 16000
    return media.encode_wav(0.3 * np.sin(2 * np.pi * 440 * t), 16000)


# SDK-shaped bodies: every default serialised, model_id "" (ai-gateway-wire.md trap 3), seed omitted.
def sdk_t2i(**over):
    body = {"prompt": "a red fox", "model_id": "", "loras": "", "height": 576, "width": 1024, "guidance_scale": 7.5,
            "negative_prompt": "", "safety_check": True, "num_inference_steps": 50, "num_images_per_prompt": 1}
    body.update(over)
    return as_json(body)


def sdk_llm(**over):
    body = {"messages": [{"role": "user", "content": "Say hello"}], "model": "", "temperature": 0.7,
            "max_tokens": 256, "top_p": 1, "top_k": -1, "stream": False}
    body.update(over)
    return as_json(body)


def sdk_upscale(png, **over):
    data = {"prompt": "sharper", "model_id": "", "safety_check": "true", "num_inference_steps": "75"}
    data.update(over)
    return form(data, {"image": ("fox.png", png, "image/png")})


def sdk_a2t(audio, **over):
    data = {"model_id": "", "return_timestamps": "true"}
    data.update(over)
    return form(data, {"audio": ("speech.wav", audio, "audio/wav")})


def test_multipart_fields_and_files(png):
    fields, files = parse_multipart(*form({"prompt": "x", "seed": "7"}, {"image": ("a.png", png, "image/png")}))
    assert fields == {"prompt": "x", "seed": "7"}
    assert files["image"].filename == "a.png" and files["image"].content_type == "image/png"
    assert files["image"].data == png


@pytest.mark.parametrize("ctype", ["multipart/form-data", "multipart/form-data; boundary="])
def test_multipart_without_boundary_is_bad_request(ctype, png):
    _ct, body = form({"prompt": "x"}, {"image": ("a.png", png, "image/png")})
    with pytest.raises(BadRequest, match="boundary"):
        parse_multipart(ctype, body)


def test_multipart_with_the_wrong_boundary_is_bad_request(png):
    _ct, body = form({"prompt": "x"}, {"image": ("a.png", png, "image/png")})
    with pytest.raises(BadRequest, match="boundary"):
        parse_multipart("multipart/form-data; boundary=not-the-one", body)


def test_text_to_image_sdk_defaults():
    r = parse_request(Pipeline.TEXT_TO_IMAGE, *sdk_t2i())
    assert r == TextToImageRequest(prompt="a red fox")
    r = parse_request(Pipeline.TEXT_TO_IMAGE, *sdk_t2i(seed=42, width=512, height=512, unknown_field="ignored"))
    assert (r.seed, r.width, r.height) == (42, 512, 512)


def test_llm_sdk_body():
    r = parse_request(Pipeline.LLM, *sdk_llm(messages=[{"role": "system", "content": "Be brief."},
                                                       {"role": "user", "content": "Hi"}], temperature=0, stream=True))
    assert r.messages == (ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"))
    assert (r.model, r.temperature, r.max_tokens, r.top_p, r.top_k, r.stream) == ("", 0.0, 256, 1.0, -1, True)


def test_text_to_speech_sdk_body():
    r = parse_request(Pipeline.TEXT_TO_SPEECH, *as_json({"model_id": "", "text": "Hello there",
                                                         "description": TextToSpeechRequest.description}))
    assert r == TextToSpeechRequest(text="Hello there")


def test_upscale_and_image_forms(png):
    r = parse_request(Pipeline.UPSCALE, *sdk_upscale(png, seed="3", safety_check="false"))
    assert (r.prompt, r.seed, r.safety_check, r.num_inference_steps, r.image.data) == ("sharper", 3, False, 75, png)
    r = parse_request(Pipeline.IMAGE_TO_IMAGE, *form({"prompt": "p", "model_id": "", "strength": "0.5",
                                                      "num_images_per_prompt": "2"}, {"image": ("a.png", png, "image/png")}))
    assert (r.strength, r.num_images_per_prompt, r.num_inference_steps) == (0.5, 2, 100)
    r = parse_request(Pipeline.IMAGE_TO_TEXT, *form({"model_id": ""}, {"image": ("a.png", png, "image/png")}))
    assert r.prompt == "" and r.image.data == png


def test_image_to_video_and_sam2_forms(png):
    r = parse_request(Pipeline.IMAGE_TO_VIDEO, *form({"model_id": "", "height": "256", "width": "512", "fps": "8"},
                                                     {"image": ("a.png", png, "image/png")}))
    assert isinstance(r, ImageToVideoRequest) and (r.height, r.width, r.fps, r.motion_bucket_id) == (256, 512, 8, 127)
    r = parse_request(Pipeline.SEGMENT_ANYTHING_2, *form(
        {"model_id": "", "point_coords": "[[10, 20]]", "point_labels": "[1]", "multimask_output": "false"},
        {"image": ("a.png", png, "image/png")}))
    assert isinstance(r, SegmentAnything2Request)
    assert (r.point_coords, r.point_labels, r.box, r.multimask_output) == ("[[10, 20]]", "[1]", None, False)


def test_audio_to_text_form(wav):
    r = parse_request(Pipeline.AUDIO_TO_TEXT, *sdk_a2t(wav, return_timestamps="word"))
    assert isinstance(r, AudioToTextRequest) and r.return_timestamps == "word" and r.audio.data == wav


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("pipeline, wants", [(Pipeline.LLM, "application/json"),
                                             (Pipeline.TEXT_TO_IMAGE, "application/json"),
                                             (Pipeline.TEXT_TO_SPEECH, "application/json")])
def test_json_pipelines_refuse_forms(pipeline, wants):
    with pytest.raises(UnsupportedMedia, match=wants) as e:
        parse_request(pipeline, *form({"prompt": "x"}, {}))
    assert e.value.status == 415 and pipeline.value in str(e.value)


def test_form_pipelines_refuse_json():
    with pytest.raises(UnsupportedMedia, match="multipart/form-data") as e:
        parse_request(Pipeline.AUDIO_TO_TEXT, *as_json({"model_id": ""}))
    assert e.value.status == 415


@pytest.mark.parametrize("pipeline, field", [(Pipeline.AUDIO_TO_TEXT, "audio"), (Pipeline.UPSCALE, "image"),
                                             (Pipeline.IMAGE_TO_VIDEO, "image"),
                                             (Pipeline.SEGMENT_ANYTHING_2, "image")])
def test_missing_file_names_it(pipeline, field):
    with pytest.raises(BadRequest) as e:
        parse_request(pipeline, *form({"model_id": "", "prompt": "p"}, {"other": ("x.bin", b"123", "application/x")}))
    assert str(e.value) == f"{pipeline.value}: the '{field}' file is missing"


def test_missing_and_empty_prompts(png):
    with pytest.raises(BadRequest, match="'prompt' field is missing"):
        parse_request(Pipeline.TEXT_TO_IMAGE, *as_json({"model_id": ""}))
    with pytest.raises(BadRequest, match="Prompt must be provided."):
        parse_request(Pipeline.TEXT_TO_IMAGE, *sdk_t2i(prompt="   "))
    with pytest.raises(BadRequest, match="Prompt must be provided."):
        parse_request(Pipeline.UPSCALE, *sdk_upscale(png, prompt=""))
    with pytest.raises(BadRequest, match="text-to-speech: Text input must be provided."):
        parse_request(Pipeline.TEXT_TO_SPEECH, *as_json({"model_id": "", "text": ""}))


@pytest.mark.parametrize("over, field", [
    ({"height": "tall"}, "height"), ({"width": 12.5}, "width"), ({"seed": True}, "seed"),
    ({"guidance_scale": "x"}, "guidance_scale"), ({"safety_check": "yes"}, "safety_check"),
    ({"prompt": 5}, "prompt"), ({"loras": "{not json"}, "loras"), ({"loras": "[1]"}, "loras"),
])
def test_wrong_types_name_field_and_value(over, field):
    with pytest.raises(BadRequest) as e:
        parse_request(Pipeline.TEXT_TO_IMAGE, *sdk_t2i(**over))
    assert f"'{field}'" in str(e.value) and repr(next(iter(over.values())))[:10] in str(e.value)


@pytest.mark.parametrize("over, field", [
    ({"height": 4}, "height"), ({"width": 4096}, "width"), ({"num_inference_steps": 0}, "num_inference_steps"),
    ({"num_inference_steps": 201}, "num_inference_steps"), ({"num_images_per_prompt": 9}, "num_images_per_prompt"),
    ({"guidance_scale": 51}, "guidance_scale"), ({"seed": -1}, "seed"),
])
def test_t2i_bounds(over, field):
    with pytest.raises(BadRequest, match=f"'{field}' must be between"):
        parse_request(Pipeline.TEXT_TO_IMAGE, *sdk_t2i(**over))


def test_form_bounds_and_i2v_multiple_of_8(png):
    img = {"image": ("a.png", png, "image/png")}
    with pytest.raises(BadRequest, match="'strength' must be between 0 and 1, got 1.5"):
        parse_request(Pipeline.IMAGE_TO_IMAGE, *form({"prompt": "p", "strength": "1.5"}, img))
    with pytest.raises(BadRequest, match="'height' must be a multiple of 8, got 100"):
        parse_request(Pipeline.IMAGE_TO_VIDEO, *form({"height": "100"}, img))
    with pytest.raises(BadRequest, match="'num_inference_steps' must be a whole number, got '7.5'"):
        parse_request(Pipeline.UPSCALE, *sdk_upscale(png, num_inference_steps="7.5"))
    with pytest.raises(BadRequest, match="'point_coords' must be a JSON array"):
        parse_request(Pipeline.SEGMENT_ANYTHING_2, *form({"point_coords": "[[1,2]"}, img))


def test_audio_return_timestamps_value(wav):
    with pytest.raises(BadRequest, match="'return_timestamps' must be one of"):
        parse_request(Pipeline.AUDIO_TO_TEXT, *sdk_a2t(wav, return_timestamps="sometimes"))


@pytest.mark.parametrize("over, needle", [
    ({"messages": []}, "'messages' must be a non-empty list"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "'messages[0].role' must be one of system, user, assistant"),
    ({"messages": [{"role": "user", "content": ["x"]}]}, "'messages[0].content' must be a string"),
    ({"messages": ["hi"]}, "'messages[0]' must be an object"),
    ({"temperature": 2.5}, "'temperature' must be between 0 and 2"),
    ({"top_p": 0}, "'top_p' must be above 0 and at most 1"),
    ({"top_p": 1.5}, "'top_p' must be between 0 and 1"),
    ({"max_tokens": 0}, "'max_tokens' must be between 1 and 4096"),
    ({"max_tokens": 5000}, "'max_tokens' must be between 1 and 4096"),
    ({"stream": "true"}, "'stream' must be true or false"),
    ({"top_k": 0}, "'top_k' must be -1 (off) or a positive whole number, got 0"),
])
def test_llm_errors(over, needle):
    with pytest.raises(BadRequest) as e:
        parse_request(Pipeline.LLM, *sdk_llm(**over))
    assert needle in str(e.value) and str(e.value).startswith("llm: ")


def test_llm_missing_messages_and_bad_json():
    with pytest.raises(BadRequest, match="llm: the 'messages' field is missing"):
        parse_request(Pipeline.LLM, *as_json({"model": ""}))
    with pytest.raises(BadRequest, match="not valid JSON"):
        parse_request(Pipeline.LLM, "application/json", b"{\"messages\": [")
    with pytest.raises(BadRequest, match="must be a JSON object"):
        parse_request(Pipeline.LLM, "application/json", b"[1, 2]")


def test_too_large_prompts_and_messages():
    with pytest.raises(TooLarge, match="'prompt' is 10,001 characters; the limit is 10,000") as e:
        parse_request(Pipeline.TEXT_TO_IMAGE, *sdk_t2i(prompt="a" * 10_001))
    assert e.value.status == 413
    with pytest.raises(TooLarge, match="'text' is"):
        parse_request(Pipeline.TEXT_TO_SPEECH, *as_json({"text": "b" * 10_001}))
    big = [{"role": "user", "content": "x" * 600_000}, {"role": "assistant", "content": "y" * 600_000}]
    with pytest.raises(TooLarge, match="1 MiB"):
        parse_request(Pipeline.LLM, *sdk_llm(messages=big))


def test_file_over_50_mb_is_too_large():
    with pytest.raises(TooLarge, match="'audio' file .* the limit is 50 MiB") as e:
        parse_request(Pipeline.AUDIO_TO_TEXT, *sdk_a2t(b"\0" * (50 * 1024 * 1024 + 1)))
    assert e.value.status == 413


# ------------------------------------------------------------------------------------------ media
def test_validate_media_reports_image_size_and_audio_length(png, wav):
    assert validate_media(Pipeline.UPSCALE, parse_request(Pipeline.UPSCALE, *sdk_upscale(png))) == MediaFacts(96, 64)
    facts = validate_media(Pipeline.AUDIO_TO_TEXT, parse_request(Pipeline.AUDIO_TO_TEXT, *sdk_a2t(wav)))
    assert facts.audio_s == pytest.approx(2.5, abs=0.05) and facts.width is None
    assert validate_media(Pipeline.LLM, parse_request(Pipeline.LLM, *sdk_llm())) == MediaFacts()


def test_the_orchestrator_decodes_audio_once_and_hands_the_samples_on(wav, png):
    request = parse_request(Pipeline.AUDIO_TO_TEXT, *sdk_a2t(wav))
    facts, kept = prepare_media(Pipeline.AUDIO_TO_TEXT, request)
    samples, seconds = kept.audio.decoded
    assert facts.audio_s == seconds == pytest.approx(2.5, abs=0.05)
    assert len(samples) == pytest.approx(seconds * 16000, abs=1) and samples.dtype.name == "float32"
    assert kept.audio == request.audio and "decoded" not in repr(kept.audio)  # bytes unchanged, never shown
    with pytest.raises(UnsupportedMedia, match="Unsupported audio format"):
        prepare_media(Pipeline.AUDIO_TO_TEXT, parse_request(Pipeline.AUDIO_TO_TEXT, *sdk_a2t(b"not audio" * 90)))
    upscale = parse_request(Pipeline.UPSCALE, *sdk_upscale(png))
    assert prepare_media(Pipeline.UPSCALE, upscale) == (MediaFacts(96, 64), upscale)


def test_validate_media_refuses_corrupt_files(png):
    with pytest.raises(UnsupportedMedia, match="audio-to-text: Unsupported audio format") as e:
        validate_media(Pipeline.AUDIO_TO_TEXT, parse_request(Pipeline.AUDIO_TO_TEXT, *sdk_a2t(b"not audio at all" * 50)))
    assert e.value.status == 415
    with pytest.raises(UnsupportedMedia, match="upscale: fox.png is not an image"):
        validate_media(Pipeline.UPSCALE, parse_request(Pipeline.UPSCALE, *sdk_upscale(b"GIF? no" * 20)))
    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((128, 128), 40).convert("RGB").save(buf, format="PNG")
    truncated = buf.getvalue()[: len(buf.getvalue()) // 2]  # a valid header, half the pixels
    with pytest.raises(UnsupportedMedia, match="truncated"):
        validate_media(Pipeline.IMAGE_TO_TEXT, parse_request(Pipeline.IMAGE_TO_TEXT, *form(
            {}, {"image": ("half.png", truncated, "image/png")})))


# ------------------------------------------------------------------------------------------ encoding
def test_encode_form_round_trips_with_the_concrete_model(png):
    req = parse_request(Pipeline.UPSCALE, *sdk_upscale(png, seed="9", safety_check="false"))
    ctype, body = encode_request(Pipeline.UPSCALE, req, model_id="realesrgan/realesr-animevideov3-x4")
    assert ctype.startswith("multipart/form-data; boundary=")
    again = parse_request(Pipeline.UPSCALE, ctype, body)
    assert again.model_id == "realesrgan/realesr-animevideov3-x4"
    assert (again.prompt, again.seed, again.safety_check, again.image.data) == ("sharper", 9, False, png)


def test_encode_audio_adds_go_livepeer_metadata(wav):
    req = parse_request(Pipeline.AUDIO_TO_TEXT, *sdk_a2t(wav))
    ctype, body = encode_request(Pipeline.AUDIO_TO_TEXT, req, model_id="openai/whisper-tiny.en",
                                 extra_fields={"duration": 2})
    fields, files = parse_multipart(ctype, body)
    assert json.loads(fields["metadata"]) == {"duration": "2"}
    assert fields["model_id"] == "openai/whisper-tiny.en" and files["audio"].data == wav


def test_encode_json_round_trips():
    req = parse_request(Pipeline.LLM, *sdk_llm(max_tokens=12))
    ctype, body = encode_request(Pipeline.LLM, req, model_id="HuggingFaceTB/SmolLM2-135M-Instruct")
    assert ctype == "application/json" and json.loads(body)["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert parse_request(Pipeline.LLM, ctype, body) == LLMRequest(
        messages=(ChatMessage("user", "Say hello"),), model="HuggingFaceTB/SmolLM2-135M-Instruct", max_tokens=12)
    t2i = parse_request(Pipeline.TEXT_TO_IMAGE, *sdk_t2i())
    assert "seed" not in json.loads(encode_request(Pipeline.TEXT_TO_IMAGE, t2i, model_id="m")[1])


def test_uploads_are_not_shown_in_repr(png):
    assert "data" not in repr(Upload("a.png", "image/png", png))
