"""The Streams screen watches the console's in-process gateway: started from G, a real push through it to
a real in-process lpc orchestrator shows the stream in the table with its latency chart, pool and decoded
previews; T runs the operator self-test against this console's node and shows each check; stopping the
gateway ends its streams. The empty state (and T with nothing to test) is a snapshot."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx
import pytest
from textual.widgets import DataTable, Static

from console.app import LivepeerConsole
from console.screens.streams.streams import StreamsScreen
from console.widgets.frame_preview import FramePreview
from core.gateway.broadcast import NetworkBroadcaster
from core.gateway.config import GatewayConfig
from core.gateway.node import GatewayNode
from core.media.synthetic import make_segment
from core.node import Node, NodeConfig
from tests.console.pilot import SIZE, plain_text, settle, wait_until


@pytest.fixture(scope="module")
def orchestrator():
    node = Node(NodeConfig(data_dir=Path(tempfile.mkdtemp(prefix="lpc-streams-orch-")), service_addr="127.0.0.1:0",
                           http_addr="127.0.0.1:0", cli_addr=None, max_sessions=4, encoder="x264",
                           x264_preset="ultrafast", gateway_session_share=1.0))
    status = node.start()
    yield node, "127.0.0.1:" + status.listening.rsplit(":", 1)[1]
    node.stop()


def _gateway_factory(tmp_path, addr):
    def make():
        config = GatewayConfig(data_dir=tmp_path / "gateway", rtmp_addr=None, http_addr="127.0.0.1:0", cli_addr=None,
                               orch_addrs=(addr,), transcoding_options="P144p30fps16x9", discovery_timeout_s=2.0)
        return GatewayNode(config, NetworkBroadcaster(config))
    return make


def _push(http: str, name: str, seq: int, clip: bytes) -> int:
    r = httpx.post(f"http://{http}/live/{name}/{seq}.ts", content=clip, headers={"Content-Duration": "1000"},
                   timeout=60)
    return r.status_code if r.status_code == 200 else (r.status_code, r.text)


async def test_a_pushed_stream_shows_with_its_latency_pool_previews_and_the_selftest(console_services, tmp_path,
                                                                                      orchestrator):
    node, addr = orchestrator
    console_services.gateway_factory = _gateway_factory(tmp_path, addr)
    console_services.headless_gateway = "127.0.0.1:9"  # discard: no headless gateway answers there
    console_services.node = node  # this console's own node: the self-test's default target
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StreamsScreen) and screen.has_class("-stopped")
        assert "press G" in plain_text(screen.query_one("#gateway-status", Static))
        await pilot.press("G")
        await settle(pilot)
        gateway = console_services.gateway
        assert gateway is not None and gateway.status().running and not screen.has_class("-stopped")
        http = gateway.status().http
        assert f"HLS + push http://{http}" in plain_text(screen.query_one("#gateway-status", Static), 200)

        clip = make_segment(320, 180, 1.0)
        for seq in range(2):
            assert await asyncio.to_thread(_push, http, "pilot", seq, clip) == 200
        screen._poll()
        await pilot.pause()
        table = screen.query_one(DataTable)
        assert table.row_count == 1
        row = [str(c) for c in table.get_row_at(0)]
        assert row[:6] == ["pilot", "push", "320x180", "2", "2", "0"]
        assert row[6] == addr and row[7] == "0"  # the orchestrator in use, no swap
        chart = screen.query_one("#latency-chart").plt.build()
        assert "Segment latency (s) · pilot · 2 done" in chart
        assert addr in plain_text(screen.query_one("#pool", Static), 100)
        assert "none" in plain_text(screen.query_one("#failures", Static))
        await wait_until(pilot, lambda: isinstance(screen.query_one("#rendition-preview", Static).content,
                                                   FramePreview), "the rendition preview")
        assert isinstance(screen.query_one("#source-preview", Static).content, FramePreview)
        assert plain_text(screen.query_one("#rendition-title", Static)) .strip() == "P144p30fps16x9"

        await pilot.press("T")
        await wait_until(pilot, lambda: screen.selftest_state != "running", "the self-test", timeout=60)
        await settle(pilot)
        checks = plain_text(screen.query_one("#selftest-checks", Static), 200)
        for title in ("TLS + GetOrchestrator", "ETH address sent", "segment accepted",
                      "renditions decode at the ladder", "HLS playlists serve it"):
            assert f"✓ {title}" in checks, checks
        # the last check compares a time with real time (either verdict on a loaded machine): shown with its figures
        assert [c.key for c in screen.checks][-1] == "realtime" and "round trip vs real time" in checks
        assert "× real time" in checks
        last = screen.checks[-1]
        assert screen.selftest_state == ("passed" if last.ok else "failed")
        assert (f"every check passed: gateways can use {addr}" if last.ok else "a check failed") in checks

        await pilot.press("G")
        await settle(pilot)
        assert console_services.gateway is None and screen.has_class("-stopped")
        assert any(e.text == "gateway stopped" for e in app.console_log.entries)
        console_services.node = None  # the module's orchestrator is stopped by its fixture, not by the app's exit


async def test_a_headless_gateway_is_watched_through_its_management_api(console_services, tmp_path, orchestrator):
    """No gateway in this console, but a headless one (as `lpc node --gateway` runs) answers /status on its
    -cliAddr: its streams are in the table with their orchestrator and segment counts."""
    _, addr = orchestrator
    config = GatewayConfig(data_dir=tmp_path / "headless", rtmp_addr=None, http_addr="127.0.0.1:0",
                           cli_addr="127.0.0.1:0", orch_addrs=(addr,), transcoding_options="P144p30fps16x9",
                           discovery_timeout_s=2.0)
    headless = GatewayNode(config, NetworkBroadcaster(config))
    status = headless.start()
    try:
        assert await asyncio.to_thread(_push, status.http, "far", 0, make_segment(320, 180, 1.0)) == 200
        console_services.headless_gateway = status.cli
        app = LivepeerConsole(console_services, poll=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("i")
            screen = app.screen
            await wait_until(pilot, lambda: screen.query_one(DataTable).row_count == 1, "the headless stream")
            row = [str(c) for c in screen.query_one(DataTable).get_row_at(0)]
            assert row[:6] == ["far", "push", "320x180", "1", "1", "0"] and row[6] == addr
            words = plain_text(screen.query_one("#gateway-status", Static), 200)
            assert f"watching the headless gateway at {status.cli} (management API /status) · 1 streams" in words

            # G with the port taken (by the headless gateway itself): said in words, the console carries on
            host, port = status.http.rsplit(":", 1)
            console_services.gateway_factory = lambda: GatewayNode(
                GatewayConfig(data_dir=tmp_path / "busy", rtmp_addr=None, http_addr=status.http, cli_addr=None,
                              orch_addrs=(addr,)), NetworkBroadcaster(GatewayConfig(data_dir=tmp_path / "busy")))
            await pilot.press("G")
            await settle(pilot)
            assert console_services.gateway is None
            shown = plain_text(screen.query_one("#gateway-status", Static), 300)
            assert "error    gateway did not start:" in shown and port in shown, shown
            assert any(e.severity == "error" and "gateway did not start" in e.text for e in app.console_log.entries)
            assert screen.query_one(DataTable).row_count == 1  # still watching the headless one
    finally:
        headless.stop()


def test_streams_screen_snapshot_no_gateway_and_nothing_to_selftest(console_services, snap_compare):
    """No gateway, no node of this console and no address typed: the screen says how to start one, and T
    says what to do instead of testing nothing."""

    console_services.headless_gateway = "127.0.0.1:9"  # discard: no headless gateway answers there

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        text = plain_text(pilot.app.screen.query_one("#selftest-checks", Static), 200)
        assert "no orchestrator to test: start this console's node (x on Sessions) or type an address" in text

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


async def test_an_on_chain_gateway_shows_its_deposit_and_reserve(console_services, tmp_path):
    """The console's gateway pays from the seeded gateway's TicketBroker deposit: the panel reads the deposit
    and reserve from the chain (a worker) as they are on chain."""
    from chain.devnet.accounts import dev_account
    from chain.services.deposit import load_sender
    from chain.services.gateway_chain import Web3GatewayChain

    gateway_key = dev_account(50)  # the devnet's seeded gateway, with a deposit and a reserve
    on_chain = load_sender(console_services.client, gateway_key.address)
    assert on_chain.deposit > 0

    def make():
        config = GatewayConfig(data_dir=tmp_path / "paying", offchain=False, rtmp_addr=None, http_addr="127.0.0.1:0",
                               cli_addr=None, orch_addrs=("127.0.0.1:9",))
        return GatewayNode(config, NetworkBroadcaster(config, onchain=Web3GatewayChain(console_services.client,
                                                                                       gateway_key)))

    console_services.gateway_factory = make
    console_services.headless_gateway = "127.0.0.1:9"
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        screen = app.screen
        words = await wait_until(pilot, lambda: "deposit " in (t := plain_text(screen.query_one("#gateway-status", Static),
                                                                                 300)) and t, "the deposit read")
        assert f"deposit {on_chain.deposit:,} wei (0 wei redeemed from it since the gateway started)" in words
        assert f"reserve {on_chain.reserve:,} wei" in words
