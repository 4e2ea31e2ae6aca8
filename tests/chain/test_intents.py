"""Intents before signing (cost, summary, state change, refusals in words) and the send path after
it (a revert that happens on chain is decoded and journaled)."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from chain.intents import PreflightError, build_intent, gas_price, make_plan
from chain.reads import load_account
from chain.revert_words import decode_custom_error, explain_revert
from chain.services import staking
from chain.tx import MemoryJournal, execute_plan, send_intent
from core.store import open_store
from core.store.journal import SqlJournal
from core.store.models import TxJournal
from tests.chain.seeded import *  # noqa: F403
from tests.chain.seeded import ETH, LPT, Dev


def test_preview_has_cost_at_the_current_gas_price_summary_and_change(client, dev: Dev):
    me = dev.delegator(2)
    dev.to_next_round()
    acct = load_account(client, me.address)
    plan = staking.unbond(client, me.address, 10 * LPT)
    (intent,) = plan.intents
    assert intent.to == client.address("BondingManager") and intent.value == 0
    assert intent.data.startswith("0x27de9e32")  # unbond(uint256)
    assert intent.estimate == client.w3.eth.estimate_gas(
        {"from": me.address, "to": intent.to, "data": intent.data})
    assert intent.gas > intent.estimate  # a margin over the estimate
    assert intent.gas_price == gas_price(client).gas_price
    assert intent.cost_wei == intent.estimate * intent.gas_price
    assert "Unbond 10.0 LPT" in intent.summary
    bonded = f"{acct.pending_stake // LPT:,}"
    assert any(str(c).startswith(f"bonded {bonded}") for c in intent.changes)
    text = plan.describe()
    assert "ETH" in text and "gwei" in text and "→" in text


def test_a_gas_estimate_that_reverts_becomes_a_refusal_in_words(client, dev: Dev):
    stranger = dev.account(55)  # never bonded
    bm = client.contract("BondingManager")
    with pytest.raises(PreflightError) as err:
        build_intent(client, sender=stranger.address, contract="BondingManager", fn=bm.functions.unbond(LPT),
                     action="unbond", summary="x")
    assert "not bonded" in err.value.reason and err.value.fix


def test_not_enough_eth_for_gas_is_refused_with_the_amount_to_send(client, dev: Dev):
    poor = client.w3.to_checksum_address("0x00000000000000000000000000000000000fee11")
    client.w3.provider.make_request("anvil_setBalance", [poor, "0x0"])
    bm = client.contract("BondingManager")
    intent = build_intent(client, sender=poor, contract="BondingManager", fn=bm.functions.checkpointBondingState(poor),
                          action="checkpoint", summary="checkpoint")
    with pytest.raises(PreflightError, match="not enough ETH for gas") as err:
        make_plan(client, "checkpoint", [intent], eth_balance=0)
    assert "send at least" in err.value.fix and poor in err.value.fix


def test_custom_errors_and_revert_strings_in_words():
    data = "0x" + keccak(text="VoteAlreadyCast()")[:4].hex()
    assert decode_custom_error(data) == "VoteAlreadyCast()"
    assert "already voted" in explain_revert(data).reason
    words = explain_revert("execution reverted: can't update transcoder params, current round is locked")
    assert "lock period" in words.reason and "next round" in words.fix
    assert "refused: something new" in explain_revert("execution reverted: something new").reason


def test_a_revert_on_chain_is_decoded_and_journaled(client, dev: Dev, tmp_path):
    """The plan was fine when built; the state changed before it was mined: the receipt's revert is
    replayed and said in words, and the journal keeps the failure."""
    orch = dev.orchestrator(0)  # the seeded orchestrator 0 has fees
    dev.to_next_round()
    fees = load_account(client, orch.address).pending_fees
    assert fees > 0
    plan = staking.withdraw_fees(client, orch.address)  # all of it
    bm = client.contract("BondingManager")
    dev.send(bm.functions.withdrawFees(orch.address, fees), orch.address)  # spent meanwhile
    journal = SqlJournal(open_store(tmp_path))
    result = send_intent(client, plan.intents[0], orch, journal)
    assert not result.ok and result.tx_hash
    assert result.error == "that is more ETH than the fees earned"
    with journal._store.sessions() as s:
        row = s.get(TxJournal, result.journal_id)
        assert row.status == "failed" and row.tx_hash == result.tx_hash and "fees earned" in row.error
        assert row.action == "withdrawFees" and row.sender == orch.address


def test_sent_transactions_are_journaled_with_their_events(client, dev: Dev, tmp_path):
    me = dev.delegator(4)
    dev.to_next_round()
    journal = SqlJournal(open_store(tmp_path))
    results = execute_plan(client, staking.unbond(client, me.address, LPT), me, journal)
    rows = journal.recent(sender=me.address)
    assert len(rows) == 1 and rows[0].status == "mined" and rows[0].tx_hash == results[0].tx_hash
    assert rows[0].block_number == results[0].block_number and int(rows[0].fee_wei) == results[0].fee_wei
    assert '"Unbond"' in rows[0].events_json and "Unbond 1.0 LPT" in rows[0].summary


def test_the_signer_must_be_the_sender(client, dev: Dev):
    from chain.client import ChainError

    me = dev.delegator(4)
    dev.to_next_round()
    plan = staking.unbond(client, me.address, LPT)
    with pytest.raises(ChainError, match="the signer is"):
        execute_plan(client, plan, dev.delegator(5), MemoryJournal())
    assert client.w3.eth.get_balance(me.address) > ETH  # nothing was sent
