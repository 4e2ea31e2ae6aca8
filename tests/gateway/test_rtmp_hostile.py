"""Hostile connections on the RTMP port (garbage, silence, a lying message length, a stall after the
handshake) are closed, each alone, while a real ffmpeg publisher keeps its stream; and stop() leaves
nothing behind."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from core.gateway.config import GatewayConfig
from core.gateway.rtmp import RtmpIngest
from core.gateway.rtmp_chunks import MAX_MESSAGE_BYTES
from tests.gateway.rtmp_tools import CollectingStreams, RawRtmpClient, closed_by_peer, ffmpeg_publish
from tests.waiting import wait_for


@pytest.fixture
def strict_ingest(tmp_path):
    streams = CollectingStreams()
    rtmp = RtmpIngest(GatewayConfig(data_dir=tmp_path, rtmp_addr="127.0.0.1:0"), streams,
                      handshake_timeout_s=1.0, idle_timeout_s=2.0)
    host, port = rtmp.start()
    yield rtmp, streams, host, port
    rtmp.stop()


def _connect(host, port) -> socket.socket:
    return socket.create_connection((host, port), timeout=5)


def test_garbage_silence_and_lies_are_closed_without_disturbing_a_live_publisher(strict_ingest, caplog):
    rtmp, streams, host, port = strict_ingest
    publisher = ffmpeg_publish(f"rtmp://{host}:{port}/live/abc", seconds=6, realtime=True)
    try:
        abc = wait_for(lambda: next(iter(streams.named("abc")), None), timeout=30, what="stream abc started")

        http = _connect(host, port)  # not RTMP at all: C0 is 'G'
        http.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"x" * 2000)
        short = _connect(host, port)  # a short burst of garbage: the handshake deadline closes it
        short.sendall(b"\x16\x03\x01\x00")
        silent = _connect(host, port)  # sends nothing at all
        liar = RawRtmpClient(host, port)  # a message header promising more than the bound
        liar.handshake()
        liar.sock.sendall(bytes((0x03,)) + b"\x00\x00\x00" + (MAX_MESSAGE_BYTES + 1).to_bytes(3, "big")
                          + bytes((20,)) + struct.pack("<I", 0))
        staller = RawRtmpClient(host, port)  # handshakes, connects, then says nothing
        staller.handshake()
        staller.command("connect", 1, {"app": "live", "tcUrl": f"rtmp://{host}:{port}/live"})

        for name, sock in (("garbage", http), ("short garbage", short), ("silent", silent),
                           ("message length over the bound", liar.sock), ("stalled", staller.sock)):
            wait_for(lambda sock=sock: closed_by_peer(sock), timeout=10, what=f"the {name} connection closed")
            sock.close()
        assert publisher.poll() is None, "the live publisher was cut off"
        assert publisher.wait(60) == 0, publisher.stderr.read().decode()
    finally:
        publisher.kill()
        publisher.wait()
    wait_for(abc.ended.is_set, what="abc ended")
    assert abc.seqs() == [0, 1, 2]
    assert len(streams.history) == 1
    assert "not RTMP: the first byte is 0x47" in caplog.text
    assert "no RTMP handshake within 1 s" in caplog.text
    assert f"message of {MAX_MESSAGE_BYTES + 1} bytes" in caplog.text
    assert "nothing received for 2 s" in caplog.text


def test_idle_connections_over_the_bound_are_closed_at_once_and_publishers_do_not_count(tmp_path, caplog):
    streams = CollectingStreams()
    rtmp = RtmpIngest(GatewayConfig(data_dir=tmp_path, rtmp_addr="127.0.0.1:0"), streams, max_pending=4)
    host, port = rtmp.start()  # the handshake deadline is the default 10 s: a close within 5 s is the bound
    try:
        live = RawRtmpClient(host, port)
        live.publish("live", "one", f"rtmp://{host}:{port}/live")
        wait_for(lambda: streams.get("one"), what="stream one live")
        idle = [_connect(host, port) for _ in range(4)]
        over = _connect(host, port)
        wait_for(lambda: closed_by_peer(over), timeout=5, what="the fifth idle connection closed")
        assert not any(closed_by_peer(sock) for sock in idle)
        assert streams.get("one") is not None
        assert "4 connections are already waiting to publish" in caplog.text
        for sock in (*idle, over, live.sock):
            sock.close()
    finally:
        rtmp.stop()


def test_stop_ends_a_live_stream_frees_the_port_and_leaves_no_thread(tmp_path):
    before = set(threading.enumerate())
    streams = CollectingStreams()
    rtmp = RtmpIngest(GatewayConfig(data_dir=tmp_path, rtmp_addr="127.0.0.1:0"), streams)
    host, port = rtmp.start()
    publisher = ffmpeg_publish(f"rtmp://{host}:{port}/live/abc", seconds=30, realtime=True)
    try:
        abc = wait_for(lambda: next(iter(streams.named("abc")), None), timeout=30, what="stream abc started")
        wait_for(lambda: abc.segments, timeout=30, what="abc's first segment")
        rtmp.stop()
        assert abc.ended.is_set()
        assert publisher.wait(30) != 0  # ffmpeg saw its connection closed, and was told why
        assert "the gateway is stopping" in publisher.stderr.read().decode()
    finally:
        publisher.kill()
        publisher.wait()
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []
    with socket.create_server((host, port)):  # the port is free again
        pass
