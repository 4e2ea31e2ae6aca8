"""The AI API on the seeded devnet: the gateway (seeded gateway account, its TicketBroker deposit) sends an
upscale to orchestrator #1 running the AI worker on chain, signed GetOrchestrator and segment, paid in
tickets for units x the orchestrator's upscale price; the orchestrator keeps the winning tickets under
the AI manifest `30_<model>` and its balance there is what the gateway paid less the fees, to the wei."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import httpx
import pytest
from PIL import Image

from chain.devnet.accounts import dev_account
from tests.payments.conftest import FACE, GATEWAY, ORCH, client, dev, devnet_dir, settings  # noqa: F401

os.environ.setdefault("LPC_AI_CACHE", str(Path(tempfile.gettempdir()) / "lpc-test-model-cache"))
pytest.importorskip("core.ai.bundled", reason="the bundled model registry (ai-models) has not landed yet")
pytest.importorskip("core.node.ai_http", reason="the orchestrator's AI routes (ai-orch) have not landed yet")

UPSCALE = "realesrgan/realesr-animevideov3-x4"


def _png(w: int, h: int) -> bytes:
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 9) % 256, (y * 7) % 256, 90) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def test_an_onchain_upscale_pays_the_orchestrator_in_tickets(settings, client, dev, tmp_path):  # noqa: F811
    from chain.services.gateway_chain import Web3GatewayChain
    from core.ai.ports import Pipeline
    from core.composition import ai_worker, onchain_node
    from core.gateway.broadcast import NetworkBroadcaster
    from core.gateway.config import GatewayConfig
    from core.gateway.node import GatewayNode
    from core.node import NodeConfig
    from core.payments.config import PaymentConfig
    from core.store import open_store
    from tests.waiting import wait_for

    orch, gateway = dev_account(ORCH), dev_account(GATEWAY)
    dev.to_next_round()
    dev.send(dev.c("BondingManager").functions.reward(), orch.address)
    cfg = NodeConfig(data_dir=tmp_path / "node", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0",
                     cli_addr="127.0.0.1:0", price_per_unit=3, pixels_per_unit=1, offchain=False, transcoding=False,
                     ai_worker=True, ai_models=f"upscale:{UPSCALE}:true")
    store = open_store(tmp_path / "store")
    node, parts = onchain_node(settings, cfg, orch, PaymentConfig(poll_s=0.1, reward=False, redeem_backoff_s=0.1,
                                                                  ticket_ev=FACE, max_face_value=FACE),
                               store=store, ai=ai_worker(cfg))
    node.start()
    gw = None
    try:
        wait_for(lambda: all(m.state != "loading" for m in node.status().ai_models), timeout=120, what="the model")
        addr = "127.0.0.1:" + node.status().listening.rsplit(":", 1)[1]
        gcfg = GatewayConfig(data_dir=tmp_path / "gw", offchain=False, orch_addrs=(addr,), http_addr="127.0.0.1:0",
                             cli_addr=None, rtmp_addr=None, discovery_timeout_s=3.0, max_ticket_ev=FACE,
                             max_total_ev=4 * FACE)
        gw = GatewayNode(gcfg, NetworkBroadcaster(gcfg, onchain=Web3GatewayChain(client, gateway, ttl_s=0)))
        base = f"http://{gw.start().http}"
        for size in ((32, 24), (16, 16)):
            r = httpx.post(f"{base}/upscale", timeout=120, files={"image": ("in.png", _png(*size), "image/png")},
                           data={"prompt": "x", "model_id": ""})
            assert r.status_code == 200, r.text
            got = httpx.get(base + r.json()["images"][0]["url"])
            assert Image.open(io.BytesIO(got.content)).size == (4 * size[0], 4 * size[1])
        tickets = parts.ledger.entries()
        # the O serves a request while the balance under 30_<model> is at least one ticket's EV (FACE, every
        # ticket wins): after the first fee (its price x 32x24 input pixels) it is below that, so each
        # request carried one ticket, and the O's balance is what the gateway paid less both fees, to the wei
        assert len(tickets) == 2
        assert {t.sender.lower() for t in tickets} == {gateway.address.lower()}
        assert {t.face_value for t in tickets} == {FACE} and {t.manifest_id for t in tickets} == {f"30_{UPSCALE}"}
        manifest = f"30_{UPSCALE}".encode()
        balance = parts.payments.balances.balance(bytes.fromhex(gateway.address[2:]), manifest)
        (offer,) = [c.offer for c in gw.ai_pool.candidates(Pipeline.UPSCALE, UPSCALE)]  # the price the gateway paid
        assert offer.price >= 3  # -pricePerUnit 3, raised by the redemption overhead (auto-adjust)
        assert balance == 2 * FACE - offer.price * (32 * 24 + 16 * 16)
    finally:
        if gw is not None:
            gw.stop()
        node.stop()
        for s in node.services:
            s.stop()
        store.close()
