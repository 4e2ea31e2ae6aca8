"""Earnings of an account per round.

Since the last claim, every round's reward and fee share is exact: it follows from the delegate's
cumulative reward and fee factors (protocol.md §3.5), read for all rounds in one aggregate; the last
row matches `pendingStake`/`pendingFees` to the wei (an orchestrator's own commission is reported on
its own, since the protocol keeps it as a lump, not per round). Before the last claim, the protocol
only keeps the totals of each claim: those come from the `EarningsClaimed` events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from eth_utils import to_checksum_address

from chain import protocol_math as pm
from chain.client import ChainClient
from chain.multicall import Call, aggregate
from chain.reads import DelegatorStatus, load_account

MAX_ROUNDS = 200


@dataclass(frozen=True)
class RoundEarnings:
    round: int
    rewards: int  # LPT wei added to the stake in this round
    fees: int  # ETH wei earned in this round
    stake: int  # stake at the end of the round (with rewards)
    reward_called: bool  # did the delegate call reward in this round


@dataclass(frozen=True)
class ClaimedSpan:
    """Earnings the protocol already claimed (auto-claimed on bond/unbond/…): totals over rounds."""

    start_round: int
    end_round: int
    rewards: int
    fees: int
    block_number: int


@dataclass(frozen=True)
class Earnings:
    address: str
    delegate: str | None
    since_round: int  # the last claim round
    rounds: tuple[RoundEarnings, ...]
    commission_rewards: int  # an orchestrator's own unclaimed commission (not per round)
    commission_fees: int
    claimed: tuple[ClaimedSpan, ...]

    @property
    def pending_rewards(self) -> int:
        return sum(r.rewards for r in self.rounds) + self.commission_rewards

    @property
    def pending_fees(self) -> int:
        return sum(r.fees for r in self.rounds) + self.commission_fees

    def to_json(self) -> dict:
        def s(d: dict) -> dict:
            return {k: str(v) if isinstance(v, int) and not isinstance(v, bool) and k != "round"
                    and not k.endswith("round") and k != "block_number" else v for k, v in d.items()}

        return {"address": self.address, "delegate": self.delegate, "since_round": self.since_round,
                "rounds": [s(asdict(r)) for r in self.rounds], "claimed": [s(asdict(c)) for c in self.claimed],
                "commission_rewards": str(self.commission_rewards), "commission_fees": str(self.commission_fees)}


def earnings(client: ChainClient, address: str, *, with_history: bool = True) -> Earnings:
    a = to_checksum_address(address)
    acct = load_account(client, a)
    bm = client.contract("BondingManager")
    claimed = tuple(_claimed_spans(client, a)) if with_history else ()
    if acct.status is DelegatorStatus.UNBONDED or acct.delegate is None:
        return Earnings(a, None, acct.last_claim_round, (), 0, 0, claimed)
    current = acct.round.number
    c = acct.last_claim_round
    first = max(c, current - MAX_ROUNDS)
    rounds = list(range(first, current + 1))
    pools = aggregate(client.w3, client.profile.multicall3,
                      [Call.of(bm.functions.getTranscoderEarningsPoolForRound(acct.delegate, r)) for r in rounds])
    start_pool = pools[0]
    start_crf = start_pool[3] or pm.FACTOR_ONE
    start_cff = start_pool[4]
    crf, cff = start_crf, start_cff
    prev_stake, prev_fees = acct.bonded_amount, acct.fees
    rows = []
    for r, pool in zip(rounds[1:], pools[1:]):
        reward_called = pool[3] != 0 and pool[3] != crf
        crf = pool[3] or crf
        cff = pool[4] or cff
        stake = pm.pending_stake(acct.bonded_amount, start_crf, crf)
        fees = pm.pending_fees(acct.fees, acct.bonded_amount, start_cff, cff, start_crf)
        rows.append(RoundEarnings(r, stake - prev_stake, fees - prev_fees, stake, reward_called))
        prev_stake, prev_fees = stake, fees
    commission_rewards = max(0, acct.pending_stake - prev_stake)
    commission_fees = max(0, acct.pending_fees - prev_fees)
    return Earnings(a, acct.delegate, c, tuple(rows), commission_rewards, commission_fees, claimed)


def _claimed_spans(client: ChainClient, address: str) -> list[ClaimedSpan]:
    from chain.services.governance import _event_topic, _scan_logs

    bm = client.contract("BondingManager")
    ev = bm.events.EarningsClaimed()
    topic_delegator = "0x" + "00" * 12 + address[2:].lower()
    logs = _scan_logs(client.w3, bm.address, [_event_topic(ev), None, topic_delegator],
                      0 if client.profile.is_devnet else 5_856_381)
    out = []
    for log in logs:
        d = ev.process_log(log)["args"]
        out.append(ClaimedSpan(d["startRound"], d["endRound"], d["rewards"], d["fees"], log["blockNumber"]))
    return out
