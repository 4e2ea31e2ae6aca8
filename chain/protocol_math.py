"""Reference model of the Livepeer protocol's reward and fee maths, to the wei.

Pure functions on Python ints that follow the deployed contracts' integer order (protocol.md §3):
every ratio is truncated to its library's precision before it is applied, so results match the
chain exactly. The devnet tests check the contracts against this module, and the console uses it for
forecasts (what a reward call or a fee will pay, what a delegator has pending).

Three fixed-point divisors are in use:

* ``PERC_DIVISOR`` (1e6, MathUtils): rewardCut, feeShare, roundLockAmount, governance percentages;
* ``MINTER_PERC_DIVISOR`` (1e9, MathUtilsV2): inflation, inflationChange, targetBondingRate, and the
  Minter's share of mintable tokens for one orchestrator;
* ``PRECISE_PERC_DIVISOR`` (1e27, PreciseMathUtils): cumulative reward/fee factors and the treasury
  reward cut rate. A factor of ``FACTOR_ONE`` means 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

PERC_DIVISOR = 1_000_000
MINTER_PERC_DIVISOR = 1_000_000_000
PRECISE_PERC_DIVISOR = 10**27
FACTOR_ONE = PRECISE_PERC_DIVISOR


# ---------------------------------------------------------------------------------------------------
# Percentages, one pair of functions per divisor


def _perc_points(num: int, den: int, divisor: int) -> int:
    return num * divisor // den


def _perc_of(amount: int, num: int, den: int | None, divisor: int) -> int:
    """``amount × num / divisor`` or, with ``den``, ``amount × floor(num × divisor / den) / divisor``."""
    if den is None:
        return amount * num // divisor
    return amount * _perc_points(num, den, divisor) // divisor


def perc_points(num: int, den: int) -> int:
    """MathUtils (1e6): the ratio ``num / den`` in parts per million, truncated."""
    return _perc_points(num, den, PERC_DIVISOR)


def perc_of(amount: int, num: int, den: int | None = None) -> int:
    """MathUtils (1e6): ``amount × num/1e6``, or ``amount × (num/den)`` with the ratio truncated to 1e6."""
    return _perc_of(amount, num, den, PERC_DIVISOR)


def minter_perc_points(num: int, den: int) -> int:
    """MathUtilsV2 (1e9): the ratio ``num / den`` in parts per billion, truncated."""
    return _perc_points(num, den, MINTER_PERC_DIVISOR)


def minter_perc_of(amount: int, num: int, den: int | None = None) -> int:
    """MathUtilsV2 (1e9): as :func:`perc_of` with a 1e9 divisor."""
    return _perc_of(amount, num, den, MINTER_PERC_DIVISOR)


def precise_perc_points(num: int, den: int) -> int:
    """PreciseMathUtils (1e27): the ratio ``num / den`` as a 1e27 fixed-point number, truncated."""
    return _perc_points(num, den, PRECISE_PERC_DIVISOR)


def precise_perc_of(amount: int, num: int, den: int | None = None) -> int:
    """PreciseMathUtils (1e27): as :func:`perc_of` with a 1e27 divisor."""
    return _perc_of(amount, num, den, PRECISE_PERC_DIVISOR)


# ---------------------------------------------------------------------------------------------------
# Inflation (Minter, once per round in initializeRound)


def bonding_rate(total_active_stake: int, global_supply: int) -> int:
    """Share of the supply that is actively bonded, in 1e9 units (0 when there is no supply)."""
    return minter_perc_points(total_active_stake, global_supply) if global_supply > 0 else 0


def next_inflation(inflation: int, inflation_change: int, target_bonding_rate: int, rate: int) -> int:
    """Inflation for the new round: up by the change below target, down (floored at 0) above it."""
    if rate < target_bonding_rate:
        return inflation + inflation_change
    if rate > target_bonding_rate:
        return max(inflation - inflation_change, 0)
    return inflation


def mintable_tokens(global_supply: int, inflation: int) -> int:
    """Tokens mintable in a round: ``supply × inflation / 1e9``."""
    return minter_perc_of(global_supply, inflation)


def minted_reward(mintable: int, transcoder_stake: int, total_active_stake: int) -> int:
    """What one orchestrator's reward call mints: its stake share (truncated to 1e9) of the mintable."""
    return minter_perc_of(mintable, transcoder_stake, total_active_stake)


# ---------------------------------------------------------------------------------------------------
# Cumulative factors (LIP-36)


def next_reward_factor(prev_crf: int, delegators_rewards: int, total_stake: int) -> int:
    """Reward factor after a reward call: ``CRF_prev × (1 + D / S_T)`` with the ratio truncated to 1e27.

    ``prev_crf`` of 0 (no reward yet) counts as 1.0.
    """
    prev = prev_crf or FACTOR_ONE
    return prev + precise_perc_of(prev, delegators_rewards, total_stake)


def next_fee_factor(current_cff: int, prev_cff: int, prev_crf: int, delegators_fees: int, total_stake: int) -> int:
    """Fee factor after fees are booked in a round's pool.

    ``current_cff`` is the pool's factor so far this round (0 if none), ``prev_cff``/``prev_crf`` the
    latest factors before this round (``prev_crf`` 0 counts as 1.0). Fees are scaled by the reward
    factor so they can later be divided by a delegator's start reward factor.
    """
    increment = precise_perc_of(prev_crf or FACTOR_ONE, delegators_fees, total_stake)
    return (current_cff if current_cff else prev_cff) + increment


def retroactive_prev_reward_factor(
    *, mintable: int, minted: int, total_stake: int, total_active_stake: int, reward_cut: int, reward_factor: int
) -> int:
    """The previous round's reward factor as BondingManager reconstructs it for fees.

    Used when fees arrive in a round in which the orchestrator has already called reward() but for
    whose previous round no factor exists (it skipped reward() then). The contract estimates this
    round's delegator rewards from the Minter's ``currentMintableTokens + currentMintedTokens`` (both
    as they stand at the time of the fee) and divides them back out of the round's factor:
    ``CRF_r × floor(S × 1e27 / (D + S)) / 1e27``.
    """
    rewards = precise_perc_of(mintable + minted, total_stake, total_active_stake)
    delegators = rewards - perc_of(rewards, reward_cut)
    return precise_perc_of(reward_factor, total_stake, delegators + total_stake)


# ---------------------------------------------------------------------------------------------------
# Splits


@dataclass(frozen=True)
class RewardSplit:
    """Where the LPT minted by one reward call goes (protocol.md §3.3)."""

    minted: int  # created by the Minter
    treasury: int  # sent to the Treasury
    rewards: int  # R: added to the orchestrator's total stake (the Reward event amount)
    commission: int  # rewardCut part of R, the orchestrator's alone
    delegators: int  # D = R − commission, shared pro rata over the round's stake
    own_stake_rewards: int  # part of D earned by the orchestrator's unclaimed rewards
    cumulative_rewards_delta: int  # added to the orchestrator's cumulativeRewards
    reward_factor: int  # the pool's new cumulative reward factor


def reward_split(
    *,
    mintable: int,
    transcoder_stake: int,
    total_active_stake: int,
    treasury_cut_rate: int,
    reward_cut: int,
    prev_crf: int = 0,
    active_cumulative_rewards: int = 0,
) -> RewardSplit:
    """The outcome of ``reward()`` for an orchestrator whose pool stake this round is ``transcoder_stake``.

    ``treasury_cut_rate`` is in 1e27 units, ``reward_cut`` in 1e6 units; ``prev_crf`` is the latest
    reward factor before this round and ``active_cumulative_rewards`` the orchestrator's unclaimed
    rewards at the time of the call.
    """
    minted = minted_reward(mintable, transcoder_stake, total_active_stake)
    treasury = precise_perc_of(minted, treasury_cut_rate)
    rewards = minted - treasury
    commission = perc_of(rewards, reward_cut)
    delegators = rewards - commission
    own = precise_perc_of(delegators, active_cumulative_rewards, transcoder_stake)
    return RewardSplit(
        minted=minted,
        treasury=treasury,
        rewards=rewards,
        commission=commission,
        delegators=delegators,
        own_stake_rewards=own,
        cumulative_rewards_delta=own + commission,
        reward_factor=next_reward_factor(prev_crf, delegators, transcoder_stake),
    )


@dataclass(frozen=True)
class FeeSplit:
    """How one fee payment is booked (protocol.md §3.4)."""

    fees: int
    delegators: int  # feeShare part, shared pro rata over the round's stake
    commission: int  # the rest, the orchestrator's alone
    own_stake_fees: int  # part of the delegators' share earned by the orchestrator's unclaimed rewards
    cumulative_fees_delta: int  # added to the orchestrator's cumulativeFees
    fee_factor: int  # the pool's new cumulative fee factor


def fee_split(
    *,
    fees: int,
    fee_share: int,
    total_stake: int,
    current_cff: int = 0,
    prev_cff: int = 0,
    prev_crf: int = 0,
    active_cumulative_rewards: int = 0,
) -> FeeSplit:
    """The outcome of booking ``fees`` in an orchestrator's pool for the current round."""
    delegators = perc_of(fees, fee_share)
    commission = fees - delegators
    own = precise_perc_of(delegators, active_cumulative_rewards, total_stake)
    return FeeSplit(
        fees=fees,
        delegators=delegators,
        commission=commission,
        own_stake_fees=own,
        cumulative_fees_delta=own + commission,
        fee_factor=next_fee_factor(current_cff, prev_cff, prev_crf, delegators, total_stake),
    )


# ---------------------------------------------------------------------------------------------------
# Pending earnings


def pending_stake(bonded: int, start_crf: int, end_crf: int, transcoder_cumulative_rewards: int = 0) -> int:
    """Stake including rewards since the last claim: ``B × floor(CRF_end × 1e27 / CRF_start) / 1e27``.

    Factors of 0 count as 1.0. For the orchestrator itself pass its ``cumulativeRewards``.
    """
    return precise_perc_of(bonded, end_crf or FACTOR_ONE, start_crf or FACTOR_ONE) + transcoder_cumulative_rewards


def pending_fees(
    fees: int,
    bonded: int,
    start_cff: int,
    end_cff: int,
    start_crf: int,
    transcoder_cumulative_fees: int = 0,
) -> int:
    """Withdrawable fees: claimed ``fees`` plus ``B × floor((CFF_end − CFF_start) × 1e27 / CRF_start) / 1e27``.

    For the orchestrator itself pass its ``cumulativeFees``.
    """
    earned = precise_perc_of(bonded, end_cff - start_cff, start_crf or FACTOR_ONE)
    return fees + earned + transcoder_cumulative_fees
