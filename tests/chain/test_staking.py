"""BondingManager on a real anvil: bonding states, unbonding locks, the active set, reward, admin."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from chain import protocol_math as pm
from chain.devnet.deploy import DevnetParams
from tests.chain.helpers import ETH, LPT, ZERO_ADDRESS, events

P = DevnetParams()
PENDING, BONDED, UNBONDED = 0, 1, 2
MAX_ROUND = 2**256 - 1


@pytest.fixture
def bm(chain):
    return chain.c("BondingManager")


@pytest.fixture
def long_rounds(chain):
    """Rounds of 200 "L1" blocks, so that a test can send many transactions inside one round."""
    chain.send(chain.c("RoundsManager").functions.setRoundLength(200), chain.deployer)
    chain.next_round()  # the new length applies from the round initialized here
    chain.next_round()
    return chain


def _approve(chain, who, amount):
    chain.mint_lpt(who, amount)
    chain.send(chain.c("LivepeerToken").functions.approve(chain.protocol.address("BondingManager"), amount), who)


# ------------------------------------------------------------------------------------ bonding


def test_bond_is_pending_until_next_round_and_moves_tokens_to_the_minter(chain, bm):
    o, d = chain.accounts[1], chain.accounts[2]
    token = chain.c("LivepeerToken").functions
    minter = chain.protocol.address("Minter")
    rnd = chain.next_round()
    chain.register_transcoder(o, 1_000 * LPT)
    _approve(chain, d, 300 * LPT)
    receipt = chain.send(bm.functions.bond(300 * LPT, o), d)
    (ev,) = events(receipt, bm, "Bond")
    assert (ev.args.newDelegate, ev.args.oldDelegate, ev.args.delegator) == (o, ZERO_ADDRESS, d)
    assert (ev.args.additionalAmount, ev.args.bondedAmount) == (300 * LPT, 300 * LPT)
    assert token.balanceOf(minter).call() == 1_300 * LPT
    assert token.balanceOf(d).call() == 0
    info = chain.delegator(d)
    assert info["delegateAddress"] == o and info["startRound"] == rnd + 1 and info["lastClaimRound"] == rnd
    assert bm.functions.delegatorStatus(d).call() == PENDING
    assert bm.functions.transcoderTotalStake(o).call() == 1_300 * LPT
    assert chain.delegator(o)["delegatedAmount"] == 1_300 * LPT
    assert bm.functions.isRegisteredTranscoder(o).call() and bm.functions.transcoderStatus(o).call() == 1
    assert bm.functions.transcoderStatus(d).call() == 0
    assert bm.functions.nextRoundTotalActiveStake().call() == 1_300 * LPT
    assert bm.functions.getTotalBonded().call() == 0  # nothing active yet this round
    assert "caller must be bonded" in chain.revert_reason(bm.functions.unbond(LPT), d)
    chain.next_round()
    assert bm.functions.delegatorStatus(d).call() == BONDED
    assert bm.functions.getTotalBonded().call() == 1_300 * LPT == bm.functions.currentRoundTotalActiveStake().call()


def test_bond_needs_an_allowance_and_a_positive_amount(chain, bm):
    o, d = chain.accounts[1], chain.accounts[2]
    chain.next_round()
    chain.register_transcoder(o, 10 * LPT)
    chain.mint_lpt(d, 5 * LPT)
    assert "insufficient allowance" in chain.revert_reason(bm.functions.bond(5 * LPT, o), d)
    chain.send(chain.c("LivepeerToken").functions.approve(bm.address, 5 * LPT), d)
    chain.send(bm.functions.bond(5 * LPT, o), d)
    assert "delegation amount must be greater than 0" in chain.revert_reason(bm.functions.bond(0, o), d)


def test_changing_delegate_moves_the_whole_bond(chain, bm):
    o1, o2, d = chain.accounts[1], chain.accounts[2], chain.accounts[3]
    chain.next_round()
    chain.register_transcoder(o1, 100 * LPT)
    chain.register_transcoder(o2, 100 * LPT)
    chain.bond(d, 50 * LPT, o1)
    rnd = chain.next_round()
    assert bm.functions.delegatorStatus(d).call() == BONDED
    receipt = chain.send(bm.functions.bondWithHint(0, o2, o1, ZERO_ADDRESS, ZERO_ADDRESS, o1), d)
    (ev,) = events(receipt, bm, "Bond")
    assert (ev.args.newDelegate, ev.args.oldDelegate, ev.args.additionalAmount, ev.args.bondedAmount) == (
        o2, o1, 0, 50 * LPT)
    assert bm.functions.transcoderTotalStake(o1).call() == 100 * LPT
    assert bm.functions.transcoderTotalStake(o2).call() == 150 * LPT
    assert chain.delegator(d)["startRound"] == rnd + 1
    assert bm.functions.delegatorStatus(d).call() == PENDING
    assert chain.pool_order() == [o2, o1]
    # a registered transcoder cannot delegate to someone else
    _approve(chain, o1, LPT)
    assert "registered transcoders can't delegate towards other addresses" in chain.revert_reason(
        bm.functions.bond(LPT, o2), o1)


def test_bond_for_a_third_party(chain, bm):
    o1, o2, owner, payer = chain.accounts[1], chain.accounts[2], chain.accounts[3], chain.accounts[4]
    chain.next_round()
    chain.register_transcoder(o1, 100 * LPT)
    chain.register_transcoder(o2, 100 * LPT)
    _approve(chain, payer, 30 * LPT)
    fn = bm.functions.bondForWithHint
    z = ZERO_ADDRESS
    assert "INVALID_DELEGATE" in chain.revert_reason(fn(10 * LPT, owner, owner, z, z, z, z), payer)
    chain.send(fn(10 * LPT, owner, o1, z, z, z, z), payer)
    assert chain.delegator(owner)["bondedAmount"] == 10 * LPT
    assert chain.delegator(owner)["delegateAddress"] == o1
    assert "INVALID_DELEGATE_CHANGE" in chain.revert_reason(fn(10 * LPT, owner, o2, z, z, z, z), payer)
    chain.next_round()
    # o1 is active and has not called reward: a third-party top-up would claim for the owner too early
    assert "ILLEGAL_CLAIM_EARNINGS" in chain.revert_reason(fn(10 * LPT, owner, o1, z, z, z, z), payer)
    chain.send(bm.functions.reward(), o1)
    chain.send(fn(10 * LPT, owner, o1, z, z, z, z), payer)
    assert chain.delegator(owner)["bondedAmount"] >= 20 * LPT


# ------------------------------------------------------------------------------------ unbonding


def test_unbond_lock_withdraw_timing(chain, bm, w3):
    o, d = chain.accounts[1], chain.accounts[2]
    token = chain.c("LivepeerToken").functions
    chain.next_round()
    chain.register_transcoder(o, 100 * LPT)
    chain.bond(d, 40 * LPT, o)
    rnd = chain.next_round()
    f = bm.functions
    assert "unbond amount must be greater than 0" in chain.revert_reason(f.unbond(0), d)
    assert "amount is greater than bonded amount" in chain.revert_reason(f.unbond(41 * LPT), d)
    receipt = chain.send(f.unbondWithHint(15 * LPT, ZERO_ADDRESS, ZERO_ADDRESS), d)
    (ev,) = events(receipt, bm, "Unbond")
    withdraw_round = rnd + P.unbonding_period
    assert (ev.args.delegate, ev.args.delegator, ev.args.unbondingLockId, ev.args.amount, ev.args.withdrawRound) == (
        o, d, 0, 15 * LPT, withdraw_round)
    assert f.getDelegatorUnbondingLock(d, 0).call() == [15 * LPT, withdraw_round]
    assert f.isValidUnbondingLock(d, 0).call() is True
    assert f.isValidUnbondingLock(d, 1).call() is False
    assert chain.delegator(d)["nextUnbondingLockId"] == 1
    assert chain.delegator(d)["bondedAmount"] == 25 * LPT
    assert f.transcoderTotalStake(o).call() == 125 * LPT
    assert f.nextRoundTotalActiveStake().call() == 125 * LPT
    assert f.delegatorStatus(d).call() == BONDED  # still bonded with the rest

    assert "invalid unbonding lock ID" in chain.revert_reason(f.withdrawStake(1), d)
    for _ in range(P.unbonding_period - 1):
        chain.next_round()
        assert "withdraw round must be before or equal to the current round" in chain.revert_reason(
            f.withdrawStake(0), d)
    assert chain.next_round() == withdraw_round
    receipt = chain.send(f.withdrawStake(0), d)
    (ev,) = events(receipt, bm, "WithdrawStake")
    assert (ev.args.delegator, ev.args.unbondingLockId, ev.args.amount, ev.args.withdrawRound) == (
        d, 0, 15 * LPT, withdraw_round)
    assert token.balanceOf(d).call() == 15 * LPT
    assert f.getDelegatorUnbondingLock(d, 0).call() == [0, 0]
    assert "invalid unbonding lock ID" in chain.revert_reason(f.withdrawStake(0), d)


def test_rebond_and_rebond_from_unbonded(chain, bm):
    o1, o2, d = chain.accounts[1], chain.accounts[2], chain.accounts[3]
    chain.next_round()
    chain.register_transcoder(o1, 100 * LPT)
    chain.register_transcoder(o2, 100 * LPT)
    chain.bond(d, 40 * LPT, o1)
    chain.next_round()
    f = bm.functions
    chain.send(f.unbond(10 * LPT), d)  # lock 0
    receipt = chain.send(f.rebondWithHint(0, ZERO_ADDRESS, ZERO_ADDRESS), d)
    (ev,) = events(receipt, bm, "Rebond")
    assert (ev.args.delegate, ev.args.delegator, ev.args.unbondingLockId, ev.args.amount) == (o1, d, 0, 10 * LPT)
    assert chain.delegator(d)["bondedAmount"] == 40 * LPT
    assert f.transcoderTotalStake(o1).call() == 140 * LPT
    assert "invalid unbonding lock ID" in chain.revert_reason(f.rebond(0), d)
    assert "caller must be unbonded" in chain.revert_reason(f.rebondFromUnbonded(o2, 0), d)

    # full unbond → Unbonded; then rebond the lock towards another orchestrator
    chain.send(f.unbond(40 * LPT), d)  # lock 1
    assert f.delegatorStatus(d).call() == UNBONDED
    assert chain.delegator(d)["delegateAddress"] == ZERO_ADDRESS
    assert chain.delegator(d)["startRound"] == 0
    assert "caller must be bonded" in chain.revert_reason(f.rebond(1), d)
    rnd = chain.current_round()
    chain.send(f.rebondFromUnbondedWithHint(o2, 1, ZERO_ADDRESS, ZERO_ADDRESS), d)
    info = chain.delegator(d)
    assert info["delegateAddress"] == o2 and info["startRound"] == rnd + 1 and info["bondedAmount"] == 40 * LPT
    assert f.delegatorStatus(d).call() == PENDING
    assert f.transcoderTotalStake(o1).call() == 100 * LPT
    assert f.transcoderTotalStake(o2).call() == 140 * LPT


def test_full_unbond_of_an_orchestrator_deactivates_it_next_round(chain, bm):
    o1, o2 = chain.accounts[1], chain.accounts[2]
    chain.next_round()
    chain.register_transcoder(o1, 100 * LPT)
    chain.register_transcoder(o2, 50 * LPT)
    rnd = chain.next_round()
    f = bm.functions
    receipt = chain.send(f.unbond(100 * LPT), o1)
    (ev,) = events(receipt, bm, "TranscoderDeactivated")
    assert (ev.args.transcoder, ev.args.deactivationRound) == (o1, rnd + 1)
    assert chain.pool_order() == [o2]
    assert f.isActiveTranscoder(o1).call() is True  # until the end of this round
    assert f.isRegisteredTranscoder(o1).call() is False
    assert f.nextRoundTotalActiveStake().call() == 50 * LPT
    chain.next_round()
    assert f.isActiveTranscoder(o1).call() is False
    assert f.getTotalBonded().call() == 50 * LPT


def test_transfer_bond(chain, bm):
    o, d, heir = chain.accounts[1], chain.accounts[2], chain.accounts[3]
    chain.next_round()
    chain.register_transcoder(o, 100 * LPT)
    chain.bond(d, 40 * LPT, o)
    rnd = chain.next_round()
    receipt = chain.send(bm.functions.transferBond(heir, 15 * LPT, ZERO_ADDRESS, ZERO_ADDRESS, ZERO_ADDRESS,
                                                   ZERO_ADDRESS), d)
    (tb,) = events(receipt, bm, "TransferBond")
    assert (tb.args.oldDelegator, tb.args.newDelegator, tb.args.oldUnbondingLockId, tb.args.newUnbondingLockId,
            tb.args.amount) == (d, heir, 0, 0, 15 * LPT)
    (ub,) = events(receipt, bm, "Unbond")
    (rb,) = events(receipt, bm, "Rebond")
    assert ub.args.delegator == d and rb.args.delegator == heir and rb.args.delegate == o
    assert chain.delegator(d)["bondedAmount"] == 25 * LPT
    heir_info = chain.delegator(heir)
    assert heir_info["bondedAmount"] == 15 * LPT and heir_info["delegateAddress"] == o
    assert heir_info["startRound"] == rnd + 1
    assert bm.functions.getDelegatorUnbondingLock(d, 0).call() == [0, 0]
    assert bm.functions.getDelegatorUnbondingLock(heir, 0).call() == [0, 0]  # consumed by the rebond
    assert bm.functions.transcoderTotalStake(o).call() == 140 * LPT
    assert bm.functions.delegatorStatus(heir).call() == PENDING


# ------------------------------------------------------------------------------------ orchestrators


def test_transcoder_rates_activation_and_lock_window(chain, bm):
    o = chain.accounts[1]
    f = bm.functions
    rnd = chain.next_round()
    assert "transcoder must be registered" in chain.revert_reason(f.transcoder(0, 0), o)
    chain.bond(o, 100 * LPT, o)
    assert "invalid rewardCut percentage" in chain.revert_reason(f.transcoder(1_000_001, 0), o)
    assert "invalid feeShare percentage" in chain.revert_reason(f.transcoder(0, 1_000_001), o)
    receipt = chain.send(f.transcoderWithHint(50_000, 900_000, ZERO_ADDRESS, ZERO_ADDRESS), o)
    (ev,) = events(receipt, bm, "TranscoderUpdate")
    assert (ev.args.transcoder, ev.args.rewardCut, ev.args.feeShare) == (o, 50_000, 900_000)
    info = chain.transcoder_info(o)
    assert (info["rewardCut"], info["feeShare"]) == (50_000, 900_000)
    assert (info["activationRound"], info["deactivationRound"]) == (rnd + 1, MAX_ROUND)
    assert f.isActiveTranscoder(o).call() is False
    assert f.getTranscoderPoolSize().call() == 1 and f.getTranscoderPoolMaxSize().call() == P.num_active_transcoders

    chain.next_round()
    assert f.isActiveTranscoder(o).call() is True
    msg = "caller can't be active or must have already called reward for the current round"
    assert msg in chain.revert_reason(f.transcoder(60_000, 900_000), o)
    chain.send(f.reward(), o)
    chain.send(f.transcoder(60_000, 900_000), o)
    _approve(chain, chain.accounts[2], LPT)
    chain.mine_to_round_offset(18)  # the last 10 % of a 20-block round
    assert chain.c("RoundsManager").functions.currentRoundLocked().call() is True
    assert "can't update transcoder params, current round is locked" in chain.revert_reason(
        f.transcoder(70_000, 900_000), o)
    # bonding is still allowed while locked
    chain.send(f.bond(LPT, o), chain.accounts[2])
    assert chain.transcoder_info(o)["rewardCut"] == 60_000


def test_self_bond_alone_joins_the_pool_for_next_round(chain, bm):
    o = chain.accounts[1]
    rnd = chain.next_round()
    _approve(chain, o, 10 * LPT)
    receipt = chain.send(bm.functions.bond(10 * LPT, o), o)
    (ev,) = events(receipt, bm, "TranscoderActivated")
    assert (ev.args.transcoder, ev.args.activationRound) == (o, rnd + 1)
    info = chain.transcoder_info(o)
    assert (info["rewardCut"], info["feeShare"]) == (0, 0)
    assert chain.earnings_pool(o, rnd + 1)["totalStake"] == 10 * LPT


def test_active_set_is_sorted_and_evicts_the_lowest_when_full(long_rounds, bm):
    chain = long_rounds
    f = bm.functions
    orchestrators = chain.accounts[10:20]
    for i, o in enumerate(orchestrators):
        chain.register_transcoder(o, (i + 1) * 100 * LPT)
    assert f.getTranscoderPoolSize().call() == P.num_active_transcoders
    assert chain.pool_order() == list(reversed(orchestrators))
    rnd = chain.current_round()

    low, high = chain.accounts[20], chain.accounts[21]
    _approve(chain, low, 100 * LPT)  # equal to the lowest member: not enough
    receipt = chain.send(f.bond(100 * LPT, low), low)
    assert events(receipt, bm, "TranscoderActivated") == []
    assert low not in chain.pool_order()
    assert f.nextRoundTotalActiveStake().call() == sum(range(1, 11)) * 100 * LPT

    _approve(chain, high, 550 * LPT)
    receipt = chain.send(f.bond(550 * LPT, high), high)
    (gone,) = events(receipt, bm, "TranscoderDeactivated")
    (came,) = events(receipt, bm, "TranscoderActivated")
    assert (gone.args.transcoder, gone.args.deactivationRound) == (orchestrators[0], rnd + 1)
    assert (came.args.transcoder, came.args.activationRound) == (high, rnd + 1)
    order = chain.pool_order()
    assert len(order) == P.num_active_transcoders == f.getTranscoderPoolSize().call()
    stakes = [f.transcoderTotalStake(a).call() for a in order]
    assert stakes == sorted(stakes, reverse=True)
    assert order.index(high) == 5  # between 600 and 500
    assert f.nextRoundTotalActiveStake().call() == (sum(range(2, 11)) * 100 + 550) * LPT

    # a delegation to a member re-sorts the list
    chain.bond(chain.accounts[22], 2_000 * LPT, orchestrators[1])
    assert chain.pool_order()[0] == orchestrators[1]

    chain.next_round()
    assert f.isActiveTranscoder(orchestrators[0]).call() is False
    assert f.isActiveTranscoder(high).call() is True
    assert f.isActiveTranscoder(low).call() is False
    assert "caller must be an active transcoder" in chain.revert_reason(f.reward(), orchestrators[0])


def test_reward_preconditions_and_lip118_reward_caller(chain, bm):
    o, caller, other = chain.accounts[1], chain.accounts[2], chain.accounts[3]
    f = bm.functions
    chain.next_round()
    chain.register_transcoder(o, 100 * LPT, 100_000, 0)
    assert "caller must be an active transcoder" in chain.revert_reason(f.reward(), o)
    rnd = chain.next_round()
    receipt = chain.send(f.setRewardCaller(caller), o)
    (ev,) = events(receipt, bm, "RewardCallerSet")
    assert (ev.args.transcoder, ev.args.rewardCaller) == (o, caller)
    assert f.transcoderToRewardCaller(o).call() == caller
    assert "reward caller" in chain.revert_reason(f.rewardForTranscoder(o), other)
    receipt = chain.send(f.rewardForTranscoderWithHint(o, ZERO_ADDRESS, ZERO_ADDRESS), caller)
    (rw,) = events(receipt, bm, "Reward")
    assert rw.args.transcoder == o and rw.args.amount > 0
    assert chain.transcoder_info(o)["lastRewardRound"] == rnd
    assert "caller has already called reward for the current round" in chain.revert_reason(f.reward(), o)
    assert "caller has already called reward for the current round" in chain.revert_reason(
        f.rewardForTranscoder(o), caller)
    chain.send(f.setRewardCaller(ZERO_ADDRESS), o)
    chain.next_round()
    assert "reward caller" in chain.revert_reason(f.rewardForTranscoder(o), caller)
    chain.send(f.rewardWithHint(ZERO_ADDRESS, ZERO_ADDRESS), o)


def test_treasury_ceiling_stops_contributions_from_next_round(chain, bm):
    o = chain.accounts[1]
    f = bm.functions
    token = chain.c("LivepeerToken").functions
    treasury = chain.protocol.address("Treasury")
    chain.next_round()
    chain.register_transcoder(o, 1_000_000 * LPT)
    chain.next_round()
    chain.send(f.setTreasuryBalanceCeiling(1_000 * LPT), chain.deployer)
    chain.mint_lpt(treasury, 999 * LPT)
    receipt = chain.send(f.reward(), o)  # balance below the ceiling when checked: no change
    assert f.nextRoundTreasuryRewardCutRate().call() == P.treasury_reward_cut_rate
    chain.mint_lpt(treasury, LPT)  # now at the ceiling
    chain.next_round()
    balance = token.balanceOf(treasury).call()
    receipt = chain.send(f.reward(), o)
    (tr,) = events(receipt, bm, "TreasuryReward")  # this round still pays the cut ...
    assert tr.args.amount > 0 and token.balanceOf(treasury).call() == balance + tr.args.amount
    assert f.treasuryRewardCutRate().call() == P.treasury_reward_cut_rate
    assert f.nextRoundTreasuryRewardCutRate().call() == 0  # ... but the ceiling is reached
    chain.next_round()
    assert f.treasuryRewardCutRate().call() == 0
    receipt = chain.send(f.reward(), o)
    assert events(receipt, bm, "TreasuryReward") == []
    (rw,) = events(receipt, bm, "Reward")
    assert rw.args.amount == pm.minted_reward(
        chain.c("Minter").functions.currentMintableTokens().call(),
        chain.earnings_pool(o, chain.current_round())["totalStake"],
        f.currentRoundTotalActiveStake().call(),
    )


def test_admin_setters(chain, bm):
    f = bm.functions
    owner, x = chain.deployer, chain.accounts[5]
    assert f.unbondingPeriod().call() == P.unbonding_period
    abi = {e["name"]: e for e in bm.abi if e.get("type") == "function"}
    assert abi["unbondingPeriod"]["outputs"][0]["type"] == "uint64"
    for fn in (f.setUnbondingPeriod(3), f.setNumActiveTranscoders(20), f.setTreasuryRewardCutRate(1),
               f.setTreasuryBalanceCeiling(1)):
        assert "caller must be Controller owner" in chain.revert_reason(fn, x)
    receipt = chain.send(f.setUnbondingPeriod(3), owner)
    assert [e.args.param for e in events(receipt, bm, "ParameterUpdate")] == ["unbondingPeriod"]
    assert f.unbondingPeriod().call() == 3
    assert "new max size must be greater than old max size" in chain.revert_reason(
        f.setNumActiveTranscoders(P.num_active_transcoders), owner)
    chain.send(f.setNumActiveTranscoders(50), owner)
    assert f.getTranscoderPoolMaxSize().call() == 50
    assert "_cutRate is invalid precise percentage" in chain.revert_reason(
        f.setTreasuryRewardCutRate(10**27 + 1), owner)
    chain.send(f.setTreasuryRewardCutRate(2 * 10**26), owner)
    assert f.nextRoundTreasuryRewardCutRate().call() == 2 * 10**26
    assert f.treasuryRewardCutRate().call() == 0  # not initialized since deployment
    chain.next_round()
    assert f.treasuryRewardCutRate().call() == 2 * 10**26
    chain.send(f.setTreasuryBalanceCeiling(123), owner)
    assert f.treasuryBalanceCeiling().call() == 123


def test_protocol_hooks_are_restricted(chain, bm):
    x = chain.accounts[5]
    assert "caller must be RoundsManager" in chain.revert_reason(bm.functions.setCurrentRoundTotalActiveStake(), x)
    assert "caller must be Verifier" in chain.revert_reason(bm.functions.slashTranscoder(x, x, 1, 1), x)


def test_pause_stops_bonding(chain, bm):
    o = chain.accounts[1]
    chain.next_round()
    chain.register_transcoder(o, 10 * LPT)
    chain.send(chain.c("Controller").functions.pause(), chain.deployer)
    _approve(chain, o, LPT)
    assert "system is paused" in chain.revert_reason(bm.functions.bond(LPT, o), o)
    assert "system is paused" in chain.revert_reason(bm.functions.setRewardCaller(o), o)
    assert "system is paused" in chain.revert_reason(bm.functions.claimEarnings(0), o)


def test_slashing_through_a_registered_verifier(chain, bm, w3):
    o, finder = chain.accounts[1], chain.accounts[2]
    token = chain.c("LivepeerToken").functions
    chain.next_round()
    chain.register_transcoder(o, 1_000 * LPT)
    chain.next_round()
    verifier = chain.accounts[8]
    chain.send(chain.c("Controller").functions.setContractInfo(keccak(text="Verifier"), verifier, b"\0" * 20),
               chain.deployer)
    supply = token.totalSupply().call()
    receipt = chain.send(bm.functions.slashTranscoder(o, finder, 100_000, 500_000), verifier)  # 10 %, half to finder
    (ev,) = events(receipt, bm, "TranscoderSlashed")
    assert (ev.args.transcoder, ev.args.finder, ev.args.penalty, ev.args.finderReward) == (
        o, finder, 100 * LPT, 50 * LPT)
    assert token.balanceOf(finder).call() == 50 * LPT
    assert token.totalSupply().call() == supply - 50 * LPT  # the rest is burned by the Minter
    assert chain.delegator(o)["bondedAmount"] == 900 * LPT
    assert chain.pool_order() == []


def test_checkpoint_bonding_state_for_anyone(chain, bm):
    votes = chain.c("BondingVotes").functions
    who = chain.accounts[6]
    chain.next_round()
    assert votes.hasCheckpoint(who).call() is False
    chain.send(bm.functions.checkpointBondingState(who), chain.accounts[7])
    assert votes.hasCheckpoint(who).call() is True


def test_claim_earnings_emits_for_the_whole_span(chain, bm):
    o, d = chain.accounts[1], chain.accounts[2]
    start = chain.next_round()
    chain.register_transcoder(o, 100 * LPT, 0, 0)
    chain.bond(d, 100 * LPT, o)
    for _ in range(3):
        chain.next_round()
        chain.send(bm.functions.reward(), o)
    end = chain.current_round()
    expected = bm.functions.pendingStake(d, 0).call()
    receipt = chain.send(bm.functions.claimEarnings(12345), d)  # the end round argument is ignored
    (ev,) = events(receipt, bm, "EarningsClaimed")
    assert (ev.args.startRound, ev.args.endRound) == (start + 1, end)
    assert ev.args.rewards == expected - 100 * LPT > 0
    assert chain.delegator(d)["bondedAmount"] == expected
    assert bm.functions.pendingStake(d, 0).call() == expected
