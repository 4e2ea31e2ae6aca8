"""Session capacity (OrchestratorCapped), the bounded per-session queue (OrchestratorBusy), idle end."""

import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from core.media.profiles import COMMON_LADDER
from tests.node.gateway import headers_for, post_segment, seg_data, transcode

LADDER = COMMON_LADDER[:1]


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sessions_beyond_capacity_are_refused_until_one_ends(node_factory, clips):
    node, gw = node_factory(max_sessions=1)
    a, b = gw.get_orchestrator(), gw.get_orchestrator()
    assert transcode(a, clips["180p"], LADDER).WhichOneof("result") == "data"
    with pytest.raises(grpc.RpcError) as err:
        gw.get_orchestrator(ignore_capacity=False)
    assert err.value.details() == "OrchestratorCapped"
    r = post_segment(b, clips["180p"], headers_for(seg_data(b, clips["180p"], LADDER)))
    assert (r.status_code, r.text.strip()) == (403, "OrchestratorCapped")
    # the live session itself keeps working
    assert transcode(a, clips["180p"], LADDER, seq=1).WhichOneof("result") == "data"
    gw.end_session(a.auth_token)
    assert node.status().sessions_used == 0
    assert transcode(b, clips["180p"], LADDER).WhichOneof("result") == "data"
    node.stop()


def test_idle_session_ends_and_frees_its_slot(node_factory, clips):
    node, gw = node_factory(max_sessions=1, idle_timeout_s=0.3)
    a, b = gw.get_orchestrator(), gw.get_orchestrator()
    transcode(a, clips["180p"], LADDER)
    assert _wait_for(lambda: node.status().sessions_used == 0)
    assert transcode(b, clips["180p"], LADDER).WhichOneof("result") == "data"
    node.stop()


def test_a_full_session_queue_answers_orchestrator_busy(node_factory, clips):
    node, gw = node_factory(max_sessions=1, session_queue=1)
    info = gw.get_orchestrator()

    def send(seq):
        return transcode(info, clips["720p"], COMMON_LADDER, seq=seq)

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(send, range(5)))
    errors = [r.error for r in results if r.WhichOneof("result") == "error"]
    done = [r for r in results if r.WhichOneof("result") == "data"]
    assert "OrchestratorBusy" in errors and done
    assert set(errors) == {"OrchestratorBusy"}
    node.stop()
