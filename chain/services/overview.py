"""The overview of one account: balances, delegation, pending stake and fees, the round, the active set,
and what needs attention (round not initialized, reward not called, withdrawable locks, open proposals
not voted on)."""

from __future__ import annotations

from dataclasses import dataclass

from chain.client import ChainClient
from chain.multicall import Call, aggregate, failed
from chain.reads import (
    AccountOverview,
    OrchestratorDetail,
    PoolCache,
    UnbondingLock,
    load_account,
    load_orchestrator,
    load_orchestrator_pool,
)
from chain.services.governance import Proposal, ProposalState, list_proposals


@dataclass(frozen=True)
class OpenProposal:
    proposal: Proposal
    power: int  # the account's votes at the proposal's snapshot


@dataclass(frozen=True)
class Overview:
    account: AccountOverview
    delegate: OrchestratorDetail | None  # the orchestrator it is bonded to (itself for an orchestrator)
    own: OrchestratorDetail | None  # the account as an orchestrator, when it is registered
    active_count: int
    pool_size: int
    pool_max_size: int  # numActiveTranscoders
    unvoted: tuple[OpenProposal, ...]

    @property
    def round(self):
        return self.account.round

    @property
    def reward_due(self) -> bool:
        """An active orchestrator that has not called reward in the (initialized) round."""
        return bool(self.own and self.own.active and self.round.initialized and not self.own.reward_called_this_round)

    @property
    def withdrawable(self) -> tuple[UnbondingLock, ...]:
        return tuple(lock for lock in self.account.unbonding_locks if lock.withdrawable)

    @property
    def is_empty(self) -> bool:
        """Nothing to show but an address: no LPT, no stake, no locks, no fees."""
        a = self.account
        return not (a.lpt_balance or a.bonded_amount or a.pending_stake or a.unbonding_locks or a.pending_fees
                    or a.is_registered_transcoder)


def load_overview(client: ChainClient, address: str, *, pool_cache: PoolCache | None = None) -> Overview:
    acct = load_account(client, address)
    pool = load_orchestrator_pool(client, cache=pool_cache)
    bm = client.contract("BondingManager").functions
    (max_size,) = aggregate(client.w3, client.profile.multicall3, [Call.of(bm.getTranscoderPoolMaxSize())])
    own = load_orchestrator(client, acct.address) if acct.is_registered_transcoder else None
    delegate = None
    if acct.delegate:
        delegate = own if own is not None and acct.delegate == acct.address else load_orchestrator(client, acct.delegate)
    return Overview(
        account=acct, delegate=delegate, own=own, active_count=sum(o.active for o in pool.orchestrators),
        pool_size=len(pool.orchestrators), pool_max_size=max_size, unvoted=tuple(unvoted_proposals(client, acct.address)),
    )


def unvoted_proposals(client: ChainClient, address: str) -> list[OpenProposal]:
    """Active treasury proposals `address` has not voted on and could (it had votes at the snapshot)."""
    active = [p for p in list_proposals(client) if p.state is ProposalState.ACTIVE]
    if not active:
        return []
    gov = client.contract("LivepeerGovernor").functions
    calls = []
    for p in active:
        calls += [Call.of(gov.hasVoted(p.id, address)), Call.of(gov.getVotes(address, p.snapshot), allow_failure=True)]
    values = aggregate(client.w3, client.profile.multicall3, calls)
    out = []
    for i, p in enumerate(active):
        voted, power = values[2 * i], values[2 * i + 1]
        power = 0 if failed(power) else power
        if not voted and power > 0:
            out.append(OpenProposal(p, power))
    return out
