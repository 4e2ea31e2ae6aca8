"""Reward and fee maths: the contracts against chain/protocol_math.py and hand-computed values, to the wei."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from chain import protocol_math as pm
from tests.chain.helpers import ETH, LPT, events

REWARD_CUT = 100_000  # 10 %
FEE_SHARE = 500_000  # 50 % of fees to delegators
TREASURY_CUT = 10**26  # 10 %


# ------------------------------------------------------------------------------------ pure model


def test_percentages_truncate_the_ratio_first():
    # 1/3 truncated to 1e6 first: 333_333 ppm, not 333_333.33…
    assert pm.perc_points(1, 3) == 333_333
    assert pm.perc_of(3_000_000, 1, 3) == 999_999
    assert pm.perc_of(1_000, 250_000) == 250
    assert pm.minter_perc_points(1, 3) == 333_333_333
    assert pm.minter_perc_of(10**9, 1, 3) == 333_333_333
    assert pm.precise_perc_of(10**27, 1, 3) == 333_333_333_333_333_333_333_333_333
    assert pm.precise_perc_of(7, 10**26) == 0  # integer floor
    assert pm.bonding_rate(1, 0) == 0
    assert pm.next_inflation(10, 3, 500, 499) == 13
    assert pm.next_inflation(10, 3, 500, 501) == 7
    assert pm.next_inflation(2, 3, 500, 501) == 0
    assert pm.next_inflation(10, 3, 500, 500) == 10


def test_worked_example_of_section_3_3():
    split = pm.reward_split(
        mintable=10_000 * LPT,
        transcoder_stake=1_000_000 * LPT,
        total_active_stake=30_000_000 * LPT,
        treasury_cut_rate=TREASURY_CUT,
        reward_cut=REWARD_CUT,
    )
    assert split.minted == 333_333_330 * 10**12  # 10,000 × 0.033333333
    assert split.treasury == 33_333_333 * 10**12
    assert split.rewards == 299_999_997 * 10**12
    assert split.commission == 29_999_999_700 * 10**9
    assert split.delegators == 269_999_997_300 * 10**9
    # every bonded LPT grows by D / S_T ≈ 0.027 %
    assert split.reward_factor == 10**27 + 269_999_997_300 * 10**12
    assert pm.pending_stake(400_000 * LPT, 0, split.reward_factor) == 400_107_999_998_920 * 10**9


def test_fee_split_model():
    split = pm.fee_split(fees=ETH, fee_share=FEE_SHARE, total_stake=1_000_000 * LPT)
    assert (split.delegators, split.commission, split.own_stake_fees) == (ETH // 2, ETH // 2, 0)
    assert split.fee_factor == 5 * 10**20
    assert pm.pending_fees(0, 400_000 * LPT, 0, split.fee_factor, 0) == 2 * 10**17
    assert pm.pending_fees(0, 600_000 * LPT, 0, split.fee_factor, 0, split.cumulative_fees_delta) == 8 * 10**17


# ------------------------------------------------------------------------------------ on chain


@pytest.fixture
def example(chain):
    """§3.3's worked example on chain: T has 1,000,000 LPT of stake (600k own, 400k from D1) out of
    30,000,000 active; the supply is 40,000,000 and inflation is driven to 0.025 % so that round
    n+1 mints exactly 10,000 LPT."""
    a = chain.accounts
    t, d1, t2, idle = a[1], a[2], a[3], a[4]
    minter = chain.c("Minter").functions
    chain.next_round()
    inflation = minter.inflation().call()
    chain.send(minter.setTargetBondingRate(10**9), chain.deployer)  # 75 % bonded < target: inflation rises
    chain.send(minter.setInflationChange(250_000 - inflation), chain.deployer)
    chain.register_transcoder(t, 600_000 * LPT, REWARD_CUT, FEE_SHARE)
    chain.bond(d1, 400_000 * LPT, t)
    chain.register_transcoder(t2, 29_000_000 * LPT)
    chain.mint_lpt(idle, 10_000_000 * LPT)
    rnd = chain.next_round()
    chain.send(minter.setInflationChange(0), chain.deployer)
    return dict(t=t, d1=d1, t2=t2, round=rnd)


def test_worked_example_on_chain_to_the_wei(chain, example):
    t, d1, rnd = example["t"], example["d1"], example["round"]
    bm = chain.c("BondingManager")
    token = chain.c("LivepeerToken").functions
    assert chain.c("Minter").functions.inflation().call() == 250_000
    assert chain.c("Minter").functions.currentMintableTokens().call() == 10_000 * LPT
    assert bm.functions.currentRoundTotalActiveStake().call() == 30_000_000 * LPT
    assert bm.functions.treasuryRewardCutRate().call() == TREASURY_CUT

    receipt = chain.send(bm.functions.reward(), t)
    (reward,) = events(receipt, bm, "Reward")
    (treasury_ev,) = events(receipt, bm, "TreasuryReward")
    treasury = chain.protocol.address("Treasury")
    assert reward.args.transcoder == t and reward.args.amount == 299_999_997 * 10**12
    assert treasury_ev.args.treasury == treasury and treasury_ev.args.amount == 33_333_333 * 10**12
    assert token.balanceOf(treasury).call() == 33_333_333 * 10**12
    assert token.totalSupply().call() == 40_000_000 * LPT + 333_333_330 * 10**12

    pool = chain.earnings_pool(t, rnd)
    assert pool["totalStake"] == 1_000_000 * LPT
    assert pool["transcoderRewardCut"] == REWARD_CUT
    assert pool["cumulativeRewardFactor"] == 1_000_269_999_997_300 * 10**12
    info = chain.transcoder_info(t)
    assert info["cumulativeRewards"] == 29_999_999_700 * 10**9  # the 10 % commission
    assert info["lastRewardRound"] == rnd

    pending_d1 = bm.functions.pendingStake(d1, 0).call()
    pending_t = bm.functions.pendingStake(t, 0).call()
    assert pending_d1 == 400_107_999_998_920 * 10**9  # 400,000 × 1.0002699999973
    assert pending_t == 600_161_999_998_380 * 10**9 + 29_999_999_700 * 10**9
    # nothing is created or lost: stakes add up to S_T + R
    assert pending_d1 + pending_t == 1_000_000 * LPT + 299_999_997 * 10**12
    assert bm.functions.transcoderTotalStake(t).call() == 1_000_000 * LPT + 299_999_997 * 10**12
    assert bm.functions.nextRoundTotalActiveStake().call() == 30_000_000 * LPT + 299_999_997 * 10**12

    # claiming books exactly that and says so
    receipt = chain.send(bm.functions.claimEarnings(0), d1)
    (claimed,) = events(receipt, bm, "EarningsClaimed")
    assert claimed.args.delegate == t and claimed.args.delegator == d1
    assert claimed.args.rewards == 107_999_998_920 * 10**9
    assert claimed.args.fees == 0
    assert (claimed.args.startRound, claimed.args.endRound) == (rnd, rnd)
    assert chain.delegator(d1)["bondedAmount"] == pending_d1
    assert chain.delegator(d1)["lastClaimRound"] == rnd


def test_fees_split_on_chain_to_the_wei(chain, example, w3):
    t, d1, rnd = example["t"], example["d1"], example["round"]
    bm = chain.c("BondingManager")
    broker = chain.impersonate(chain.protocol.address("TicketBroker"))
    chain.send(chain.c("Minter").functions.depositETH(), broker, value=ETH)
    # before T's reward call this round: the pool is initialised from T's settings
    chain.send(bm.functions.updateTranscoderWithFees(t, ETH, rnd - 5), broker)
    pool = chain.earnings_pool(t, rnd)
    assert pool["cumulativeFeeFactor"] == 5 * 10**20
    assert pool["transcoderFeeShare"] == FEE_SHARE
    assert pool["totalStake"] == 1_000_000 * LPT
    assert chain.transcoder_info(t)["cumulativeFees"] == ETH // 2
    assert chain.transcoder_info(t)["lastFeeRound"] == rnd
    assert bm.functions.pendingFees(d1, 0).call() == 2 * 10**17
    assert bm.functions.pendingFees(t, 0).call() == 8 * 10**17

    payee = w3.to_checksum_address("0x00000000000000000000000000000000000000fe")
    receipt = chain.send(bm.functions.withdrawFees(payee, 2 * 10**17), d1)
    assert w3.eth.get_balance(payee) == 2 * 10**17
    (claimed,) = events(receipt, bm, "EarningsClaimed")
    assert claimed.args.fees == 2 * 10**17 and claimed.args.rewards == 0
    (withdrawn,) = events(receipt, bm, "WithdrawFees")
    assert (withdrawn.args.delegator, withdrawn.args.recipient, withdrawn.args.amount) == (d1, payee, 2 * 10**17)
    assert "insufficient fees to withdraw" in chain.revert_reason(bm.functions.withdrawFees(payee, 1), d1)
    assert "invalid recipient" in chain.revert_reason(bm.functions.withdrawFees("0x" + "00" * 20, 0), t)
    chain.send(bm.functions.withdrawFees(payee, 8 * 10**17), t)
    assert w3.eth.get_balance(payee) == ETH
    assert chain.transcoder_info(t)["cumulativeFees"] == 0


def test_fee_hook_access_and_registration(chain, example):
    bm = chain.c("BondingManager").functions
    stranger = chain.accounts[9]
    assert "caller must be TicketBroker" in chain.revert_reason(bm.updateTranscoderWithFees(example["t"], 1, 0), stranger)
    broker = chain.impersonate(chain.protocol.address("TicketBroker"))
    assert "transcoder must be registered" in chain.revert_reason(bm.updateTranscoderWithFees(stranger, 1, 0), broker)


@dataclass
class Ledger:
    """Python-side LIP-36 bookkeeping for one orchestrator, built only from protocol_math."""

    crf: dict[int, int] = field(default_factory=dict)
    cff: dict[int, int] = field(default_factory=dict)
    cumulative_rewards: int = 0
    cumulative_fees: int = 0
    active_cumulative_rewards: int = 0

    def latest(self, table: dict[int, int], rnd: int) -> int:
        earlier = [r for r in table if r <= rnd]
        return table[max(earlier)] if earlier else 0


def test_many_rounds_against_the_model(chain, example):
    """T rewards every round, fees arrive after each reward, D1 claims mid-way, D2 joins, T claims:
    every pendingStake / pendingFees / EarningsClaimed equals the model's."""
    t, d1, rnd0 = example["t"], example["d1"], example["round"]
    d2 = chain.accounts[5]
    bm = chain.c("BondingManager").functions
    minter = chain.c("Minter").functions
    broker = chain.impersonate(chain.protocol.address("TicketBroker"))
    led = Ledger()
    bonded = {t: 600_000 * LPT, d1: 400_000 * LPT}
    fees = {t: 0, d1: 0, d2: 0}
    claim_round = {t: rnd0 - 1, d1: rnd0 - 1}
    stake_t = 1_000_000 * LPT  # T's stake in the current round's pool
    active = 30_000_000 * LPT

    def expected(who: str, rnd: int) -> tuple[int, int]:
        c = claim_round[who]
        stake, fee = bonded[who], fees[who]
        if c < rnd:
            start_crf, start_cff = led.latest(led.crf, c), led.latest(led.cff, c)
            end_crf, end_cff = led.latest(led.crf, rnd), led.latest(led.cff, rnd)
            fee = pm.pending_fees(fee, stake, start_cff, end_cff, start_crf)
            stake = pm.pending_stake(stake, start_crf, end_crf)
        if who == t:
            stake += led.cumulative_rewards
            fee += led.cumulative_fees
        return stake, fee

    def claim(who: str, rnd: int) -> None:
        exp_stake, exp_fees = expected(who, rnd)
        receipt = chain.send(bm.claimEarnings(0), who)
        (ev,) = events(receipt, chain.c("BondingManager"), "EarningsClaimed")
        assert ev.args.rewards == exp_stake - bonded[who]
        assert ev.args.fees == exp_fees - fees[who]
        assert (ev.args.startRound, ev.args.endRound) == (claim_round[who] + 1, rnd)
        bonded[who], fees[who], claim_round[who] = exp_stake, exp_fees, rnd
        if who == t:
            led.cumulative_rewards = led.cumulative_fees = 0

    rnd = rnd0
    for i in range(5):
        if i > 0:
            supply = chain.c("LivepeerToken").functions.totalSupply().call()
            rnd = chain.next_round()
            assert minter.currentMintableTokens().call() == pm.mintable_tokens(supply, minter.inflation().call())
            assert bm.currentRoundTotalActiveStake().call() == active
        mintable = minter.currentMintableTokens().call()
        split = pm.reward_split(
            mintable=mintable,
            transcoder_stake=stake_t,
            total_active_stake=active,
            treasury_cut_rate=TREASURY_CUT,
            reward_cut=REWARD_CUT,
            prev_crf=led.latest(led.crf, rnd - 1),
            active_cumulative_rewards=led.cumulative_rewards,
        )
        receipt = chain.send(bm.reward(), t)
        (ev,) = events(receipt, chain.c("BondingManager"), "Reward")
        assert ev.args.amount == split.rewards
        led.active_cumulative_rewards = led.cumulative_rewards
        led.cumulative_rewards += split.cumulative_rewards_delta
        led.crf[rnd] = split.reward_factor
        assert chain.earnings_pool(t, rnd)["cumulativeRewardFactor"] == split.reward_factor

        fee = 123_456_789_012_345_678 * (i + 1)
        prev_crf = led.latest(led.crf, rnd - 1)
        if prev_crf == 0:  # first reward ever: the contract reconstructs a previous factor
            prev_crf = pm.retroactive_prev_reward_factor(
                mintable=mintable,
                minted=minter.currentMintedTokens().call(),
                total_stake=stake_t,
                total_active_stake=active,
                reward_cut=REWARD_CUT,
                reward_factor=split.reward_factor,
            )
        fsplit = pm.fee_split(
            fees=fee,
            fee_share=FEE_SHARE,
            total_stake=stake_t,
            current_cff=led.cff.get(rnd, 0),
            prev_cff=led.latest(led.cff, rnd - 1),
            prev_crf=prev_crf,
            active_cumulative_rewards=led.active_cumulative_rewards,
        )
        chain.send(bm.updateTranscoderWithFees(t, fee, rnd), broker)
        led.cff[rnd] = fsplit.fee_factor
        led.cumulative_fees += fsplit.cumulative_fees_delta
        assert chain.earnings_pool(t, rnd)["cumulativeFeeFactor"] == fsplit.fee_factor
        assert chain.transcoder_info(t)["cumulativeRewards"] == led.cumulative_rewards
        assert chain.transcoder_info(t)["cumulativeFees"] == led.cumulative_fees

        next_stake = stake_t + split.rewards
        if i == 1:
            claim(d1, rnd)
            chain.bond(d2, 50_000 * LPT, t)
            bonded[d2], claim_round[d2] = 50_000 * LPT, rnd
            next_stake += 50_000 * LPT
        if i == 3:
            claim(t, rnd)

        for who in bonded:
            stake, fee_total = expected(who, rnd)
            assert bm.pendingStake(who, 0).call() == stake, (i, who)
            assert bm.pendingFees(who, 0).call() == fee_total, (i, who)
        active += next_stake - stake_t
        stake_t = next_stake
        assert bm.transcoderTotalStake(t).call() == stake_t


def test_retroactive_reward_factor_when_previous_round_was_skipped(chain, example):
    """Fees after a reward call in a round whose previous round had no reward: the previous factor is
    reconstructed from this round's mintable and minted tokens (protocol.md §3.4)."""
    t, rnd0 = example["t"], example["round"]
    bm = chain.c("BondingManager").functions
    minter = chain.c("Minter").functions
    broker = chain.impersonate(chain.protocol.address("TicketBroker"))
    chain.send(bm.reward(), t)
    chain.next_round()  # T skips reward in rnd0 + 1
    rnd = chain.next_round()
    chain.send(bm.reward(), t)
    pool = chain.earnings_pool(t, rnd)
    total = pool["totalStake"]
    prev_crf = pm.retroactive_prev_reward_factor(
        mintable=minter.currentMintableTokens().call(),
        minted=minter.currentMintedTokens().call(),
        total_stake=total,
        total_active_stake=bm.currentRoundTotalActiveStake().call(),
        reward_cut=REWARD_CUT,
        reward_factor=pool["cumulativeRewardFactor"],
    )
    # by hand: S / (D + S) with D estimated from mintable + minted, times this round's factor
    rewards = (minter.currentMintableTokens().call() + minter.currentMintedTokens().call()) * (
        total * 10**27 // bm.currentRoundTotalActiveStake().call()
    ) // 10**27
    delegators = rewards - rewards * REWARD_CUT // 10**6
    assert prev_crf == pool["cumulativeRewardFactor"] * (total * 10**27 // (delegators + total)) // 10**27
    fee = 10**18
    fsplit = pm.fee_split(
        fees=fee,
        fee_share=FEE_SHARE,
        total_stake=total,
        prev_cff=0,
        prev_crf=prev_crf,
        active_cumulative_rewards=chain.transcoder_info(t)["activeCumulativeRewards"],
    )
    chain.send(bm.updateTranscoderWithFees(t, fee, rnd), broker)
    assert chain.earnings_pool(t, rnd)["cumulativeFeeFactor"] == fsplit.fee_factor
    assert prev_crf != pm.FACTOR_ONE  # the path really reconstructed something
