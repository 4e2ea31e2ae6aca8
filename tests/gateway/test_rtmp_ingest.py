"""RTMP ingest with the real ffmpeg CLI as the publisher: what arrives at Streams is what a viewer and
the orchestrators get (real sockets on 127.0.0.1, real H.264/AAC, PyAV decodes every segment)."""

from __future__ import annotations

import pytest

from core.gateway.config import GatewayConfig
from core.gateway.rtmp import RtmpIngest
from tests.gateway.rtmp_tools import CollectingStreams, decode_segment, ffmpeg_publish
from tests.waiting import wait_for


@pytest.fixture
def ingest(tmp_path):
    streams = CollectingStreams(max_streams=3)
    rtmp = RtmpIngest(GatewayConfig(data_dir=tmp_path, rtmp_addr="127.0.0.1:0"), streams)
    host, port = rtmp.start()
    yield rtmp, streams, f"rtmp://{host}:{port}"
    rtmp.stop()


def test_ffmpeg_publish_is_cut_into_two_second_keyframe_segments_without_reencoding(ingest):
    rtmp, streams, base = ingest
    publisher = ffmpeg_publish(f"{base}/live/abc", seconds=6)
    assert publisher.wait(60) == 0, publisher.stderr.read().decode()
    stream = wait_for(lambda: next(iter(streams.named("abc")), None), what="stream abc started")
    wait_for(stream.ended.is_set, what="stream abc ended after ffmpeg left")

    assert stream.manifest_id == "abc"
    assert stream.start.origin == "rtmp" and stream.start.key is None
    assert stream.start.ingest_url.endswith("/live/abc")
    assert stream.seqs() == [0, 1, 2]  # 6 s at a 1 s GOP, the last partial segment handed on too
    previous_end = None
    total_frames = 0
    for segment in sorted(stream.segments, key=lambda s: s.seq):
        assert segment.container == "ts" and segment.resolution == (320, 180)
        assert segment.duration_s == pytest.approx(2.0, abs=0.05)
        decoded = decode_segment(segment.data)
        assert decoded.keyframe_first, f"segment {segment.seq} does not start with a keyframe"
        # stream copy: the publisher's codec parameters, every frame, timestamps carried on
        assert (decoded.width, decoded.height, decoded.profile) == (320, 180, "Main")
        assert decoded.audio_packets > 0
        assert len(decoded.video_pts) == 60
        if previous_end is not None:
            assert abs(decoded.video_pts[0] - previous_end) <= 180  # within 2 ms at 90 kHz (FLV's ms ticks)
        previous_end = decoded.video_pts[-1] + 3000  # one frame at 30 fps
        total_frames += len(decoded.video_pts)
    assert total_frames == 180
