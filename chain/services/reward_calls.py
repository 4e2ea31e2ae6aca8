"""An orchestrator's reward calls per round (made, missed, LPT minted, treasury, commission) and the
live inputs of a yield forecast.

A `Reward` event carries no round: it belongs to the last round initialized before it (reward() needs
an initialized round, and the next round's `NewRound` comes after every reward of this one), so the
events are matched to rounds by the blocks of the `NewRound` events.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from eth_utils import to_checksum_address

from chain import protocol_math as pm
from chain.client import ChainClient
from chain.multicall import Call, aggregate
from chain.reads import resolve
from chain.services.governance import _event_topic, _scan_logs

ARBITRUM_BONDING_MANAGER_BLOCK = 5_856_381


@dataclass(frozen=True)
class RoundCall:
    round: int
    initialized: bool
    eligible: bool  # active in this round (could call reward)
    called: bool
    rewards: int  # R: the Reward event amount (after the treasury cut)
    treasury: int
    commission: int  # the reward cut of R in that round's pool


@dataclass(frozen=True)
class RewardCalls:
    transcoder: str
    current_round: int
    rounds: tuple[RoundCall, ...]  # oldest first, the current round last

    @property
    def made(self) -> int:
        return sum(r.called for r in self.rounds)

    @property
    def missed(self) -> int:
        """Rounds it was active in, initialized, and over (or this one) without a reward call —
        the current round counts only once it has ended, so it is left out."""
        return sum(r.eligible and r.initialized and not r.called for r in self.rounds
                   if r.round < self.current_round)

    @property
    def minted(self) -> int:
        return sum(r.rewards + r.treasury for r in self.rounds)

    @property
    def rewards(self) -> int:
        return sum(r.rewards for r in self.rounds)

    @property
    def treasury(self) -> int:
        return sum(r.treasury for r in self.rounds)

    @property
    def commission(self) -> int:
        return sum(r.commission for r in self.rounds)

    @property
    def call_ratio(self) -> float:
        """Share of the completed rounds it could call in where it did (1.0 with no history)."""
        past = [r for r in self.rounds if r.round < self.current_round and r.eligible and r.initialized]
        return sum(r.called for r in past) / len(past) if past else 1.0


def reward_calls(client: ChainClient, transcoder: str, rounds: int = 30) -> RewardCalls:
    t = to_checksum_address(transcoder)
    resolve(client, "BondingManager", "RoundsManager")
    bm = client.contract("BondingManager")
    rm = client.contract("RoundsManager")
    current, = aggregate(client.w3, client.profile.multicall3, [Call.of(rm.functions.currentRound())])
    first = max(1, current - rounds + 1)
    wanted = list(range(first, current + 1))
    values = aggregate(client.w3, client.profile.multicall3,
                       [Call.of(bm.functions.getTranscoder(t))]
                       + [Call.of(bm.functions.getTranscoderEarningsPoolForRound(t, r)) for r in wanted])
    info, pools = values[0], values[1:]
    activation, deactivation = info[4], info[5]
    start = 0 if client.profile.is_devnet else ARBITRUM_BONDING_MANAGER_BLOCK
    new_round = rm.events.NewRound()
    inits = sorted((log["blockNumber"], log["logIndex"], new_round.process_log(log)["args"]["round"])
                   for log in _scan_logs(client.w3, rm.address, [_event_topic(new_round)], start))
    init_rounds = {r for _, _, r in inits}
    keys = [(b, i) for b, i, _ in inits]
    topic_t = "0x" + "00" * 12 + t[2:].lower()
    from_block = next((b for b, _, r in inits if r >= first), start)

    def round_of(log) -> int | None:
        k = bisect_right(keys, (log["blockNumber"], log["logIndex"]))
        return inits[k - 1][2] if k else None

    reward_ev, treasury_ev = bm.events.Reward(), bm.events.TreasuryReward()
    rewards: dict[int, int] = {}
    treasury: dict[int, int] = {}
    for log in _scan_logs(client.w3, bm.address, [_event_topic(reward_ev), topic_t], from_block):
        r = round_of(log)
        if r is not None:
            rewards[r] = rewards.get(r, 0) + reward_ev.process_log(log)["args"]["amount"]
    for log in _scan_logs(client.w3, bm.address, [_event_topic(treasury_ev), topic_t], from_block):
        r = round_of(log)
        if r is not None:
            treasury[r] = treasury.get(r, 0) + treasury_ev.process_log(log)["args"]["amount"]
    out = []
    for r, pool in zip(wanted, pools):
        called = r in rewards
        out.append(RoundCall(
            round=r, initialized=r in init_rounds, eligible=activation <= r < deactivation, called=called,
            rewards=rewards.get(r, 0), treasury=treasury.get(r, 0),
            commission=pm.perc_of(rewards.get(r, 0), pool[1]) if called else 0,
        ))
    return RewardCalls(t, current, tuple(out))


@dataclass(frozen=True)
class YieldInputs:
    """The live numbers a reward forecast for bonding to `transcoder` starts from."""

    transcoder: str
    round: int
    round_length: int  # "L1" blocks
    global_supply: int
    inflation: int  # 1e9 units per round
    inflation_change: int
    target_bonding_rate: int
    total_active_stake: int
    treasury_cut_rate: int  # 1e27 units
    transcoder_stake: int
    reward_cut: int
    active: bool
    call_ratio: float


def yield_inputs(client: ChainClient, transcoder: str) -> YieldInputs:
    t = to_checksum_address(transcoder)
    resolve(client, "BondingManager", "Minter", "RoundsManager")
    bm = client.contract("BondingManager").functions
    mn = client.contract("Minter").functions
    rm = client.contract("RoundsManager").functions
    (rnd, length, supply, inflation, change, target, active_stake, cut_rate, stake, info, active) = aggregate(
        client.w3, client.profile.multicall3, [
            Call.of(rm.currentRound()), Call.of(rm.roundLength()), Call.of(mn.getGlobalTotalSupply()),
            Call.of(mn.inflation()), Call.of(mn.inflationChange()), Call.of(mn.targetBondingRate()),
            Call.of(bm.currentRoundTotalActiveStake()), Call.of(bm.treasuryRewardCutRate()),
            Call.of(bm.transcoderTotalStake(t)), Call.of(bm.getTranscoder(t)), Call.of(bm.isActiveTranscoder(t)),
        ])
    ratio = reward_calls(client, t).call_ratio
    return YieldInputs(t, rnd, length, supply, inflation, change, target, active_stake, cut_rate, stake,
                       info[1], bool(active), ratio)


@dataclass(frozen=True)
class BondForecast:
    amount: int
    rounds: int
    rewards: int  # LPT gained over the rounds if the orchestrator calls reward every round
    expected_rewards: int  # the same scaled by its recent reward-call ratio
    first_round_rewards: int
    final_inflation: int
    pool_share: float  # your share of the orchestrator's stake once bonded


def forecast_bond(inputs: YieldInputs, amount: int, rounds: int) -> BondForecast:
    """Rewards of bonding `amount` to the orchestrator for `rounds` rounds, by the contracts' integer
    math (protocol.md §3.2-3.3), round by round. Assumptions (shown by the console): the bond counts
    from the next round; inflation moves by `inflationChange` each round toward the target bonding rate;
    every active orchestrator calls reward, so supply and active stake grow by what is minted; nobody
    else bonds or unbonds; the reward cut and treasury cut stay as they are; fees are not included."""
    supply, active = inputs.global_supply, inputs.total_active_stake + amount
    stake, yours, inflation = inputs.transcoder_stake + amount, amount, inputs.inflation
    gained, first = 0, 0
    for k in range(rounds):
        rate = pm.bonding_rate(active, supply)
        inflation = pm.next_inflation(inflation, inputs.inflation_change, inputs.target_bonding_rate, rate)
        mintable = pm.mintable_tokens(supply, inflation)
        split = pm.reward_split(mintable=mintable, transcoder_stake=stake, total_active_stake=active,
                                treasury_cut_rate=inputs.treasury_cut_rate, reward_cut=inputs.reward_cut)
        gain = pm.precise_perc_of(yours, split.delegators, stake)
        if k == 0:
            first = gain
        gained += gain
        yours += gain
        stake += split.rewards
        supply += mintable
        active += mintable - pm.precise_perc_of(mintable, inputs.treasury_cut_rate)
    share = amount / (inputs.transcoder_stake + amount) if amount else 0.0
    return BondForecast(amount, rounds, gained, int(gained * inputs.call_ratio), first, inflation, share)
