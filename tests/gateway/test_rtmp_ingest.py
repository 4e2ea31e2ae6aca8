"""RTMP ingest with the real ffmpeg CLI as the publisher: what arrives at Streams is what a viewer and
the orchestrators get (real sockets on 127.0.0.1, real H.264/AAC, PyAV decodes every segment)."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from core.gateway.config import GatewayConfig
from core.gateway.rtmp import RtmpIngest
from core.gateway.rtmp_chunks import ACK, AUDIO, USER_CONTROL, WINDOW_ACK_SIZE, Message, control, encode_message, user_control
from core.gateway.rtmp_path import listen_address, parse_stream_path, publish_path
from tests.gateway.rtmp_tools import CollectingStreams, RawRtmpClient, decode_segment, ffmpeg_publish
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


def test_two_publishers_at_once_and_a_second_publisher_on_a_live_manifest_is_refused(ingest, caplog):
    caplog.set_level("INFO", logger="core.gateway")
    rtmp, streams, base = ingest
    host, port = rtmp.address
    first = ffmpeg_publish(f"{base}/live/abc", seconds=6, realtime=True)
    try:
        abc = wait_for(lambda: next(iter(streams.named("abc")), None), timeout=30, what="stream abc started")
        wait_for(lambda: abc.segments, timeout=30, what="abc's first segment")

        other = ffmpeg_publish(f"{base}/live/def/secret", seconds=4)  # at once, on another manifest
        intruder = RawRtmpClient(host, port)
        intruder.publish("live", "abc", f"{base}/live")
        codes = intruder.status_codes()
        intruder.close()
        assert codes == ["NetStream.Publish.BadName"]
        delivered_before = len(abc.segments)
        assert other.wait(60) == 0, other.stderr.read().decode()

        assert first.wait(60) == 0, first.stderr.read().decode()
    finally:
        first.kill()
        first.wait()
    wait_for(abc.ended.is_set, what="abc ended")
    assert len(streams.named("abc")) == 1  # the intruder never became a stream
    assert abc.seqs() == [0, 1, 2]  # the first publisher carried on to its end, no gap
    assert len(abc.segments) > delivered_before
    defs = streams.named("def")
    assert len(defs) == 1 and defs[0].start.key == "secret"
    wait_for(defs[0].ended.is_set, what="def ended")
    assert defs[0].seqs() == [0, 1]
    assert "RTMP stream def published" in caplog.text and "secret" not in caplog.text  # the key is not logged


def test_a_publisher_over_the_stream_limit_is_refused_with_an_rtmp_error(tmp_path, caplog):
    streams = CollectingStreams(max_streams=1)
    rtmp = RtmpIngest(GatewayConfig(data_dir=tmp_path, rtmp_addr="127.0.0.1:0"), streams)
    host, port = rtmp.start()
    try:
        first = RawRtmpClient(host, port)
        first.publish("live", "one", f"rtmp://{host}:{port}/live")
        wait_for(lambda: streams.get("one"), what="stream one live")
        second = RawRtmpClient(host, port)
        second.publish("live", "two", f"rtmp://{host}:{port}/live")
        assert second.status_codes() == ["NetStream.Publish.Rejected"]
        second.close()
        assert streams.get("one") is not None and not streams.named("two")
        assert "refused: Too many connections" in caplog.text
        first.close()
        wait_for(streams.named("one")[0].ended.is_set, what="stream one ended when its publisher left")
    finally:
        rtmp.stop()


def test_bare_path_gets_a_random_manifest_and_the_path_rules_are_go_livepeers(ingest):
    rtmp, streams, base = ingest
    host, port = rtmp.address
    client = RawRtmpClient(host, port)
    client.publish("", "", f"rtmp://{host}:{port}/")
    stream = wait_for(lambda: streams.history[0] if streams.history else None, what="a stream")
    client.close()
    assert stream.start.manifest_id is None and stream.start.key is None
    assert len(stream.manifest_id) == 4
    assert stream.start.ingest_url == f"rtmp://{host}:{port}/"
    wait_for(stream.ended.is_set, what="the stream ended when its publisher left")

    token = RawRtmpClient(host, port)  # a token in the query reaches the auth webhook's URL, not the path
    token.publish("live", "tok?token=1", f"rtmp://{host}:{port}/live")
    with_query = wait_for(lambda: next(iter(streams.named("tok")), None), what="stream tok")
    token.close()
    assert with_query.start.ingest_url == f"rtmp://{host}:{port}/live/tok?token=1"

    table = {
        ("live", "abc"): ("abc", None),
        ("abc", ""): ("abc", None),
        ("live/abc", "secret"): ("abc", "secret"),  # ffmpeg's split of rtmp://h/live/abc/secret
        ("stream", "abc.flv"): ("abc", None),
        ("live", "abc?token=1"): ("abc", None),
        ("", ""): (None, None),
    }
    for (app, name), expected in table.items():
        parsed = parse_stream_path(publish_path(app, name))
        assert (parsed.manifest_id, parsed.key) == expected, (app, name)


def test_a_keyframe_interval_over_the_segmenter_timeout_ends_the_stream_in_words(ingest, caplog):
    rtmp, streams, base = ingest
    publisher = ffmpeg_publish(f"{base}/live/slow", seconds=24, gop=900, audio=False)  # one keyframe in 30 s
    assert publisher.wait(60) != 0
    stream = wait_for(lambda: next(iter(streams.named("slow")), None), what="stream slow started")
    wait_for(stream.ended.is_set, what="the stream ended by the segmenter timeout")
    assert stream.segments == []
    assert "keyframe interval below 8 s" in caplog.text
    assert "keyframe interval below 8 s" in publisher.stderr.read().decode()  # the publisher is told too


def test_listen_address_follows_go_livepeers_default_addr(tmp_path):
    assert listen_address(":1940") == ("127.0.0.1", 1940)
    assert listen_address("0.0.0.0") == ("0.0.0.0", 1935)
    assert listen_address("[::1]:1936") == ("::1", 1936)
    with pytest.raises(ValueError, match="port must be a number"):
        listen_address("127.0.0.1:rtmp")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        rtmp = RtmpIngest(GatewayConfig(data_dir=tmp_path, rtmp_addr=f":{port}"), CollectingStreams())
        with pytest.raises(OSError, match=f"cannot listen for RTMP on 127.0.0.1:{port} \\(-rtmpAddr\\)"):
            rtmp.start()


def test_a_publisher_reconnecting_while_its_last_segments_go_out_is_taken_not_refused(tmp_path, caplog):
    caplog.set_level("INFO", logger="core.gateway.rtmp")
    transcoding = threading.Event()
    streams = CollectingStreams(gate=transcoding)  # segments wait, as for a slow orchestrator
    rtmp = RtmpIngest(GatewayConfig(data_dir=tmp_path, rtmp_addr="127.0.0.1:0"), streams)
    host, port = rtmp.start()
    try:
        first = ffmpeg_publish(f"rtmp://{host}:{port}/live/abc", seconds=4)
        assert first.wait(60) == 0, first.stderr.read().decode()
        old = wait_for(lambda: next(iter(streams.named("abc")), None), what="stream abc started")
        assert not old.ended.is_set()  # its segments are still being transcoded
        again = RawRtmpClient(host, port)
        again.publish("live", "abc", f"rtmp://{host}:{port}/live")
        wait_for(lambda: "waits for the previous publisher's last segments" in caplog.text, what="the wait")
        transcoding.set()
        wait_for(lambda: len(streams.named("abc")) == 2, what="the reconnect became the stream")
        assert old.ended.is_set() and old.seqs() == [0, 1]
        again.close()
    finally:
        transcoding.set()
        rtmp.stop()


def test_the_server_acknowledges_each_window_and_answers_a_ping(ingest):
    rtmp, streams, base = ingest
    host, port = rtmp.address
    client = RawRtmpClient(host, port)
    client.publish("live", "acked", f"{base}/live")
    wait_for(lambda: streams.get("acked"), what="stream acked live")
    client.sock.sendall(encode_message(control(WINDOW_ACK_SIZE, 4096), 128))
    client.sock.sendall(encode_message(Message(AUDIO, 1, 0, b"\xaf\x01" + bytes(6000), 4), 128))  # over a window
    client.sock.sendall(encode_message(user_control(6, 1234), 128))  # ping request
    got: list[Message] = []

    def answered() -> bool:
        try:
            got.extend(client.reader.feed(client.sock.recv(65536)))
        except TimeoutError:
            pass
        types = {m.type_id for m in got}
        pongs = [m for m in got if m.type_id == USER_CONTROL and m.payload == struct.pack(">HI", 7, 1234)]
        return ACK in types and bool(pongs)

    client.sock.settimeout(0.2)
    wait_for(answered, timeout=10, what=lambda: f"an Acknowledgement and a ping response in {got}")
    acked = [struct.unpack(">I", m.payload)[0] for m in got if m.type_id == ACK]
    assert acked and acked[0] >= 4096
    client.close()
