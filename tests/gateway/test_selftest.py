"""The operator self-test (core/gateway/selftest.py, `lpc selftest`) against real in-process lpc
orchestrators on 127.0.0.1: a working one passes every check with real transcodes read back through the
gateway's HLS; a closed port, a full node and a node priced above the cap fail with words that say what
to do; on the seeded devnet a paying self-test sends tickets from a gateway's deposit; the CLI's exit codes
and JSON; and whatever the test started is gone afterwards, also when the caller stops early."""

from __future__ import annotations

import json
import socket
import threading
from fractions import Fraction

import pytest
from click.testing import CliRunner

from console.cli import cli
from core.gateway import selftest
from tests.payments.conftest import (GATEWAY, ORCH, client, dev, devnet_dir, onchain_node,  # noqa: F401
                                     settings)


@pytest.fixture(scope="module")
def working(orch_factory) -> str:
    return orch_factory()[1]


def _closed_port() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"127.0.0.1:{port}"


def _gateway_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lpc-gateway" and t.is_alive()]


def test_a_working_orchestrator_passes_every_check(working):
    steps = []
    checks = list(selftest.run(working, progress=steps.append))
    assert [c.key for c in checks] == list(selftest.CHECKS)
    # every check but the last is about what the node does; the last compares a time with real time, which
    # on a loaded test machine may go either way: its figures are checked, not its verdict
    assert all(c.ok for c in checks[:-1]), [(c.key, c.detail, c.hint) for c in checks if not c.ok]
    by = {c.key: c for c in checks}
    assert "ms" in by["reach"].detail and "transcoder https://127.0.0.1:" in by["reach"].detail
    assert by["address"].detail == "offchain (20 zero bytes)"
    # decoded from the HLS output at the ladder's sizes (a 320x180 source) and 30 fps
    assert by["renditions"].detail == "P144p30fps16x9 256x144 @30 fps; P240p30fps16x9 426x240 @30 fps"
    assert "3 × 2 renditions read back" in by["hls"].detail
    assert "× real time" in by["realtime"].detail and "first segment" in by["realtime"].detail
    assert by["realtime"].seconds > 0 and not any(c.hint for c in checks[:-1])
    assert [s.text for s in steps][-1] == "pushing segment 3 of 3"
    assert _gateway_threads() == []


def test_nothing_listening_fails_at_reach_and_says_to_check_the_port():
    addr = _closed_port()
    checks = list(selftest.run(addr))
    assert len(checks) == 1 and checks[0].key == "reach" and not checks[0].ok
    assert "no TLS answer" in checks[0].detail
    assert "is the node running and its service port open" in checks[0].hint


def test_a_full_orchestrator_says_raise_max_sessions(orch_factory):
    _, addr = orch_factory(max_sessions=0)
    checks = list(selftest.run(addr))
    assert [(c.key, c.ok) for c in checks] == [("reach", False)]
    assert "OrchestratorCapped" in checks[0].detail and "raise -maxSessions" in checks[0].hint


def test_a_price_above_the_cap_fails_before_any_stream(orch_factory):
    _, addr = orch_factory(price_per_unit=5000)
    checks = list(selftest.run(addr, max_price=Fraction(1200)))
    assert [(c.key, c.ok) for c in checks] == [("reach", True), ("address", True), ("price", False)]
    assert "5000 wei per pixel is above 1200" in checks[-1].detail and "lower the price" in checks[-1].hint


def test_stopping_early_stops_the_gateway(working):
    run = selftest.run(working)
    for check in run:
        if check.key == "segment":
            assert _gateway_threads(), "the self-test's gateway runs while segments are checked"
            break
    run.close()  # what a Ctrl-C or a caller that leaves does to the generator
    assert _gateway_threads() == []


def test_cli_exit_codes_and_json(working, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["--data-dir", str(tmp_path), "selftest", "--json", working])
    doc = json.loads(ok.output)
    assert [c["key"] for c in doc["checks"]] == list(selftest.CHECKS)
    realtime = doc["checks"][-1]
    assert all(c["ok"] for c in doc["checks"][:-1])
    assert ok.exit_code == (0 if realtime["ok"] else 1) and doc["ok"] is realtime["ok"]  # exit 1 on any failure
    bad = runner.invoke(cli, ["--data-dir", str(tmp_path), "selftest", _closed_port()])
    assert bad.exit_code == 1
    assert "FAIL  TLS + GetOrchestrator" in bad.output and "→ nothing answers TLS" in bad.output
    usage = runner.invoke(cli, ["--data-dir", str(tmp_path), "selftest", "--max-price", "lots", working])
    assert usage.exit_code == 2 and "'lots' is not a number of wei per pixel" in usage.output
    # no ADDR: this installation's node (node.service_addr); here nothing listens there
    closed = _closed_port()
    (tmp_path / "settings.toml").write_text(f'[node]\nservice_addr = "{closed}"\n')
    default = runner.invoke(cli, ["--data-dir", str(tmp_path), "selftest"])
    assert default.exit_code == 1 and f"lpc selftest: {closed}\n" in default.output, default.output


def test_on_chain_the_segment_is_paid_in_tickets(onchain_node, client, tmp_path):  # noqa: F811
    """A paying self-test: signed GetOrchestrator, the seeded gateway's tickets for every segment, the
    renditions verified (signature + pixels) by the gateway as it does by default on chain."""
    from chain.devnet.accounts import dev_account
    from chain.services.gateway_chain import Web3GatewayChain

    node, _ = onchain_node(price_per_unit=2, pixels_per_unit=1)
    addr = "127.0.0.1:" + node.status().listening.rsplit(":", 1)[1]
    checks = list(selftest.run(addr, onchain=Web3GatewayChain(client, dev_account(GATEWAY))))
    assert [c.key for c in checks] == list(selftest.CHECKS)
    assert all(c.ok for c in checks[:-1]), [(c.key, c.detail, c.hint) for c in checks if not c.ok]
    by = {c.key: c for c in checks}
    assert by["address"].detail.lower() == dev_account(ORCH).address.lower()
    assert "2 wei per pixel" in by["reach"].detail
    paid = int(by["segment"].detail.split("paid ")[1].split(" wei")[0].replace(",", ""))
    assert paid > 0 and "expected value of the tickets sent" in by["segment"].detail
