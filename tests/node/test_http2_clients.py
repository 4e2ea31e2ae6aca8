"""Hostile and broken gateways over HTTP/2 (real h2 frames on loopback): a client that dies or stalls
mid-upload leaves no ERROR or traceback in the node's log, and the node keeps serving."""

from __future__ import annotations

import logging
import time

from core.media.profiles import COMMON_LADDER
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
