"""One voter's position on a treasury proposal: voting power at the snapshot, the vote already cast,
the orchestrator it delegated to and that orchestrator's vote, and what a vote of its own would move
under the delegator override (protocol.md §2.8, GovernorCountingOverridable)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from chain.client import ZERO_ADDRESS, ChainClient
from chain.multicall import Call, aggregate, failed
from chain.reads import resolve
from chain.services.governance import GOVERNOR_DEPLOY_BLOCK, Proposal, Support, _event_topic, _scan_logs


@dataclass(frozen=True)
class CastVote:
    voter: str
    support: Support
    weight: int  # raw weight (before deductions): never sum these, proposalVotes is the tally
    reason: str


@dataclass(frozen=True)
class Ballot:
    """What `account` can do on `proposal`, and what its vote would change."""

    account: str
    proposal_id: int
    power: int  # getVotes(account, snapshot)
    own_vote: CastVote | None
    is_orchestrator: bool  # self-delegated at the snapshot: votes with its delegators' stake
    delegate: str | None  # the orchestrator it delegated to at the snapshot (None for orchestrators)
    delegate_power: int
    delegate_vote: CastVote | None
    deductions: int  # for an orchestrator: weight of its delegators that voted themselves

    @property
    def counted_weight(self) -> int:
        """What the account's vote adds to its bucket once cast (an orchestrator's minus deductions)."""
        return max(0, self.power - self.deductions) if self.is_orchestrator else self.power

    def override_effect(self, support: Support) -> str:
        """The delegator-override rule in words, with this account's numbers."""
        from chain.amounts import format_lpt, short_address

        w = format_lpt(self.power, 2)
        if self.is_orchestrator:
            if self.deductions:
                return (f"your vote counts {format_lpt(self.counted_weight, 2)}: {format_lpt(self.deductions, 2)} "
                        f"of your delegators voted themselves and keep their own weight")
            return f"your vote counts your full {w} (no delegator of yours has voted yet)"
        if self.delegate is None:
            return f"your {w} is not delegated to an orchestrator: it counts as cast"
        name = short_address(self.delegate)
        if self.delegate_vote is None:
            return (f"+{w} to {support.name.lower()}; when {name} votes, its weight drops by your {w} "
                    f"(your vote overrides your share of it)")
        theirs = self.delegate_vote.support
        if theirs is support:
            return f"same as {name}: your {w} moves out of its {theirs.name.lower()} votes and back in (no net change)"
        return (f"moves your {w} from {name}'s {theirs.name.lower()} to {support.name.lower()}: "
                f"{theirs.name.lower()} −{w}, {support.name.lower()} +{w}")


def votes_cast(client: ChainClient, proposal: Proposal, voters: list[str] | None = None) -> dict[str, CastVote]:
    """VoteCast events of `proposal` (of `voters` only when given), by voter."""
    gov = client.contract("LivepeerGovernor")
    ev = gov.events.VoteCast()
    voter_topics = None if voters is None else ["0x" + "00" * 12 + v[2:].lower() for v in voters]
    start = max(proposal.created_block, 0 if client.profile.is_devnet else GOVERNOR_DEPLOY_BLOCK)
    out: dict[str, CastVote] = {}
    for log in _scan_logs(client.w3, gov.address, [_event_topic(ev), voter_topics], start):
        args = ev.process_log(log)["args"]
        if args["proposalId"] != proposal.id:
            continue
        voter = to_checksum_address(args["voter"])
        out[voter] = CastVote(voter, Support(args["support"]), args["weight"], args["reason"])
    return out


def ballot(client: ChainClient, proposal: Proposal, account: str) -> Ballot:
    account = to_checksum_address(account)
    resolve(client, "BondingVotes", "LivepeerGovernor")
    gov = client.contract("LivepeerGovernor").functions
    bv = client.contract("BondingVotes").functions
    power, delegate = aggregate(client.w3, client.profile.multicall3, [
        Call.of(gov.getVotes(account, proposal.snapshot), allow_failure=True),
        Call.of(bv.delegatedAt(account, proposal.snapshot), allow_failure=True),
    ])
    power = 0 if failed(power) else power
    delegate = None if failed(delegate) or delegate == ZERO_ADDRESS else to_checksum_address(delegate)
    is_orch = delegate == account
    votes = votes_cast(client, proposal)
    d_power, deductions = 0, 0
    if is_orch:
        others = [v for v in votes if v != account]
        if others:
            at = aggregate(client.w3, client.profile.multicall3,
                           [Call.of(bv.delegatedAt(v, proposal.snapshot), allow_failure=True) for v in others])
            deductions = sum(votes[v].weight for v, d in zip(others, at) if not failed(d) and d == account)
        delegate = None
    elif delegate is not None:
        d_power, d_self = aggregate(client.w3, client.profile.multicall3, [
            Call.of(gov.getVotes(delegate, proposal.snapshot), allow_failure=True),
            Call.of(bv.delegatedAt(delegate, proposal.snapshot), allow_failure=True),
        ])
        d_power = 0 if failed(d_power) else d_power
        if failed(d_self) or d_self != delegate:
            delegate, d_power = None, 0  # delegated to an address that is not an orchestrator
    return Ballot(
        account=account, proposal_id=proposal.id, power=power, own_vote=votes.get(account),
        is_orchestrator=is_orch, delegate=delegate, delegate_power=d_power,
        delegate_vote=votes.get(delegate) if delegate else None, deductions=deductions,
    )
