"""A seeded devnet (the packaged state) for the payment tests, reverted after each test, and an on-chain
node (orchestrator #1 of the seed, dev account 1, signing with its dev key) built by the composition
root exactly as `lpc node` builds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain.devnet.accounts import dev_account
from chain.devnet.anvil import free_port
from chain.devnet.manager import Devnet
from core.settings import load_settings
from tests.chain.seeded import Dev, make_client

ETH = 10**18
ORCH = 1  # dev account index of seeded orchestrator #1 (active, fee share 50 %)
GATEWAY = 50  # a seeded gateway with a deposit and a reserve
FACE = ETH // 10  # the tests' --max-face-value; with --ticket-ev = FACE every ticket wins


@pytest.fixture(scope="session")
def devnet_dir(tmp_path_factory) -> tuple[Path, object]:
    d = tmp_path_factory.mktemp("payments-devnet")
    devnet = Devnet(d)
    info = devnet.up(port=free_port(), block_time=0)
    yield d, info
    devnet.down()


@pytest.fixture
def client(devnet_dir):
    c = make_client(devnet_dir[1])
    snap = c.w3.provider.make_request("evm_snapshot", [])["result"]
    yield c
    c.w3.provider.make_request("evm_revert", [snap])


@pytest.fixture
def dev(client) -> Dev:
    return Dev(client)


@pytest.fixture
def settings(devnet_dir, monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("LPC_"):
            monkeypatch.delenv(key)
    return load_settings(devnet_dir[0])


@pytest.fixture
def onchain_node(settings, client, tmp_path):
    """Factory: (node, parts) for orchestrator #1, started; stopped after the test."""
    from core.composition import onchain_node as build
    from core.node import NodeConfig
    from core.payments.config import PaymentConfig
    from core.store import open_store

    started = []

    def make(*, price_per_unit: int = 1, pixels_per_unit: int = 1, store_dir: Path | None = None, **payment):
        cfg = NodeConfig(data_dir=tmp_path / "node", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0",
                         cli_addr="127.0.0.1:0", max_sessions=4, encoder="x264", x264_preset="ultrafast",
                         price_per_unit=price_per_unit, pixels_per_unit=pixels_per_unit, offchain=False)
        pc = PaymentConfig(**{"poll_s": 0.1, "reward": False, "redeem_backoff_s": 0.1, **payment})
        store = open_store(store_dir or tmp_path / "store")
        node, parts = build(settings, cfg, dev_account(ORCH), pc, store=store)
        node.start()
        started.append((node, store))
        return node, parts

    yield make
    for node, store in started:
        node.stop()
        for s in node.services:
            s.stop()
        store.close()
