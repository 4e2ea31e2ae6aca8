"""Selection rules that need no network: go-livepeer's on-chain probability weights, the latency score,
and -orchWebhookUrl discovery (a real local webhook in front of a real orchestrator, cached 1 minute)."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from core.gateway.broadcast import NetworkBroadcaster
from core.gateway.config import GatewayConfig
from core.gateway.onchain import selection_weights
from core.gateway.ports import SourceSegment
from core.gateway.selection import OrchSession, latency_score
from core.proto import net
from tests.gateway.conftest import LADDER


def _session(uri: str, stake: int, price: int = 0) -> OrchSession:
    info = net.OrchestratorInfo(transcoder=uri, price_info=net.PriceInfo(pricePerUnit=price, pixelsPerUnit=1))
    return OrchSession(uri=uri, info=info, latency_s=0.01, stake=stake)


def test_onchain_weights_follow_stake_and_the_random_share():
    cfg = GatewayConfig(data_dir=".")  # go-livepeer's 0.7 stake / 0 price / 0.3 random
    w = selection_weights([_session("a", 300), _session("b", 100)], cfg)
    assert w == pytest.approx([0.7 * 0.75 + 0.15, 0.7 * 0.25 + 0.15])
    priced = GatewayConfig(data_dir=".", select_stake_weight=0, select_price_weight=1, select_rand_freq=0)
    cheap, dear = selection_weights([_session("a", 1, price=0), _session("b", 1, price=100)], priced)
    assert cheap > dear and cheap + dear == pytest.approx(1.0)


def test_latency_score_is_round_trip_over_the_longer_of_duration_and_1_5_s():
    assert latency_score(1.0, 2.0) == 0.5
    assert latency_score(1.5, 0.5) == 1.0  # short segments are scored against 1.5 s


def test_webhook_discovery_finds_the_orchestrator_and_is_cached(two_orchestrators, clip, tmp_path):
    (_, addr), _ = two_orchestrators
    hits = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            body = json.dumps([{"address": f"https://{addr}", "score": 1}, {"address": "", "score": 1}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/orchestrators"
    bc = NetworkBroadcaster(GatewayConfig(data_dir=tmp_path, orch_webhook_url=url, discovery_timeout_s=3.0))
    try:
        stream = bc.open("w", LADDER)
        done = stream.transcode(SourceSegment("w", 0, clip, 1.0))
        assert done.orchestrator == f"https://{addr}"
        assert bc.candidates()[0].uri == f"https://{addr}" and len(bc.candidates()) == 1
        assert hits == ["/orchestrators"]  # asked once: cached for a minute
    finally:
        bc.close()
        server.shutdown()
        server.server_close()


class _Found:
    """A discovery that answers with the sessions it is given (the pool's own bookkeeping under test)."""

    def __init__(self, *uris):
        self.uris = list(uris)
        self.calls = 0

    def __call__(self):
        from core.gateway.selection import Discovered

        self.calls += 1
        return Discovered(tuple(_session(u, 0) for u in self.uris), ())


def test_the_pool_sticks_while_faster_than_real_time_and_swaps_when_slow_or_busy():
    from core.gateway.selection import SessionPool

    swaps = []
    pool = SessionPool(_Found("a", "b", "c"), candidates=lambda: 3, on_swap=lambda old, new: swaps.append((old, new)))
    pool.refresh()
    a = pool.select(2.0, set())
    assert a.uri == "a"
    pool.begin(a, 0)
    assert pool.select(2.0, set()) is a  # busy, but its segment is younger than one duration
    pool.complete(a, 0, round_trip_s=1.0, duration_s=2.0)  # score 0.5
    assert pool.select(2.0, set()) is a and swaps == []
    pool.complete(a, 1, round_trip_s=3.0, duration_s=2.0)  # score 1.5: slower than real time
    b = pool.select(2.0, set())
    assert b.uri == "b" and swaps == [("a", "b")] and pool.swaps == 1
    assert pool.select(2.0, {"b"}).uri == "c"  # a segment never goes twice to one orchestrator


def test_a_suspended_orchestrator_sits_out_a_whole_refresh_unless_too_few_are_left():
    from core.gateway.selection import SessionPool

    found = _Found("a", "b", "c", "d")
    pool = SessionPool(found, candidates=lambda: 4)
    pool.refresh()
    a = pool.select(2.0, set())
    pool.suspend(a, "HTTP 500")
    assert [o.state for o in pool.view().orchestrators if o.uri == "a"] == ["suspended"]
    pool.refresh()  # the refresh after its failure: three others answered, a stays out
    assert "a" not in {s.uri for s in pool.sessions()}
    pool.refresh()  # a whole refresh sat out: back
    assert "a" in {s.uri for s in pool.sessions()}

    lonely = SessionPool(_Found("x", "y"), candidates=lambda: 2)
    lonely.refresh()
    for s in list(lonely.sessions()):
        lonely.suspend(s, "down")
    assert lonely.needs_refresh()
    lonely.refresh()  # nobody else: the suspended come back at the back, still marked
    assert {s.uri for s in lonely.sessions()} == {"x", "y"}
    assert {o.state for o in lonely.view().orchestrators} == {"suspended"}
