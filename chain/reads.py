"""Typed reads of protocol state. Amounts are integer wei; results are frozen dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from chain.client import ZERO_ADDRESS, ChainClient


@dataclass(frozen=True)
class Orchestrator:
    address: str
    service_uri: str
    active: bool
    total_stake: int
    stake_share: float  # of the pool's total stake
    reward_cut: int  # parts per 1,000,000 the orchestrator keeps
    fee_share: int  # parts per 1,000,000 paid to delegators
    last_reward_round: int
    activation_round: int
    deactivation_round: int

    def to_json(self) -> dict:
        d = asdict(self)
        d["total_stake"] = str(self.total_stake)
        return d


@dataclass(frozen=True)
class OrchestratorPool:
    round: int
    orchestrators: tuple[Orchestrator, ...]


def load_orchestrator_pool(client: ChainClient) -> OrchestratorPool:
    bm = client.contract("BondingManager").functions
    registry = client.contract("ServiceRegistry").functions
    rnd = client.contract("RoundsManager").functions.currentRound().call()
    addrs = []
    cur = bm.getFirstTranscoderInPool().call()
    while cur != ZERO_ADDRESS and len(addrs) < 10_000:
        addrs.append(cur)
        cur = bm.getNextTranscoderInPool(cur).call()
    stakes = {a: bm.transcoderTotalStake(a).call() for a in addrs}
    total = sum(stakes.values()) or 1
    out = []
    for a in addrs:
        t = bm.getTranscoder(a).call()
        out.append(Orchestrator(
            address=a, service_uri=registry.getServiceURI(a).call(), active=bm.isActiveTranscoder(a).call(),
            total_stake=stakes[a], stake_share=stakes[a] / total, reward_cut=t[1], fee_share=t[2],
            last_reward_round=t[0], activation_round=t[4], deactivation_round=t[5],
        ))
    return OrchestratorPool(round=rnd, orchestrators=tuple(out))


@dataclass(frozen=True)
class RoundInfo:
    """The current round in the protocol's own clock ("L1" blocks from RoundsManager.blockNum)."""

    number: int
    initialized: bool
    locked: bool
    start_block: int
    length: int
    lock_amount: int  # parts per 1,000,000 of the round that are locked at its end
    l1_block: int

    @property
    def blocks_into_round(self) -> int:
        return max(0, self.l1_block - self.start_block)

    @property
    def blocks_left(self) -> int:
        return max(0, self.start_block + self.length - self.l1_block)

    @property
    def progress(self) -> float:
        return min(1.0, self.blocks_into_round / self.length) if self.length else 0.0

    @property
    def lock_starts_at(self) -> int:
        return self.start_block + self.length - self.length * self.lock_amount // 1_000_000


def load_round_info(client: ChainClient) -> RoundInfo:
    rm = client.contract("RoundsManager").functions
    return RoundInfo(
        number=rm.currentRound().call(),
        initialized=rm.currentRoundInitialized().call(),
        locked=rm.currentRoundLocked().call(),
        start_block=rm.currentRoundStartBlock().call(),
        length=rm.roundLength().call(),
        lock_amount=rm.roundLockAmount().call(),
        l1_block=rm.blockNum().call(),
    )
