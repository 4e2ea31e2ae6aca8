"""The reward autopilot on the seeded devnet: it initializes each round and calls reward once per round,
rides out an RPC outage, does not call twice after a restart mid-round, and records a missed round with
an alert."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from chain.client import ChainClient
from chain.devnet.accounts import dev_account
from chain.services.payment_ports import RewardClient
from core.payments.alerts import Alerts
from core.payments.autopilot import AutopilotConfig, RewardAutopilot
from core.store import open_store
from tests.payments.conftest import ORCH


class FlakyRpc:
    """A JSON-RPC forwarder in front of anvil that can be switched off (503) to play an RPC outage."""

    def __init__(self, upstream: str):
        self.down = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                r = httpx.post(upstream, content=body, headers={"Content-Type": "application/json"})
                self.send_response(r.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rpc(client):
    proxy = FlakyRpc(client.rpc_url)
    yield proxy
    proxy.close()


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path)
    yield s
    s.close()


@pytest.fixture
def make_autopilot(client, rpc, store):
    def make(clock=None, **cfg) -> RewardAutopilot:
        via_proxy = ChainClient(rpc.url, client.profile)
        return RewardAutopilot(RewardClient(via_proxy, dev_account(ORCH)), store,
                               AutopilotConfig(**{"backoff_base_s": 5, **cfg}), clock=clock or Clock())
    return make


def reward_events(dev, since_block: int) -> int:
    """Reward events of orchestrator #1 since `since_block` (the round's first block in these tests)."""
    bm = dev.c("BondingManager")
    return len(bm.events.Reward().get_logs(from_block=since_block,
                                           argument_filters={"transcoder": dev_account(ORCH).address}))


def next_round(dev, initialize: bool = True) -> tuple[int, int]:
    start = dev.w3.eth.block_number + 1
    return dev.to_next_round(initialize=initialize), start


def test_reward_is_called_once_per_round_across_rounds(make_autopilot, dev):
    pilot = make_autopilot()
    first = pilot.tick()  # the seed already called reward in this round: found on chain, not repeated
    assert first.status == "called" and first.tx_hash is None
    for _ in range(3):
        rnd, since = next_round(dev, initialize=False)
        outcome = pilot.tick()
        assert outcome.round == rnd and outcome.status == "called" and outcome.initialized_by_us
        assert outcome.tx_hash and outcome.minted_wei > 0 and outcome.gas_used > 0 and outcome.fee_wei > 0
        assert pilot.tick().tx_hash == outcome.tx_hash  # a second pass in the round sends nothing
        assert reward_events(dev, since) == 1
        assert dev.c("RoundsManager").functions.currentRoundInitialized().call()
    assert [r.status for r in pilot.history()] == ["called"] * 4


def test_rpc_outage_backs_off_then_calls(make_autopilot, dev, rpc):
    clock = Clock()
    pilot = make_autopilot(clock=clock)
    rnd, since = next_round(dev)
    rpc.down = True
    assert pilot.tick() is None and "cannot read the chain" in pilot.last_error
    rpc.down = False
    assert pilot.tick() is None  # still backing off: no retry before the delay
    clock.now += 5
    rpc.down = True
    assert pilot.tick() is None  # second failure: the delay doubles
    rpc.down = False
    clock.now += 10
    outcome = pilot.tick()
    assert outcome.status == "called" and outcome.round == rnd and reward_events(dev, since) == 1


def test_restart_mid_round_does_not_call_twice(make_autopilot, dev, store):
    rnd, since = next_round(dev)
    called = make_autopilot().tick()
    assert called.status == "called" and called.tx_hash
    again = make_autopilot().tick()  # a restarted node, same database
    assert again.status == "called" and again.tx_hash == called.tx_hash and again.round == rnd
    assert reward_events(dev, since) == 1


def test_a_round_without_a_call_is_recorded_as_missed_with_an_alert(make_autopilot, dev, store):
    clock = Clock()
    pilot = make_autopilot(max_gas_price=1, clock=clock)  # gas always above the cap
    rnd, since = next_round(dev)
    outcome = pilot.tick()
    assert outcome.status == "pending" and "above the cap" in outcome.reason
    dev.to_next_round()
    clock.now += 1000
    pilot.tick()
    past = next(r for r in pilot.history() if r.round == rnd)
    assert past.status == "missed" and "above the cap" in past.reason
    assert any(f"round {rnd}" in a.message and a.source == "reward" for a in Alerts(store).recent())
    assert reward_events(dev, since) == 0
