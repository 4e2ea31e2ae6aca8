"""Staking services on the seeded devnet: preview, each refusal before signing, send, decoded result."""

from __future__ import annotations

import pytest

from chain.intents import PreflightError
from chain.reads import DelegatorStatus, load_account
from chain.services import staking
from tests.chain.seeded import *  # noqa: F403
from tests.chain.seeded import LPT, Dev


def test_bond_approves_then_bonds_and_the_stake_changes(client, dev: Dev):
    me = dev.delegator(1)  # 2,500 LPT not bonded
    orch = dev.orchestrator(5).address  # its delegate
    dev.to_next_round()
    before = load_account(client, me.address)
    plan = staking.bond(client, me.address, 100 * LPT, orch)
    approve, bond = plan.intents
    assert (approve.action, bond.action) == ("approve", "bond")
    assert approve.to == client.address("LivepeerToken") and approve.gas_estimated
    assert not bond.gas_estimated  # estimated again once the approve is mined
    assert str(approve.changes[0]) == f"allowance 0.0 LPT → 100.0 LPT"
    from chain.amounts import format_lpt

    assert str(bond.changes[0]) == (f"bonded {format_lpt(before.pending_stake)} → "
                                    f"{format_lpt(before.pending_stake + 100 * LPT)} to {orch[:6]}…{orch[-4:]}")
    results = send(client, plan, me)
    ev = results[1].event("Bond")
    assert ev.args["delegator"] == me.address and ev.args["newDelegate"] == orch
    assert ev.args["additionalAmount"] == 100 * LPT
    after = load_account(client, me.address)
    assert after.bonded_amount == before.pending_stake + 100 * LPT == ev.args["bondedAmount"]
    assert after.lpt_balance == before.lpt_balance - 100 * LPT
    assert after.allowance == 0

    # a second bond within the allowance needs no approve: one intent, estimated up front
    dev.send(client.contract("LivepeerToken").functions.approve(client.address("BondingManager"), 5 * LPT), me.address)
    plan = staking.bond(client, me.address, 5 * LPT, orch)
    assert [i.action for i in plan.intents] == ["bond"] and plan.intents[0].gas_estimated


def test_bond_refusals(client, dev: Dev):
    poor = dev.delegator(0)  # everything it had is bonded
    orch = dev.orchestrator(1).address
    dev.to_next_round(initialize=False)
    with pytest.raises(PreflightError, match="has not been initialized") as err:
        staking.bond(client, dev.delegator(1).address, LPT, orch)
    assert "lpc round initialize" in err.value.fix
    dev.send(client.contract("RoundsManager").functions.initializeRound(), dev.account(0).address)
    with pytest.raises(PreflightError, match="not enough LPT") as err:
        staking.bond(client, poor.address, 10 * LPT, orch)
    assert "bond at most 0.0 LPT" in err.value.fix
    with pytest.raises(PreflightError, match="orchestrator cannot delegate"):
        staking.bond(client, dev.orchestrator(0).address, LPT, orch)
    own = load_account(client, poor.address).delegate
    with pytest.raises(PreflightError, match="nothing to bond"):
        staking.bond(client, poor.address, 0, own)


def test_unbond_refuses_a_pending_bond_and_too_much(client, dev: Dev):
    new = dev.account(56)
    dev.mint_lpt(new.address, 50 * LPT)
    orch = dev.orchestrator(2).address
    dev.to_next_round()
    send(client, staking.bond(client, new.address, 50 * LPT, orch), new)
    with pytest.raises(PreflightError, match="pending: it becomes active in round") as err:
        staking.unbond(client, new.address, LPT)
    rnd = dev.round()
    assert f"try again in round {rnd + 1}" == err.value.fix
    dev.to_next_round()
    with pytest.raises(PreflightError, match="more than the bonded stake"):
        staking.unbond(client, new.address, 51 * LPT)


def test_unbond_lock_then_withdraw_after_the_unbonding_period(client, dev: Dev):
    me = dev.delegator(2)
    dev.to_next_round()
    before = load_account(client, me.address)
    plan = staking.unbond(client, me.address, 40 * LPT)
    period = client.contract("BondingManager").functions.unbondingPeriod().call()
    assert f"withdrawable in round {before.round.number + period}" in str(plan.intents[0].changes[1])
    ev = send(client, plan, me)[0].event("Unbond")
    lock_id = ev.args["unbondingLockId"]
    assert ev.args["amount"] == 40 * LPT and ev.args["withdrawRound"] == before.round.number + period
    with pytest.raises(PreflightError, match=f"can be withdrawn in round {before.round.number + period}") as err:
        staking.withdraw_stake(client, me.address, lock_id)
    assert "rebond" in err.value.fix
    for _ in range(period):
        dev.to_next_round()
    lpt = load_account(client, me.address).lpt_balance
    results = send(client, staking.withdraw_stake(client, me.address, lock_id), me)
    assert results[0].event("WithdrawStake").args["amount"] == 40 * LPT
    after = load_account(client, me.address)
    assert after.lpt_balance == lpt + 40 * LPT and after.lock(lock_id) is None
    with pytest.raises(PreflightError, match=f"no unbonding lock #{lock_id}"):
        staking.withdraw_stake(client, me.address, lock_id)


def test_rebond_and_rebond_from_unbonded(client, dev: Dev):
    me = dev.delegator(5)
    dev.to_next_round()
    start = load_account(client, me.address)
    lock = send(client, staking.unbond(client, me.address, 7 * LPT), me)[0].event("Unbond").args["unbondingLockId"]
    ev = send(client, staking.rebond(client, me.address, lock), me)[0].event("Rebond")
    assert ev.args["amount"] == 7 * LPT and ev.args["delegate"] == start.delegate
    assert load_account(client, me.address).bonded_amount == start.pending_stake
    with pytest.raises(PreflightError, match="still bonded"):
        staking.rebond_from_unbonded(client, me.address, lock, start.delegate)

    everything = send(client, staking.unbond(client, me.address, None), me)[0].event("Unbond").args
    assert load_account(client, me.address).status is DelegatorStatus.UNBONDED
    with pytest.raises(PreflightError, match="fully unbonded") as err:
        staking.rebond(client, me.address, everything["unbondingLockId"])
    assert "rebond-unbonded" in err.value.fix
    other = dev.orchestrator(3).address
    plan = staking.rebond_from_unbonded(client, me.address, everything["unbondingLockId"], other)
    ev = send(client, plan, me)[0].event("Rebond")
    after = load_account(client, me.address)
    assert ev.args["delegate"] == other == after.delegate and after.bonded_amount == everything["amount"]
    assert after.status is DelegatorStatus.PENDING


def test_withdraw_fees(client, dev: Dev):
    orch = dev.orchestrator(0)
    dev.to_next_round()
    acct = load_account(client, orch.address)
    assert acct.pending_fees > 0
    with pytest.raises(PreflightError, match="more than the fees earned"):
        staking.withdraw_fees(client, orch.address, acct.pending_fees + 1)
    amount = acct.pending_fees // 3
    recipient = dev.account(57).address
    eth_before = client.w3.eth.get_balance(recipient)
    ev = send(client, staking.withdraw_fees(client, orch.address, amount, recipient), orch)[0].event("WithdrawFees")
    assert ev.args["amount"] == amount and ev.args["recipient"] == recipient
    assert client.w3.eth.get_balance(recipient) == eth_before + amount
    assert load_account(client, orch.address).pending_fees == acct.pending_fees - amount
    with pytest.raises(PreflightError, match="no fees to withdraw"):
        staking.withdraw_fees(client, dev.account(58).address)


def test_transfer_bond(client, dev: Dev):
    me, to = dev.delegator(2), dev.account(58)
    dev.to_next_round()
    mine = load_account(client, me.address)
    with pytest.raises(PreflightError, match="recipient is the sender"):
        staking.transfer_bond(client, me.address, me.address, LPT)
    ev = send(client, staking.transfer_bond(client, me.address, to.address, 12 * LPT), me)[0].event("TransferBond")
    assert ev.args["oldDelegator"] == me.address and ev.args["newDelegator"] == to.address
    theirs = load_account(client, to.address)
    assert theirs.bonded_amount == 12 * LPT and theirs.delegate == mine.delegate
    assert load_account(client, me.address).bonded_amount == mine.pending_stake - 12 * LPT
    assert theirs.lpt_balance == 0  # stake moved, not tokens
