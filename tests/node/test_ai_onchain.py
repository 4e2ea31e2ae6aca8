"""AI payments on the seeded devnet (a real anvil): orchestrator #1 serves upscale at its aiModels.json
price. A gateway's GetOrchestrator naming the model gets that price and ticket parameters committed to it;
discovery lists it in capabilities_prices. An upscale without tickets is 400 "Insufficient balance"; with
a winning ticket it is served, the ticket is stored, and the balance under `30_<model>` is the ticket's
value less units x price (input pixels x wei per pixel), to the wei. A gateway with its own entry
("gateway": its address) is quoted its own price."""

from __future__ import annotations

import base64
import io
import json
import time
from fractions import Fraction

import httpx
import pytest
from PIL import Image

from chain.devnet.accounts import dev_account
from core.payments.sender import PaymentSession
from core.proto import net
from tests.payments.conftest import FACE, GATEWAY, ORCH, client, dev, devnet_dir, settings  # noqa: F401 - fixtures
from tests.payments.gateway import gateway_for

UPSCALE = "realesrgan/realesr-animevideov3-x4"
PRICE = 1000  # wei per pixel
OTHER_GATEWAY, OTHER_PRICE = 51, 700  # another seeded gateway, with its own price ("gateway" in aiModels.json)


def _start(settings, tmp_path, entries):
    from core.composition import ai_worker, onchain_node
    from core.node import NodeConfig
    from core.payments.config import PaymentConfig
    from core.store import open_store

    models = tmp_path / "aiModels.json"
    models.write_text(json.dumps(entries))
    cfg = NodeConfig(data_dir=tmp_path / "node", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0",
                     cli_addr=None, encoder="x264", price_per_unit=1, pixels_per_unit=1, offchain=False,
                     transcoding=False, ai_worker=True, ai_models=str(models))
    pc = PaymentConfig(poll_s=0.1, reward=False, redeem_backoff_s=0.1, ticket_ev=FACE, max_face_value=FACE,
                       auto_adjust_price=False)
    store = open_store(tmp_path / "store")
    node, parts = onchain_node(settings, cfg, dev_account(ORCH), pc, store=store, ai=ai_worker(cfg))
    node.start()
    deadline = time.monotonic() + 60  # the warm model loads in the background; until then it answers 503
    while time.monotonic() < deadline and any(m.state == "loading" for m in node.status().ai_models):
        time.sleep(0.05)
    return node, parts, store


def _stop(node, store) -> None:
    node.stop()
    for s in node.services:
        s.stop()
    store.close()


@pytest.fixture
def ai_onchain_node(settings, client, tmp_path):  # noqa: F811 - the fixtures above
    node, parts, store = _start(settings, tmp_path, [
        {"pipeline": "upscale", "model_id": UPSCALE, "warm": True, "price_per_unit": PRICE, "pixels_per_unit": 1},
        {"pipeline": "upscale", "model_id": UPSCALE, "warm": True, "price_per_unit": OTHER_PRICE,
         "pixels_per_unit": 1, "gateway": dev_account(OTHER_GATEWAY).address}])
    yield node, parts
    _stop(node, store)


def _png(w: int, h: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


def _asks_for(model: str) -> net.Capabilities:
    caps = net.Capabilities()
    caps.capacities[30] = 1
    caps.constraints.PerCapability[30].models[model].CopyFrom(
        net.Capabilities.CapabilityConstraints.ModelConstraint())
    return caps


def test_an_upscale_is_paid_in_tickets_at_the_models_price(ai_onchain_node, dev):  # noqa: F811
    node, parts = ai_onchain_node
    orch = dev_account(ORCH).address
    dev.to_next_round()
    dev.send(dev.c("BondingManager").functions.reward(), orch)
    gw = gateway_for(node)
    # discovery: the model's price among capabilities_prices
    plain = gw._unary("GetOrchestrator", gw.sender.orchestrator_request(ignoreCapacityCheck=True), net.OrchestratorInfo)
    assert [(p.capability, p.constraint, p.pricePerUnit, p.pixelsPerUnit) for p in plain.capabilities_prices] == \
        [(30, UPSCALE, PRICE, 1)]
    # an AI gateway asks for the model: its price, and ticket params committed to it
    info = gw._unary("GetOrchestrator", gw.sender.orchestrator_request(ignoreCapacityCheck=True,
                                                                       capabilities=_asks_for(UPSCALE)),
                     net.OrchestratorInfo)
    assert (info.price_info.pricePerUnit, info.price_info.pixelsPerUnit) == (PRICE, 1)
    assert info.ticket_params.recipient == bytes.fromhex(orch[2:])
    session = PaymentSession(info)

    base = info.transcoder
    http = httpx.Client(http2=True, verify=False, timeout=60)

    def upscale(payment: net.Payment):
        seg = net.SegData(manifestId=b"ai", auth_token=info.auth_token)
        gw.sender.sign_segment(seg)
        headers = {"Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(),
                   "Livepeer-Payment": base64.b64encode(payment.SerializeToString()).decode(),
                   "Authorization": "Livepeer-AI-Worker-1.0"}
        return http.post(f"{base}/upscale", headers=headers, data={"prompt": "sharper", "model_id": UPSCALE},
                         files={"image": ("in.png", _png(40, 30), "image/png")})

    unpaid = upscale(net.Payment(sender=gw.sender.address, expected_price=info.price_info))
    assert unpaid.status_code == 400 and unpaid.text == "Insufficient balance\n"

    paid = upscale(gw.sender.payment(session, 1))
    assert paid.status_code == 200, paid.text
    url = paid.json()["images"][0]["url"]
    assert Image.open(io.BytesIO(http.get(url).content)).size == (160, 120)
    assert len(parts.ledger.entries()) == 1  # the winning ticket, stored for redemption
    sender = bytes(gw.sender.address)
    manifest = f"30_{UPSCALE}".encode()
    assert parts.payments.balances.balance(sender, manifest) == Fraction(FACE) - 40 * 30 * PRICE
    http.close()
    gw.close()
    other = gateway_for(node, OTHER_GATEWAY)
    plain = other._unary("GetOrchestrator", other.sender.orchestrator_request(ignoreCapacityCheck=True),
                         net.OrchestratorInfo)
    assert [(p.constraint, p.pricePerUnit) for p in plain.capabilities_prices] == [(UPSCALE, OTHER_PRICE)]
    asked = other._unary("GetOrchestrator", other.sender.orchestrator_request(ignoreCapacityCheck=True,
                                                                             capabilities=_asks_for(UPSCALE)),
                         net.OrchestratorInfo)
    assert (asked.price_info.pricePerUnit, asked.price_info.pixelsPerUnit) == (OTHER_PRICE, 1)
    other.close()


def _paid_upscale(gw, info, payment: net.Payment, size=(40, 30)):
    seg = net.SegData(manifestId=b"ai", auth_token=info.auth_token)
    gw.sender.sign_segment(seg)
    headers = {"Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(),
               "Livepeer-Payment": base64.b64encode(payment.SerializeToString()).decode(),
               "Authorization": "Livepeer-AI-Worker-1.0"}
    with httpx.Client(http2=True, verify=False, timeout=60) as http:
        return http.post(f"{info.transcoder}/upscale", headers=headers, data={"prompt": "sharper", "model_id": UPSCALE},
                         files={"image": ("in.png", _png(*size), "image/png")})


def test_a_model_priced_in_usd_is_charged_in_wei_at_the_devnet_feeds_rate(settings, client, tmp_path, dev):  # noqa: F811
    """aiModels.json "currency": "USD" (as go-livepeer accepts it): the price a gateway is quoted and the fee
    it pays are the USD price converted with the chain's ETH/USD feed, to the wei of the wire price."""
    from chain.services.price_feed import PriceFeedReader
    from core.payments.feed import PriceFeedWatcher
    from core.payments.pricing import to_wire

    usd_per_eth = PriceFeedWatcher(PriceFeedReader(client)).refresh().price
    node, parts, store = _start(settings, tmp_path, [
        {"pipeline": "upscale", "model_id": UPSCALE, "warm": True, "price_per_unit": 2e-12, "pixels_per_unit": 1,
         "currency": "USD"}])
    try:
        dev.to_next_round()
        gw = gateway_for(node)
        info = gw._unary("GetOrchestrator", gw.sender.orchestrator_request(ignoreCapacityCheck=True,
                                                                           capabilities=_asks_for(UPSCALE)),
                         net.OrchestratorInfo)
        wei_per_pixel = Fraction("2e-12") * 10**18 / usd_per_eth  # ~670 wei at ~3,000 USD/ETH
        assert 10 < wei_per_pixel < 100_000
        assert (info.price_info.pricePerUnit, info.price_info.pixelsPerUnit) == to_wire(wei_per_pixel)
        plain = gw._unary("GetOrchestrator", gw.sender.orchestrator_request(ignoreCapacityCheck=True),
                          net.OrchestratorInfo)
        assert [(p.capability, p.pricePerUnit, p.pixelsPerUnit) for p in plain.capabilities_prices] == \
            [(30, *to_wire(wei_per_pixel))]
        paid = _paid_upscale(gw, info, gw.sender.payment(PaymentSession(info), 1))
        assert paid.status_code == 200, paid.text
        quoted = Fraction(info.price_info.pricePerUnit, info.price_info.pixelsPerUnit)
        assert parts.payments.balances.balance(bytes(gw.sender.address), f"30_{UPSCALE}".encode()) == \
            Fraction(FACE) - 40 * 30 * quoted
        gw.close()
    finally:
        _stop(node, store)
