"""The node's chain adapters sign only through chain.tx: a ticket redemption (BrokerClient) and a reward call
(RewardClient) on the seeded devnet are journaled in the data dir's SQL journal and carry the max fee of
chain.intents' fee rule (MAX_FEE_MULTIPLIER × base fee). The redemption used to build and sign its own
transaction with a hard-coded 2 × base fee, outside that rule."""

from __future__ import annotations

import pytest

import chain.intents
from chain.devnet.accounts import dev_account
from chain.services.payment_ports import BrokerClient, RewardClient
from core.payments.ledger import TicketLedger
from core.store import open_store
from core.store.journal import SqlJournal
from tests.payments.conftest import FACE, ORCH
from tests.payments.gateway import stored_winning_ticket

GWEI = 10**9
MULTIPLIER = 3  # not the default (2): the sent max fee must follow the rule, not a number of its own


@pytest.fixture
def journaled(client, dev, tmp_path, monkeypatch):
    """A store with the SQL journal, a base fee high enough that the multiplier decides the max fee (above
    anvil's gas price of base fee + tip), and the fee rule's multiplier set to MULTIPLIER."""
    dev.to_next_round()
    client.w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(50 * GWEI)])
    dev.mine(1)
    monkeypatch.setattr(chain.intents, "MAX_FEE_MULTIPLIER", MULTIPLIER)
    store = open_store(tmp_path)
    yield store, SqlJournal(store)
    store.close()


def _base_fee(client) -> int:
    return client.w3.eth.get_block("latest")["baseFeePerGas"]


def test_a_redemption_is_signed_through_chain_tx_with_its_fee_rule_and_journaled(client, dev, journaled):
    store, journal = journaled
    broker = BrokerClient(client, dev_account(ORCH), journal)
    entry = stored_winning_ticket(dev, TicketLedger(store))
    dev.mine(2)
    args = (entry.ticket.abi_tuple(), entry.sig, entry.recipient_rand)
    gas = broker.redeem_gas(*args) * 2
    view = broker.view()
    base = _base_fee(client)
    assert MULTIPLIER * base > view.gas_price  # else the caller's price, not the rule, would set the max fee
    signed = broker.sign_redeem(*args, gas=gas, gas_price=view.gas_price)
    [row] = journal.read(sender=broker.address)
    assert (row.action, row.status, row.tx_hash) == ("redeemWinningTicket", "pending", signed.tx_hash)
    broker.broadcast(signed.raw)
    client.w3.eth.wait_for_transaction_receipt(signed.tx_hash)
    receipt = broker.receipt(signed.tx_hash)
    assert receipt.ok and receipt.paid_wei == FACE
    sent = client.w3.eth.get_transaction(signed.tx_hash)
    assert sent["maxFeePerGas"] == MULTIPLIER * base and sent["maxPriorityFeePerGas"] == 0
    [row] = journal.read(sender=broker.address)
    assert (row.status, row.block_number, row.gas_used) == ("mined", receipt.block_number, receipt.gas_used)


def test_a_reward_call_is_signed_through_chain_tx_with_its_fee_rule_and_journaled(client, dev, journaled):
    _store, journal = journaled
    rewards = RewardClient(client, dev_account(ORCH), journal)
    base = _base_fee(client)
    sent = rewards.reward(rewards.address)
    assert sent.minted > 0
    tx = client.w3.eth.get_transaction(sent.tx_hash)
    assert tx["maxFeePerGas"] == MULTIPLIER * base and tx["maxPriorityFeePerGas"] == 0
    [row] = journal.read(sender=rewards.address)
    assert (row.action, row.status, row.tx_hash) == ("rewardWithHint", "mined", sent.tx_hash)
