"""Hostile and broken gateways over HTTP/2 (real h2 frames on loopback): a refused header is answered
before the body is uploaded, without breaking the connection's other streams; a slow upload is cut while
other gateways are served; a client that dies or stalls mid-upload leaves no ERROR or traceback in the
node's log, and the node keeps serving."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import httpx
import pytest

from core.media.profiles import COMMON_LADDER, VideoProfile, to_wire
from core.proto import net
from tests.node.gateway import headers_for, seg_data, transcode
from tests.node.h2_client import RawH2

LADDER = COMMON_LADDER[:1]


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _errors(caplog) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_clients_killed_or_stalled_mid_upload_log_no_error(node_factory, clips, caplog):
    """One gateway is killed mid-upload (a TCP reset), another stalls mid-upload and never answers the
    node's TLS close: asyncio's 'SSL shutdown timed out' used to come out as an ERROR traceback."""
    caplog.set_level(logging.DEBUG, logger="core.node")
    node, gw = node_factory(upload_timeout_min_s=0.5, upload_timeout_factor=0.5, keep_alive_s=0.5,
                            tls_shutdown_timeout_s=0.5)
    info = gw.get_orchestrator()
    data = clips["180p"]
    headers = headers_for(seg_data(info, data, LADDER))

    killed = RawH2(gw.port)
    killed.send_body(killed.post_segment(headers, len(data)), data[: len(data) // 3])
    killed.kill()

    stalled = RawH2(gw.port)
    stalled.send_body(stalled.post_segment(headers, len(data)), data[:1000])
    # it never reads again: the node cuts the upload (408), closes the idle connection, and its TLS close
    # goes unanswered
    assert _wait_for(lambda: "SSL shutdown timed out" in caplog.text), "the node never gave up on the stalled client"
    stalled.kill()

    result = transcode(gw.get_orchestrator(), data, LADDER, http2=True)
    assert result.WhichOneof("result") == "data", result.error
    assert node.status().running
    assert _errors(caplog) == []
    assert "Traceback" not in caplog.text
    node.stop()


@pytest.fixture(scope="module")
def patient_node(node_factory):
    """A node that would wait a long time for a body (60 s): an early answer cannot be a timeout."""
    return node_factory(upload_timeout_min_s=60.0)


def _too_many_renditions(info, data) -> net.SegData:
    seg = seg_data(info, data, LADDER)
    del seg.fullProfiles3[:]
    seg.fullProfiles3.extend(to_wire(VideoProfile(f"r{i}", 1280, 720, 30), net.VideoProfile) for i in range(64))
    return seg


@pytest.mark.parametrize("refusal", ["undecodable-header", "ladder-over-cap"])
def test_refused_header_is_answered_before_the_body_and_the_connection_lives(patient_node, clips, refusal):
    """An 8 MB body behind a header the node refuses: the answer comes after the first flow-control
    window (a gateway stops uploading there), body data still arriving for the answered stream is dropped,
    and the same connection then gets a segment transcoded (hypercorn's KeyError on data for an answered
    stream once ended the whole connection)."""
    node, gw = patient_node
    info = gw.get_orchestrator()
    body = os.urandom(8 * 1024 * 1024)
    if refusal == "undecodable-header":
        headers, status, words = headers_for("@@notbase64"), 403, "invalid Livepeer-Segment"
    else:
        headers, status, words = headers_for(_too_many_renditions(info, body)), 413, "64 renditions"
    client = RawH2(gw.port)
    try:
        refused = client.post_segment(headers, len(body))
        sent = client.upload_until_answered(refused, body)
        r = client.responses[refused]
        # a gateway that has not read the answer yet sends on: late frames are dropped, harmlessly
        sent += client.send_body(refused, body[sent:sent + 16_000])
        client.read_until(lambda: r["ended"])
        assert r["status"] == status and words in r["body"].decode()
        assert sent <= 1024 * 1024, f"{sent} of {len(body)} bytes were uploaded before the answer"
        data = clips["180p"]
        good = client.post_segment(headers_for(seg_data(info, data, LADDER)), len(data))
        assert client.upload_until_answered(good, data) == len(data)
        g = client.responses[good]
        client.read_until(lambda: g["ended"] or g["reset"], timeout=60)
        assert g["status"] == 200
        result = net.TranscodeResult.FromString(g["body"])
        assert result.WhichOneof("result") == "data", result.error
    finally:
        client.kill()


def test_slow_http2_upload_is_cut_while_another_gateway_is_served(node_factory, clips):
    node, gw = node_factory(upload_timeout_min_s=1.0, upload_timeout_factor=0.5)
    info = gw.get_orchestrator()
    data = clips["180p"]
    slow = RawH2(gw.port)
    try:
        stream = slow.post_segment(headers_for(seg_data(info, data, LADDER)), len(data))
        slow.send_body(stream, data[:1000])  # and nothing more
        result = transcode(gw.get_orchestrator(), data, LADDER, http2=True)  # another connection, meanwhile
        assert result.WhichOneof("result") == "data", result.error
        r = slow.responses[stream]
        slow.read_until(lambda: r["ended"])
        assert r["status"] == 408 and "did not arrive within 1 s" in r["body"].decode()
    finally:
        slow.kill()
    metrics = httpx.get(f"http://{node.status().management}/metrics").text
    timed_out = [ln for ln in metrics.splitlines() if ln.startswith("lpc_segment_refused_total{") and 'status="408"' in ln]
    assert len(timed_out) == 1 and timed_out[0].endswith(" 1.0"), timed_out
    node.stop()


def test_one_connection_carries_more_than_a_thousand_requests(node_factory, clips):
    """A gateway keeps one HTTP/2 connection for a whole stream (a 2 s segment every 2 s is 1,800 an hour).
    Hypercorn's default closes a connection after its 1,000th request, failing the request in flight."""
    node, gw = node_factory()
    info = gw.get_orchestrator()
    data = clips["180p"]
    async def run():
        # one connection, its streams 20 at a time (sequential requests took ~40 s on a loaded machine)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(verify=False, http2=True, timeout=20, limits=limits) as c:
            missing = info.transcoder + "/no-such-path"
            answers = []
            for _ in range(1010 // 20 + 1):
                answers += await asyncio.gather(*(c.get(missing) for _ in range(20)))
            seg = await c.post(info.transcoder + "/segment", content=data,
                               headers=headers_for(seg_data(info, data, LADDER)))
            return answers, seg

    answers, r = asyncio.run(run())
    assert len(answers) > 1000 and {a.status_code for a in answers} == {404}
    # one connection throughout: the node did not close it after 1,000 requests (httpx reconnects quietly
    # when a GOAWAY comes between requests; a request in flight then fails)
    assert len({id(a.extensions["network_stream"]) for a in answers}) == 1
    assert r.status_code == 200, r.text
    assert r.http_version == "HTTP/2"
