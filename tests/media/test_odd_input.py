"""Odd sizes, 4:4:4 and 10-bit sources, garbage and cut-off segments, through the real ladder: renditions
keep the source's aspect ratio with even sides (lpms's rule), any decodable pixel format becomes 8-bit
4:2:0 H.264, and what cannot be used is refused in words about the input, not libav's."""

from __future__ import annotations

import os

import pytest

from core.media.encoders import probe_encoder
from core.media.ladder import MediaError, transcode
from core.media.profiles import VideoProfile
from core.media.synthetic import make_segment
from tests.media.sources import audio_only_ts, decoded, encode_ts

X264 = probe_encoder("x264", "ultrafast")
P240 = VideoProfile("240p0", 426, 240, 300_000)


def _one(data: bytes, profile: VideoProfile = P240):
    result = transcode(data, [profile], X264)
    (rendition,) = result.renditions
    return rendition, decoded(rendition.data)


@pytest.mark.parametrize(
    "source, profile, size",
    [
        ((320, 180), VideoProfile("odd", 427, 241, 300_000), (426, 240)),  # odd request on 16:9: rounded down
        ((640, 480), P240, (426, 320)),  # 4:3 keeps its shape (gateway-wire.md 3.4)
        ((180, 320), P240, (136, 240)),  # portrait: the profile's height, width from the aspect (135 -> 136)
    ],
    ids=["427x241-request", "4:3-source", "portrait-source"],
)
def test_renditions_keep_the_aspect_ratio_with_even_sides(source, profile, size):
    rendition, (frames, w, h, fmt) = _one(make_segment(*source, 0.5), profile)
    assert (w, h) == size and (rendition.width, rendition.height) == size
    assert frames == 15 and rendition.pixels == 15 * w * h
    assert fmt == "yuv420p"


@pytest.mark.parametrize(
    "width, height, pix_fmt",
    [(427, 241, "yuv444p"), (640, 360, "yuv444p10le"), (640, 360, "yuv420p10le"), (640, 360, "yuv422p")],
)
def test_odd_sized_444_and_10_bit_sources_are_converted_and_transcoded(width, height, pix_fmt):
    source = encode_ts(width, height, pix_fmt)
    assert decoded(source)[1:] == (width, height, pix_fmt)  # the input really is what the test says
    rendition, (frames, w, h, fmt) = _one(source)
    assert (frames, w, h, fmt) == (15, 426, 240, "yuv420p")


def _refusal(data: bytes) -> str:
    with pytest.raises(MediaError) as refused:
        transcode(data, [P240], X264)
    message = str(refused.value)
    assert "Errno" not in message and "avformat" not in message and "avcodec" not in message
    return message


def test_188_bytes_of_garbage_are_named_as_not_mpegts():
    message = _refusal(b"\x47" + os.urandom(187))
    assert "188 bytes are not MPEG-TS video" in message and "send H.264 video in MPEG-TS" in message


def test_big_garbage_is_named_as_not_mpegts():
    message = _refusal(b"\x47" + os.urandom(188 * 20_000 - 1))
    assert "3,760,000 bytes are not MPEG-TS video" in message


def test_a_segment_cut_before_its_first_frame_says_so():
    whole = make_segment(320, 180, 0.5)
    message = _refusal(whole[: 188 * 4])  # the tables and the start of the first keyframe
    assert "h264" in message and ("no picture size" in message or "no decodable frame" in message)


def test_a_segment_cut_mid_stream_still_gives_the_frames_it_holds():
    whole = make_segment(320, 180, 1.0)
    cut = whole[: len(whole) // 2 // 188 * 188]
    rendition, (frames, w, h, _) = _one(cut)
    assert (w, h) == (426, 240) and 0 < frames < 30


def test_audio_only_segment_is_named():
    assert "no video stream (it carries audio)" in _refusal(audio_only_ts())
