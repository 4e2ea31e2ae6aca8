"""core.ai.responses: results in the exact schemas the livepeer-ai SDK parses (the SDK end-to-end tests check
them with the SDK itself), errors in both shapes, and an orchestrator's JSON read back
into a result whose media the gateway can fetch and re-host."""

from __future__ import annotations

import base64
import re
import json

import pytest

from core.ai.ports import (
    AudioResult,
    ImagesResult,
    ImageTextResult,
    InsufficientCapacity,
    LLMChunk,
    LLMResult,
    MasksResult,
    Media,
    Pipeline,
    RunnerFailed,
    TextChunk,
    TranscriptResult,
    Usage,
)
from core.ai.responses import (
    RemoteMedia,
    chunk_json,
    data_uri,
    decode_data_uri,
    error_json,
    parse_chunk,
    parse_result,
    sse_event,
    to_json,
)

PNG = Media(data=b"\x89PNG-bytes", content_type="image/png", extension=".png", seed=7, nsfw=False)
WAV = Media(data=b"RIFF....WAVE", content_type="audio/wav", extension=".wav")
USAGE = Usage(prompt_tokens=11, completion_tokens=5)


def url_of(m: Media) -> str:
    return f"/stream/req1/0{m.extension}"


def test_images_schema():
    body = to_json(ImagesResult(images=(PNG,)), url_of)
    assert body == {"images": [{"url": "/stream/req1/0.png", "seed": 7, "nsfw": False}]}


def test_transcript_schema_always_has_chunks():
    assert to_json(TranscriptResult(text="hello", chunks=()), url_of) == {"text": "hello", "chunks": []}
    body = to_json(TranscriptResult(text=" hi there", chunks=(TextChunk((0.0, 1.5), " hi there"),)), url_of)
    assert body["chunks"] == [{"timestamp": [0.0, 1.5], "text": " hi there"}]


def test_llm_and_chunk_schemas():
    body = to_json(LLMResult(id="chatcmpl-1", model="m", created=1700000000, text="Hello!", finish_reason="stop",
                             usage=USAGE), url_of)
    assert body == {"id": "chatcmpl-1", "model": "m", "created": 1700000000,
                    "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "Hello!"}}]}
    c = chunk_json(LLMChunk(id="chatcmpl-1", model="m", created=1, text="Hel", finish_reason="", usage=USAGE))
    assert c["choices"][0]["delta"] == {"role": "assistant", "content": "Hel"} and "message" not in c["choices"][0]
    ev = sse_event(c)
    assert ev.startswith(b"data: ") and ev.endswith(b"\n\n") and json.loads(ev[6:]) == c


def test_other_schemas():
    assert to_json(MasksResult("[[[0]]]", "[0.9]", "[[[1.0]]]"), url_of) == {
        "masks": "[[[0]]]", "scores": "[0.9]", "logits": "[[[1.0]]]"}
    assert to_json(ImageTextResult("a cat"), url_of) == {"text": "a cat"}
    assert to_json(AudioResult(WAV), url_of) == {"audio": {"url": "/stream/req1/0.wav"}}


def test_error_json_has_both_shapes():
    body = error_json(InsufficientCapacity(pipeline="llm"))
    assert body == {"detail": {"msg": "insufficient capacity"}, "error": {"message": "insufficient capacity"}}
    assert error_json("llm: model X is not served here")["detail"]["msg"] == "llm: model X is not served here"


def test_read_back_images_and_materialize():
    uri = data_uri(PNG)
    remote = parse_result(Pipeline.UPSCALE, {"images": [{"url": uri, "seed": 7, "nsfw": False},
                                                        {"url": "https://o:8935/stream/r/1.png", "seed": 8,
                                                         "nsfw": True}]})
    assert remote.result is None
    assert remote.media == (RemoteMedia(uri, 7, False, "image/png"),
                            RemoteMedia("https://o:8935/stream/r/1.png", 8, True, "image/png"))
    first = decode_data_uri(remote.media[0].url)
    assert first == (PNG.data, "image/png")
    result = remote.materialize([first, b"second-bytes"])
    assert isinstance(result, ImagesResult)
    assert [(m.data, m.content_type, m.extension, m.seed, m.nsfw) for m in result.images] == [
        (PNG.data, "image/png", ".png", 7, False), (b"second-bytes", "image/png", ".png", 8, True)]


def test_read_back_video_and_audio():
    v = parse_result(Pipeline.IMAGE_TO_VIDEO, {"images": [{"url": "https://o/stream/r/v", "seed": 1, "nsfw": False}]})
    assert v.materialize([(b"mp4", "video/mp4; codecs=avc1")]).images[0].extension == ".mp4"
    a = parse_result(Pipeline.TEXT_TO_SPEECH, {"audio": {"url": "data:audio/wav;base64," + base64.b64encode(b"W").decode()}})
    assert isinstance(a.materialize([decode_data_uri(a.media[0].url)]), AudioResult)


def test_read_back_text_results():
    t = parse_result(Pipeline.AUDIO_TO_TEXT, {"text": "hi", "chunks": [{"timestamp": [0, 1.2], "text": "hi"}]})
    assert t.result == TranscriptResult(text="hi", chunks=(TextChunk((0.0, 1.2), "hi"),)) and t.media == ()
    llm = parse_result(Pipeline.LLM, to_json(LLMResult("c", "m", 5, "yo", "length", USAGE), url_of))
    assert llm.result == LLMResult("c", "m", 5, "yo", "length", USAGE)
    assert parse_chunk(chunk_json(LLMChunk("c", "m", 5, "", "stop", USAGE))).finish_reason == "stop"
    assert parse_result(Pipeline.IMAGE_TO_TEXT, {"text": "a dog"}).result == ImageTextResult("a dog")
    sam = parse_result(Pipeline.SEGMENT_ANYTHING_2, {"masks": "[]", "scores": "[]", "logits": "[]"})
    assert sam.result == MasksResult("[]", "[]", "[]")


@pytest.mark.parametrize("pipeline, payload, needle", [
    (Pipeline.UPSCALE, {"images": []}, "'images' is empty"),
    (Pipeline.UPSCALE, {"frames": [[{"url": "x"}]]}, "'images' is missing"),
    (Pipeline.UPSCALE, {"images": [{"seed": 1}]}, "'images[0].url' is missing"),
    (Pipeline.LLM, {"choices": [{"delta": {}}]}, "'choices[0].message' is missing"),
    (Pipeline.AUDIO_TO_TEXT, {"text": 5}, "'text' is int"),
    (Pipeline.TEXT_TO_SPEECH, ["x"], "the body is list"),
])
def test_malformed_orchestrator_answers_are_runner_faults(pipeline, payload, needle):
    with pytest.raises(RunnerFailed, match=re.escape(needle)) as e:
        parse_result(pipeline, payload)
    assert e.value.status == 500 and pipeline.value in str(e.value)
