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
