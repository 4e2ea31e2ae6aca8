"""The keyframe segmenter on FLV bytes made by the ffmpeg CLI, fed as they would arrive."""

from __future__ import annotations

import subprocess
import threading

import pytest

from core.gateway import flv
from core.gateway.ports import SourceSegment
from core.gateway.segment_queue import SegmentQueue
from core.gateway.segmenter import CutRule, Segmenter, SegmenterStopped
from tests.gateway.rtmp_tools import FFMPEG, decode_segment
from tests.waiting import wait_for


def _flv(path, seconds: int) -> bytes:
    subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc=size=320x180:rate=30", "-f", "lavfi", "-i", "sine",
                    "-t", str(seconds), "-c:v", "libx264", "-preset", "superfast", "-g", "30",
                    "-c:a", "aac", "-f", "flv", str(path)], check=True)
    return path.read_bytes()


def test_a_publisher_clock_jumping_back_is_cut_there_and_every_segment_still_decodes(tmp_path):
    first, second = _flv(tmp_path / "a.flv", 3), _flv(tmp_path / "b.flv", 3)
    segments, done = [], []
    segmenter = Segmenter("abc", segment_s=2.0, on_segment=segments.append, on_done=done.append)
    segmenter.start()
    stream = first + second[13:]  # the second encode's tags, timestamps from 0 again, on the same stream
    for offset in range(0, len(stream), 4096):
        segmenter.write(stream[offset : offset + 4096])
    segmenter.finish(flush=True)
    assert segmenter.join(30)
    assert done == [None]
    assert [s.seq for s in segments] == [0, 1, 2, 3]
    assert [s.duration_s for s in segments] == pytest.approx([2.0, 1.0, 2.0, 1.0], abs=0.04)
    for segment in segments:
        decoded = decode_segment(segment.data)
        assert decoded.keyframe_first and decoded.audio_packets > 0
        assert len(decoded.video_pts) == round(segment.duration_s * 30)


def test_bytes_that_are_not_flv_stop_the_segmenter_with_the_reason(tmp_path):
    done = []
    segmenter = Segmenter("abc", segment_s=2.0, on_segment=lambda s: None, on_done=done.append)
    segmenter.start()
    segmenter.write(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00" + bytes(range(256)) * 64)
    segmenter.finish(flush=True)
    assert segmenter.join(30)
    assert done and done[0] is not None and "FLV" in done[0]


def test_a_full_segment_queue_drops_the_oldest_waiting_segment_and_says_so(caplog):
    started, release, handled = threading.Event(), threading.Event(), []

    def transcode(segment):
        started.set()
        release.wait(30)
        handled.append(segment.seq)

    queue = SegmentQueue("abc", transcode, in_flight=1, waiting=2)
    queue.put(SourceSegment("abc", 0, b"", 2.0))
    wait_for(started.is_set, what="segment 0 in flight")
    for seq in (1, 2, 3):
        queue.put(SourceSegment("abc", seq, b"", 2.0))
    release.set()
    queue.close(wait=True, timeout=30)
    assert handled == [0, 2, 3] and queue.dropped == [1]
    assert "segment 1 dropped: 2 segments were already waiting" in caplog.text


def _tags(data: bytes):
    """(type, timestamp ms, the whole tag with its PreviousTagSize) of each FLV tag after the header."""
    pos = 13
    while pos + 11 <= len(data):
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        ts = int.from_bytes(data[pos + 4 : pos + 7], "big") | data[pos + 7] << 24
        yield data[pos], ts, data[pos : pos + 11 + size + 4]
        pos += 11 + size + 4


def test_audio_that_starts_after_the_video_does_not_end_the_stream(tmp_path):
    data = _flv(tmp_path / "late.flv", 6)
    late = b"".join(tag for kind, ts, tag in _tags(data) if kind == 9 or (kind == 8 and ts >= 2500))
    segments, done = [], []
    segmenter = Segmenter("abc", segment_s=2.0, on_segment=segments.append, on_done=done.append)
    segmenter.start()
    segmenter.write(flv.header(audio=False, video=True) + late)  # as for a publisher whose metadata names no audio
    segmenter.finish(flush=True)
    assert segmenter.join(30)
    assert done == [None]
    assert [s.seq for s in segments] == [0, 1, 2]
    assert all(decode_segment(s.data).keyframe_first for s in segments)


def test_the_cut_rule_on_timestamps_alone():
    rule = CutRule(cut=2000, timeout=20000, jump=10000, segment_s=2.0)  # ms ticks, as FLV's
    frames = [(t, t % 1000 == 0) for t in range(0, 5000, 100)]  # 10 fps, a keyframe every second
    cuts = [(t, rule.video(t, t, key)) for t, key in frames]
    assert [(t, closed) for t, (starts, closed) in cuts if starts] == [(0, None), (2000, 2000), (4000, 2000)]
    rule.muxed(4100)
    rule.video(3_600_000, 3_600_000, False)  # the clock leaps an hour: no time passes, no timeout
    starts, closed = rule.video(3_600_100, 3_600_100, True)
    assert starts and closed == 100  # the open segment ends where the old clock stopped
    with pytest.raises(SegmenterStopped, match="keyframe interval below 8 s"):
        for t in range(3_600_200, 3_700_000, 100):
            rule.video(t, t, False)
