"""The Pricing screen: a price typed on it, in wei or in USD through the ETH/USD feed, reaches the running
on-chain node (the next GetOrchestrator carries it) and is persisted; bad input changes nothing and says why; other orchestrators that do not answer are shown as
unknown with the reason. The seeded pool's service URIs point at a closed loopback port (unreachable_peers):
probing them never asks a DNS server."""

from __future__ import annotations

from fractions import Fraction

import pytest
from textual.widgets import DataTable, Input, Static

from console.app import LivepeerConsole
from console.screens.pricing.pricing import PricingScreen
from core.payments.pricing import PriceBook
from tests.chain.seeded import Dev
from tests.console.onchain_node import FACE, gateway_for, onchain_factory
from tests.console.pilot import SIZE, plain_text, settle

pytestmark = pytest.mark.usefixtures("unreachable_peers")


def _offered(svc) -> Fraction:
    gw = gateway_for(svc)
    try:
        p = gw.get_orchestrator().price_info
    finally:
        gw.close()
    return Fraction(p.pricePerUnit, p.pixelsPerUnit)


async def _type(pilot, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


async def test_a_price_set_on_the_screen_reaches_the_running_node(signing_services, tmp_path):
    svc = signing_services
    Dev(svc.client).to_next_round()
    svc.node_factory = onchain_factory(svc, tmp_path)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p", "x")
        await settle(pilot)
        parts = svc.node_parts
        before = _offered(svc)
        gas = parts.payments.state.view().gas_price
        overhead = Fraction(1_200_000 * gas, FACE)  # redemption cost ÷ the (capped) face value
        assert before == 2 * (1 + overhead)
        screen = app.screen
        assert isinstance(screen, PricingScreen)
        panel = plain_text(screen.query_one("#price-panel", Static), width=150)
        assert "2 wei/px" in panel and "auto-adjust on" in panel

        await _type(pilot, "#price-unit", "12EUR")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "quotes ETH in USD, not EUR" in plain_text(screen.query_one("#price-notice", Static), width=150)
        assert _offered(svc) == before

        await _type(pilot, "#price-unit", "0.000003USD")  # 1,000 wei at the devnet's 3,000 USD/ETH
        await pilot.press("ctrl+s")
        await settle(pilot)
        rate = parts.feed.rate("USD")
        assert "✓ default price now 0.000003 USD per pixel = " in plain_text(screen.query_one("#price-notice", Static), width=150)
        assert _offered(svc) == Fraction(3, 10**6) * 10**18 / rate * (1 + overhead)
        panel = plain_text(screen.query_one("#price-panel", Static), width=150)
        assert f"ETH/USD {float(rate):,.2f}" in panel and "0.000003 USD per pixel" in panel
        network = screen.query_one("#network-prices", DataTable)
        own = [str(c) for c in network.get_row_at(0)]
        assert own[3] == "this node (advertised)"  # its row follows the new price without a new probe
        assert own[2] == f"{float(_offered(svc)):,.0f}"

        await _type(pilot, "#price-unit", "5")
        await _type(pilot, "#price-pixels", "1")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "✓ default price now 5 wei/px" in plain_text(screen.query_one("#price-notice", Static), width=150)
        assert _offered(svc) == 5 * (1 + overhead)
        assert PriceBook(parts.store).base() == 5  # persisted: a restarted node keeps it
        assert "5 wei/px" in plain_text(screen.query_one("#price-panel", Static), width=150)

        network = screen.query_one("#network-prices", DataTable)
        rows = [network.get_row_at(i) for i in range(network.row_count)]
        assert str(rows[0][3]) == "this node (advertised)"
        others = rows[1:]
        assert others and all(str(r[2]) == "unknown" and str(r[3]).startswith("no TLS answer (Connection")
                              for r in others)  # refused on 127.0.0.1:9


def test_pricing_snapshot_node_stopped(console_services, snap_compare):
    svc = console_services
    svc.settings = svc.settings.model_copy(update={"node": svc.settings.node.model_copy(update={
        "offchain": False, "price_per_unit": 1100, "gateway_max_prices": {"0x" + "22" * 20: 1200.0,
                                                                         "0x" + "33" * 20: 1000.0}})})

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(svc, poll=False), terminal_size=SIZE, run_before=run_before)


async def test_a_usd_price_is_shown_as_set_while_the_node_is_stopped(console_services):
    svc = console_services
    svc.settings = svc.settings.model_copy(update={"node": svc.settings.node.model_copy(update={
        "offchain": False, "price_per_unit": "0.5USD", "pixels_per_unit": 10**6,
        "gateway_max_prices": {"0x" + "22" * 20: 1200.0}})})
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        panel = plain_text(app.screen.query_one("#price-panel", Static), width=150)
        assert "0.5 USD per 1,000,000 pixels" in panel
        assert "converted to wei with the network's ETH price feed when the node runs" in panel
        caps = app.screen.query_one("#caps", DataTable)
        assert [str(c) for c in caps.get_row_at(0)][2:] == ["unknown", "unknown"]  # no wei price until it runs


async def test_the_network_table_shows_real_orchestrators_prices(signing_services, tmp_path):
    """Two seeded orchestrators point their ServiceRegistry URIs at real nodes priced 800 and 1,500 wei/px:
    the screen asks them as a gateway does and places this node's price among theirs."""
    from chain.devnet.anvil import free_port
    from core.node import Node, NodeConfig

    svc = signing_services
    dev = Dev(svc.client)
    dev.to_next_round()
    peers = []
    for i, price in ((1, 800), (2, 1500)):
        port = free_port()
        peer = Node(NodeConfig(data_dir=tmp_path / f"peer{i}", service_addr=f"127.0.0.1:{port}",
                               http_addr=f"127.0.0.1:{port}", cli_addr=None, max_sessions=1, encoder="x264",
                               x264_preset="ultrafast", price_per_unit=price))
        peer.start()
        peers.append(peer)
        dev.send(dev.c("ServiceRegistry").functions.setServiceURI(f"https://127.0.0.1:{port}"),
                 dev.orchestrator(i).address)
    svc.node_factory = onchain_factory(svc, tmp_path)
    app = LivepeerConsole(svc, poll=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("p", "x")
            await settle(pilot)
            svc.node_parts.prices.set(1000)
            await pilot.press("r")
            await settle(pilot)
            screen = app.screen
            table = screen.query_one("#network-prices", DataTable)
            rows = {str(r[0]): [str(c) for c in r] for r in (table.get_row_at(i) for i in range(table.row_count))}
            by_price = sorted((r[2], r[3]) for r in rows.values() if r[3] == "from its OrchestratorInfo")
            assert by_price == [("1,500", "from its OrchestratorInfo"), ("800", "from its OrchestratorInfo")]
            summary = plain_text(screen.query_one("#network-summary", Static), width=150)
            assert "2 of 9 other active orchestrators answered" in summary and "800–1,500 wei/px" in summary
            assert "you are cheaper than 1 of them" in summary  # 1,000 (+ overhead) sits between 800 and 1,500
    finally:
        for peer in peers:
            peer.stop()
