"""A hostile client's bodies against core.ai.requests and core.ai.media, the parsing both the gateway and the
orchestrator share: every one must end as a clear 4xx AIError naming what was wrong, never as a
RecursionError, a UnicodeEncodeError or a decode that eats the machine's memory (each of those reached the
O's catch-all as a 500 with a traceback in the log before these fixes)."""

from __future__ import annotations

import io
import json
import resource
import struct
import subprocess
import zlib
from pathlib import Path

import httpx
import pytest
from PIL import Image

from core.ai import media, requests
from core.ai.ports import AIError, BadRequest, Pipeline, TooLarge, UnsupportedMedia, Upload

JSON = "application/json"
MSG = [{"role": "user", "content": "hi"}]


def _llm(body: bytes):
    return requests.parse_request(Pipeline.LLM, JSON, body)


def _form(data: dict, files: dict) -> tuple[str, bytes]:
    req = httpx.Request("POST", "http://x/", data=data, files=files)
    return req.headers["content-type"], req.read()


def _png(w=64, h=48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


# ------------------------------------------------------------------------------------------ JSON
@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000,
                                  b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"])
def test_deeply_nested_json_is_400_not_a_recursion_error(body):
    with pytest.raises(BadRequest, match="nested too deeply"):
        _llm(body)


def test_deeply_nested_json_inside_a_json_string_field_is_400_naming_the_field():
    body = json.dumps({"prompt": "a cat", "loras": '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"}).encode()
    with pytest.raises(BadRequest, match="'loras' must be a JSON object"):
        requests.parse_request(Pipeline.TEXT_TO_IMAGE, JSON, body)


@pytest.mark.parametrize("field, value, words", [
    ("max_tokens", "1" + "0" * 5000, "not valid JSON"),  # 10**5000: Python's int limit, said as a JSON error
    ("max_tokens", "1e309", "'max_tokens' must be a whole number"),
    ("temperature", "1e309", "'temperature' must be a finite number"),
    ("temperature", "NaN", "'temperature' must be a finite number"),
    ("top_p", "-Infinity", "'top_p' must be a finite number"),
    ("top_k", "NaN", "'top_k' must be a whole number"),
    ("max_tokens", '"256"', "'max_tokens' must be a whole number"),
    ("stream", '"yes"', "'stream' must be true or false"),
    ("model", "[]", "'model' must be a string"),
])
def test_huge_and_non_finite_numbers_and_wrong_types_are_400_naming_the_field(field, value, words):
    body = b'{"messages": [{"role": "user", "content": "hi"}], "%s": %s}' % (field.encode(), value.encode())
    with pytest.raises(BadRequest, match=words):
        _llm(body)


@pytest.mark.parametrize("body", [b"[1, 2]", b"5", b'"text"', b"null", b"", b"\xff\xfe{", b"not json"])
def test_a_body_that_is_not_a_json_object_is_400(body):
    with pytest.raises(BadRequest, match="JSON"):
        _llm(body)


def test_a_lone_surrogate_in_a_message_or_a_prompt_is_400_naming_the_field():
    with pytest.raises(BadRequest, match=r"'messages\[0\].content' holds an unpaired UTF-16 surrogate"):
        _llm(b'{"messages": [{"role": "user", "content": "ab\\ud800"}]}')
    with pytest.raises(BadRequest, match="'text' holds an unpaired"):
        requests.parse_request(Pipeline.TEXT_TO_SPEECH, JSON, b'{"text": "\\udfff hello"}')
    paired = _llm(b'{"messages": [{"role": "user", "content": "\\ud83d\\ude00"}]}')  # a real emoji passes
    assert paired.messages[0].content == "\U0001F600"


def test_llm_messages_over_1_mib_are_413_and_100000_small_ones_parse():
    big = json.dumps({"messages": [{"role": "user", "content": "x" * ((1 << 20) + 1)}]}).encode()
    with pytest.raises(TooLarge, match="1 MiB"):
        _llm(big)
    many = _llm(json.dumps({"messages": MSG * 100_000}).encode())  # the runner's context bound answers these
    assert len(many.messages) == 100_000


@pytest.mark.parametrize("model", ["a/b\nINFO forged log line", "x" * 300, "tab\there"])
def test_a_model_id_with_control_characters_or_too_long_is_400(model):
    with pytest.raises(BadRequest, match="'model_id' must be a model id such as 'org/name'") as err:
        requests.parse_request(Pipeline.TEXT_TO_SPEECH, JSON, json.dumps({"text": "hi", "model_id": model}).encode())
    assert "\n" not in str(err.value)
    with pytest.raises(BadRequest, match="'model' must be a model id"):
        _llm(json.dumps({"messages": MSG, "model": model}).encode())
    assert requests.parse_request(Pipeline.TEXT_TO_SPEECH, JSON, b'{"text": "hi", "model_id": "../../etc"}').model_id \
        == "../../etc"  # printable: the worker's lookup (a dict of configured ids) answers it with a 503


# ------------------------------------------------------------------------------------------ multipart
def test_a_multipart_body_cut_before_its_closing_boundary_says_so():
    ctype, body = _form({"prompt": "x"}, {"image": ("a.png", _png(), "image/png")})
    for cut in (body[:-10], body[: len(body) // 2]):
        with pytest.raises(BadRequest, match="truncated multipart/form-data body"):
            requests.parse_request(Pipeline.UPSCALE, ctype, cut)


def test_no_boundary_garbage_and_an_empty_form_are_400():
    ctype, body = _form({"prompt": "x"}, {"image": ("a.png", _png(), "image/png")})
    with pytest.raises(BadRequest, match="without a boundary"):
        requests.parse_request(Pipeline.UPSCALE, "multipart/form-data", body)
    with pytest.raises(BadRequest, match="malformed multipart"):
        requests.parse_request(Pipeline.UPSCALE, ctype, b"hello world")
    with pytest.raises(BadRequest, match="malformed multipart"):
        requests.parse_request(Pipeline.UPSCALE, ctype, b"")


def _boundary(ctype: str) -> bytes:
    return ctype.split("boundary=", 1)[1].encode()


def test_a_file_part_over_50_mb_is_413_naming_it():
    ctype, body = _form({"prompt": "x"}, {"image": ("big.png", b"\0" * (requests.MAX_FILE_BYTES + 10), "image/png")})
    with pytest.raises(TooLarge, match=r"the 'image' file \(big.png\) is over 50 MiB"):
        requests.parse_request(Pipeline.UPSCALE, ctype, body)


def test_10000_tiny_parts_are_parsed_and_the_missing_field_named():
    ctype, _ = _form({"prompt": "x"}, {"image": ("a.png", b"x", "image/png")})
    b = _boundary(ctype)
    body = b"".join(b"--%s\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n" % (b, i) for i in range(10_000))
    with pytest.raises(BadRequest, match="'prompt' field is missing"):
        requests.parse_request(Pipeline.UPSCALE, ctype, body + b"--" + b + b"--\r\n")


def test_a_non_utf8_field_is_400_and_duplicate_fields_keep_the_last():
    ctype, _ = _form({"prompt": "x"}, {"image": ("a.png", b"x", "image/png")})
    b = _boundary(ctype)
    part = b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
    bad = part % (b, b"prompt", b"\xff\xfe") + b"--" + b + b"--\r\n"
    with pytest.raises(BadRequest, match="form field 'prompt' is not UTF-8"):
        requests.parse_request(Pipeline.UPSCALE, ctype, bad)
    image = b'--%s\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n%s\r\n' % (b, _png())
    dup = part % (b, b"prompt", b"first") + part % (b, b"prompt", b"second") + image + b"--" + b + b"--\r\n"
    assert requests.parse_request(Pipeline.UPSCALE, ctype, dup).prompt == "second"  # the last of repeated names wins


def test_a_filename_with_path_separators_nul_and_newlines_is_its_printable_base_name():
    ctype, _ = _form({"prompt": "x"}, {"image": ("a.png", b"x", "image/png")})
    b = _boundary(ctype)
    body = (b'--%s\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n' % b
            + b'--%s\r\nContent-Disposition: form-data; name="image"; filename="..\\\\..\\\\../etc/pa\x00ss\nwd"\r\n'
              b"Content-Type: image/png\r\n\r\nABC\r\n" % b + b"--" + b + b"--\r\n")
    request = requests.parse_request(Pipeline.UPSCALE, ctype, body)
    assert request.image.filename == "pa?ss?wd"
    with pytest.raises(UnsupportedMedia) as err:  # the error names the file without a forged log line
        requests.validate_media(Pipeline.UPSCALE, request)
    assert "\n" not in str(err.value) and "\x00" not in str(err.value) and "pa?ss?wd" in str(err.value)
    _, hop = requests.encode_request(Pipeline.UPSCALE, request, model_id="m")
    assert b'filename="pa?ss?wd"' in hop


# ------------------------------------------------------------------------------------------ media
def _png_declaring(w: int, h: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10_000)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("w, h", [(30000, 30000), (5000, 5000), (1, 20_000_000)])
def test_a_png_bomb_is_413_before_its_pixels_are_decoded(w, h):
    bomb = _png_declaring(w, h)
    assert len(bomb) < 1000
    with pytest.raises(TooLarge, match="pixels"):
        media.decode_image(Upload("bomb.png", "image/png", bomb), pipeline="upscale")


def test_truncated_images_and_an_mp4_posing_as_a_png_are_415():
    png = _png(200, 200)
    jpg = io.BytesIO()
    Image.new("RGB", (200, 200), (1, 2, 3)).save(jpg, "JPEG")
    for name, data in (("cut.png", png[: len(png) // 2]), ("cut.jpg", jpg.getvalue()[:300])):
        with pytest.raises(UnsupportedMedia, match="(?i)truncated"):
            media.decode_image(Upload(name, "image/png", data), pipeline="upscale")
    mp4 = _ffmpeg("-f lavfi -i testsrc=size=64x64:rate=5 -t 1 -c:v libx264", "v.mp4")
    with pytest.raises(UnsupportedMedia, match="no image format") as err:
        media.decode_image(Upload("v.png", "image/png", mp4), pipeline="upscale")
    assert "0x" not in str(err.value)  # no "<_io.BytesIO object at 0x…>" for the user


_TMP = Path("/tmp") / "lpc-ai-hostile"


def _ffmpeg(args: str, name: str) -> bytes:
    _TMP.mkdir(exist_ok=True)
    out = _TMP / name
    if not out.exists():
        subprocess.run(f"ffmpeg -loglevel error -y {args} {out}.part.{out.suffix[1:]} && mv {out}.part.{out.suffix[1:]} {out}",
                       shell=True, check=True)
    return out.read_bytes()


def test_audio_that_is_a_png_half_a_second_and_garbage_frames_are_client_errors():
    with pytest.raises(AIError) as err:
        media.audio_seconds(Upload("a.wav", "audio/wav", _png()))
    assert err.value.status in (400, 415) and "no audio stream" in str(err.value)
    half = _ffmpeg("-f lavfi -i anullsrc=r=8000:cl=mono -t 0.5", "half.wav")
    with pytest.raises(BadRequest, match="0.50 s of audio; at least 1 s"):
        media.decode_audio(Upload("half.wav", "audio/wav", half))
    mp3 = bytearray(_ffmpeg("-f lavfi -i sine=f=440:r=16000 -t 3", "sine.mp3"))
    for i in range(2000, len(mp3), 97):
        mp3[i] ^= 0x5A
    try:
        seconds = media.audio_seconds(Upload("g.mp3", "audio/mpeg", bytes(mp3)))
        assert 1 <= seconds <= 3.2  # FFmpeg skipped the bad frames: what it could read is timed
    except UnsupportedMedia as exc:
        assert "malformed" in str(exc)
    wav = bytearray(_ffmpeg("-f lavfi -i sine=f=440:r=8000 -t 2", "sine.wav"))
    wav[4:8] = struct.pack("<I", 0xFFFFFFF0)  # RIFF size: 4 GB
    wav[40:44] = struct.pack("<I", 0xFFFFFF00)  # data size: 4 GB
    try:  # either the bytes that are there are timed, or FFmpeg calls the header malformed: never 4 GB read
        seconds = media.audio_seconds(Upload("lie.wav", "audio/wav", bytes(wav)))
        assert 1.9 <= seconds <= 2.1
    except UnsupportedMedia as exc:
        assert "malformed" in str(exc) and "lie.wav" in str(exc)


def test_two_hours_of_silence_in_a_small_file_is_413_without_decoding_it():
    opus = _ffmpeg("-f lavfi -i anullsrc=r=8000:cl=mono -t 7200 -c:a libopus -b:a 6k -frame_duration 120 -application lowdelay", "2h.opus")
    assert len(opus) < 4 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for decode in (media.audio_seconds, media.decode_audio):
        with pytest.raises(TooLarge, match="7200 s of audio; the limit is 1800 s"):
            decode(Upload("2h.opus", "audio/ogg", opus))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB: no 460 MB of samples


def test_audio_longer_than_the_limit_is_counted_while_decoding():
    sine = _ffmpeg("-f lavfi -i sine=f=440:r=16000 -t 3", "sine3.wav")
    with pytest.raises(TooLarge, match="the limit is 2 s"):
        media.audio_seconds(Upload("s.wav", "audio/wav", sine), max_seconds=2)
    assert 2.9 < media.audio_seconds(Upload("s.wav", "audio/wav", sine)) < 3.1
