"""Fixtures for the chain-layer service tests: the seeded devnet (12 orchestrators, 30 delegators,
proposals, a poll, fees) on its own anvil, reverted after each test.

Import the fixtures into a test module with `from tests.chain.seeded import *  # noqa: F403`. They do
not use the shared `w3` fixture, so the package conftest's revert (on the bare deployment) does not
apply; `client` takes its own snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from web3 import Web3

from chain.client import ChainClient
from chain.devnet.accounts import dev_account
from chain.devnet.anvil import free_port
from chain.devnet.manager import Devnet
from chain.network import devnet_profile

LPT = 10**18
ETH = 10**18

__all__ = ["seeded_devnet", "client", "Dev", "dev", "send", "LPT", "ETH"]


@pytest.fixture(scope="session")
def seeded_devnet(tmp_path_factory):
    d = tmp_path_factory.mktemp("lpc-seeded")
    devnet = Devnet(d)
    info = devnet.up(port=free_port(), block_time=0)
    yield info
    devnet.down()


def make_client(info) -> ChainClient:
    profile = devnet_profile(info.controller, info.poll_creator, info.ai_service_registry,
                             chain_id=info.chain_id, multicall3=info.multicall3, price_feed=info.price_feed)
    client = ChainClient(info.rpc_url, profile)
    client.check_chain()
    return client


@pytest.fixture
def client(seeded_devnet):
    c = make_client(seeded_devnet)
    snap = c.w3.provider.make_request("evm_snapshot", [])["result"]
    yield c
    c.w3.provider.make_request("evm_revert", [snap])


def send(client: ChainClient, plan, signer):
    """Send a service's plan through chain.tx as the console would (in-memory journal); every step must
    succeed. The results, for their events."""
    from chain.tx import MemoryJournal, execute_plan

    results = execute_plan(client, plan, signer, MemoryJournal())
    assert all(r.ok for r in results)
    return results


@dataclass
class Dev:
    """Moves the seeded devnet along (as anvil's unlocked accounts; never through the code under test)."""

    client: ChainClient

    @property
    def w3(self) -> Web3:
        return self.client.w3

    def c(self, name: str):
        return self.client.contract(name)

    def send(self, fn, sender: str, value: int = 0):
        tx = fn.transact({"from": sender, "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        assert receipt.status == 1, f"{fn.fn_name} reverted"
        return receipt

    def mine(self, blocks: int) -> None:
        if blocks > 0:
            self.w3.provider.make_request("anvil_mine", [hex(blocks)])

    def round(self) -> int:
        return self.c("RoundsManager").functions.currentRound().call()

    def to_next_round(self, initialize: bool = True) -> int:
        """Mine to the first block of the next round (and initialize it): a round with room for a test."""
        rm = self.c("RoundsManager").functions
        start, length, now = rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.blockNum().call()
        self.mine(start + length - now)
        if initialize:
            self.send(rm.initializeRound(), self.account(0).address)
        return self.round()

    def to_lock_period(self) -> None:
        rm = self.c("RoundsManager").functions
        start, length, now = rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.blockNum().call()
        lock = length * rm.roundLockAmount().call() // 1_000_000
        self.mine(start + length - lock - now)

    @staticmethod
    def account(i: int):
        """The anvil dev account i as an eth_account LocalAccount (a Signer)."""
        return dev_account(i)

    def orchestrator(self, i: int):
        """Seeded orchestrator i (0-based; dev account i+1): 0 and 2 called reward in the last round."""
        return dev_account(1 + i)

    def delegator(self, j: int):
        """Seeded delegator j (0-based; dev account 20+j), bonded to orchestrator (j*5) % 12."""
        return dev_account(20 + j)

    def mint_lpt(self, to: str, amount: int) -> None:
        self.send(self.c("LivepeerToken").functions.mint(to, amount), self.account(0).address)


@pytest.fixture
def dev(client) -> Dev:
    return Dev(client)
