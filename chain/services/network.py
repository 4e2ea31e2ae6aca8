"""Network activity for the orchestrator table: reward calls and redeemed ticket fees per orchestrator
over the last 30 rounds, the protocol numbers a yield forecast needs, and the forecast itself
(the Explorer's `lib/roi.ts`, protocol.md §4.2).

Two clocks meet here and must not be mixed. Round numbers, round start blocks and
RoundsManager.blockNum() count "L1" blocks (on Arbitrum One `block.number` inside a contract, and so
Multicall3.getBlockNumber(), is the L1 block number; the devnet mimics that with an offset of
20,000,000). Logs are filtered by L2 block numbers (`eth_blockNumber`, a log's `blockNumber`). So the
scan's head is `eth_blockNumber`, never a number read through a contract.

The history comes from logs, in three JSON-RPC round trips on a cold cache:
0. `eth_blockNumber` → the L2 head; the protocol numbers are read at that block;
1. `NewRound` logs filtered by the window's round numbers (round is an indexed topic) → the L2 block
   where the window starts;
2. one `eth_getLogs` over [that block, head] for `Reward` (BondingManager), `WinningTicketRedeemed`
   (TicketBroker) and `NewRound` (RoundsManager) at once (address list × topic0 list).
A log belongs to the last round initialized before it (reward() and ticket redemption need an
initialized round; the next `NewRound` comes after them). `ActivityCache` keeps the logs, so a
later poll scans only the blocks mined since.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_right
from dataclasses import dataclass, field

from chain.client import ChainClient
from chain.multicall import Call, aggregate
from chain.reads import resolve

WINDOW_ROUNDS = 30
L1_BLOCK_SECONDS = 12  # the Explorer's assumption for round length in time
SECONDS_PER_MONTH = 2_628_000


# ------------------------------------------------------------------------------- the forecast


@dataclass(frozen=True)
class YieldForecast:
    """Forecasted yield for a delegator, as fractions of the principle (0.05 = 5 %)."""

    rounds: int  # N rounds in the horizon
    growth: float  # G: supply growth over the horizon, after the treasury cut
    reward_lpt: float  # the delegator's LPT rewards over the horizon
    reward_yield: float
    fee_eth: float  # the delegator's ETH fees over the horizon
    fee_yield: float | None  # None when the LPT price in ETH is unknown

    @property
    def total(self) -> float:
        return self.reward_yield + (self.fee_yield or 0.0)


def forecast_yield(
    *,
    principle_lpt: float,
    transcoder_stake: int,
    reward_cut: int,
    fee_share: int,
    inflation: int,
    treasury_cut_rate: int,
    total_supply: int,
    total_active_stake: int,
    round_length: int,
    call_ratio: float,
    fees_per_day_eth: float = 0.0,
    lpt_price_eth: float | None = None,
    months: int = 12,
    inflation_change: int = 0,
    mode: str = "fixed",
) -> YieldForecast:
    """The Explorer's forecasted yield (protocol.md §4.2). Integer inputs are in protocol units
    (wei, parts per 1e6 / 1e9 / 1e27); `round_length` is in L1 blocks of 12 s.

    rounds N = round(months × 2,628,000 s / (roundLength × 12 s)); i′ = i × (1 − τ);
    G = (1 + i′)^N − 1 ("fixed", or the product of (1 + i′ ± kΔ) for "up"/"down"), floored at 0;
    O's LPT = supply × G / activeStake × (P + S) × ρ; delegator LPT = that × (1 − c) × P / (P + S);
    fees: period ETH = fees/day × 365 × months/12, delegator ETH = period × s × P / (P + S),
    fee yield = delegator ETH / price / P.
    """
    p = float(principle_lpt)
    s_stake = transcoder_stake / 1e18
    c = reward_cut / 1e6
    share = fee_share / 1e6
    i = inflation / 1e9
    delta = inflation_change / 1e9
    tau = treasury_cut_rate / 1e27
    n = math.floor(months * SECONDS_PER_MONTH / (round_length * L1_BLOCK_SECONDS) + 0.5) if round_length else 0
    i_eff = i * (1 - tau)
    if mode == "fixed":
        growth = (1 + i_eff) ** n - 1
    else:
        sign = 1 if mode == "up" else -1
        growth = 1.0
        for k in range(n):
            growth *= 1 + max(0.0, i_eff + sign * k * delta * (1 - tau))
        growth -= 1
    growth = max(0.0, growth)
    pool = p + s_stake
    if p <= 0 or pool <= 0 or total_active_stake <= 0:
        return YieldForecast(n, growth, 0.0, 0.0, 0.0, None)
    supply = total_supply / 1e18
    active = total_active_stake / 1e18
    orch_lpt = supply * growth / active * pool * call_ratio
    reward_lpt = orch_lpt * (1 - c) * p / pool
    period_eth = fees_per_day_eth * 365 * months / 12
    fee_eth = period_eth * share * p / pool
    fee_yield = None if not lpt_price_eth else fee_eth / lpt_price_eth / p
    return YieldForecast(n, growth, reward_lpt, reward_lpt / p, fee_eth, fee_yield)


# ------------------------------------------------------------------------------- the history


@dataclass(frozen=True)
class ProtocolNumbers:
    round: int
    round_length: int
    total_supply: int  # Minter.getGlobalTotalSupply (L2 supply + L1 circulating)
    total_active_stake: int
    inflation: int
    inflation_change: int
    treasury_cut_rate: int
    l2_block: int  # the L2 block these numbers were read at (eth_blockNumber), the log scan's head


@dataclass(frozen=True)
class OrchestratorActivity:
    address: str
    rewards: tuple[tuple[int, int], ...]  # (round, LPT wei of the Reward event), oldest first
    fees: tuple[tuple[int, int], ...]  # (round, ETH wei of redeemed winning tickets' face value)

    def called(self, rnd: int) -> bool:
        return any(r == rnd for r, _ in self.rewards)

    @property
    def calls(self) -> int:
        return len({r for r, _ in self.rewards})

    @property
    def fees_total(self) -> int:
        return sum(v for _, v in self.fees)

    @property
    def rewards_total(self) -> int:
        return sum(v for _, v in self.rewards)


@dataclass(frozen=True)
class NetworkActivity:
    protocol: ProtocolNumbers
    first_round: int  # the window is first_round … protocol.round
    by_orchestrator: dict[str, OrchestratorActivity] = field(default_factory=dict)
    initialized: frozenset[int] = frozenset()  # rounds of the window someone initialized

    @property
    def rounds(self) -> tuple[int, ...]:
        return tuple(range(self.first_round, self.protocol.round + 1))

    @property
    def window(self) -> int:
        return self.protocol.round - self.first_round + 1

    def of(self, address: str) -> OrchestratorActivity:
        from eth_utils import to_checksum_address

        a = to_checksum_address(address)
        return self.by_orchestrator.get(a) or OrchestratorActivity(a, (), ())

    def call_ratio(self, address: str, activation_round: int = 0) -> float:
        """Share of the window's initialized rounds since its activation in which it called reward (a
        round nobody initialized could not be called in)."""
        eligible = [r for r in self.rounds if r >= activation_round and r in self.initialized]
        if not eligible:
            return 0.0
        called = {r for r, _ in self.of(address).rewards}
        return len(called & set(eligible)) / len(eligible)

    def fees_per_day_eth(self, address: str) -> float:
        seconds = self.window * self.protocol.round_length * L1_BLOCK_SECONDS
        return self.of(address).fees_total / 1e18 / (seconds / 86_400) if seconds else 0.0

    def forecast(self, orchestrator, *, principle_lpt: float = 1_000.0, months: int = 12,
                 lpt_price_eth: float | None = None) -> YieldForecast:
        """The forecast for `orchestrator` (a chain.reads.Orchestrator)."""
        p = self.protocol
        return forecast_yield(
            principle_lpt=principle_lpt, transcoder_stake=orchestrator.total_stake,
            reward_cut=orchestrator.reward_cut, fee_share=orchestrator.fee_share, inflation=p.inflation,
            treasury_cut_rate=p.treasury_cut_rate, total_supply=p.total_supply,
            total_active_stake=p.total_active_stake, round_length=p.round_length,
            call_ratio=self.call_ratio(orchestrator.address, orchestrator.activation_round),
            fees_per_day_eth=self.fees_per_day_eth(orchestrator.address), lpt_price_eth=lpt_price_eth,
            months=months, inflation_change=p.inflation_change,
        )


@dataclass
class _Scanned:
    first_round: int
    from_block: int  # L2 blocks: the range of logs scanned so far
    to_block: int
    logs: list  # (L2 block, log_index, kind, address, value)


class ActivityCache:
    """The logs scanned so far for the current window (thread-safe); polls scan only new blocks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scanned: _Scanned | None = None

    def invalidate(self) -> None:
        with self.lock:
            self.scanned = None


def _topic(event) -> str:
    from eth_utils import event_abi_to_log_topic

    return "0x" + event_abi_to_log_topic(event.abi).hex()


def _get_logs(w3, params: dict, lo: int, hi: int) -> list:
    """eth_getLogs over [lo, hi], halving the range when the node refuses a large one."""
    if hi < lo:
        return []
    try:
        return list(w3.eth.get_logs({**params, "fromBlock": lo, "toBlock": hi}))
    except Exception:
        if hi - lo < 1_000:
            raise
        mid = (lo + hi) // 2
        return _get_logs(w3, params, lo, mid) + _get_logs(w3, params, mid + 1, hi)


def load_protocol_numbers(client: ChainClient) -> ProtocolNumbers:
    resolve(client, "BondingManager", "Minter", "RoundsManager")
    bm = client.contract("BondingManager").functions
    mn = client.contract("Minter").functions
    rm = client.contract("RoundsManager").functions
    l2_block = client.w3.eth.block_number  # not Multicall3.getBlockNumber(): that is an L1 number
    values = aggregate(client.w3, client.profile.multicall3, [
        Call.of(rm.currentRound()), Call.of(rm.roundLength()), Call.of(mn.getGlobalTotalSupply()),
        Call.of(bm.currentRoundTotalActiveStake()), Call.of(mn.inflation()), Call.of(mn.inflationChange()),
        Call.of(bm.treasuryRewardCutRate()),
    ], block=l2_block)
    return ProtocolNumbers(*values, l2_block=l2_block)


def network_activity(client: ChainClient, *, rounds: int = WINDOW_ROUNDS,
                     cache: ActivityCache | None = None) -> NetworkActivity:
    """Reward calls and ticket fees per orchestrator over the last `rounds` rounds (current included)."""
    from eth_utils import to_checksum_address

    numbers = load_protocol_numbers(client)
    first = max(1, numbers.round - rounds + 1)
    w3 = client.w3
    bm = client.contract("BondingManager")
    rm = client.contract("RoundsManager")
    tb = client.contract("TicketBroker")
    new_round, reward, ticket = rm.events.NewRound(), bm.events.Reward(), tb.events.WinningTicketRedeemed()
    t_new, t_reward, t_ticket = _topic(new_round), _topic(reward), _topic(ticket)
    cache = cache or ActivityCache()
    with cache.lock:
        scanned = cache.scanned
        if scanned is None or scanned.first_round > first or scanned.to_block > numbers.l2_block:
            start_logs = _get_logs(w3, {"address": rm.address, "topics": [
                t_new, ["0x" + r.to_bytes(32, "big").hex() for r in range(first, numbers.round + 1)]]},
                0 if client.profile.is_devnet else _SCAN_START, numbers.l2_block)
            from_block = min((lg["blockNumber"] for lg in start_logs), default=numbers.l2_block)
            scanned = _Scanned(first, from_block, from_block - 1, [])
        new_logs = _get_logs(w3, {"address": [bm.address, rm.address, tb.address],
                                  "topics": [[t_new, t_reward, t_ticket]]},
                             scanned.to_block + 1, numbers.l2_block)
        for lg in new_logs:
            topic0 = "0x" + bytes(lg["topics"][0]).hex()
            key = (lg["blockNumber"], lg["logIndex"])
            if topic0 == t_new:
                scanned.logs.append((*key, "round", "", int.from_bytes(bytes(lg["topics"][1]), "big")))
            elif topic0 == t_reward:
                addr = to_checksum_address(bytes(lg["topics"][1])[-20:])
                scanned.logs.append((*key, "reward", addr, int.from_bytes(bytes(lg["data"])[:32], "big")))
            elif topic0 == t_ticket:
                addr = to_checksum_address(bytes(lg["topics"][2])[-20:])
                scanned.logs.append((*key, "fee", addr, int.from_bytes(bytes(lg["data"])[:32], "big")))
        scanned.to_block = max(scanned.to_block, numbers.l2_block)
        scanned.first_round = first
        cache.scanned = scanned
        logs = sorted(scanned.logs)
    inits = [(b, i, v) for b, i, kind, _, v in logs if kind == "round"]
    keys = [(b, i) for b, i, _ in inits]
    rewards: dict[str, list[tuple[int, int]]] = {}
    fees: dict[str, dict[int, int]] = {}
    for b, i, kind, addr, value in logs:
        if kind == "round":
            continue
        k = bisect_right(keys, (b, i))
        rnd = inits[k - 1][2] if k else None
        if rnd is None or rnd < first:
            continue
        if kind == "reward":
            rewards.setdefault(addr, []).append((rnd, value))
        else:
            per = fees.setdefault(addr, {})
            per[rnd] = per.get(rnd, 0) + value
    by = {}
    for addr in set(rewards) | set(fees):
        by[addr] = OrchestratorActivity(addr, tuple(rewards.get(addr, ())),
                                        tuple(sorted(fees.get(addr, {}).items())))
    return NetworkActivity(numbers, first, by, frozenset(v for _, _, v in inits if v >= first))


_SCAN_START = 5_856_381  # Arbitrum One: the BondingManager's first block (protocol.md §1.2)
