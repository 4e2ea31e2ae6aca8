"""Prices in USD through the ETH/USD price feed (go-livepeer's `-pricePerUnit 0.5USD -priceFeedAddr …`), on
the seeded devnet and its Chainlink-compatible feed: the wei price a gateway is offered follows the feed
while the node runs; a paid segment at that price goes through, and a session quoted before the price
moved is not refused; a currency the feed does not quote is
refused and nothing changes; the price survives a restart; a node whose USD price has no readable feed
does not start; a feed outage keeps the last rate and raises one alert; a stale answer is flagged."""

from __future__ import annotations

from fractions import Fraction

import httpx
import pytest
from click.testing import CliRunner

from chain.client import ChainClient, ChainError
from chain.devnet.accounts import dev_account
from chain.devnet.price_feed import set_eth_price
from chain.services.price_feed import PriceFeedReader
from console.cli import cli
from core.media.profiles import COMMON_LADDER
from core.media.synthetic import make_segment
from core.payments.alerts import Alerts
from core.payments.feed import PriceFeedWatcher
from core.payments.pricing import PriceBook, PriceError, parse_price, to_wire
from core.store import open_store
from tests.payments.conftest import ETH
from tests.payments.test_autopilot import FlakyRpc
from tests.payments.conftest import FACE
from tests.payments.gateway import gateway_for
from tests.waiting import wait_for

USD_PER_PIXEL = Fraction(3, 10**6)  # 0.000003 USD per pixel ≈ 1,000 wei at 3,000 USD/ETH


def offered(node) -> Fraction:
    gw = gateway_for(node)
    try:
        p = gw.get_orchestrator().price_info
    finally:
        gw.close()
    return Fraction(p.pricePerUnit, p.pixelsPerUnit)


def expected(usd_per_pixel: Fraction, eth_usd: Fraction, parts) -> Fraction:
    """What GetOrchestrator must carry: USD → wei at the feed's rate, plus the redemption overhead."""
    overhead = Fraction(1_200_000 * parts.payments.state.view().gas_price, FACE)
    return Fraction(*to_wire(usd_per_pixel * ETH / eth_usd * (1 + overhead)))


def test_a_usd_price_follows_the_feed_and_pays_for_segments(onchain_node, client, devnet_dir):
    feed = PriceFeedReader(client)
    start = feed.latest()
    assert start.quote == "USD" and start.price > 0
    node, parts = onchain_node(ticket_ev=FACE // 1000, max_face_value=FACE, price_per_unit="0.000003USD",
                               price_feed_poll_s=0.2)
    assert offered(node) == expected(USD_PER_PIXEL, start.price, parts)

    # a gateway pays for a segment at the converted price
    gw = gateway_for(node)
    session = gw.session()
    clip = make_segment(320, 180, 1.0)
    result = gw.transcode(session, clip, COMMON_LADDER[:1], seq=0)
    assert result.WhichOneof("result") == "data", result.error
    quoted = Fraction(session.info.price_info.pricePerUnit, session.info.price_info.pixelsPerUnit)
    # the overhead term follows the gas price, which moves with every block (the feed update below mines
    # one), so the quote is compared with the formula at the gas price of the moment it was made
    assert quoted == expected(USD_PER_PIXEL, start.price, parts)

    set_eth_price(devnet_dir[1], 250050000000)  # ETH falls to 2,500.50 USD: each pixel costs more wei
    def want():
        return expected(USD_PER_PIXEL, Fraction(250050, 100), parts)
    wait_for(lambda: offered(node) == want(), timeout=10,
             what=lambda: f"{offered(node)} == {want()} after the feed moved")
    assert want() > quoted
    # mid-session the gateway still pays the price it was quoted (bound into its ticket parameters) and is
    # not refused; the reply carries the new price for its next segment
    result = gw.transcode(session, clip, COMMON_LADDER[:1], seq=1)
    assert Fraction(result.info.price_info.pricePerUnit, result.info.price_info.pixelsPerUnit) == want()
    gw.close()
    shown = httpx.get(f"http://{node.status().management}/pricing").json()
    assert shown["prices"][0]["currency"] == "USD" and shown["prices"][0]["price_per_unit"] == "0.000003"
    assert shown["feed"]["price"] == "2500.5" and shown["feed"]["address"] == feed.address
    assert shown["feed"]["stale"] is False and shown["feed"]["last_error"] is None


def test_a_currency_the_feed_does_not_quote_is_refused_and_usd_survives_a_restart(onchain_node, client,
                                                                                   devnet_dir, tmp_path):
    node, parts = onchain_node(ticket_ev=FACE // 1000, max_face_value=FACE, price_per_unit=1000,
                               store_dir=tmp_path / "kept")
    api = f"http://{node.status().management}"
    before = offered(node)
    runner = CliRunner()

    def lpc(*args):
        return runner.invoke(cli, ["--data-dir", str(devnet_dir[0]), *args])

    r = lpc("pricing", "set", "0.5EUR", "--node", api)
    assert r.exit_code != 0 and "quotes ETH in USD, not EUR" in r.output
    assert offered(node) == before and parts.prices.entry().currency == "WEI"
    r = lpc("pricing", "set", "0.003USD", "--pixels-per-unit", "1e3", "--node", api)
    assert r.exit_code == 0, r.output
    assert "0.003 USD / 1000 pixels" in r.output and "ETH/USD" in r.output
    rate = PriceFeedReader(client).latest().price
    assert offered(node) == expected(USD_PER_PIXEL, rate, parts)
    # go-livepeer's form gives the currency apart: the same price; naming it twice is refused
    r = httpx.post(f"{api}/pricing", json={"price_per_unit": "0.003", "currency": "usd", "pixels_per_unit": "1000"})
    assert r.status_code == 200 and r.json()["prices"][0]["currency"] == "USD"
    r = httpx.post(f"{api}/pricing", json={"price_per_unit": "0.003USD", "currency": "USD"})
    assert r.status_code == 400 and "give the currency once" in r.json()["error"]
    r = httpx.post(f"{api}/pricing", json={"price_per_unit": "0.5EUR", "auto_adjust": False})
    assert r.status_code == 400 and parts.prices.auto_adjust is True  # a refused request changes nothing
    assert offered(node) == expected(USD_PER_PIXEL, rate, parts)

    node.stop()
    for s in node.services:
        s.stop()
    parts.store.close()
    again, parts2 = onchain_node(ticket_ev=FACE // 1000, max_face_value=FACE, price_per_unit=1000,
                                 store_dir=tmp_path / "kept")
    entry = parts2.prices.entry()
    assert (entry.currency, entry.price_per_unit, entry.pixels_per_unit) == ("USD", Fraction(3, 1000), 1000)
    assert offered(again) == expected(USD_PER_PIXEL, rate, parts2)


def test_a_usd_price_needs_a_readable_feed(onchain_node):
    no_feed = dev_account(33).address  # an account, not a contract
    with pytest.raises(Exception, match=f"prices in USD need the ETH price feed at {no_feed}, which cannot be read"):
        onchain_node(price_per_unit="0.5USD", price_feed=no_feed)
    # with a wei price the node starts, and a USD price is refused until the feed answers
    node, parts = onchain_node(price_per_unit=1000, price_feed=no_feed)
    with pytest.raises(PriceError, match="has not answered yet"):
        parts.prices.set(parse_price("0.5USD"))
    assert parts.prices.entry().currency == "WEI" and offered(node) > 0


def test_an_outage_keeps_the_last_rate_and_alerts_once(client, tmp_path):
    proxy = FlakyRpc(client.rpc_url)
    store = open_store(tmp_path)
    alerts = Alerts(store)
    try:
        watcher = PriceFeedWatcher(PriceFeedReader(ChainClient(proxy.url, client.profile)), alerts=alerts)
        rate = watcher.refresh().price
        book = PriceBook(store, rates=watcher)
        book.set(parse_price("0.000003USD"))
        wei = book.base()
        proxy.down = True
        for _ in range(3):
            with pytest.raises(ChainError, match="cannot read the price feed"):
                watcher.refresh()
        assert watcher.rate("USD") == rate and book.base() == wei  # the last good answer is kept
        assert watcher.last_error and watcher.to_json()["last_error"]
        shown = [a.message for a in alerts.recent(source="pricing")]
        assert len(shown) == 1 and "cannot be read" in shown[0] and "keep ETH/USD" in shown[0]
        proxy.down = False
        watcher.refresh()
        assert watcher.last_error is None
    finally:
        proxy.close()
        store.close()


def test_a_stale_answer_is_flagged_once(client, tmp_path):
    store = open_store(tmp_path)
    alerts = Alerts(store)
    watcher = PriceFeedWatcher(PriceFeedReader(client), alerts=alerts)
    assert watcher.to_json()["configured"] and watcher.refresh()
    assert watcher.to_json()["stale"] is False
    client.w3.provider.make_request("evm_increaseTime", [26 * 3600])
    client.w3.provider.make_request("evm_mine", [])
    watcher._clock = lambda: client.w3.eth.get_block("latest").timestamp  # the chain's clock, 26 h later
    watcher.refresh()
    watcher.refresh()
    shown = [a.message for a in alerts.recent(source="pricing")]
    assert len(shown) == 1 and "last updated 26" in shown[0] and "still use" in shown[0]
    assert watcher.to_json()["stale"] is True
    store.close()


def test_an_offchain_node_refuses_a_usd_price(tmp_path):
    r = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "node", "--orchestrator", "--transcoder", "--offchain",
                                 "--price-per-unit", "0.5USD"])
    assert r.exit_code == 2 and "an offchain node has no price feed to convert USD to wei" in r.output


def test_a_price_pushed_above_a_gateways_max_raises_one_alert(settings, client, devnet_dir, tmp_path):
    """ETH falls under a USD price: the wei price rises above a known gateway's max (settings
    node.gateway_max_prices) and the operator is told once, instead of silently getting no work."""
    from core.composition import onchain_node
    from core.node import NodeConfig
    from core.payments.caps import PriceCapWatch
    from core.payments.config import PaymentConfig
    from tests.payments.conftest import GATEWAY, ORCH

    gateway = dev_account(GATEWAY).address
    capped = settings.model_copy(update={"node": settings.node.model_copy(
        update={"gateway_max_prices": {gateway.lower(): 1.1e9}})})  # wei/px; we start at ≈ 1.01e9
    cfg = NodeConfig(data_dir=tmp_path / "node", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0",
                     cli_addr=None, max_sessions=2, encoder="x264", x264_preset="ultrafast",
                     price_per_unit="0.000003USD", offchain=False)
    store = open_store(tmp_path / "store")
    node, parts = onchain_node(capped, cfg, dev_account(ORCH), PaymentConfig(
        poll_s=0.1, reward=False, ticket_ev=FACE // 1000, max_face_value=FACE, price_feed_poll_s=0.2), store=store)
    watch = next(s for s in node.services if isinstance(s, PriceCapWatch))
    try:  # not started: the test drives the feed and the watch itself
        parts.feed.refresh()
        parts.payments.state.refresh()
        assert watch.check() == [] and not parts.alerts.recent(source="pricing")
        set_eth_price(devnet_dir[1], 250000000000)  # 2,500 USD: 0.000003 USD ≈ 1.2e9 wei per pixel
        parts.feed.refresh()
        (said,) = watch.check()
        assert f"gateway {gateway}" in said and "above its max 1,100,000,000" in said
        assert watch.check() == []  # once per crossing
        assert [a.message for a in parts.alerts.recent(source="pricing")] == [said]
        set_eth_price(devnet_dir[1], 300000000000)
        parts.feed.refresh()
        assert watch.check() == [] and gateway not in watch.above  # back under: armed again
    finally:
        for s in node.services:
            s.stop()
        store.close()
