"""The broadcaster on the seeded devnet: an on-chain stream to orchestrator #1 pays in tickets from the
seeded gateway's TicketBroker deposit (signed GetOrchestrator, signed segments, verification on by
default: the renditions' signature and pixel count); the orchestrator stores the winning tickets and
redeems them, and the gateway's deposit falls by exactly what was redeemed, to the wei."""

from __future__ import annotations

from fractions import Fraction

from chain.devnet.accounts import dev_account
from chain.services.deposit import load_sender
from chain.services.gateway_chain import Web3GatewayChain
from core.gateway.broadcast import NetworkBroadcaster
from core.gateway.config import GatewayConfig
from core.gateway.discovery import orch_uri
from core.gateway.ports import SourceSegment
from tests.gateway.conftest import LADDER
from tests.gateway.test_broadcast import Recorder
from tests.node.gateway import probe
from tests.payments.conftest import (FACE, GATEWAY, ORCH, client, dev, devnet_dir, onchain_node,  # noqa: F401
                                     settings)
from tests.waiting import wait_for


def past_expiry(dev, parts) -> None:
    """Mine past the ticket params' expiration, initializing the round if the blocks crossed into one."""
    dev.mine(parts.payments.params.expiration + 1)
    rm = dev.c("RoundsManager").functions
    if not rm.currentRoundInitialized().call():
        dev.send(rm.initializeRound(), dev_account(0).address)


def test_an_onchain_stream_pays_the_orchestrator_and_the_deposit_falls_by_what_was_redeemed(
        onchain_node, dev, client, clip, tmp_path):  # noqa: F811
    orch = dev_account(ORCH).address
    gateway = dev_account(GATEWAY)
    dev.to_next_round()
    dev.send(dev.c("BondingManager").functions.reward(), orch)
    node, parts = onchain_node(ticket_ev=FACE, max_face_value=FACE, price_per_unit=2, pixels_per_unit=1)
    service = node.status().listening.rsplit(":", 1)[1]
    before = load_sender(client, gateway.address)
    rec = Recorder()
    cfg = GatewayConfig(data_dir=tmp_path, offchain=False, orch_addrs=(f"127.0.0.1:{service}",),
                        discovery_timeout_s=3.0, max_ticket_ev=FACE, max_total_ev=4 * FACE)
    assert cfg.verify  # on by default on chain
    bc = NetworkBroadcaster(cfg, observer=rec, onchain=Web3GatewayChain(client, gateway, ttl_s=0))
    try:
        stream = bc.open("paid", LADDER)
        done = [stream.transcode(SourceSegment("paid", 0, clip, 1.0))]
        past_expiry(dev, parts)  # the session's ticket params expire: renewed before the next payment
        done.append(stream.transcode(SourceSegment("paid", 1, clip, 1.0)))
    finally:
        bc.close()
    for d in done:
        assert [probe(r.data)[1:3] for r in d.renditions] == [(256, 144), (426, 240)]
        assert d.paid_wei == FACE  # one ticket each, every ticket wins (EV = face value)
    assert [(t, ev) for _, t, ev in rec.of("paid")] == [(1, FACE), (1, FACE)]
    assert rec.of("attempt_failed") == [] and [d.attempts for d in done] == [1, 1]  # signature and pixels verified
    (row,) = stream.view().orchestrators
    assert row.address.lower() == orch.lower() and row.price_wei_per_pixel != "0"

    stored = parts.ledger.entries()
    assert len(stored) == 2 and {e.status for e in stored} <= {"pending", "sent", "redeemed"}
    assert {e.sender.lower() for e in stored} == {gateway.address.lower()} and {e.manifest_id for e in stored} == {"paid"}
    assert {e.face_value for e in stored} == {FACE}
    past_expiry(dev, parts)
    wait_for(lambda: all(e.status == "redeemed" for e in parts.ledger.entries()),
             what=lambda: f"both redemptions: {[(e.status, e.last_error) for e in parts.ledger.entries()]}")
    redeemed = sum(e.paid_wei for e in parts.ledger.entries())
    after = load_sender(client, gateway.address)
    assert redeemed == 2 * FACE
    assert before.deposit - after.deposit == redeemed
    assert after.reserve == before.reserve


def test_a_max_price_in_usd_follows_the_devnet_price_feed(onchain_node, client, tmp_path):  # noqa: F811
    from chain.services.price_feed import PriceFeedReader
    from core.payments.feed import PriceFeedWatcher

    node, _ = onchain_node(price_per_unit=2, pixels_per_unit=1)
    service = node.status().listening.rsplit(":", 1)[1]
    feed = PriceFeedWatcher(PriceFeedReader(client))
    usd_per_eth = feed.refresh().price
    chain = Web3GatewayChain(client, dev_account(GATEWAY))

    def discover(max_price: str):
        cfg = GatewayConfig(data_dir=tmp_path, offchain=False, orch_addrs=(f"127.0.0.1:{service}",),
                            discovery_timeout_s=3.0, max_price_per_unit=max_price)
        bc = NetworkBroadcaster(cfg, onchain=chain, rates=feed)
        try:
            return bc.max_price(), bc.discover(LADDER)
        finally:
            bc.close()

    limit, found = discover("1e-16USD")  # ~0.03 wei per pixel at ~3,000 USD/ETH: below the node's ~2 wei
    assert limit == Fraction(1, 10**16) * 10**18 / usd_per_eth
    assert found.sessions == () and "above -maxPricePerUnit 1e-16USD" in found.unreachable[0][1]
    limit, found = discover("0.000000001USD")  # ~3e5 wei per pixel
    assert [s.uri for s in found.sessions] == [f"https://127.0.0.1:{service}"]


def test_without_orch_addr_the_active_pool_is_discovered_from_its_service_uris(onchain_node, dev, client, clip,
                                                                                tmp_path):  # noqa: F811
    from tests.console.peers import point_pool_at_closed_port

    node, _ = onchain_node(price_per_unit=2, pixels_per_unit=1)
    closed = point_pool_at_closed_port(client)  # every seeded orchestrator advertises a closed port ...
    service = "https://127.0.0.1:" + node.status().listening.rsplit(":", 1)[1]
    dev.send(dev.c("ServiceRegistry").functions.setServiceURI(service), dev_account(ORCH).address)  # ... but #1
    cfg = GatewayConfig(data_dir=tmp_path, offchain=False, discovery_timeout_s=3.0, max_total_ev=10**18)
    bc = NetworkBroadcaster(cfg, onchain=Web3GatewayChain(client, dev_account(GATEWAY)))
    try:
        uris = {c.uri for c in bc.candidates()}
        assert uris == {service, f"https://{closed}"} and all(c.stake > 0 for c in bc.candidates())
        stream = bc.open("pool", LADDER)
        done = stream.transcode(SourceSegment("pool", 0, clip, 1.0))
        assert done.orchestrator == service and done.paid_wei > 0
        states = {o.uri: o.state for o in stream.view().orchestrators}
        assert states == {service: "in use", f"https://{closed}": "unreachable"}
    finally:
        bc.close()


def test_ai_service_registry_discovery_uses_the_uris_set_in_the_ai_registry(client, dev, tmp_path):  # noqa: F811
    """-aiServiceRegistry: the AI pool is the active set at the URIs the orchestrators set in the AI
    ServiceRegistry (go-livepeer's AI subnet), not their transcoding URIs; one that set none is left out."""
    orch = dev_account(ORCH).address
    ai = dev.c("AIServiceRegistry").functions
    dev.send(ai.setServiceURI("https://127.0.0.1:18936"), orch)
    cfg = GatewayConfig(data_dir=tmp_path, offchain=False, discovery_timeout_s=3.0)
    bc = NetworkBroadcaster(cfg, onchain=Web3GatewayChain(client, dev_account(GATEWAY), ttl_s=0))
    try:
        video = {c.address.lower(): c.uri for c in bc.candidates()}
        by_ai = {c.address.lower(): c.uri for c in bc.candidates(ai_registry=True)}
    finally:
        bc.close()
    assert by_ai[orch.lower()] == "https://127.0.0.1:18936" != video[orch.lower()]
    registered = {a: ai.getServiceURI(client.w3.to_checksum_address(a)).call() for a in video}
    assert by_ai == {a: orch_uri(u) for a, u in registered.items() if u}  # each at its own AI registry entry
    assert any(not u for u in registered.values())  # the seed lists only some in the AI registry: those are out
